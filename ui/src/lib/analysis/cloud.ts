// The keyword cloud as a weighted tag cloud (plain Svelte/CSS, no chart
// library): font size by count on a square-root scale, the biggest words
// in the middle so the cloud reads as one shape, and needs split by priority.

import type { Keyword } from '../bindings/Keyword';
import { FONT, type Option } from './charts';
import type { Need } from '../bindings/Need';

export interface CloudWord {
  word: string;
  count: number;
  /** Customers of those follow-ups (what a click lists). */
  customers: number;
  /** Font size in px. */
  size: number;
  /** 0 (rarest) … 1 (most frequent): picks the colour. */
  weight: number;
}

/**
 * Sized words for the cloud. `min`/`max` bound the font size; counts are
 * scaled by their square root (a word twice as frequent is not twice as tall).
 * Order: most frequent in the centre, the rest alternating left and right.
 */
export function cloudWords(words: Keyword[], min = 13, max = 36): CloudWord[] {
  const live = words.filter((w) => w.count > 0 && w.word.trim() !== '');
  if (live.length === 0) return [];
  const counts = live.map((w) => Math.sqrt(w.count));
  const lo = Math.min(...counts);
  const hi = Math.max(...counts);
  // Blend the (square-root) count with the rank, so that many words of
  // nearly the same count still make a cloud rather than a wall of big type.
  const ranks = rankShares(live.map((w) => w.count));
  const sized = live.map((w, i) => {
    const byCount = hi === lo ? 1 : (counts[i] - lo) / (hi - lo);
    const weight = hi === lo ? 1 : (byCount + ranks[i]) / 2;
    return { word: w.word, count: w.count, customers: w.customers ?? w.count, weight, size: Math.round(min + weight * (max - min)) };
  });
  // Most frequent first (ties alphabetical), then spread from the middle.
  sized.sort((a, b) => b.count - a.count || a.word.localeCompare(b.word, 'zh-CN'));
  const out: CloudWord[] = [];
  sized.forEach((w, i) => (i % 2 === 0 ? out.push(w) : out.unshift(w)));
  return out;
}

/** Each count's rank as a share: 1 for the highest, 0 for the lowest; ties share a rank. */
export function rankShares(counts: number[]): number[] {
  const distinct = [...new Set(counts)].sort((a, b) => a - b);
  if (distinct.length < 2) return counts.map(() => 1);
  return counts.map((c) => distinct.indexOf(c) / (distinct.length - 1));
}

/** Colour bands of the cloud, strongest first. */
export const CLOUD_COLOURS = ['#1f6feb', '#3b82c4', '#5a9ad6', '#7a8ca3', '#98a2b3'];

export function cloudColour(weight: number): string {
  const i = Math.min(CLOUD_COLOURS.length - 1, Math.floor((1 - weight) * CLOUD_COLOURS.length));
  return CLOUD_COLOURS[i];
}

/**
 * ECharts option of a word cloud (echarts-wordcloud) over sized words: the
 * blended weight is the value, mapped linearly onto [min, max] px, so the
 * canvas shows the same sizes as `cloudWords` computed; horizontal only
 * (Chinese reads badly turned).
 */
export function wordCloudOption(
  words: CloudWord[],
  countText: (n: number, customers: number) => string,
  min = 14,
  max = 38,
): Option {
  return {
    tooltip: {
      confine: true,
      textStyle: { fontFamily: FONT },
      formatter: (p: { name: string; data: { count: number; customers: number } }) =>
        `${p.name}：<b>${countText(p.data.count, p.data.customers)}</b>`,
    },
    series: [
      {
        type: 'wordCloud',
        shape: 'circle',
        left: 'center',
        top: 'center',
        width: '96%',
        height: '94%',
        sizeRange: [min, max],
        rotationRange: [0, 0],
        // Room between words: Chinese phrases set side by side would
        // otherwise read as one compound (资料样品).
        gridSize: 14,
        drawOutOfBound: false,
        shrinkToFit: true,
        layoutAnimation: false,
        textStyle: { fontFamily: FONT },
        emphasis: { focus: 'self', textStyle: { textShadowBlur: 4, textShadowColor: 'rgba(31,111,235,.25)' } },
        data: words.map((w) => ({
          name: w.word,
          value: w.weight,
          count: w.count,
          customers: w.customers,
          textStyle: { color: cloudColour(w.weight), fontWeight: w.weight > 0.5 ? 600 : 400 },
        })),
      },
    ],
  };
}

export type Priority = 'high' | 'medium' | 'low';
export const PRIORITIES: Priority[] = ['high', 'medium', 'low'];

/** Needs grouped by priority (`high` ≥ 10% of the customers with needs…), in the core's order. */
export function needGroups(needs: Need[]): Record<Priority, Need[]> {
  const g: Record<Priority, Need[]> = { high: [], medium: [], low: [] };
  for (const n of needs) {
    const p = (PRIORITIES as string[]).includes(n.priority) ? (n.priority as Priority) : 'low';
    g[p].push(n);
  }
  return g;
}
