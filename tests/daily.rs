//! The daily report (日报): yesterday's team and personal figures, target
//! completion against the calendar, the ranking and week-over-week
//! anomalies, stored once per day. Numbers worked out by hand below.
mod common;

use chrono::NaiveDate;
use common::{deal_at, env, followup_done_at, patch, Env};
use kehu::analysis::{daily, local_midnight, targets};
use kehu::customers::{self, CustomerFields, NewCustomer, Status};
use kehu::followups::{FollowupFields, Kind};
use kehu::members::{self, MemberFields};
use kehu::opportunities;
use kehu::Lang;
use serde_json::json;

const HOUR: i64 = 3_600_000;

fn at(d: u32, h: i64) -> i64 {
    local_midnight(NaiveDate::from_ymd_opt(2026, 12, d).unwrap()) + h * HOUR
}

fn nov(d: u32, h: i64) -> i64 {
    local_midnight(NaiveDate::from_ymd_opt(2026, 11, d).unwrap()) + h * HOUR
}

fn customer(e: &mut Env, t: i64, name: &str, owner: Option<&str>) -> String {
    e.clock.set(t);
    customers::create(
        &mut e.ws,
        NewCustomer {
            fields: CustomerFields {
                owner_id: owner.map(str::to_string),
                ..CustomerFields::named(name)
            },
            contacts: vec![],
            tags: vec![],
        },
    )
    .unwrap()
    .id
}

fn interested(e: &mut Env, t: i64, id: &str) {
    e.clock.set(t);
    customers::update(
        &mut e.ws,
        id,
        &patch(&[("status", json!(Status::Interested.key()))]),
    )
    .unwrap();
}

fn won_deal(e: &mut Env, created: i64, won: i64, cust: &str, amount: f64) {
    let id = deal_at(e, created, cust, amount);
    e.clock.set(won);
    opportunities::set_stage(&mut e.ws, &id, "合同签订", None).unwrap();
}

fn done(e: &mut Env, t: i64, cust: &str) {
    let fields = FollowupFields {
        kind: Kind::Call,
        ..Default::default()
    };
    followup_done_at(e, t, cust, fields);
}

/// December 2026 (31 days); the report covers 12-10, so 10/31 of the
/// month has elapsed at its end.
/// - Targets: team 300k, 小明 (me) 100k, 小华 250k.
/// - Wins: 小明 100k on 12-02 and 50k on 12-10; 小华 25k on 12-10 and
///   40k on 12-11 (after the report day: not counted).
/// - Leads: week before (11-27 … 12-03): c, d (12-01), l1, l2 (11-28); c
///   and l1 become 意向 → 2/4 = 50%. Report week (12-04 … 12-10): l3…l7
///   (12-05), l3 and l4 become 意向 → 2/5 = 40%, a 20% fall.
/// - Won amount: 100k the week before, 75k this week: a 25% fall.
/// - Follow-ups: 2 the week before, 1 (on 12-10) this week: a 50% fall.
fn scenario(e: &mut Env) -> (String, String) {
    let ming = members::add(
        &mut e.ws,
        MemberFields {
            name: "小明".into(),
            ..Default::default()
        },
    )
    .unwrap()
    .id;
    let hua = members::add(
        &mut e.ws,
        MemberFields {
            name: "小华".into(),
            ..Default::default()
        },
    )
    .unwrap()
    .id;
    members::set_me(&mut e.ws, &ming).unwrap();
    e.clock.set(nov(20, 9));
    for (owner, amount) in [
        (None, 300_000.0),
        (Some(&ming), 100_000.0),
        (Some(&hua), 250_000.0),
    ] {
        targets::set(
            &mut e.ws,
            owner.map(|s| s.as_str()),
            "2026-12",
            targets::TargetFields {
                amount: Some(amount),
                ..Default::default()
            },
        )
        .unwrap();
    }
    let c = customer(e, at(1, 9), "甲公司", Some(&ming));
    let d = customer(e, at(1, 9), "乙公司", Some(&hua));
    let l1 = customer(e, nov(28, 9), "线索1", Some(&ming));
    customer(e, nov(28, 9), "线索2", Some(&ming));
    interested(e, at(2, 9), &c);
    interested(e, at(2, 9), &l1);
    for i in 3..=7 {
        let id = customer(e, at(5, 9), &format!("线索{i}"), Some(&hua));
        if i <= 4 {
            interested(e, at(6, 9), &id);
        }
    }
    won_deal(e, at(1, 10), at(2, 10), &c, 100_000.0);
    won_deal(e, at(3, 10), at(10, 10), &c, 50_000.0);
    won_deal(e, at(3, 10), at(10, 11), &d, 25_000.0);
    won_deal(e, at(3, 10), at(11, 10), &d, 40_000.0);
    done(e, at(1, 15), &c);
    done(e, at(2, 15), &d);
    done(e, at(10, 15), &d);
    (ming, hua)
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

#[test]
fn the_daily_report_gives_team_and_personal_completion_lag_and_ranking() {
    let mut e = env();
    let (ming, hua) = scenario(&mut e);
    let day = NaiveDate::from_ymd_opt(2026, 12, 10).unwrap();
    let r = daily::build(e.ws.conn(), day, at(11, 8), Lang::Zh).unwrap();
    assert_eq!(r.date, "2026-12-10");
    assert_eq!(r.month, "2026-12");
    let elapsed = 10.0 / 31.0;
    assert!(close(r.elapsed, elapsed));
    // team: 2 wins (75k) on the day; 175k since the first; 175/300
    assert_eq!(r.team.day_wins, 2);
    assert!(close(r.team.day_amount, 75_000.0));
    assert!(close(r.team.month_amount, 175_000.0));
    assert_eq!(r.team.month_wins, 3);
    assert_eq!(r.team.target_amount, Some(300_000.0));
    assert!(close(r.team.completion.unwrap(), 175.0 / 300.0));
    assert!(close(r.team.lag.unwrap(), elapsed - 175.0 / 300.0)); // ahead: negative
    assert_eq!(r.team.day_followups, 1);
    // ranking by completion: 小明 150% first, 小华 10% second
    assert_eq!(r.members.len(), 2);
    assert_eq!(r.members[0].owner_id.as_deref(), Some(ming.as_str()));
    assert_eq!(r.members[0].rank, Some(1));
    assert!(close(r.members[0].completion.unwrap(), 1.5));
    assert!(close(r.members[0].day_amount, 50_000.0));
    assert_eq!(r.members[1].owner_id.as_deref(), Some(hua.as_str()));
    assert!(close(r.members[1].completion.unwrap(), 0.1));
    assert!(close(r.members[1].lag.unwrap(), elapsed - 0.1));
    // personal line = the member marked as me
    let me = r.me.as_ref().unwrap();
    assert_eq!(me.name, "小明");
    assert!(close(me.month_amount, 150_000.0));
    // sentences in the seed's style: 10/31 = 32.26% elapsed, 58.33% done
    assert_eq!(
        r.lines[0],
        "12月10日：团队成交 2 单，销售额 7.5万元；本月累计 17.5万元，目标完成率 58.3%，领先进度 26.1%。"
    );
    assert_eq!(
        r.lines[1],
        "个人：昨日销售额 5万元，本月累计 15万元，目标完成率 150%，领先进度 117.7%，排名第 1/2。"
    );
    assert_eq!(
        r.lines[2],
        "小明销售额最高（15万元），小华目标完成率最低（10%）。"
    );
}

#[test]
fn anomalies_are_week_over_week_falls_beyond_the_threshold() {
    let mut e = env();
    scenario(&mut e);
    let day = NaiveDate::from_ymd_opt(2026, 12, 10).unwrap();
    let r = daily::build(e.ws.conn(), day, at(11, 8), Lang::Zh).unwrap();
    let found: Vec<(&str, f64)> = r
        .anomalies
        .iter()
        .map(|a| (a.metric.as_str(), a.change))
        .collect();
    // default threshold 15%: conversion −20%, amount −25%, follow-ups −50%;
    // win rate (1/1 → 2/2) and new leads (4 → 5) did not fall
    assert_eq!(found.len(), 3, "{found:?}");
    assert_eq!(found[0].0, "lead_conversion");
    assert!(close(found[0].1, -0.2));
    assert_eq!(found[1].0, "won_amount");
    assert!(close(found[1].1, -0.25));
    assert_eq!(found[2].0, "followups");
    assert!(close(found[2].1, -0.5));
    assert_eq!(
        r.anomalies[0].message,
        "线索转化率较上周下降 20%，建议检查线索质量"
    );
    assert!(r
        .lines
        .contains(&"线索转化率较上周下降 20%，建议检查线索质量。".to_string()));
    // a 25% threshold keeps the 25% and 50% falls only
    let mut s = daily::settings(e.ws.conn()).unwrap();
    s.anomaly_threshold = 0.25;
    daily::set_settings(&mut e.ws, s).unwrap();
    let r = daily::build(e.ws.conn(), day, at(11, 8), Lang::Zh).unwrap();
    let metrics: Vec<&str> = r.anomalies.iter().map(|a| a.metric.as_str()).collect();
    assert_eq!(metrics, ["won_amount", "followups"]);
    // bad settings are refused
    let mut s = daily::settings(e.ws.conn()).unwrap();
    s.anomaly_threshold = 0.0;
    assert!(daily::set_settings(&mut e.ws, s.clone()).is_err());
    s.anomaly_threshold = 0.1;
    s.time = "25:00".into();
    assert!(daily::set_settings(&mut e.ws, s).is_err());
}

#[test]
fn an_empty_day_gives_zeros_and_no_anomalies() {
    let e = env();
    let day = NaiveDate::from_ymd_opt(2026, 12, 10).unwrap();
    let r = daily::build(e.ws.conn(), day, at(11, 8), Lang::En).unwrap();
    assert_eq!(r.team.day_wins, 0);
    assert_eq!(r.team.month_amount, 0.0);
    assert_eq!(r.team.completion, None);
    assert_eq!(r.team.lag, None);
    assert!(r.anomalies.is_empty());
    assert!(r.me.is_none());
    assert!(r.lines[0].contains("no target set"), "{}", r.lines[0]);
    let json = serde_json::to_string(&r).unwrap();
    assert!(!json.contains("NaN"));
}

/// A report is stored in the language it was built in; whoever reads it
/// later gets it in theirs, word for word as if built in that language.
#[test]
fn a_stored_report_reads_in_the_language_of_its_reader() {
    let mut e = env();
    scenario(&mut e);
    e.clock.set(at(11, 7));
    e.ws.lang = Lang::Zh;
    let zh = daily::ensure(&mut e.ws).unwrap().expect("a new report");
    assert!(zh.lines[0].contains("团队成交"), "{}", zh.lines[0]);
    let day = NaiveDate::from_ymd_opt(2026, 12, 10).unwrap();
    let en = daily::get(e.ws.conn(), day, Lang::En).unwrap().unwrap();
    let built_en = daily::build(e.ws.conn(), day, at(11, 7), Lang::En).unwrap();
    assert_eq!(en.lines, built_en.lines);
    assert!(en.lines[0].contains("the team won"), "{}", en.lines[0]);
    assert_eq!(en.team.name, "Team");
    assert!(!en.anomalies.is_empty());
    for (a, b) in en.anomalies.iter().zip(&built_en.anomalies) {
        assert_eq!((&a.label, &a.message), (&b.label, &b.message));
    }
    let list = daily::list(e.ws.conn(), 10, Lang::En).unwrap();
    assert_eq!(list[0].headline, built_en.lines[0]);
    // and back in Chinese, as it was stored
    let again = daily::get(e.ws.conn(), day, Lang::Zh).unwrap().unwrap();
    assert_eq!(again.lines, zh.lines);
}

#[test]
fn yesterdays_report_is_built_once_a_day_and_kept() {
    let mut e = env();
    scenario(&mut e);
    // first start on 12-11: builds the report of 12-10
    e.clock.set(at(11, 7));
    let first = daily::ensure(&mut e.ws).unwrap().expect("a new report");
    assert_eq!(first.date, "2026-12-10");
    // a second start (or the timer) the same day: nothing new
    e.clock.set(at(11, 12));
    assert!(daily::ensure(&mut e.ws).unwrap().is_none());
    // next day: the report of 12-11, which counts the 40k win of 12-11
    e.clock.set(at(12, 9));
    let second = daily::ensure(&mut e.ws).unwrap().expect("a new report");
    assert_eq!(second.date, "2026-12-11");
    assert!(close(second.team.day_amount, 40_000.0));
    assert!(close(second.team.month_amount, 215_000.0));
    // both are kept, newest first, and the stored one reads back the same
    let list = daily::list(e.ws.conn(), 10, Lang::Zh).unwrap();
    let dates: Vec<&str> = list.iter().map(|x| x.date.as_str()).collect();
    assert_eq!(dates, ["2026-12-11", "2026-12-10"]);
    assert_eq!(list[1].headline, first.lines[0]);
    assert!(!list[1].seen);
    let day = NaiveDate::from_ymd_opt(2026, 12, 10).unwrap();
    let kept = daily::get(e.ws.conn(), day, Lang::Zh).unwrap().unwrap();
    assert_eq!(kept.lines, first.lines);
    assert_eq!(kept.members.len(), first.members.len());
    assert!(close(kept.team.lag.unwrap(), first.team.lag.unwrap()));
    daily::mark_seen(&mut e.ws, day).unwrap();
    assert!(daily::list(e.ws.conn(), 10, Lang::Zh).unwrap()[1].seen);
    // switched off: nothing is built
    e.clock.set(at(13, 9));
    let mut s = daily::settings(e.ws.conn()).unwrap();
    s.enabled = false;
    daily::set_settings(&mut e.ws, s).unwrap();
    assert!(daily::ensure(&mut e.ws).unwrap().is_none());
}

#[test]
fn the_next_run_is_the_set_time_today_or_tomorrow() {
    let mut e = env();
    // default 08:00
    assert_eq!(daily::next_run(e.ws.conn(), at(11, 7)).unwrap(), at(11, 8));
    assert_eq!(daily::next_run(e.ws.conn(), at(11, 8)).unwrap(), at(12, 8));
    let mut s = daily::settings(e.ws.conn()).unwrap();
    s.time = "9:30".into();
    daily::set_settings(&mut e.ws, s).unwrap();
    assert_eq!(daily::settings(e.ws.conn()).unwrap().time, "09:30");
    assert_eq!(
        daily::next_run(e.ws.conn(), at(11, 10)).unwrap(),
        at(12, 9) + HOUR / 2
    );
}

fn kehu(db: &std::path::Path, args: &[&str]) -> assert_cmd::assert::Assert {
    assert_cmd::Command::cargo_bin("kehu")
        .unwrap()
        .env("KEHU_DB", db)
        .env("LANG", "zh_CN.UTF-8")
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .args(args)
        .assert()
}

#[test]
fn the_command_line_builds_keeps_and_lists_daily_reports() {
    let mut e = env();
    scenario(&mut e);
    let dir = e.dir;
    let db = dir.path().join("kehu.db");
    drop(e.ws);
    let out = kehu(&db, &["--json", "report", "daily", "--date", "2026-12-10"]).success();
    let v: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(v["date"], "2026-12-10");
    assert_eq!(v["team"]["month_amount"], 175_000.0);
    assert_eq!(v["members"][0]["name"], "小明");
    assert_eq!(v["anomalies"][0]["metric"], "lead_conversion");
    let text = kehu(&db, &["report", "daily", "--date", "2026-12-10"]).success();
    let text = String::from_utf8(text.get_output().stdout.clone()).unwrap();
    assert!(text.contains("本月累计 17.5万元"), "{text}");
    assert!(text.contains("线索转化率较上周下降 20%"), "{text}");
    let list = kehu(&db, &["--json", "report", "daily", "--list"]).success();
    let list: serde_json::Value = serde_json::from_slice(&list.get_output().stdout).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["date"], "2026-12-10");
    kehu(&db, &["report", "daily", "--date", "12月10"]).failure();
}
