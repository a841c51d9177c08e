// A small i18n: two dictionaries, `{name}` placeholders, no library.

import type { Lang } from '../bindings/Lang';
import { en } from './en';
import { zh, type Key } from './zh';

export type { Key };
export const dictionaries: Record<Lang, Record<Key, string>> = { zh, en };
export const LANGS: Lang[] = ['zh', 'en'];

/**
 * The text of `key` in `lang` with its placeholders filled: `{n}` is the
 * value of `n`. English plurals: `{n|s}` is "s" unless n is 1, and
 * `{n|was|were}` the first word when n is 1, else the second
 * ("{n} row{n|s}" → "1 row", "3 rows").
 */
export function translate(lang: Lang, key: Key, params?: Record<string, string | number>): string {
  const text = dictionaries[lang]?.[key] ?? zh[key] ?? key;
  return text.replace(PLACEHOLDER, (m, name: string, a?: string, b?: string) => {
    const known = params !== undefined && name in params;
    if (a === undefined) return known ? String(params[name]) : m;
    // Without a count, the plural form.
    const one = known && Number(params[name]) === 1;
    return b === undefined ? (one ? '' : a) : one ? a : b;
  });
}

const PLACEHOLDER = /\{(\w+)(?:\|([^|}]*))?(?:\|([^}]*))?\}/g;

/** Placeholders used in a text, sorted and once each: `{n}`, `{n|s}` and `{code}` → ['code', 'n']. */
export function placeholders(text: string): string[] {
  return [...new Set([...text.matchAll(PLACEHOLDER)].map((m) => m[1]))].sort();
}

/** The saved language, else Chinese (Kehu is zh-CN first, whatever the system says). */
export function initialLang(saved: string | null): Lang {
  return saved === 'en' ? 'en' : 'zh';
}

export function isKey(k: string): k is Key {
  return Object.prototype.hasOwnProperty.call(zh, k);
}
