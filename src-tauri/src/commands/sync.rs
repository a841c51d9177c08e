//! Team sync: adapters over `kehu::sync` (start or join a team in a shared
//! folder, a round now, conflicts, the device name) and
//! `kehu::sync_app` (the automatic-sync setting, testing a folder). Rounds
//! run through the background sync (src/autosync.rs) so they never overlap.

use super::{blocking_err, Res};
use crate::autosync::{self, RoundOutcome, SyncJobs, SyncState, Trigger};
use crate::state::AppState;
use kehu::sync::{self, Conflict, Credentials, SyncStatus, Target};
use kehu::sync_app::{self, AutoSync, FolderCheck, TeamInfo};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use tauri::{AppHandle, Manager, State};
use tauri_plugin_dialog::DialogExt;
use ts_rs::TS;

/// Everything the Sync page shows.
#[derive(Serialize, TS)]
#[ts(export)]
pub struct SyncOverview {
    pub status: SyncStatus,
    /// The team as its folder describes it (None when the folder is gone).
    pub team: Option<TeamInfo>,
    pub auto: AutoSync,
    pub state: SyncState,
}

/// What the set-up form holds besides the target: the team passphrase
/// (optional end-to-end encryption) and the WebDAV password or S3 keys.
/// Kept only in the OS keyring (or the owner-only secrets file), never in
/// the database.
#[derive(Deserialize, Default, TS)]
#[ts(export)]
pub struct SyncSecrets {
    #[ts(optional)]
    pub passphrase: Option<String>,
    #[ts(optional)]
    pub password: Option<String>,
    #[ts(optional)]
    pub access_key: Option<String>,
    #[ts(optional)]
    pub secret_key: Option<String>,
}

impl SyncSecrets {
    fn credentials(self) -> Credentials {
        let given = |s: Option<String>| s.filter(|s| !s.trim().is_empty());
        Credentials {
            // A passphrase is taken as typed (spaces count); the rest trimmed.
            passphrase: self.passphrase.filter(|p| !p.is_empty()),
            password: given(self.password),
            access_key: given(self.access_key).map(|s| s.trim().to_string()),
            secret_key: given(self.secret_key).map(|s| s.trim().to_string()),
        }
    }
}

#[tauri::command]
pub async fn sync_overview(
    state: State<'_, AppState>,
    jobs: State<'_, SyncJobs>,
) -> Res<SyncOverview> {
    let (status, auto) = state.with(|ws| Ok((sync::status(ws)?, sync_app::auto(ws.conn())?)))?;
    let team = match (&status.folder, &status.team_id) {
        (Some(f), Some(id)) => sync_app::teams_in(std::path::Path::new(f))
            .into_iter()
            .find(|t| &t.team_id == id),
        _ => None,
    };
    Ok(SyncOverview {
        status,
        team,
        auto,
        state: jobs.state(),
    })
}

/// Open conflicts, for the badge beside 团队同步 in the sidebar.
#[tauri::command]
pub async fn sync_open_conflicts(state: State<'_, AppState>) -> Res<i64> {
    state.with(|ws| Ok(sync::status(ws)?.open_conflicts))
}

/// Ask for the shared folder; None when the dialog was closed.
#[tauri::command]
pub async fn sync_pick_folder(app: AppHandle) -> Res<Option<String>> {
    let picked = app.dialog().file().blocking_pick_folder();
    Ok(picked
        .and_then(|p| p.into_path().ok())
        .map(|p| p.to_string_lossy().into()))
}

/// Is the folder there, writable, and which teams does it hold?
#[tauri::command]
pub async fn sync_check_folder(state: State<'_, AppState>, folder: String) -> Res<FolderCheck> {
    let lang = state.lang();
    let folder = PathBuf::from(folder.trim());
    tauri::async_runtime::spawn_blocking(move || sync_app::check_folder(&folder, lang))
        .await
        .map_err(|_| blocking_err(lang))
}

/// Test a folder, WebDAV server or S3 bucket with the credentials given:
/// does it answer, and which teams does it hold?
#[tauri::command]
pub async fn sync_check_target(
    state: State<'_, AppState>,
    target: Target,
    secrets: Option<SyncSecrets>,
) -> Res<FolderCheck> {
    let lang = state.lang();
    let creds = secrets.unwrap_or_default().credentials();
    tauri::async_runtime::spawn_blocking(move || sync_app::check_target(&target, &creds, lang))
        .await
        .map_err(|_| blocking_err(lang))
}

/// Start a team (`join` false, with an optional `name`) or join `team` on
/// the target, with the team passphrase when given (end-to-end encryption)
/// and the server's credentials (kept in the keyring); then run the first
/// round and let the background sync follow.
#[tauri::command]
#[allow(clippy::too_many_arguments)]
pub async fn sync_setup(
    app: AppHandle,
    state: State<'_, AppState>,
    target: Target,
    join: bool,
    team: Option<String>,
    name: Option<String>,
    secrets: Option<SyncSecrets>,
) -> Res<RoundOutcome> {
    let lang = state.lang();
    let target = match target {
        Target::Folder { path } => Target::Folder {
            path: PathBuf::from(path.to_string_lossy().trim()),
        },
        t => t,
    };
    let creds = secrets.unwrap_or_default().credentials();
    // Network calls (WebDAV, S3) off the async runtime's threads.
    let handle = app.clone();
    tauri::async_runtime::spawn_blocking(move || {
        handle.state::<AppState>().with(|ws| {
            if join {
                let team = team.as_deref().filter(|t| !t.is_empty());
                sync::join_target(ws, &target, team, &creds)
            } else {
                let name = name.as_deref().map(str::trim).filter(|n| !n.is_empty());
                sync::init_target(ws, &target, name, &creds)
            }
        })
    })
    .await
    .map_err(|_| blocking_err(lang))??;
    let handle = app.clone();
    let out =
        tauri::async_runtime::spawn_blocking(move || autosync::run_round(&handle, Trigger::Setup))
            .await
            .map_err(|_| blocking_err(lang))?;
    app.state::<SyncJobs>().wake();
    Ok(out)
}

/// One round now (the 立即同步 button).
#[tauri::command]
pub async fn sync_now(app: AppHandle, state: State<'_, AppState>) -> Res<RoundOutcome> {
    let lang = state.lang();
    // Not set up: the core's own message, before anything runs.
    state.with(|ws| {
        sync::status(ws)?.configured.then_some(()).ok_or_else(|| {
            kehu::Error::validation(
                "sync",
                "尚未设置团队同步：请先选择共享文件夹并创建或加入团队",
                "Team sync is not set up: choose a shared folder and start or join a team first",
            )
        })
    })?;
    let handle = app.clone();
    tauri::async_runtime::spawn_blocking(move || autosync::run_round(&handle, Trigger::Manual))
        .await
        .map_err(|_| blocking_err(lang))
}

/// Conflicts, newest first: open ones (or all), of one customer or all.
#[tauri::command]
pub async fn sync_conflicts(
    state: State<'_, AppState>,
    open_only: bool,
    customer_id: Option<String>,
) -> Res<Vec<Conflict>> {
    state.with(|ws| {
        let mut list = sync::conflicts(ws.conn(), open_only)?;
        if let Some(id) = customer_id {
            list.retain(|c| c.customer_id.as_deref() == Some(id.as_str()));
        }
        Ok(list)
    })
}

/// Take the other value of a conflict (a new change that syncs).
#[tauri::command]
pub async fn sync_take(state: State<'_, AppState>, id: i64) -> Res<()> {
    state.with(|ws| sync::take(ws, id))
}

#[tauri::command]
pub async fn sync_rename_device(state: State<'_, AppState>, name: String) -> Res<()> {
    state.with(|ws| sync::rename_device(ws, &name))
}

/// Save this device's automatic-sync setting; the background sync follows.
#[tauri::command]
pub async fn sync_auto_set(
    state: State<'_, AppState>,
    jobs: State<'_, SyncJobs>,
    auto: AutoSync,
) -> Res<AutoSync> {
    let saved = state.with(|ws| sync_app::set_auto(ws, auto))?;
    jobs.wake();
    Ok(saved)
}
