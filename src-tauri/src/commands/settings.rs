//! App status and settings: which database is open (or why not), the
//! language of messages, and whether another program wrote to the file.

use super::Res;
use crate::state::AppState;
use kehu::error::ErrorPayload;
use kehu::Lang;
use serde::Serialize;
use tauri::State;
use ts_rs::TS;

#[derive(Serialize, TS)]
#[ts(export)]
pub struct AppStatus {
    pub db_path: String,
    /// Why the database could not be opened; None when it is open.
    pub error: Option<ErrorPayload>,
    pub lang: Lang,
    pub version: String,
    /// The database is encrypted at rest (SQLCipher).
    pub encrypted: bool,
}

#[tauri::command]
pub async fn app_status(state: State<'_, AppState>) -> Res<AppStatus> {
    Ok(AppStatus {
        db_path: state.db_path.to_string_lossy().into(),
        error: state.open_error(),
        lang: state.lang(),
        version: env!("CARGO_PKG_VERSION").into(),
        encrypted: state.encrypted(),
    })
}

/// The start-up passphrase screen: open the encrypted database.
#[tauri::command]
pub async fn db_unlock(state: State<'_, AppState>, passphrase: String) -> Res<AppStatus> {
    state.unlock(&passphrase)?;
    // The daily backup that could not run while the database was locked.
    crate::jobs::daily_backup_soon(state.db_path.clone());
    app_status(state).await
}

/// Run a conversion of the database file (encrypt, decrypt, rekey) with the
/// workspace closed, then open it again (also when the conversion failed:
/// the old file is untouched then).
fn convert(
    app: &tauri::AppHandle,
    f: impl FnOnce(&std::path::Path) -> kehu::Result<kehu::atrest::Converted>,
) -> Res<kehu::atrest::Converted> {
    use tauri::Manager;
    let state = app.state::<AppState>();
    let lang = state.lang();
    // The reminder scheduler keeps its own connection: stopped while the
    // file is replaced, started again on the new one.
    let scheduler = app
        .state::<crate::jobs::Jobs>()
        .scheduler
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .take();
    if let Some((h, _)) = scheduler {
        h.stop();
    }
    // So does the background sync.
    app.state::<crate::autosync::SyncJobs>().release();
    state.close();
    let out = f(&state.db_path);
    state.reopen();
    crate::shell::start_scheduler(app);
    // The background sync reopens its connection on the new file.
    app.state::<crate::autosync::SyncJobs>().wake();
    out.map_err(|e| e.to_payload(lang))
}

/// Settings → encrypt the database (and its backups) with a passphrase.
#[tauri::command]
pub async fn db_encrypt(app: tauri::AppHandle, passphrase: String) -> Res<kehu::atrest::Converted> {
    convert(&app, |p| kehu::atrest::encrypt(p, &passphrase))
}

/// Settings → change the passphrase (the current one is asked again).
#[tauri::command]
pub async fn db_rekey(
    app: tauri::AppHandle,
    old: String,
    new: String,
) -> Res<kehu::atrest::Converted> {
    convert(&app, |p| kehu::atrest::rekey(p, &old, &new))
}

/// Settings → store the database unencrypted again.
#[tauri::command]
pub async fn db_decrypt(app: tauri::AppHandle, passphrase: String) -> Res<kehu::atrest::Converted> {
    convert(&app, |p| kehu::atrest::decrypt(p, &passphrase))
}

#[tauri::command]
pub async fn set_language(state: State<'_, AppState>, lang: Lang) -> Res<()> {
    state.set_lang(lang);
    Ok(())
}

/// Whether Kehu starts (into the tray) when the user logs in.
#[tauri::command]
pub async fn start_at_login_get(app: tauri::AppHandle, state: State<'_, AppState>) -> Res<bool> {
    use tauri_plugin_autostart::ManagerExt;
    app.autolaunch()
        .is_enabled()
        .map_err(|e| autostart_error(e, &state))
}

#[tauri::command]
pub async fn start_at_login_set(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
    enabled: bool,
) -> Res<bool> {
    use tauri_plugin_autostart::ManagerExt;
    let launcher = app.autolaunch();
    if enabled {
        launcher.enable()
    } else {
        launcher.disable()
    }
    .and_then(|_| launcher.is_enabled())
    .map_err(|e| autostart_error(e, &state))
}

fn autostart_error(
    e: tauri_plugin_autostart::Error,
    state: &AppState,
) -> kehu::error::ErrorPayload {
    kehu::Error::validation(
        "start_at_login",
        format!("无法更改开机启动设置：{e}"),
        format!("Could not change the start-at-login setting: {e}"),
    )
    .to_payload(state.lang())
}

/// Changes when another connection (the CLI, a sync run) commits.
#[tauri::command]
pub async fn data_version(state: State<'_, AppState>) -> Res<i64> {
    state.with(|ws| ws.data_version())
}

/// Try opening the database again (after the user freed a lock).
#[tauri::command]
pub async fn reopen(state: State<'_, AppState>) -> Res<AppStatus> {
    state.reopen();
    app_status(state).await
}
