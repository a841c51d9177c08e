// The fields a spreadsheet column can be imported into, in the order the
// column-mapping picker lists them, and the i18n key of each one's name.

import type { ImportField } from '../bindings/ImportField';
import type { ImportMapping } from '../bindings/ImportMapping';

export const IMPORT_FIELDS: ImportField[] = [
  'name',
  'code',
  'kind',
  'industry',
  'size',
  'province',
  'city',
  'district',
  'address',
  'source',
  'status',
  'grade',
  'owner',
  'tags',
  'needs',
  'budget',
  'purchase_cycle',
  'annual_purchase',
  'first_contact_date',
  'notes',
  'contact_name',
  'contact_title',
  'contact_mobile',
  'contact_phone',
  'contact_email',
  'contact_wechat',
  'last_followup_at',
];

/** The i18n key naming a field. */
export function importFieldKey(f: ImportField): string {
  if (f === 'owner') return 'field.owner_id';
  if (f.startsWith('contact_')) return `imp.f.${f}`;
  return `field.${f}`;
}

/**
 * The mapping with column `index` imported into `field` (null: not
 * imported). A field goes to one column only: another column that had it
 * is cleared.
 */
export function remap(m: ImportMapping, index: number, field: ImportField | null): ImportMapping {
  return {
    ...m,
    columns: m.columns.map((c) =>
      c.index === index ? { ...c, field } : field !== null && c.field === field ? { ...c, field: null } : c,
    ),
  };
}
