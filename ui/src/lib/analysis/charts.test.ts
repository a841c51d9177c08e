import { describe, expect, it } from 'vitest';
import { barOption, funnelOption, gaugeOption, heatGrid, heatmapOption, pct, trendArrow, trendLabel, trendOption } from './charts';
import type { HeatCell } from '../bindings/HeatCell';
import type { TrendPoint } from '../bindings/TrendPoint';

const tx = { entered: '进入', conversion: '转化率', avgDays: '平均停留天数' };

describe('trendArrow', () => {
  it('shows the size of the change and whether it is good', () => {
    expect(trendArrow({ current: 0.3, previous: 0.2, change: 0.5 })).toEqual({ dir: 'up', good: true, text: '50.0%' });
    expect(trendArrow({ current: 0.1, previous: 0.2, change: -0.5 })).toEqual({ dir: 'down', good: false, text: '50.0%' });
  });
  it('a shorter cycle is good news', () => {
    expect(trendArrow({ current: 20, previous: 25, change: -0.2 }, true)).toEqual({ dir: 'down', good: true, text: '20.0%' });
  });
  it('no previous figure means no arrow', () => {
    expect(trendArrow({ current: 3, previous: null, change: null }).dir).toBe('none');
    expect(trendArrow({ current: 3, previous: 3, change: 0 }).dir).toBe('flat');
  });
});

describe('pct', () => {
  it('formats fractions and leaves null as a dash', () => {
    expect(pct(0.1234)).toBe('12.3%');
    expect(pct(null)).toBe('—');
    expect(pct(NaN)).toBe('—');
  });
});

describe('funnelOption', () => {
  const stages = [
    { stage: 'initial', label: '初步接触', entered: 10, conversion: null, drop: null, avg_days: 3.5 },
    { stage: 'needs', label: '需求分析', entered: 6, conversion: 0.6, drop: 0.4, avg_days: null },
  ];
  it('keeps the pipeline order and carries the stage key for clicks', () => {
    const o = funnelOption(stages, tx);
    expect(o.series[0].sort).toBe('none');
    expect(o.series[0].data.map((d: { stage: string; value: number }) => [d.stage, d.value])).toEqual([
      ['initial', 10],
      ['needs', 6],
    ]);
    expect(o.series[0].max).toBe(10);
  });
  it('the tooltip shows the count, conversion and days', () => {
    const o = funnelOption(stages, tx);
    const tip = o.tooltip.formatter({ dataIndex: 1 });
    expect(tip).toContain('需求分析');
    expect(tip).toContain('进入：6');
    expect(tip).toContain('转化率：60.0%');
    expect(tip).not.toContain('平均停留');
  });
});

describe('trendOption', () => {
  const pts: TrendPoint[] = [
    { start: '2026-11-01', from: 0, to: 1, won_amount: 1000, wins: 1, new_customers: 3, followups: 4, lead_conversion: 0.5 },
    { start: '2026-11-02', from: 1, to: 2, won_amount: 0, wins: 0, new_customers: 0, followups: 1, lead_conversion: null },
  ];
  it('labels days by month-day and months by year-month', () => {
    expect(trendLabel('2026-11-02', false)).toBe('11-02');
    expect(trendLabel('2026-11-01', true)).toBe('2026-11');
  });
  it('plots the chosen metric, null where there is no ratio', () => {
    const o = trendOption(pts, 'lead_conversion', '线索转化率', String, false);
    expect(o.series[0].data).toEqual([0.5, null]);
    expect(o.yAxis.max).toBe(1);
    expect(o.xAxis.data).toEqual(['11-01', '11-02']);
  });
  it('counts are bars, amounts a line', () => {
    expect(trendOption(pts, 'new_customers', 'x', String, false).series[0].type).toBe('bar');
    expect(trendOption(pts, 'won_amount', 'x', String, false).series[0].type).toBe('line');
  });
});

describe('heatGrid', () => {
  const cells: HeatCell[] = [
    { row: '制造业', col: '江苏省', customers: 5, won_amount: 0 },
    { row: '制造业', col: '浙江省', customers: 2, won_amount: 300 },
    { row: '零售', col: '江苏省', customers: 1, won_amount: 100 },
    { row: '', col: '广东省', customers: 0, won_amount: 0 },
  ];
  it('orders rows and columns by total, largest first, dropping empty ones', () => {
    const g = heatGrid(cells, 'customers');
    expect(g.rows).toEqual(['制造业', '零售']);
    expect(g.cols).toEqual(['江苏省', '浙江省']);
    expect(g.data).toEqual([
      [0, 0, 5],
      [1, 0, 2],
      [0, 1, 1],
    ]);
    expect(g.max).toBe(5);
  });
  it('by amount only cells with an amount count', () => {
    const g = heatGrid(cells, 'won_amount');
    expect(g.rows).toEqual(['制造业', '零售']);
    expect(g.cols).toEqual(['浙江省', '江苏省']);
    expect(g.data).toHaveLength(2);
  });
  it('keeps at most the given number of rows and columns', () => {
    const g = heatGrid(cells, 'customers', 1, 1);
    expect(g.rows).toEqual(['制造业']);
    expect(g.cols).toEqual(['江苏省']);
    expect(g.data).toEqual([[0, 0, 5]]);
  });
  it('rows can follow a fixed order (grades A, B, C)', () => {
    const g = heatGrid(
      [
        { row: 'C', col: 'x', customers: 9, won_amount: 0 },
        { row: 'A', col: 'x', customers: 1, won_amount: 0 },
      ],
      'customers',
      12,
      14,
      ['A', 'B', 'C'],
    );
    expect(g.rows).toEqual(['A', 'C']);
  });
  it('the tooltip names the cell', () => {
    const g = heatGrid(cells, 'customers');
    const o = heatmapOption(g, (r) => r || '未填写', (c) => c, String);
    expect(o.tooltip.formatter({ value: [1, 0, 2] })).toBe('制造业 · 浙江省<br/><b>2</b>');
  });
});

describe('barOption and gaugeOption', () => {
  it('bars put the largest on top', () => {
    const o = barOption(
      [
        { key: 'a', label: '甲', value: 9 },
        { key: 'b', label: '乙', value: 3 },
      ],
      String,
    );
    expect(o.yAxis.data).toEqual(['乙', '甲']);
    expect(o.series[0].data).toEqual([3, 9]);
  });
  it('the gauge shows the completion and stops the arc at 120%', () => {
    const o = gaugeOption(1.5, 1.8, '预计');
    expect(o.series[0].data[0].value).toBe(120);
    expect(o.series[0].detail.formatter()).toBe('150.0%');
    expect(gaugeOption(null, null, '预计').series[0].detail.formatter()).toBe('—');
  });
});
