// End-to-end: the real Kehu desktop binary, driven through tauri-driver +
// WebKitWebDriver under Xvfb (see run.sh). Each session opens a fresh
// database in a temp dir. Screenshots go to target/e2e-shots/.

import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync, mkdirSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebDriver, Keys } from './webdriver.mjs';
import { helpers } from './helpers.mjs';

const APP = process.env.KEHU_APP;
const URL = process.env.WEBDRIVER_URL ?? 'http://127.0.0.1:4444';
const SHOTS = process.env.E2E_SHOTS ?? 'target/e2e-shots';
assert.ok(APP, 'KEHU_APP must name the built kehu-desktop binary');
mkdirSync(SHOTS, { recursive: true });

const dir = mkdtempSync(join(tmpdir(), 'kehu-e2e-'));
const DB = join(dir, 'kehu.db');
const NAME = '翠鸟湾测绘科技有限公司';
const INITIALS = 'cnwch';
const XSS = '<img src=x onerror=alert(1)>';

let wd;
// Screenshots of this file have no letter: NN-name.png.
const { snap, step, text, click, fill, nav } = helpers({ prefix: '', shots: SHOTS, getWd: () => wd });

async function openApp(db) {
  wd = new WebDriver(URL);
  await wd.start(APP, ['--db', db]);
}

async function searchList(q) {
  await nav('customers');
  await fill('[data-testid="list-search"]', q);
  return wd.until(`list shows only the match for ${q}`, async () => {
    const rows = await wd.findAll('[data-testid="customer-row"]');
    const count = await text('[data-testid="list-count"]');
    return rows.length === 1 && /\b1\b/.test(count) ? rows[0] : null;
  });
}

before(async () => {
  await openApp(DB);
});

after(async () => {
  await wd?.quit();
  rmSync(dir, { recursive: true, force: true });
});

step('the app opens on the customer list in Chinese, with demo data on first start', async () => {
  // The language choice lives in the webview's storage, which the test
  // files of one run share: Chinese is the default only where none was made.
  const chosen = await wd.exec("return localStorage.getItem('kehu.lang')");
  if (chosen !== null && chosen !== 'zh') {
    await nav('settings');
    await click('[data-testid="lang-zh"]');
    await wd.until('Chinese', async () => (await text('h1')) === '设置');
  }
  await nav('customers'); // the app starts on Today
  const count = await wd.until('customer count', async () => {
    const t = await text('[data-testid="list-count"]');
    return t && /\d/.test(t) ? t : null;
  });
  assert.match(count, /^共 \d+ 个客户$/);
  await wd.find('[data-testid="customer-row"]');
  const title = await wd.req('GET', '/title');
  assert.equal(title, 'Kehu 客户');
  await snap('list-zh');
});

step('a bad mobile number is shown next to the field and nothing is saved', async () => {
  await click('[data-testid="new-customer"]');
  await fill('[data-testid="new-name"]', NAME);
  await fill('[data-testid="new-contact-name"]', '欧阳娜娜');
  await fill('[data-testid="new-contact-mobile"]', '12345');
  await click('[data-testid="new-submit"]');
  const msg = await text('[data-testid="error-contact-mobile"]');
  assert.match(msg, /12345/);
  assert.match(msg, /电话号码|手机号/);
  await snap('new-customer-bad-mobile');
});

step('a customer with a contact is created and shown', async () => {
  await fill('[data-testid="new-contact-mobile"]', '+86 138-0013-8000');
  await click('[data-testid="new-submit"]');
  const name = await wd.until('detail page', () => text('[data-testid="detail-name"]'));
  assert.equal(name, NAME);
  const contact = await text('[data-testid="contact-item"]');
  assert.match(contact, /欧阳娜娜/);
  assert.match(contact, /13800138000/);
  await snap('detail-created');
});

step('the customer is found by the pinyin initials of its name', async () => {
  const row = await searchList(INITIALS);
  assert.match(await row.text(), new RegExp(NAME));
  await snap('search-pinyin-initials');
});

step('a tag is added to several selected customers at once', async () => {
  await nav('customers');
  await fill('[data-testid="list-search"]', '有限公司');
  await wd.until('several rows', async () => (await wd.findAll('[data-testid="customer-row"]')).length >= 3);
  const boxes = await wd.findAll('[data-testid="customer-row"] input[type="checkbox"]');
  await boxes[0].click();
  await boxes[1].click();
  assert.match(await text('[data-testid="bulk-bar"]'), /已选 2 个/);
  await fill('[data-testid="bulk-tag"]', '重点跟进');
  await click('[data-testid="bulk-add-tag"]');
  await wd.until('toast', async () => (await text('[data-testid="toast"]')) === '已更新 2 个客户');
  await wd.until('tag shown on the rows', async () => {
    const rows = await wd.findAll('[data-testid="customer-row"]');
    const texts = await Promise.all(rows.map((r) => r.text()));
    return texts.filter((t) => t.includes('重点跟进')).length === 2;
  });
  await snap('bulk-tag');
});

step('Ctrl+K quick search finds the customer by pinyin and opens it', async () => {
  await wd.keys(Keys.CONTROL, 'k');
  const input = await wd.find('[data-testid="quick-search-input"]');
  await input.type('cuiniao');
  await wd.until('quick search result', async () => (await text('[data-testid="quick-search"]')).includes(NAME));
  await snap('quick-search');
  await input.type(Keys.ENTER);
  await wd.until('detail page', async () => (await text('[data-testid="detail-name"]')) === NAME);
});

step('an edited field appears in the history', async () => {
  await click('[data-testid="edit-basic"]');
  await fill('[data-testid="edit-city"]', '杭州市');
  await click('[data-testid="save-basic"]');
  await wd.until('city shown', async () => (await text('[data-testid="value-city"]')) === '杭州市');
  const history = await wd.until('history entry', async () => {
    const h = await text('[data-testid="history"]');
    return h.includes('城市：— → 杭州市') ? h : null;
  });
  assert.match(history, /创建了客户/);
  assert.match(history, /添加了联系人 欧阳娜娜/);
  await snap('history-after-edit');
});

step('an invalid edit shows its message next to the field', async () => {
  await click('[data-testid="edit-business"]');
  await fill('[data-testid="edit-first_contact_date"]', '明天下午');
  await click('[data-testid="save-business"]');
  const msg = await text('[data-testid="error-first_contact_date"]');
  assert.match(msg, /日期/);
  await snap('edit-invalid-date');
  await fill('[data-testid="edit-first_contact_date"]', '2026-03-01');
  await click('[data-testid="save-business"]');
  await wd.until('date saved', async () => (await text('[data-testid="value-first_contact_date"]')) === '2026-03-01');
});

step('a deleted customer goes to the trash and comes back', async () => {
  await click('[data-testid="delete-customer"]');
  await click('[data-testid="delete-customer"]'); // second click confirms
  await wd.find('[data-testid="list-search"]');
  await nav('trash');
  const row = await wd.until('customer in trash', async () => {
    for (const r of await wd.findAll('[data-testid="trash-row"]')) if ((await r.text()).includes(NAME)) return r;
    return null;
  });
  await snap('trash');
  await (await row.find('[data-testid="trash-restore"]')).click();
  await wd.until('trash empty of it', async () => {
    for (const r of await wd.findAll('[data-testid="trash-row"]')) if ((await r.text()).includes(NAME)) return false;
    return true;
  });
  const back = await searchList(INITIALS);
  assert.match(await back.text(), new RegExp(NAME));
  await back.click();
  const history = await wd.until('restore in history', async () => {
    const h = await text('[data-testid="history"]');
    return h.includes('从回收站恢复') ? h : null;
  });
  assert.match(history, /移入回收站/);
  await snap('restored');
});

step('markup in a customer name is shown as text, never run', async () => {
  await nav('customers');
  await click('[data-testid="new-customer"]');
  await fill('[data-testid="new-name"]', XSS);
  await click('[data-testid="new-submit"]');
  const name = await wd.until('detail page', () => text('[data-testid="detail-name"]'));
  assert.equal(name, XSS);
  assert.equal(await wd.alertText(), null);
  const imgs = await wd.exec('return document.querySelectorAll("img").length');
  assert.equal(imgs, 0);
  await snap('markup-as-text');
});

step('English can be chosen in Settings and is kept', async () => {
  await nav('settings');
  await click('[data-testid="lang-en"]');
  await wd.until('English settings', async () => (await text('h1')) === 'Settings');
  await snap('settings-en');
  await nav('customers');
  const count = await wd.until('English count', async () => {
    const t = await text('[data-testid="list-count"]');
    return /^\d+ customers$/.test(t) ? t : null;
  });
  assert.ok(count);
  await snap('list-en');
  const row = await searchList(INITIALS);
  await row.click();
  await wd.until('English history', async () => (await text('[data-testid="history"]')).includes('City: — → 杭州市'));
  await snap('detail-en');
  // A bad mobile in English.
  await click('[data-testid="add-contact"]');
  await fill('[data-testid="contact-name"]', 'Li Lei');
  await fill('[data-testid="contact-mobile"]', '12345');
  await click('[data-testid="contact-save"]');
  assert.match(await text('[data-testid="contact-error-mobile"]'), /not a valid phone number/);
  await snap('contact-bad-mobile-en');
  await nav('settings');
  await click('[data-testid="lang-zh"]');
  await wd.until('Chinese again', async () => (await text('h1')) === '设置');
});

step('start at login writes the login item (starting in the tray) and removes it again', async () => {
  const entry = join(homedir(), '.config', 'autostart', 'Kehu.desktop');
  const existed = existsSync(entry);
  await nav('settings');
  const box = '[data-testid="start-at-login"]';
  await wd.until('start-at-login known', () => wd.exec(`return !document.querySelector('${box}').disabled`));
  if (!(await wd.exec(`return document.querySelector('${box}').checked`))) await click(box);
  await wd.until('login item written', async () => existsSync(entry));
  assert.match(readFileSync(entry, 'utf8'), /--background/);
  await snap('settings-start-at-login');
  if (!existed) {
    await click(box);
    await wd.until('login item removed', async () => !existsSync(entry));
  }
});

step('a damaged database shows the error view and is restored from a backup', async () => {
  // The daily backup is taken a few seconds after start.
  const backups = join(dir, 'backups');
  await wd.until('the daily backup written after start', async () => existsSync(backups) && readdirSync(backups).some((f) => f.endsWith('.db')), 40000);
  await wd.quit();
  writeFileSync(DB, 'this is not a database '.repeat(100));
  for (const ext of ['-wal', '-shm']) rmSync(DB + ext, { force: true });
  await openApp(DB);
  const view = await wd.find('[data-testid="db-error"]');
  const t = await view.text();
  assert.match(t, /无法打开客户数据库/);
  assert.ok(t.includes(DB), 'the view names the file');
  await snap('db-error');
  const restore = await wd.find('[data-testid="db-error"] li button');
  await restore.click();
  await restore.click(); // confirm
  await nav('customers');
  await wd.until('list after restore', async () => /\d/.test(await text('[data-testid="list-count"]')));
  assert.ok(readdirSync(dir).some((f) => f.includes('damaged')), 'the damaged file is kept aside');
  await snap('after-restore');
});
