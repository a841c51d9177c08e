// End-to-end: team sync between the real app (device A, its own workspace)
// and a second device B (the `kehu` CLI on another workspace), through one
// shared folder, as two colleagues would use it:
//   A starts a team on the Sync page → B joins with `kehu sync join` →
//   a customer B adds arrives in A by itself (the folder watcher) →
//   an edit in A goes out by itself (the edit debounce) →
//   A and B change the same field at the same time → A's Conflicts list
//   and the customer's page show both values → 采用对方的值 → B gets it →
//   a third computer (the app on workspace C) joins on the Sync page →
//   the folder goes away (clear message, local work goes on) and comes back →
//   changes made while the app was closed arrive at the next start.
// Screenshots: target/e2e-shots/sNN-*.png.

import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, mkdirSync, existsSync, renameSync, writeFileSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { execFileSync, spawn } from 'node:child_process';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { WebDriver } from './webdriver.mjs';
import { helpers } from './helpers.mjs';

const APP = process.env.KEHU_APP;
const URL = process.env.WEBDRIVER_URL ?? 'http://127.0.0.1:4444';
const SHOTS = process.env.E2E_SHOTS ?? 'target/e2e-shots';
const CLI = process.env.KEHU_CLI ?? (APP ? join(dirname(APP), 'kehu') : '');
assert.ok(APP, 'KEHU_APP must name the built kehu-desktop binary');
assert.ok(CLI && existsSync(CLI), `the kehu CLI must be built beside the app (${CLI})`);
mkdirSync(SHOTS, { recursive: true });

const dir = mkdtempSync(join(tmpdir(), 'kehu-e2e-sync-'));
const DB_A = join(dir, 'a.db');
const DB_B = join(dir, 'b.db');
const DB_C = join(dir, 'c.db');
const SHARED = join(dir, 'shared');
mkdirSync(SHARED);

const DB_D = join(dir, 'd.db');
const DB_E = join(dir, 'e.db');
const FROM_A = '临港甲方精密机械有限公司';
const FROM_B = '北辰乙方软件科技有限公司';

/** Device B: the kehu CLI on its own workspace; `--json` output parsed. */
function b(...args) {
  const out = execFileSync(CLI, ['--db', DB_B, '--json', ...args], { encoding: 'utf8', env: { ...process.env, KEHU_LANG: 'zh' } });
  return out.trim() ? JSON.parse(out) : null;
}

let wd;
// invoke returns the command's value and throws on an error.
const { snap, step, text, click, nav, fill, setValue, invoke, setLang } = helpers({
  prefix: 's',
  shots: SHOTS,
  getWd: () => wd,
  snapDelay: 400,
  invokeMode: 'unwrap',
});
async function findCustomer(name) {
  const page = await invoke('customer_list', { query: { text: name, limit: 5 } });
  return page.rows.find((r) => r.name === name) ?? null;
}

before(async () => {
  // A's workspace holds one customer of its own (and so no demo data).
  execFileSync(CLI, ['--db', DB_A, 'customer', 'add', '--name', FROM_A, '--grade', 'B', '--status', 'interested']);
  execFileSync(CLI, ['--db', DB_A, 'device', 'rename', '王芳的笔记本']);
  b('device', 'rename', '李强的台式机');
  wd = new WebDriver(URL);
  await wd.start(APP, ['--db', DB_A]);
});

after(async () => {
  await wd?.quit();
  dav?.kill();
  rmSync(dir, { recursive: true, force: true });
});

step('the Sync page tests the shared folder and starts a team', async () => {
  await wd.find('[data-testid="today-page"]', { timeout: 30000 });
  await setLang('zh');
  await nav('sync');
  await wd.find('[data-testid="sync-page"]');
  assert.equal(await text('h1'), '团队同步');
  // A folder that is not there is named as such.
  await fill('[data-testid="sync-folder"]', join(dir, 'missing'));
  await click('[data-testid="sync-test"]');
  await wd.until('missing folder reported', async () => /找不到文件夹/.test(await text('[data-testid="sync-check"]')));
  assert.equal(await (await wd.find('[data-testid="sync-create"]')).prop('disabled'), true);
  await fill('[data-testid="sync-folder"]', SHARED);
  await click('[data-testid="sync-test"]');
  await wd.until('folder tested', async () => /可以读写[\s\S]*还没有团队/.test(await text('[data-testid="sync-check"]')));
  await fill('[data-testid="sync-team-name"]', '华东销售部');
  // Encryption is proposed by default: it asks for a passphrase twice.
  assert.equal(await (await wd.find('[data-testid="sync-encrypt"]')).prop('checked'), true);
  assert.match(await text('[data-testid="sync-encrypt-hint"]'), /口令忘记后无法找回/);
  await snap('sync-setup-zh');
  await click('[data-testid="sync-create"]');
  await wd.until('passphrase asked', async () => /口令至少 8 个字符/.test(await text('[data-testid="sync-setup-error"]')));
  // This team (the CLI joins it below) goes without.
  await click('[data-testid="sync-encrypt"]');
  await click('[data-testid="sync-create"]');
  const status = await wd.find('[data-testid="sync-status"]', { timeout: 20000 });
  assert.match(await status.text(), /王芳的笔记本/);
  assert.equal(await text('[data-testid="sync-pending"]'), '0 条', 'A’s customer went out in the first round');
  await wd.until('watching the folder', async () => /正在监视共享文件夹/.test(await text('[data-testid="sync-status"]')), 10000);
});

step('a second device joins with the CLI and gets A’s customer', async () => {
  const joined = b('sync', 'join', '--folder', SHARED);
  assert.ok(joined.report.applied > 0, JSON.stringify(joined.report));
  const list = b('customer', 'list', '--query', FROM_A);
  const rows = list.rows ?? list;
  assert.equal(rows.length, 1, JSON.stringify(list));
});

step('a customer added on B appears in the app by itself (folder watcher)', async () => {
  b('customer', 'add', '--name', FROM_B, '--grade', 'C', '--mobile', '13912345678');
  b('sync', 'now');
  const row = await wd.until('B’s customer in A', () => findCustomer(FROM_B), 20000);
  assert.equal(row.grade, 'C');
  // The round that brought it was started by the folder changing.
  await wd.until('round by the watcher', async () => /共享文件夹有新文件/.test(await text('[data-testid="sync-last-round"]')), 10000);
  await wd.until('B in the devices list', async () => /李强的台式机/.test(await text('[data-testid="sync-devices"]')), 10000);
  await snap('sync-status-after-b-zh');
  // The open customer list shows it too.
  await nav('customers');
  await fill('[data-testid="list-search"]', '北辰乙方');
  await wd.until('list shows B’s customer', async () => {
    const rows = await wd.findAll('[data-testid="customer-row"]');
    return rows.length === 1 && (await rows[0].text()).includes(FROM_B);
  });
  await snap('customers-with-b-zh');
});

step('A and B change the same field at once: a conflict with both values', async () => {
  const row = await findCustomer(FROM_B);
  // A: grade A (goes out by itself, a few seconds after the edit).
  await invoke('customer_update', { id: row.id, patch: { grade: 'A' } });
  // B, not having seen it: grade B.
  b('customer', 'edit', row.code, '--grade', 'B');
  await nav('sync');
  await wd.until('A’s edit sent by itself', async () => (await text('[data-testid="sync-pending"]')) === '0 条', 20000);
  assert.match(await text('[data-testid="sync-last-round"]'), /本机修改后/);
  // B syncs: it sees A's edit, and A sees B's (by the watcher or the button).
  const rb = b('sync', 'now');
  assert.equal(rb.conflicts, 1, JSON.stringify(rb));
  await click('[data-testid="sync-now"]');
  const conflict = await wd.until('the conflict in the list', async () => {
    const rows = await wd.findAll('[data-testid="sync-conflict"]');
    return rows.length === 1 ? rows[0] : null;
  }, 20000);
  const line = await conflict.text();
  assert.match(line, new RegExp(FROM_B));
  assert.match(line, /客户等级/);
  assert.match(line, /李强的台式机 改为 B/);
  assert.match(line, /本机 改为 A/);
  assert.equal(await text('[data-testid="nav-sync-conflicts"]'), '1', 'the sidebar counts it');
  await snap('sync-conflict-zh');
});

step('the customer’s page shows the conflict; 采用对方的值 takes A’s value and B gets it', async () => {
  await click('[data-testid="sync-conflict-customer"]');
  const box = await wd.find('[data-testid="customer-conflicts"]', { timeout: 10000 });
  assert.match(await box.text(), /李强的台式机 改为 B[\s\S]*本机 改为 A/);
  assert.match(await text('[data-testid="value-grade"]'), /B/);
  await snap('customer-conflict-zh');
  await click('[data-testid="customer-conflict-take"]');
  await wd.until('grade A again', async () => /A/.test(await text('[data-testid="value-grade"]')));
  await wd.until('conflict gone', async () => (await wd.findAll('[data-testid="customer-conflicts"]')).length === 0);
  await wd.until('badge gone', async () => (await wd.findAll('[data-testid="nav-sync-conflicts"]')).length === 0);
  // The taken value is a new change: it goes out and B merges it.
  await nav('sync');
  await wd.until('sent', async () => (await text('[data-testid="sync-pending"]')) === '0 条', 20000);
  b('sync', 'now');
  const shown = b('customer', 'show', (await findCustomer(FROM_B)).code);
  const grade = shown.grade ?? shown.customer?.grade;
  assert.equal(grade, 'A', JSON.stringify(shown).slice(0, 300));
  await wd.find('[data-testid="sync-conflicts-none"]');
});

step('the Sync page in English', async () => {
  await setLang('en');
  await nav('sync');
  await wd.until('english', async () => (await text('h1')) === 'Team sync');
  // Show the resolved conflict too, so the table is in the picture.
  await click('[data-testid="sync-conflicts"] input[type="checkbox"]');
  await wd.until('resolved row', async () => (await wd.findAll('[data-testid="sync-conflict"]')).length === 1);
  assert.match(await text('[data-testid="sync-conflict"]'), /李强的台式机 set B[\s\S]*this computer set A[\s\S]*Resolved/);
  await snap('sync-status-en');
  const devices = await wd.find('[data-testid="sync-auto"]');
  await wd.exec('arguments[0].scrollIntoView({ block: "end" })', { 'element-6066-11e4-a52e-4f735466cecf': devices.id });
  await snap('sync-devices-en');
  await setLang('zh');
});

step('the timer interval is this computer’s setting, checked and kept', async () => {
  await nav('sync');
  await setValue('[data-testid="sync-interval"]', '0');
  await wd.until('refused', async () => /1 到 1440 分钟/.test(await text('[data-testid="sync-auto"]')));
  await setValue('[data-testid="sync-interval"]', '15');
  const saved = await wd.until('saved', async () => {
    const o = await invoke('sync_overview');
    return o.auto.interval_min === 15 ? o : null;
  });
  assert.equal(saved.auto.enabled, true);
  // The device name the team sees.
  await click('[data-testid="sync-rename"]');
  await fill('[data-testid="sync-device-name"]', '王芳的新笔记本');
  await click('[data-testid="sync-device-save"]');
  await wd.until('renamed', async () => /王芳的新笔记本/.test(await text('[data-testid="sync-status"]')));
  await wd.until('B sees the new name', async () => {
    b('sync', 'now');
    return b('sync', 'status').peers.some((p) => p.name === '王芳的新笔记本');
  }, 15000);
});

step('a third computer joins in the app: the team is listed and both customers arrive', async () => {
  await wd.quit();
  execFileSync(CLI, ['--db', DB_C, 'customer', 'add', '--name', '第三台电脑的客户']);
  wd = new WebDriver(URL);
  await wd.start(APP, ['--db', DB_C]);
  await wd.find('[data-testid="today-page"]', { timeout: 30000 });
  await nav('sync');
  await fill('[data-testid="sync-folder"]', SHARED);
  await click('[data-testid="sync-test"]');
  await wd.until('team listed', async () => /找到 1 个团队/.test(await text('[data-testid="sync-check"]')));
  const team = await text('[data-testid="sync-join-team"]');
  assert.match(team, /华东销售部[\s\S]*2 台设备/);
  await snap('sync-join-zh');
  await click('[data-testid="sync-join"]');
  await wd.find('[data-testid="sync-status"]', { timeout: 20000 });
  assert.match(await text('[data-testid="sync-team"]'), /华东销售部/);
  for (const name of [FROM_A, FROM_B]) {
    await wd.until(`${name} in C`, () => findCustomer(name), 10000);
  }
  assert.equal((await findCustomer(FROM_B)).grade, 'A', 'the value taken on A');
  // And C's own customer reaches B.
  await wd.until('C sent its changes', async () => (await text('[data-testid="sync-pending"]')) === '0 条', 10000);
  b('sync', 'now');
  const list = b('customer', 'list', '--query', '第三台电脑');
  assert.equal((list.rows ?? list).length, 1);
  await snap('sync-joined-zh');
});

step('a shared folder that went away gets a clear message; local work goes on and syncs later', async () => {
  renameSync(SHARED, SHARED + '-away');
  try {
    await click('[data-testid="sync-now"]');
    await wd.until('failure shown', async () => /找不到共享文件夹/.test(await text('[data-testid="sync-last-round"]')), 15000);
    // A background round may be under way (同步中…) before it fails the same way.
    await wd.until('failed in the header', async () => /同步失败/.test(await text('.page-head')), 15000);
    // Local work is not blocked.
    await invoke('customer_create', { customer: { name: '离线时新增的客户' } });
    await wd.until('pending', async () => (await text('[data-testid="sync-pending"]')) !== '0 条', 10000);
    await snap('sync-folder-missing-zh');
  } finally {
    renameSync(SHARED + '-away', SHARED);
  }
  await click('[data-testid="sync-now"]');
  await wd.until('sent once back', async () => (await text('[data-testid="sync-pending"]')) === '0 条', 15000);
  assert.doesNotMatch(await text('[data-testid="sync-last-round"]'), /找不到/);
  b('sync', 'now');
  assert.equal((b('customer', 'list', '--query', '离线时新增').rows ?? []).length, 1);
});

step('changes made while the app was closed arrive at the next start, without a click', async () => {
  await wd.quit();
  b('customer', 'add', '--name', '关机期间新增的客户');
  b('sync', 'now');
  wd = new WebDriver(URL);
  await wd.start(APP, ['--db', DB_C]);
  await wd.find('[data-testid="today-page"]', { timeout: 30000 });
  await wd.until('arrived at start', () => findCustomer('关机期间新增的客户'), 20000);
  await nav('sync');
  assert.match(await text('[data-testid="sync-last-round"]'), /启动时/);
});

// ---- WebDAV with a team passphrase (end-to-end encryption) -------------
// A real WebDAV server (wsgidav, as tests/sync_transport.rs uses) on
// loopback. Device E (the CLI) starts an encrypted team there; the app on a
// fourth workspace D joins it from the Sync page.

const DAV_USER = 'alice';
const DAV_PASSWORD = 'webdav-app-pw-2026';
const TEAM_PASS = '云杉 团队口令 2026';
const FROM_E = '西湖丙方数据服务有限公司';
const DAV_ROOT = join(dir, 'dav-root');
let dav = null;
let davUrl = '';

const freePort = () =>
  new Promise((res) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
const answers = (port) =>
  new Promise((res) => connect(port, '127.0.0.1').on('connect', function () { this.destroy(); res(true); }).on('error', () => res(false)));

/** Every file under `d`, recursively. */
function filesUnder(d) {
  return readdirSync(d).flatMap((n) => {
    const p = join(d, n);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

step('WebDAV: the app tests the server, names refused credentials and an unreachable server', async () => {
  mkdirSync(DAV_ROOT);
  const port = await freePort();
  const conf = join(dir, 'wsgidav.json');
  writeFileSync(
    conf,
    JSON.stringify({
      host: '127.0.0.1',
      port,
      provider_mapping: { '/dav': DAV_ROOT },
      simple_dc: { user_mapping: { '*': { [DAV_USER]: { password: DAV_PASSWORD } } } },
      http_authenticator: { accept_basic: true, accept_digest: false, default_to_digest: false },
      verbose: 1,
    }),
  );
  dav = spawn('python3', ['-m', 'wsgidav.server.server_cli', '--config', conf], { stdio: 'ignore' });
  const t0 = Date.now();
  while (!(await answers(port))) {
    assert.ok(dav.exitCode === null, 'wsgidav exited: run scripts/install-deps.sh');
    assert.ok(Date.now() - t0 < 60000, 'wsgidav did not answer within 60 s');
    await new Promise((r) => setTimeout(r, 100));
  }
  davUrl = `http://127.0.0.1:${port}/dav/`;
  // E starts an encrypted team on the server with one customer.
  const envE = { ...process.env, KEHU_LANG: 'zh', KEHU_SECRET_STORE: 'file', KEHU_WEBDAV_PASSWORD: DAV_PASSWORD, TEAM_PASS };
  execFileSync(CLI, ['--db', DB_E, 'customer', 'add', '--name', FROM_E, '--mobile', '13700001111'], { env: envE });
  execFileSync(CLI, ['--db', DB_E, 'sync', 'init', '--webdav', davUrl, '--user', DAV_USER, '--name', '杭州团队', '--passphrase-env', 'TEAM_PASS'], { env: envE });
  execFileSync(CLI, ['--db', DB_E, 'sync', 'now'], { env: envE });

  await wd.quit();
  execFileSync(CLI, ['--db', DB_D, 'customer', 'add', '--name', '第四台电脑的客户']);
  wd = new WebDriver(URL);
  await wd.start(APP, ['--db', DB_D]);
  await wd.find('[data-testid="today-page"]', { timeout: 30000 });
  await nav('sync');
  await click('[data-testid="sync-kind-webdav"]');
  await fill('[data-testid="sync-dav-url"]', davUrl);
  await fill('[data-testid="sync-dav-user"]', DAV_USER);
  await fill('[data-testid="sync-dav-password"]', 'not-the-password');
  await click('[data-testid="sync-test"]');
  await wd.until('credentials refused', async () => /拒绝了用户名或密码/.test(await text('[data-testid="sync-check"]')), 15000);
  assert.doesNotMatch(await text('[data-testid="sync-page"]'), /not-the-password/, 'the password is never shown');
  await snap('sync-webdav-refused-zh');
  // Nothing listens on the port next to it.
  const closed = await freePort();
  await fill('[data-testid="sync-dav-url"]', `http://127.0.0.1:${closed}/dav/`);
  await click('[data-testid="sync-test"]');
  await wd.until('unreachable', async () => /无法连接同步服务器/.test(await text('[data-testid="sync-check"]')), 15000);
  await snap('sync-webdav-unreachable-zh');
});

step('WebDAV: a wrong team passphrase gets a clear message; the right one joins and E’s customer arrives', async () => {
  await fill('[data-testid="sync-dav-url"]', davUrl);
  await fill('[data-testid="sync-dav-password"]', DAV_PASSWORD);
  await click('[data-testid="sync-test"]');
  await wd.until('team found', async () => /连接成功[\s\S]*找到 1 个团队/.test(await text('[data-testid="sync-check"]')), 15000);
  assert.match(await text('[data-testid="sync-join-team"]'), /已加密/);
  await fill('[data-testid="sync-join-passphrase"]', '错误的口令 123');
  await click('[data-testid="sync-join"]');
  await wd.until('wrong passphrase', async () => /团队口令不正确/.test(await text('[data-testid="sync-setup-error"]')), 20000);
  assert.equal((await invoke('sync_overview')).status.configured, false, 'nothing was set up');
  await snap('sync-webdav-wrong-passphrase-zh');
  await fill('[data-testid="sync-join-passphrase"]', TEAM_PASS);
  await click('[data-testid="sync-join"]');
  await wd.find('[data-testid="sync-status"]', { timeout: 30000 });
  assert.match(await text('[data-testid="sync-status-folder"]'), new RegExp(`127\\.0\\.0\\.1:\\d+/dav/ \\(${DAV_USER}\\)`));
  assert.match(await text('[data-testid="sync-status-e2e"]'), /已开启/);
  await wd.until('E’s customer in D', () => findCustomer(FROM_E), 15000);
  await wd.until('D sent its changes', async () => (await text('[data-testid="sync-pending"]')) === '0 条', 15000);
  await snap('sync-webdav-joined-zh');
  // The server holds only ciphertext: no customer name in any file.
  const files = filesUnder(DAV_ROOT);
  assert.ok(files.length > 3, files.join('\n'));
  for (const f of files) {
    const bytes = readFileSync(f);
    for (const name of [FROM_E, '第四台电脑的客户', '杭州团队']) {
      assert.equal(bytes.includes(Buffer.from(name)), false, `${name} in clear in ${f}`);
    }
  }
  // The password is not in the database.
  assert.equal(readFileSync(DB_D).includes(Buffer.from(DAV_PASSWORD)), false);
  // And D's customer reaches E.
  execFileSync(CLI, ['--db', DB_E, 'sync', 'now'], { env: { ...process.env, KEHU_SECRET_STORE: 'file' } });
  const list = JSON.parse(execFileSync(CLI, ['--db', DB_E, '--json', 'customer', 'list', '--query', '第四台电脑'], { encoding: 'utf8' }));
  assert.equal((list.rows ?? list).length, 1);
});
