mod common;

use common::*;
use kehu::tags;

#[test]
fn a_tag_is_reused_by_name_and_counted() {
    let mut e = env();
    add(&mut e.ws, "甲", vec![], &["重点"]);
    add(&mut e.ws, "乙", vec![], &["重点", "价格敏感"]);
    let all = tags::list(e.ws.conn()).unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all.iter().find(|t| t.name == "重点").unwrap().count, 2);
}

#[test]
fn renaming_onto_an_existing_name_is_refused_and_suggests_merge() {
    let mut e = env();
    tags::create(&mut e.ws, "重点", None).unwrap();
    tags::create(&mut e.ws, "VIP", Some("#FF0000")).unwrap();
    let err = tags::edit(&mut e.ws, "VIP", Some("重点"), None).unwrap_err();
    assert!(err.message(kehu::Lang::Zh).contains("合并"));
    let t = tags::edit(&mut e.ws, "VIP", Some("大客户"), Some("#00ff00")).unwrap();
    assert_eq!((t.name.as_str(), t.color.as_str()), ("大客户", "#00ff00"));
    assert!(tags::create(&mut e.ws, "x", Some("red")).is_err());
    assert!(tags::create(&mut e.ws, "  ", None).is_err());
}

#[test]
fn merging_two_tags_moves_every_customer_and_keeps_one_tag_each() {
    let mut e = env();
    let a = add(&mut e.ws, "甲", vec![], &["VIP"]);
    let b = add(&mut e.ws, "乙", vec![], &["VIP", "重点"]);
    let c = add(&mut e.ws, "丙", vec![], &["重点"]);
    let merged = tags::merge(&mut e.ws, "VIP", "重点").unwrap();
    assert_eq!(merged.count, 3);
    for id in [&a.id, &b.id, &c.id] {
        let t: Vec<_> = kehu::customers::get(e.ws.conn(), id)
            .unwrap()
            .tags
            .into_iter()
            .map(|t| t.name)
            .collect();
        assert_eq!(t, vec!["重点"]);
    }
    assert!(tags::resolve(e.ws.conn(), "VIP").is_err());
    assert!(tags::merge(&mut e.ws, "重点", "重点").is_err());
}

#[test]
fn a_tag_is_added_to_and_removed_from_many_customers_at_once() {
    let mut e = env();
    let ids: Vec<String> = (0..4)
        .map(|i| add(&mut e.ws, &format!("公司{i}"), vec![], &[]).id)
        .collect();
    assert_eq!(
        tags::apply_to_customers(&mut e.ws, "展会线索", &ids, false).unwrap(),
        4
    );
    assert_eq!(
        tags::apply_to_customers(&mut e.ws, "展会线索", &ids[..2], false).unwrap(),
        0
    );
    assert_eq!(
        tags::apply_to_customers(&mut e.ws, "展会线索", &ids[..3], true).unwrap(),
        3
    );
    let q = kehu::customer_list::CustomerQuery {
        tag: Some("展会线索".into()),
        ..Default::default()
    };
    assert_eq!(
        kehu::customer_list::list(e.ws.conn(), &q)
            .unwrap()
            .rows
            .iter()
            .map(|r| r.id.clone())
            .collect::<Vec<_>>(),
        vec![ids[3].clone()]
    );
    let h = kehu::customers::history(e.ws.conn(), &ids[0]).unwrap();
    assert_eq!(
        h.iter().filter(|h| h.entity == "customer_tag").count(),
        2,
        "linked and unlinked"
    );
}
