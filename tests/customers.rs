mod common;

use common::*;
use kehu::customers::{self, CustomerFields, Grade, NewCustomer, Status};
use kehu::error::Code;
use serde_json::json;

#[test]
fn a_customer_gets_a_code_from_the_date_and_a_daily_sequence() {
    let mut e = env();
    let a = add(&mut e.ws, "甲公司", vec![], &[]);
    let b = add(&mut e.ws, "乙公司", vec![], &[]);
    let day = kehu::clock::local_date_compact(T0);
    assert_eq!(a.code, format!("C{day}001"));
    assert_eq!(b.code, format!("C{day}002"));
    e.clock.advance(86_400_000);
    let c = add(&mut e.ws, "丙公司", vec![], &[]);
    assert!(c.code.ends_with("001"), "{}", c.code);
    assert_ne!(&c.code[..9], &a.code[..9]);
}

#[test]
fn the_sequence_grows_past_three_digits_without_collisions() {
    let mut e = env();
    let mut codes = std::collections::HashSet::new();
    for i in 0..1005 {
        codes.insert(add(&mut e.ws, &format!("公司{i}"), vec![], &[]).code);
    }
    assert_eq!(codes.len(), 1005);
    assert!(codes.contains(&format!("C{}1005", kehu::clock::local_date_compact(T0))));
}

#[test]
fn a_name_is_required_and_trimmed() {
    let mut e = env();
    let err = customers::create(
        &mut e.ws,
        NewCustomer {
            fields: CustomerFields::named("   "),
            ..Default::default()
        },
    )
    .unwrap_err();
    assert_eq!(err.code(), Code::Validation);
    assert_eq!(err.field(), Some("name"));
    assert_eq!(err.message(kehu::Lang::Zh), "客户名称不能为空");
    let c = add(&mut e.ws, "  腾云科技 ", vec![], &[]);
    assert_eq!(c.fields.name, "腾云科技");
}

#[test]
fn a_bad_mobile_on_a_new_customer_writes_nothing() {
    let mut e = env();
    let err = customers::create(
        &mut e.ws,
        NewCustomer {
            fields: CustomerFields::named("腾云科技"),
            contacts: vec![contact("张三", "12345")],
            tags: vec!["重点".into()],
        },
    )
    .unwrap_err();
    assert_eq!(err.field(), Some("contacts.0.mobile"));
    let n: i64 = e.ws.conn().query_row("SELECT (SELECT count(*) FROM customers) + (SELECT count(*) FROM tags) + (SELECT count(*) FROM changes)", [], |r| r.get(0)).unwrap();
    assert_eq!(n, 0);
}

#[test]
fn every_field_round_trips() {
    let mut e = env();
    let owner = kehu::members::add(
        &mut e.ws,
        kehu::members::MemberFields {
            name: "李娜".into(),
            ..Default::default()
        },
    )
    .unwrap();
    let fields = CustomerFields {
        name: "杭州博远信息技术有限公司".into(),
        kind: customers::CustomerKind::Company,
        industry: Some("信息技术".into()),
        size: Some("101-500人".into()),
        province: Some("浙江省".into()),
        city: Some("杭州市".into()),
        district: Some("西湖区".into()),
        address: Some("文三路 90 号".into()),
        source: Some("展会".into()),
        status: Status::Interested,
        grade: Some(Grade::A),
        owner_id: Some(owner.id.clone()),
        needs: Some("CRM 系统，重视售后".into()),
        budget: Some(200000.0),
        purchase_cycle: Some("每年".into()),
        annual_purchase: Some(1_500_000.0),
        first_contact_date: Some("2024/3/1".into()),
        notes: Some("展会认识".into()),
    };
    let c = customers::create(
        &mut e.ws,
        NewCustomer {
            fields: fields.clone(),
            ..Default::default()
        },
    )
    .unwrap();
    let got = customers::get(e.ws.conn(), &c.code).unwrap();
    assert_eq!(
        got.fields,
        CustomerFields {
            first_contact_date: Some("2024-03-01".into()),
            ..fields
        }
    );
    assert_eq!(got.owner_name.as_deref(), Some("李娜"));
}

#[test]
fn an_unknown_owner_or_a_bad_date_is_refused_with_the_field_named() {
    let mut e = env();
    let c = add(&mut e.ws, "腾云科技", vec![], &[]);
    let err =
        customers::update(&mut e.ws, &c.id, &patch(&[("owner_id", json!("nobody"))])).unwrap_err();
    assert_eq!(err.field(), Some("owner_id"));
    let err = customers::update(
        &mut e.ws,
        &c.id,
        &patch(&[("first_contact_date", json!("2024-02-30"))]),
    )
    .unwrap_err();
    assert_eq!(err.field(), Some("first_contact_date"));
    let err = customers::update(&mut e.ws, &c.id, &patch(&[("budget", json!(-5))])).unwrap_err();
    assert_eq!(err.field(), Some("budget"));
    let err = customers::update(&mut e.ws, &c.id, &patch(&[("grade", json!("D"))])).unwrap_err();
    assert_eq!(err.field(), Some("grade"));
    let err = customers::update(&mut e.ws, &c.id, &patch(&[("colour", json!("red"))])).unwrap_err();
    assert_eq!(err.field(), Some("colour"));
}

#[test]
fn each_edited_field_appears_in_the_history_with_old_and_new_values() {
    let mut e = env();
    let me = kehu::members::add(
        &mut e.ws,
        kehu::members::MemberFields {
            name: "王磊".into(),
            ..Default::default()
        },
    )
    .unwrap();
    kehu::members::set_me(&mut e.ws, &me.id).unwrap();
    let c = add(&mut e.ws, "腾云科技", vec![], &[]);
    e.clock.advance(60_000);
    customers::update(
        &mut e.ws,
        &c.id,
        &patch(&[
            ("status", json!("interested")),
            ("grade", json!("B")),
            ("name", json!("腾云科技")),
        ]),
    )
    .unwrap();
    let h = customers::history(e.ws.conn(), &c.code).unwrap();
    let fields: Vec<_> = h
        .iter()
        .map(|h| (h.field.as_str(), h.old.clone(), h.new.clone()))
        .collect();
    assert!(fields.contains(&("status", Some(json!("prospect")), Some(json!("interested")))));
    assert!(fields.contains(&("grade", None, Some(json!("B")))));
    assert!(
        !fields.iter().any(|f| f.0 == "name"),
        "unchanged fields are not logged"
    );
    assert_eq!(h[0].actor_name.as_deref(), Some("王磊"));
    assert_eq!(h[0].at, T0 + 60_000);
    assert_eq!(
        h.last().unwrap().field,
        "*",
        "the create is the oldest entry"
    );
}

#[test]
fn a_patch_that_changes_nothing_writes_nothing() {
    let mut e = env();
    let c = add(&mut e.ws, "腾云科技", vec![], &[]);
    let before: i64 =
        e.ws.conn()
            .query_row("SELECT count(*) FROM changes", [], |r| r.get(0))
            .unwrap();
    customers::update(
        &mut e.ws,
        &c.id,
        &patch(&[("name", json!(" 腾云科技 ")), ("notes", json!(""))]),
    )
    .unwrap();
    let after: i64 =
        e.ws.conn()
            .query_row("SELECT count(*) FROM changes", [], |r| r.get(0))
            .unwrap();
    assert_eq!(before, after);
}

#[test]
fn a_deleted_customer_goes_to_the_trash_and_comes_back() {
    let mut e = env();
    let c = add(
        &mut e.ws,
        "腾云科技",
        vec![contact("张三", "13800138000")],
        &["重点"],
    );
    assert_eq!(
        customers::delete(&mut e.ws, std::slice::from_ref(&c.code)).unwrap(),
        1
    );
    let q = kehu::customer_list::CustomerQuery::default();
    assert_eq!(kehu::customer_list::list(e.ws.conn(), &q).unwrap().total, 0);
    assert!(kehu::search::search_ids(e.ws.conn(), "腾云", 10)
        .unwrap()
        .is_empty());
    let trash = kehu::customer_list::CustomerQuery {
        trash: true,
        ..Default::default()
    };
    assert_eq!(
        kehu::customer_list::list(e.ws.conn(), &trash).unwrap().rows[0].id,
        c.id
    );
    // Editing a customer in the trash is refused.
    assert!(customers::update(&mut e.ws, &c.id, &patch(&[("grade", json!("A"))])).is_err());
    customers::restore(&mut e.ws, std::slice::from_ref(&c.id)).unwrap();
    let back = customers::get(e.ws.conn(), &c.id).unwrap();
    assert_eq!(back.deleted_at, None);
    assert_eq!(back.contacts.len(), 1);
    assert_eq!(back.tags[0].name, "重点");
    assert_eq!(
        kehu::search::search_ids(e.ws.conn(), "腾云", 10).unwrap(),
        vec![c.id.clone()]
    );
}

#[test]
fn only_customers_in_the_trash_can_be_purged() {
    let mut e = env();
    let c = add(
        &mut e.ws,
        "腾云科技",
        vec![contact("张三", "13800138000")],
        &[],
    );
    let err = customers::purge(&mut e.ws, std::slice::from_ref(&c.id)).unwrap_err();
    assert_eq!(err.code(), Code::Validation);
    customers::delete(&mut e.ws, std::slice::from_ref(&c.id)).unwrap();
    customers::purge(&mut e.ws, std::slice::from_ref(&c.id)).unwrap();
    assert_eq!(
        customers::get(e.ws.conn(), &c.id).unwrap_err().code(),
        Code::NotFound
    );
    let contacts: i64 =
        e.ws.conn()
            .query_row("SELECT count(*) FROM contacts", [], |r| r.get(0))
            .unwrap();
    assert_eq!(contacts, 0);
}

#[test]
fn owners_are_reassigned_in_bulk() {
    let mut e = env();
    let m = kehu::members::add(
        &mut e.ws,
        kehu::members::MemberFields {
            name: "张伟".into(),
            ..Default::default()
        },
    )
    .unwrap();
    let ids: Vec<String> = (0..5)
        .map(|i| add(&mut e.ws, &format!("公司{i}"), vec![], &[]).id)
        .collect();
    assert_eq!(
        customers::assign_owner(&mut e.ws, &ids, Some(&m.id)).unwrap(),
        5
    );
    let q = kehu::customer_list::CustomerQuery {
        owner: Some(m.id.clone()),
        ..Default::default()
    };
    assert_eq!(kehu::customer_list::list(e.ws.conn(), &q).unwrap().total, 5);
    assert_eq!(
        customers::assign_owner(&mut e.ws, &ids, Some(&m.id)).unwrap(),
        0,
        "already assigned"
    );
}

#[test]
fn enum_labels_parse_in_chinese_and_english() {
    for (t, s) in [
        ("意向", Status::Interested),
        ("意向客户", Status::Interested),
        ("won", Status::Won),
        ("流失", Status::Lost),
        ("潜在客户", Status::Prospect),
    ] {
        assert_eq!(Status::parse(t), Some(s), "{t}");
    }
    assert_eq!(Status::parse("随便"), None);
    for (t, g) in [
        ("A", Grade::A),
        ("b", Grade::B),
        ("C类", Grade::C),
        ("A类客户", Grade::A),
    ] {
        assert_eq!(Grade::parse(t), Some(g), "{t}");
    }
}

#[test]
fn sorting_by_name_follows_pinyin_order() {
    let mut e = env();
    for n in ["张三科技", "阿里巴巴", "北京华信", "Apple 中国", "成都安信"] {
        add(&mut e.ws, n, vec![], &[]);
    }
    let q = kehu::customer_list::CustomerQuery {
        sort: kehu::customer_list::SortKey::Name,
        ..Default::default()
    };
    let names: Vec<String> = kehu::customer_list::list(e.ws.conn(), &q)
        .unwrap()
        .rows
        .into_iter()
        .map(|r| r.name)
        .collect();
    assert_eq!(
        names,
        vec!["阿里巴巴", "Apple 中国", "北京华信", "成都安信", "张三科技"]
    );
    assert_eq!(customers::sort_key("北京 A1"), "bei jing a1");
}

#[test]
fn demo_data_is_the_same_for_the_same_seed() {
    let dump = |seed: u64| {
        let mut e = env();
        kehu::demo::generate(&mut e.ws, 50, seed).unwrap();
        let mut stmt =
            e.ws.conn()
                .prepare("SELECT code, name, status, grade, city FROM customers ORDER BY code")
                .unwrap();
        type Row = (String, String, String, Option<String>, Option<String>);
        let rows: Vec<Row> = stmt
            .query_map([], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })
            .unwrap()
            .map(Result::unwrap)
            .collect();
        rows
    };
    let a = dump(3);
    assert_eq!(a.len(), 50);
    assert_eq!(a, dump(3));
    assert_ne!(a, dump(4));
}

#[test]
fn demo_activity_gives_follow_ups_plans_and_a_pipeline() {
    let mut e = env();
    kehu::demo::populate(&mut e.ws, 200, 5).unwrap();
    let count = |sql: &str| -> i64 { e.ws.conn().query_row(sql, [], |r| r.get(0)).unwrap() };
    assert!(count("SELECT count(*) FROM followups WHERE status = 'done'") > 100);
    assert!(count("SELECT count(*) FROM followups WHERE status = 'planned'") > 5);
    assert!(count("SELECT count(DISTINCT stage) FROM opportunities") >= 4);
    assert!(
        count("SELECT count(*) FROM opportunities WHERE stage = 'lost' AND loss_reason IS NULL")
            == 0
    );
    // Last follow-up times are kept on the customers.
    assert!(count("SELECT count(*) FROM customers WHERE last_followup_at IS NOT NULL") > 50);
}
