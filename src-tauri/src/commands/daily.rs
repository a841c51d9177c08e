//! 日报 (daily report) and the keyword cloud: adapters over
//! `kehu::analysis::daily` and `kehu::analysis::keywords`. Building the
//! report is the shell's job (src/shell.rs, at start and at the set time);
//! these commands read the stored reports and the settings.

use super::Res;
use crate::jobs::Jobs;
use crate::state::AppState;
use kehu::analysis::daily::{self, DailyEntry, DailyReport, DailySettings};
use kehu::analysis::keywords::{self, KeywordCloud};
use kehu::analysis::Filter;
use kehu::Error;
use tauri::State;

/// Phrases per list in the keyword cloud.
const CLOUD_TOP: usize = 60;
/// Past reports listed at most.
const LIST_MAX: i64 = 400;

fn bad_date() -> Error {
    Error::validation(
        "date",
        "日期请写成 2026-11-25 这样的格式",
        "Write the date as 2026-11-25",
    )
}

/// The newest stored report (None before the first one was built).
#[tauri::command]
pub async fn daily_latest(state: State<'_, AppState>) -> Res<Option<DailyReport>> {
    state.with(|ws| {
        let Some(last) = daily::list(ws.conn(), 1, ws.lang)?.into_iter().next() else {
            return Ok(None);
        };
        let d = kehu::dates::parse_date(&last.date).ok_or_else(bad_date)?;
        daily::get(ws.conn(), d, ws.lang)
    })
}

/// Stored reports, newest first.
#[tauri::command]
pub async fn daily_list(state: State<'_, AppState>, limit: Option<i64>) -> Res<Vec<DailyEntry>> {
    let limit = limit.unwrap_or(90).clamp(1, LIST_MAX);
    state.with(|ws| daily::list(ws.conn(), limit, ws.lang))
}

/// The stored report of one day (`2026-11-25`).
#[tauri::command]
pub async fn daily_get(state: State<'_, AppState>, date: String) -> Res<Option<DailyReport>> {
    state.with(|ws| {
        let d = kehu::dates::parse_date(&date).ok_or_else(bad_date)?;
        daily::get(ws.conn(), d, ws.lang)
    })
}

/// The user has seen the report of `date`.
#[tauri::command]
pub async fn daily_mark_seen(state: State<'_, AppState>, date: String) -> Res<()> {
    state.with(|ws| {
        let d = kehu::dates::parse_date(&date).ok_or_else(bad_date)?;
        daily::mark_seen(ws, d)
    })
}

#[tauri::command]
pub async fn daily_settings_get(state: State<'_, AppState>) -> Res<DailySettings> {
    state.with(|ws| daily::settings(ws.conn()))
}

/// Save the settings; the running schedule moves to the new time (and a
/// report just switched on is built now if yesterday's is missing).
#[tauri::command]
pub async fn daily_settings_set(
    state: State<'_, AppState>,
    jobs: State<'_, Jobs>,
    settings: DailySettings,
) -> Res<DailySettings> {
    let saved = state.with(|ws| {
        daily::set_settings(ws, settings)?;
        daily::settings(ws.conn())
    })?;
    jobs.wake_daily();
    Ok(saved)
}

/// Top phrases of 沟通内容 and 客户反馈 in the period, and the needs split
/// by priority (cached in the core until the follow-ups change).
#[tauri::command]
pub async fn analysis_keywords(state: State<'_, AppState>, filter: Filter) -> Res<KeywordCloud> {
    state.with(|ws| {
        let now = ws.now_ms();
        keywords::cloud(ws.conn(), &filter.validated()?, CLOUD_TOP, now)
    })
}
