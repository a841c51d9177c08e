//! Kehu desktop: one window over the kehu core. The commands in `commands/`
//! are thin adapters (lock the workspace, call the core, map the error); no
//! business rule lives here.

// No console window on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod autosync;
mod commands;
mod jobs;
mod shell;
mod state;

use state::AppState;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let db_path = state::db_path_from_env();
    let instance_db = db_path.clone();
    let app_state = AppState::new(db_path.clone());
    let opened = app_state.open_error().is_none();
    if opened {
        jobs::daily_backup_soon(db_path);
    }
    tauri::Builder::default()
        // First, so a second launch on the same database only focuses the
        // running window; another database (`--db`, `KEHU_DB`) runs beside it.
        .plugin(
            tauri_plugin_single_instance::Builder::new()
                .callback(|app, _args, _cwd| shell::show_main(app))
                .dbus_id(state::instance_id(&instance_db))
                .build(),
        )
        .plugin(tauri_plugin_dialog::init())
        // Started at login, Kehu waits in the tray (reminders keep firing).
        .plugin(tauri_plugin_autostart::init(
            tauri_plugin_autostart::MacosLauncher::LaunchAgent,
            Some(vec![shell::BACKGROUND_ARG]),
        ))
        .manage(app_state)
        .manage(jobs::Jobs::default())
        .manage(autosync::SyncJobs::default())
        .setup(|app| {
            let tray = std::env::var_os("KEHU_NO_TRAY").is_none()
                && match shell::build_tray(app.handle()) {
                    Ok(()) => true,
                    Err(e) => {
                        eprintln!("kehu: no tray icon: {e}");
                        false
                    }
                };
            // Without a tray there would be no way back to a hidden window.
            if tray && std::env::args().any(|a| a == shell::BACKGROUND_ARG) {
                shell::hide_main(app.handle());
            }
            // The window starts the reminders in the user's language as it
            // opens; this is the fallback when it does not.
            let handle = app.handle().clone();
            std::thread::spawn(move || {
                std::thread::sleep(std::time::Duration::from_secs(5));
                shell::start_scheduler(&handle);
            });
            Ok(())
        })
        .on_window_event(shell::on_window_event)
        .invoke_handler(commands::handler())
        .run(tauri::generate_context!())
        .unwrap_or_else(|e| {
            eprintln!("kehu: the window could not be started: {e}");
            std::process::exit(1);
        });
}
