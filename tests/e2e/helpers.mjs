// Small helpers the end-to-end test files share (screenshots, finding and
// clicking, typing, calling app commands, switching language, steps that
// take a screenshot when they fail). Not a test file itself: session.sh
// names the *.test.mjs files it runs.
//
// Most files drive one window through a `let wd` set in before():
//   const { snap, text, click, ... } = helpers({ prefix: 'p', shots: SHOTS, getWd: () => wd });
// Every helper calls getWd() when it runs, so `wd` may be (re)assigned later.
// A file driving several windows uses the plain functions below, which take
// the WebDriver as their first argument, and snapper() for screenshots.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';

const EL = 'element-6066-11e4-a52e-4f735466cecf';
const INVOKE =
  'const done = arguments[arguments.length - 1]; window.__TAURI_INTERNALS__.invoke(arguments[0], arguments[1]).then((v) => done({ ok: v }), (e) => done({ err: e }));';

/**
 * Screenshots numbered per file: SHOTS/<prefix><NN>-<name>.png, after waiting
 * `delay` ms (0: no wait). Returns snap(wd, name).
 */
export function snapper({ prefix = '', shots, delay = 0 }) {
  let shot = 0;
  return async (wd, name) => {
    shot++;
    if (delay) await new Promise((r) => setTimeout(r, delay));
    await wd.screenshot(join(shots, `${prefix}${String(shot).padStart(2, '0')}-${name}.png`));
  };
}

export const text = async (wd, css) => (await wd.find(css)).text();
export const click = async (wd, css) => (await wd.find(css)).click();
/** Clear a field and type into it; returns the element. */
export async function fill(wd, css, value) {
  const el = await wd.find(css);
  await el.clear();
  await el.type(value);
  return el;
}
/** Set an input's value the way a person's typing does (date pickers cannot be typed into reliably). */
export async function setValue(wd, css, value) {
  const el = await wd.find(css);
  await wd.exec(
    'const e = arguments[0]; e.value = arguments[1]; e.dispatchEvent(new Event("input", { bubbles: true })); e.dispatchEvent(new Event("change", { bubbles: true }));',
    { [EL]: el.id },
    value,
  );
}
export async function scrollTo(wd, css) {
  const el = await wd.find(css);
  await wd.exec('arguments[0].scrollIntoView({ block: "start" })', { [EL]: el.id });
}
/** Press and release one key. */
export async function press(wd, key) {
  await wd.req('POST', '/actions', {
    actions: [{ type: 'key', id: 'kbd', actions: [{ type: 'keyDown', value: key }, { type: 'keyUp', value: key }] }],
  });
  await wd.req('DELETE', '/actions').catch(() => {});
}
/** Call a command of the app as the UI does; the raw answer, { ok: value } or { err: error }. */
export async function invokeRaw(wd, cmd, args) {
  return wd.req('POST', '/execute/async', { script: INVOKE, args: [cmd, args] });
}
/** Call a command of the app as the UI does; its value, or throws `cmd: error`. */
export async function invoke(wd, cmd, args = {}) {
  const r = await invokeRaw(wd, cmd, args);
  if (r && 'err' in r) throw new Error(`${cmd}: ${JSON.stringify(r.err)}`);
  return r?.ok;
}
/** Call a command of the app as the UI does; its value, asserting there was no error. */
export async function invokeAsserted(wd, cmd, args) {
  const r = await invokeRaw(wd, cmd, args);
  assert.ok(!r.err, JSON.stringify(r.err));
  return r.ok;
}
export const nav = (wd, id) => click(wd, `[data-testid="nav-${id}"]`);
/** Choose the language in Settings and wait until the page speaks it. */
export async function setLang(wd, lang) {
  await nav(wd, 'settings');
  await click(wd, `[data-testid="lang-${lang}"]`);
  await wd.until(`language ${lang}`, async () => (await text(wd, 'h1')) === (lang === 'en' ? 'Settings' : '设置'));
}

/**
 * The helpers bound to the one window of a test file.
 * - prefix, shots, snapDelay: see snapper().
 * - invokeMode: what invoke(cmd, args) returns. 'unwrap' (default): the
 *   value, throwing on an error (args default to {}); 'assert': the value,
 *   assert.ok on an error; 'raw': the answer as is, { ok } or { err }.
 */
export function helpers({ prefix = '', shots, getWd, snapDelay = 0, invokeMode = 'unwrap' }) {
  const shoot = snapper({ prefix, shots, delay: snapDelay });
  const snap = (name) => shoot(getWd(), name);
  const callers = {
    unwrap: (cmd, args = {}) => invoke(getWd(), cmd, args),
    assert: (cmd, args) => invokeAsserted(getWd(), cmd, args),
    raw: (cmd, args) => invokeRaw(getWd(), cmd, args),
  };
  assert.ok(invokeMode in callers, `invokeMode: ${invokeMode}`);
  /** A test that takes a screenshot (FAILED-<name>) when it fails. */
  function step(name, fn) {
    test(name, async () => {
      try {
        await fn();
      } catch (e) {
        await snap('FAILED-' + name.replace(/[^A-Za-z0-9]+/g, '-').slice(0, 40)).catch(() => {});
        throw e;
      }
    });
  }
  return {
    snap,
    step,
    text: (css) => text(getWd(), css),
    click: (css) => click(getWd(), css),
    fill: (css, value) => fill(getWd(), css, value),
    setValue: (css, value) => setValue(getWd(), css, value),
    scrollTo: (css) => scrollTo(getWd(), css),
    press: (key) => press(getWd(), key),
    nav: (id) => nav(getWd(), id),
    setLang: (lang) => setLang(getWd(), lang),
    invoke: callers[invokeMode],
  };
}
