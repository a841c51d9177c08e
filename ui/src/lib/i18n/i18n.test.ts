import { describe, expect, it } from 'vitest';
import { dictionaries, initialLang, placeholders, translate } from './index';
import { zh } from './zh';
import { en } from './en';

describe('dictionaries', () => {
  it('have exactly the same keys in Chinese and English', () => {
    expect(Object.keys(en).sort()).toEqual(Object.keys(zh).sort());
  });

  it('have no empty texts', () => {
    for (const [lang, dict] of Object.entries(dictionaries)) {
      for (const [k, v] of Object.entries(dict)) {
        expect(v.trim(), `${lang} ${k}`).not.toBe('');
      }
    }
  });

  it('use the same placeholders in both languages', () => {
    for (const k of Object.keys(zh) as (keyof typeof zh)[]) {
      expect(placeholders(en[k]), k).toEqual(placeholders(zh[k]));
    }
  });

  it('have Chinese text in the Chinese dictionary for words people read', () => {
    for (const k of ['nav.customers', 'status.prospect', 'list.new', 'trash.title'] as const) {
      expect(zh[k]).toMatch(/[\u4e00-\u9fff]/);
      expect(en[k]).not.toMatch(/[\u4e00-\u9fff]/);
    }
  });
});

describe('translate', () => {
  it('fills placeholders', () => {
    expect(translate('zh', 'list.count', { n: 12 })).toBe('共 12 个客户');
    expect(translate('en', 'list.count', { n: 12 })).toBe('12 customers');
  });
  it('says one customer, and customers for any other count', () => {
    expect(translate('en', 'list.count', { n: 1 })).toBe('1 customer');
    expect(translate('en', 'list.count', { n: 0 })).toBe('0 customers');
    expect(translate('en', 'imp.errorHint', { n: 1 })).toMatch(/^1 row was not imported\./);
    expect(translate('en', 'imp.errorHint', { n: 2 })).toMatch(/^2 rows were not imported\./);
    expect(translate('en', 'daily.anomalies', { n: 1 })).toBe('1 anomaly');
    expect(translate('en', 'daily.anomalies', { n: 4 })).toBe('4 anomalies');
    expect(translate('zh', 'list.count', { n: 1 })).toBe('共 1 个客户');
  });
  it('leaves an unknown placeholder visible', () => {
    expect(translate('en', 'list.count', {})).toBe('{n} customers');
  });
});

describe('initialLang', () => {
  it('uses the saved choice', () => {
    expect(initialLang('en')).toBe('en');
    expect(initialLang('zh')).toBe('zh');
  });
  it('defaults to Chinese', () => {
    expect(initialLang(null)).toBe('zh');
    expect(initialLang('garbage')).toBe('zh');
  });
});
