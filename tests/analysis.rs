//! Analysis: every metric on small hand-made histories, with the expected
//! numbers worked out here, and a cross-check against plain loops over a
//! few thousand random histories.
mod common;

use common::{deal_at, env, followup_done_at, patch, Env, T0};
use kehu::analysis::{self, targets, Filter};
use kehu::customers::{self, CustomerFields, NewCustomer, Status};
use kehu::followups::{self, FollowupFields, Kind, NewFollowup};
use kehu::members::{self, MemberFields};
use kehu::opportunities::{self, NewOpportunity, OpportunityFields};
use kehu::Lang;
use serde_json::json;

const DAY: i64 = 86_400_000;

fn close(a: Option<f64>, b: f64) -> bool {
    a.is_some_and(|a| (a - b).abs() < 1e-9)
}

macro_rules! approx {
    ($a:expr, $b:expr) => {
        assert!(
            close($a, $b),
            "{} = {:?}, expected {}",
            stringify!($a),
            $a,
            $b
        )
    };
}

fn customer(e: &mut Env, t: i64, name: &str, source: Option<&str>, tags: &[&str]) -> String {
    e.clock.set(t);
    customers::create(
        &mut e.ws,
        NewCustomer {
            fields: CustomerFields {
                source: source.map(str::to_string),
                ..CustomerFields::named(name)
            },
            contacts: vec![],
            tags: tags.iter().map(|t| t.to_string()).collect(),
        },
    )
    .unwrap()
    .id
}

fn status(e: &mut Env, t: i64, id: &str, s: Status) {
    e.clock.set(t);
    customers::update(&mut e.ws, id, &patch(&[("status", json!(s.key()))])).unwrap();
}

fn stage(e: &mut Env, t: i64, id: &str, st: &str, reason: Option<&str>) {
    e.clock.set(t);
    opportunities::set_stage(&mut e.ws, id, st, reason).unwrap();
}

fn done(e: &mut Env, t: i64, cust: &str, kind: Kind, effective: Option<bool>) {
    let fields = FollowupFields {
        kind,
        effective,
        ..Default::default()
    };
    followup_done_at(e, t, cust, fields);
}

const P: Filter = Filter {
    from: T0,
    to: T0 + 30 * DAY,
    owner_id: None,
};

/// The pipeline scenario shared by several tests (times are days from T0):
/// - A (c1): 0 create → 1 需求 → 3 方案 → 6 谈判 → 10 合同 → 12 回款完成; amount 100k, won 90k, paid 30k + 30k.
/// - B (c1): 1 create → 2 方案 (skips 需求) → 5 输单 价格过高.
/// - C (c1): 2 create, stays in 初步接触.
/// - D (c2): 2 create → 4 需求 → 6 输单 预算不足 → 8 谈判 (reopened) → 9 合同; amount 50k.
/// - E (c2): 3 create → 4 输单 价格过高.
/// - F (c2): created 5 days before the period → 1 合同; 20k, paid 20k.
/// - G (c2): 4 create, then moved to the trash.
///
/// c1 is created 10 days before T0, c2 20 days before.
fn pipeline_scenario(e: &mut Env) {
    let c1 = customer(e, T0 - 10 * DAY, "甲公司", None, &[]);
    let c2 = customer(e, T0 - 20 * DAY, "乙公司", None, &[]);
    let f = deal_at(e, T0 - 5 * DAY, &c2, 20_000.0);
    let a = deal_at(e, T0, &c1, 100_000.0);
    stage(e, T0 + DAY, &a, "需求分析", None);
    stage(e, T0 + DAY, &f, "合同签订", None);
    let b = deal_at(e, T0 + DAY, &c1, 10_000.0);
    stage(e, T0 + 2 * DAY, &b, "方案提供", None);
    let _c = deal_at(e, T0 + 2 * DAY, &c1, 5_000.0);
    let d = deal_at(e, T0 + 2 * DAY, &c2, 50_000.0);
    stage(e, T0 + 3 * DAY, &a, "方案提供", None);
    let ee = deal_at(e, T0 + 3 * DAY, &c2, 8_000.0);
    stage(e, T0 + 4 * DAY, &d, "需求分析", None);
    stage(e, T0 + 4 * DAY, &ee, "输单", Some("价格过高"));
    let g = deal_at(e, T0 + 4 * DAY, &c2, 1_000.0);
    opportunities::set_deleted(&mut e.ws, &g, true).unwrap();
    stage(e, T0 + 5 * DAY, &b, "输单", Some("价格过高"));
    stage(e, T0 + 6 * DAY, &a, "商务谈判", None);
    stage(e, T0 + 6 * DAY, &d, "输单", Some("预算不足"));
    stage(e, T0 + 8 * DAY, &d, "商务谈判", None);
    stage(e, T0 + 9 * DAY, &d, "合同签订", None);
    stage(e, T0 + 10 * DAY, &a, "合同签订", None);
    stage(e, T0 + 12 * DAY, &a, "回款完成", None);
    e.clock.set(T0 + 13 * DAY);
    opportunities::update(&mut e.ws, &a, &patch(&[("won_amount", json!(90_000.0))])).unwrap();
    opportunities::receive(&mut e.ws, &a, 30_000.0, None, None).unwrap();
    opportunities::receive(&mut e.ws, &a, 30_000.0, Some(T0 + 12 * DAY), Some("第二笔")).unwrap();
    opportunities::receive(&mut e.ws, &f, 20_000.0, None, None).unwrap();
    e.clock.set(T0 + 14 * DAY);
}

#[test]
fn the_pipeline_funnel_counts_skipped_stages_as_passed_and_reopened_deals_by_where_they_end() {
    let mut e = env();
    pipeline_scenario(&mut e);
    let fu = analysis::pipeline_funnel(e.ws.conn(), &P, Lang::Zh).unwrap();
    assert_eq!(
        fu.total, 5,
        "A B C D E; F before the period, G in the trash"
    );
    let entered: Vec<i64> = fu.stages.iter().map(|s| s.entered).collect();
    // max stage reached: A 回款完成(5), B 方案(2), C 初步(0), D 合同(4), E 初步(0)
    assert_eq!(entered, vec![5, 3, 3, 2, 2, 1]);
    let labels: Vec<&str> = fu.stages.iter().map(|s| s.label.as_str()).collect();
    assert_eq!(
        labels,
        [
            "初步接触",
            "需求分析",
            "方案提供",
            "商务谈判",
            "合同签订",
            "回款完成"
        ]
    );
    assert_eq!(fu.stages[0].conversion, None);
    assert_eq!(fu.stages[0].drop, None);
    approx!(fu.stages[1].conversion, 0.6);
    approx!(fu.stages[1].drop, 0.4);
    approx!(fu.stages[2].conversion, 1.0);
    approx!(fu.stages[3].conversion, 2.0 / 3.0);
    approx!(fu.stages[3].drop, 1.0 / 3.0);
    approx!(fu.stages[4].conversion, 1.0);
    approx!(fu.stages[5].conversion, 0.5);
    // completed stays: 初步 A1 B1 D2 E1; 需求 A2 D2; 方案 A3 B3; 谈判 A4 D1; 合同 A2 (D still there)
    approx!(fu.stages[0].avg_days, 1.25);
    approx!(fu.stages[1].avg_days, 2.0);
    approx!(fu.stages[2].avg_days, 3.0);
    approx!(fu.stages[3].avg_days, 2.5);
    approx!(fu.stages[4].avg_days, 2.0);
    assert_eq!(fu.stages[5].avg_days, None, "nobody left 回款完成");
    assert_eq!(fu.lost, 2, "B and E; D was reopened and won");
    assert_eq!(fu.loss_reasons.len(), 1);
    assert_eq!(fu.loss_reasons[0].reason, "价格过高");
    assert_eq!(fu.loss_reasons[0].count, 2);
    assert_eq!(fu.loss_reasons[0].share, 1.0);
}

#[test]
fn win_rate_counts_deals_closed_in_the_period_and_won_over_created() {
    let mut e = env();
    pipeline_scenario(&mut e);
    let c = analysis::conversion(e.ws.conn(), &P).unwrap();
    assert_eq!((c.won, c.lost), (3, 2), "won A D F, lost B E");
    approx!(c.win_rate, 0.6);
    assert_eq!((c.created, c.created_won), (5, 2));
    approx!(c.win_rate_of_created, 0.4);
    // D is won on day 9: before, in a period ending on day 9, it was lost
    // on day 6, but a reopened deal is judged by where it ends up.
    let early = Filter::new(T0, T0 + 9 * DAY);
    let c = analysis::conversion(e.ws.conn(), &early).unwrap();
    assert_eq!(
        (c.won, c.lost),
        (1, 2),
        "F won; B E lost; D's loss was undone"
    );
}

#[test]
fn sales_amount_average_deal_and_collection_rate_use_won_amounts_and_all_payments() {
    let mut e = env();
    pipeline_scenario(&mut e);
    let s = analysis::sales(e.ws.conn(), &P, T0 + 14 * DAY).unwrap();
    assert_eq!(s.wins, 3);
    assert_eq!(
        s.won_amount,
        90_000.0 + 50_000.0 + 20_000.0,
        "A's 成交金额 90k, not its 100k expected"
    );
    approx!(s.avg_deal, 160_000.0 / 3.0);
    assert_eq!(s.received_amount, 80_000.0, "A paid 30k + 30k, F 20k");
    approx!(s.collection_rate, 0.5);
    assert_eq!(s.target_amount, None, "no target for an arbitrary period");
    assert_eq!(s.target_completion, None);
    // projection: 160k in 14 of 30 days
    approx!(s.projected_amount, 160_000.0 / 14.0 * 30.0);
    let pays = opportunities::payments(
        e.ws.conn(),
        &opportunities::list(e.ws.conn(), &Default::default(), Lang::Zh)
            .unwrap()
            .iter()
            .find(|o| o.fields.won_amount == Some(90_000.0))
            .unwrap()
            .id,
    )
    .unwrap();
    assert_eq!(pays.len(), 2);
    assert_eq!(pays[0].at, T0 + 12 * DAY);
    assert_eq!(pays[0].note.as_deref(), Some("第二笔"));
}

#[test]
fn the_cycle_runs_from_first_contact_or_creation_to_the_win() {
    let mut e = env();
    pipeline_scenario(&mut e);
    // A: c1 created −10 → won 10 = 20 days; D: c2 −20 → 9 = 29; F: −20 → 1 = 21
    let c = analysis::cycle(e.ws.conn(), &P).unwrap();
    assert_eq!(c.wins, 3);
    approx!(c.avg_cycle_days, 70.0 / 3.0);
    approx!(c.median_cycle_days, 21.0);
    // A first-contact date moves c2's start to that local midnight.
    let c2 = customers::resolve_id(e.ws.conn(), "乙公司").ok();
    let c2 = c2.unwrap_or_else(|| {
        e.ws.conn()
            .query_row(
                "SELECT id FROM customers WHERE name = '乙公司'",
                [],
                |r| r.get(0),
            )
            .unwrap()
    });
    customers::update(
        &mut e.ws,
        &c2,
        &patch(&[("first_contact_date", json!("2025-10-01"))]),
    )
    .unwrap();
    let start = chrono::NaiveDate::from_ymd_opt(2025, 10, 1)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap();
    let start = chrono::TimeZone::from_local_datetime(&chrono::Local, &start)
        .earliest()
        .unwrap()
        .timestamp_millis();
    let d = (T0 + 9 * DAY - start) as f64 / DAY as f64;
    let f = (T0 + DAY - start) as f64 / DAY as f64;
    let c = analysis::cycle(e.ws.conn(), &P).unwrap();
    approx!(c.avg_cycle_days, (20.0 + d + f) / 3.0);
    approx!(c.median_cycle_days, f);
}

#[test]
fn an_empty_period_gives_zeros_and_nulls_never_nan() {
    let mut e = env();
    pipeline_scenario(&mut e);
    let empty = Filter::new(T0 + 100 * DAY, T0 + 130 * DAY);
    let conn = e.ws.conn();
    let fu = analysis::pipeline_funnel(conn, &empty, Lang::Zh).unwrap();
    assert!(fu
        .stages
        .iter()
        .all(|s| s.entered == 0 && s.conversion.is_none() && s.avg_days.is_none()));
    assert!(fu.loss_reasons.is_empty());
    let c = analysis::conversion(conn, &empty).unwrap();
    assert_eq!(
        (c.lead_conversion, c.win_rate, c.win_rate_of_created),
        (None, None, None)
    );
    let cy = analysis::cycle(conn, &empty).unwrap();
    assert_eq!((cy.avg_cycle_days, cy.median_cycle_days), (None, None));
    let s = analysis::sales(conn, &empty, T0 + 14 * DAY).unwrap();
    assert_eq!(
        (s.avg_deal, s.collection_rate, s.projected_amount),
        (None, None, None),
        "period not started"
    );
    let fa = analysis::followup_activity(conn, &empty, Lang::Zh).unwrap();
    assert_eq!((fa.effective_share, fa.avg_response_days), (None, None));
    let json = serde_json::to_string(&fu).unwrap() + &serde_json::to_string(&s).unwrap();
    assert!(json.contains("\"conversion\":null") && json.contains("\"avg_deal\":null"));
    assert!(!json.contains("NaN"));
}

#[test]
fn a_won_deal_without_any_amount_has_a_zero_average_and_no_collection_rate() {
    let mut e = env();
    let c = customer(&mut e, T0, "丙公司", None, &[]);
    e.clock.set(T0);
    let o = opportunities::create(
        &mut e.ws,
        NewOpportunity {
            customer: c,
            fields: OpportunityFields {
                name: "无金额".into(),
                ..Default::default()
            },
            stage: None,
        },
    )
    .unwrap();
    stage(&mut e, T0 + DAY, &o.id, "合同签订", None);
    let s = analysis::sales(e.ws.conn(), &P, T0 + 2 * DAY).unwrap();
    assert_eq!((s.wins, s.won_amount), (1, 0.0));
    assert_eq!(s.avg_deal, Some(0.0));
    assert_eq!(s.collection_rate, None, "0 / 0");
}

#[test]
fn the_top_three_loss_reasons_carry_their_share_of_all_losses() {
    let mut e = env();
    let c = customer(&mut e, T0, "丁公司", None, &[]);
    for (i, r) in [
        "竞品价格更低",
        "预算不足",
        "竞品价格更低",
        "决策周期长",
        "方案不匹配",
    ]
    .iter()
    .enumerate()
    {
        let o = deal_at(&mut e, T0 + i as i64 * 1000, &c, 1000.0);
        stage(&mut e, T0 + DAY + i as i64, &o, "lost", Some(r));
    }
    let fu = analysis::pipeline_funnel(e.ws.conn(), &P, Lang::Zh).unwrap();
    let got: Vec<(&str, f64)> = fu
        .loss_reasons
        .iter()
        .map(|r| (r.reason.as_str(), r.share))
        .collect();
    // ties broken by the reason text (Unicode order)
    let mut ties = ["决策周期长", "方案不匹配", "预算不足"];
    ties.sort();
    assert_eq!(
        got,
        vec![("竞品价格更低", 0.4), (ties[0], 0.2), (ties[1], 0.2)]
    );
}

/// Leads created in the period (days from T0):
/// - p1 (展会, 快速交付): 1 created, 2 意向, 6 成交; follow-ups call (2, effective), visit (3, effective)
/// - p2 (展会, 快速交付): 2 created, 5 成交 (skips 意向); wechat (2.5)
/// - p3 (官网表单): 3 created; its deal is won on day 45 (after 30 days)
/// - p4 (官网表单, 价格敏感): 4 created, 5 意向, 8 流失; call (7, not effective)
/// - p5 (no source): 5 created as 意向
/// - old (展会): created before the period; a call in the period counts as activity, not as a lead.
fn lead_scenario(e: &mut Env) -> Vec<String> {
    let old = customer(e, T0 - 40 * DAY, "旧客户", Some("展会"), &[]);
    let p1 = customer(e, T0 + DAY, "客户一", Some("展会"), &["快速交付"]);
    let p2 = customer(e, T0 + 2 * DAY, "客户二", Some("展会"), &["快速交付"]);
    done(e, T0 + 2 * DAY, &p1, Kind::Call, Some(true));
    status(e, T0 + 2 * DAY, &p1, Status::Interested);
    done(e, T0 + 2 * DAY + DAY / 2, &p2, Kind::Wechat, None);
    let p3 = customer(e, T0 + 3 * DAY, "客户三", Some("官网表单"), &[]);
    done(e, T0 + 3 * DAY, &p1, Kind::Visit, Some(true));
    let p4 = customer(e, T0 + 4 * DAY, "客户四", Some("官网表单"), &["价格敏感"]);
    done(e, T0 + 4 * DAY, &old, Kind::Email, Some(true));
    e.clock.set(T0 + 5 * DAY);
    let p5 = customers::create(
        &mut e.ws,
        NewCustomer {
            fields: CustomerFields {
                status: Status::Interested,
                ..CustomerFields::named("客户五")
            },
            ..Default::default()
        },
    )
    .unwrap()
    .id;
    status(e, T0 + 5 * DAY, &p2, Status::Won);
    status(e, T0 + 5 * DAY, &p4, Status::Interested);
    status(e, T0 + 6 * DAY, &p1, Status::Won);
    done(e, T0 + 7 * DAY, &p4, Kind::Call, Some(false));
    status(e, T0 + 8 * DAY, &p4, Status::Lost);
    let o = deal_at(e, T0 + 10 * DAY, &p3, 10_000.0);
    stage(e, T0 + 45 * DAY, &o, "合同签订", None);
    vec![p1, p2, p3, p4, p5]
}

#[test]
fn the_customer_funnel_reads_status_history_from_the_change_log() {
    let mut e = env();
    lead_scenario(&mut e);
    let p = Filter::new(T0, T0 + 10 * DAY);
    let fu = analysis::customer_funnel(e.ws.conn(), &p, Lang::Zh).unwrap();
    assert_eq!(fu.total, 5);
    let keys: Vec<&str> = fu.stages.iter().map(|s| s.stage.as_str()).collect();
    assert_eq!(keys, ["prospect", "interested", "won"]);
    let entered: Vec<i64> = fu.stages.iter().map(|s| s.entered).collect();
    // p3 is still 潜在 (its deal does not change its status); p2 skipped 意向
    assert_eq!(entered, vec![5, 4, 2]);
    approx!(fu.stages[1].conversion, 0.8);
    approx!(fu.stages[2].conversion, 0.5);
    // 潜在 stays: p1 1 day, p2 3, p4 1 → 5/3; 意向: p1 4, p4 3 → 3.5
    approx!(fu.stages[0].avg_days, 5.0 / 3.0);
    approx!(fu.stages[1].avg_days, 3.5);
    assert_eq!(fu.stages[2].avg_days, None);
    assert_eq!(fu.lost, 1);
    let c = analysis::conversion(e.ws.conn(), &p).unwrap();
    assert_eq!(
        (c.leads, c.converted),
        (5, 4),
        "p4 counts: it was 意向 before it was lost"
    );
    approx!(c.lead_conversion, 0.8);
    // The dashboard counts the same from the status changes alone: also a
    // lead created as 意向 and lost since, not one lost straight away.
    e.clock.set(T0 + 6 * DAY);
    let p6 = customers::create(
        &mut e.ws,
        NewCustomer {
            fields: CustomerFields {
                status: Status::Interested,
                ..CustomerFields::named("客户六")
            },
            ..Default::default()
        },
    )
    .unwrap()
    .id;
    let p7 = customer(&mut e, T0 + 6 * DAY, "客户七", None, &[]);
    status(&mut e, T0 + 7 * DAY, &p6, Status::Lost);
    status(&mut e, T0 + 7 * DAY, &p7, Status::Lost);
    let c = analysis::conversion(e.ws.conn(), &p).unwrap();
    assert_eq!((c.leads, c.converted), (7, 5));
    let d = analysis::dashboard(e.ws.conn(), &p, T0 + 8 * DAY).unwrap();
    approx!(d.lead_conversion.current, 5.0 / 7.0);
    assert_eq!(d.lead_conversion.previous, None, "no leads before");
}

#[test]
fn follow_up_activity_counts_kinds_effective_share_response_time_and_win_rates() {
    let mut e = env();
    lead_scenario(&mut e);
    let p = Filter::new(T0, T0 + 10 * DAY);
    let a = analysis::followup_activity(e.ws.conn(), &p, Lang::Zh).unwrap();
    assert_eq!(a.total, 5, "call call visit wechat email");
    let count = |k: &str| a.by_kind.iter().find(|x| x.kind == k).unwrap().count;
    assert_eq!(
        (
            count("call"),
            count("visit"),
            count("wechat"),
            count("email"),
            count("meeting")
        ),
        (2, 1, 1, 1, 0)
    );
    assert_eq!(a.effective, 3);
    approx!(a.effective_share, 0.6);
    // response: p1 1 day, p2 0.5, p4 3; p3 and p5 none yet
    assert_eq!((a.leads, a.responded), (5, 3));
    approx!(a.avg_response_days, 1.5);
    approx!(a.median_response_days, 1.0);
    let kind = |k: &str| a.win_by_kind.iter().find(|g| g.key == k).unwrap().clone();
    assert_eq!((kind("call").customers, kind("call").won), (2, 1));
    approx!(kind("call").win_rate, 0.5);
    approx!(kind("visit").win_rate, 1.0);
    assert_eq!(kind("wechat").label, "微信");
    assert!(
        a.win_by_kind.iter().all(|g| g.key != "email"),
        "the email was to an older customer"
    );
    let tag = |t: &str| a.win_by_tag.iter().find(|g| g.key == t).unwrap().clone();
    approx!(tag("快速交付").win_rate, 1.0);
    approx!(tag("价格敏感").win_rate, 0.0);
}

#[test]
fn sources_compare_the_thirty_day_win_rate_of_each_channel() {
    let mut e = env();
    lead_scenario(&mut e);
    let p = Filter::new(T0, T0 + 10 * DAY);
    let s = analysis::sources(e.ws.conn(), &p, Lang::Zh).unwrap();
    assert_eq!(s.win_days, 30);
    let g = |k: &str| s.sources.iter().find(|g| g.key == k).unwrap().clone();
    assert_eq!(
        (g("展会").customers, g("展会").won, g("展会").won_30d),
        (2, 2, 2)
    );
    approx!(g("展会").win_rate_30d, 1.0);
    // p3's deal was won 42 days after it came in: won, but not within 30 days
    assert_eq!(
        (
            g("官网表单").customers,
            g("官网表单").won,
            g("官网表单").won_30d
        ),
        (2, 1, 0)
    );
    approx!(g("官网表单").win_rate, 0.5);
    approx!(g("官网表单").win_rate_30d, 0.0);
    assert_eq!(g("未填写").customers, 1);
}

#[test]
fn the_owner_filter_keeps_one_salespersons_records() {
    let mut e = env();
    let ming = members::add(
        &mut e.ws,
        MemberFields {
            name: "小明".into(),
            ..Default::default()
        },
    )
    .unwrap();
    let hua = members::add(
        &mut e.ws,
        MemberFields {
            name: "小华".into(),
            ..Default::default()
        },
    )
    .unwrap();
    let c1 = customer(&mut e, T0, "甲", None, &[]);
    let c2 = customer(&mut e, T0, "乙", None, &[]);
    customers::update(&mut e.ws, &c1, &patch(&[("owner_id", json!(ming.id))])).unwrap();
    customers::update(&mut e.ws, &c2, &patch(&[("owner_id", json!(hua.id))])).unwrap();
    let a = deal_at(&mut e, T0, &c1, 10_000.0);
    let b = deal_at(&mut e, T0, &c2, 30_000.0);
    stage(&mut e, T0 + DAY, &a, "合同签订", None);
    stage(&mut e, T0 + DAY, &b, "合同签订", None);
    let s = analysis::sales(e.ws.conn(), &P.clone().owner(Some(&ming.id)), T0 + 2 * DAY).unwrap();
    assert_eq!((s.wins, s.won_amount), (1, 10_000.0));
    let s = analysis::sales(e.ws.conn(), &P, T0 + 2 * DAY).unwrap();
    assert_eq!((s.wins, s.won_amount), (2, 40_000.0));
    let c = analysis::conversion(e.ws.conn(), &P.clone().owner(Some(&hua.id))).unwrap();
    assert_eq!((c.leads, c.created, c.won), (1, 1, 1));
}

#[test]
fn targets_give_completion_ranking_projection_and_shortfall() {
    let mut e = env();
    let (period, from, to) = targets::parse_period("2026-12").unwrap();
    assert_eq!(period, "2026-12");
    let ming = members::add(
        &mut e.ws,
        MemberFields {
            name: "小明".into(),
            ..Default::default()
        },
    )
    .unwrap();
    let hua = members::add(
        &mut e.ws,
        MemberFields {
            name: "小华".into(),
            ..Default::default()
        },
    )
    .unwrap();
    e.clock.set(from);
    targets::set(
        &mut e.ws,
        None,
        "2026-12",
        targets::TargetFields {
            amount: Some(300_000.0),
            wins: Some(4),
            new_customers: None,
        },
    )
    .unwrap();
    targets::set(
        &mut e.ws,
        Some(&ming.id),
        "2026-12",
        targets::TargetFields {
            amount: Some(100_000.0),
            ..Default::default()
        },
    )
    .unwrap();
    targets::set(
        &mut e.ws,
        Some(&hua.id),
        "2026-12",
        targets::TargetFields {
            amount: Some(200_000.0),
            ..Default::default()
        },
    )
    .unwrap();
    // setting again replaces
    targets::set(
        &mut e.ws,
        Some(&hua.id),
        "2026-12",
        targets::TargetFields {
            amount: Some(250_000.0),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(targets::list(e.ws.conn(), "2026-12").unwrap().len(), 3);
    let c = customer(&mut e, from, "甲", None, &[]);
    customers::update(&mut e.ws, &c, &patch(&[("owner_id", json!(ming.id))])).unwrap();
    let a = deal_at(&mut e, from, &c, 100_000.0);
    let b = deal_at(&mut e, from, &c, 50_000.0);
    stage(&mut e, from + 2 * DAY, &a, "合同签订", None);
    stage(&mut e, from + 5 * DAY, &b, "合同签订", None);
    let now = from + 10 * DAY;
    let total_days = (to - from) as f64 / DAY as f64; // 31 (local month)
    let r = targets::report(e.ws.conn(), "2026-12", now, Lang::Zh).unwrap();
    assert_eq!(r.team.won_amount, 150_000.0);
    approx!(r.team.target_completion, 0.5);
    approx!(r.team.wins_completion, 0.5);
    approx!(r.team.projected_amount, 150_000.0 / 10.0 * total_days);
    approx!(
        r.team.projected_completion,
        150_000.0 / 10.0 * total_days / 300_000.0
    );
    approx!(
        r.team.shortfall,
        (300_000.0 - 150_000.0 / 10.0 * total_days).max(0.0)
    );
    approx!(Some(r.elapsed), 10.0 / total_days);
    assert_eq!(r.members[0].name, "小明");
    assert_eq!(r.members[0].rank, Some(1));
    approx!(r.members[0].target_completion, 1.5);
    assert_eq!(r.members[1].name, "小华");
    approx!(r.members[1].target_completion, 0.0);
    approx!(r.members[1].shortfall, 250_000.0);
    // the same figures through the sales report of exactly that month
    let s = analysis::sales(e.ws.conn(), &Filter::new(from, to), now).unwrap();
    assert_eq!(s.target_amount, Some(300_000.0));
    approx!(s.target_completion, 0.5);
    approx!(s.remaining, 150_000.0);
    let s = analysis::sales(
        e.ws.conn(),
        &Filter::new(from, to).owner(Some(&hua.id)),
        now,
    )
    .unwrap();
    assert_eq!(s.target_amount, Some(250_000.0));
    // a quarter
    let (q, qf, qt) = targets::parse_period("2026-q4").unwrap();
    assert_eq!(q, "2026-Q4");
    assert!(qf < from && qt == to);
    assert!(targets::parse_period("2026-13").is_err());
    assert!(targets::set(
        &mut e.ws,
        None,
        "2026-12",
        targets::TargetFields {
            amount: Some(-1.0),
            ..Default::default()
        }
    )
    .is_err());
}

#[test]
fn opportunities_far_below_the_average_are_flagged_low_priority() {
    let mut e = env();
    let c = customer(&mut e, T0, "甲", None, &[]);
    // average of 100k, 100k, 40k, 160k = 100k; threshold 80k
    let ids: Vec<String> = [100_000.0, 100_000.0, 40_000.0, 160_000.0, 79_000.0]
        .iter()
        .map(|a| deal_at(&mut e, T0, &c, *a))
        .collect();
    // the fifth makes the average 95.8k → threshold 76.64k; 79k is above it
    let lp = analysis::low_priority(e.ws.conn(), &P).unwrap();
    approx!(lp.historical_avg, 479_000.0 / 5.0);
    approx!(lp.threshold, 479_000.0 / 5.0 * 0.8);
    assert_eq!(lp.ids, vec![ids[2].clone()]);
    assert!(analysis::is_low_priority(e.ws.conn(), &ids[2]).unwrap());
    assert!(!analysis::is_low_priority(e.ws.conn(), &ids[4]).unwrap());
    // a won deal is no longer "low priority"
    stage(&mut e, T0 + DAY, &ids[2], "合同签订", None);
    assert_eq!(analysis::low_priority(e.ws.conn(), &P).unwrap().count, 0);
}

#[test]
fn the_won_stage_is_a_setting() {
    let mut e = env();
    pipeline_scenario(&mut e);
    analysis::set_settings(
        &mut e.ws,
        analysis::AnalysisSettings {
            won_stage: Some("paid".into()),
            ..Default::default()
        },
    )
    .unwrap();
    let c = analysis::conversion(e.ws.conn(), &P).unwrap();
    assert_eq!((c.won, c.lost), (1, 2), "only A reached 回款完成");
    assert!(analysis::set_settings(
        &mut e.ws,
        analysis::AnalysisSettings {
            won_stage: Some("输单".into()),
            ..Default::default()
        }
    )
    .is_err());
}

#[test]
fn trends_split_the_period_into_days_weeks_or_months() {
    let mut e = env();
    pipeline_scenario(&mut e);
    let t = analysis::trend(e.ws.conn(), &P, analysis::Bucket::Day).unwrap();
    assert!(
        t.len() == 30 || t.len() == 31,
        "30 days, maybe split by local midnight"
    );
    let total: f64 = t.iter().map(|p| p.won_amount).sum();
    assert_eq!(total, 160_000.0);
    assert_eq!(t.iter().map(|p| p.wins).sum::<i64>(), 3);
    assert_eq!(t.first().unwrap().from, P.from);
    assert_eq!(t.last().unwrap().to, P.to);
    let m = analysis::trend(e.ws.conn(), &P, analysis::Bucket::Month).unwrap();
    assert_eq!(m.iter().map(|p| p.won_amount).sum::<f64>(), 160_000.0);
}

#[test]
fn the_dashboard_compares_with_the_previous_period() {
    let mut e = env();
    pipeline_scenario(&mut e);
    let d = analysis::dashboard(e.ws.conn(), &P, T0 + 14 * DAY).unwrap();
    assert_eq!(d.won_amount.current, Some(160_000.0));
    assert_eq!(d.won_amount.previous, Some(0.0));
    assert_eq!(d.won_amount.change, None, "previous is 0");
    approx!(d.win_rate.current, 0.6);
    assert_eq!(d.win_rate.previous, None);
    assert_eq!(d.by_owner.iter().map(|b| b.wins).sum::<i64>(), 3);
    assert_eq!(d.sales.wins, 3);
    let c = analysis::Compare::new(Some(0.3), Some(0.4));
    approx!(c.change, -0.25);
}

// ------------------------------------------------------------ cross-check

/// A few thousand random histories written in one transaction, then the
/// funnel, win rate, cycle and collection rate recomputed here from the raw
/// tables with plain loops.
#[test]
fn random_histories_agree_with_an_independent_computation() {
    use rand::{Rng, SeedableRng};
    let mut e = env();
    let mut rng = rand::rngs::SmallRng::seed_from_u64(7);
    let keys = [
        "initial_contact",
        "needs_analysis",
        "proposal",
        "negotiation",
        "contract",
        "paid",
    ];
    let start = T0 - 60 * DAY;
    e.ws.write("test", |w| {
        let mut custs = vec![];
        for i in 0..200 {
            w.set_now(start + rng.random_range(0..30 * DAY));
            custs.push(customers::insert(
                w,
                NewCustomer {
                    fields: CustomerFields::named(&format!("客户{i}")),
                    ..Default::default()
                },
                None,
            )?);
        }
        for i in 0..2500 {
            let c = &custs[rng.random_range(0..custs.len())];
            let mut t = start + 30 * DAY + rng.random_range(0..60 * DAY);
            w.set_now(t);
            let amount = if rng.random_bool(0.1) {
                None
            } else {
                Some(rng.random_range(1..100) as f64 * 1000.0)
            };
            let id = opportunities::insert(
                w,
                NewOpportunity {
                    customer: c.clone(),
                    fields: OpportunityFields {
                        name: format!("机会{i}"),
                        expected_amount: amount,
                        ..Default::default()
                    },
                    stage: None,
                },
            )?;
            let mut cur = 0usize;
            for _ in 0..rng.random_range(0..6) {
                t += rng.random_range(1..10 * DAY);
                w.set_now(t);
                let r: f64 = rng.random();
                if r < 0.15 {
                    opportunities::set_stage_in(
                        w,
                        &id,
                        "lost",
                        Some(["价格过高", "预算不足", "竞品", "决策慢"][rng.random_range(0..4)]),
                    )?;
                    cur = 99;
                } else {
                    let next = if cur == 99 {
                        rng.random_range(0..6)
                    } else {
                        (cur + rng.random_range(1..3)).min(5)
                    };
                    opportunities::set_stage_in(w, &id, keys[next], None)?;
                    cur = next;
                }
            }
            if rng.random_bool(0.3) {
                opportunities::receive_in(
                    w,
                    &id,
                    rng.random_range(1..50) as f64 * 1000.0,
                    Some(t),
                    None,
                )?;
            }
            if rng.random_bool(0.2) {
                let won: f64 = rng.random_range(1..100) as f64 * 1000.0;
                w.tx().execute(
                    "UPDATE opportunities SET won_amount = ?2 WHERE id = ?1",
                    rusqlite::params![id, won],
                )?;
            }
        }
        Ok(())
    })
    .unwrap();
    let conn = e.ws.conn();
    // raw rows
    struct O {
        cust: String,
        created: i64,
        amount: f64,
        received: f64,
        stays: Vec<(String, i64, Option<i64>)>,
    }
    let mut opps: Vec<O> = vec![];
    {
        let mut st = conn.prepare("SELECT id, customer_id, created_at, coalesce(won_amount, expected_amount, 0), coalesce(received_amount, 0) FROM opportunities").unwrap();
        let mut hs = conn.prepare("SELECT stage, entered_at, left_at FROM opportunity_stage_history WHERE opportunity_id = ?1 ORDER BY entered_at, rowid").unwrap();
        let rows: Vec<(String, String, i64, f64, f64)> = st
            .query_map([], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })
            .unwrap()
            .map(|r| r.unwrap())
            .collect();
        for (id, cust, created, amount, received) in rows {
            let stays = hs
                .query_map([&id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .unwrap()
                .map(|r| r.unwrap())
                .collect();
            opps.push(O {
                cust,
                created,
                amount,
                received,
                stays,
            });
        }
    }
    let cust_created: std::collections::HashMap<String, i64> = conn
        .prepare("SELECT id, created_at FROM customers")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    let idx = |k: &str| keys.iter().position(|x| *x == k);
    // outcome by plain reading: last stay lost → lost at its start; last stay
    // in contract/paid → won at the start of the trailing contract/paid run.
    let outcome = |o: &O| -> (i32, i64) {
        let last = o.stays.last().unwrap();
        if last.0 == "lost" {
            return (-1, last.1);
        }
        if idx(&last.0).unwrap() < 4 {
            return (0, 0);
        }
        let mut t = last.1;
        for s in o.stays.iter().rev() {
            if s.0 == "lost" || idx(&s.0).unwrap() < 4 {
                break;
            }
            t = s.1;
        }
        (1, t)
    };
    for k in 0..4 {
        let f = Filter::new(
            start + 30 * DAY + k * 20 * DAY,
            start + 30 * DAY + (k + 1) * 20 * DAY,
        );
        // funnel
        let mut entered = [0i64; 6];
        let mut sum_days = [0f64; 6];
        let mut n_days = [0usize; 6];
        let mut cohort = 0;
        for o in opps
            .iter()
            .filter(|o| o.created >= f.from && o.created < f.to)
        {
            cohort += 1;
            let mut mx = 0;
            for s in &o.stays {
                if let Some(i) = idx(&s.0) {
                    mx = mx.max(i);
                    if let Some(l) = s.2 {
                        sum_days[i] += (l - s.1) as f64 / DAY as f64;
                        n_days[i] += 1;
                    }
                }
            }
            for x in entered.iter_mut().take(mx + 1) {
                *x += 1;
            }
        }
        let fu = analysis::pipeline_funnel(conn, &f, Lang::Zh).unwrap();
        assert_eq!(fu.total, cohort);
        for i in 0..6 {
            assert_eq!(fu.stages[i].entered, entered[i], "stage {i}");
            if n_days[i] == 0 {
                assert_eq!(fu.stages[i].avg_days, None);
            } else {
                approx!(fu.stages[i].avg_days, sum_days[i] / n_days[i] as f64);
            }
            if i > 0 && entered[i - 1] > 0 {
                approx!(
                    fu.stages[i].conversion,
                    entered[i] as f64 / entered[i - 1] as f64
                );
            }
        }
        // win rate, cycle, collection
        let (mut won, mut lost, mut amount, mut received) = (0, 0, 0.0, 0.0);
        let mut cyc = vec![];
        for o in &opps {
            let (st, t) = outcome(o);
            if st != 0 && t >= f.from && t < f.to {
                if st == 1 {
                    won += 1;
                    amount += o.amount;
                    received += o.received;
                    cyc.push(((t - cust_created[&o.cust]) as f64 / DAY as f64).max(0.0));
                } else {
                    lost += 1;
                }
            }
        }
        assert!(won + lost > 10, "the random data must exercise the period");
        let c = analysis::conversion(conn, &f).unwrap();
        assert_eq!((c.won, c.lost), (won, lost));
        approx!(c.win_rate, won as f64 / (won + lost) as f64);
        let s = analysis::sales(conn, &f, f.to + DAY).unwrap();
        assert_eq!(s.wins, won);
        assert!((s.won_amount - amount).abs() < 1e-6);
        approx!(s.collection_rate, received / amount);
        let cy = analysis::cycle(conn, &f).unwrap();
        approx!(
            cy.avg_cycle_days,
            cyc.iter().sum::<f64>() / cyc.len() as f64
        );
        cyc.sort_by(|a, b| a.total_cmp(b));
        let n = cyc.len();
        let med = if n % 2 == 1 {
            cyc[n / 2]
        } else {
            (cyc[n / 2 - 1] + cyc[n / 2]) / 2.0
        };
        approx!(cy.median_cycle_days, med);
        // the dashboard shows the same figures as the single reports
        let d = analysis::dashboard(conn, &f, f.to + DAY).unwrap();
        assert_eq!(d.lead_conversion.current, c.lead_conversion);
        assert_eq!(d.win_rate.current, c.win_rate);
        assert_eq!(d.sales.wins, won);
        assert_eq!(d.avg_cycle_days.current, cy.avg_cycle_days);
    }
}

// --------------------------------------------------------------- segments

use kehu::analysis::segments;
use kehu::customer_list::{self, CustomerQuery};

fn in_segment(e: &Env, id: &str) -> Vec<String> {
    segments::of_customer(e.ws.conn(), id, Lang::Zh)
        .unwrap()
        .into_iter()
        .map(|b| b.segment)
        .collect()
}

#[test]
fn high_value_needs_the_annual_purchase_and_an_eighty_percent_repurchase_rate() {
    let mut e = env();
    let c = customer(&mut e, T0, "大客户", None, &[]);
    customers::update(
        &mut e.ws,
        &c,
        &patch(&[("annual_purchase", json!(600_000.0))]),
    )
    .unwrap();
    done(&mut e, T0, &c, Kind::Call, None); // not a churn risk
    for i in 0..4 {
        let o = deal_at(&mut e, T0 + i, &c, 1000.0);
        stage(&mut e, T0 + 10 + i, &o, "合同签订", None);
    }
    // 4 wins: repurchase (4 − 1) / 4 = 0.75 < 0.8
    assert!(!in_segment(&e, &c).contains(&"high_value".to_string()));
    let o = deal_at(&mut e, T0 + 20, &c, 1000.0);
    stage(&mut e, T0 + 30, &o, "合同签订", None);
    // 5 wins: 4 / 5 = 0.8 — recomputed by the stage change itself
    assert_eq!(in_segment(&e, &c), vec!["high_value"]);
    let badges = segments::of_customer(e.ws.conn(), &c, Lang::Zh).unwrap();
    assert_eq!(badges[0].label, "高价值客户");
    assert_eq!(badges[0].action, "安排专人对接，提供定制化服务");
    segments::set_action(&mut e.ws, "high_value", "专人对接").unwrap();
    assert_eq!(
        segments::of_customer(e.ws.conn(), &c, Lang::Zh).unwrap()[0].action,
        "专人对接"
    );
    customers::update(
        &mut e.ws,
        &c,
        &patch(&[("annual_purchase", json!(400_000.0))]),
    )
    .unwrap();
    assert!(
        in_segment(&e, &c).is_empty(),
        "recomputed on the customer's change"
    );
}

#[test]
fn potential_needs_three_recent_follow_ups_and_a_seventy_percent_need_match() {
    let mut e = env();
    let mut r = segments::rules(e.ws.conn()).unwrap();
    r.matching_tags = vec!["快速交付".into(), "定制".into()];
    segments::set_rules(&mut e.ws, r).unwrap();
    let c = customer(
        &mut e,
        T0,
        "潜力客户",
        None,
        &["快速交付", "定制", "价格敏感"],
    );
    for d in [1, 2, 3] {
        done(&mut e, T0 + d * DAY, &c, Kind::Visit, None);
    }
    // need match 2/3 < 0.7
    let ev = segments::evaluate(
        e.ws.conn(),
        &segments::rules(e.ws.conn()).unwrap(),
        &analysis::Pipe::load(e.ws.conn()).unwrap(),
        &c,
        T0 + 3 * DAY,
    )
    .unwrap()
    .unwrap();
    approx!(ev.0.need_match, 2.0 / 3.0);
    assert_eq!(ev.0.recent_followups, 3);
    assert!(in_segment(&e, &c).is_empty());
    let tag = kehu::tags::resolve(e.ws.conn(), "价格敏感").unwrap();
    e.ws.write("test", |w| kehu::tags::unlink(w, &c, &tag.id))
        .unwrap();
    assert_eq!(
        in_segment(&e, &c),
        vec!["potential"],
        "recomputed on the tag change"
    );
    let page = customer_list::list(
        e.ws.conn(),
        &CustomerQuery {
            segment: Some("potential".into()),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(
        page.rows.iter().map(|r| r.id.clone()).collect::<Vec<_>>(),
        vec![c.clone()]
    );
    // 90 days later the follow-ups are no longer recent
    e.clock.set(T0 + 95 * DAY);
    segments::recompute_all(&mut e.ws, T0 + 95 * DAY).unwrap();
    assert!(!in_segment(&e, &c).contains(&"potential".to_string()));
}

#[test]
fn churn_risk_is_two_months_without_follow_up_or_a_price_complaint() {
    let mut e = env();
    let quiet = customer(&mut e, T0, "沉默客户", None, &[]);
    let unhappy = customer(&mut e, T0, "嫌贵客户", None, &[]);
    let fine = customer(&mut e, T0, "正常客户", None, &[]);
    done(&mut e, T0 + DAY, &fine, Kind::Call, None);
    e.clock.set(T0 + DAY);
    followups::add(
        &mut e.ws,
        NewFollowup {
            customer: unhappy.clone(),
            fields: FollowupFields {
                feedback: Some("客户觉得价格过高，需要申请折扣".into()),
                ..Default::default()
            },
            done: true,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(in_segment(&e, &unhappy), vec!["churn_risk"]);
    assert!(in_segment(&e, &fine).is_empty());
    segments::recompute_all(&mut e.ws, T0 + 59 * DAY).unwrap();
    assert!(in_segment(&e, &quiet).is_empty(), "59 days");
    segments::recompute_all(&mut e.ws, T0 + 60 * DAY).unwrap();
    assert_eq!(
        in_segment(&e, &quiet),
        vec!["churn_risk"],
        "60 days since creation"
    );
    assert!(
        in_segment(&e, &fine).is_empty(),
        "59 days since its follow-up"
    );
    let s = segments::summary(e.ws.conn(), None, Lang::Zh).unwrap();
    let churn = s
        .segments
        .iter()
        .find(|x| x.segment == "churn_risk")
        .unwrap();
    assert_eq!((s.customers, churn.count), (3, 2));
    approx!(churn.share, 2.0 / 3.0);
}

// ------------------------------------------------------------------ excel

#[test]
fn the_excel_report_has_a_sheet_per_metric_with_numbers_and_native_charts() {
    use calamine::{Data, Reader, Xlsx};
    let mut e = env();
    pipeline_scenario(&mut e);
    let out = e.dir.path().join("报表.xlsx");
    analysis::xlsx::write_report(e.ws.conn(), &P, T0 + 14 * DAY, Lang::Zh, &out).unwrap();
    let mut wb: Xlsx<_> = calamine::open_workbook(&out).unwrap();
    let names = wb.sheet_names();
    for s in [
        "概览",
        "销售漏斗",
        "客户漏斗",
        "趋势",
        "跟进方式",
        "线索来源",
    ] {
        assert!(names.iter().any(|n| n == s), "sheet {s} in {names:?}");
    }
    let ov = wb.worksheet_range("概览").unwrap();
    let find = |label: &str| -> Data {
        ov.rows()
            .find(|r| r[0] == Data::String(label.into()))
            .unwrap()[1]
            .clone()
    };
    assert_eq!(find("销售额"), Data::Float(160_000.0));
    assert_eq!(find("回款率"), Data::Float(0.5));
    assert_eq!(find("商机赢单率"), Data::Float(0.6));
    assert_eq!(
        find("线索转化率"),
        Data::Empty,
        "no leads: undefined, an empty cell"
    );
    let fu = wb.worksheet_range("销售漏斗").unwrap();
    let entered: Vec<f64> = fu
        .rows()
        .skip(1)
        .take(6)
        .map(|r| match r[1] {
            Data::Float(x) => x,
            _ => -1.0,
        })
        .collect();
    assert_eq!(entered, vec![5.0, 3.0, 3.0, 2.0, 2.0, 1.0]);
    assert_eq!(fu.get((2, 2)), Some(&Data::Float(0.6)));
    // native charts: bar charts for the funnels, line charts for the trend
    let zip = std::fs::File::open(&out).unwrap();
    let mut z = zip::ZipArchive::new(zip).unwrap();
    let mut kinds = vec![];
    for i in 0..z.len() {
        let mut f = z.by_index(i).unwrap();
        if f.name().unwrap().starts_with("xl/charts/chart") {
            let mut s = String::new();
            std::io::Read::read_to_string(&mut f, &mut s).unwrap();
            for k in ["c:barChart", "c:lineChart", "c:pieChart"] {
                if s.contains(&format!("<{k}>")) {
                    kinds.push(k);
                }
            }
        }
    }
    assert!(
        kinds.iter().filter(|k| **k == "c:barChart").count() >= 2,
        "{kinds:?}"
    );
    assert!(kinds.contains(&"c:lineChart"), "{kinds:?}");
}

// -------------------------------------------------------------------- CLI

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

fn kehu_json(db: &std::path::Path, args: &[&str]) -> serde_json::Value {
    let mut a = vec!["--json"];
    a.extend_from_slice(args);
    serde_json::from_slice(&kehu(db, &a).success().get_output().stdout).unwrap()
}

#[test]
fn back_filled_history_from_the_command_line_gives_the_reports_in_the_documented_json() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("kehu.db");
    let c = kehu_json(
        &db,
        &[
            "customer",
            "add",
            "--name",
            "甲公司",
            "--first-contact",
            "2025-03-01",
        ],
    );
    let code = c["code"].as_str().unwrap();
    let o1 = kehu_json(
        &db,
        &[
            "opp",
            "add",
            code,
            "--name",
            "设备采购",
            "--amount",
            "100000",
            "--at",
            "2025-03-02 09:00",
        ],
    );
    let o1 = o1["id"].as_str().unwrap();
    kehu_json(
        &db,
        &["opp", "stage", o1, "需求分析", "--at", "2025-03-04 09:00"],
    );
    kehu_json(
        &db,
        &["opp", "stage", o1, "合同签订", "--at", "2025-03-12 09:00"],
    );
    kehu_json(
        &db,
        &[
            "opp",
            "receive",
            o1,
            "--amount",
            "40000",
            "--at",
            "2025-03-15",
        ],
    );
    let paid = kehu_json(
        &db,
        &[
            "opp",
            "receive",
            o1,
            "--amount",
            "20000",
            "--at",
            "2025-03-20",
        ],
    );
    assert_eq!(paid["received_amount"], json!(60000.0));
    let o2 = kehu_json(
        &db,
        &[
            "opp",
            "add",
            code,
            "--name",
            "耗材",
            "--amount",
            "30000",
            "--at",
            "2025-03-03 09:00",
        ],
    );
    let o2 = o2["id"].as_str().unwrap();
    kehu_json(
        &db,
        &[
            "opp",
            "stage",
            o2,
            "输单",
            "--reason",
            "价格过高",
            "--at",
            "2025-03-05 09:00",
        ],
    );
    kehu(&db, &["opp", "stage", o2, "需求分析", "--at", "2025-03-04"]).code(2);
    kehu_json(
        &db,
        &[
            "target", "set", "--team", "--period", "2025-03", "--amount", "200000",
        ],
    );

    let f = kehu_json(&db, &["report", "funnel", "--period", "2025-03"]);
    assert_eq!(f["stages"][0]["stage"], "initial_contact");
    assert_eq!(f["stages"][0]["label"], "初步接触");
    assert_eq!(f["stages"][0]["entered"], 2);
    assert_eq!(f["stages"][0]["conversion"], serde_json::Value::Null);
    assert_eq!(f["stages"][0]["avg_days"], json!(2.0));
    assert_eq!(f["stages"][1]["entered"], 1);
    assert_eq!(f["stages"][1]["conversion"], json!(0.5));
    assert_eq!(f["stages"][1]["drop"], json!(0.5));
    assert_eq!(
        f["stages"][2]["entered"], 1,
        "skipped 方案提供 counts as passed"
    );
    assert_eq!(
        f["loss_reasons"],
        json!([{"reason": "价格过高", "count": 1, "customers": 1, "share": 1.0}])
    );

    let c = kehu_json(
        &db,
        &[
            "report",
            "conversion",
            "--from",
            "2025-03-01",
            "--to",
            "2025-04-01",
        ],
    );
    assert_eq!(c["win_rate"], json!(0.5));
    let s = kehu_json(&db, &["report", "sales", "--period", "2025-03"]);
    assert_eq!(s["won_amount"], json!(100000.0));
    assert_eq!(s["avg_deal"], json!(100000.0));
    assert_eq!(s["collection_rate"], json!(0.6));
    assert_eq!(s["target_completion"], json!(0.5));
    assert_eq!(
        s["projected_completion"],
        json!(0.5),
        "the month is over: projection = actual"
    );
    assert_eq!(s["shortfall"], json!(100000.0));
    let cy = kehu_json(&db, &["report", "cycle", "--period", "2025-03"]);
    assert_eq!(
        cy["avg_cycle_days"],
        json!(11.375),
        "2025-03-01 00:00 → 03-12 09:00"
    );
    assert_eq!(cy["median_cycle_days"], json!(11.375));
    let t = kehu_json(&db, &["report", "targets", "--period", "2025-03"]);
    assert_eq!(t["team"]["target_completion"], json!(0.5));
    let tr = kehu_json(
        &db,
        &["report", "sales", "--period", "2025-03", "--by", "week"],
    );
    let weeks = tr["trend"].as_array().unwrap();
    assert_eq!(
        weeks
            .iter()
            .map(|w| w["won_amount"].as_f64().unwrap())
            .sum::<f64>(),
        100000.0
    );
    for r in ["customers", "followups", "sources", "segments", "dashboard"] {
        kehu_json(&db, &["report", r, "--period", "2025-03"]);
    }
    let out = dir.path().join("report.xlsx");
    kehu(
        &db,
        &[
            "report",
            "export",
            "--format",
            "xlsx",
            "--period",
            "2025-03",
            "--out",
            out.to_str().unwrap(),
        ],
    )
    .success();
    assert!(std::fs::metadata(&out).unwrap().len() > 5000);
    let err = kehu(
        &db,
        &[
            "--json",
            "report",
            "funnel",
            "--from",
            "2025-04-01",
            "--to",
            "2025-03-01",
        ],
    )
    .code(2);
    let e: serde_json::Value = serde_json::from_slice(&err.get_output().stdout).unwrap();
    assert_eq!(e["field"], "to");
}

#[test]
fn the_heatmap_counts_customers_and_won_amount_by_industry_and_province() {
    let mut e = env();
    pipeline_scenario(&mut e);
    let c1 =
        e.ws.conn()
            .query_row(
                "SELECT id FROM customers WHERE name = '甲公司'",
                [],
                |r| r.get::<_, String>(0),
            )
            .unwrap();
    customers::update(
        &mut e.ws,
        &c1,
        &patch(&[("industry", json!("制造业")), ("province", json!("广东"))]),
    )
    .unwrap();
    let h = analysis::heatmap(
        e.ws.conn(),
        &P,
        analysis::Dimension::Industry,
        analysis::Dimension::Province,
    )
    .unwrap();
    let cell = |r: &str, c: &str| h.iter().find(|x| x.row == r && x.col == c).unwrap().clone();
    assert_eq!(cell("制造业", "广东").customers, 1);
    assert_eq!(cell("制造业", "广东").won_amount, 90_000.0, "A");
    assert_eq!(
        cell("", "").won_amount,
        70_000.0,
        "D and F of 乙公司, no industry or province"
    );
}

fn listed(e: &Env, q: kehu::customer_list::CustomerQuery) -> Vec<String> {
    let page = kehu::customer_list::page(&e.ws, &q).unwrap();
    assert_eq!(
        page.total as usize,
        page.rows.len(),
        "one page holds them all"
    );
    let mut ids: Vec<String> = page.rows.into_iter().map(|r| r.id).collect();
    ids.sort();
    ids
}

#[test]
fn a_source_bar_opens_exactly_the_leads_it_counts() {
    use kehu::customer_list::CustomerQuery;
    let mut e = env();
    let ids = lead_scenario(&mut e);
    let ming = members::add(
        &mut e.ws,
        MemberFields {
            name: "小明".into(),
            ..Default::default()
        },
    )
    .unwrap()
    .id;
    customers::assign_owner(&mut e.ws, &[ids[0].clone()], Some(&ming)).unwrap();
    for owner in [None, Some(ming.as_str())] {
        let p = Filter::new(T0, T0 + 10 * DAY).owner(owner);
        for lang in [Lang::Zh, Lang::En] {
            let s = analysis::sources(e.ws.conn(), &p, lang).unwrap();
            assert!(!s.sources.is_empty());
            for g in &s.sources {
                let q = CustomerQuery {
                    source: Some(g.key.clone()),
                    owner: owner.map(str::to_string),
                    created_from: Some(p.from),
                    created_to: Some(p.to),
                    ..Default::default()
                };
                assert_eq!(
                    listed(&e, q).len() as i64,
                    g.customers,
                    "source {} of {owner:?}",
                    g.key
                );
            }
        }
    }
    // the unset bar is p5 alone; the 展会 bar of the team is p1 and p2
    let q = |s: &str| CustomerQuery {
        source: Some(s.into()),
        created_from: Some(T0),
        created_to: Some(T0 + 10 * DAY),
        ..Default::default()
    };
    assert_eq!(listed(&e, q("未填写")), vec![ids[4].clone()]);
    let mut zh = vec![ids[0].clone(), ids[1].clone()];
    zh.sort();
    assert_eq!(listed(&e, q("展会")), zh);
}

#[test]
fn a_loss_reason_bar_opens_exactly_the_customers_of_its_lost_deals() {
    use kehu::customer_list::{CustomerQuery, LostDeals};
    let mut e = env();
    pipeline_scenario(&mut e);
    // a third customer with two deals lost for the same reason, one of
    // them another salesperson's, and one lost without a reason
    let ming = members::add(
        &mut e.ws,
        MemberFields {
            name: "小明".into(),
            ..Default::default()
        },
    )
    .unwrap()
    .id;
    let c3 = customer(&mut e, T0 - DAY, "丙公司", None, &[]);
    let x = deal_at(&mut e, T0 + 3 * DAY, &c3, 1_000.0);
    let y = deal_at(&mut e, T0 + 3 * DAY, &c3, 2_000.0);
    let z = deal_at(&mut e, T0 + 3 * DAY, &c3, 3_000.0);
    e.clock.set(T0 + 3 * DAY);
    opportunities::update(&mut e.ws, &y, &patch(&[("owner_id", json!(ming))])).unwrap();
    stage(&mut e, T0 + 4 * DAY, &x, "输单", Some("价格过高"));
    stage(&mut e, T0 + 4 * DAY, &y, "输单", Some("价格过高"));
    stage(&mut e, T0 + 4 * DAY, &z, "输单", Some("交期太长"));
    // a loss without any reason (as older data and imports have it)
    for sql in [
        "UPDATE opportunities SET loss_reason = NULL WHERE id = ?1",
        "UPDATE opportunity_stage_history SET reason = NULL WHERE opportunity_id = ?1",
    ] {
        e.ws.conn().execute(sql, [&z]).unwrap();
    }
    for owner in [None, Some(ming.as_str())] {
        let p = P.clone().owner(owner);
        for lang in [Lang::Zh, Lang::En] {
            let fu = analysis::pipeline_funnel(e.ws.conn(), &p, lang).unwrap();
            assert!(!fu.loss_reasons.is_empty());
            for r in &fu.loss_reasons {
                let q = CustomerQuery {
                    lost: Some(LostDeals {
                        reason: r.reason.clone(),
                        period: p.clone(),
                    }),
                    ..Default::default()
                };
                assert_eq!(
                    listed(&e, q).len() as i64,
                    r.customers,
                    "reason {} of {owner:?}",
                    r.reason
                );
            }
        }
    }
    let fu = analysis::pipeline_funnel(e.ws.conn(), &P, Lang::Zh).unwrap();
    let price = fu
        .loss_reasons
        .iter()
        .find(|r| r.reason == "价格过高")
        .unwrap();
    // B (甲), E (乙), x and y (丙): four deals of three customers
    assert_eq!((price.count, price.customers), (4, 3));
    let none = fu
        .loss_reasons
        .iter()
        .find(|r| r.reason == "未填写")
        .unwrap();
    assert_eq!((none.count, none.customers), (1, 1));
    let q = CustomerQuery {
        lost: Some(LostDeals {
            reason: "Not given".into(),
            period: P,
        }),
        ..Default::default()
    };
    assert_eq!(listed(&e, q), vec![c3]);
}

#[test]
fn the_command_line_lists_the_customers_behind_a_source_a_loss_reason_and_a_keyword() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("kehu.db");
    let add = |name: &str, source: &str| {
        kehu_json(
            &db,
            &["customer", "add", "--name", name, "--source", source],
        )["code"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let a = add("甲公司", "展会");
    let b = add("乙公司", "展会");
    let c = add("丙公司", "官网表单");
    let total = |args: &[&str]| {
        let mut v = vec!["customer", "list"];
        v.extend_from_slice(args);
        kehu_json(&db, &v)["total"].as_i64().unwrap()
    };
    // sources: the leads of this month, as `report sources` counts them
    let sources = kehu_json(&db, &["report", "sources"]);
    for s in sources["sources"].as_array().unwrap() {
        let key = s["key"].as_str().unwrap();
        assert_eq!(
            total(&["--source", key, "--period", &month_now()]),
            s["customers"].as_i64().unwrap(),
            "{key}"
        );
    }
    assert_eq!(total(&["--source", "展会"]), 2);
    assert_eq!(total(&["--source", "未填写"]), 0);

    // a loss reason: the customers of the deals lost for it this month
    for (code, reason) in [
        (&a, "价格过高"),
        (&b, "价格过高"),
        (&b, "价格过高"),
        (&c, "预算不足"),
    ] {
        let o = kehu_json(
            &db,
            &["opp", "add", code, "--name", "项目", "--amount", "1000"],
        );
        let id = o["id"].as_str().unwrap();
        kehu_json(&db, &["opp", "stage", id, "输单", "--reason", reason]);
    }
    let funnel = kehu_json(&db, &["report", "funnel"]);
    let price = funnel["loss_reasons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["reason"] == "价格过高")
        .unwrap()
        .clone();
    assert_eq!(
        (price["count"].as_i64(), price["customers"].as_i64()),
        (Some(3), Some(2))
    );
    assert_eq!(total(&["--lost-reason", "价格过高"]), 2);
    assert_eq!(total(&["--lost-reason", "预算不足"]), 1);
    assert_eq!(
        total(&["--lost-reason", "价格过高", "--period", "2001-01"]),
        0
    );

    // a keyword of the follow-ups' content (or feedback)
    for (code, content, feedback) in [
        (&a, "客户对价格敏感", "希望快速交付"),
        (&c, "价格敏感，再谈", "价格过高"),
        (&b, "演示产品", "希望快速交付"),
    ] {
        kehu_json(
            &db,
            &[
                "followup",
                "add",
                code,
                "--done",
                "--content",
                content,
                "--feedback",
                feedback,
            ],
        );
    }
    assert_eq!(total(&["--keyword", "价格敏感"]), 2);
    assert_eq!(total(&["--keyword", "快速交付"]), 0);
    assert_eq!(total(&["--keyword", "快速交付", "--in-feedback"]), 2);
}

/// This month as `--period` takes it (local time, as the CLI reads it).
fn month_now() -> String {
    chrono::Local::now().format("%Y-%m").to_string()
}
