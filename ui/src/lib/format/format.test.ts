import { describe, expect, it } from 'vitest';
import { formatAmount, formatBytes, formatDate, formatShort, formatTime, parseAmount } from './index';

// Built from local parts so the tests hold in any time zone.
const at = (y: number, mo: number, d: number, h = 0, mi = 0) => new Date(y, mo - 1, d, h, mi).getTime();

describe('times', () => {
  it('shows a date and a time in local time with leading zeros', () => {
    expect(formatDate(at(2026, 3, 5, 9, 7))).toBe('2026-03-05');
    expect(formatTime(at(2026, 3, 5, 9, 7))).toBe('2026-03-05 09:07');
  });

  it('shows nothing for no time', () => {
    expect(formatTime(null)).toBe('');
    expect(formatDate(undefined)).toBe('');
    expect(formatShort(null)).toBe('');
  });

  it('shortens by distance from now', () => {
    const now = at(2026, 11, 26, 15, 0);
    expect(formatShort(at(2026, 11, 26, 8, 30), now)).toBe('08:30');
    expect(formatShort(at(2026, 2, 1, 8, 30), now)).toBe('02-01');
    expect(formatShort(at(2025, 12, 31, 8, 30), now)).toBe('2025-12-31');
  });
});

describe('formatAmount', () => {
  it('uses 万 and 亿 in Chinese', () => {
    expect(formatAmount(125000, 'zh')).toBe('¥12.5万');
    expect(formatAmount(10000, 'zh')).toBe('¥1万');
    expect(formatAmount(320000000, 'zh')).toBe('¥3.2亿');
    expect(formatAmount(8500, 'zh')).toBe('¥8,500');
  });

  it('groups thousands in English', () => {
    expect(formatAmount(125000, 'en')).toBe('¥125,000');
    expect(formatAmount(1234567.5, 'en')).toBe('¥1,234,567.50');
    expect(formatAmount(0, 'en')).toBe('¥0');
  });

  it('shows nothing for no amount', () => {
    expect(formatAmount(null, 'zh')).toBe('');
    expect(formatAmount(Number.NaN, 'en')).toBe('');
  });
});

describe('parseAmount', () => {
  it('reads what people type', () => {
    expect(parseAmount('12,000')).toBe(12000);
    expect(parseAmount('¥3000')).toBe(3000);
    expect(parseAmount('1.2万')).toBe(12000);
    expect(parseAmount('2亿')).toBe(200000000);
    expect(parseAmount('  ')).toBeNull();
    expect(parseAmount('abc')).toBe('invalid');
  });
});

describe('formatBytes', () => {
  it('picks a readable unit', () => {
    expect(formatBytes(500)).toBe('500 B');
    expect(formatBytes(2048)).toBe('2 KB');
    expect(formatBytes(3.4 * 1024 * 1024)).toBe('3.4 MB');
  });
});
