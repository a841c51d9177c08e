//! Import, export and the import template: file dialogs, preview, import
//! with progress and cancel, error report, import log with undo.

use super::Res;
use crate::jobs::{open_side, Jobs};
use crate::state::AppState;
use kehu::customer_list::CustomerQuery;
use kehu::export::{self, ExportOptions};
use kehu::import::{self, ImportJob, ImportOptions, ImportReport, Preview, UndoReport};
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use tauri::{AppHandle, Emitter, Manager, State};
use tauri_plugin_dialog::DialogExt;

fn blocking_err(lang: kehu::Lang) -> kehu::error::ErrorPayload {
    kehu::Error::Io(std::io::Error::other("task failed")).to_payload(lang)
}

/// Ask for a spreadsheet to import; None when the dialog was closed.
#[tauri::command]
pub async fn pick_import_file(app: AppHandle) -> Res<Option<String>> {
    let picked = app
        .dialog()
        .file()
        .add_filter(
            "Excel / CSV",
            &["xlsx", "xlsm", "xls", "ods", "csv", "tsv", "txt"],
        )
        .blocking_pick_file();
    Ok(picked
        .and_then(|p| p.into_path().ok())
        .map(|p| p.to_string_lossy().into()))
}

/// Ask where to save a file named `name`; None when the dialog was closed.
#[tauri::command]
pub async fn pick_save_file(app: AppHandle, name: String) -> Res<Option<String>> {
    let ext = name.rsplit('.').next().unwrap_or("xlsx").to_string();
    let picked = app
        .dialog()
        .file()
        .set_file_name(&name)
        .add_filter(ext.to_uppercase(), &[ext.as_str()])
        .blocking_save_file();
    Ok(picked
        .and_then(|p| p.into_path().ok())
        .map(|p| p.to_string_lossy().into()))
}

#[tauri::command]
pub async fn import_preview(
    state: State<'_, AppState>,
    path: String,
    options: ImportOptions,
) -> Res<Preview> {
    state.with(|ws| import::preview(ws, &PathBuf::from(&path), &options))
}

/// Import on a second connection; progress as `import-progress` events.
#[tauri::command]
pub async fn import_run(app: AppHandle, path: String, options: ImportOptions) -> Res<ImportReport> {
    let state = app.state::<AppState>();
    let lang = state.lang();
    let mut ws = open_side(&state)?;
    let jobs = app.state::<Jobs>();
    jobs.import_cancel.store(false, Ordering::SeqCst);
    let handle = app.clone();
    let report = tauri::async_runtime::spawn_blocking(move || {
        let jobs = handle.state::<Jobs>();
        let mut progress = |p: import::Progress| {
            let _ = handle.emit("import-progress", p);
        };
        import::run(
            &mut ws,
            &PathBuf::from(&path),
            &options,
            false,
            &mut progress,
            &jobs.import_cancel,
        )
        .map_err(|e| e.to_payload(lang))
    })
    .await
    .map_err(|_| blocking_err(lang))??;
    *jobs.last_import.lock().unwrap_or_else(|p| p.into_inner()) = Some(report.clone());
    Ok(report)
}

#[tauri::command]
pub async fn import_cancel(jobs: State<'_, Jobs>) -> Res<()> {
    jobs.import_cancel.store(true, Ordering::SeqCst);
    Ok(())
}

/// Write the failed rows of the last import, with an error column, to `path`.
#[tauri::command]
pub async fn import_error_report(
    state: State<'_, AppState>,
    jobs: State<'_, Jobs>,
    path: String,
) -> Res<()> {
    let report = jobs
        .last_import
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    state.with(|ws| match report {
        Some(r) => import::report::write_error_report(&r, &PathBuf::from(&path), ws.lang),
        None => Err(kehu::Error::not_found("import", "last")),
    })
}

#[tauri::command]
pub async fn import_jobs(state: State<'_, AppState>) -> Res<Vec<ImportJob>> {
    state.with(|ws| import::list_jobs(ws.conn()))
}

#[tauri::command]
pub async fn import_undo(state: State<'_, AppState>, id: String) -> Res<UndoReport> {
    state.with(|ws| import::undo(ws, &id))
}

#[tauri::command]
pub async fn template_save(path: String, state: State<'_, AppState>) -> Res<()> {
    state.with(|_| kehu::template::write_template(&PathBuf::from(&path)))
}

/// Export the customers matching `query` (all when null) to xlsx or csv by extension.
#[tauri::command]
pub async fn export_customers(
    state: State<'_, AppState>,
    path: String,
    query: Option<CustomerQuery>,
) -> Res<usize> {
    state.with(|ws| {
        let opts = ExportOptions {
            query,
            lang: ws.lang,
            ..Default::default()
        };
        export::export_customers(ws.conn(), &PathBuf::from(&path), &opts)
    })
}
