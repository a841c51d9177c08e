//! Opportunities and the pipeline: stages, stage history with time in each
//! stage, lost with a reason, configurable stages and the kanban board.
mod common;

use common::{env, Env, T0};
use kehu::opportunities::{self, NewOpportunity, OpportunityFields, OpportunityQuery};
use kehu::pipeline::{self, StageKind};
use kehu::{Lang, Workspace};

const DAY: i64 = 86_400_000;

fn opp(ws: &mut Workspace, customer: &str, name: &str, amount: f64) -> opportunities::Opportunity {
    opportunities::create(
        ws,
        NewOpportunity {
            customer: customer.into(),
            fields: OpportunityFields {
                name: name.into(),
                expected_amount: Some(amount),
                expected_close_date: Some("2026/12/31".into()),
                ..Default::default()
            },
            stage: None,
        },
    )
    .unwrap()
}

fn footprint(e: &Env) -> i64 {
    e.ws.conn()
        .query_row(
            "SELECT (SELECT count(*) FROM changes) + (SELECT count(*) FROM opportunity_stage_history)
                  + (SELECT count(*) FROM opportunities) + (SELECT count(*) FROM settings)",
            [],
            |r| r.get(0),
        )
        .unwrap()
}

#[test]
fn a_new_opportunity_starts_in_the_first_stage_with_one_stay() {
    let mut e = env();
    let c = common::add(&mut e.ws, "上海申通物流有限公司", vec![], &[]);
    let o = opp(&mut e.ws, &c.code, "公司采购办公设备项目", 100_000.0);
    assert_eq!(o.stage, "initial_contact");
    assert_eq!(o.stage_name, "初步接触");
    assert_eq!(o.customer_id, c.id);
    assert_eq!(o.fields.expected_close_date.as_deref(), Some("2026-12-31"));
    assert_eq!(o.stage_entered_at, T0);
    let h = opportunities::stage_history(e.ws.conn(), &o.id, T0 + DAY, Lang::Zh).unwrap();
    assert_eq!(h.len(), 1);
    assert_eq!(h[0].duration_ms, DAY);
    assert_eq!(h[0].left_at, None);
}

#[test]
fn stage_history_records_the_time_spent_in_each_stage() {
    let mut e = env();
    let c = common::add(&mut e.ws, "北京华宇软件有限公司", vec![], &[]);
    let o = opp(&mut e.ws, &c.id, "ERP 升级", 500_000.0);
    for (days, stage) in [
        (2, "需求分析"),
        (5, "proposal"),
        (3, "商务谈判"),
        (1, "合同签订"),
    ] {
        e.clock.advance(days * DAY);
        opportunities::set_stage(&mut e.ws, &o.id, stage, None).unwrap();
    }
    e.clock.advance(4 * DAY);
    let h = opportunities::stage_history(e.ws.conn(), &o.id, e.ws.now_ms(), Lang::Zh).unwrap();
    let got: Vec<(String, i64)> = h
        .iter()
        .map(|s| (s.stage_name.clone(), s.duration_ms / DAY))
        .collect();
    let want: Vec<(String, i64)> = [
        ("初步接触", 2),
        ("需求分析", 5),
        ("方案提供", 3),
        ("商务谈判", 1),
        ("合同签订", 4),
    ]
    .iter()
    .map(|(s, d)| (s.to_string(), *d))
    .collect();
    assert_eq!(got, want);
    assert!(h[..4].iter().all(|s| s.left_at.is_some()));
    let now = opportunities::get(e.ws.conn(), &o.id).unwrap();
    assert_eq!(now.stage_kind, StageKind::Won);
    // English labels for default stages.
    let h = opportunities::stage_history(e.ws.conn(), &o.id, e.ws.now_ms(), Lang::En).unwrap();
    assert_eq!(h[0].stage_name, "Initial contact");
}

#[test]
fn marking_lost_without_a_reason_is_refused_and_nothing_is_written() {
    let mut e = env();
    let c = common::add(&mut e.ws, "输单客户", vec![], &[]);
    let o = opp(&mut e.ws, &c.id, "小项目", 1_000.0);
    let before = footprint(&e);
    for reason in [None, Some(""), Some("  ")] {
        let err = opportunities::set_stage(&mut e.ws, &o.id, "输单", reason).unwrap_err();
        assert_eq!(err.field(), Some("reason"));
        assert!(err.message(Lang::Zh).contains("输单原因"));
        assert!(err.message(Lang::En).contains("reason"));
    }
    assert_eq!(footprint(&e), before);
    let lost = opportunities::set_stage(&mut e.ws, &o.id, "lost", Some("价格高于竞品")).unwrap();
    assert_eq!(lost.stage, "lost");
    assert_eq!(lost.loss_reason.as_deref(), Some("价格高于竞品"));
    let h = opportunities::stage_history(e.ws.conn(), &o.id, T0, Lang::Zh).unwrap();
    assert_eq!(h.last().unwrap().reason.as_deref(), Some("价格高于竞品"));
    // Reopening clears the loss reason (the history keeps it).
    let back = opportunities::set_stage(&mut e.ws, &o.id, "商务谈判", None).unwrap();
    assert_eq!(back.loss_reason, None);
}

#[test]
fn an_unknown_stage_is_refused_on_the_stage_field_and_nothing_is_written() {
    let mut e = env();
    let c = common::add(&mut e.ws, "阶段客户", vec![], &[]);
    let o = opp(&mut e.ws, &c.id, "项目", 1.0);
    let before = footprint(&e);
    let err = opportunities::set_stage(&mut e.ws, &o.id, "签约后", None).unwrap_err();
    assert_eq!(err.field(), Some("stage"));
    assert!(
        err.message(Lang::Zh).contains("初步接触"),
        "lists the stages"
    );
    assert_eq!(footprint(&e), before);
    let err = opportunities::create(
        &mut e.ws,
        NewOpportunity {
            customer: c.id.clone(),
            fields: OpportunityFields {
                name: "新项目".into(),
                ..Default::default()
            },
            stage: Some("不存在".into()),
        },
    )
    .unwrap_err();
    assert_eq!(err.field(), Some("stage"));
    assert_eq!(footprint(&e), before);
}

#[test]
fn bad_opportunity_fields_name_the_field() {
    let mut e = env();
    let c = common::add(&mut e.ws, "字段客户", vec![], &[]);
    for (fields, field) in [
        (
            OpportunityFields {
                name: " ".into(),
                ..Default::default()
            },
            "name",
        ),
        (
            OpportunityFields {
                name: "x".into(),
                expected_amount: Some(-1.0),
                ..Default::default()
            },
            "expected_amount",
        ),
        (
            OpportunityFields {
                name: "x".into(),
                expected_close_date: Some("明年".into()),
                ..Default::default()
            },
            "expected_close_date",
        ),
    ] {
        let err = opportunities::create(
            &mut e.ws,
            NewOpportunity {
                customer: c.id.clone(),
                fields,
                stage: None,
            },
        )
        .unwrap_err();
        assert_eq!(err.field(), Some(field));
    }
}

#[test]
fn stages_can_be_added_renamed_and_reordered_and_lost_stays_last() {
    let mut e = env();
    let s = pipeline::add_stage(&mut e.ws, "报价", Some("商务谈判")).unwrap();
    let names = |ws: &Workspace| -> Vec<String> {
        pipeline::stages(ws.conn())
            .unwrap()
            .into_iter()
            .map(|s| s.name)
            .collect()
    };
    assert_eq!(
        names(&e.ws),
        [
            "初步接触",
            "需求分析",
            "方案提供",
            "报价",
            "商务谈判",
            "合同签订",
            "回款完成",
            "输单"
        ]
    );
    pipeline::rename_stage(&mut e.ws, &s.key, "报价确认").unwrap();
    let err = pipeline::rename_stage(&mut e.ws, "报价确认", "需求分析").unwrap_err();
    assert_eq!(err.field(), Some("name"));
    let order: Vec<String> = [
        "需求分析",
        "初步接触",
        "方案提供",
        "报价确认",
        "商务谈判",
        "合同签订",
        "回款完成",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    pipeline::reorder_stages(&mut e.ws, &order).unwrap();
    assert_eq!(
        names(&e.ws),
        [
            "需求分析",
            "初步接触",
            "方案提供",
            "报价确认",
            "商务谈判",
            "合同签订",
            "回款完成",
            "输单"
        ]
    );
    let err = pipeline::reorder_stages(&mut e.ws, &order[..3]).unwrap_err();
    assert_eq!(err.field(), Some("order"));
    // Renaming keeps the key, so opportunities stay in the stage.
    let c = common::add(&mut e.ws, "改名客户", vec![], &[]);
    let o = opp(&mut e.ws, &c.id, "项目", 1.0);
    opportunities::set_stage(&mut e.ws, &o.id, "报价确认", None).unwrap();
    pipeline::rename_stage(&mut e.ws, "报价确认", "报价中").unwrap();
    assert_eq!(
        opportunities::get(e.ws.conn(), &o.id).unwrap().stage_name,
        "报价中"
    );
    // The settings change is logged.
    let n: i64 = e
        .ws
        .conn()
        .query_row("SELECT count(*) FROM changes WHERE entity = 'setting' AND entity_id = 'pipeline.stages'", [], |r| r.get(0))
        .unwrap();
    assert!(n >= 4);
}

#[test]
fn a_stage_in_use_cannot_be_deleted_without_moving_its_opportunities() {
    let mut e = env();
    let c = common::add(&mut e.ws, "删阶段客户", vec![], &[]);
    let o1 = opp(&mut e.ws, &c.id, "一", 1.0);
    let o2 = opp(&mut e.ws, &c.id, "二", 2.0);
    for o in [&o1, &o2] {
        opportunities::set_stage(&mut e.ws, &o.id, "需求分析", None).unwrap();
    }
    let before = footprint(&e);
    let err = pipeline::delete_stage(&mut e.ws, "需求分析", None).unwrap_err();
    assert_eq!(err.field(), Some("move_to"));
    assert!(err.message(Lang::Zh).contains("2 个销售机会"));
    let err = pipeline::delete_stage(&mut e.ws, "需求分析", Some("输单")).unwrap_err();
    assert_eq!(err.field(), Some("move_to"));
    let err = pipeline::delete_stage(&mut e.ws, "输单", None).unwrap_err();
    assert_eq!(err.field(), Some("stage"));
    assert_eq!(footprint(&e), before);
    assert_eq!(
        pipeline::delete_stage(&mut e.ws, "需求分析", Some("方案提供")).unwrap(),
        2
    );
    assert!(pipeline::stages(e.ws.conn())
        .unwrap()
        .iter()
        .all(|s| s.key != "needs_analysis"));
    for o in [&o1, &o2] {
        let got = opportunities::get(e.ws.conn(), &o.id).unwrap();
        assert_eq!(got.stage, "proposal");
        let h = opportunities::stage_history(e.ws.conn(), &o.id, T0, Lang::Zh).unwrap();
        assert_eq!(h.len(), 3);
    }
    // An unused stage goes directly.
    assert_eq!(
        pipeline::delete_stage(&mut e.ws, "商务谈判", None).unwrap(),
        0
    );
}

#[test]
fn the_board_has_a_column_per_stage_with_count_and_amount() {
    let mut e = env();
    let c = common::add(&mut e.ws, "看板客户", vec![], &[]);
    let a = opp(&mut e.ws, &c.id, "甲", 100.0);
    opp(&mut e.ws, &c.id, "乙", 50.0);
    let x = opp(&mut e.ws, &c.id, "丙", 10.0);
    opportunities::set_stage(&mut e.ws, &a.id, "方案提供", None).unwrap();
    opportunities::set_deleted(&mut e.ws, &x.id, true).unwrap();
    let cols = opportunities::board(e.ws.conn(), None, 10, Lang::Zh).unwrap();
    assert_eq!(cols.len(), 7);
    let col = |k: &str| cols.iter().find(|c| c.stage.key == k).unwrap();
    assert_eq!(
        (col("initial_contact").count, col("initial_contact").amount),
        (1, 50.0)
    );
    assert_eq!((col("proposal").count, col("proposal").amount), (1, 100.0));
    assert_eq!(col("lost").count, 0);
    let all = opportunities::list(e.ws.conn(), &OpportunityQuery::default(), Lang::Zh).unwrap();
    assert_eq!(all.len(), 2, "the trash is not listed");
}
