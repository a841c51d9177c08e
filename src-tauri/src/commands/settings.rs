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
}

#[tauri::command]
pub async fn app_status(state: State<'_, AppState>) -> Res<AppStatus> {
    Ok(AppStatus {
        db_path: state.db_path.to_string_lossy().into(),
        error: state.open_error(),
        lang: state.lang(),
        version: env!("CARGO_PKG_VERSION").into(),
    })
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
