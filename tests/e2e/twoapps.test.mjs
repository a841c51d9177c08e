// End-to-end: two app instances side by side on two workspaces sharing one
// folder, as two colleagues' computers: A starts a team, B joins it in its
// own window; a customer created in A appears in B; both change the same
// field before syncing and the conflict shows with both values. A second
// launch on A's database only hands over to the running window (one
// instance per workspace). Two tauri-drivers: the one run.sh started, and
// one this file starts on free ports.
// Screenshots: target/e2e-shots/tNN-*.png.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, mkdirSync, existsSync, writeFileSync } from 'node:fs';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { WebDriver } from './webdriver.mjs';
import { snapper, text, click, fill, invoke } from './helpers.mjs';

const APP = process.env.KEHU_APP;
const URL = process.env.WEBDRIVER_URL ?? 'http://127.0.0.1:4444';
const SHOTS = process.env.E2E_SHOTS ?? 'target/e2e-shots';
const CLI = process.env.KEHU_CLI ?? (APP ? join(dirname(APP), 'kehu') : '');
assert.ok(APP, 'KEHU_APP must name the built kehu-desktop binary');
assert.ok(CLI && existsSync(CLI), `the kehu CLI must be built beside the app (${CLI})`);
mkdirSync(SHOTS, { recursive: true });

const dir = mkdtempSync(join(tmpdir(), 'kehu-e2e-two-'));
const DB_A = join(dir, 'a', 'kehu.db');
const DB_B = join(dir, 'b', 'kehu.db');
const SHARED = join(dir, 'shared');
mkdirSync(SHARED);
const NAME = '双窗口测试精工有限公司';

const freePort = () =>
  new Promise((res) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
const answers = (port) =>
  new Promise((res) => connect(port, '127.0.0.1').on('connect', function () { this.destroy(); res(true); }).on('error', () => res(false)));

let a;
let b;
let driver2;
// Two windows: the helpers take the WebDriver (a or b) first; one numbering
// of screenshots for both.
const snap = snapper({ prefix: 't', shots: SHOTS, delay: 400 });
async function findCustomer(wd, name) {
  const page = await invoke(wd, 'customer_list', { query: { text: name, limit: 5 } });
  return page.rows.find((r) => r.name === name) ?? null;
}

function step(name, fn) {
  test(name, async () => {
    try {
      await fn();
    } catch (e) {
      for (const [w, n] of [[a, 'A'], [b, 'B']]) await snap(w, `FAILED-${n}-` + name.replace(/[^A-Za-z0-9]+/g, '-').slice(0, 30)).catch(() => {});
      throw e;
    }
  });
}

before(async () => {
  // Each workspace starts with one customer of its own (no demo data).
  execFileSync(CLI, ['--db', DB_A, 'customer', 'add', '--name', '甲电脑的客户']);
  execFileSync(CLI, ['--db', DB_A, 'device', 'rename', '甲的电脑']);
  execFileSync(CLI, ['--db', DB_B, 'customer', 'add', '--name', '乙电脑的客户']);
  execFileSync(CLI, ['--db', DB_B, 'device', 'rename', '乙的电脑']);
  const port = await freePort();
  let native = await freePort();
  while (native === port) native = await freePort();
  driver2 = spawn('tauri-driver', ['--port', String(port), '--native-port', String(native), '--native-driver', '/usr/bin/WebKitWebDriver'], {
    stdio: 'ignore',
  });
  const t0 = Date.now();
  while (!(await answers(port))) {
    assert.ok(Date.now() - t0 < 20000, 'second tauri-driver did not start');
    await new Promise((r) => setTimeout(r, 100));
  }
  a = new WebDriver(URL);
  await a.start(APP, ['--db', DB_A]);
  b = new WebDriver(`http://127.0.0.1:${port}`);
  await b.start(APP, ['--db', DB_B]);
  // Side by side on the screen (screenshots show the window in front).
  await a.req('POST', '/window/rect', { x: 0, y: 0, width: 720, height: 900 }).catch(() => {});
  await b.req('POST', '/window/rect', { x: 720, y: 0, width: 720, height: 900 }).catch(() => {});
});

after(async () => {
  await a?.quit();
  await b?.quit();
  driver2?.kill();
  rmSync(dir, { recursive: true, force: true });
});

step('two workspaces run side by side; a second launch on the same one hands over', async () => {
  await a.find('[data-testid="today-page"]', { timeout: 30000 });
  await b.find('[data-testid="today-page"]', { timeout: 30000 });
  // The same database again: it finds the running window and ends.
  const again = spawnSync(APP, ['--db', DB_A], { timeout: 30000, env: { ...process.env, KEHU_NO_TRAY: '1' } });
  assert.equal(again.error, undefined, 'the second launch ended by itself');
  assert.equal(again.status, 0);
  // Both windows still answer.
  assert.ok(await findCustomer(a, '甲电脑的客户'));
  assert.ok(await findCustomer(b, '乙电脑的客户'));
});

step('A starts a team in the shared folder; B joins it in its own window', async () => {
  await click(a, '[data-testid="nav-sync"]');
  await fill(a, '[data-testid="sync-folder"]', SHARED);
  await click(a, '[data-testid="sync-test"]');
  await a.until('tested', async () => /可以读写/.test(await text(a, '[data-testid="sync-check"]')));
  await click(a, '[data-testid="sync-encrypt"]');
  await fill(a, '[data-testid="sync-team-name"]', '双机团队');
  await click(a, '[data-testid="sync-create"]');
  await a.find('[data-testid="sync-status"]', { timeout: 20000 });
  await click(b, '[data-testid="nav-sync"]');
  await fill(b, '[data-testid="sync-folder"]', SHARED);
  await click(b, '[data-testid="sync-test"]');
  await b.until('team listed', async () => /找到 1 个团队/.test(await text(b, '[data-testid="sync-check"]')));
  await click(b, '[data-testid="sync-join"]');
  await b.find('[data-testid="sync-status"]', { timeout: 20000 });
  await b.until('A’s customer in B', () => findCustomer(b, '甲电脑的客户'), 20000);
  await a.until('B’s customer in A', () => findCustomer(a, '乙电脑的客户'), 30000);
});

step('a customer created in A appears in B', async () => {
  await invoke(a, 'customer_create', { customer: { name: NAME, grade: 'C' } });
  // A sends (the button), B merges it by itself when the folder changes.
  await click(a, '[data-testid="sync-now"]');
  await a.until('A sent', async () => (await text(a, '[data-testid="sync-pending"]')) === '0 条', 20000);
  const row = await b.until('arrived in B', () => findCustomer(b, NAME), 30000);
  assert.equal(row.grade, 'C');
  await click(b, '[data-testid="nav-customers"]');
  await fill(b, '[data-testid="list-search"]', '双窗口');
  await b.until('B’s list shows it', async () => {
    const rows = await b.findAll('[data-testid="customer-row"]');
    return rows.length === 1 && (await rows[0].text()).includes(NAME);
  });
  await snap(b, 'b-has-a-customer-zh');
});

step('both change the same field before syncing: the conflict shows with both values', async () => {
  // No automatic rounds while both edit.
  for (const w of [a, b]) await invoke(w, 'sync_auto_set', { auto: { enabled: false, interval_min: 5 } });
  const id = (await findCustomer(a, NAME)).id;
  await invoke(a, 'customer_update', { id, patch: { grade: 'A' } });
  await invoke(b, 'customer_update', { id, patch: { grade: 'B' } });
  await click(a, '[data-testid="nav-sync"]');
  await click(b, '[data-testid="nav-sync"]');
  await click(a, '[data-testid="sync-now"]');
  await a.until('A sent', async () => (await text(a, '[data-testid="sync-pending"]')) === '0 条', 20000);
  await click(b, '[data-testid="sync-now"]');
  await click(a, '[data-testid="sync-now"]').catch(() => {});
  for (const [w, n] of [[a, 'a'], [b, 'b']]) {
    const row = await w.until(`conflict in ${n}`, async () => {
      await click(w, '[data-testid="sync-now"]').catch(() => {});
      const rows = await w.findAll('[data-testid="sync-conflict"]');
      return rows.length === 1 ? rows[0] : null;
    }, 30000);
    const line = await row.text();
    assert.match(line, new RegExp(NAME));
    assert.match(line, /改为 A/);
    assert.match(line, /改为 B/);
    await snap(w, `conflict-${n}-zh`);
  }
  // Both end with the same value.
  const ga = (await findCustomer(a, NAME)).grade;
  const gb = (await findCustomer(b, NAME)).grade;
  assert.equal(ga, gb);
});
