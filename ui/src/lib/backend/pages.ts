// Commands of the daily-work pages: Today, follow-ups, pipeline, import /
// export and duplicates (src-tauri/src/commands/{followups,opportunities,
// imports,dedupe}.rs). Same contract as `api`: failures throw a UiError.

import { listen, type UnlistenFn } from '@tauri-apps/api/event';
import { call } from './index';
import type { BoardColumn } from '../bindings/BoardColumn';
import type { DupCandidate as Candidate } from '../bindings/DupCandidate';
import type { CustomerQuery } from '../bindings/CustomerQuery';
import type { DedupeSettings } from '../bindings/DedupeSettings';
import type { DoneInput } from '../bindings/DoneInput';
import type { DupDraft as Draft } from '../bindings/DupDraft';
import type { Evaluation } from '../bindings/Evaluation';
import type { Followup } from '../bindings/Followup';
import type { ImportJob } from '../bindings/ImportJob';
import type { ImportOptions } from '../bindings/ImportOptions';
import type { ImportPreview } from '../bindings/ImportPreview';
import type { ImportProgress } from '../bindings/ImportProgress';
import type { ImportReport } from '../bindings/ImportReport';
import type { MergeRecord } from '../bindings/MergeRecord';
import type { MergeResult } from '../bindings/MergeResult';
import type { NewFollowup } from '../bindings/NewFollowup';
import type { NewOpportunity } from '../bindings/NewOpportunity';
import type { Opportunity } from '../bindings/Opportunity';
import type { OpportunityQuery } from '../bindings/OpportunityQuery';
import type { DupScanResult as ScanResult } from '../bindings/DupScanResult';
import type { Stage } from '../bindings/Stage';
import type { StageStay } from '../bindings/StageStay';
import type { TimelineItem } from '../bindings/TimelineItem';
import type { Today } from '../bindings/Today';
import type { TodayQuery } from '../bindings/TodayQuery';
import type { UndoReport } from '../bindings/UndoReport';

/** Listen to an app event; returns the unlisten function (a no-op outside the app). */
export async function on<T>(event: string, f: (payload: T) => void): Promise<UnlistenFn> {
  try {
    return await listen<T>(event, (e) => f(e.payload));
  } catch {
    return () => {};
  }
}

export const pages = {
  today: (query: Partial<TodayQuery> = {}) => call<Today>('today_get', { query }),
  alertsEvaluate: () => call<Evaluation>('alerts_evaluate'),
  followupAdd: (followup: Partial<NewFollowup>) => call<Followup>('followup_add', { followup }),
  followupComplete: (id: string, input: Partial<DoneInput>) => call<Followup>('followup_complete', { id, input }),
  followupPostpone: (id: string, to: number, reason: string) =>
    call<Followup>('followup_postpone', { id, to, reason }),
  followupCancel: (id: string, reason: string | null) => call<Followup>('followup_cancel', { id, reason }),
  followupTimeline: (customer: string) => call<TimelineItem[]>('followup_timeline', { customer }),
  followupSuggest: (customer: string) => call<number | null>('followup_suggest', { customer }),
  alertDismiss: (id: string) => call<void>('alert_dismiss', { id }),
  remindersRestart: () => call<void>('reminders_restart'),

  pipelineBoard: (ownerId: string | null) => call<BoardColumn[]>('pipeline_board', { ownerId }),
  pipelineStages: () => call<Stage[]>('pipeline_stages'),
  opportunityList: (query: Partial<OpportunityQuery>) => call<Opportunity[]>('opportunity_list', { query }),
  opportunityCreate: (opportunity: Partial<NewOpportunity>) =>
    call<Opportunity>('opportunity_create', { opportunity }),
  opportunitySetStage: (id: string, stage: string, reason: string | null) =>
    call<Opportunity>('opportunity_set_stage', { id, stage, reason }),
  opportunityHistory: (id: string) => call<StageStay[]>('opportunity_history', { id }),

  pickImportFile: () => call<string | null>('pick_import_file'),
  pickSaveFile: (name: string) => call<string | null>('pick_save_file', { name }),
  importPreview: (path: string, options: Partial<ImportOptions>) =>
    call<ImportPreview>('import_preview', { path, options }),
  importRun: (path: string, options: Partial<ImportOptions>) => call<ImportReport>('import_run', { path, options }),
  importCancel: () => call<void>('import_cancel'),
  importErrorReport: (path: string) => call<void>('import_error_report', { path }),
  importJobs: () => call<ImportJob[]>('import_jobs'),
  importUndo: (id: string) => call<UndoReport>('import_undo', { id }),
  templateSave: (path: string) => call<void>('template_save', { path }),
  exportCustomers: (path: string, query: Partial<CustomerQuery> | null) =>
    call<number>('export_customers', { path, query }),

  dedupeCandidates: (draft: Partial<Draft>) => call<Candidate[]>('dedupe_candidates', { draft }),
  dedupeScan: () => call<ScanResult>('dedupe_scan'),
  dedupeCancel: () => call<void>('dedupe_cancel'),
  dedupeIgnore: (a: string, b: string) => call<void>('dedupe_ignore', { a, b }),
  dedupeMerge: (master: string, others: string[], choices: Record<string, string>) =>
    call<MergeResult>('dedupe_merge', { master, others, choices }),
  dedupeUnmerge: (mergeId: string) => call<void>('dedupe_unmerge', { mergeId }),
  dedupeHistory: () => call<MergeRecord[]>('dedupe_history'),
  dedupeSettings: () => call<DedupeSettings>('dedupe_settings_get'),
  dedupeSettingsSet: (threshold: number, hintThreshold: number) =>
    call<DedupeSettings>('dedupe_settings_set', { threshold, hintThreshold }),
};

export type { ImportProgress };
