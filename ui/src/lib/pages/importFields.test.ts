import { describe, expect, it } from 'vitest';
import { IMPORT_FIELDS, importFieldKey, remap } from './importFields';
import { translate } from '../i18n';
import type { ImportMapping } from '../bindings/ImportMapping';

const m: ImportMapping = {
  header_row: 1,
  columns: [
    { index: 0, header: '公司', field: 'name' },
    { index: 1, header: '联系电话', field: null },
    { index: 2, header: '手机', field: 'contact_mobile' },
  ],
};

describe('column mapping', () => {
  it('maps an unrecognised column and keeps the others', () => {
    const r = remap(m, 1, 'contact_phone');
    expect(r.columns.map((c) => c.field)).toEqual(['name', 'contact_phone', 'contact_mobile']);
    expect(m.columns[1].field).toBeNull();
  });

  it('moves a field from the column that had it', () => {
    const r = remap(m, 1, 'contact_mobile');
    expect(r.columns.map((c) => c.field)).toEqual(['name', 'contact_mobile', null]);
  });

  it('can leave a column out', () => {
    expect(remap(m, 0, null).columns[0].field).toBeNull();
  });

  it('names every field in both languages', () => {
    for (const f of IMPORT_FIELDS) {
      const key = importFieldKey(f);
      for (const lang of ['zh', 'en'] as const) {
        const text = translate(lang, key as never);
        expect(text, `${lang} ${f}`).not.toBe(key);
      }
    }
  });
});
