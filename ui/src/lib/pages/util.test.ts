import { describe, expect, it } from 'vitest';
import { differing, formatDuration, fromLocalInput, neighbour, nextSlot, toLocalInput } from './util';

describe('datetime-local values', () => {
  it('round-trip a local time', () => {
    const ms = new Date(2026, 10, 25, 14, 0).getTime();
    expect(toLocalInput(ms)).toBe('2026-11-25T14:00');
    expect(fromLocalInput('2026-11-25T14:00')).toBe(ms);
  });
  it('reject empty and malformed input', () => {
    expect(fromLocalInput('')).toBeNull();
    expect(fromLocalInput('tomorrow')).toBeNull();
    expect(toLocalInput(null)).toBe('');
  });
});

describe('nextSlot', () => {
  it('is a half hour at least 15 minutes ahead', () => {
    const at = new Date(2026, 10, 25, 14, 20).getTime();
    expect(new Date(nextSlot(at)).getHours()).toBe(15);
    expect(new Date(nextSlot(at)).getMinutes()).toBe(0);
  });
});

describe('formatDuration', () => {
  it('speaks days and hours in both languages', () => {
    const ms = (3 * 24 + 5) * 3600_000;
    expect(formatDuration(ms, 'zh')).toBe('3天5小时');
    expect(formatDuration(ms, 'en')).toBe('3d 5h');
    expect(formatDuration(45 * 60_000, 'zh')).toBe('45分钟');
    expect(formatDuration(20_000, 'zh')).toBe('不到1分钟');
    expect(formatDuration(20_000, 'en')).toBe('< 1 min');
  });
});

describe('neighbour', () => {
  const order = ['a', 'b', 'c'];
  it('moves left and right and stops at the ends', () => {
    expect(neighbour(order, 'b', 1)).toBe('c');
    expect(neighbour(order, 'b', -1)).toBe('a');
    expect(neighbour(order, 'a', -1)).toBeNull();
    expect(neighbour(order, 'c', 1)).toBeNull();
  });
});

describe('differing', () => {
  it('names only the fields whose values differ', () => {
    const d = differing([{ name: 'A', city: '深圳' }, { name: 'B', city: '深圳' }], ['name', 'city']);
    expect([...d]).toEqual(['name']);
  });
});
