// ECharts options of the Analysis page, built from the core's report types.
// Pure functions (no ECharts import), tested in charts.test.ts; the page
// only hands them to <Chart>.

import type { Compare } from '../bindings/Compare';
import type { FunnelStage } from '../bindings/FunnelStage';
import type { HeatCell } from '../bindings/HeatCell';
import type { TrendPoint } from '../bindings/TrendPoint';

/* eslint-disable @typescript-eslint/no-explicit-any */
export type Option = Record<string, any>;

export const PALETTE = ['#2f6fde', '#4fa3f7', '#36b37e', '#f5a623', '#8e6bd8', '#e5604d', '#26b5b0', '#9aa5b5'];
export const FONT =
  "'Noto Sans CJK SC', 'Noto Sans SC', 'Source Han Sans SC', 'PingFang SC', 'Microsoft YaHei', 'WenQuanYi Micro Hei', sans-serif";

const base = (): Option => ({
  color: PALETTE,
  textStyle: { fontFamily: FONT, color: '#1f2329' },
  tooltip: { confine: true, textStyle: { fontFamily: FONT } },
  animationDuration: 300,
});

export const pct = (x: number | null | undefined, digits = 1): string =>
  x == null || !Number.isFinite(x) ? '—' : `${(x * 100).toFixed(digits)}%`;

export const days = (x: number | null | undefined): string =>
  x == null || !Number.isFinite(x) ? '—' : x.toFixed(1);

/** Arrow of a change vs the previous period. `lowerIsBetter` for the cycle. */
export function trendArrow(c: Compare, lowerIsBetter = false): { dir: 'up' | 'down' | 'flat' | 'none'; good: boolean | null; text: string } {
  if (c.change == null || !Number.isFinite(c.change)) return { dir: 'none', good: null, text: '—' };
  const ch = c.change;
  if (Math.abs(ch) < 0.0005) return { dir: 'flat', good: null, text: '0%' };
  const dir = ch > 0 ? 'up' : 'down';
  return { dir, good: (ch > 0) !== lowerIsBetter, text: pct(Math.abs(ch)) };
}

export interface Texts {
  entered: string;
  conversion: string;
  avgDays: string;
}

/** A funnel chart; width of each stage ∝ how many entered it. */
export function funnelOption(stages: FunnelStage[], tx: Texts): Option {
  const max = Math.max(1, ...stages.map((s) => s.entered));
  return {
    ...base(),
    tooltip: {
      ...base().tooltip,
      trigger: 'item',
      formatter: (p: any) => {
        const s = stages[p.dataIndex];
        if (!s) return '';
        const lines = [`<b>${s.label}</b>`, `${tx.entered}：${s.entered}`];
        if (s.conversion != null) lines.push(`${tx.conversion}：${pct(s.conversion)}`);
        if (s.avg_days != null) lines.push(`${tx.avgDays}：${days(s.avg_days)}`);
        return lines.join('<br/>');
      },
    },
    series: [
      {
        type: 'funnel',
        sort: 'none',
        left: '8%',
        right: '8%',
        top: 8,
        bottom: 8,
        min: 0,
        max,
        minSize: '34%',
        gap: 3,
        label: { show: true, position: 'inside', fontFamily: FONT, color: '#fff', formatter: (p: any) => `${p.name}  ${p.value}` },
        itemStyle: { borderWidth: 0 },
        emphasis: { label: { fontWeight: 'bold' } },
        data: stages.map((s, i) => ({ name: s.label, value: s.entered, stage: s.stage, itemStyle: { color: PALETTE[i % PALETTE.length] } })),
      },
    ],
  };
}

export type TrendMetric = 'won_amount' | 'new_customers' | 'followups' | 'lead_conversion';
export const TREND_METRICS: TrendMetric[] = ['won_amount', 'new_customers', 'followups', 'lead_conversion'];

/** Short x labels: `11-26` for days and weeks, `2026-11` for months. */
export function trendLabel(start: string, monthly: boolean): string {
  return monthly ? start.slice(0, 7) : start.slice(5);
}

export function trendOption(points: TrendPoint[], metric: TrendMetric, name: string, fmt: (v: number) => string, monthly: boolean): Option {
  const ratio = metric === 'lead_conversion';
  return {
    ...base(),
    grid: { left: 12, right: 20, top: 24, bottom: 8, containLabel: true },
    tooltip: {
      ...base().tooltip,
      trigger: 'axis',
      formatter: (ps: any) => {
        const p = Array.isArray(ps) ? ps[0] : ps;
        const v = p?.value;
        return `${points[p.dataIndex]?.start ?? ''}<br/>${name}：<b>${v == null ? '—' : ratio ? pct(v) : fmt(v)}</b>`;
      },
    },
    xAxis: {
      type: 'category',
      boundaryGap: true,
      data: points.map((p) => trendLabel(p.start, monthly)),
      axisLabel: { fontFamily: FONT, color: '#646a73', hideOverlap: true },
      axisLine: { lineStyle: { color: '#cfd4dc' } },
    },
    yAxis: {
      type: 'value',
      min: 0,
      max: ratio ? 1 : undefined,
      minInterval: ratio ? undefined : metric === 'won_amount' ? undefined : 1,
      axisLabel: { fontFamily: FONT, color: '#646a73', formatter: (v: number) => (ratio ? `${Math.round(v * 100)}%` : fmt(v)) },
      splitLine: { lineStyle: { color: '#eef0f3' } },
    },
    series: [
      {
        type: metric === 'new_customers' || metric === 'followups' ? 'bar' : 'line',
        name,
        smooth: 0.25,
        barMaxWidth: 28,
        connectNulls: true,
        symbolSize: 6,
        areaStyle: metric === 'won_amount' ? { opacity: 0.12 } : undefined,
        data: points.map((p) => p[metric] ?? null),
      },
    ],
  };
}

export type Measure = 'customers' | 'won_amount';

export interface HeatGrid {
  rows: string[];
  cols: string[];
  /** [col index, row index, value] for every non-zero cell. */
  data: [number, number, number][];
  max: number;
}

/**
 * Heatmap cells as a grid: rows and columns with the largest totals first,
 * at most `maxRows` × `maxCols` (the rest is left out, so the chart stays
 * readable), unset values shown as `unset`.
 */
export function heatGrid(cells: HeatCell[], measure: Measure, maxRows = 12, maxCols = 14, order?: string[]): HeatGrid {
  const rowTot = new Map<string, number>();
  const colTot = new Map<string, number>();
  for (const c of cells) {
    const v = c[measure];
    rowTot.set(c.row, (rowTot.get(c.row) ?? 0) + v);
    colTot.set(c.col, (colTot.get(c.col) ?? 0) + v);
  }
  const top = (m: Map<string, number>, n: number) =>
    [...m.entries()]
      .filter(([, v]) => v > 0)
      .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
      .slice(0, n)
      .map(([k]) => k);
  let rows = top(rowTot, maxRows);
  if (order) rows = order.filter((r) => rows.includes(r)).concat(rows.filter((r) => !order.includes(r)));
  const cols = top(colTot, maxCols);
  const data: [number, number, number][] = [];
  let max = 0;
  for (const c of cells) {
    const ri = rows.indexOf(c.row);
    const ci = cols.indexOf(c.col);
    const v = c[measure];
    if (ri < 0 || ci < 0 || v <= 0) continue;
    data.push([ci, ri, v]);
    max = Math.max(max, v);
  }
  return { rows, cols, data, max };
}

export function heatmapOption(g: HeatGrid, rowLabel: (k: string) => string, colLabel: (k: string) => string, fmt: (v: number) => string): Option {
  return {
    ...base(),
    grid: { left: 8, right: 16, top: 8, bottom: 56, containLabel: true },
    tooltip: {
      ...base().tooltip,
      formatter: (p: any) => {
        const [ci, ri, v] = p.value as [number, number, number];
        return `${rowLabel(g.rows[ri])} · ${colLabel(g.cols[ci])}<br/><b>${fmt(v)}</b>`;
      },
    },
    xAxis: {
      type: 'category',
      data: g.cols.map(colLabel),
      splitArea: { show: true },
      axisLabel: { fontFamily: FONT, color: '#646a73', interval: 0, rotate: g.cols.length > 8 ? 30 : 0 },
    },
    // The first (largest, or grade A) row on top.
    yAxis: { type: 'category', inverse: true, data: g.rows.map(rowLabel), splitArea: { show: true }, axisLabel: { fontFamily: FONT, color: '#646a73' } },
    visualMap: {
      min: 0,
      max: Math.max(1, g.max),
      calculable: false,
      orient: 'horizontal',
      left: 'center',
      bottom: 0,
      itemHeight: 160,
      itemWidth: 12,
      textStyle: { fontFamily: FONT, color: '#646a73' },
      text: [fmt(Math.max(1, g.max)), fmt(0)],
      inRange: { color: ['#e9f0fd', '#7fa9ef', '#2f6fde', '#173f8a'] },
    },
    series: [
      {
        type: 'heatmap',
        data: g.data,
        label: { show: g.cols.length * g.rows.length <= 120, fontFamily: FONT, fontSize: 11, formatter: (p: any) => fmt(p.value[2]) },
        emphasis: { itemStyle: { shadowBlur: 6, shadowColor: 'rgba(0,0,0,0.3)' } },
        itemStyle: { borderColor: '#fff', borderWidth: 1 },
      },
    ],
  };
}

export interface BarItem {
  key: string;
  label: string;
  value: number;
  /** Shown in the tooltip under the value. */
  extra?: string;
}

/** Horizontal bars, largest on top. */
export function barOption(items: BarItem[], fmt: (v: number) => string, color = PALETTE[0]): Option {
  const rev = [...items].reverse();
  return {
    ...base(),
    grid: { left: 8, right: 64, top: 4, bottom: 4, containLabel: true },
    tooltip: {
      ...base().tooltip,
      trigger: 'item',
      formatter: (p: any) => {
        const it = rev[p.dataIndex];
        return it ? `<b>${it.label}</b><br/>${fmt(it.value)}${it.extra ? `<br/>${it.extra}` : ''}` : '';
      },
    },
    xAxis: { type: 'value', show: false, min: 0 },
    yAxis: {
      type: 'category',
      data: rev.map((i) => i.label),
      axisTick: { show: false },
      axisLine: { show: false },
      axisLabel: { fontFamily: FONT, color: '#1f2329', width: 96, overflow: 'truncate' },
    },
    series: [
      {
        type: 'bar',
        data: rev.map((i) => i.value),
        barMaxWidth: 18,
        itemStyle: { color, borderRadius: [0, 3, 3, 0] },
        label: { show: true, position: 'right', fontFamily: FONT, color: '#646a73', formatter: (p: any) => fmt(p.value) },
        cursor: 'pointer',
      },
    ],
  };
}

/** Target completion as a gauge (0–100%, the needle stops at 120%). */
export function gaugeOption(completion: number | null, projected: number | null, label: string): Option {
  const v = completion == null ? 0 : Math.min(1.2, completion) * 100;
  return {
    ...base(),
    series: [
      {
        type: 'gauge',
        min: 0,
        max: 120,
        startAngle: 210,
        endAngle: -30,
        radius: '92%',
        center: ['50%', '62%'],
        progress: { show: true, width: 12, itemStyle: { color: completion != null && completion >= 1 ? '#36b37e' : '#2f6fde' } },
        axisLine: { lineStyle: { width: 12, color: [[1, '#eef0f3']] } },
        axisTick: { show: false },
        splitLine: { show: false },
        axisLabel: { show: false },
        pointer: { show: false },
        anchor: { show: false },
        title: { show: true, offsetCenter: [0, '34%'], fontSize: 11, color: '#646a73', fontFamily: FONT },
        detail: {
          valueAnimation: false,
          offsetCenter: [0, '-12%'],
          fontSize: 22,
          fontWeight: 600,
          fontFamily: FONT,
          color: '#1f2329',
          formatter: () => (completion == null ? '—' : pct(completion)),
        },
        data: [{ value: v, name: projected == null ? label : `${label} ${pct(projected, 0)}` }],
      },
    ],
  };
}
