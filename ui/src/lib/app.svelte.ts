// App-wide state (Svelte 5 runes): the current page, the language, and a
// counter bumped whenever the data changed (here or in another program).

import type { CustomerQuery } from './bindings/CustomerQuery';
import type { Lang } from './bindings/Lang';
import { initialLang, translate, type Key } from './i18n';
import { api } from './backend';
import { pages } from './backend/pages';

/** Filters a page opens with (a click on a chart), and what they mean in words. */
export interface Drill {
  query: Partial<CustomerQuery>;
  label: string;
}

export type Page =
  | { name: 'customers'; drill?: Drill }
  | { name: 'customer'; id: string }
  | { name: 'new' }
  | { name: 'trash' }
  | { name: 'settings' }
  | { name: 'today' }
  | { name: 'daily'; date?: string }
  | { name: 'pipeline'; owner?: string; stage?: string }
  | { name: 'analysis' }
  | { name: 'import' }
  | { name: 'duplicates' }
  | { name: 'sync' };

function savedLang(): string | null {
  try {
    return localStorage.getItem('kehu.lang');
  } catch {
    return null;
  }
}

export const app = $state({
  page: { name: 'today' } as Page,
  lang: initialLang(savedLang()) as Lang,
  /** Bumped after any change, so views reload what they show. */
  epoch: 0,
  quickSearch: false,
  toast: null as null | { text: string; kind: 'ok' | 'error'; id: number },
});

export function t(key: Key, params?: Record<string, string | number>): string {
  return translate(app.lang, key, params);
}

export function go(page: Page) {
  app.page = page;
}

export async function setLang(lang: Lang) {
  app.lang = lang;
  document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
  try {
    localStorage.setItem('kehu.lang', lang);
  } catch {
    /* storage unavailable: the choice lasts this session */
  }
  await api.setLanguage(lang).catch(() => {});
  await pages.remindersRestart().catch(() => {}); // reminders speak the new language
}

export function changed() {
  app.epoch++;
}

let toastId = 0;
export function toast(text: string, kind: 'ok' | 'error' = 'ok') {
  const id = ++toastId;
  app.toast = { text, kind, id };
  setTimeout(() => {
    if (app.toast?.id === id) app.toast = null;
  }, kind === 'error' ? 6000 : 3000);
}
