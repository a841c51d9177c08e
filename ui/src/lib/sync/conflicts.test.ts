import { describe, expect, it } from 'vitest';
import type { Conflict } from '../bindings/Conflict';
import type { RoundOutcome } from '../bindings/RoundOutcome';
import { conflictLine, fieldLabel, roundLine, triggerLabel, who } from './conflicts';

const names = { members: new Map([['m1', '王芳']]), tags: new Map([['t1', '重点']]) };
const base: Conflict = {
  id: 1,
  entity: 'customer',
  entity_id: 'c1',
  customer_id: 'c1',
  field: 'status',
  kept_value: 'won',
  kept_device: 'dev-b',
  kept_device_name: '李四的电脑',
  kept_at: 2,
  other_value: 'lost',
  other_device: 'dev-a',
  other_device_name: null,
  other_at: 1,
  resolved_at: null,
};

describe('conflict lines', () => {
  it('name both sides with their values in words, this computer as such', () => {
    expect(conflictLine(base, 'dev-a', 'zh', names)).toBe('李四的电脑 改为 成交客户 · 本机 改为 流失客户');
    expect(conflictLine(base, 'dev-a', 'en', names)).toBe('李四的电脑 set Won · this computer set Lost');
  });

  it('fall back to a short device id when a device has no name yet', () => {
    expect(who('0193a1b2-aaaa', null, 'me', 'zh')).toBe('0193a1b2');
  });

  it('show owners by name and tags as on or off', () => {
    const owner = { ...base, field: 'owner_id', kept_value: 'm1', other_value: null };
    expect(conflictLine(owner, 'x', 'zh', names)).toBe('李四的电脑 改为 王芳 · dev-a 改为 —');
    const tag = { ...base, entity: 'customer_tag', entity_id: 'c1:t1', field: '*', kept_value: null, other_value: true };
    expect(conflictLine(tag, 'dev-a', 'zh', names)).toBe('李四的电脑 改为 未加标签 重点 · 本机 改为 已加标签 重点');
  });

  it('label fields of customers, contacts and other records', () => {
    expect(fieldLabel({ entity: 'customer', field: 'grade' }, 'zh')).toBe('客户等级');
    expect(fieldLabel({ entity: 'contact', field: 'mobile' }, 'en')).toBe('Contact · Mobile');
    expect(fieldLabel({ entity: 'followup', field: 'content' }, 'zh')).toBe('跟进 · content');
    expect(fieldLabel({ entity: 'gizmo', field: 'x' }, 'zh')).toBe('gizmo · x');
  });
});

describe('round results', () => {
  const ok: RoundOutcome = {
    at: 0,
    trigger: 'folder',
    report: { sent: 1, received: 4, applied: 4, conflicts: 1, skipped_files: 0, renumbered: 2, problems: [] },
    error: null,
  };
  it('count what was sent, received and merged', () => {
    expect(roundLine(ok, 'zh')).toBe(
      '发送 1 · 收到 4 · 合并 4 · 新冲突 1 · 跳过文件 0 · 2 位客户的编号与其他电脑重复，已重新编号',
    );
    expect(triggerLabel(ok, 'en')).toBe('new files in the folder');
  });
  it('show the error of a failed round as it came', () => {
    expect(roundLine({ ...ok, report: null, error: '找不到共享文件夹' }, 'zh')).toBe('找不到共享文件夹');
  });
});
