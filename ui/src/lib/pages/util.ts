// Small helpers shared by the daily-work pages (Today, follow-ups,
// pipeline, import, duplicates). Pure functions, tested in util.test.ts.

import type { Kind } from '../bindings/Kind';
import type { Key } from '../i18n';

/** i64 values arrive as JSON numbers although ts-rs types them as bigint. */
export function num(x: number | bigint | null | undefined): number | null {
  return x == null ? null : Number(x);
}

export const KINDS: Kind[] = ['call', 'visit', 'email', 'meeting', 'wechat', 'other'];

export function kindKey(k: Kind): Key {
  return `fu.kind.${k}` as Key;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** A time as the value of an `<input type="datetime-local">` (local time). */
export function toLocalInput(ms: number | null | undefined): string {
  if (ms == null || !Number.isFinite(ms)) return '';
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** The value of a datetime-local input as UTC ms; null when empty or invalid. */
export function fromLocalInput(v: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})/.exec(v.trim());
  if (!m) return null;
  const d = new Date(+m[1], +m[2] - 1, +m[3], +m[4], +m[5]);
  return Number.isNaN(d.getTime()) ? null : d.getTime();
}

/** The next whole half hour after `now`, at least 15 minutes ahead. */
export function nextSlot(now: number): number {
  const half = 30 * 60_000;
  return Math.ceil((now + 15 * 60_000) / half) * half;
}

/** A duration as `3天5小时` / `3d 5h`, `45分钟` / `45 min`. */
export function formatDuration(ms: number, lang: 'zh' | 'en'): string {
  const min = Math.max(0, Math.floor(ms / 60_000));
  if (min === 0) return lang === 'zh' ? '不到1分钟' : '< 1 min';
  const d = Math.floor(min / 1440);
  const h = Math.floor((min % 1440) / 60);
  const m = min % 60;
  if (lang === 'zh') {
    if (d > 0) return h > 0 ? `${d}天${h}小时` : `${d}天`;
    if (h > 0) return m > 0 ? `${h}小时${m}分钟` : `${h}小时`;
    return `${m}分钟`;
  }
  if (d > 0) return h > 0 ? `${d}d ${h}h` : `${d}d`;
  if (h > 0) return m > 0 ? `${h}h ${m}min` : `${h}h`;
  return `${m} min`;
}

/** Index of the neighbouring stage for a keyboard move (←/→), or null at the ends. */
export function neighbour(order: string[], current: string, dir: -1 | 1): string | null {
  const i = order.indexOf(current);
  if (i < 0) return null;
  const j = i + dir;
  return j >= 0 && j < order.length ? order[j] : null;
}

/** Fields where two customers differ (values compared as shown). */
export function differing<T extends Record<string, unknown>>(rows: T[], fields: string[]): Set<string> {
  const out = new Set<string>();
  for (const f of fields) {
    const shown = new Set(rows.map((r) => JSON.stringify(r[f] ?? null)));
    if (shown.size > 1) out.add(f);
  }
  return out;
}
