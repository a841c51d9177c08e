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

/// How long the daily backup waits after the workspace opens: copying a
/// big database (2 s for 750 MB at 100k customers) at once competed with
/// the window's first pages.
const BACKUP_DELAY: std::time::Duration = std::time::Duration::from_secs(15);

/// Take the daily backup, when one is due, on its own connection a little
/// after start. A failed backup is reported, never fatal; one not taken
/// because the app closed first is taken at the next start.
pub fn daily_backup_soon(db: std::path::PathBuf) {
    std::thread::spawn(move || {
        std::thread::sleep(BACKUP_DELAY);
        // Not while Settings encrypts or decrypts the file.
        let _file = kehu::atrest::hold_file();
        if let Err(e) = kehu::Workspace::open(&db).and_then(|ws| kehu::backup::auto_backup(&ws)) {
            eprintln!("kehu: automatic backup failed: {e}");
        }
    });
}
