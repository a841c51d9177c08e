// Optional (E2E_BIG=N in run.sh): the customer list over a big database.
// Jumps deep into the list and scrolls continuously; reports how long rows
// take to appear and the frame gaps while scrolling (diagnostics, not
// timed assertions). Asserts only that the right rows get rendered.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { WebDriver } from './webdriver.mjs';

const APP = process.env.KEHU_APP;
const DB = process.env.E2E_BIG_DB;
const URL = process.env.WEBDRIVER_URL ?? 'http://127.0.0.1:4444';
const SHOTS = process.env.E2E_SHOTS ?? 'target/e2e-shots';
let wd;

before(async () => {
  wd = new WebDriver(URL);
  const t0 = Date.now();
  await wd.start(APP, ['--db', DB]);
  // The app opens on Today (shown once its figures are there); the
  // customer list is one click away.
  await wd.find('[data-testid="today-page"] .stats', { timeout: 30000 });
  console.log(`# big: session start (process launch) to Today shown: ${Date.now() - t0} ms`);
  const t1 = Date.now();
  await (await wd.find('[data-testid="nav-customers"]')).click();
  await wd.until('list', async () => /\d/.test(await (await wd.find('[data-testid="list-count"]')).text()), 30000);
  console.log(`# big: click on Customers to the first list page shown: ${Date.now() - t1} ms`);
  console.log(`# big: session start to customer list shown: ${Date.now() - t0} ms`);
  console.log(`# big: page load to first list page: ${Math.round(await wd.exec('return window.__kehuFirstList'))} ms`);
});

after(async () => wd?.quit());

test('rows deep in a big list are fetched and rendered where they belong', async () => {
  const total = await wd.exec(
    'return Number(document.querySelector("[data-testid=list-count]").innerText.replace(/[^0-9]/g, ""))',
  );
  assert.ok(total >= 10000, `a big list (${total})`);
  for (const frac of [0.5, 0.99, 0.25]) {
    const target = Math.floor(total * frac);
    const t0 = Date.now();
    await wd.exec(
      'const s = document.querySelector("[data-testid=list-scroller]"); s.scrollTop = arguments[0] * 44; s.dispatchEvent(new Event("scroll"));',
      target,
    );
    await wd.until(`row ${target}`, () => wd.exec('return !!document.querySelector(`[data-index="${arguments[0]}"][data-code]`)', target), 15000);
    console.log(`# big: jump to row ${target}: rendered in ${Date.now() - t0} ms`);
  }
  await wd.screenshot(join(SHOTS, 'big-list-deep.png'));
});

test('continuous scrolling keeps the DOM small', async () => {
  const r = await wd.req('POST', '/execute/async', {
    script: `const done = arguments[arguments.length - 1];
      const s = document.querySelector('[data-testid=list-scroller]');
      const gaps = []; let last = performance.now(); let n = 0; let maxRows = 0;
      function step(now) {
        gaps.push(now - last); last = now;
        s.scrollTop += 220;
        maxRows = Math.max(maxRows, document.querySelectorAll('[data-testid=customer-row]').length);
        if (++n < 240) requestAnimationFrame(step);
        else { gaps.sort((a, b) => a - b); done({ p50: gaps[gaps.length >> 1], p95: gaps[Math.floor(gaps.length * 0.95)], maxRows }); }
      }
      requestAnimationFrame(step);`,
    args: [],
  });
  console.log(`# big: frame gap while scrolling p50 ${r.p50.toFixed(1)} ms, p95 ${r.p95.toFixed(1)} ms; rows in DOM ≤ ${r.maxRows}`);
  assert.ok(r.maxRows < 80, `rendered rows stay bounded (${r.maxRows})`);
});

test('alerts raised in the background after a big load reach Today', async () => {
  // Today showed at once with the stored alerts (none, on a fresh load);
  // the first evaluation runs beside the window and Today shows its result.
  await (await wd.find('[data-testid="nav-today"]')).click();
  const t0 = Date.now();
  const h = await wd.until(
    'alerts on Today',
    async () => {
      const h = await wd.exec('const e = document.querySelector("[data-testid=today-alerts] h2"); return e ? e.innerText : ""');
      return /·\s*[1-9]/.test(h) ? h : null;
    },
    30000,
  );
  console.log(`# big: alerts on Today (${h}), ${Date.now() - t0} ms after returning to it`);
  // Totals stop at 1000 so the page stays fast; that many reads "1000+".
  const n = Number(/·\s*(\d+)/.exec(h)[1]);
  if (n >= 1000) assert.match(h, /1000\+/);
  await wd.screenshot(join(SHOTS, 'big-today.png'));
});
