import { describe, expect, it } from 'vitest';
import {
  activeKeys,
  breakdownQuery,
  customerStageQuery,
  dayText,
  defaultBucket,
  heatCellQuery,
  lostQuery,
  parseDay,
  periodRange,
  previousRange,
  sourceQuery,
  targetPeriod,
  toFilter,
  wordQuery,
} from './period';

const at = (y: number, m: number, d: number, h = 0) => new Date(y, m - 1, d, h).getTime();
const NOW = at(2026, 11, 26, 14);

describe('periodRange', () => {
  it('this month runs from the 1st to the 1st of next month', () => {
    expect(periodRange('this_month', NOW)).toEqual({ from: at(2026, 11, 1), to: at(2026, 12, 1) });
  });
  it('last month of January is December of the year before', () => {
    expect(periodRange('last_month', at(2026, 1, 15))).toEqual({ from: at(2025, 12, 1), to: at(2026, 1, 1) });
  });
  it('this quarter of November is October to December', () => {
    expect(periodRange('this_quarter', NOW)).toEqual({ from: at(2026, 10, 1), to: at(2027, 1, 1) });
  });
  it('a custom period includes its last day', () => {
    expect(periodRange('custom', NOW, '2026-11-03', '2026-11-05')).toEqual({ from: at(2026, 11, 3), to: at(2026, 11, 6) });
  });
  it('a custom period that ends before it starts, or a bad day, is no period', () => {
    expect(periodRange('custom', NOW, '2026-11-05', '2026-11-03')).toBeNull();
    expect(periodRange('custom', NOW, '2026-02-30', '2026-03-03')).toBeNull();
    expect(periodRange('custom', NOW, '', '2026-03-03')).toBeNull();
  });
  it('one day is a valid custom period', () => {
    expect(periodRange('custom', NOW, '2026-11-05', '2026-11-05')).toEqual({ from: at(2026, 11, 5), to: at(2026, 11, 6) });
  });
});

describe('days', () => {
  it('read and write YYYY-MM-DD in local time', () => {
    expect(dayText(at(2026, 3, 7, 23))).toBe('2026-03-07');
    expect(parseDay('2026-3-7')).toBe(at(2026, 3, 7));
    expect(parseDay('7.3.2026')).toBeNull();
  });
});

describe('previousRange', () => {
  it('is the period of the same length just before', () => {
    const r = { from: at(2026, 11, 10), to: at(2026, 11, 20) };
    expect(previousRange(r)).toEqual({ from: at(2026, 10, 31), to: at(2026, 11, 10) });
  });
});

describe('targetPeriod', () => {
  it('names a whole month, a whole quarter, else the starting month', () => {
    expect(targetPeriod(periodRange('this_month', NOW)!)).toBe('2026-11');
    expect(targetPeriod(periodRange('this_quarter', NOW)!)).toBe('2026-Q4');
    expect(targetPeriod(periodRange('last_month', NOW)!)).toBe('2026-10');
    expect(targetPeriod({ from: at(2026, 11, 3), to: at(2026, 11, 9) })).toBe('2026-11');
  });
  it('a month that starts a quarter is still a month', () => {
    expect(targetPeriod({ from: at(2026, 10, 1), to: at(2026, 11, 1) })).toBe('2026-10');
  });
});

describe('defaultBucket', () => {
  it('uses days for a month, weeks for a quarter, months for a year', () => {
    expect(defaultBucket(periodRange('this_month', NOW)!)).toBe('day');
    expect(defaultBucket(periodRange('this_quarter', NOW)!)).toBe('week');
    expect(defaultBucket({ from: at(2026, 1, 1), to: at(2027, 1, 1) })).toBe('month');
  });
});

describe('drill-down queries', () => {
  const f = toFilter({ from: at(2026, 11, 1), to: at(2026, 12, 1) }, 'm1');

  it('the first customer stage is every customer created in the period', () => {
    expect(customerStageQuery('prospect', f)).toEqual({ status: [], owner: 'm1', created_from: f.from, created_to: f.to });
  });
  it('a later customer stage is that status or a later one', () => {
    expect(customerStageQuery('interested', f).status).toEqual(['interested', 'won']);
    expect(customerStageQuery('won', f).status).toEqual(['won']);
  });
  it('a heatmap cell filters both values, leaving unset ones out', () => {
    expect(heatCellQuery('grade', 'A', 'province', '江苏省', f)).toEqual({
      owner: 'm1',
      created_to: f.to,
      grade: ['A'],
      province: '江苏省',
    });
    expect(heatCellQuery('industry', '', 'province', '广东省', toFilter(f, null))).toEqual({
      owner: null,
      created_to: f.to,
      province: '广东省',
    });
  });
  it('a breakdown bar filters its owner, province or industry', () => {
    expect(breakdownQuery('owner', 'm2', f).owner).toBe('m2');
    expect(breakdownQuery('owner', '', f).owner).toBe('none');
    expect(breakdownQuery('region', '浙江省', f)).toEqual({ owner: 'm1', province: '浙江省' });
    expect(breakdownQuery('industry', '制造业', toFilter(f, null))).toEqual({ owner: null, industry: '制造业' });
  });
  it('a source bar is the leads of the period (and owner) from that source', () => {
    expect(sourceQuery('展会', f)).toEqual({ owner: 'm1', created_from: f.from, created_to: f.to, source: '展会' });
  });
  it('a loss reason and a word carry the period and owner of their deals and follow-ups', () => {
    expect(lostQuery('价格过高', f)).toEqual({ lost: { reason: '价格过高', period: f } });
    expect(wordQuery('价格敏感', 'feedback', f)).toEqual({ followup_word: { word: '价格敏感', field: 'feedback', period: f } });
    // a copy: changing the page's filter later does not change the drill-down
    expect(lostQuery('x', f).lost!.period).not.toBe(f);
  });
  it('activeKeys lists only what filters', () => {
    expect(activeKeys({ status: [], owner: null, province: '浙江省', created_to: 5 })).toEqual(['created_to', 'province']);
  });
});
