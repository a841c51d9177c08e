// A small W3C WebDriver client over fetch: enough to drive the Kehu window
// through tauri-driver (which forwards to WebKitWebDriver).

import { writeFile } from 'node:fs/promises';
import { execFile } from 'node:child_process';

const ELEMENT = 'element-6066-11e4-a52e-4f735466cecf';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export class WebDriver {
  constructor(base) {
    this.base = base;
    this.session = null;
  }

  async req(method, path, body, timeout = 60000) {
    const url = this.session ? `${this.base}/session/${this.session}${path}` : `${this.base}${path}`;
    const res = await fetch(url, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(timeout),
    });
    const json = await res.json().catch(() => ({}));
    if (!res.ok || (json.value && json.value.error)) {
      const v = json.value ?? {};
      const err = new Error(`${method} ${path}: ${v.error ?? res.status} ${v.message ?? ''}`.trim());
      err.wdError = v.error;
      throw err;
    }
    return json.value;
  }

  async start(application, args = []) {
    const caps = {
      capabilities: {
        alwaysMatch: {
          browserName: 'wry',
          'tauri:options': { application, args },
        },
      },
    };
    const v = await this.req('POST', '/session', caps);
    this.session = v.sessionId;
    return v;
  }

  async quit() {
    if (!this.session) return;
    await this.req('DELETE', '').catch(() => {});
    this.session = null;
  }

  async find(css, { timeout = 10000, visible = false } = {}) {
    const end = Date.now() + timeout;
    let last;
    for (;;) {
      try {
        const v = await this.req('POST', '/element', { using: 'css selector', value: css });
        const el = new Element(this, v[ELEMENT]);
        if (!visible || (await el.displayed())) return el;
        last = new Error(`${css} is not visible`);
      } catch (e) {
        last = e;
      }
      if (Date.now() > end) throw new Error(`waiting for ${css}: ${last?.message}`);
      await sleep(100);
    }
  }

  async findAll(css) {
    const v = await this.req('POST', '/elements', { using: 'css selector', value: css });
    return v.map((x) => new Element(this, x[ELEMENT]));
  }

  /** Wait until `fn` returns a truthy value; return it. */
  async until(what, fn, timeout = 10000) {
    const end = Date.now() + timeout;
    let last;
    for (;;) {
      try {
        const v = await fn();
        if (v) return v;
      } catch (e) {
        last = e;
      }
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last ? ': ' + last.message : ''}`);
      await sleep(120);
    }
  }

  async exec(script, ...args) {
    return this.req('POST', '/execute/sync', { script, args });
  }

  async alertText() {
    try {
      return await this.req('GET', '/alert/text');
    } catch (e) {
      if (e.wdError === 'no such alert') return null;
      throw e;
    }
  }

  async keys(...values) {
    // Press and release a chord, e.g. keys('\uE009', 'k') = Ctrl+K.
    const down = values.map((v) => ({ type: 'keyDown', value: v }));
    const up = [...values].reverse().map((v) => ({ type: 'keyUp', value: v }));
    await this.req('POST', '/actions', { actions: [{ type: 'key', id: 'kbd', actions: [...down, ...up] }] });
    await this.req('DELETE', '/actions').catch(() => {});
  }

  async screenshot(file) {
    // WebKitGTK under Xvfb sometimes waits for a paint that never comes when
    // the page is idle: nudge a repaint first, retry, and as a last resort
    // grab the whole X screen.
    for (let attempt = 0; attempt < 2; attempt++) {
      await this.exec(
        'document.documentElement.style.outline = "1px solid transparent"; requestAnimationFrame(() => { document.documentElement.style.outline = ""; });',
      ).catch(() => {});
      try {
        const b64 = await this.req('GET', '/screenshot', undefined, 8000);
        await writeFile(file, Buffer.from(b64, 'base64'));
        return;
      } catch {
        await sleep(300);
      }
    }
    await new Promise((resolve) => execFile('import', ['-window', 'root', file], () => resolve()));
  }
}

export class Element {
  constructor(wd, id) {
    this.wd = wd;
    this.id = id;
  }
  p(path) {
    return `/element/${this.id}${path}`;
  }
  click() {
    return this.wd.req('POST', this.p('/click'), {});
  }
  clear() {
    return this.wd.req('POST', this.p('/clear'), {});
  }
  type(text) {
    return this.wd.req('POST', this.p('/value'), { text });
  }
  // innerText through script: WebKitWebDriver's visibility atom sometimes
  // calls a plainly visible element hidden (and returns '' for its text).
  text() {
    return this.wd.exec('return arguments[0].innerText', { [ELEMENT]: this.id });
  }
  displayed() {
    return this.wd.req('GET', this.p('/displayed'));
  }
  attr(name) {
    return this.wd.req('GET', this.p(`/attribute/${name}`));
  }
  prop(name) {
    return this.wd.req('GET', this.p(`/property/${name}`));
  }
  async find(css) {
    const v = await this.wd.req('POST', this.p('/element'), { using: 'css selector', value: css });
    return new Element(this.wd, v[ELEMENT]);
  }
}

export const Keys = { CONTROL: '\uE009', ENTER: '\uE007', ESCAPE: '\uE00C' };
