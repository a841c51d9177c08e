//! The desktop shell around the window: the reminder scheduler (notify-rust
//! notifications while the app runs, missed ones summarised at start), the
//! tray (closing the window hides it so reminders keep firing) and focusing
//! the running instance on a second launch; the daily report (日报) built
//! at start and at its set time, announced by one notification.

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
    // The daily report and the background sync start with the reminders
    // (or, running, re-check).
    start_daily(app);
    crate::autosync::start(app);
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

/// Longest wait between two looks at the clock in the daily-report thread
/// (catches suspend and wall-clock jumps).
const DAILY_POLL_MS: i64 = 60_000;

/// The notification announcing a new daily report: its headline.
pub fn daily_notification(
    rep: &kehu::analysis::daily::DailyReport,
    lang: kehu::Lang,
) -> kehu::reminders::Notification {
    kehu::analysis::daily::notification(rep, lang)
}

/// One run: build yesterday's report when it is missing, and recompute the
/// segments once a day (time makes churn risks); the notification to show
/// when a new report was built.
pub fn daily_step(ws: &mut kehu::Workspace) -> kehu::Result<Option<kehu::reminders::Notification>> {
    let lang = ws.lang;
    let report = kehu::analysis::daily::ensure(ws)?;
    if let Err(e) = kehu::analysis::segments::refresh_daily(ws) {
        // Stale segments are not worth losing the report's notification.
        eprintln!("kehu: segments: {}", e.message(lang));
    }
    Ok(report.map(|r| daily_notification(&r, lang)))
}

/// How long to sleep before the next look: until `due`, at most a minute.
pub fn daily_wait(due: i64, now: i64) -> std::time::Duration {
    std::time::Duration::from_millis((due - now).clamp(0, DAILY_POLL_MS) as u64)
}

/// Build yesterday's report now and again at the set time each day, on its
/// own connection; a new report is announced by one notification and a
/// `daily-report` event (an open Today page reloads). Started once; later
/// calls only wake it.
pub fn start_daily(app: &AppHandle) {
    let jobs = app.state::<Jobs>();
    let mut slot = jobs.daily.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(tx) = slot.as_ref() {
        let _ = tx.send(());
        return;
    }
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    *slot = Some(tx);
    drop(slot);
    let handle = app.clone();
    let spawned = std::thread::Builder::new()
        .name("kehu-daily".into())
        .spawn(move || {
            let now = || kehu::clock::Clock::now_ms(&kehu::clock::SystemClock);
            // Run at once (first start of the day), then at next_run.
            let mut due = now();
            loop {
                if now() >= due {
                    let state = handle.state::<AppState>();
                    let lang = state.lang();
                    let step = crate::jobs::open_side(&state)
                        .map_err(|e| e.message)
                        .and_then(|mut ws| {
                            let n = daily_step(&mut ws).map_err(|e| e.message(lang))?;
                            let next = kehu::analysis::daily::next_run(ws.conn(), now())
                                .map_err(|e| e.message(lang))?;
                            Ok((n, next))
                        });
                    match step {
                        Ok((n, next)) => {
                            due = next;
                            if let Some(n) = n {
                                let notifier = kehu::reminders::DesktopNotifier::new(lang);
                                use kehu::reminders::Notifier;
                                // A click on it (its default action) opens Today.
                                let h = handle.clone();
                                let sink = kehu::reminders::ActionSink::callback(move |a| {
                                    if let Action::OpenToday = a {
                                        go(&h, "today", None);
                                    }
                                });
                                if let Err(e) = notifier.notify(&n, &sink) {
                                    eprintln!("kehu: {}", e.message(lang));
                                }
                                let _ = handle.emit("daily-report", ());
                            }
                        }
                        Err(e) => {
                            eprintln!("kehu: daily report: {e}");
                            due = now() + 5 * 60_000; // try again in five minutes
                        }
                    }
                }
                match rx.recv_timeout(daily_wait(due, now())) {
                    // Settings changed: build a missing report now, then
                    // follow the new time.
                    Ok(()) => due = now(),
                    Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
                    Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
                }
            }
        });
    if let Err(e) = spawned {
        eprintln!("kehu: the daily report could not start: {e}");
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_daily_report_is_announced_once_with_its_headline_in_the_users_language() {
        let dir = tempfile::tempdir().unwrap();
        let mut ws = kehu::Workspace::open(dir.path().join("kehu.db")).unwrap();
        kehu::demo::populate(&mut ws, 40, 7).unwrap();
        ws.lang = kehu::Lang::En;
        let first = daily_step(&mut ws)
            .unwrap()
            .expect("yesterday's report is new");
        assert_eq!(first.title, "Kehu daily report (yesterday)");
        let stored = kehu::analysis::daily::list(ws.conn(), 5, ws.lang).unwrap();
        assert_eq!(stored.len(), 1);
        assert_eq!(first.body, stored[0].headline);
        assert!(first.body.contains("the team won"), "{}", first.body);
        // Started again the same day (a second window, a settings change):
        // nothing new, no second notification.
        assert!(daily_step(&mut ws).unwrap().is_none());
    }

    #[test]
    fn a_chinese_workspace_gets_a_chinese_notification() {
        let dir = tempfile::tempdir().unwrap();
        let mut ws = kehu::Workspace::open(dir.path().join("kehu.db")).unwrap();
        ws.lang = kehu::Lang::Zh;
        let n = daily_step(&mut ws).unwrap().expect("new report");
        assert_eq!(n.title, "Kehu 日报（昨日）");
        assert!(n.body.contains("团队成交"), "{}", n.body);
        assert!(n.summary && n.customer_id.is_none());
    }

    #[test]
    fn the_daily_thread_sleeps_until_the_run_time_but_never_more_than_a_minute() {
        assert_eq!(daily_wait(1_000, 0).as_millis(), 1_000);
        assert_eq!(
            daily_wait(10 * DAILY_POLL_MS, 0).as_millis(),
            DAILY_POLL_MS as u128
        );
        assert_eq!(daily_wait(0, 5_000).as_millis(), 0);
    }
}
