// The Analysis page's period and owner filter, and where a click on a chart
// leads (the customer list filtered to what was clicked). Pure functions of
// the current time; periods are local midnights, [from, to), like the core
// (src/analysis/mod.rs) and `kehu report --from/--to`.

import type { Bucket } from '../bindings/Bucket';
import type { CustomerQuery } from '../bindings/CustomerQuery';
import type { Filter } from '../bindings/Filter';
import type { Grade } from '../bindings/Grade';
import type { Status } from '../bindings/Status';
import type { TextField } from '../bindings/TextField';

/** The page's choices (period, owner, tab…), kept while the app runs. */
export const kept: Record<string, unknown> = {};

export type PeriodKind = 'this_month' | 'last_month' | 'this_quarter' | 'custom';
export const PERIOD_KINDS: PeriodKind[] = ['this_month', 'last_month', 'this_quarter', 'custom'];

export interface Range {
  from: number;
  to: number;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** `YYYY-MM-DD` of a local time. */
export function dayText(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/** Local midnight of a `YYYY-MM-DD` text; null when it is not a date. */
export function parseDay(text: string): number | null {
  const m = /^(\d{4})-(\d{1,2})-(\d{1,2})$/.exec(text.trim());
  if (!m) return null;
  const d = new Date(+m[1], +m[2] - 1, +m[3]);
  if (d.getFullYear() !== +m[1] || d.getMonth() !== +m[2] - 1 || d.getDate() !== +m[3]) return null;
  return d.getTime();
}

/**
 * The period [from, to) of a kind at time `now`. A custom period runs from
 * the local midnight of `customFrom` to the end of `customTo` (both days
 * included); null when a custom day is missing, invalid, or ends before it
 * starts.
 */
export function periodRange(kind: PeriodKind, now: number, customFrom = '', customTo = ''): Range | null {
  const d = new Date(now);
  const y = d.getFullYear();
  const m = d.getMonth();
  switch (kind) {
    case 'this_month':
      return { from: new Date(y, m, 1).getTime(), to: new Date(y, m + 1, 1).getTime() };
    case 'last_month':
      return { from: new Date(y, m - 1, 1).getTime(), to: new Date(y, m, 1).getTime() };
    case 'this_quarter': {
      const q = m - (m % 3);
      return { from: new Date(y, q, 1).getTime(), to: new Date(y, q + 3, 1).getTime() };
    }
    case 'custom': {
      const a = parseDay(customFrom);
      const b = parseDay(customTo);
      if (a == null || b == null || b < a) return null;
      const e = new Date(b);
      return { from: a, to: new Date(e.getFullYear(), e.getMonth(), e.getDate() + 1).getTime() };
    }
  }
}

/** The same period just before (the dashboard compares with it). */
export function previousRange(r: Range): Range {
  return { from: r.from - (r.to - r.from), to: r.from };
}

export function toFilter(r: Range, owner: string | null): Filter {
  return { from: r.from, to: r.to, owner_id: owner || null };
}

/**
 * The target period of a range: `2026-11` for a whole month, `2026-Q4` for a
 * whole quarter, else the month the range starts in.
 */
export function targetPeriod(r: Range): string {
  const a = new Date(r.from);
  const y = a.getFullYear();
  const m = a.getMonth();
  const isStart = a.getDate() === 1 && a.getHours() === 0 && a.getMinutes() === 0;
  if (isStart && m % 3 === 0 && new Date(y, m + 3, 1).getTime() === r.to) return `${y}-Q${m / 3 + 1}`;
  return `${y}-${pad(m + 1)}`;
}

/** A readable trend step for a range: days up to two months, weeks up to half a year, else months. */
export function defaultBucket(r: Range): Bucket {
  const days = (r.to - r.from) / 86_400_000;
  if (days <= 62) return 'day';
  if (days <= 190) return 'week';
  return 'month';
}

// ----------------------------------------------------------- drill-down

/** The customer funnel's stages in order (流失 aside). */
export const FUNNEL_STATUSES: Status[] = ['prospect', 'interested', 'won'];

/**
 * Customers behind a stage of the customer funnel: created in the period
 * (and of the owner), now at that stage or a later one. The funnel counts
 * whoever *ever* reached the stage; the list shows where they are now, so a
 * customer lost since then is not in it. The first stage is everyone.
 */
export function customerStageQuery(stage: string, f: Filter): Partial<CustomerQuery> {
  const k = FUNNEL_STATUSES.indexOf(stage as Status);
  return {
    status: k <= 0 ? [] : FUNNEL_STATUSES.slice(k),
    owner: f.owner_id,
    created_from: f.from,
    created_to: f.to,
  };
}

export type HeatDim = 'industry' | 'grade' | 'province';

/** Customers behind a heatmap cell: the two values (unset ones are not filtered), created before the period's end. */
export function heatCellQuery(
  rows: HeatDim,
  row: string,
  cols: HeatDim,
  col: string,
  f: Filter,
): Partial<CustomerQuery> {
  const q: Partial<CustomerQuery> = { owner: f.owner_id, created_to: f.to };
  for (const [dim, v] of [
    [rows, row],
    [cols, col],
  ] as [HeatDim, string][]) {
    if (!v) continue;
    if (dim === 'grade') q.grade = [v as Grade];
    else q[dim] = v;
  }
  return q;
}

export type BreakdownDim = 'owner' | 'region' | 'industry';

/** Customers behind a bar of a breakdown (by owner, province or industry). */
export function breakdownQuery(dim: BreakdownDim, key: string, f: Filter): Partial<CustomerQuery> {
  const q: Partial<CustomerQuery> = { owner: f.owner_id };
  if (dim === 'owner') q.owner = key || 'none';
  else if (key) q[dim === 'region' ? 'province' : 'industry'] = key;
  return q;
}

/** Customers created in one step of a trend line. */
export function createdQuery(from: number, to: number, f: Filter): Partial<CustomerQuery> {
  return { owner: f.owner_id, created_from: from, created_to: to };
}

/** Leads behind a source bar: created in the period (of the owner) with that source ("未填写" = none). */
export function sourceQuery(source: string, f: Filter): Partial<CustomerQuery> {
  return { owner: f.owner_id, created_from: f.from, created_to: f.to, source };
}

/** Customers behind a loss-reason bar: with a deal created in the period (of the owner) lost for that reason. */
export function lostQuery(reason: string, f: Filter): Partial<CustomerQuery> {
  return { lost: { reason, period: { ...f } } };
}

/** Customers behind a word of the keyword cloud: a follow-up done in the period (of the owner) holds it. */
export function wordQuery(word: string, field: TextField, f: Filter): Partial<CustomerQuery> {
  return { followup_word: { word, field, period: { ...f } } };
}

/** Keys of a drill-down query that carry a filter (for "filtered by …" chips). */
export function activeKeys(q: Partial<CustomerQuery>): string[] {
  return Object.entries(q)
    .filter(([, v]) => v != null && v !== '' && !(Array.isArray(v) && v.length === 0))
    .map(([k]) => k)
    .sort();
}
