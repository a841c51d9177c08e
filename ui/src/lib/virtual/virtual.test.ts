import { describe, expect, it } from 'vitest';
import { pagesFor, rowAt, windowRange } from './index';

describe('windowRange', () => {
  it('renders the first screen plus overscan at the top', () => {
    const w = windowRange(0, 400, 40, 100_000, 5);
    expect(w.start).toBe(0);
    expect(w.end).toBe(11 + 5);
    expect(w.offsetY).toBe(0);
    expect(w.totalHeight).toBe(4_000_000);
  });

  it('renders around the scroll position in the middle', () => {
    const w = windowRange(40 * 50_000, 400, 40, 100_000, 5);
    expect(w.start).toBe(50_000 - 5);
    expect(w.end).toBe(50_000 + 11 + 5);
    expect(w.offsetY).toBe((50_000 - 5) * 40);
  });

  it('never runs past the last row when scrolled to the end or beyond', () => {
    const w = windowRange(10_000_000, 400, 40, 1000, 5);
    expect(w.end).toBe(1000);
    expect(w.start).toBeLessThan(1000 - 10);
  });

  it('renders every row of a short list', () => {
    const w = windowRange(0, 800, 40, 3, 8);
    expect([w.start, w.end]).toEqual([0, 3]);
  });

  it('renders nothing for an empty list', () => {
    expect(windowRange(0, 800, 40, 0)).toEqual({ start: 0, end: 0, offsetY: 0, totalHeight: 0 });
  });

  it('clamps a negative scroll (elastic scrolling) to the top', () => {
    expect(windowRange(-50, 400, 40, 100, 0).start).toBe(0);
  });

  it('keeps the rendered count bounded however long the list is', () => {
    for (const total of [1_000, 100_000, 1_000_000]) {
      const w = windowRange(total * 20, 800, 40, total, 8);
      expect(w.end - w.start).toBeLessThanOrEqual(21 + 16);
    }
  });
});

describe('pagesFor', () => {
  it('covers a range inside one page', () => {
    expect(pagesFor(0, 30, 200)).toEqual([0]);
  });
  it('covers a range across a page boundary', () => {
    expect(pagesFor(190, 230, 200)).toEqual([0, 1]);
  });
  it('treats end as exclusive', () => {
    expect(pagesFor(0, 200, 200)).toEqual([0]);
    expect(pagesFor(200, 201, 200)).toEqual([1]);
  });
  it('is empty for an empty range', () => {
    expect(pagesFor(5, 5, 200)).toEqual([]);
  });
});

describe('rowAt', () => {
  it('finds rows in loaded pages and nothing elsewhere', () => {
    const pages = new Map<number, string[]>([[1, ['a', 'b']]]);
    expect(rowAt(pages, 200, 200)).toBe('a');
    expect(rowAt(pages, 201, 200)).toBe('b');
    expect(rowAt(pages, 0, 200)).toBeUndefined();
  });
});
