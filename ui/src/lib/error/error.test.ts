import { describe, expect, it } from 'vitest';
import { fieldError, generalError, isDatabaseError, normalizeError } from './index';

describe('normalizeError', () => {
  it('keeps the core payload as it is', () => {
    const e = normalizeError({ code: 'validation', message: '手机号无效', field: 'mobile' });
    expect(e).toEqual({ code: 'validation', message: '手机号无效', field: 'mobile' });
  });

  it('treats a missing or empty field as no field', () => {
    expect(normalizeError({ code: 'locked', message: 'x', field: null }).field).toBeNull();
    expect(normalizeError({ code: 'locked', message: 'x', field: '' }).field).toBeNull();
    expect(normalizeError({ code: 'locked', message: 'x' }).field).toBeNull();
  });

  it('maps an unknown code to internal', () => {
    expect(normalizeError({ code: 'weird', message: 'x' }).code).toBe('internal');
  });

  it('turns an IPC string into an internal error with that text', () => {
    expect(normalizeError('invalid args `id` for command `customer_get`')).toEqual({
      code: 'internal',
      message: 'invalid args `id` for command `customer_get`',
      field: null,
    });
  });

  it('turns a JS Error into its message', () => {
    expect(normalizeError(new Error('boom')).message).toBe('boom');
  });

  it('uses the fallback for nothing useful', () => {
    expect(normalizeError(undefined, '出错了').message).toBe('出错了');
    expect(normalizeError('', '出错了').message).toBe('出错了');
    expect(normalizeError({ nothing: 1 }, '出错了').message).toBe('出错了');
  });
});

describe('fieldError', () => {
  const err = normalizeError({ code: 'validation', message: 'bad', field: 'contacts.0.mobile' });

  it('matches a bare name against the last segment', () => {
    expect(fieldError(err, 'mobile')).toBe('bad');
    expect(fieldError(normalizeError({ code: 'validation', message: 'm', field: 'contact.name' }), 'name')).toBe('m');
  });

  it('matches a dotted name exactly only', () => {
    expect(fieldError(err, 'contacts.0.mobile')).toBe('bad');
    expect(fieldError(err, 'contacts.1.mobile')).toBeNull();
  });

  it('does not match another field or no error', () => {
    expect(fieldError(err, 'email')).toBeNull();
    expect(fieldError(null, 'mobile')).toBeNull();
    expect(fieldError(normalizeError({ code: 'locked', message: 'x' }), 'mobile')).toBeNull();
  });
});

describe('generalError', () => {
  it('is null when an input shows the error', () => {
    const e = normalizeError({ code: 'validation', message: 'bad', field: 'name' });
    expect(generalError(e, 'name', 'email')).toBeNull();
  });
  it('is the message when no input shows it', () => {
    const e = normalizeError({ code: 'validation', message: 'bad', field: 'owner_id' });
    expect(generalError(e, 'name')).toBe('bad');
    expect(generalError(normalizeError({ code: 'disk_full', message: 'full' }))).toBe('full');
  });
});

describe('isDatabaseError', () => {
  it('recognises database problems only', () => {
    expect(isDatabaseError(normalizeError({ code: 'locked', message: '' }))).toBe(true);
    expect(isDatabaseError(normalizeError({ code: 'corrupt', message: '' }))).toBe(true);
    expect(isDatabaseError(normalizeError({ code: 'validation', message: '' }))).toBe(false);
  });
});
