// The only place that calls `invoke`. Each function names one Rust command
// (src-tauri/src/commands/) and its generated types; a failure is thrown as
// a normalised UiError (see lib/error).

import { invoke } from '@tauri-apps/api/core';
import { normalizeError } from '../error';
import type { AppStatus } from '../bindings/AppStatus';
import type { BackupFile } from '../bindings/BackupFile';
import type { Converted } from '../bindings/Converted';
import type { Contact } from '../bindings/Contact';
import type { ContactFields } from '../bindings/ContactFields';
import type { Customer } from '../bindings/Customer';
import type { CustomerOptions } from '../bindings/CustomerOptions';
import type { CustomerQuery } from '../bindings/CustomerQuery';
import type { CustomerRow } from '../bindings/CustomerRow';
import type { Facets } from '../bindings/Facets';
import type { HistoryEntry } from '../bindings/HistoryEntry';
import type { Lang } from '../bindings/Lang';
import type { Member } from '../bindings/Member';
import type { MemberFields } from '../bindings/MemberFields';
import type { NewCustomer } from '../bindings/NewCustomer';
import type { Page } from '../bindings/Page';
import type { Tag } from '../bindings/Tag';

/** A patch: field name → new value (`null` or '' clears). */
export type Patch = Record<string, unknown>;

/** Run one Rust command; a failure throws a UiError. Every backend module calls through here. */
export async function call<T>(cmd: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(cmd, args);
  } catch (e) {
    throw normalizeError(e);
  }
}

export const api = {
  appStatus: () => call<AppStatus>('app_status'),
  setLanguage: (lang: Lang) => call<void>('set_language', { lang }),
  startAtLoginGet: () => call<boolean>('start_at_login_get'),
  startAtLoginSet: (enabled: boolean) => call<boolean>('start_at_login_set', { enabled }),
  dataVersion: () => call<number>('data_version'),
  reopen: () => call<AppStatus>('reopen'),
  /** Open the database encrypted at rest with its passphrase (start-up screen). */
  dbUnlock: (passphrase: string) => call<AppStatus>('db_unlock', { passphrase }),
  dbEncrypt: (passphrase: string) => call<Converted>('db_encrypt', { passphrase }),
  dbRekey: (old: string, next: string) => call<Converted>('db_rekey', { old, new: next }),
  dbDecrypt: (passphrase: string) => call<Converted>('db_decrypt', { passphrase }),

  customerList: (query: Partial<CustomerQuery>) => call<Page<CustomerRow>>('customer_list', { query }),
  customerFacets: () => call<Facets>('customer_facets'),
  customerOptions: () => call<CustomerOptions>('customer_options'),
  customerGet: (id: string) => call<Customer>('customer_get', { id }),
  customerCreate: (customer: Partial<NewCustomer>) => call<Customer>('customer_create', { customer }),
  customerUpdate: (id: string, patch: Patch) => call<Customer>('customer_update', { id, patch }),
  customerDelete: (ids: string[]) => call<number>('customer_delete', { ids }),
  customerRestore: (ids: string[]) => call<number>('customer_restore', { ids }),
  customerPurge: (ids: string[]) => call<number>('customer_purge', { ids }),
  customerHistory: (id: string) => call<HistoryEntry[]>('customer_history', { id }),
  customerAssignOwner: (ids: string[], ownerId: string | null) =>
    call<number>('customer_assign_owner', { ids, ownerId }),

  contactAdd: (customer: string, fields: Partial<ContactFields>) => call<Contact>('contact_add', { customer, fields }),
  contactUpdate: (id: string, patch: Patch) => call<Contact>('contact_update', { id, patch }),
  contactRemove: (id: string) => call<void>('contact_remove', { id }),

  tagList: () => call<Tag[]>('tag_list'),
  tagCreate: (name: string, color: string | null = null) => call<Tag>('tag_create', { name, color }),
  tagEdit: (id: string, name: string | null, color: string | null) => call<Tag>('tag_edit', { id, name, color }),
  tagMerge: (from: string, into: string) => call<Tag>('tag_merge', { from, into }),
  tagDelete: (id: string) => call<void>('tag_delete', { id }),
  tagApply: (tag: string, customers: string[], remove: boolean) =>
    call<number>('tag_apply', { tag, customers, remove }),

  memberList: () => call<Member[]>('member_list'),
  memberAdd: (fields: Partial<MemberFields>) => call<Member>('member_add', { fields }),
  memberUpdate: (id: string, patch: Patch) => call<Member>('member_update', { id, patch }),
  memberRemove: (id: string) => call<void>('member_remove', { id }),
  memberSetMe: (id: string) => call<Member>('member_set_me', { id }),

  quickSearch: (text: string, limit = 12) => call<CustomerRow[]>('quick_search', { text, limit }),

  backupList: () => call<BackupFile[]>('backup_list'),
  backupNow: () => call<BackupFile>('backup_now'),
  /** `passphrase`: of an encrypted backup, when not the database's own. */
  backupRestore: (file: string, passphrase: string | null = null) => call<void>('backup_restore', { file, passphrase }),
};
