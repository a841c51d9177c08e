// A small i18n: two dictionaries, `{name}` placeholders, no library.

import type { Lang } from '../bindings/Lang';
import { en } from './en';
import { zh, type Key } from './zh';

export type { Key };
export const dictionaries: Record<Lang, Record<Key, string>> = { zh, en };
export const LANGS: Lang[] = ['zh', 'en'];

export function translate(lang: Lang, key: Key, params?: Record<string, string | number>): string {
  const text = dictionaries[lang]?.[key] ?? zh[key] ?? key;
  if (!params) return text;
  return text.replace(/\{(\w+)\}/g, (m, name: string) => (name in params ? String(params[name]) : m));
}

/** Placeholders used in a text, sorted: `{n}` and `{code}` → ['code', 'n']. */
export function placeholders(text: string): string[] {
  return [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
}

/** The saved language, else Chinese (Kehu is zh-CN first, whatever the system says). */
export function initialLang(saved: string | null): Lang {
  return saved === 'en' ? 'en' : 'zh';
}

export function isKey(k: string): k is Key {
  return Object.prototype.hasOwnProperty.call(zh, k);
}
