// End-to-end: a database encrypted at rest (SQLCipher). The app starts on
// an encrypted workspace: the passphrase screen says a forgotten passphrase
// cannot be recovered, a wrong passphrase gets a clear message (never the
// "damaged database" view), the right one opens it; Settings changes the
// passphrase and removes the encryption; a plain database is encrypted from
// Settings and asks for the passphrase at the next start.
// Screenshots: target/e2e-shots/eNN-*.png.

import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, mkdirSync, existsSync, readFileSync, readdirSync, copyFileSync } from 'node:fs';
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
assert.ok(CLI && existsSync(CLI), `the kehu CLI must be built beside the app (${CLI})`);
mkdirSync(SHOTS, { recursive: true });

const dir = mkdtempSync(join(tmpdir(), 'kehu-e2e-atrest-'));
const DB = join(dir, 'kehu.db');
const NAME = '钱塘江密封件制造有限公司';
const PASS = '钱塘 潮水 2026';
const PASS2 = 'second passphrase 二';

let wd;
const { snap, step, text, click, fill, setLang } = helpers({ prefix: 'e', shots: SHOTS, getWd: () => wd, snapDelay: 300 });
const holdsName = () => readFileSync(DB).includes(Buffer.from(NAME));
async function start() {
  wd = new WebDriver(URL);
  await wd.start(APP, ['--db', DB]);
}

before(() => {
  execFileSync(CLI, ['--db', DB, 'customer', 'add', '--name', NAME, '--mobile', '13811112222']);
  execFileSync(CLI, ['--db', DB, 'db', 'encrypt', '--new-passphrase-env', 'P'], { env: { ...process.env, P: PASS } });
  assert.equal(holdsName(), false, 'the encrypted file holds no customer name');
});

after(async () => {
  await wd?.quit();
  rmSync(dir, { recursive: true, force: true });
});

step('an encrypted workspace asks for its passphrase; a wrong one is said plainly', async () => {
  await start();
  const box = await wd.find('[data-testid="unlock"]', { timeout: 30000 });
  assert.match(await box.text(), /数据库已加密/);
  assert.match(await text('[data-testid="unlock-forgotten"]'), /口令忘记后无法找回/);
  assert.equal((await wd.findAll('[data-testid="db-error"]')).length, 0);
  await snap('unlock-zh');
  await fill('[data-testid="unlock-passphrase"]', 'not the passphrase');
  await click('[data-testid="unlock-submit"]');
  await wd.until('wrong passphrase', async () => /数据库口令不正确/.test(await text('[data-testid="unlock-error"]')), 15000);
  assert.equal((await wd.findAll('[data-testid="db-error"]')).length, 0, 'never the damaged-database view');
  await snap('unlock-wrong-zh');
});

step('the right passphrase opens it; the customer is there and search works', async () => {
  await fill('[data-testid="unlock-passphrase"]', PASS);
  await click('[data-testid="unlock-submit"]');
  await wd.find('[data-testid="today-page"]', { timeout: 30000 });
  await click('[data-testid="nav-customers"]');
  await fill('[data-testid="list-search"]', '钱塘江');
  await wd.until('found', async () => {
    const rows = await wd.findAll('[data-testid="customer-row"]');
    return rows.length === 1 && (await rows[0].text()).includes(NAME);
  });
});

step('Settings changes the passphrase; the next start takes only the new one', async () => {
  await setLang('zh');
  const card = await wd.find('[data-testid="encryption-card"]');
  await wd.exec('arguments[0].scrollIntoView()', { 'element-6066-11e4-a52e-4f735466cecf': card.id });
  assert.match(await text('[data-testid="encryption-state"]'), /已加密/);
  await click('[data-testid="encryption-change"]');
  await fill('[data-testid="encryption-current"]', PASS);
  await fill('[data-testid="encryption-new"]', PASS2);
  await fill('[data-testid="encryption-again"]', PASS2);
  await click('[data-testid="encryption-submit"]');
  await wd.until('asked to confirm', async () => /无法找回/.test(await text('[data-testid="encryption-error"]')));
  await click('[data-testid="encryption-understand"]');
  await snap('settings-rekey-zh');
  await click('[data-testid="encryption-submit"]');
  await wd.until('changed', async () => (await wd.findAll('[data-testid="encryption-current"]')).length === 0, 20000);
  assert.equal(holdsName(), false);
  await wd.quit();
  await start();
  await wd.find('[data-testid="unlock"]', { timeout: 30000 });
  await fill('[data-testid="unlock-passphrase"]', PASS);
  await click('[data-testid="unlock-submit"]');
  await wd.until('old passphrase refused', async () => /数据库口令不正确/.test(await text('[data-testid="unlock-error"]')), 15000);
  await fill('[data-testid="unlock-passphrase"]', PASS2);
  await click('[data-testid="unlock-submit"]');
  await wd.find('[data-testid="today-page"]', { timeout: 30000 });
});

step('a backup encrypted with another passphrase asks for its own, then restores', async () => {
  // A backup made on another computer whose database has the first passphrase.
  const other = join(dir, 'other');
  mkdirSync(other);
  const odb = join(other, 'kehu.db');
  const env = { ...process.env, P: PASS };
  execFileSync(CLI, ['--db', odb, 'customer', 'add', '--name', '备份里的客户有限公司']);
  // The later steps look for this customer's name in the database file.
  execFileSync(CLI, ['--db', odb, 'customer', 'add', '--name', NAME]);
  execFileSync(CLI, ['--db', odb, 'db', 'encrypt', '--new-passphrase-env', 'P'], { env });
  execFileSync(CLI, ['--passphrase-env', 'P', '--db', odb, 'backup'], { env });
  const made = readdirSync(join(other, 'backups')).find((n) => n.startsWith('kehu-'));
  mkdirSync(join(dir, 'backups'), { recursive: true });
  // Named as the newest backup, so it is the first in the list.
  copyFileSync(join(other, 'backups', made), join(dir, 'backups', 'kehu-20991231-235959000.db'));
  await click('[data-testid="nav-customers"]');
  await setLang('zh');
  await wd.until('the copied backup is listed', async () => (await wd.findAll('[data-testid="backup-restore"]')).length > 0);
  const restore = (await wd.findAll('[data-testid="backup-restore"]'))[0];
  await wd.exec('arguments[0].scrollIntoView()', { 'element-6066-11e4-a52e-4f735466cecf': restore.id });
  await restore.click();
  await restore.click();
  await wd.find('[data-testid="backup-pass-form"]', { timeout: 15000 });
  assert.match(await text('[data-testid="backup-pass-form"]'), /另一个口令/);
  await fill('[data-testid="backup-pass"]', 'not it');
  await click('[data-testid="backup-pass-restore"]');
  await wd.until('a wrong backup passphrase is said plainly', async () => /备份口令不对/.test(await wd.exec('return document.body.innerText')));
  await fill('[data-testid="backup-pass"]', PASS);
  await snap('settings-backup-passphrase');
  await click('[data-testid="backup-pass-restore"]');
  await wd.until('restored', async () => (await wd.findAll('[data-testid="backup-pass-form"]')).length === 0, 20000);
  await click('[data-testid="nav-customers"]');
  await wd.until('the backup’s customer is shown', async () => {
    const rows = await wd.findAll('[data-testid="customer-row"]');
    const texts = await Promise.all(rows.map((r) => r.text()));
    return rows.length === 2 && texts.some((t) => t.includes('备份里的客户有限公司'));
  }, 15000);
});

step('Settings removes the encryption, and encrypts again (English)', async () => {
  await setLang('en');
  const card = await wd.find('[data-testid="encryption-card"]');
  await wd.exec('arguments[0].scrollIntoView()', { 'element-6066-11e4-a52e-4f735466cecf': card.id });
  await click('[data-testid="encryption-decrypt"]');
  await fill('[data-testid="encryption-current"]', PASS2);
  await click('[data-testid="encryption-submit"]');
  await wd.until('decrypted', async () => /Not encrypted/.test(await text('[data-testid="encryption-state"]')), 20000);
  assert.equal(holdsName(), true, 'plain again');
  await click('[data-testid="encryption-encrypt"]');
  await fill('[data-testid="encryption-new"]', PASS);
  await fill('[data-testid="encryption-again"]', PASS);
  await click('[data-testid="encryption-understand"]');
  await snap('settings-encrypt-en');
  await click('[data-testid="encryption-submit"]');
  await wd.until('encrypted', async () => /^Encrypted/.test(await text('[data-testid="encryption-state"]')), 20000);
  assert.equal(holdsName(), false);
  await snap('settings-encrypted-en');
  await wd.quit();
  await start();
  await wd.find('[data-testid="unlock"]', { timeout: 30000 });
  assert.match(await text('[data-testid="unlock"]'), /The database is encrypted[\s\S]*cannot be recovered/);
  await snap('unlock-en');
  await fill('[data-testid="unlock-passphrase"]', PASS);
  await click('[data-testid="unlock-submit"]');
  await wd.find('[data-testid="today-page"]', { timeout: 30000 });
  await setLang('zh');
});
