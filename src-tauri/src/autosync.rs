//! Team sync in the background: one thread that runs a sync round (the
//! core's `sync::sync_now`) at start, every N minutes (this device's
//! setting), a few seconds after local edits (debounced: a burst of typing
//! is one round) and when another device's files arrive in the shared
//! folder (a file watcher, debounced too). Rounds never overlap: the
//! button on the Sync page and the thread share one lock.
//!
//! Each round runs on its own connection, so the window's connection sees
//! the merged changes as a new `data_version` and every open view reloads;
//! a round that merged something also sends `data-changed` at once, and
//! every round ends with a `sync-state` event for the Sync page.

use crate::state::AppState;
use kehu::sync::SyncReport;
use kehu::sync_app::AutoSync;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::sync::Mutex;
use std::time::Duration;
use tauri::{AppHandle, Emitter, Manager};
use ts_rs::TS;

/// Quiet time after the last local edit before a round starts.
pub const EDIT_DEBOUNCE_MS: i64 = 3_000;
/// Quiet time after the last change in the shared folder (a sync engine
/// writes a file in several steps).
pub const FOLDER_DEBOUNCE_MS: i64 = 2_000;
/// However busy the user or the folder, a round starts at most this long
/// after the first unsynced event.
pub const MAX_DELAY_MS: i64 = 30_000;
/// The first round, this long after the app starts (the window first).
pub const START_DELAY_MS: i64 = 2_000;
/// How often the thread asks SQLite whether another connection wrote.
pub const POLL_MS: i64 = 1_000;

/// Why a round ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Trigger {
    Start,
    Timer,
    Edit,
    Folder,
    Manual,
    Setup,
}

/// One round: when, why, and what it did or why it failed.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct RoundOutcome {
    pub at: i64,
    pub trigger: Trigger,
    pub report: Option<SyncReport>,
    /// The failure, in the user's language (the folder is missing, …).
    pub error: Option<String>,
}

/// What the Sync page shows about the background sync (`sync-state`).
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct SyncState {
    pub running: bool,
    pub last: Option<RoundOutcome>,
    /// The folder the watcher follows (None: not watching).
    pub watching: Option<String>,
}

enum Msg {
    /// The setting or the team changed: read them again.
    Wake,
    /// Something changed in the shared folder.
    Folder,
    /// Close the worker's connection (the database file is about to be
    /// replaced: encryption at rest); acknowledged. A Wake reopens it.
    Release(std::sync::mpsc::SyncSender<()>),
}

#[derive(Default)]
pub struct SyncJobs {
    round: Mutex<()>,
    running: AtomicBool,
    last: Mutex<Option<RoundOutcome>>,
    watching: Mutex<Option<String>>,
    worker: Mutex<Option<Sender<Msg>>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl SyncJobs {
    pub fn state(&self) -> SyncState {
        SyncState {
            running: self.running.load(Ordering::SeqCst),
            last: lock(&self.last).clone(),
            watching: lock(&self.watching).clone(),
        }
    }

    /// Let the thread read the setting and the team again.
    pub fn wake(&self) {
        if let Some(tx) = lock(&self.worker).as_ref() {
            let _ = tx.send(Msg::Wake);
        }
    }

    /// Have the worker close its connection to the database (before the
    /// file is replaced); waits for it, at most a few seconds.
    pub fn release(&self) {
        let (ack, done) = std::sync::mpsc::sync_channel(1);
        if let Some(tx) = lock(&self.worker).as_ref() {
            if tx.send(Msg::Release(ack)).is_ok() {
                let _ = done.recv_timeout(std::time::Duration::from_secs(10));
            }
        }
    }
}

fn now_ms() -> i64 {
    kehu::clock::Clock::now_ms(&kehu::clock::SystemClock)
}

/// When the next round is due. Pure: the thread feeds it the clock and the
/// events, the tests feed it numbers.
#[derive(Debug, Clone)]
pub struct Planner {
    interval_ms: i64,
    /// The next periodic round (the first one is the start round).
    next_tick: i64,
    tick_trigger: Trigger,
    /// A debounced round asked for by an edit or the folder:
    /// (due, first event, why).
    soon: Option<(i64, i64, Trigger)>,
}

impl Planner {
    pub fn new(now: i64, interval_min: u32) -> Self {
        Planner {
            interval_ms: interval_ms(interval_min),
            next_tick: now + START_DELAY_MS,
            tick_trigger: Trigger::Start,
            soon: None,
        }
    }

    /// A new interval: the next periodic round comes no later than one new
    /// interval from now.
    pub fn set_interval(&mut self, now: i64, interval_min: u32) {
        self.interval_ms = interval_ms(interval_min);
        self.next_tick = self.next_tick.min(now + self.interval_ms);
    }

    /// Something happened that should sync soon: wait `debounce` after the
    /// last such event, but never more than [`MAX_DELAY_MS`] after the first.
    pub fn poke(&mut self, now: i64, debounce: i64, why: Trigger) {
        self.soon = Some(match self.soon {
            None => (now + debounce, now, why),
            Some((_, first, _)) => ((now + debounce).min(first + MAX_DELAY_MS), first, why),
        });
    }

    /// Why a round is due now, if one is.
    pub fn due(&self, now: i64) -> Option<Trigger> {
        match self.soon {
            Some((at, _, why)) if now >= at => Some(why),
            _ if now >= self.next_tick => Some(self.tick_trigger),
            _ => None,
        }
    }

    /// A round ran (whatever it found): the next periodic one is one
    /// interval away, and nothing is pending.
    pub fn ran(&mut self, now: i64) {
        self.soon = None;
        self.next_tick = now + self.interval_ms;
        self.tick_trigger = Trigger::Timer;
    }

    /// How long to sleep: until the next due round, at most [`POLL_MS`]
    /// (the thread also polls for local edits).
    pub fn wait(&self, now: i64) -> Duration {
        let next = self
            .soon
            .map_or(self.next_tick, |(at, _, _)| at.min(self.next_tick));
        Duration::from_millis((next - now).clamp(0, POLL_MS) as u64)
    }
}

fn interval_ms(min: u32) -> i64 {
    i64::from(min.max(1)) * 60_000
}

/// Whether a change the watcher saw can bring another device's entries:
/// a file created, written, renamed or removed outside this device's own
/// folder (whose files this app writes itself). Reads are ignored, or each
/// round would wake the watcher again.
pub fn relevant(ev: &notify::Event, own_dir: &Path) -> bool {
    use notify::event::{AccessKind, AccessMode, ModifyKind};
    use notify::EventKind;
    let kind = match ev.kind {
        EventKind::Create(_) | EventKind::Remove(_) => true,
        EventKind::Modify(ModifyKind::Metadata(_)) => false,
        EventKind::Modify(_) => true,
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        _ => false,
    };
    kind && ev.paths.iter().any(|p| !p.starts_with(own_dir))
}

/// Run one round now on a connection of its own; rounds never overlap.
/// The outcome is kept for the Sync page and sent as `sync-state`.
pub fn run_round(app: &AppHandle, trigger: Trigger) -> RoundOutcome {
    let state = app.state::<AppState>();
    let jobs = app.state::<SyncJobs>();
    let _one_at_a_time = lock(&jobs.round);
    jobs.running.store(true, Ordering::SeqCst);
    let _ = app.emit("sync-state", jobs.state());
    let lang = state.lang();
    let result = crate::jobs::open_side(&state)
        .map_err(|e| e.message)
        .and_then(|mut ws| kehu::sync::sync_now(&mut ws).map_err(|e| e.message(lang)));
    let outcome = RoundOutcome {
        at: now_ms(),
        trigger,
        report: result.as_ref().ok().cloned(),
        error: result.err(),
    };
    *lock(&jobs.last) = Some(outcome.clone());
    jobs.running.store(false, Ordering::SeqCst);
    if outcome
        .report
        .as_ref()
        .is_some_and(|r| r.applied > 0 || r.renumbered > 0)
    {
        let _ = app.emit("data-changed", ());
        // A large batch leaves segments to the daily run: wake it (it does
        // nothing when not asked to).
        crate::shell::start_daily(app);
    }
    let _ = app.emit("sync-state", jobs.state());
    outcome
}

/// Start the background sync (once; later calls only wake it).
pub fn start(app: &AppHandle) {
    let jobs = app.state::<SyncJobs>();
    let mut slot = lock(&jobs.worker);
    if let Some(tx) = slot.as_ref() {
        let _ = tx.send(Msg::Wake);
        return;
    }
    let (tx, rx) = std::sync::mpsc::channel::<Msg>();
    *slot = Some(tx.clone());
    drop(slot);
    let handle = app.clone();
    let spawned = std::thread::Builder::new()
        .name("kehu-sync".into())
        .spawn(move || worker(handle, tx, rx));
    if let Err(e) = spawned {
        eprintln!("kehu: background sync could not start: {e}");
    }
}

/// The team and setting as the thread last read them.
struct Setup {
    auto: AutoSync,
    team_dir: Option<PathBuf>,
    own_dir: Option<PathBuf>,
}

fn read_setup(ws: &kehu::Workspace) -> kehu::Result<Setup> {
    // Only a folder can be watched; WebDAV and S3 teams sync on the timer,
    // after edits and on the button.
    let cfg = kehu::sync::config(ws.conn())?
        .filter(|c| matches!(c.target, kehu::sync::Target::Folder { .. }));
    Ok(Setup {
        auto: kehu::sync_app::auto(ws.conn())?,
        team_dir: cfg.as_ref().map(|c| c.folder.join(c.team_dir())),
        own_dir: cfg
            .as_ref()
            .map(|c| c.folder.join(c.device_dir(ws.device_id()))),
    })
}

fn watch(
    team_dir: &Path,
    own_dir: &Path,
    tx: &Sender<Msg>,
) -> notify::Result<notify::RecommendedWatcher> {
    use notify::Watcher;
    let tx = tx.clone();
    let own = own_dir.to_path_buf();
    let mut w = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
        if let Ok(ev) = res {
            if relevant(&ev, &own) {
                let _ = tx.send(Msg::Folder);
            }
        }
    })?;
    w.watch(team_dir, notify::RecursiveMode::Recursive)?;
    Ok(w)
}

fn worker(app: AppHandle, tx: Sender<Msg>, rx: Receiver<Msg>) {
    let state = app.state::<AppState>();
    let jobs = app.state::<SyncJobs>();
    let open = || crate::jobs::open_side(&state).ok();
    let Some(mut ws) = open() else {
        return; // no database: the error view is showing
    };
    let mut setup = match read_setup(&ws) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("kehu: background sync: {e}");
            return;
        }
    };
    let mut plan = Planner::new(now_ms(), setup.auto.interval_min);
    let mut watcher: Option<(PathBuf, notify::RecommendedWatcher)> = None;
    // Look at the watcher again: at start, after a Wake and after a round
    // (a USB stick that was missing may be back), not every second.
    let mut rewatch = true;
    let mut seen_version = ws.data_version().unwrap_or(0);
    loop {
        let want = setup.team_dir.clone().filter(|_| setup.auto.enabled);
        if std::mem::take(&mut rewatch) && watcher.as_ref().map(|(p, _)| p) != want.as_ref() {
            watcher = None;
            *lock(&jobs.watching) = None;
            if let (Some(dir), Some(own)) = (&want, &setup.own_dir) {
                match watch(dir, own, &tx) {
                    Ok(w) => {
                        *lock(&jobs.watching) = Some(dir.to_string_lossy().into());
                        watcher = Some((dir.clone(), w));
                    }
                    Err(e) => eprintln!("kehu: cannot watch {}: {e}", dir.display()),
                }
            }
        }
        match rx.recv_timeout(plan.wait(now_ms())) {
            Ok(Msg::Wake) => {
                if let Some(w) = open() {
                    ws = w;
                }
                if let Ok(s) = read_setup(&ws) {
                    setup = s;
                }
                plan.set_interval(now_ms(), setup.auto.interval_min);
                seen_version = ws.data_version().unwrap_or(seen_version);
                rewatch = true;
                // The fresh connection counts edits from now on: one made
                // between the set-up and this wake would wait a whole
                // interval.
                if setup.team_dir.is_some() && kehu::sync_app::has_unsent(&ws).unwrap_or(false) {
                    plan.poke(now_ms(), EDIT_DEBOUNCE_MS, Trigger::Edit);
                }
            }
            Ok(Msg::Folder) => plan.poke(now_ms(), FOLDER_DEBOUNCE_MS, Trigger::Folder),
            Ok(Msg::Release(ack)) => {
                // An empty stand-in until the Wake that follows.
                if let Ok(m) =
                    kehu::Workspace::open_in_memory(std::sync::Arc::new(kehu::clock::SystemClock))
                {
                    ws = m;
                }
                let _ = ack.send(());
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
        let configured = setup.team_dir.is_some();
        // Another connection wrote (the window, the CLI): local edits to
        // send?
        if let Ok(v) = ws.data_version() {
            if v != seen_version {
                seen_version = v;
                if configured && kehu::sync_app::has_unsent(&ws).unwrap_or(false) {
                    plan.poke(now_ms(), EDIT_DEBOUNCE_MS, Trigger::Edit);
                }
            }
        }
        if !configured || !setup.auto.enabled {
            // Nothing to do until the Sync page sets it up (a Wake).
            plan.ran(now_ms());
            continue;
        }
        if let Some(why) = plan.due(now_ms()) {
            let out = run_round(&app, why);
            plan.ran(now_ms());
            if out.error.is_some() {
                watcher = None; // try the folder afresh
            }
            rewatch = true;
            // A fresh connection each round: a restored backup replaces
            // the file under the old one.
            if let Some(w) = open() {
                ws = w;
            }
            seen_version = ws.data_version().unwrap_or(seen_version);
            // Edits made while the round ran go out soon.
            if kehu::sync_app::has_unsent(&ws).unwrap_or(false) {
                plan.poke(now_ms(), EDIT_DEBOUNCE_MS, Trigger::Edit);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;

    #[test]
    fn the_first_round_runs_shortly_after_start_then_every_interval() {
        let mut p = Planner::new(0, 5);
        assert_eq!(p.due(START_DELAY_MS - 1), None);
        assert_eq!(p.due(START_DELAY_MS), Some(Trigger::Start));
        p.ran(START_DELAY_MS);
        assert_eq!(p.due(START_DELAY_MS + 5 * MIN - 1), None);
        assert_eq!(p.due(START_DELAY_MS + 5 * MIN), Some(Trigger::Timer));
    }

    #[test]
    fn a_burst_of_edits_is_one_round_three_seconds_after_the_last() {
        let mut p = Planner::new(0, 5);
        p.ran(0);
        for t in [10_000, 11_000, 12_500] {
            p.poke(t, EDIT_DEBOUNCE_MS, Trigger::Edit);
            assert_eq!(p.due(t + 1), None);
        }
        assert_eq!(p.due(12_500 + EDIT_DEBOUNCE_MS - 1), None);
        assert_eq!(p.due(12_500 + EDIT_DEBOUNCE_MS), Some(Trigger::Edit));
        p.ran(15_500);
        assert_eq!(p.due(16_000), None, "nothing pending after the round");
    }

    #[test]
    fn endless_typing_still_syncs_within_the_maximum_delay() {
        let mut p = Planner::new(0, 60);
        p.ran(0);
        let first = 1_000;
        let mut t = first;
        while t < first + 2 * MAX_DELAY_MS {
            p.poke(t, EDIT_DEBOUNCE_MS, Trigger::Edit);
            if p.due(t).is_some() {
                break;
            }
            t += 1_000;
        }
        assert_eq!(t, first + MAX_DELAY_MS, "due at the cap, not later");
    }

    #[test]
    fn the_folder_waits_its_own_debounce_and_says_why() {
        let mut p = Planner::new(0, 5);
        p.ran(0);
        p.poke(1_000, FOLDER_DEBOUNCE_MS, Trigger::Folder);
        assert_eq!(p.due(1_000 + FOLDER_DEBOUNCE_MS), Some(Trigger::Folder));
    }

    #[test]
    fn a_shorter_interval_takes_effect_at_once_a_longer_one_after_the_next_round() {
        let mut p = Planner::new(0, 60);
        p.ran(0);
        p.set_interval(10 * MIN, 1);
        assert_eq!(p.due(11 * MIN), Some(Trigger::Timer));
        p.ran(11 * MIN);
        p.set_interval(11 * MIN, 30);
        assert_eq!(p.due(12 * MIN), Some(Trigger::Timer), "old tick kept");
        p.ran(12 * MIN);
        assert_eq!(p.due(13 * MIN), None);
        assert_eq!(p.due(42 * MIN), Some(Trigger::Timer));
    }

    #[test]
    fn the_thread_sleeps_until_the_next_round_but_polls_every_second() {
        let mut p = Planner::new(0, 5);
        p.ran(0);
        assert_eq!(p.wait(0).as_millis(), POLL_MS as u128);
        p.poke(0, 300, Trigger::Edit);
        assert_eq!(p.wait(100).as_millis(), 200);
        assert_eq!(p.wait(10_000).as_millis(), 0);
    }

    #[test]
    fn the_watcher_ignores_reads_and_this_devices_own_files() {
        use notify::event::{AccessKind, AccessMode, CreateKind, ModifyKind, RenameMode};
        use notify::{Event, EventKind};
        let own = Path::new("/s/kehu-sync/t/devices/me");
        let other = PathBuf::from("/s/kehu-sync/t/devices/other/1-2.kseg");
        let ev = |kind, p: &Path| Event::new(kind).add_path(p.to_path_buf());
        assert!(relevant(
            &ev(EventKind::Create(CreateKind::File), &other),
            own
        ));
        assert!(relevant(
            &ev(EventKind::Modify(ModifyKind::Name(RenameMode::To)), &other),
            own
        ));
        assert!(relevant(
            &ev(
                EventKind::Access(AccessKind::Close(AccessMode::Write)),
                &other
            ),
            own
        ));
        assert!(!relevant(
            &ev(EventKind::Access(AccessKind::Open(AccessMode::Any)), &other),
            own
        ));
        assert!(!relevant(
            &ev(
                EventKind::Access(AccessKind::Close(AccessMode::Read)),
                &other
            ),
            own
        ));
        assert!(!relevant(
            &ev(EventKind::Create(CreateKind::File), &own.join("5-6.kseg")),
            own
        ));
    }
}
