//! Duplicates: live hint for a customer being typed, scan with progress and
//! cancel, "not a duplicate", merge, unmerge and the merge history.

use super::Res;
use crate::jobs::{open_side, Jobs};
use crate::state::AppState;
use kehu::dedupe::{self, Candidate, Draft, MergeRecord, MergeResult, ScanResult, Settings};
use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use tauri::{AppHandle, Emitter, Manager, State};

#[tauri::command]
pub async fn dedupe_candidates(state: State<'_, AppState>, draft: Draft) -> Res<Vec<Candidate>> {
    state.with(|ws| dedupe::candidates_for(ws.conn(), &draft, 5))
}

/// Scan on a second connection; progress as `dedupe-progress` events `[done, total]`.
#[tauri::command]
pub async fn dedupe_scan(app: AppHandle) -> Res<ScanResult> {
    let state = app.state::<AppState>();
    let lang = state.lang();
    let ws = open_side(&state)?;
    app.state::<Jobs>()
        .scan_cancel
        .store(false, Ordering::SeqCst);
    let handle = app.clone();
    tauri::async_runtime::spawn_blocking(move || {
        let jobs = handle.state::<Jobs>();
        let mut progress = |done: usize, total: usize| {
            let _ = handle.emit("dedupe-progress", (done, total));
        };
        dedupe::scan(ws.conn(), &mut progress, &jobs.scan_cancel).map_err(|e| e.to_payload(lang))
    })
    .await
    .map_err(|_| kehu::Error::Io(std::io::Error::other("scan failed")).to_payload(lang))?
}

#[tauri::command]
pub async fn dedupe_cancel(jobs: State<'_, Jobs>) -> Res<()> {
    jobs.scan_cancel.store(true, Ordering::SeqCst);
    Ok(())
}

#[tauri::command]
pub async fn dedupe_ignore(state: State<'_, AppState>, a: String, b: String) -> Res<()> {
    state.with(|ws| dedupe::ignore(ws, &a, &b))
}

/// `choices`: field → id of the customer whose value wins.
#[tauri::command]
pub async fn dedupe_merge(
    state: State<'_, AppState>,
    master: String,
    others: Vec<String>,
    choices: BTreeMap<String, String>,
) -> Res<MergeResult> {
    state.with(|ws| dedupe::merge(ws, &master, &others, &choices))
}

#[tauri::command]
pub async fn dedupe_unmerge(state: State<'_, AppState>, merge_id: String) -> Res<()> {
    state.with(|ws| dedupe::unmerge(ws, &merge_id))
}

#[tauri::command]
pub async fn dedupe_history(state: State<'_, AppState>) -> Res<Vec<MergeRecord>> {
    state.with(|ws| dedupe::merge_history(ws.conn(), 100))
}

#[tauri::command]
pub async fn dedupe_settings_get(state: State<'_, AppState>) -> Res<Settings> {
    state.with(|ws| dedupe::settings(ws.conn()))
}

/// Save the thresholds (the weights keep their values); returns what is stored.
#[tauri::command]
pub async fn dedupe_settings_set(
    state: State<'_, AppState>,
    threshold: f32,
    hint_threshold: f32,
) -> Res<Settings> {
    state.with(|ws| {
        let s = Settings {
            threshold,
            hint_threshold,
            ..dedupe::settings(ws.conn())?
        };
        dedupe::set_settings(ws, s)?;
        dedupe::settings(ws.conn())
    })
}
