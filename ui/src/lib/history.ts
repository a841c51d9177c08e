// One line of a customer's change history, in words.

import type { HistoryEntry } from './bindings/HistoryEntry';
import type { Lang } from './bindings/Lang';
import { isKey, translate } from './i18n';
import { formatAmount } from './format';

export interface Names {
  members: Map<string, string>;
  tags: Map<string, string>;
}

/** A stored value in words: labels for keys, names for ids, amounts in yuan. */
export function value(field: string, v: unknown, lang: Lang, names: Names): string {
  const empty = translate(lang, 'common.empty');
  if (v === null || v === undefined || v === '') return empty;
  if (typeof v === 'boolean') return translate(lang, v ? 'common.yes' : 'common.no');
  if (field === 'status' && typeof v === 'string' && isKey(`status.${v}`)) return translate(lang, `status.${v}` as never);
  if (field === 'grade' && typeof v === 'string' && isKey(`grade.${v}`)) return translate(lang, `grade.${v}` as never);
  if (field === 'kind' && typeof v === 'string' && isKey(`kind.${v}`)) return translate(lang, `kind.${v}` as never);
  if (field === 'owner_id' && typeof v === 'string') return names.members.get(v) ?? v;
  if ((field === 'budget' || field === 'annual_purchase') && typeof v === 'number') return formatAmount(v, lang);
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

export function label(prefix: 'field' | 'contact', field: string, lang: Lang): string {
  const k = `${prefix}.${field}`;
  return isKey(k) ? translate(lang, k) : field;
}

export function describe(e: HistoryEntry, lang: Lang, names: Names): string {
  const tr = (k: Parameters<typeof translate>[1], p?: Record<string, string>) => translate(lang, k, p);
  if (e.entity === 'customer') {
    if (e.field === '*') return tr('history.created');
    if (e.field === 'deleted_at') return tr(e.new != null ? 'history.deleted' : 'history.restored');
    return tr('history.changed', {
      field: label('field', e.field, lang),
      old: value(e.field, e.old, lang, names),
      new: value(e.field, e.new, lang, names),
    });
  }
  if (e.entity === 'contact') {
    if (e.field === '*') {
      const n = (e.new as { name?: string } | null)?.name ?? '';
      return tr('history.contactCreated', { name: n });
    }
    if (e.field === 'deleted_at') return tr('history.contactRemoved');
    return tr('history.contactChanged', {
      field: label('contact', e.field, lang),
      old: value(e.field, e.old, lang, names),
      new: value(e.field, e.new, lang, names),
    });
  }
  if (e.entity === 'customer_tag') {
    const tagId = e.entity_id.split(':')[1] ?? '';
    const name = names.tags.get(tagId) ?? '?';
    return tr(e.new ? 'history.tagAdded' : 'history.tagRemoved', { name });
  }
  return `${e.entity}.${e.field}`;
}

export function originLabel(origin: string, lang: Lang): string {
  const k = `history.origin.${origin}`;
  return isKey(k) ? translate(lang, k) : origin;
}
