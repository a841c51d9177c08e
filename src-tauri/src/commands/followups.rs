//! Follow-ups, the Today page and alerts: plan, record, complete, postpone,
//! cancel; the customer timeline; alerts evaluated and dismissed.

use super::{blocking_err, Res};
use crate::jobs::Jobs;
use crate::state::AppState;
use kehu::alerts;
use kehu::followups::{self, DoneInput, Followup, NewFollowup, TimelineItem};
use kehu::today::{self, Today, TodayQuery};
use tauri::{AppHandle, Manager, State};

/// Everything on Today, alerts as last evaluated: the page shows at once and
/// then asks for [`alerts_evaluate`].
#[tauri::command]
pub async fn today_get(state: State<'_, AppState>, query: TodayQuery) -> Res<Today> {
    state.with(|ws| today::today(ws.conn(), ws.now_ms(), &query, ws.lang))
}

/// Evaluate the alert rules now, on a connection of its own and off the
/// async runtime's threads. Usually a few milliseconds, but the first
/// evaluation after a big import checks every customer (2.5 s at 100k): on
/// the window's workspace that held every other page (the customer list)
/// until it was done.
#[tauri::command]
pub async fn alerts_evaluate(app: AppHandle) -> Res<alerts::Evaluation> {
    let lang = app.state::<AppState>().lang();
    tauri::async_runtime::spawn_blocking(move || {
        let mut ws = crate::jobs::open_side(&app.state::<AppState>())?;
        let now = ws.now_ms();
        alerts::evaluate(&mut ws, now).map_err(|e| e.to_payload(lang))
    })
    .await
    .map_err(|_| blocking_err(lang))?
}

#[tauri::command]
pub async fn followup_add(
    state: State<'_, AppState>,
    jobs: State<'_, Jobs>,
    followup: NewFollowup,
) -> Res<Followup> {
    let f = state.with(|ws| followups::add(ws, followup))?;
    jobs.wake_scheduler();
    Ok(f)
}

#[tauri::command]
pub async fn followup_complete(
    state: State<'_, AppState>,
    id: String,
    input: DoneInput,
) -> Res<Followup> {
    state.with(|ws| followups::complete(ws, &id, input))
}

#[tauri::command]
pub async fn followup_postpone(
    state: State<'_, AppState>,
    jobs: State<'_, Jobs>,
    id: String,
    to: i64,
    reason: String,
) -> Res<Followup> {
    let f = state.with(|ws| followups::postpone(ws, &id, to, &reason))?;
    jobs.wake_scheduler();
    Ok(f)
}

#[tauri::command]
pub async fn followup_cancel(
    state: State<'_, AppState>,
    id: String,
    reason: Option<String>,
) -> Res<Followup> {
    state.with(|ws| followups::cancel(ws, &id, reason.as_deref()))
}

#[tauri::command]
pub async fn followup_timeline(
    state: State<'_, AppState>,
    customer: String,
) -> Res<Vec<TimelineItem>> {
    state.with(|ws| followups::timeline(ws.conn(), &customer, ws.lang, 500))
}

/// The next planned date suggested by the customer's grade cadence.
#[tauri::command]
pub async fn followup_suggest(state: State<'_, AppState>, customer: String) -> Res<Option<i64>> {
    state.with(|ws| {
        let now = ws.now_ms();
        followups::suggest_next_at(ws.conn(), &customer, now)
    })
}

#[tauri::command]
pub async fn alert_dismiss(state: State<'_, AppState>, id: String) -> Res<()> {
    state.with(|ws| alerts::dismiss(ws, &id))
}

/// Restart the reminder scheduler, so notifications speak the language
/// just chosen (reminders already shown are not shown again).
#[tauri::command]
pub async fn reminders_restart(app: tauri::AppHandle) -> Res<()> {
    crate::shell::start_scheduler(&app);
    Ok(())
}

#[tauri::command]
pub async fn alert_thresholds_get(state: State<'_, AppState>) -> Res<alerts::Thresholds> {
    state.with(|ws| alerts::thresholds(ws.conn()))
}

/// Save the alert thresholds (days); the next evaluation uses them.
#[tauri::command]
pub async fn alert_thresholds_set(
    state: State<'_, AppState>,
    thresholds: alerts::Thresholds,
) -> Res<alerts::Thresholds> {
    state.with(|ws| {
        alerts::set_thresholds(ws, thresholds)?;
        alerts::thresholds(ws.conn())
    })
}
