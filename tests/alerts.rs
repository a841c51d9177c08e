//! Alert rules (seed 004) over a fixed clock, and the Today page.
mod common;

use common::{env, T0};
use kehu::alerts::{self, AlertQuery, Rule, Thresholds};
use kehu::customers::{self, CustomerFields, Grade, NewCustomer, Status};
use kehu::followups::{self, NewFollowup};
use kehu::opportunities::{self, NewOpportunity, OpportunityFields};
use kehu::today::{self, TodayQuery};
use kehu::{Lang, Workspace};
use std::collections::BTreeSet;

const DAY: i64 = 86_400_000;
const HOUR: i64 = 3_600_000;

fn customer(ws: &mut Workspace, name: &str, status: Status) -> String {
    customers::create(
        ws,
        NewCustomer {
            fields: CustomerFields {
                name: name.into(),
                status,
                grade: Some(Grade::C),
                ..Default::default()
            },
            ..Default::default()
        },
    )
    .unwrap()
    .id
}

fn rules(ws: &Workspace, t: i64) -> BTreeSet<Rule> {
    alerts::active(ws.conn(), t, &AlertQuery::default(), Lang::Zh)
        .unwrap()
        .1
        .into_iter()
        .map(|a| a.rule)
        .collect()
}

/// (status, days without a follow-up) → rules raised.
#[test]
fn customer_rules_fire_at_their_thresholds() {
    use Rule::*;
    let table: &[(Status, i64, &[Rule])] = &[
        (Status::Prospect, 2, &[]),
        (Status::Prospect, 3, &[LeadOwner]),
        (Status::Prospect, 6, &[LeadOwner]),
        (Status::Prospect, 7, &[LeadOwner, LeadManager]),
        (Status::Prospect, 30, &[LeadOwner, LeadManager, ChurnRisk]),
        (Status::Interested, 10, &[]),
        (Status::Interested, 29, &[]),
        (Status::Interested, 30, &[ChurnRisk]),
        (Status::Won, 45, &[ChurnRisk]),
        (Status::Lost, 90, &[]),
    ];
    for &(status, days, want) in table {
        let mut e = env();
        let c = customer(&mut e.ws, "预警客户", status);
        // The count starts at the last done follow-up.
        followups::add(
            &mut e.ws,
            NewFollowup {
                customer: c,
                done: true,
                done_at: Some(T0 - HOUR),
                ..Default::default()
            },
        )
        .unwrap();
        let t = T0 - HOUR + days * DAY;
        let ev = alerts::evaluate(&mut e.ws, t).unwrap();
        assert_eq!(ev.raised, want.len(), "{status:?} {days}d");
        let got = rules(&e.ws, t);
        assert_eq!(got, want.iter().copied().collect(), "{status:?} {days}d");
    }
}

#[test]
fn each_condition_raises_one_alert_however_often_the_rules_run() {
    let mut e = env();
    let c = customer(&mut e.ws, "一次客户", Status::Prospect);
    assert_eq!(alerts::evaluate(&mut e.ws, T0 + 4 * DAY).unwrap().raised, 1);
    for d in 4..7 {
        assert_eq!(
            alerts::evaluate(&mut e.ws, T0 + d * DAY + HOUR)
                .unwrap()
                .raised,
            0
        );
    }
    assert_eq!(
        alerts::evaluate(&mut e.ws, T0 + 7 * DAY).unwrap().raised,
        1,
        "the manager rule"
    );
    // A follow-up ends the conditions: resolved, not active any more.
    e.clock.set(T0 + 8 * DAY);
    followups::add(
        &mut e.ws,
        NewFollowup {
            customer: c.clone(),
            done: true,
            ..Default::default()
        },
    )
    .unwrap();
    let ev = alerts::evaluate(&mut e.ws, T0 + 8 * DAY).unwrap();
    assert_eq!((ev.raised, ev.resolved), (0, 2));
    assert!(rules(&e.ws, T0 + 8 * DAY).is_empty());
    // Three days later it is a new condition and a new alert.
    assert_eq!(
        alerts::evaluate(&mut e.ws, T0 + 11 * DAY).unwrap().raised,
        1
    );
}

#[test]
fn a_dismissed_alert_does_not_come_back_for_the_same_condition() {
    let mut e = env();
    customer(&mut e.ws, "忽略客户", Status::Prospect);
    alerts::evaluate(&mut e.ws, T0 + 3 * DAY).unwrap();
    let (n, list) =
        alerts::active(e.ws.conn(), T0 + 3 * DAY, &AlertQuery::default(), Lang::Zh).unwrap();
    assert_eq!(n, 1);
    assert_eq!(list[0].message, "潜在客户“忽略客户”已 3 天未跟进");
    alerts::dismiss(&mut e.ws, &list[0].id).unwrap();
    assert_eq!(alerts::evaluate(&mut e.ws, T0 + 4 * DAY).unwrap().raised, 0);
    assert!(rules(&e.ws, T0 + 4 * DAY).is_empty());
    let err = alerts::dismiss(&mut e.ws, "no-such-alert").unwrap_err();
    assert_eq!(err.code(), kehu::error::Code::NotFound);
}

#[test]
fn an_opportunity_more_than_fifteen_days_in_one_stage_raises_an_alert() {
    let mut e = env();
    let c = customer(&mut e.ws, "商机客户", Status::Interested);
    let o = opportunities::create(
        &mut e.ws,
        NewOpportunity {
            customer: c.clone(),
            fields: OpportunityFields {
                name: "ERP 项目".into(),
                ..Default::default()
            },
            stage: None,
        },
    )
    .unwrap();
    // Keep the customer rules quiet.
    let stale = |ws: &Workspace, t| {
        alerts::active(
            ws.conn(),
            t,
            &AlertQuery {
                rule: Some(Rule::OpportunityStale),
                ..Default::default()
            },
            Lang::Zh,
        )
        .unwrap()
        .1
    };
    alerts::evaluate(&mut e.ws, T0 + 15 * DAY).unwrap();
    assert!(
        stale(&e.ws, T0 + 15 * DAY).is_empty(),
        "15 days is not more than 15"
    );
    alerts::evaluate(&mut e.ws, T0 + 15 * DAY + 1).unwrap();
    let got = stale(&e.ws, T0 + 16 * DAY);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].entity_id, o.id);
    assert!(got[0].message.contains("ERP 项目"));
    // Moving it on resolves the alert; a closed stage never alerts.
    e.clock.set(T0 + 16 * DAY);
    opportunities::set_stage(&mut e.ws, &o.id, "合同签订", None).unwrap();
    alerts::evaluate(&mut e.ws, T0 + 16 * DAY).unwrap();
    assert!(stale(&e.ws, T0 + 16 * DAY).is_empty());
    alerts::evaluate(&mut e.ws, T0 + 60 * DAY).unwrap();
    assert!(stale(&e.ws, T0 + 60 * DAY).is_empty());
}

#[test]
fn thresholds_are_settings() {
    let mut e = env();
    customer(&mut e.ws, "阈值客户", Status::Prospect);
    alerts::set_thresholds(
        &mut e.ws,
        Thresholds {
            lead_owner_days: 1,
            ..Default::default()
        },
    )
    .unwrap();
    alerts::evaluate(&mut e.ws, T0 + DAY).unwrap();
    assert_eq!(
        rules(&e.ws, T0 + DAY),
        [Rule::LeadOwner].into_iter().collect()
    );
    let err = alerts::set_thresholds(
        &mut e.ws,
        Thresholds {
            churn_days: 0,
            ..Default::default()
        },
    )
    .unwrap_err();
    assert_eq!(err.field(), Some("churn_days"));
}

#[test]
fn churn_risk_marks_the_customer() {
    let mut e = env();
    let c = customer(&mut e.ws, "流失客户", Status::Won);
    let active = customer(&mut e.ws, "活跃客户", Status::Won);
    e.clock.set(T0 + 20 * DAY);
    followups::add(
        &mut e.ws,
        NewFollowup {
            customer: active,
            done: true,
            ..Default::default()
        },
    )
    .unwrap();
    alerts::evaluate(&mut e.ws, T0 + 30 * DAY).unwrap();
    let marked = alerts::churn_risk_customers(e.ws.conn()).unwrap();
    assert_eq!(marked, [c]);
}

#[test]
fn today_shows_overdue_and_todays_plans_customers_due_and_alerts() {
    let mut e = env();
    // T0 is 10:00 UTC; use times relative to the local day.
    let (start, end) = today::day_bounds(T0);
    let c = customer(&mut e.ws, "今日客户", Status::Prospect);
    e.clock.set(start - 2 * DAY);
    let overdue = followups::add(
        &mut e.ws,
        NewFollowup {
            customer: c.clone(),
            planned_at: Some(start - DAY),
            ..Default::default()
        },
    )
    .unwrap();
    let later = followups::add(
        &mut e.ws,
        NewFollowup {
            customer: c.clone(),
            planned_at: Some(end - HOUR),
            ..Default::default()
        },
    )
    .unwrap();
    followups::add(
        &mut e.ws,
        NewFollowup {
            customer: c.clone(),
            planned_at: Some(end + HOUR),
            ..Default::default()
        },
    )
    .unwrap();
    let idle = customer(&mut e.ws, "该跟进的客户", Status::Won);
    let now = start + 1;
    e.clock.set(now);
    alerts::evaluate(&mut e.ws, now).unwrap();
    let t = today::today(e.ws.conn(), now, &TodayQuery::default(), Lang::Zh).unwrap();
    assert_eq!(
        t.overdue.iter().map(|f| &f.id).collect::<Vec<_>>(),
        [&overdue.id]
    );
    assert_eq!(
        t.today.iter().map(|f| &f.id).collect::<Vec<_>>(),
        [&later.id]
    );
    assert_eq!((t.overdue_total, t.today_total), (1, 1));
    assert_eq!(t.due_customers_total, 0, "grade C: 30 days not reached");
    assert_eq!(t.alerts_total, 0, "2 days: no rule yet");
    alerts::evaluate(&mut e.ws, start + 31 * DAY).unwrap();
    let t = today::today(
        e.ws.conn(),
        start + 31 * DAY,
        &TodayQuery::default(),
        Lang::Zh,
    )
    .unwrap();
    assert_eq!(
        t.due_customers
            .iter()
            .map(|d| &d.customer_id)
            .collect::<Vec<_>>(),
        [&idle]
    );
    // 今日客户: lead 3 d, lead 7 d, churn 30 d; 该跟进的客户: churn 30 d.
    assert_eq!(t.alerts_total, 4);
    assert_eq!(t.alerts.len(), 4);
}
