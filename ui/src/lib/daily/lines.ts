// The daily report (日报) as the Today card shows it: the sentences of the
// report, the headline first and the anomalies marked so they stand out.

import type { DailyReport } from '../bindings/DailyReport';

export interface ReportLine {
  text: string;
  kind: 'headline' | 'normal' | 'anomaly';
}

/** The report's sentences; a sentence that states an anomaly is marked. */
export function reportLines(r: DailyReport): ReportLine[] {
  const messages = r.anomalies.map((a) => a.message);
  return r.lines.map((text, i) => ({
    text,
    kind: i === 0 ? 'headline' : messages.some((m) => m && text.startsWith(m)) ? 'anomaly' : 'normal',
  }));
}

/** `2026-11-25` → `11月25日 周三` / `Wed, Nov 25`. */
export function reportDay(date: string, lang: 'zh' | 'en'): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!m) return date;
  const d = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  return lang === 'zh'
    ? `${d.getMonth() + 1}月${d.getDate()}日 ${d.toLocaleDateString('zh-CN', { weekday: 'short' })}`
    : d.toLocaleDateString('en-US', { weekday: 'short', month: 'short', day: 'numeric' });
}

/** Anomaly threshold: the setting's fraction as a whole percentage and back. */
export const thresholdToPct = (x: number) => Math.round(x * 1000) / 10;
export const pctToThreshold = (p: number) => Math.round(p * 10) / 1000;
