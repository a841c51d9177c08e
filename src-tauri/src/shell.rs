//! The desktop shell around the window: the reminder scheduler (notify-rust
//! notifications while the app runs, missed ones summarised at start), the
//! tray (closing the window hides it so reminders keep firing) and focusing
//! the running instance on a second launch.

use crate::jobs::Jobs;
use crate::state::AppState;
use kehu::reminders::{Action, DesktopNotifier, Scheduler};
use serde::Serialize;
use tauri::menu::{Menu, MenuItem};
use tauri::tray::{MouseButton, MouseButtonState, TrayIconBuilder, TrayIconEvent};
use tauri::{AppHandle, Emitter, Manager, Runtime, WindowEvent};

/// Where the UI should go (`navigate` event): a page, or a customer.
#[derive(Clone, Serialize)]
pub struct Navigate {
    pub page: String,
    pub id: Option<String>,
}

/// Show, unminimise and focus the main window.
/// The argument the login item starts Kehu with: straight to the tray.
pub const BACKGROUND_ARG: &str = "--background";

pub fn hide_main<R: Runtime>(app: &AppHandle<R>) {
    if let Some(w) = app.get_webview_window("main") {
        let _ = w.hide();
    }
}

pub fn show_main<R: Runtime>(app: &AppHandle<R>) {
    if let Some(w) = app.get_webview_window("main") {
        let _ = w.show();
        let _ = w.unminimize();
        let _ = w.set_focus();
    }
}

fn go<R: Runtime>(app: &AppHandle<R>, page: &str, id: Option<String>) {
    show_main(app);
    let _ = app.emit(
        "navigate",
        Navigate {
            page: page.into(),
            id,
        },
    );
}

/// Start the reminder scheduler on its own connection (again, when the
/// language changed). Without a database (the error view) there is
/// nothing to remind of.
pub fn start_scheduler(app: &AppHandle) {
    let state = app.state::<AppState>();
    if state.open_error().is_some() {
        return;
    }
    let lang = state.lang();
    let handle = app.clone();
    let on_action: kehu::reminders::ActionCallback = Box::new(move |a: &Action| match a {
        Action::OpenCustomer { customer_id } => go(&handle, "customer", Some(customer_id.clone())),
        Action::OpenToday => go(&handle, "today", None),
        Action::Snooze { .. } => {
            let _ = handle.emit("data-changed", ());
        }
    });
    let jobs = app.state::<Jobs>();
    let mut slot = jobs.scheduler.lock().unwrap_or_else(|p| p.into_inner());
    // Already running in this language: keep it; else stop it first.
    if let Some((old, old_lang)) = slot.take() {
        if old_lang == lang {
            *slot = Some((old, old_lang));
            return;
        }
        old.stop();
    }
    match Scheduler::spawn_with(
        &state.db_path,
        DesktopNotifier::new(lang),
        lang,
        Some(on_action),
    ) {
        Ok(h) => *slot = Some((h, lang)),
        Err(e) => eprintln!("kehu: reminders could not start: {}", e.message(lang)),
    }
}

/// The tray icon and its menu: 打开 Kehu / 今日跟进 / 退出.
pub fn build_tray(app: &AppHandle) -> tauri::Result<()> {
    let open = MenuItem::with_id(app, "open", "打开 Kehu", true, None::<&str>)?;
    let today = MenuItem::with_id(app, "today", "今日跟进", true, None::<&str>)?;
    let quit = MenuItem::with_id(app, "quit", "退出", true, None::<&str>)?;
    let menu = Menu::with_items(app, &[&open, &today, &quit])?;
    let mut tray = TrayIconBuilder::with_id("kehu")
        .tooltip("Kehu 客户")
        .menu(&menu)
        .show_menu_on_left_click(false)
        .on_menu_event(|app, event| match event.id.as_ref() {
            "open" => show_main(app),
            "today" => go(app, "today", None),
            "quit" => {
                if let Some((h, _)) = app
                    .state::<Jobs>()
                    .scheduler
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .take()
                {
                    h.stop();
                }
                app.exit(0);
            }
            _ => {}
        })
        .on_tray_icon_event(|tray, event| {
            if let TrayIconEvent::Click {
                button: MouseButton::Left,
                button_state: MouseButtonState::Up,
                ..
            } = event
            {
                show_main(tray.app_handle());
            }
        });
    if let Some(icon) = app.default_window_icon() {
        tray = tray.icon(icon.clone());
    }
    tray.build(app)?;
    Ok(())
}

/// Closing the main window hides it to the tray (reminders keep firing);
/// 退出 in the tray menu quits.
pub fn on_window_event(window: &tauri::Window, event: &WindowEvent) {
    if let WindowEvent::CloseRequested { api, .. } = event {
        if window.label() == "main" && std::env::var_os("KEHU_NO_TRAY").is_none() {
            api.prevent_close();
            let _ = window.hide();
        }
    }
}
