// End-to-end: the Analysis page of the real app (tauri-driver +
// WebKitWebDriver in Xvfb, see run.sh). Own database in a temp dir with the
// demo data of the first start; when the kehu CLI is built beside the app,
// a team target for this month is set through it (another process writing
// the same file, as in real use). Screenshots: target/e2e-shots/aNN-*.png.

import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, mkdirSync, existsSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { WebDriver } from './webdriver.mjs';
import { helpers } from './helpers.mjs';

const APP = process.env.KEHU_APP;
const URL = process.env.WEBDRIVER_URL ?? 'http://127.0.0.1:4444';
const SHOTS = process.env.E2E_SHOTS ?? 'target/e2e-shots';
const CLI = process.env.KEHU_CLI ?? (APP ? join(dirname(APP), 'kehu') : '');
assert.ok(APP, 'KEHU_APP must name the built kehu-desktop binary');
mkdirSync(SHOTS, { recursive: true });

const dir = mkdtempSync(join(tmpdir(), 'kehu-e2e-analysis-'));
const DB = join(dir, 'kehu.db');
const EL = 'element-6066-11e4-a52e-4f735466cecf';

let wd;
// Screenshots wait 700 ms: the charts finish their (short) animation first.
// invoke asserts that the command did not fail and returns its value.
const { snap, step, text, click, nav, setValue, scrollTo, setLang, invoke } = helpers({
  prefix: 'a',
  shots: SHOTS,
  getWd: () => wd,
  snapDelay: 700,
  invokeMode: 'assert',
});
/** A chart has drawn: its canvas exists and has a size. */
async function drawn(testid) {
  return wd.until(`chart ${testid} drawn`, async () =>
    wd.exec(
      `const c = document.querySelector('[data-testid="${testid}"] canvas'); return !!c && c.width > 0 && c.height > 0;`,
    ),
  );
}
/** The page shows the figures of this tab and period (not the previous ones, still drawn while loading). */
async function shown(tab, period) {
  await wd.find(`[data-testid="analysis-page"][data-shown="${tab}:${period}"]`, { timeout: 30000 });
}
const pad = (n) => String(n).padStart(2, '0');
const day = (d) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;

before(async () => {
  wd = new WebDriver(URL);
  await wd.start(APP, ['--db', DB]);
});

after(async () => {
  await wd?.quit();
  rmSync(dir, { recursive: true, force: true });
});

step('Analysis opens from the sidebar on the dashboard of this month', async () => {
  await wd.find('[data-testid="today-page"]', { timeout: 30000 });
  await setLang('zh'); // the language choice outlives a test run
  if (CLI && existsSync(CLI)) {
    const now = new Date();
    const period = `${now.getFullYear()}-${pad(now.getMonth() + 1)}`;
    execFileSync(CLI, ['--db', DB, 'target', 'set', '--team', '--period', period, '--amount', '3000000']);
    const r = await wd.req('POST', '/execute/async', {
      script: 'const done = arguments[arguments.length - 1]; window.__TAURI_INTERNALS__.invoke("member_list").then(done, () => done([]));',
      args: [],
    });
    for (const [i, m] of r.slice(0, 3).entries()) {
      execFileSync(CLI, ['--db', DB, 'target', 'set', '--owner', m.id, '--period', period, '--amount', String(400000 + i * 300000)]);
    }
  }
  await nav('analysis');
  await wd.find('[data-testid="analysis-page"]', { timeout: 20000 });
  assert.equal(await text('h1'), '数据分析');
  await wd.find('[data-testid="ana-dashboard"]', { timeout: 20000 });
  const now = new Date();
  const first = new Date(now.getFullYear(), now.getMonth(), 1);
  assert.match(await text('[data-testid="ana-range"]'), new RegExp(`^${day(first)} – `));
  assert.match(await text('[data-testid="kpi-won"]'), /成交金额[\s\S]*¥/);
  await drawn('chart-by-owner');
  if (CLI && existsSync(CLI)) await drawn('chart-gauge');
  await snap('dashboard-this-month-zh');
  if (CLI && existsSync(CLI)) {
    const rows = await wd.until('target ranking', async () => (await wd.findAll('[data-testid="ana-ranking"] tbody tr')).length);
    assert.equal(rows, 3, 'the three members with a target are ranked');
  }
  await scrollTo('[data-testid="ana-segment"]');
  await snap('dashboard-breakdowns-segments-zh');
});

step('switching the period reloads the figures for that period', async () => {
  const before = await text('[data-testid="kpi-won"]');
  await click('[data-testid="ana-period-last_month"]');
  const now = new Date();
  const last = new Date(now.getFullYear(), now.getMonth() - 1, 1);
  const end = new Date(now.getFullYear(), now.getMonth(), 0);
  await wd.until('last month range', async () => (await text('[data-testid="ana-range"]')) === `${day(last)} – ${day(end)}`);
  await wd.until('last month figures', async () => (await text('[data-testid="kpi-won"]')) !== before);
  await snap('dashboard-last-month-zh');
  await click('[data-testid="ana-period-this_quarter"]');
  const q = new Date(now.getFullYear(), now.getMonth() - (now.getMonth() % 3), 1);
  await wd.until('quarter range', async () => (await text('[data-testid="ana-range"]')).startsWith(day(q)));
});

step('the funnels show each stage and a click on a customer stage opens the filtered list', async () => {
  await click('[data-testid="ana-tab-funnel"]');
  await wd.find('[data-testid="ana-funnels"]', { timeout: 20000 });
  await shown('funnel', 'this_quarter');
  await drawn('chart-pipeline-funnel');
  await drawn('chart-customer-funnel');
  const stages = await wd.findAll('[data-testid="pipeline-stage"]');
  assert.ok(stages.length >= 5, 'every pipeline stage has a row');
  const row = await wd.find('[data-testid="customer-stage"][data-stage="interested"]');
  const cells = (await row.text()).split(/\s+/);
  const entered = Number(cells[1]);
  assert.ok(entered > 0, `customers reached 意向 this quarter (${cells.join(' ')})`);
  await snap('funnels-quarter-zh');

  await (await row.find('button')).click();
  await wd.find('[data-testid="list-drill"]');
  assert.match(await text('[data-testid="list-drill"]'), /来自数据分析：意向客户及之后/);
  const n = await wd.until('filtered count', async () => {
    const m = /共 (\d+) 个客户/.exec(await text('[data-testid="list-count"]'));
    return m ? Number(m[1]) : null;
  });
  // The funnel counts who ever reached 意向; the list shows who is there (or won) now.
  assert.ok(n > 0 && n <= entered, `list ${n} within funnel ${entered}`);
  const statuses = await wd.exec(
    'return [...document.querySelectorAll(".badge[class*=status-]")].slice(0, 30).map((b) => b.className)',
  );
  assert.ok(statuses.length > 0);
  for (const s of statuses) assert.match(s, /status-(interested|won)/);
  await snap('customers-from-funnel-zh');

  // Clearing the chip shows everyone again.
  await click('[data-testid="list-drill"] button');
  await wd.until('unfiltered', async () => {
    const m = /共 (\d+) 个客户/.exec(await text('[data-testid="list-count"]'));
    return m && Number(m[1]) > n;
  });
});

step('coming back keeps the period and tab; a pipeline stage opens the board at that stage', async () => {
  await nav('analysis');
  await wd.find('[data-testid="ana-funnels"]', { timeout: 20000 });
  assert.match(await (await wd.find('[data-testid="ana-period-this_quarter"]')).attr('class'), /\bon\b/);
  await click('[data-testid="pipeline-stage"][data-stage="negotiation"] button');
  await wd.find('[data-testid="pipeline-page"]');
  await wd.until('focused column', async () => (await wd.findAll('[data-testid="pipe-col"][data-stage="negotiation"].focus')).length === 1);
  await snap('pipeline-from-funnel-zh');
});

step('trends by day, week and month', async () => {
  await nav('analysis');
  await click('[data-testid="ana-tab-trend"]');
  await wd.find('[data-testid="ana-trend"]');
  await drawn('chart-trend');
  assert.match(await (await wd.find('[data-testid="ana-by-week"]')).attr('class'), /\bon\b/, 'a quarter is shown by week');
  await snap('trend-amount-week-zh');
  await click('[data-testid="ana-metric-new_customers"]');
  await click('[data-testid="ana-by-day"]');
  await drawn('chart-trend');
  await snap('trend-new-customers-day-zh');
  await click('[data-testid="ana-metric-lead_conversion"]');
  await click('[data-testid="ana-by-month"]');
  await drawn('chart-trend');
  await snap('trend-conversion-month-zh');
});

step('the heatmap by industry or grade and region, as count or amount; a cell opens its customers', async () => {
  await click('[data-testid="ana-tab-heatmap"]');
  await wd.find('[data-testid="ana-heatmap"]');
  await drawn('chart-heatmap');
  await snap('heatmap-industry-count-zh');

  // Click the top-left cell (largest industry × largest region): the list
  // shows exactly the customers the cell counts.
  const cell = await wd.exec(`
    const el = document.querySelector('[data-testid="chart-heatmap"]');
    const c = el.__chart;
    const o = c.getOption();
    const v = o.series[0].data.find((d) => d[0] === 0 && d[1] === 0);
    const [x, y] = c.convertToPixel({ seriesIndex: 0 }, [0, 0]);
    return { value: v ? v[2] : null, dx: Math.round(x - el.clientWidth / 2), dy: Math.round(y - el.clientHeight / 2),
             row: o.yAxis[0].data[0], col: o.xAxis[0].data[0] };`);
  assert.ok(cell.value > 0, 'the top-left cell has customers');
  const chartEl = await wd.find('[data-testid="chart-heatmap"]');
  await wd.req('POST', '/actions', {
    actions: [
      {
        type: 'pointer',
        id: 'mouse',
        parameters: { pointerType: 'mouse' },
        actions: [
          { type: 'pointerMove', origin: { [EL]: chartEl.id }, x: cell.dx, y: cell.dy },
          { type: 'pointerDown', button: 0 },
          { type: 'pointerUp', button: 0 },
        ],
      },
    ],
  });
  await wd.req('DELETE', '/actions').catch(() => {});
  await wd.find('[data-testid="list-drill"]');
  const chip = await text('[data-testid="list-drill"]');
  assert.ok(chip.includes(cell.row) && chip.includes(cell.col), `${chip} names ${cell.row} and ${cell.col}`);
  await wd.until(`list of ${cell.value}`, async () => (await text('[data-testid="list-count"]')) === `共 ${cell.value} 个客户`);
  await snap('customers-from-heatmap-zh');
  await nav('analysis');
  await wd.find('[data-testid="ana-heatmap"]');
  await drawn('chart-heatmap');
  await click('[data-testid="ana-heat-grade"]');
  await click('[data-testid="ana-measure-won_amount"]');
  await drawn('chart-heatmap');
  await snap('heatmap-grade-amount-zh');
});

/** Click the top bar of a bar chart; returns its label and value. */
async function clickTopBar(testid) {
  const bar = await wd.exec(`
    const el = document.querySelector('[data-testid="${testid}"]');
    const c = el.__chart;
    const o = c.getOption();
    const n = o.yAxis[0].data.length;
    const v = o.series[0].data[n - 1];
    const [x, y] = c.convertToPixel({ seriesIndex: 0 }, [v / 2, n - 1]);
    return { name: o.yAxis[0].data[n - 1], value: v, dx: Math.round(x - el.clientWidth / 2), dy: Math.round(y - el.clientHeight / 2) };`);
  await pointAt(testid, bar.dx, bar.dy);
  return bar;
}
async function pointAt(testid, dx, dy) {
  const chartEl = await wd.find(`[data-testid="${testid}"]`);
  await wd.req('POST', '/actions', {
    actions: [
      {
        type: 'pointer',
        id: 'mouse',
        parameters: { pointerType: 'mouse' },
        actions: [
          { type: 'pointerMove', origin: { [EL]: chartEl.id }, x: dx, y: dy },
          { type: 'pointerDown', button: 0 },
          { type: 'pointerUp', button: 0 },
        ],
      },
    ],
  });
  await wd.req('DELETE', '/actions').catch(() => {});
}
const listCount = async () => {
  const m = /共 (\d+) 个客户/.exec(await text('[data-testid="list-count"]'));
  return m ? Number(m[1]) : null;
};
const quarterFilter = () => {
  const now = new Date();
  const q = now.getMonth() - (now.getMonth() % 3);
  return { from: new Date(now.getFullYear(), q, 1).getTime(), to: new Date(now.getFullYear(), q + 3, 1).getTime(), owner_id: null };
};

step('lead sources and loss reasons; a source bar and a loss reason open exactly their customers', async () => {
  await click('[data-testid="ana-period-this_quarter"]');
  await click('[data-testid="ana-tab-sources"]');
  await wd.find('[data-testid="ana-sources"]');
  await shown('sources', 'this_quarter');
  await drawn('chart-sources');
  await snap('sources-loss-zh');

  // The biggest source: the list shows as many customers as the bar counts.
  const src = await clickTopBar('chart-sources');
  assert.ok(src.value > 0, 'the demo data has leads with a source this quarter');
  await wd.find('[data-testid="list-drill"]');
  assert.match(await text('[data-testid="list-drill"]'), new RegExp(`来源：${src.name}`));
  await wd.until(`list of ${src.value} (${src.name})`, async () => (await listCount()) === src.value);
  await snap('customers-from-source-zh');

  // The top loss reason counts deals; its customers are what the list shows.
  await nav('analysis');
  await wd.find('[data-testid="ana-sources"]', { timeout: 20000 });
  const funnel = await invoke('analysis_pipeline_funnel', { filter: quarterFilter() });
  if (funnel.loss_reasons.length) {
    await drawn('chart-loss');
    const loss = await clickTopBar('chart-loss');
    const r = funnel.loss_reasons.find((x) => x.reason === loss.name);
    assert.ok(r, `${loss.name} is a loss reason`);
    assert.equal(loss.value, r.count);
    await wd.find('[data-testid="list-drill"]');
    assert.match(await text('[data-testid="list-drill"]'), new RegExp(`商机输单原因：${loss.name}`));
    await wd.until(`list of ${r.customers} (${loss.name})`, async () => (await listCount()) === r.customers);
    await snap('customers-from-loss-zh');
    await nav('analysis');
  }
});

step('a word of the keyword cloud opens exactly the customers whose follow-ups hold it', async () => {
  await click('[data-testid="ana-tab-keywords"]');
  await wd.find('[data-testid="ana-keywords"]', { timeout: 30000 });
  await shown('keywords', 'this_quarter');
  await drawn('kw-cloud-content');
  // The most frequent word, where the cloud drew it.
  const word = await wd.until('a word laid out', async () =>
    wd.exec(`
      const el = document.querySelector('[data-testid="kw-cloud-content"]');
      const c = el.__chart;
      const d = c.getOption().series[0].data;
      const top = d.reduce((a, b) => (b.count > a.count ? b : a));
      const i = d.indexOf(top);
      const g = c.getModel().getSeriesByIndex(0).getData().getItemGraphicEl(i);
      if (!g) return null;
      const r = g.getBoundingRect();
      const t = g.transform || [1, 0, 0, 1, g.x || 0, g.y || 0];
      const x = t[0] * (r.x + r.width / 2) + t[4];
      const y = t[3] * (r.y + r.height / 2) + t[5];
      return { name: top.name, customers: top.customers, dx: Math.round(x - el.clientWidth / 2), dy: Math.round(y - el.clientHeight / 2) };`),
  );
  assert.ok(word.customers > 0);
  await pointAt('kw-cloud-content', word.dx, word.dy);
  await wd.find('[data-testid="list-drill"]');
  assert.match(await text('[data-testid="list-drill"]'), new RegExp(`沟通内容含“${word.name}”`));
  await wd.until(`list of ${word.customers} (${word.name})`, async () => (await listCount()) === word.customers);
  await snap('customers-from-keyword-zh');
  await nav('analysis');
  await click('[data-testid="ana-period-this_month"]');
  await click('[data-testid="ana-tab-dashboard"]');
});

step('a period without data shows a friendly empty state', async () => {
  await click('[data-testid="ana-tab-dashboard"]');
  await click('[data-testid="ana-period-custom"]');
  await setValue('[data-testid="ana-from"]', '2001-01-01');
  await setValue('[data-testid="ana-to"]', '2001-01-31');
  await wd.find('[data-testid="ana-empty"]', { timeout: 20000 });
  assert.match(await text('[data-testid="ana-empty"]'), /这段时间还没有数据/);
  await snap('dashboard-empty-zh');
  // An end before the start is refused in words, not with a broken chart.
  await setValue('[data-testid="ana-to"]', '2000-12-01');
  await wd.find('[data-testid="ana-bad-period"]');
  await click('[data-testid="ana-period-this_month"]');
});

step('the report workbook is written where the save dialog says', async () => {
  // The native save dialog cannot be driven here; call the command it leads to.
  const now = new Date();
  const filter = { from: new Date(now.getFullYear(), now.getMonth(), 1).getTime(), to: new Date(now.getFullYear(), now.getMonth() + 1, 1).getTime(), owner_id: null };
  const out = join(dir, '销售报表.xlsx');
  const r = await wd.req('POST', '/execute/async', {
    script:
      'const done = arguments[arguments.length - 1]; window.__TAURI_INTERNALS__.invoke("analysis_export", arguments[0]).then((v) => done({ ok: true }), (e) => done({ err: e }));',
    args: [{ filter, path: out }],
  });
  assert.deepEqual(r, { ok: true });
  assert.ok(existsSync(out));
  assert.equal(readFileSync(out).subarray(0, 2).toString(), 'PK', 'an xlsx is a zip');
});

step('the PDF report is written where the save dialog says', async () => {
  // The button sits next to the workbook's; the dialog leads to this command.
  await wd.find('[data-testid="ana-export-pdf"]');
  const now = new Date();
  const filter = { from: new Date(now.getFullYear(), now.getMonth(), 1).getTime(), to: new Date(now.getFullYear(), now.getMonth() + 1, 1).getTime(), owner_id: null };
  const out = join(dir, '销售报告.pdf');
  const r = await wd.req('POST', '/execute/async', {
    script:
      'const done = arguments[arguments.length - 1]; window.__TAURI_INTERNALS__.invoke("analysis_export_pdf", arguments[0]).then((v) => done({ ok: true }), (e) => done({ err: e }));',
    args: [{ filter, path: out }],
  });
  assert.deepEqual(r, { ok: true });
  assert.ok(existsSync(out));
  assert.equal(readFileSync(out).subarray(0, 5).toString(), '%PDF-', 'a PDF');
});

step('a bar of the dashboard and a segment open exactly their customers', async () => {
  await click('[data-testid="ana-tab-dashboard"]');
  await click('[data-testid="ana-period-this_quarter"]');
  // The chart of this month is still drawn until the quarter's figures arrive.
  await shown('dashboard', 'this_quarter');
  await drawn('chart-by-owner');
  // The top bar: the owner with the largest won amount this quarter.
  const bar = await wd.exec(`
    const el = document.querySelector('[data-testid="chart-by-owner"]');
    const c = el.__chart;
    const o = c.getOption();
    const n = o.yAxis[0].data.length;
    const [x, y] = c.convertToPixel({ seriesIndex: 0 }, [o.series[0].data[n - 1] / 2, n - 1]);
    return { name: o.yAxis[0].data[n - 1], dx: Math.round(x - el.clientWidth / 2), dy: Math.round(y - el.clientHeight / 2) };`);
  const chartEl = await wd.find('[data-testid="chart-by-owner"]');
  await wd.req('POST', '/actions', {
    actions: [
      {
        type: 'pointer',
        id: 'mouse',
        parameters: { pointerType: 'mouse' },
        actions: [
          { type: 'pointerMove', origin: { [EL]: chartEl.id }, x: bar.dx, y: bar.dy },
          { type: 'pointerDown', button: 0 },
          { type: 'pointerUp', button: 0 },
        ],
      },
    ],
  });
  await wd.req('DELETE', '/actions').catch(() => {});
  await wd.find('[data-testid="list-drill"]');
  assert.match(await text('[data-testid="list-drill"]'), new RegExp(bar.name));
  const owners = await wd.exec('return [...document.querySelectorAll(".list-page select")].map((s) => s.options[s.selectedIndex]?.text)');
  assert.ok(owners.includes(bar.name), `the owner filter shows ${bar.name}: ${owners}`);

  await nav('analysis');
  const tile = await wd.find('[data-testid="ana-segment"][data-segment="churn_risk"]', { timeout: 20000 });
  const n = Number(await (await tile.find('.scount')).text());
  assert.ok(n > 0, 'the demo data has customers at risk');
  await tile.click();
  await wd.until(`list of ${n}`, async () => (await text('[data-testid="list-count"]')) === `共 ${n} 个客户`);
  // One of them shows the segment and its recommended action.
  await click('[data-testid="customer-row"]');
  const badge = await wd.until('segment badge', async () => {
    const all = await wd.findAll('[data-testid="detail-segment"]');
    for (const b of all) {
      const s = await b.text();
      if (s === '流失风险客户') return s;
    }
    return null;
  });
  assert.equal(badge, '流失风险客户');
  assert.match(await text('[data-testid="detail-segment-action"]'), /流失风险客户·建议：进行原因调研/);
  await snap('customer-segment-badge-zh');
  await nav('analysis');
});

step('the page speaks English', async () => {
  await setLang('en');
  await nav('analysis');
  await wd.until('English title', async () => (await text('h1')) === 'Analysis');
  await wd.find('[data-testid="ana-dashboard"]', { timeout: 20000 });
  await drawn('chart-by-owner');
  await snap('dashboard-en');
  await click('[data-testid="ana-tab-funnel"]');
  await drawn('chart-customer-funnel');
  await snap('funnels-en');
  await setLang('zh');
});
