// End-to-end: the daily report (日报) and the keyword cloud in the real app
// (tauri-driver + WebKitWebDriver in Xvfb, see run.sh). Own database in a
// temp dir with the demo data of the first start: the shell builds
// yesterday's report as the window opens, Today shows it, the history lists
// it, and Analysis → 关键词 draws the phrases of the follow-ups.
// Screenshots: target/e2e-shots/dNN-*.png.

import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebDriver } from './webdriver.mjs';
import { helpers } from './helpers.mjs';

const APP = process.env.KEHU_APP;
const URL = process.env.WEBDRIVER_URL ?? 'http://127.0.0.1:4444';
const SHOTS = process.env.E2E_SHOTS ?? 'target/e2e-shots';
assert.ok(APP, 'KEHU_APP must name the built kehu-desktop binary');
mkdirSync(SHOTS, { recursive: true });

const dir = mkdtempSync(join(tmpdir(), 'kehu-e2e-daily-'));
const DB = join(dir, 'kehu.db');

let wd;
const { snap, step, text, click, nav, setValue, setLang } = helpers({ prefix: 'd', shots: SHOTS, getWd: () => wd, snapDelay: 500 });
const pad = (n) => String(n).padStart(2, '0');
const day = (d) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;

/** The phrases a word-cloud chart drew: canvas sized, words laid out. */
async function cloudWords(testid) {
  return wd.until(`word cloud ${testid}`, async () =>
    wd.exec(
      `const el = document.querySelector('[data-testid="${testid}"]');
       const c = el && el.querySelector('canvas');
       if (!c || !c.width || !el.__chart) return null;
       const words = (el.__chart.getOption().series[0].data || []).map((d) => d.name);
       return words.length ? words : null;`,
    ),
  30000);
}

before(async () => {
  wd = new WebDriver(URL);
  await wd.start(APP, ['--db', DB]);
});

after(async () => {
  await wd?.quit();
  rmSync(dir, { recursive: true, force: true });
});

step("Today shows yesterday's report, built as the app started", async () => {
  await wd.find('[data-testid="today-page"]', { timeout: 30000 });
  await setLang('zh'); // the language choice outlives a test run
  await nav('today');
  const headline = await wd.until('daily report headline', async () => {
    const els = await wd.findAll('[data-testid="daily-headline"]');
    return els.length ? els[0].text() : null;
  }, 20000);
  const y = new Date();
  y.setDate(y.getDate() - 1);
  assert.match(headline, new RegExp(`^${y.getMonth() + 1}月${y.getDate()}日：团队成交 \\d+ 单，销售额 `));
  assert.match(await text('[data-testid="today-daily"] h2'), /昨日日报/);
  await snap('today-daily-card-zh');
});

step('the history lists the report and opens it with the members ranked', async () => {
  await click('[data-testid="daily-history-link"]');
  await wd.find('[data-testid="daily-page"]', { timeout: 10000 });
  assert.equal(await text('h1'), '历史日报');
  const y = new Date();
  y.setDate(y.getDate() - 1);
  const entry = await wd.find(`[data-testid="daily-entry"][data-date="${day(y)}"]`);
  assert.match(await entry.text(), /团队成交/);
  const detail = await wd.find('[data-testid="daily-detail"]', { timeout: 10000 });
  assert.match(await detail.text(), /团队[\s\S]*本月累计/);
  const rows = await wd.findAll('[data-testid="daily-detail"] tbody tr');
  assert.ok(rows.length >= 2, 'the team and at least one member');
  // Opened = seen: no 新 badge left on it.
  await wd.until('marked seen', async () => !/新/.test((await entry.text()).split('\n')[0]));
  await snap('daily-history-zh');
});

step('the keyword tab draws the phrases of the follow-ups and the needs by priority', async () => {
  await nav('analysis');
  await wd.find('[data-testid="analysis-page"]', { timeout: 20000 });
  await click('[data-testid="ana-tab-keywords"]');
  await wd.find('[data-testid="ana-keywords"]', { timeout: 30000 });
  const words = await cloudWords('kw-cloud-content');
  assert.ok(words.length >= 1, 'at least one phrase');
  assert.ok(/[\u4e00-\u9fff]/.test(words[0]), `a Chinese phrase: ${words[0]}`);
  assert.ok((await cloudWords('kw-cloud-feedback')).length >= 1, 'feedback phrases too');
  await wd.find('[data-testid="kw-needs"]');
  await snap('analysis-keywords-zh');
});

step('a period without follow-ups shows the empty state, not an empty cloud', async () => {
  await click('[data-testid="ana-period-custom"]');
  await setValue('[data-testid="ana-from"]', '2001-01-01');
  await setValue('[data-testid="ana-to"]', '2001-01-31');
  await wd.find('[data-testid="kw-empty"]', { timeout: 20000 });
  await snap('analysis-keywords-empty-zh');
  await click('[data-testid="ana-period-this_month"]');
});

step('the daily settings are kept: time and anomaly threshold', async () => {
  await nav('settings');
  const card = await wd.find('[data-testid="daily-settings"]', { timeout: 10000 });
  assert.match(await card.text(), /日报[\s\S]*生成时间[\s\S]*异常阈值/);
  await setValue('[data-testid="daily-threshold"]', '20');
  await setValue('[data-testid="daily-time"]', '07:30');
  const saved = await wd.until('settings saved', async () => {
    const r = await wd.req('POST', '/execute/async', {
      script: 'const done = arguments[arguments.length - 1]; window.__TAURI_INTERNALS__.invoke("daily_settings_get").then(done, () => done(null));',
      args: [],
    });
    return r && r.time === '07:30' && Math.abs(r.anomaly_threshold - 0.2) < 1e-9 ? r : null;
  });
  assert.equal(saved.enabled, true);
  const el = await wd.find('[data-testid="daily-settings"]');
  await wd.exec('arguments[0].scrollIntoView({ block: "center" })', { 'element-6066-11e4-a52e-4f735466cecf': el.id });
  await snap('settings-daily-zh');
});

step('segment and alert rules are edited in Settings and kept', async () => {
  await nav('settings');
  const card = await wd.find('[data-testid="rules-settings"]', { timeout: 10000 });
  assert.match(await card.text(), /客户画像与预警规则[\s\S]*建议动作[\s\S]*预警/);
  await setValue('[data-testid="rules-matching"]', '快速交付，定制');
  await setValue('[data-testid="rules-action-high_value"]', '安排专人对接');
  await setValue('[data-testid="rules-lead-owner"]', '5');
  const invoke = (cmd) =>
    wd.req('POST', '/execute/async', {
      script: `const done = arguments[arguments.length - 1]; window.__TAURI_INTERNALS__.invoke("${cmd}").then(done, () => done(null));`,
      args: [],
    });
  await wd.until('segment rules saved', async () => {
    const r = await invoke('segment_rules_get');
    return r && r.matching_tags.join('|') === '快速交付|定制' && r.actions.high_value === '安排专人对接';
  });
  await wd.until('alert thresholds saved', async () => (await invoke('alert_thresholds_get'))?.lead_owner_days === 5);
  const el = await wd.find('[data-testid="rules-settings"]');
  await wd.exec('arguments[0].scrollIntoView({ block: "center" })', { 'element-6066-11e4-a52e-4f735466cecf': el.id });
  await snap('settings-rules-zh');
  await setLang('en');
  await wd.until('english rules', async () => /Segment and alert rules/.test(await text('[data-testid="rules-settings"] h2')));
  const en = await wd.find('[data-testid="rules-settings"]');
  await wd.exec('arguments[0].scrollIntoView({ block: "center" })', { 'element-6066-11e4-a52e-4f735466cecf': en.id });
  await snap('settings-rules-en');
  await setLang('zh');
});

step('in English the card and the keyword tab speak English', async () => {
  await setLang('en');
  await nav('analysis');
  await click('[data-testid="ana-tab-keywords"]');
  await wd.until('english tab', async () => (await text('[data-testid="ana-tab-keywords"]')) === 'Keywords');
  await cloudWords('kw-cloud-content');
  await snap('analysis-keywords-en');
  await nav('today');
  await wd.until('english card', async () => /Yesterday's report/.test(await text('[data-testid="today-daily"] h2')));
  // The report was built in Chinese; it reads in English now.
  await wd.until('english headline', async () => /the team won/.test(await text('[data-testid="today-daily"]')));
  await snap('today-daily-card-en');
  await setLang('zh');
});
