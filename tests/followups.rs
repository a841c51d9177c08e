//! Follow-ups: planning, recording, completing, postponing, cancelling, the
//! customer's last/next follow-up, grade cadence, timeline and attachments.
mod common;

use common::{env, Env, T0};
use kehu::customers::{self, CustomerFields, Grade, NewCustomer, Status};
use kehu::followups::{
    self, Cadence, DoneInput, FollowupFields, FollowupQuery, FollowupStatus, Kind, NewFollowup,
    TimelineItem, DAY, MINUTE,
};
use kehu::Workspace;

const HOUR: i64 = 60 * MINUTE;

fn customer(ws: &mut Workspace, name: &str, grade: Option<Grade>, status: Status) -> String {
    customers::create(
        ws,
        NewCustomer {
            fields: CustomerFields {
                name: name.into(),
                grade,
                status,
                ..Default::default()
            },
            ..Default::default()
        },
    )
    .unwrap()
    .id
}

fn plan(ws: &mut Workspace, customer: &str, at: i64) -> followups::Followup {
    followups::add(
        ws,
        NewFollowup {
            customer: customer.into(),
            planned_at: Some(at),
            ..Default::default()
        },
    )
    .unwrap()
}

fn record_done(ws: &mut Workspace, customer: &str, at: i64) -> followups::Followup {
    followups::add(
        ws,
        NewFollowup {
            customer: customer.into(),
            done: true,
            done_at: Some(at),
            fields: FollowupFields {
                kind: Kind::Visit,
                content: Some("上门拜访".into()),
                ..Default::default()
            },
            ..Default::default()
        },
    )
    .unwrap()
}

/// Rows in follow-up tables plus change-log entries: a refused write must
/// leave all of them unchanged.
fn footprint(e: &Env) -> i64 {
    e.ws.conn()
        .query_row(
            "SELECT (SELECT count(*) FROM followups) + (SELECT count(*) FROM followup_postponements)
                  + (SELECT count(*) FROM changes) + (SELECT coalesce(sum(planned_at), 0) FROM followups)",
            [],
            |r| r.get(0),
        )
        .unwrap()
}

#[test]
fn a_planned_follow_up_gets_the_default_reminder_and_becomes_the_customers_next_follow_up() {
    let mut e = env();
    let c = customer(
        &mut e.ws,
        "深圳市腾云科技有限公司",
        Some(Grade::A),
        Status::Prospect,
    );
    let f = plan(&mut e.ws, &c, T0 + 2 * DAY);
    assert_eq!(f.status, FollowupStatus::Planned);
    assert_eq!(f.remind_before_min, Some(30));
    assert_eq!(f.remind_at, Some(T0 + 2 * DAY - 30 * MINUTE));
    assert_eq!(f.fields.kind, Kind::Call);
    let cu = customers::get(e.ws.conn(), &c).unwrap();
    assert_eq!(cu.next_followup_at, Some(T0 + 2 * DAY));
    assert_eq!(cu.last_followup_at, None);
    // An earlier plan becomes the next one.
    plan(&mut e.ws, &c, T0 + DAY);
    let cu = customers::get(e.ws.conn(), &c).unwrap();
    assert_eq!(cu.next_followup_at, Some(T0 + DAY));
}

#[test]
fn completing_a_follow_up_records_the_result_and_moves_last_and_next() {
    let mut e = env();
    let c = customer(
        &mut e.ws,
        "杭州云栖数据有限公司",
        Some(Grade::B),
        Status::Interested,
    );
    let f1 = plan(&mut e.ws, &c, T0 + HOUR);
    let f2 = plan(&mut e.ws, &c, T0 + 3 * DAY);
    e.clock.set(T0 + 2 * HOUR);
    let done = followups::complete(
        &mut e.ws,
        &f1.id,
        DoneInput {
            content: Some("客户对价格有疑问，需进一步沟通方案".into()),
            feedback: Some("希望提供分期付款方案".into()),
            next_step: Some("3个工作日内提供对比方案".into()),
            effective: Some(true),
            done_at: None,
        },
    )
    .unwrap();
    assert_eq!(done.status, FollowupStatus::Done);
    assert_eq!(done.done_at, Some(T0 + 2 * HOUR));
    assert_eq!(
        done.fields.feedback.as_deref(),
        Some("希望提供分期付款方案")
    );
    assert_eq!(done.fields.effective, Some(true));
    let cu = customers::get(e.ws.conn(), &c).unwrap();
    assert_eq!(cu.last_followup_at, Some(T0 + 2 * HOUR));
    assert_eq!(cu.next_followup_at, Some(T0 + 3 * DAY));
    // Done follow-ups cannot be completed or postponed again.
    let err = followups::complete(&mut e.ws, &f1.id, DoneInput::default()).unwrap_err();
    assert_eq!(err.field(), Some("status"));
    // Cancelling the last plan clears "next".
    followups::cancel(&mut e.ws, &f2.id, Some("客户已采购")).unwrap();
    let cu = customers::get(e.ws.conn(), &c).unwrap();
    assert_eq!(cu.next_followup_at, None);
}

#[test]
fn recording_a_done_follow_up_suggests_the_next_date_by_grade_cadence() {
    let mut e = env();
    for (grade, days) in [
        (Some(Grade::A), Some(7)),
        (Some(Grade::B), Some(14)),
        (Some(Grade::C), Some(30)),
        (None, None),
    ] {
        let c = customer(&mut e.ws, &format!("客户{grade:?}"), grade, Status::Won);
        let f = record_done(&mut e.ws, &c, T0 - HOUR);
        assert_eq!(f.status, FollowupStatus::Done);
        assert_eq!(f.remind_at, None, "a done follow-up has no reminder");
        let s = followups::suggest_next_at(e.ws.conn(), &c, f.done_at.unwrap()).unwrap();
        assert_eq!(s, days.map(|d| T0 - HOUR + d * DAY), "{grade:?}");
    }
}

#[test]
fn a_planned_follow_up_in_the_past_with_a_reminder_is_refused_and_nothing_is_written() {
    let mut e = env();
    let c = customer(&mut e.ws, "过去的计划", None, Status::Prospect);
    let before = footprint(&e);
    let err = followups::add(
        &mut e.ws,
        NewFollowup {
            customer: c.clone(),
            planned_at: Some(T0 - HOUR),
            remind_before_min: Some(30),
            ..Default::default()
        },
    )
    .unwrap_err();
    assert_eq!(err.field(), Some("planned_at"));
    assert!(err.message(kehu::Lang::Zh).contains("已经过去"));
    assert!(err.message(kehu::Lang::En).contains("past"));
    assert_eq!(footprint(&e), before);
    // Without a time at all: also refused, on the field.
    let err = followups::add(
        &mut e.ws,
        NewFollowup {
            customer: c.clone(),
            ..Default::default()
        },
    )
    .unwrap_err();
    assert_eq!(err.field(), Some("planned_at"));
    // A past plan without an explicit reminder is accepted (overdue), with no reminder.
    let f = plan(&mut e.ws, &c, T0 - HOUR);
    assert_eq!(f.remind_at, None);
}

#[test]
fn bad_follow_up_input_names_the_field_and_writes_nothing() {
    let mut e = env();
    let c = customer(&mut e.ws, "校验客户", None, Status::Prospect);
    let other = customer(&mut e.ws, "另一个客户", None, Status::Prospect);
    let opp = kehu::opportunities::create(
        &mut e.ws,
        kehu::opportunities::NewOpportunity {
            customer: other,
            fields: kehu::opportunities::OpportunityFields {
                name: "别人的项目".into(),
                ..Default::default()
            },
            stage: None,
        },
    )
    .unwrap();
    let before = footprint(&e);
    let cases: Vec<(NewFollowup, &str)> = vec![
        (
            NewFollowup {
                customer: c.clone(),
                planned_at: Some(T0 + DAY),
                remind_before_min: Some(-5),
                ..Default::default()
            },
            "remind_before_min",
        ),
        (
            NewFollowup {
                customer: c.clone(),
                done: true,
                done_at: Some(T0 + DAY),
                ..Default::default()
            },
            "done_at",
        ),
        (
            NewFollowup {
                customer: c.clone(),
                planned_at: Some(T0 + DAY),
                fields: FollowupFields {
                    opportunity_id: Some(opp.id.clone()),
                    ..Default::default()
                },
                ..Default::default()
            },
            "opportunity_id",
        ),
        (
            NewFollowup {
                customer: c.clone(),
                planned_at: Some(T0 + DAY),
                fields: FollowupFields {
                    owner_id: Some("nobody".into()),
                    ..Default::default()
                },
                ..Default::default()
            },
            "owner_id",
        ),
    ];
    for (new, field) in cases {
        let err = followups::add(&mut e.ws, new).unwrap_err();
        assert_eq!(err.field(), Some(field));
    }
    assert_eq!(footprint(&e), before);
}

#[test]
fn postponing_without_a_reason_is_refused_and_nothing_is_written() {
    let mut e = env();
    let c = customer(&mut e.ws, "延期客户", None, Status::Prospect);
    let f = plan(&mut e.ws, &c, T0 + DAY);
    let before = footprint(&e);
    for reason in ["", "   "] {
        let err = followups::postpone(&mut e.ws, &f.id, T0 + 2 * DAY, reason).unwrap_err();
        assert_eq!(err.field(), Some("reason"));
        assert!(err.message(kehu::Lang::Zh).contains("原因"));
    }
    let err = followups::postpone(&mut e.ws, &f.id, T0 - DAY, "客户临时出差").unwrap_err();
    assert_eq!(err.field(), Some("to"));
    assert_eq!(footprint(&e), before);
    assert_eq!(
        followups::get(e.ws.conn(), &f.id).unwrap().planned_at,
        Some(T0 + DAY)
    );
}

#[test]
fn postponing_moves_the_time_keeps_the_reason_and_rearms_the_reminder() {
    let mut e = env();
    let c = customer(&mut e.ws, "延期客户", None, Status::Prospect);
    let f = followups::add(
        &mut e.ws,
        NewFollowup {
            customer: c.clone(),
            planned_at: Some(T0 + HOUR),
            remind_before_min: Some(15),
            ..Default::default()
        },
    )
    .unwrap();
    // The reminder fires, then the follow-up is postponed.
    e.clock.set(T0 + HOUR - 15 * MINUTE);
    assert_eq!(
        kehu::reminders::mark_fired(&mut e.ws, std::slice::from_ref(&f.id))
            .unwrap()
            .len(),
        1
    );
    let p = followups::postpone(&mut e.ws, &f.id, T0 + DAY, "客户临时出差").unwrap();
    assert_eq!(p.planned_at, Some(T0 + DAY));
    assert_eq!(p.remind_at, Some(T0 + DAY - 15 * MINUTE));
    assert_eq!(p.reminder_fired_at, None);
    assert_eq!(p.postpone_count, 1);
    assert_eq!(p.postpone_reason.as_deref(), Some("客户临时出差"));
    followups::postpone(&mut e.ws, &f.id, T0 + 2 * DAY, "需等待内部审批").unwrap();
    let hist = followups::postponements(e.ws.conn(), &f.id).unwrap();
    let reasons: Vec<_> = hist.iter().map(|h| h.reason.as_str()).collect();
    assert_eq!(reasons, ["客户临时出差", "需等待内部审批"]);
    assert_eq!(hist[1].from_at, Some(T0 + DAY));
    assert_eq!(
        customers::get(e.ws.conn(), &c).unwrap().next_followup_at,
        Some(T0 + 2 * DAY)
    );
}

#[test]
fn every_follow_up_change_is_in_the_change_log() {
    let mut e = env();
    let c = customer(&mut e.ws, "日志客户", None, Status::Prospect);
    let f = plan(&mut e.ws, &c, T0 + DAY);
    followups::postpone(&mut e.ws, &f.id, T0 + 2 * DAY, "客户临时出差").unwrap();
    followups::update(
        &mut e.ws,
        &f.id,
        &common::patch(&[("purpose", "确认报价".into()), ("kind", "wechat".into())]),
    )
    .unwrap();
    followups::complete(
        &mut e.ws,
        &f.id,
        DoneInput {
            content: Some("已确认".into()),
            ..Default::default()
        },
    )
    .unwrap();
    let mut stmt = e
        .ws
        .conn()
        .prepare(
            "SELECT field FROM changes WHERE entity = 'followup' AND entity_id = ?1 ORDER BY seq",
        )
        .unwrap();
    let fields: Vec<String> = stmt
        .query_map([&f.id], |r| r.get(0))
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    for want in [
        "*",
        "planned_at",
        "remind_at",
        "postpone_reason",
        "purpose",
        "kind",
        "content",
        "status",
        "done_at",
    ] {
        assert!(
            fields.iter().any(|f| f == want),
            "{want} missing in {fields:?}"
        );
    }
    let origin: String =
        e.ws.conn()
            .query_row(
                "SELECT DISTINCT origin FROM changes WHERE entity_id = ?1",
                [&f.id],
                |r| r.get(0),
            )
            .unwrap();
    assert_eq!(origin, "ui");
}

#[test]
fn follow_up_kinds_are_read_from_chinese_and_english_names() {
    for (text, kind) in [
        ("电话", Kind::Call),
        ("电话回访", Kind::Call),
        ("拜访", Kind::Visit),
        ("上门拜访", Kind::Visit),
        ("邮件", Kind::Email),
        ("线上会议", Kind::Meeting),
        ("meeting", Kind::Meeting),
        ("微信", Kind::Wechat),
        ("WeChat", Kind::Wechat),
        ("其他", Kind::Other),
    ] {
        assert_eq!(Kind::parse(text), Some(kind), "{text}");
    }
    assert_eq!(Kind::parse("飞鸽传书"), None);
    assert_eq!(Kind::Meeting.label(kehu::Lang::Zh), "线上会议");
}

/// (grade, days since the last follow-up, has a planned follow-up, status) → due?
#[test]
fn grade_cadence_decides_which_customers_are_due() {
    let table: &[(Option<Grade>, i64, bool, Status, bool)] = &[
        (Some(Grade::A), 6, false, Status::Won, false),
        (Some(Grade::A), 7, false, Status::Won, true),
        (Some(Grade::A), 10, true, Status::Won, false),
        (Some(Grade::B), 13, false, Status::Interested, false),
        (Some(Grade::B), 14, false, Status::Interested, true),
        (Some(Grade::C), 29, false, Status::Prospect, false),
        (Some(Grade::C), 30, false, Status::Prospect, true),
        (Some(Grade::A), 60, false, Status::Lost, false),
        (None, 100, false, Status::Won, false),
    ];
    for &(grade, days, has_plan, status, due) in table {
        let mut e = env();
        let c = customer(&mut e.ws, "分级客户", grade, status);
        record_done(&mut e.ws, &c, T0 - days * DAY);
        if has_plan {
            plan(&mut e.ws, &c, T0 + DAY);
        }
        let (total, rows) = followups::due_customers(e.ws.conn(), T0, None, 10).unwrap();
        assert_eq!(
            total, due as i64,
            "{grade:?} {days}d plan={has_plan} {status:?}"
        );
        assert_eq!(rows.len(), due as usize);
        if due {
            assert_eq!(
                rows[0].due_since,
                T0 - days * DAY + Cadence::default().days(grade.unwrap()) * DAY
            );
        }
        // The pure rule agrees with the query.
        let pure = status != Status::Lost
            && followups::cadence_due(&Cadence::default(), grade, T0 - days * DAY, has_plan, T0);
        assert_eq!(pure, due);
    }
}

#[test]
fn cadence_is_a_setting() {
    let mut e = env();
    let c = customer(&mut e.ws, "周期客户", Some(Grade::A), Status::Won);
    record_done(&mut e.ws, &c, T0 - 5 * DAY);
    assert_eq!(
        followups::due_customers(e.ws.conn(), T0, None, 10)
            .unwrap()
            .0,
        0
    );
    followups::set_cadence(&mut e.ws, Cadence { a: 3, b: 10, c: 20 }).unwrap();
    assert_eq!(
        followups::due_customers(e.ws.conn(), T0, None, 10)
            .unwrap()
            .0,
        1
    );
    let err = followups::set_cadence(&mut e.ws, Cadence { a: 0, b: 10, c: 20 }).unwrap_err();
    assert_eq!(err.field(), Some("A"));
}

#[test]
fn a_customer_without_any_follow_up_counts_from_its_creation() {
    let mut e = env();
    e.clock.set(T0 - 8 * DAY);
    customer(&mut e.ws, "新客户", Some(Grade::A), Status::Prospect);
    e.clock.set(T0);
    assert_eq!(
        followups::due_customers(e.ws.conn(), T0, None, 10)
            .unwrap()
            .0,
        1
    );
}

#[test]
fn the_timeline_shows_follow_ups_and_stage_changes_newest_first() {
    let mut e = env();
    let c = customer(&mut e.ws, "时间线客户", None, Status::Interested);
    record_done(&mut e.ws, &c, T0 - DAY);
    let o = kehu::opportunities::create(
        &mut e.ws,
        kehu::opportunities::NewOpportunity {
            customer: c.clone(),
            fields: kehu::opportunities::OpportunityFields {
                name: "办公设备采购".into(),
                ..Default::default()
            },
            stage: None,
        },
    )
    .unwrap();
    e.clock.advance(HOUR);
    kehu::opportunities::set_stage(&mut e.ws, &o.id, "方案提供", None).unwrap();
    plan(&mut e.ws, &c, T0 + 3 * DAY);
    let items = followups::timeline(e.ws.conn(), &c, kehu::Lang::Zh, 100).unwrap();
    let kinds: Vec<String> = items
        .iter()
        .map(|i| match i {
            TimelineItem::Followup { followup, .. } => format!("fu:{}", followup.status.key()),
            TimelineItem::StageChange { stage_name, .. } => format!("stage:{stage_name}"),
        })
        .collect();
    assert_eq!(
        kinds,
        ["fu:planned", "stage:方案提供", "stage:初步接触", "fu:done"]
    );
    assert!(items.windows(2).all(|w| w[0].at() >= w[1].at()));
}

#[test]
fn list_due_shows_overdue_and_todays_plans_in_time_order() {
    let mut e = env();
    let c = customer(&mut e.ws, "列表客户", None, Status::Prospect);
    let late = plan(&mut e.ws, &c, T0 - 3 * HOUR);
    let soon = plan(&mut e.ws, &c, T0 + HOUR);
    plan(&mut e.ws, &c, T0 + 5 * DAY);
    let end = kehu::today::day_bounds(T0).1;
    let rows = followups::list(
        e.ws.conn(),
        &FollowupQuery {
            planned_before: Some(end),
            ..Default::default()
        },
    )
    .unwrap();
    let ids: Vec<_> = rows.iter().map(|f| f.id.clone()).collect();
    assert_eq!(ids, [late.id, soon.id]);
}

#[test]
fn attachments_are_copied_into_the_data_folder_once_per_content() {
    let mut e = env();
    let c = customer(&mut e.ws, "附件客户", None, Status::Prospect);
    let f = record_done(&mut e.ws, &c, T0);
    let src = e.dir.path().join("报价单.txt");
    std::fs::write(&src, "报价：10 万元").unwrap();
    let a1 = followups::attach(&mut e.ws, &f.id, &src).unwrap();
    let copy = e.dir.path().join("copy.txt");
    std::fs::copy(&src, &copy).unwrap();
    let a2 = followups::attach(&mut e.ws, &f.id, &copy).unwrap();
    assert_eq!(a1.sha256, a2.sha256);
    assert_eq!(a1.name, "报价单.txt");
    let stored = followups::attachment_path(&e.ws, &a1).unwrap();
    assert_eq!(std::fs::read_to_string(&stored).unwrap(), "报价：10 万元");
    std::fs::remove_file(&src).unwrap();
    assert!(
        stored.exists(),
        "the stored copy does not depend on the original"
    );
    let files = std::fs::read_dir(stored.parent().unwrap()).unwrap().count();
    assert_eq!(files, 1, "same content is stored once");
    assert_eq!(followups::attachments(e.ws.conn(), &f.id).unwrap().len(), 2);
}

#[test]
fn planned_counts_stop_at_the_cap() {
    let mut e = env();
    let c = customer(&mut e.ws, "计数客户", None, Status::Prospect);
    for h in 1..=5 {
        plan(&mut e.ws, &c, T0 + h * HOUR);
    }
    assert_eq!(
        followups::count_planned_between(e.ws.conn(), T0, T0 + DAY, None, 100).unwrap(),
        5
    );
    assert_eq!(
        followups::count_planned_between(e.ws.conn(), T0, T0 + DAY, None, 3).unwrap(),
        3
    );
    assert_eq!(
        followups::count_planned_between(e.ws.conn(), T0, T0 + 3 * HOUR, None, 100).unwrap(),
        2
    );
    assert_eq!(
        followups::planned_between(e.ws.conn(), T0, T0 + DAY, None, 2)
            .unwrap()
            .len(),
        2
    );
    kehu::customers::delete(&mut e.ws, &[c]).unwrap();
    assert_eq!(
        followups::count_planned_between(e.ws.conn(), T0, T0 + DAY, None, 100).unwrap(),
        0,
        "the trash is left out"
    );
}

#[test]
fn the_default_reminder_is_a_setting() {
    let mut e = env();
    let c = customer(&mut e.ws, "设置客户", None, Status::Prospect);
    followups::set_default_remind(&mut e.ws, 60).unwrap();
    assert_eq!(
        plan(&mut e.ws, &c, T0 + DAY).remind_at,
        Some(T0 + DAY - HOUR)
    );
    let err = followups::set_default_remind(&mut e.ws, 20_000).unwrap_err();
    assert_eq!(err.field(), Some("remind_before_min"));
}
