// Formatting of times, amounts and sizes for display. Times are stored as
// UTC milliseconds and shown in local time.

import type { Lang } from '../bindings/Lang';

const pad = (n: number) => String(n).padStart(2, '0');

/** `2026-11-26` in local time; '' for nothing. */
export function formatDate(ms: number | null | undefined): string {
  if (ms == null || !Number.isFinite(ms)) return '';
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/** `2026-11-26 14:03` in local time; '' for nothing. */
export function formatTime(ms: number | null | undefined): string {
  if (ms == null || !Number.isFinite(ms)) return '';
  const d = new Date(ms);
  return `${formatDate(ms)} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** Today's times as `14:03`, this year's as `11-26`, older as `2025-11-26`. */
export function formatShort(ms: number | null | undefined, now: number = Date.now()): string {
  if (ms == null || !Number.isFinite(ms)) return '';
  const d = new Date(ms);
  const n = new Date(now);
  if (d.toDateString() === n.toDateString()) return `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  if (d.getFullYear() === n.getFullYear()) return `${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
  return formatDate(ms);
}

function grouped(n: number, digits = 0): string {
  const [int, frac] = Math.abs(n).toFixed(digits).split('.');
  const g = int.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return (n < 0 ? '-' : '') + g + (frac ? '.' + frac : '');
}

function trimZeros(s: string): string {
  return s.includes('.') ? s.replace(/\.?0+$/, '') : s;
}

/**
 * An amount in yuan. Chinese uses 万/亿 for large amounts (¥12.5万), English
 * groups thousands (¥125,000). Cents are shown only when there are any.
 */
export function formatAmount(yuan: number | null | undefined, lang: Lang): string {
  if (yuan == null || !Number.isFinite(yuan)) return '';
  const abs = Math.abs(yuan);
  if (lang === 'zh') {
    if (abs >= 1e8) return `¥${trimZeros((yuan / 1e8).toFixed(2))}亿`;
    if (abs >= 1e4) return `¥${trimZeros((yuan / 1e4).toFixed(2))}万`;
  }
  const cents = Math.round(abs * 100) % 100 !== 0;
  return `¥${grouped(yuan, cents ? 2 : 0)}`;
}

/** File sizes: `812 KB`, `3.4 MB`. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${Math.round(n / 1024)} KB`;
  if (n < 1024 ** 3) return `${trimZeros((n / 1024 / 1024).toFixed(1))} MB`;
  return `${trimZeros((n / 1024 ** 3).toFixed(2))} GB`;
}

/** Parse an amount typed by a person: `12,000`, `1.2万`, `¥3000`. */
export function parseAmount(text: string): number | null | 'invalid' {
  let t = text.trim().replace(/[¥￥,，\s元]/g, '');
  if (t === '') return null;
  let mult = 1;
  if (t.endsWith('万')) {
    mult = 1e4;
    t = t.slice(0, -1);
  } else if (t.endsWith('亿')) {
    mult = 1e8;
    t = t.slice(0, -1);
  }
  if (!/^-?\d+(\.\d+)?$/.test(t)) return 'invalid';
  return Math.round(Number(t) * mult * 100) / 100;
}
