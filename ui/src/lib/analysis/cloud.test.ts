import { describe, expect, it } from 'vitest';
import { cloudColour, cloudWords, needGroups, rankShares, wordCloudOption, CLOUD_COLOURS } from './cloud';

const kw = (word: string, count: number, customers = count) => ({ word, count, customers });

describe('cloudWords', () => {
  it('is empty without words (the page shows its empty state)', () => {
    expect(cloudWords([])).toEqual([]);
    expect(cloudWords([kw('  ', 3), kw('价格', 0)])).toEqual([]);
  });

  it('gives the most frequent word the largest font and the rarest the smallest', () => {
    const ws = cloudWords([kw('价格敏感', 40), kw('快速交付', 10), kw('售后', 1)], 12, 36);
    const size = (w: string) => ws.find((x) => x.word === w)!.size;
    expect(size('价格敏感')).toBe(36);
    expect(size('售后')).toBe(12);
    // Between the two, above its linear share of 1…40 (square root, rank).
    expect(size('快速交付')).toBeLessThan(36);
    const lin = 12 + ((10 - 1) / (40 - 1)) * 24;
    expect(size('快速交付')).toBeGreaterThan(lin);
  });

  it('puts the most frequent word in the middle, the next ones around it', () => {
    const ws = cloudWords([kw('a', 5), kw('b', 4), kw('c', 3), kw('d', 2), kw('e', 1)]);
    expect(ws.map((w) => w.word)).toEqual(['d', 'b', 'a', 'c', 'e']);
  });

  it('equal counts all get the largest size and full weight', () => {
    const ws = cloudWords([kw('甲', 3), kw('乙', 3)], 10, 20);
    expect(ws.every((w) => w.size === 20 && w.weight === 1)).toBe(true);
  });
});

describe('rankShares', () => {
  it('spreads close counts over the whole range, ties together', () => {
    expect(rankShares([30, 31, 31, 33])).toEqual([0, 0.5, 0.5, 1]);
    expect(rankShares([5, 5])).toEqual([1, 1]);
  });
});

describe('cloudColour', () => {
  it('the heaviest words take the strongest colour, the lightest the palest', () => {
    expect(cloudColour(1)).toBe(CLOUD_COLOURS[0]);
    expect(cloudColour(0)).toBe(CLOUD_COLOURS[CLOUD_COLOURS.length - 1]);
  });
});

describe('needGroups', () => {
  it('splits needs by priority, keeping their order, unknown priorities as low', () => {
    const n = (word: string, priority: string) => ({ word, customers: 1, share: 0.1, priority });
    const g = needGroups([n('节能', 'high'), n('数据安全', 'medium'), n('定制', 'high'), n('x', 'odd')]);
    expect(g.high.map((x) => x.word)).toEqual(['节能', '定制']);
    expect(g.medium.map((x) => x.word)).toEqual(['数据安全']);
    expect(g.low.map((x) => x.word)).toEqual(['x']);
  });
});

describe('wordCloudOption', () => {
  it('draws every word horizontally, sized by its weight, with its count in the tooltip', () => {
    const words = cloudWords([kw('价格敏感', 9, 7), kw('快速交付', 4), kw('售后', 1)]);
    const o = wordCloudOption(words, (n, k) => `${n} 次 · ${k} 位`, 14, 38);
    const s = o.series[0];
    expect(s.type).toBe('wordCloud');
    expect(s.rotationRange).toEqual([0, 0]);
    expect(s.sizeRange).toEqual([14, 38]);
    expect(s.data.map((d: { name: string }) => d.name).sort()).toEqual(['价格敏感', '售后', '快速交付'].sort());
    const top = s.data.find((d: { name: string }) => d.name === '价格敏感');
    expect(top.value).toBe(1);
    // the follow-ups and the customers a click lists
    expect(top.customers).toBe(7);
    expect(o.tooltip.formatter({ name: '价格敏感', data: top })).toBe('价格敏感：<b>9 次 · 7 位</b>');
  });
});
