// End-to-end: the daily-work pages of the real app (Today, follow-ups,
// pipeline, import, duplicates), under tauri-driver + WebKitWebDriver in
// Xvfb (run.sh). Own database in a temp dir, demo data loaded on first
// start. Screenshots: target/e2e-shots/pNN-*.png, in Chinese and English.

import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, mkdirSync, existsSync, writeFileSync } from 'node:fs';
import { execFileSync, spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebDriver } from './webdriver.mjs';
import { helpers } from './helpers.mjs';

const APP = process.env.KEHU_APP;
const URL = process.env.WEBDRIVER_URL ?? 'http://127.0.0.1:4444';
const SHOTS = process.env.E2E_SHOTS ?? 'target/e2e-shots';
assert.ok(APP, 'KEHU_APP must name the built kehu-desktop binary');
mkdirSync(SHOTS, { recursive: true });

const dir = mkdtempSync(join(tmpdir(), 'kehu-e2e-pages-'));
const DB = join(dir, 'kehu.db');
const FULL = '深圳市腾云科技有限公司';
const SHORT = '腾云科技';
const MOBILE = '13700001111';
const RESULT = '客户确认下周签合同，需要发正式报价';
const OPP = '腾云年度采购项目';
const KEY = { LEFT: '\uE012', RIGHT: '\uE014' };

let wd;
// invoke returns the command's answer as is: { ok: value } or { err: error }.
const { snap, step, text, click, fill, setValue, scrollTo, nav, press, invoke, setLang } = helpers({
  prefix: 'p',
  shots: SHOTS,
  getWd: () => wd,
  invokeMode: 'raw',
});
function localInput(ms) {
  const d = new Date(ms);
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}
async function rowWith(css, needle) {
  return wd.until(`${css} containing ${needle}`, async () => {
    for (const r of await wd.findAll(css)) if ((await r.text()).includes(needle)) return r;
    return null;
  });
}

before(async () => {
  wd = new WebDriver(URL);
  await wd.start(APP, ['--db', DB]);
});

after(async () => {
  await wd?.quit();
  rmSync(dir, { recursive: true, force: true });
});

step('the app starts on Today', async () => {
  await wd.find('[data-testid="today-page"]');
  // The language choice outlives a test file (the webview's storage).
  await setLang('zh');
  await nav('today');
  await wd.until('Today in Chinese', async () => (await text('h1')) === '今日');
  await wd.find('[data-testid="today-alerts"]');
  await snap('today-start-zh');
});

step('a follow-up planned with a reminder shows on Today, is done with a result and is in the timeline', async () => {
  await nav('customers');
  await click('[data-testid="new-customer"]');
  await fill('[data-testid="new-name"]', FULL);
  await fill('[data-testid="new-contact-name"]', '王强');
  await fill('[data-testid="new-contact-mobile"]', MOBILE);
  await click('[data-testid="new-submit"]');
  await wd.until('detail page', async () => (await text('[data-testid="detail-name"]')) === FULL);

  await click('[data-testid="fu-plan"]');
  await wd.find('[data-testid="fu-form"]');
  // In 20 minutes (still today in the test's clock), reminded 15 minutes before.
  const at = Date.now() + 20 * 60_000;
  await setValue('[data-testid="fu-at"]', localInput(at));
  await setValue('[data-testid="fu-remind"]', '15');
  await fill('[data-testid="fu-purpose"]', '确认报价');
  await snap('followup-plan-form');
  await click('[data-testid="fu-save"]');
  const planned = await rowWith('[data-testid="timeline-item"]', '确认报价');
  assert.match(await planned.text(), /待跟进/);
  assert.match(await planned.text(), /提醒 \d{4}-\d{2}-\d{2} \d{2}:\d{2}/, 'the reminder time is shown');

  await nav('today');
  const row = await rowWith('[data-testid="today-followup"]', FULL);
  await snap('today-with-followup');
  await (await row.find('[data-testid="fu-done"]')).click();
  await fill('[data-testid="fu-result"]', RESULT);
  await snap('today-done-form');
  await click('[data-testid="fu-confirm"]');
  await wd.until('gone from Today', async () => {
    for (const r of await wd.findAll('[data-testid="today-followup"]')) if ((await r.text()).includes(FULL)) return false;
    return true;
  });

  // Open the customer from search and see the result in the timeline.
  await nav('customers');
  await fill('[data-testid="list-search"]', FULL);
  const hit = await rowWith('[data-testid="customer-row"]', FULL);
  await hit.click();
  const done = await rowWith('[data-testid="timeline-item"]', RESULT);
  assert.match(await done.text(), /已完成/);
  await scrollTo('[data-testid="followups"]');
  await snap('timeline-done');
});

/** Plan a follow-up of FULL due in 4 s and return what dbus-monitor saw of Notify calls 9 s later. */
async function remindSoon(purpose, expect) {
  // dbus-monitor on the session bus of this run (run.sh starts one) sees every Notify call.
  const mon = spawn('dbus-monitor', ['--session', "type='method_call',interface='org.freedesktop.Notifications',member='Notify'"]);
  let seen = '';
  mon.stdout.on('data', (b) => (seen += b.toString()));
  try {
    await new Promise((r) => setTimeout(r, 500));
    const found = await invoke('customer_list', { query: { text: FULL } });
    const id = found.ok.rows[0].id;
    const r = await invoke('followup_add', {
      followup: { customer: id, kind: 'visit', purpose, planned_at: Date.now() + 4000, remind_before_min: 0 },
    });
    assert.ok(!r.err, JSON.stringify(r.err));
    await wd.until(`the Notify call "${expect}"`, async () => seen.includes(expect), 20000);
    await new Promise((r) => setTimeout(r, 5000));
    return seen;
  } finally {
    mon.kill();
  }
}

step('the running app delivers a due reminder as one desktop notification', async () => {
  const title = `跟进提醒：${FULL}`;
  const seen = await remindSoon('提醒测试', title);
  assert.equal(seen.split(title).length - 1, 1, 'delivered exactly once');
  assert.match(seen, /拜访/);
});

step('postponing without a reason is refused next to the field', async () => {
  await click('[data-testid="fu-plan"]');
  await setValue('[data-testid="fu-at"]', localInput(Date.now() + 3 * 3600_000));
  await fill('[data-testid="fu-purpose"]', '送样品');
  await click('[data-testid="fu-save"]');
  const item = await rowWith('[data-testid="timeline-item"]', '送样品');
  await (await item.find('[data-testid="fu-postpone"]')).click();
  await click('[data-testid="fu-confirm"]');
  const msg = await text('[data-testid="fu-reason-error"]');
  assert.match(msg, /原因/);
  await snap('postpone-needs-reason');
  await fill('[data-testid="fu-reason"]', '临时出差');
  await click('[data-testid="fu-confirm"]');
  await rowWith('[data-testid="timeline-item"]', '临时出差');
});

step('an opportunity moves across stages with the keyboard and by drag and drop, and its time in each stage is shown', async () => {
  await nav('pipeline');
  await wd.find('[data-testid="pipe-col"]');
  await click('[data-testid="pipe-new"]');
  await fill('[data-testid="pipe-customer"]', SHORT);
  const opt = await rowWith('[data-testid="pipe-customer-option"]', FULL);
  await opt.click();
  await fill('[data-testid="pipe-name"]', OPP);
  await fill('[data-testid="pipe-amount"]', '12万');
  await click('[data-testid="pipe-save"]');
  const card = await rowWith('[data-testid="pipe-card"]', OPP);
  const id = await card.attr('data-id');
  const stageOf = () =>
    wd.exec('const c = document.querySelector(`[data-id="${arguments[0]}"]`); return c && c.closest("[data-stage]").dataset.stage;', id);
  assert.equal(await stageOf(), 'initial_contact');
  await card.click();
  await press(KEY.RIGHT);
  await wd.until('moved to needs analysis', async () => (await stageOf()) === 'needs_analysis');
  await (await wd.find(`[data-id="${id}"]`)).click();
  await press(KEY.RIGHT);
  await wd.until('moved to proposal', async () => (await stageOf()) === 'proposal');
  const rows = await wd.until('three stays', async () => {
    const r = await wd.findAll('[data-testid="pipe-history-row"]');
    return r.length === 3 ? r : null;
  });
  assert.match(await rows[0].text(), /初步接触/);
  assert.match(await rows[2].text(), /方案提供/);
  assert.match(await rows[2].text(), /当前阶段/);
  assert.match(await rows[0].text(), /分钟|小时|天/, 'time in stage is shown');
  await snap('pipeline-keyboard-moved');
  // Drag and drop (the HTML5 events a mouse drag produces) onto 商务谈判.
  await wd.exec(
    `const card = document.querySelector('[data-id="' + arguments[0] + '"]');
     const col = document.querySelector('[data-stage="negotiation"]');
     const dt = new DataTransfer();
     card.dispatchEvent(new DragEvent('dragstart', { bubbles: true, dataTransfer: dt }));
     col.dispatchEvent(new DragEvent('dragover', { bubbles: true, cancelable: true, dataTransfer: dt }));
     col.dispatchEvent(new DragEvent('drop', { bubbles: true, cancelable: true, dataTransfer: dt }));
     card.dispatchEvent(new DragEvent('dragend', { bubbles: true, dataTransfer: dt }));`,
    id,
  );
  await wd.until('dropped on negotiation', async () => (await stageOf()) === 'negotiation');
  // Back with ← .
  await (await wd.find(`[data-id="${id}"]`)).click();
  await press(KEY.LEFT);
  await wd.until('back to proposal', async () => (await stageOf()) === 'proposal');
  // Lost needs a reason.
  await setValue('[data-testid="pipe-stage-select"]', 'lost');
  await wd.find('[data-testid="pipe-lost"]');
  await click('[data-testid="pipe-lost-confirm"]');
  assert.match(await text('[data-testid="pipe-lost-error"]'), /原因/);
  await snap('pipeline-lost-needs-reason');
  await click('[data-testid="pipe-lost"] button[type="button"]');
});

step('the import template with two good rows and one bad row is previewed, imported, reported and undone', async () => {
  const file = join(dir, 'template.xlsx');
  const r = await invoke('template_save', { path: file });
  assert.ok(!r.err, JSON.stringify(r.err));
  assert.ok(existsSync(file));
  // Two good rows (the examples, with fresh names and mobiles) and one with a bad mobile.
  execFileSync('python3', [
    '-c',
    `
import openpyxl, sys
wb = openpyxl.load_workbook(sys.argv[1])
ws = wb[wb.sheetnames[0]]
head = [c.value for c in ws[1]]
col = {h: i + 1 for i, h in enumerate(head)}
ws.cell(2, col['客户名称'], '星河湾测绘科技有限公司'); ws.cell(2, col['手机'] if '手机' in col else col['联系人手机'], '13611112222')
ws.cell(3, col['客户名称'], '碧波潭物流有限公司'); ws.cell(3, col['手机'] if '手机' in col else col['联系人手机'], '13633334444')
for k, v in {'客户名称': '坏数据测试有限公司', '联系人': '赵六'}.items(): ws.cell(4, col[k], v)
ws.cell(4, col['手机'] if '手机' in col else col['联系人手机'], '12345')
wb.save(sys.argv[1])
`,
    file,
  ]);
  await nav('import');
  await fill('[data-testid="imp-path"]', file);
  await click('[data-testid="imp-preview"]');
  const counts = await wd.until('preview counts', async () => {
    const t = await text('[data-testid="imp-counts"]');
    return /共 3 行/.test(t) ? t : null;
  });
  assert.match(counts, /新建 2/);
  assert.match(counts, /有错 1/);
  const bad = await rowWith('[data-testid="imp-row"]', '坏数据测试有限公司');
  assert.match(await bad.text(), /12345/);
  // The template's example follow-ups and deal name example customers this
  // file no longer has: the preview says so before anything is written.
  assert.match(await text('[data-testid="imp-side-fails"]'), /第 2 行.*找不到客户“杭州云帆科技有限公司”/s);
  await snap('import-preview');
  await click('[data-testid="imp-run"]');
  await wd.find('[data-testid="imp-report"]');
  await wd.find('[data-testid="imp-error-report"]');
  assert.match(await text('[data-testid="imp-report"]'), /失败 1/);
  const job = await rowWith('[data-testid="imp-job"]', 'template.xlsx');
  assert.match(await job.text(), /新建 2/);
  await snap('import-done');
  const undo = await job.find('[data-testid="imp-undo"]');
  await undo.click();
  await undo.click(); // second click confirms
  await wd.until('import undone', async () => /撤销/.test(await (await rowWith('[data-testid="imp-job"]', 'template.xlsx')).text()) && !(await wd.findAll('[data-testid="imp-undo"]')).length);
  await snap('import-undone');
  // The imported customers are gone again.
  const left = await invoke('customer_list', { query: { text: '星河湾测绘' } });
  assert.equal(left.ok.total, 0);
});

step('a column the importer does not recognise is mapped by hand in the preview and imported', async () => {
  const file = join(dir, 'mapping.csv');
  writeFileSync(file, '客户名称,老板专线\n映射测试贸易有限公司,0571-88886666\n');
  await nav('import');
  await fill('[data-testid="imp-path"]', file);
  await click('[data-testid="imp-preview"]');
  await wd.until('preview of mapping.csv', async () => /共 1 行/.test(await text('[data-testid="imp-counts"]')));
  assert.equal(await wd.exec('return document.querySelector(\'[data-testid="imp-map-1"]\').value'), '');
  await setValue('[data-testid="imp-map-1"]', 'contact_phone');
  await wd.until('mapping kept after the new preview', async () =>
    (await wd.exec('return document.querySelector(\'[data-testid="imp-map-1"]\').value')) === 'contact_phone');
  await snap('import-mapping');
  await click('[data-testid="imp-run"]');
  await wd.find('[data-testid="imp-report"]');
  const found = await invoke('customer_list', { query: { text: '映射测试贸易' } });
  assert.equal(found.ok.total, 1);
  const c = await invoke('customer_get', { id: found.ok.rows[0].id });
  assert.equal(c.ok.contacts[0].phone, '0571-88886666');
});

step('typing a near-duplicate shows the hint, and Duplicates finds, merges and unmerges the pair', async () => {
  await nav('customers');
  await click('[data-testid="new-customer"]');
  await fill('[data-testid="new-name"]', SHORT);
  const hint = await wd.find('[data-testid="dup-hint"]', { timeout: 8000 });
  assert.ok((await hint.text()).includes(FULL));
  await snap('new-customer-dup-hint');
  await fill('[data-testid="new-contact-name"]', '王强');
  await fill('[data-testid="new-contact-mobile"]', MOBILE);
  await click('[data-testid="new-submit"]');
  await wd.until('detail page', async () => (await text('[data-testid="detail-name"]')) === SHORT);

  await nav('duplicates');
  await click('[data-testid="dup-scan"]');
  const group = await wd.until('the 腾云 group', async () => {
    for (const g of await wd.findAll('[data-testid="dup-group"]')) {
      const t = await g.text();
      if (t.includes(FULL) && t.replaceAll(FULL, '').includes(SHORT)) return g;
    }
    return null;
  }, 30000);
  await group.click();
  const cmp = await wd.find('[data-testid="dup-compare"]');
  const ct = await cmp.text();
  assert.match(ct, /名称|简称/);
  assert.match(ct, /手机号相同/);
  await snap('duplicates-compare');
  await click('[data-testid="dup-merge"]');
  const rec = await rowWith('[data-testid="dup-merge-record"]', SHORT);
  assert.match(await rec.text(), /合并到/);
  await snap('duplicates-merged');
  const un = await rec.find('[data-testid="dup-unmerge"]');
  await un.click();
  await un.click();
  await wd.until('unmerged', async () => /已于/.test(await (await rowWith('[data-testid="dup-merge-record"]', SHORT)).text()));
  const back = await invoke('customer_list', { query: { text: SHORT } });
  assert.ok(back.ok.total >= 2, 'both customers are back');
});

step('the matching thresholds are a setting on the Duplicates page', async () => {
  await nav('duplicates');
  await click('[data-testid="dup-settings"] summary');
  await setValue('[data-testid="dup-threshold"]', '99');
  await scrollTo('[data-testid="dup-settings-save"]');
  await snap('duplicates-settings');
  await click('[data-testid="dup-settings-save"]');
  await wd.until('threshold saved', async () => (await invoke('dedupe_settings_get', {})).ok?.threshold > 0.985);
  // Shown again when the page is opened anew.
  await nav('today');
  await nav('duplicates');
  await wd.until('the saved threshold is shown', async () => /判定重复 ≥ 99%/.test(await text('[data-testid="dup-settings"] summary')));
  // Back to the default.
  await click('[data-testid="dup-settings"] summary');
  await setValue('[data-testid="dup-threshold"]', '85');
  await click('[data-testid="dup-settings-save"]');
  await wd.until('default again', async () => Math.abs((await invoke('dedupe_settings_get', {})).ok?.threshold - 0.85) < 0.001);
});

step('the pages read well in English', async () => {
  await setLang('en');
  // Reminders follow the language chosen.
  const seen = await remindSoon('reminder in English', `Follow-up: ${FULL}`);
  assert.match(seen, /Visit/);
  await nav('today');
  await wd.until('English Today', async () => (await text('h1')) === 'Today');
  await snap('today-en');
  await nav('pipeline');
  await rowWith('[data-testid="pipe-card"]', OPP).then((c) => c.click());
  await wd.find('[data-testid="pipe-history-row"]');
  await snap('pipeline-en');
  await nav('import');
  await wd.until('English import', async () => (await text('h1')) === 'Import / Export');
  await snap('import-en');
  await nav('duplicates');
  await click('[data-testid="dup-scan"]');
  await rowWith('[data-testid="dup-group"]', SHORT).then((g) => g.click());
  await wd.find('[data-testid="dup-compare"]');
  await snap('duplicates-en');
  await nav('customers');
  await fill('[data-testid="list-search"]', FULL);
  await (await rowWith('[data-testid="customer-row"]', FULL)).click();
  await wd.find('[data-testid="timeline"]');
  await scrollTo('[data-testid="followups"]');
  await snap('timeline-en');
  await setLang('zh');
});
