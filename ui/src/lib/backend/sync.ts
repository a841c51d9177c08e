// Commands of team sync (src-tauri/src/commands/sync.rs). Same contract as
// `api`: failures throw a UiError. Events: `sync-state` after each round
// (and as one starts), `data-changed` when a round merged something.

import { call } from './index';
import type { AutoSync } from '../bindings/AutoSync';
import type { Conflict } from '../bindings/Conflict';
import type { FolderCheck } from '../bindings/FolderCheck';
import type { RoundOutcome } from '../bindings/RoundOutcome';
import type { SyncOverview } from '../bindings/SyncOverview';
import type { SyncSecrets } from '../bindings/SyncSecrets';
import type { SyncTarget } from '../bindings/SyncTarget';

export const sync = {
  overview: () => call<SyncOverview>('sync_overview'),
  openConflicts: () => call<number>('sync_open_conflicts'),
  pickFolder: () => call<string | null>('sync_pick_folder'),
  checkFolder: (folder: string) => call<FolderCheck>('sync_check_folder', { folder }),
  /** Test a folder, WebDAV server or S3 bucket with its credentials: does it answer, which teams? */
  checkTarget: (target: SyncTarget, secrets: SyncSecrets) => call<FolderCheck>('sync_check_target', { target, secrets }),
  /**
   * Start a team (`join` false, optional `name`) or join `team` on `target`, with the
   * team passphrase (end-to-end encryption) and the server's credentials; runs the first round.
   */
  setup: (target: SyncTarget, join: boolean, team: string | null, name: string | null, secrets: SyncSecrets) =>
    call<RoundOutcome>('sync_setup', { target, join, team, name, secrets }),
  now: () => call<RoundOutcome>('sync_now'),
  conflicts: (openOnly: boolean, customerId: string | null = null) =>
    call<Conflict[]>('sync_conflicts', { openOnly, customerId }),
  take: (id: number) => call<void>('sync_take', { id }),
  renameDevice: (name: string) => call<void>('sync_rename_device', { name }),
  autoSet: (auto: AutoSync) => call<AutoSync>('sync_auto_set', { auto }),
};
