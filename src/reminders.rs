//! Reminders of planned follow-ups.
//!
//! The pure part answers "what is due at time t and not yet fired"
//! ([`due_at`]) and "when is the next one due" ([`next_due_time`], one index
//! seek). A reminder is due at `remind_at` = planned time − remind-before, or
//! at the snooze time; it fires once: [`mark_fired`] claims it in one
//! transaction (only a reminder whose `reminder_fired_at` is still empty can be
//! claimed), so two processes or a restart cannot show it twice. Postponing a
//! follow-up re-arms its reminder for the new time.
//!
//! The [`Scheduler`] runs this in a thread: it sleeps until the next due
//! time (re-checking at least every [`POLL`] and whenever woken), fires
//! through a [`Notifier`], and at start shows reminders that fell due while
//! nothing was running as one summary notification, never as a burst. It
//! also evaluates the alert rules every [`ALERTS_EVERY`].
//!
//! Desktop use: keep the handle for the app's lifetime (dropping it stops
//! the thread) and call `wake()` after a write that plans, postpones or
//! snoozes a follow-up:
//!
//! ```no_run
//! use kehu::reminders::{Action, DesktopNotifier, Scheduler};
//! let handle = Scheduler::spawn_with(
//!     kehu::db::default_db_path(),
//!     DesktopNotifier::new(kehu::Lang::Zh),
//!     kehu::Lang::Zh,
//!     Some(Box::new(|a: &Action| println!("open {a:?}"))),
//! ).unwrap();
//! handle.wake();
//! ```

use crate::clock::{format_local, Millis};
use crate::db::Workspace;
use crate::error::Result;
use crate::followups::{self, Followup, Kind, MINUTE};
use crate::i18n::Lang;
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use serde_json::Value;
use std::path::PathBuf;
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::time::Duration;
use ts_rs::TS;

/// Longest sleep between checks: catches reminders written by another
/// process (the CLI, a sync run) and wall-clock jumps (suspend, DST).
pub const POLL: Duration = Duration::from_secs(2);
/// More reminders than this falling due together are shown as one summary.
pub const BURST: usize = 3;

/// A reminder that is due.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct DueReminder {
    pub followup_id: String,
    pub customer_id: String,
    pub customer_code: String,
    pub customer_name: String,
    pub kind: Kind,
    pub planned_at: Option<i64>,
    pub remind_at: i64,
    pub purpose: Option<String>,
}

const PENDING: &str = "f.reminder_fired_at IS NULL AND f.remind_at IS NOT NULL
    AND f.status = 'planned' AND f.deleted_at IS NULL";

/// Reminders due at `t` (remind time ≤ t) and not yet fired, oldest first.
/// Pure: reads only.
pub fn due_at(conn: &Connection, t: Millis) -> Result<Vec<DueReminder>> {
    let sql = format!(
        "SELECT f.id, f.customer_id, c.code, c.name, f.kind, f.planned_at, f.remind_at, f.purpose
         FROM followups f INDEXED BY followups_reminder_pending JOIN customers c ON c.id = f.customer_id
         WHERE {PENDING} AND f.remind_at <= ?1 AND c.deleted_at IS NULL
         ORDER BY f.remind_at, f.id"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map([t], |r| {
        Ok(DueReminder {
            followup_id: r.get(0)?,
            customer_id: r.get(1)?,
            customer_code: r.get(2)?,
            customer_name: r.get(3)?,
            kind: Kind::from_key(&r.get::<_, String>(4)?),
            planned_at: r.get(5)?,
            remind_at: r.get(6)?,
            purpose: r.get(7)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// When the earliest pending reminder is due (maybe already in the past),
/// or None when nothing is pending. One seek on a partial index.
pub fn next_due_time(conn: &Connection) -> Result<Option<Millis>> {
    let sql = format!(
        "SELECT f.remind_at FROM followups f INDEXED BY followups_reminder_pending
         WHERE {PENDING}
           AND NOT EXISTS (SELECT 1 FROM customers c WHERE c.id = f.customer_id AND c.deleted_at IS NOT NULL)
         ORDER BY f.remind_at LIMIT 1"
    );
    Ok(conn
        .prepare_cached(&sql)?
        .query_row([], |r| r.get(0))
        .optional()?)
}

/// Record that these reminders were shown. Returns the ids that were
/// still pending and are now claimed; an id already fired (by another
/// process, before a restart) is left out, so it is never shown twice.
pub fn mark_fired(ws: &mut Workspace, ids: &[String]) -> Result<Vec<String>> {
    ws.write("reminder", |w| {
        let now = w.now();
        let mut claimed = vec![];
        for id in ids {
            let n = w
                .tx()
                .prepare_cached(
                    "UPDATE followups SET reminder_fired_at = ?2
                     WHERE id = ?1 AND reminder_fired_at IS NULL AND remind_at IS NOT NULL
                       AND status = 'planned' AND deleted_at IS NULL",
                )?
                .execute(params![id, now])?;
            if n == 1 {
                w.log("followup", id, "reminder_fired_at", None, Some(now.into()))?;
                claimed.push(id.clone());
            }
        }
        Ok(claimed)
    })
}

/// Remind again in `minutes` (稍后提醒).
pub fn snooze(ws: &mut Workspace, followup: &str, minutes: i64) -> Result<Followup> {
    let id = followups::resolve_id(ws.conn(), followup)?;
    if !(1..=7 * 24 * 60).contains(&minutes) {
        return Err(crate::Error::validation(
            "minutes",
            "稍后提醒的分钟数必须在 1 到 10080 之间",
            "Snooze minutes must be between 1 and 10080",
        ));
    }
    ws.write("reminder", |w| {
        let f = followups::get(w.tx(), &id)?;
        if f.status != followups::FollowupStatus::Planned || f.deleted_at.is_some() {
            return Err(crate::Error::validation(
                "status",
                "这条跟进已不是计划状态，无需提醒",
                "This follow-up is no longer planned",
            ));
        }
        let until = w.now() + minutes * MINUTE;
        w.tx().execute(
            "UPDATE followups SET snoozed_until = ?2, remind_at = ?2, reminder_fired_at = NULL, updated_at = ?3 WHERE id = ?1",
            params![id, until, w.now()],
        )?;
        w.log("followup", &id, "snoozed_until", f.snoozed_until.map(Value::from), Some(until.into()))?;
        w.log("followup", &id, "remind_at", f.remind_at.map(Value::from), Some(until.into()))?;
        w.log("followup", &id, "reminder_fired_at", f.reminder_fired_at.map(Value::from), None)?;
        Ok(())
    })?;
    followups::get(ws.conn(), &id)
}

// ---------------------------------------------------------------- notifications

/// A desktop notification to show.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct Notification {
    pub title: String,
    pub body: String,
    /// The customer to open on click (single reminders).
    pub customer_id: Option<String>,
    /// The follow-ups this notification reminds of.
    pub followup_ids: Vec<String>,
    /// A summary of several reminders (click opens Today).
    pub summary: bool,
}

/// What a person did with a notification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(tag = "type", rename_all = "snake_case")]
#[ts(export)]
pub enum Action {
    OpenCustomer { customer_id: String },
    OpenToday,
    Snooze { followup_id: String, minutes: i64 },
}

enum Msg {
    Wake,
    Stop,
    Action(Action),
}

/// Where a notifier reports what the person clicked.
#[derive(Clone)]
pub struct ActionSink(Sink);

#[derive(Clone)]
enum Sink {
    None,
    Scheduler(Sender<Msg>),
    Callback(std::sync::Arc<dyn Fn(&Action) + Send + Sync>),
}

impl ActionSink {
    /// A sink that drops every action (tests, platforms without actions).
    pub fn none() -> Self {
        ActionSink(Sink::None)
    }
    /// A sink that calls `f` with each action (notifications shown outside
    /// the scheduler, such as the daily report's).
    pub fn callback(f: impl Fn(&Action) + Send + Sync + 'static) -> Self {
        ActionSink(Sink::Callback(std::sync::Arc::new(f)))
    }
    pub fn send(&self, a: Action) {
        match &self.0 {
            Sink::None => {}
            Sink::Scheduler(tx) => {
                let _ = tx.send(Msg::Action(a));
            }
            Sink::Callback(f) => f(&a),
        }
    }
}

/// Shows notifications. Implemented by [`DesktopNotifier`] (notify-rust)
/// and by test recorders.
pub trait Notifier: Send {
    fn notify(&self, n: &Notification, actions: &ActionSink) -> Result<()>;
}

fn when_text(planned: Option<Millis>, now: Millis, lang: Lang) -> String {
    let Some(p) = planned else {
        return String::new();
    };
    let full = format_local(p);
    let today = format_local(now).get(..10).map(str::to_string);
    let shown = if today.as_deref() == full.get(..10) {
        full.get(11..).unwrap_or(&full).to_string()
    } else {
        full.clone()
    };
    let mins = (p - now + MINUTE / 2).div_euclid(MINUTE);
    let rel = match (lang, mins) {
        (Lang::Zh, m) if m > 0 => format!("（{m} 分钟后）"),
        (Lang::Zh, 0) => "（现在）".into(),
        (Lang::Zh, m) => format!("（已过 {} 分钟）", -m),
        (Lang::En, m) if m > 0 => format!(" (in {m} min)"),
        (Lang::En, 0) => " (now)".into(),
        (Lang::En, m) => format!(" ({} min ago)", -m),
    };
    format!("{shown}{rel}")
}

/// The notification for reminders due together. One reminder gets its own
/// notification; several (or any missed while closed) one summary.
pub fn compose(due: &[DueReminder], now: Millis, lang: Lang, missed: bool) -> Notification {
    let ids = due.iter().map(|d| d.followup_id.clone()).collect();
    if let [d] = due {
        let kind = d.kind.label(lang);
        let when = when_text(d.planned_at, now, lang);
        let title = match (lang, missed) {
            (Lang::Zh, false) => format!("跟进提醒：{}", d.customer_name),
            (Lang::Zh, true) => format!("错过的跟进提醒：{}", d.customer_name),
            (Lang::En, false) => format!("Follow-up: {}", d.customer_name),
            (Lang::En, true) => format!("Missed follow-up: {}", d.customer_name),
        };
        let mut body = match lang {
            Lang::Zh => format!("{kind} · {when}"),
            Lang::En => format!("{kind} · {when}"),
        };
        if let Some(p) = &d.purpose {
            body.push('\n');
            body.push_str(p);
        }
        return Notification {
            title,
            body,
            customer_id: Some(d.customer_id.clone()),
            followup_ids: ids,
            summary: false,
        };
    }
    let n = due.len();
    let title = match (lang, missed) {
        (Lang::Zh, true) => format!("你有 {n} 条错过的跟进提醒"),
        (Lang::Zh, false) => format!("你有 {n} 条跟进到时间了"),
        (Lang::En, true) => format!("{n} missed follow-up reminders"),
        (Lang::En, false) => format!("{n} follow-ups are due"),
    };
    let mut lines: Vec<String> = due
        .iter()
        .take(5)
        .map(|d| {
            format!(
                "{} {} {}",
                d.planned_at.map(format_local).unwrap_or_default(),
                d.kind.label(lang),
                d.customer_name
            )
        })
        .collect();
    if n > 5 {
        lines.push(match lang {
            Lang::Zh => format!("……共 {n} 条，请在“今日”页查看"),
            Lang::En => format!("… {n} in all; see Today"),
        });
    }
    Notification {
        title,
        body: lines.join("\n"),
        customer_id: None,
        followup_ids: ids,
        summary: true,
    }
}

// ---------------------------------------------------------------- engine

/// The scheduler's logic without the thread: each [`Engine::step`] fires
/// what is due now and says when to look again. Tests drive it with a
/// fixed clock; [`Scheduler`] drives it with the system clock.
pub struct Engine {
    ws: Workspace,
    lang: Lang,
    started: bool,
    /// Evaluate the alert rules this often (None: never).
    alerts_every: Option<Millis>,
    next_alerts: Millis,
}

/// How often the scheduler evaluates the alert rules (incremental, cheap).
pub const ALERTS_EVERY: Duration = Duration::from_secs(15 * 60);

impl Engine {
    pub fn new(ws: Workspace, lang: Lang) -> Self {
        Engine {
            ws,
            lang,
            started: false,
            alerts_every: None,
            next_alerts: Millis::MIN,
        }
    }

    /// Also evaluate the alert rules ([`crate::alerts::evaluate`]) at start
    /// and then every `every`, so alerts appear on Today without anyone
    /// asking.
    pub fn with_alerts(mut self, every: Duration) -> Self {
        self.alerts_every = Some(every.as_millis() as Millis);
        self
    }

    pub fn workspace(&mut self) -> &mut Workspace {
        &mut self.ws
    }

    /// Fire what is due now. The first step after start shows everything
    /// already due as one notification ("missed"); later steps show each
    /// due reminder, or one summary when more than [`BURST`] fall due
    /// together. Returns the next due time.
    pub fn step(&mut self, notifier: &dyn Notifier, sink: &ActionSink) -> Result<Option<Millis>> {
        let now = self.ws.now_ms();
        if let Some(every) = self.alerts_every {
            if now >= self.next_alerts {
                self.next_alerts = now + every;
                if let Err(e) = crate::alerts::evaluate(&mut self.ws, now) {
                    eprintln!("kehu: alert rules: {}", e.message(self.lang));
                }
            }
        }
        let due = due_at(self.ws.conn(), now)?;
        let missed = !self.started;
        self.started = true;
        if !due.is_empty() {
            let ids: Vec<String> = due.iter().map(|d| d.followup_id.clone()).collect();
            let claimed = mark_fired(&mut self.ws, &ids)?;
            let due: Vec<DueReminder> = due
                .into_iter()
                .filter(|d| claimed.contains(&d.followup_id))
                .collect();
            if missed || due.len() > BURST {
                if !due.is_empty() {
                    notifier.notify(&compose(&due, now, self.lang, missed), sink)?;
                }
            } else {
                for d in &due {
                    notifier.notify(
                        &compose(std::slice::from_ref(d), now, self.lang, false),
                        sink,
                    )?;
                }
            }
        }
        next_due_time(self.ws.conn())
    }

    fn handle(&mut self, a: &Action) {
        if let Action::Snooze {
            followup_id,
            minutes,
        } = a
        {
            if let Err(e) = snooze(&mut self.ws, followup_id, *minutes) {
                eprintln!("kehu: snooze failed: {}", e.message(self.lang));
            }
        }
    }
}

// ---------------------------------------------------------------- scheduler

/// Runs an [`Engine`] on its own thread with the system clock.
pub struct Scheduler;

/// Called with every action a person takes on a notification (open the
/// customer, open Today; snoozes are also applied by the scheduler itself).
pub type ActionCallback = Box<dyn Fn(&Action) + Send>;

impl Scheduler {
    /// Start the scheduler on the workspace at `db_path`.
    pub fn spawn(
        db_path: impl Into<PathBuf>,
        notifier: impl Notifier + 'static,
        lang: Lang,
    ) -> Result<SchedulerHandle> {
        Self::spawn_with(db_path, notifier, lang, None)
    }

    /// [`Scheduler::spawn`] with a callback for notification actions.
    pub fn spawn_with(
        db_path: impl Into<PathBuf>,
        notifier: impl Notifier + 'static,
        lang: Lang,
        on_action: Option<ActionCallback>,
    ) -> Result<SchedulerHandle> {
        let path = db_path.into();
        // Open here so a bad path fails the caller, not the thread.
        let ws = Workspace::open(&path)?;
        let (tx, rx) = mpsc::channel::<Msg>();
        let sink = ActionSink(Sink::Scheduler(tx.clone()));
        let thread = std::thread::Builder::new()
            .name("kehu-reminders".into())
            .spawn(move || {
                let mut ws = ws;
                ws.origin = "reminder".into();
                let mut engine = Engine::new(ws, lang).with_alerts(ALERTS_EVERY);
                loop {
                    let wait = match engine.step(&notifier, &sink) {
                        Ok(Some(t)) => {
                            let ms = (t - engine.ws.now_ms()).max(0) as u64;
                            Duration::from_millis(ms).min(POLL)
                        }
                        Ok(None) => POLL,
                        Err(e) => {
                            eprintln!("kehu: reminders: {}", e.message(lang));
                            POLL
                        }
                    };
                    match rx.recv_timeout(wait) {
                        Ok(Msg::Wake) | Err(RecvTimeoutError::Timeout) => {}
                        Ok(Msg::Action(a)) => {
                            engine.handle(&a);
                            if let Some(cb) = &on_action {
                                cb(&a);
                            }
                        }
                        Ok(Msg::Stop) | Err(RecvTimeoutError::Disconnected) => break,
                    }
                }
            })?;
        Ok(SchedulerHandle {
            tx,
            thread: Some(thread),
        })
    }
}

/// The running scheduler. Call [`SchedulerHandle::wake`] after a write
/// that may change the next due time; dropping the handle stops it.
pub struct SchedulerHandle {
    tx: Sender<Msg>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl SchedulerHandle {
    /// Re-check now (a follow-up was planned, postponed, snoozed, …).
    pub fn wake(&self) {
        let _ = self.tx.send(Msg::Wake);
    }

    /// Stop and wait for the thread to end.
    pub fn stop(mut self) {
        self.shutdown();
    }

    /// Wait until the scheduler ends (it runs until stopped).
    pub fn join(mut self) {
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }

    fn shutdown(&mut self) {
        let _ = self.tx.send(Msg::Stop);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for SchedulerHandle {
    fn drop(&mut self) {
        self.shutdown();
    }
}

// ---------------------------------------------------------------- desktop

/// Real desktop notifications through notify-rust (freedesktop
/// notifications on Linux, Notification Center on macOS, toasts on Windows).
pub struct DesktopNotifier {
    pub lang: Lang,
    /// Application name shown by the notification server.
    pub app_name: String,
}

impl DesktopNotifier {
    pub fn new(lang: Lang) -> Self {
        DesktopNotifier {
            lang,
            app_name: "Kehu".into(),
        }
    }
}

impl Notifier for DesktopNotifier {
    fn notify(&self, n: &Notification, actions: &ActionSink) -> Result<()> {
        let mut note = notify_rust::Notification::new();
        note.summary(&n.title)
            .body(&n.body)
            .appname(&self.app_name)
            .icon("appointment-soon");
        #[cfg(all(unix, not(target_os = "macos")))]
        {
            let l = self.lang;
            if n.summary {
                note.action("default", l.pick("查看今日", "Open Today"));
            } else {
                note.action("default", l.pick("打开客户", "Open customer"))
                    .action("open", l.pick("打开客户", "Open customer"))
                    .action("snooze10", l.pick("稍后10分钟", "In 10 min"))
                    .action("snooze60", l.pick("稍后1小时", "In 1 hour"));
            }
            note.hint(notify_rust::Hint::Category("x-kehu.reminder".into()))
                .timeout(notify_rust::Timeout::Never);
            let handle = note.show().map_err(notify_error)?;
            let sink = actions.clone();
            let n = n.clone();
            // Waiting for a click blocks; one short-lived thread per
            // notification, ended when it is clicked or closed.
            let _ = std::thread::Builder::new()
                .name("kehu-notification".into())
                .spawn(move || {
                    handle.wait_for_action(|action| {
                        let first = n.followup_ids.first().cloned().unwrap_or_default();
                        let a = match (action, &n.customer_id) {
                            ("default" | "open", Some(c)) => Action::OpenCustomer {
                                customer_id: c.clone(),
                            },
                            ("default" | "open", None) => Action::OpenToday,
                            ("snooze10", _) => Action::Snooze {
                                followup_id: first,
                                minutes: 10,
                            },
                            ("snooze60", _) => Action::Snooze {
                                followup_id: first,
                                minutes: 60,
                            },
                            _ => return,
                        };
                        sink.send(a);
                    })
                });
        }
        #[cfg(not(all(unix, not(target_os = "macos"))))]
        {
            let _ = actions;
            note.show().map_err(notify_error)?;
        }
        Ok(())
    }
}

fn notify_error(e: notify_rust::error::Error) -> crate::Error {
    crate::Error::Io(std::io::Error::other(format!("desktop notification: {e}")))
}
