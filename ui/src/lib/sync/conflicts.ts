// Conflicts and sync results in words: "张三的电脑 改为 A · 本机 改为 B".

import type { Conflict } from '../bindings/Conflict';
import type { Lang } from '../bindings/Lang';
import type { RoundOutcome } from '../bindings/RoundOutcome';
import { isKey, translate, type Key } from '../i18n';
import { label, value, type Names } from '../history';

/** Who set a value: the device's name, or "this computer". */
export function who(device: string, name: string | null, myDevice: string, lang: Lang): string {
  if (device === myDevice) return translate(lang, 'sync.thisDevice');
  return name && name.trim() ? name : device.slice(0, 8);
}

/** The field in words: 客户状态, 联系人 · 手机, 标签. */
export function fieldLabel(c: Pick<Conflict, 'entity' | 'field'>, lang: Lang): string {
  if (c.entity === 'customer') return label('field', c.field, lang);
  if (c.entity === 'contact') return `${translate(lang, 'sync.entity.contact')} · ${label('contact', c.field, lang)}`;
  if (c.entity === 'customer_tag') return translate(lang, 'sync.entity.customer_tag');
  const k = `sync.entity.${c.entity}`;
  const entity = isKey(k) ? translate(lang, k as Key) : c.entity;
  return `${entity} · ${c.field}`;
}

function shown(c: Conflict, v: unknown, lang: Lang, names: Names): string {
  if (c.entity === 'customer_tag') {
    const tag = names.tags.get(c.entity_id.split(':')[1] ?? '') ?? '';
    return `${translate(lang, v ? 'sync.tagOn' : 'sync.tagOff')}${tag ? ` ${tag}` : ''}`;
  }
  return value(c.field, v, lang, names);
}

/** Both sides: the value in effect first, then the one it replaced. */
export function sides(c: Conflict, myDevice: string, lang: Lang, names: Names) {
  return {
    kept: translate(lang, 'sync.changedTo', {
      who: who(c.kept_device, c.kept_device_name, myDevice, lang),
      value: shown(c, c.kept_value, lang, names),
    }),
    other: translate(lang, 'sync.changedTo', {
      who: who(c.other_device, c.other_device_name, myDevice, lang),
      value: shown(c, c.other_value, lang, names),
    }),
  };
}

/** One line: "张三的电脑 改为 A · 本机 改为 B". */
export function conflictLine(c: Conflict, myDevice: string, lang: Lang, names: Names): string {
  const s = sides(c, myDevice, lang, names);
  return `${s.kept} · ${s.other}`;
}

/** What a round did, in one line (or its error). */
export function roundLine(o: RoundOutcome, lang: Lang): string {
  if (o.error) return o.error;
  const r = o.report;
  if (!r) return '';
  let line = translate(lang, 'sync.result', {
    sent: r.sent,
    received: r.received,
    applied: r.applied,
    conflicts: r.conflicts,
    skipped: r.skipped_files,
  });
  if (r.renumbered > 0) line += ` · ${translate(lang, 'sync.renumbered', { n: r.renumbered })}`;
  return line;
}

export function triggerLabel(o: RoundOutcome, lang: Lang): string {
  return translate(lang, `sync.trigger.${o.trigger}` as Key);
}
