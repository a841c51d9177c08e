// Commands of the daily report (日报) and the keyword cloud
// (src-tauri/src/commands/daily.rs). Same contract as `api`: failures
// throw a UiError.

import { call } from './index';
import type { DailyEntry } from '../bindings/DailyEntry';
import type { DailyReport } from '../bindings/DailyReport';
import type { DailySettings } from '../bindings/DailySettings';
import type { Filter } from '../bindings/Filter';
import type { KeywordCloud } from '../bindings/KeywordCloud';

export const daily = {
  latest: () => call<DailyReport | null>('daily_latest'),
  list: (limit?: number) => call<DailyEntry[]>('daily_list', { limit: limit ?? null }),
  get: (date: string) => call<DailyReport | null>('daily_get', { date }),
  markSeen: (date: string) => call<void>('daily_mark_seen', { date }),
  settingsGet: () => call<DailySettings>('daily_settings_get'),
  settingsSet: (settings: DailySettings) => call<DailySettings>('daily_settings_set', { settings }),
  keywords: (filter: Filter) => call<KeywordCloud>('analysis_keywords', { filter }),
};
