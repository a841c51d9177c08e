//! Reminders: what is due at t, firing exactly once (also across restarts
//! and postponements), snoozing, missed reminders as one summary, and the
//! scheduler thread.
mod common;

use common::{env, T0};
use kehu::clock::FixedClock;
use kehu::followups::{self, NewFollowup, MINUTE};
use kehu::reminders::{self, ActionSink, Engine, Notification, Notifier};
use kehu::{Lang, Workspace};
use proptest::prelude::*;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

const HOUR: i64 = 60 * MINUTE;

#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Vec<(i64, Notification)>>>, Option<FixedClock>);

impl Notifier for Recorder {
    fn notify(&self, n: &Notification, _: &ActionSink) -> kehu::Result<()> {
        let t = self.1.as_ref().map(kehu::clock::Clock::now_ms).unwrap_or(0);
        self.0.lock().unwrap().push((t, n.clone()));
        Ok(())
    }
}

impl Recorder {
    fn taken(&self) -> Vec<(i64, Notification)> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

fn customer(ws: &mut Workspace, name: &str) -> String {
    common::add(ws, name, vec![], &[]).id
}

fn plan(ws: &mut Workspace, c: &str, at: i64, remind: i64) -> String {
    followups::add(
        ws,
        NewFollowup {
            customer: c.into(),
            planned_at: Some(at),
            remind_before_min: Some(remind),
            ..Default::default()
        },
    )
    .unwrap()
    .id
}

/// (planned offset, remind-before minutes, ask at offset) → due?
#[test]
fn what_is_due_at_t() {
    let table: &[(i64, i64, i64, bool)] = &[
        (HOUR, 30, 29 * MINUTE, false),
        (HOUR, 30, 30 * MINUTE - 1, false),
        (HOUR, 30, 30 * MINUTE, true),
        (HOUR, 30, 2 * HOUR, true),
        (HOUR, 0, HOUR - 1, false),
        (HOUR, 0, HOUR, true),
        (2 * 24 * HOUR, 24 * 60, 24 * HOUR, true),
        (2 * 24 * HOUR, 24 * 60, 24 * HOUR - MINUTE, false),
    ];
    for &(planned, remind, ask, due) in table {
        let mut e = env();
        let c = customer(&mut e.ws, "提醒客户");
        let id = plan(&mut e.ws, &c, T0 + planned, remind);
        let got = reminders::due_at(e.ws.conn(), T0 + ask).unwrap();
        assert_eq!(
            got.len(),
            due as usize,
            "planned +{planned} remind {remind} at +{ask}"
        );
        if due {
            assert_eq!(got[0].followup_id, id);
            assert_eq!(got[0].customer_name, "提醒客户");
            assert_eq!(got[0].remind_at, T0 + planned - remind * MINUTE);
        }
        assert_eq!(
            reminders::next_due_time(e.ws.conn()).unwrap(),
            Some(T0 + planned - remind * MINUTE)
        );
    }
}

#[test]
fn done_cancelled_deleted_and_unreminded_follow_ups_are_never_due() {
    let mut e = env();
    let c = customer(&mut e.ws, "甲");
    let done = plan(&mut e.ws, &c, T0 + HOUR, 10);
    let cancelled = plan(&mut e.ws, &c, T0 + HOUR, 10);
    let deleted = plan(&mut e.ws, &c, T0 + HOUR, 10);
    followups::add(
        &mut e.ws,
        NewFollowup {
            customer: c.clone(),
            planned_at: Some(T0 + HOUR),
            no_reminder: true,
            ..Default::default()
        },
    )
    .unwrap();
    let c2 = customer(&mut e.ws, "乙");
    plan(&mut e.ws, &c2, T0 + HOUR, 10);
    followups::complete(&mut e.ws, &done, Default::default()).unwrap();
    followups::cancel(&mut e.ws, &cancelled, None).unwrap();
    followups::set_deleted(&mut e.ws, &deleted, true).unwrap();
    kehu::customers::delete(&mut e.ws, &[c2]).unwrap();
    assert!(reminders::due_at(e.ws.conn(), T0 + 2 * HOUR)
        .unwrap()
        .is_empty());
    assert_eq!(reminders::next_due_time(e.ws.conn()).unwrap(), None);
}

#[test]
fn a_reminder_is_claimed_once_even_by_two_processes() {
    let mut e = env();
    let c = customer(&mut e.ws, "甲");
    let id = plan(&mut e.ws, &c, T0 + HOUR, 30);
    e.clock.set(T0 + HOUR);
    // A second connection to the same file, as another process would have.
    let mut other =
        Workspace::open_with_clock(e.dir.path().join("kehu.db"), Arc::new(e.clock.clone()))
            .unwrap();
    assert_eq!(
        reminders::mark_fired(&mut e.ws, std::slice::from_ref(&id)).unwrap(),
        std::slice::from_ref(&id)
    );
    assert!(reminders::mark_fired(&mut other, std::slice::from_ref(&id))
        .unwrap()
        .is_empty());
    assert!(reminders::due_at(other.conn(), T0 + 2 * HOUR)
        .unwrap()
        .is_empty());
    let f = followups::get(e.ws.conn(), &id).unwrap();
    assert_eq!(f.reminder_fired_at, Some(T0 + HOUR));
}

#[test]
fn snoozing_reminds_again_later() {
    let mut e = env();
    let c = customer(&mut e.ws, "甲");
    let id = plan(&mut e.ws, &c, T0 + HOUR, 30);
    e.clock.set(T0 + 30 * MINUTE);
    reminders::mark_fired(&mut e.ws, std::slice::from_ref(&id)).unwrap();
    let f = reminders::snooze(&mut e.ws, &id, 10).unwrap();
    assert_eq!(f.snoozed_until, Some(T0 + 40 * MINUTE));
    assert!(reminders::due_at(e.ws.conn(), T0 + 40 * MINUTE - 1)
        .unwrap()
        .is_empty());
    assert_eq!(
        reminders::due_at(e.ws.conn(), T0 + 40 * MINUTE)
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        f.planned_at,
        Some(T0 + HOUR),
        "snoozing does not move the plan"
    );
    let err = reminders::snooze(&mut e.ws, &id, 0).unwrap_err();
    assert_eq!(err.field(), Some("minutes"));
}

#[test]
fn reminders_missed_while_closed_are_shown_as_one_summary_at_start() {
    let mut e = env();
    for n in ["甲公司", "乙公司", "丙公司", "丁公司", "戊公司"] {
        let c = customer(&mut e.ws, n);
        plan(&mut e.ws, &c, T0 + HOUR, 0);
    }
    e.clock.set(T0 + 5 * HOUR);
    let rec = Recorder(Default::default(), Some(e.clock.clone()));
    let ws = Workspace::open_with_clock(e.dir.path().join("kehu.db"), Arc::new(e.clock.clone()))
        .unwrap();
    let mut engine = Engine::new(ws, Lang::Zh);
    assert_eq!(engine.step(&rec, &ActionSink::none()).unwrap(), None);
    let got = rec.taken();
    assert_eq!(got.len(), 1, "one summary, not a burst");
    let n = &got[0].1;
    assert!(n.summary);
    assert_eq!(n.title, "你有 5 条错过的跟进提醒");
    assert_eq!(n.followup_ids.len(), 5);
    assert!(n.body.contains("甲公司"));
    // Nothing more on the next step or after a restart.
    engine.step(&rec, &ActionSink::none()).unwrap();
    let ws = Workspace::open_with_clock(e.dir.path().join("kehu.db"), Arc::new(e.clock.clone()))
        .unwrap();
    Engine::new(ws, Lang::Zh)
        .step(&rec, &ActionSink::none())
        .unwrap();
    assert!(rec.taken().is_empty());
}

#[test]
fn a_due_reminder_names_the_customer_kind_and_time_in_the_users_language() {
    let mut e = env();
    let c = customer(&mut e.ws, "深圳市腾云科技有限公司");
    let id = followups::add(
        &mut e.ws,
        NewFollowup {
            customer: c,
            planned_at: Some(T0 + HOUR),
            remind_before_min: Some(30),
            fields: followups::FollowupFields {
                kind: followups::Kind::Visit,
                purpose: Some("确认报价".into()),
                ..Default::default()
            },
            ..Default::default()
        },
    )
    .unwrap()
    .id;
    let rec = Recorder(Default::default(), Some(e.clock.clone()));
    let ws = Workspace::open_with_clock(e.dir.path().join("kehu.db"), Arc::new(e.clock.clone()))
        .unwrap();
    let mut engine = Engine::new(ws, Lang::Zh);
    assert_eq!(
        engine.step(&rec, &ActionSink::none()).unwrap(),
        Some(T0 + 30 * MINUTE)
    );
    assert!(rec.taken().is_empty());
    e.clock.set(T0 + 30 * MINUTE);
    assert_eq!(engine.step(&rec, &ActionSink::none()).unwrap(), None);
    let got = rec.taken();
    assert_eq!(got.len(), 1);
    let n = &got[0].1;
    assert_eq!(n.title, "跟进提醒：深圳市腾云科技有限公司");
    assert!(n.body.starts_with("拜访 · "), "{}", n.body);
    assert!(n.body.contains("30 分钟后"), "{}", n.body);
    assert!(n.body.contains("确认报价"));
    assert_eq!(n.followup_ids, [id]);
    assert!(!n.summary);
    let en = reminders::compose(
        &reminders::due_at(e.ws.conn(), 0).unwrap(),
        T0,
        Lang::En,
        false,
    );
    assert_eq!(en.followup_ids.len(), 0);
}

#[test]
fn more_than_a_few_reminders_falling_due_together_become_one_summary() {
    let mut e = env();
    let ws = Workspace::open_with_clock(e.dir.path().join("kehu.db"), Arc::new(e.clock.clone()))
        .unwrap();
    let rec = Recorder(Default::default(), Some(e.clock.clone()));
    let mut engine = Engine::new(ws, Lang::Zh);
    engine.step(&rec, &ActionSink::none()).unwrap();
    for i in 0..3 {
        let c = customer(&mut e.ws, &format!("三家{i}"));
        plan(&mut e.ws, &c, T0 + HOUR, 0);
    }
    for i in 0..5 {
        let c = customer(&mut e.ws, &format!("五家{i}"));
        plan(&mut e.ws, &c, T0 + 2 * HOUR, 0);
    }
    e.clock.set(T0 + HOUR);
    engine.step(&rec, &ActionSink::none()).unwrap();
    assert_eq!(rec.taken().len(), 3, "three at once are shown one by one");
    e.clock.set(T0 + 2 * HOUR);
    engine.step(&rec, &ActionSink::none()).unwrap();
    let got = rec.taken();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].1.title, "你有 5 条跟进到时间了");
}

#[test]
fn the_scheduler_thread_fires_a_due_reminder_and_stops() {
    let e = env();
    let path = e.dir.path().join("kehu.db");
    let mut ws = Workspace::open(&path).unwrap();
    let c = customer(&mut ws, "线程客户");
    let now = ws.now_ms();
    let id = plan(&mut ws, &c, now + 300, 0);
    let rec = Recorder::default();
    let handle = reminders::Scheduler::spawn(&path, rec.clone(), Lang::Zh).unwrap();
    let mut fired = false;
    for _ in 0..100 {
        std::thread::sleep(std::time::Duration::from_millis(50));
        if !rec.0.lock().unwrap().is_empty() {
            fired = true;
            break;
        }
    }
    handle.wake();
    handle.stop();
    assert!(fired, "the reminder was not fired within 5 s");
    let got = rec.taken();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].1.followup_ids, std::slice::from_ref(&id));
    assert!(followups::get(ws.conn(), &id)
        .unwrap()
        .reminder_fired_at
        .is_some());
}

#[derive(Debug, Clone)]
enum Op {
    Tick(i64),
    Restart,
    Add { in_min: i64, remind: i64 },
    Postpone { which: usize, in_min: i64 },
    Snooze { which: usize, min: i64 },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0i64..180).prop_map(Op::Tick),
        1 => Just(Op::Restart),
        2 => (1i64..600, 0i64..90).prop_map(|(in_min, remind)| Op::Add { in_min, remind }),
        2 => (0usize..8, 1i64..600).prop_map(|(which, in_min)| Op::Postpone { which, in_min }),
        1 => (0usize..8, 1i64..60).prop_map(|(which, min)| Op::Snooze { which, min }),
    ]
}

#[derive(Debug)]
enum Ev {
    Armed(i64),
    Fired(i64),
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, .. ProptestConfig::default() })]

    /// Every planned reminder (each arming: plan, postponement, snooze) is
    /// reported due and shown exactly once, never before its time, over any
    /// sequence of clock ticks, restarts and postponements.
    #[test]
    fn every_planned_reminder_is_reported_due_exactly_once(ops in proptest::collection::vec(op(), 1..40)) {
        let e = env();
        let path = e.dir.path().join("kehu.db");
        let clock = e.clock.clone();
        let mut ws = Workspace::open_with_clock(&path, Arc::new(clock.clone())).unwrap();
        let c = customer(&mut ws, "性质客户");
        let rec = Recorder(Default::default(), Some(clock.clone()));
        let open = || Engine::new(Workspace::open_with_clock(&path, Arc::new(clock.clone())).unwrap(), Lang::Zh);
        let mut engine = open();
        let mut ids: Vec<String> = vec![];
        let mut events: HashMap<String, Vec<Ev>> = HashMap::new();
        let absorb = |rec: &Recorder, events: &mut HashMap<String, Vec<Ev>>| {
            for (t, n) in rec.taken() {
                for id in n.followup_ids {
                    events.entry(id).or_default().push(Ev::Fired(t));
                }
            }
        };
        for op in ops.into_iter().chain([Op::Tick(3 * 24 * 60)]) {
            match op {
                Op::Tick(m) => {
                    clock.advance(m * MINUTE);
                    engine.step(&rec, &ActionSink::none()).unwrap();
                    absorb(&rec, &mut events);
                    // Nothing due is left unshown after a step.
                    prop_assert!(reminders::due_at(ws.conn(), clock.now()).unwrap().is_empty());
                }
                Op::Restart => {
                    engine = open();
                }
                Op::Add { in_min, remind } => {
                    let id = plan(&mut ws, &c, clock.now() + in_min * MINUTE, remind);
                    let f = followups::get(ws.conn(), &id).unwrap();
                    events.entry(id.clone()).or_default().push(Ev::Armed(f.remind_at.unwrap()));
                    ids.push(id);
                }
                Op::Postpone { which, in_min } if !ids.is_empty() => {
                    let id = &ids[which % ids.len()];
                    let f = followups::postpone(&mut ws, id, clock.now() + in_min * MINUTE, "客户临时出差").unwrap();
                    events.entry(id.clone()).or_default().push(Ev::Armed(f.remind_at.unwrap()));
                }
                Op::Snooze { which, min } if !ids.is_empty() => {
                    let id = &ids[which % ids.len()];
                    let f = reminders::snooze(&mut ws, id, min).unwrap();
                    events.entry(id.clone()).or_default().push(Ev::Armed(f.remind_at.unwrap()));
                }
                _ => {}
            }
        }
        for id in &ids {
            let evs = &events[id];
            // Split into arming periods: each has exactly one firing at or
            // after its time unless re-armed before it came due.
            let mut i = 0;
            while i < evs.len() {
                let Ev::Armed(at) = evs[i] else { prop_assert!(false, "fired without arming: {evs:?}"); unreachable!() };
                let fired: Vec<i64> = evs[i + 1..].iter().take_while(|e| matches!(e, Ev::Fired(_))).map(|e| match e { Ev::Fired(t) => *t, _ => 0 }).collect();
                prop_assert!(fired.len() <= 1, "fired twice: {evs:?}");
                if let Some(t) = fired.first() {
                    prop_assert!(*t >= at, "fired early: {evs:?}");
                }
                let last = i + 1 + fired.len() >= evs.len();
                if last {
                    prop_assert_eq!(fired.len(), 1, "the final reminder never fired: {:?}", evs);
                }
                i += 1 + fired.len();
            }
        }
    }
}

trait Now {
    fn now(&self) -> i64;
}
impl Now for FixedClock {
    fn now(&self) -> i64 {
        kehu::clock::Clock::now_ms(self)
    }
}

#[test]
fn the_cli_lists_what_is_due_without_firing_it() {
    let e = env();
    let db = e.dir.path().join("cli.db");
    let run = |args: &[&str]| -> serde_json::Value {
        let out = assert_cmd::Command::cargo_bin("kehu")
            .unwrap()
            .env("KEHU_DB", &db)
            .env("LANG", "en_US.UTF-8")
            .arg("--json")
            .args(args)
            .assert()
            .success()
            .get_output()
            .stdout
            .clone();
        serde_json::from_slice(&out).unwrap()
    };
    let c = run(&["customer", "add", "--name", "命令行客户"]);
    let code = c["code"].as_str().unwrap().to_string();
    let f = run(&[
        "followup",
        "add",
        &code,
        "--kind",
        "微信",
        "--at",
        "2099-11-25 14:00",
        "--remind",
        "15",
    ]);
    assert_eq!(f["followup"]["kind"], "wechat");
    let due = run(&["remind", "due", "--at", "2099-11-25 13:44"]);
    assert_eq!(due.as_array().unwrap().len(), 0);
    let due_local = run(&["remind", "due", "--at", "2099-11-25 13:45"]);
    assert_eq!(due_local.as_array().unwrap().len(), 1);
    // The same instant in RFC 3339.
    use chrono::TimeZone;
    let rfc = chrono::Local
        .with_ymd_and_hms(2099, 11, 25, 13, 45, 0)
        .unwrap()
        .to_rfc3339();
    assert_eq!(
        run(&["remind", "due", "--at", &rfc])
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // Listing does not fire: still due.
    assert_eq!(
        run(&["remind", "due", "--at", "2099-11-25 13:45"])
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // Bad input: one JSON error line with the field, non-zero exit.
    let out = assert_cmd::Command::cargo_bin("kehu")
        .unwrap()
        .env("KEHU_DB", &db)
        .env("LANG", "zh_CN.UTF-8")
        .args([
            "--json",
            "followup",
            "postpone",
            f["followup"]["id"].as_str().unwrap(),
            "--to",
            "2099-12-01 10:00",
        ])
        .assert()
        .code(2)
        .get_output()
        .stdout
        .clone();
    let err: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(err["field"], "reason");
    assert_eq!(err["code"], "validation");
}

#[test]
fn the_scheduler_engine_also_evaluates_the_alert_rules() {
    let mut e = env();
    common::add(&mut e.ws, "线索客户", vec![], &[]);
    e.clock.set(T0 + 3 * 24 * HOUR);
    let ws = Workspace::open_with_clock(e.dir.path().join("kehu.db"), Arc::new(e.clock.clone()))
        .unwrap();
    let rec = Recorder::default();
    let mut engine = Engine::new(ws, Lang::Zh).with_alerts(std::time::Duration::from_secs(900));
    engine.step(&rec, &ActionSink::none()).unwrap();
    let q = kehu::alerts::AlertQuery::default();
    let (n, list) = kehu::alerts::active(e.ws.conn(), e.ws.now_ms(), &q, Lang::Zh).unwrap();
    assert_eq!(n, 1);
    assert_eq!(list[0].rule, kehu::alerts::Rule::LeadOwner);
    assert!(
        rec.taken().is_empty(),
        "alerts are shown on Today, not as notifications"
    );
}
