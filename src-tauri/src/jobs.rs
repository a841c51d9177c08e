//! Long work (import, duplicate scan) runs on its own connection to the
//! same database file, off the UI's lock, so the window stays responsive;
//! progress goes to the UI as events and a flag cancels it.

use kehu::import::ImportReport;
use kehu::reminders::SchedulerHandle;
use std::sync::atomic::AtomicBool;
use std::sync::Mutex;

#[derive(Default)]
pub struct Jobs {
    pub import_cancel: AtomicBool,
    pub scan_cancel: AtomicBool,
    /// The last import's report, kept for "download error report".
    pub last_import: Mutex<Option<ImportReport>>,
    /// The reminder scheduler and the language it speaks; dropping it stops it.
    pub scheduler: Mutex<Option<(SchedulerHandle, kehu::Lang)>>,
    /// Wakes the daily-report thread (settings changed); None until started.
    pub daily: Mutex<Option<std::sync::mpsc::Sender<()>>>,
}

impl Jobs {
    /// Let the daily-report thread re-read its settings now.
    pub fn wake_daily(&self) {
        if let Some(tx) = self
            .daily
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
        {
            let _ = tx.send(());
        }
    }

    /// Re-check reminders now (after a follow-up was planned or moved).
    pub fn wake_scheduler(&self) {
        if let Some((h, _)) = self
            .scheduler
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
        {
            h.wake();
        }
    }
}

/// A second connection to the workspace file, in the app's language.
pub fn open_side(
    state: &crate::state::AppState,
) -> Result<kehu::Workspace, kehu::error::ErrorPayload> {
    let lang = state.lang();
    let mut ws = kehu::Workspace::open(&state.db_path).map_err(|e| e.to_payload(lang))?;
    ws.lang = lang;
    ws.origin = "ui".into();
    Ok(ws)
}
