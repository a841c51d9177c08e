//! Backups: list, back up now, restore. Restore also works when the
//! database cannot be opened (the error view offers it).

use super::Res;
use crate::state::AppState;
use kehu::backup::{self, BackupFile};
use std::path::Path;
use tauri::State;

#[tauri::command]
pub async fn backup_list(state: State<'_, AppState>) -> Res<Vec<BackupFile>> {
    let lang = state.lang();
    backup::list_for_db(&state.db_path).map_err(|e| e.to_payload(lang))
}

#[tauri::command]
pub async fn backup_now(state: State<'_, AppState>) -> Res<BackupFile> {
    state.with(|ws| backup::backup_now(ws))
}

/// Restore `file` over the database and reopen it. When the database is
/// open, the core restores in place (backing up the current state first);
/// when it cannot be opened, the damaged file is kept aside and replaced.
#[tauri::command]
pub async fn backup_restore(
    state: State<'_, AppState>,
    file: String,
    passphrase: Option<String>,
) -> Res<()> {
    let lang = state.lang();
    let file = Path::new(&file);
    // An encrypted backup: its passphrase (else the database's own).
    let pass = passphrase.as_deref().filter(|p| !p.is_empty());
    if state.open_error().is_none() {
        state.with(|ws| backup::restore_with(ws, file, pass))?;
    } else {
        state.close();
        backup::restore_path_with(&state.db_path, file, pass).map_err(|e| e.to_payload(lang))?;
    }
    state.reopen();
    match state.open_error() {
        None => Ok(()),
        Some(e) => Err(e),
    }
}
