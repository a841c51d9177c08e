import { describe, expect, it } from 'vitest';
import { pctToThreshold, reportDay, reportLines, thresholdToPct } from './lines';
import type { DailyReport } from '../bindings/DailyReport';

function report(lines: string[], messages: string[]): DailyReport {
  return {
    lines,
    anomalies: messages.map((message) => ({ metric: 'x', label: 'x', current: 1, previous: 2, change: -0.5, message })),
  } as unknown as DailyReport;
}

describe('reportLines', () => {
  it('marks the first sentence as the headline and the anomaly sentences as anomalies', () => {
    const r = report(
      ['11月25日：团队成交 2 单', '个人：昨日销售额 0元', '线索转化率较上周下降 20%，建议检查线索质量。'],
      ['线索转化率较上周下降 20%，建议检查线索质量'],
    );
    expect(reportLines(r).map((l) => l.kind)).toEqual(['headline', 'normal', 'anomaly']);
  });

  it('a report without anomalies has no anomaly line', () => {
    const r = report(['headline', 'second'], []);
    expect(reportLines(r).map((l) => l.kind)).toEqual(['headline', 'normal']);
  });
});

describe('reportDay', () => {
  it('shows the day in Chinese with month and day', () => {
    expect(reportDay('2026-11-25', 'zh')).toMatch(/^11月25日 /);
  });
  it('leaves a malformed date as it is', () => {
    expect(reportDay('yesterday', 'en')).toBe('yesterday');
  });
});

describe('threshold', () => {
  it('round-trips the setting through the percentage shown', () => {
    expect(thresholdToPct(0.15)).toBe(15);
    expect(pctToThreshold(15)).toBe(0.15);
    expect(pctToThreshold(thresholdToPct(0.125))).toBe(0.125);
  });
});
