import { describe as group, expect, it } from 'vitest';
import { describe, originLabel } from './history';
import type { HistoryEntry } from './bindings/HistoryEntry';

const names = { members: new Map([['m1', '王磊']]), tags: new Map([['t1', '大客户']]) };
const entry = (p: Partial<HistoryEntry>): HistoryEntry => ({
  seq: 1,
  at: 0,
  actor_id: null,
  actor_name: null,
  entity: 'customer',
  entity_id: 'c1',
  field: 'name',
  old: null,
  new: null,
  origin: 'ui',
  ...p,
});

group('history lines', () => {
  it('say a field changed from old to new, with labels', () => {
    expect(describe(entry({ field: 'status', old: 'prospect', new: 'won' }), 'zh', names)).toBe(
      '客户状态：潜在客户 → 成交客户',
    );
    expect(describe(entry({ field: 'owner_id', old: null, new: 'm1' }), 'en', names)).toBe('Owner: — → 王磊');
    expect(describe(entry({ field: 'budget', old: 1000, new: 250000 }), 'zh', names)).toBe(
      '预算（元）：¥1,000 → ¥25万',
    );
  });

  it('name creation, trash and restore', () => {
    expect(describe(entry({ field: '*', new: { name: 'x' } }), 'zh', names)).toBe('创建了客户');
    expect(describe(entry({ field: 'deleted_at', new: 5 }), 'zh', names)).toBe('移入回收站');
    expect(describe(entry({ field: 'deleted_at', old: 5, new: null }), 'en', names)).toBe('Restored from the trash');
  });

  it('name contacts and tags', () => {
    expect(describe(entry({ entity: 'contact', field: '*', new: { name: '张三' } }), 'zh', names)).toBe(
      '添加了联系人 张三',
    );
    expect(describe(entry({ entity: 'contact', field: 'mobile', old: '13800138000', new: '13900139000' }), 'en', names)).toBe(
      'Contact Mobile: 13800138000 → 13900139000',
    );
    expect(describe(entry({ entity: 'customer_tag', entity_id: 'c1:t1', field: 'linked', new: true }), 'zh', names)).toBe(
      '添加了标签 大客户',
    );
  });

  it('label origins', () => {
    expect(originLabel('cli', 'zh')).toBe('命令行');
    expect(originLabel('other', 'en')).toBe('other');
  });
});
