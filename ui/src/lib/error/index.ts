// One place that turns whatever a failed call threw into something the UI
// can show: the core's `{code, message, field}` payload (already in the
// user's language), a plain string from the IPC layer, or a JS Error.

import type { Code } from '../bindings/Code';

export interface UiError {
  code: Code;
  message: string;
  /** The input the message belongs next to, e.g. `mobile`, `contacts.0.email`. */
  field: string | null;
}

const CODES: readonly Code[] = [
  'validation',
  'not_found',
  'conflict',
  'newer_schema',
  'locked',
  'corrupt',
  'unwritable',
  'disk_full',
  'io',
  'sync',
  'passphrase',
  'internal',
];

function isCode(x: unknown): x is Code {
  return typeof x === 'string' && (CODES as readonly string[]).includes(x);
}

export function normalizeError(e: unknown, fallback = 'Unknown error'): UiError {
  if (e && typeof e === 'object' && !(e instanceof Error)) {
    const o = e as Record<string, unknown>;
    if (typeof o.message === 'string') {
      return {
        code: isCode(o.code) ? o.code : 'internal',
        message: o.message,
        field: typeof o.field === 'string' && o.field !== '' ? o.field : null,
      };
    }
  }
  if (typeof e === 'string') {
    return { code: 'internal', message: e || fallback, field: null };
  }
  if (e instanceof Error) {
    return { code: 'internal', message: e.message || fallback, field: null };
  }
  return { code: 'internal', message: fallback, field: null };
}

/**
 * The message for one input, if the error belongs to it. `names` are the
 * field names that input answers to: the bare name (`mobile`) matches
 * `mobile`, `contact.mobile` and `contacts.0.mobile`; a dotted name
 * (`contacts.0.mobile`) matches only itself.
 */
export function fieldError(err: UiError | null | undefined, ...names: string[]): string | null {
  if (!err || !err.field) return null;
  const f = err.field;
  for (const n of names) {
    if (f === n) return err.message;
    if (!n.includes('.') && f.split('.').pop() === n) return err.message;
  }
  return null;
}

/** Errors that belong to no input: shown as a banner/toast instead. */
export function generalError(err: UiError | null | undefined, ...knownFields: string[]): string | null {
  if (!err) return null;
  if (err.field && knownFields.some((n) => fieldError(err, n))) return null;
  return err.message;
}

/** Errors about the database itself (the error view handles these). */
export function isDatabaseError(err: UiError): boolean {
  return ['newer_schema', 'locked', 'corrupt', 'unwritable'].includes(err.code);
}
