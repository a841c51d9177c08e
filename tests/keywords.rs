//! Keyword cloud: jieba segmentation with the CRM dictionary and stop
//! words, counts per text, the needs split by priority, and the cache that
//! a new follow-up invalidates.
mod common;

use common::{env, followup_done_at, Env, T0};
use kehu::analysis::{keywords, Filter};
use kehu::customers::{self, CustomerFields, NewCustomer};
use kehu::followups::FollowupFields;
use kehu::members::{self, MemberFields};

const DAY: i64 = 86_400_000;

fn customer(e: &mut Env, name: &str, needs: Option<&str>, tags: &[&str]) -> String {
    customers::create(
        &mut e.ws,
        NewCustomer {
            fields: CustomerFields {
                needs: needs.map(str::to_string),
                ..CustomerFields::named(name)
            },
            contacts: vec![],
            tags: tags.iter().map(|t| t.to_string()).collect(),
        },
    )
    .unwrap()
    .id
}

fn note(
    e: &mut Env,
    t: i64,
    cust: &str,
    owner: Option<&str>,
    content: &str,
    feedback: Option<&str>,
) {
    let fields = FollowupFields {
        owner_id: owner.map(str::to_string),
        content: Some(content.into()),
        feedback: feedback.map(str::to_string),
        ..Default::default()
    };
    followup_done_at(e, t, cust, fields);
}

const P: Filter = Filter {
    from: T0,
    to: T0 + 30 * DAY,
    owner_id: None,
};

#[test]
fn crm_phrases_stay_whole_and_stop_words_are_dropped() {
    assert_eq!(
        keywords::keywords_of("客户对价格敏感，希望快速交付。"),
        ["价格敏感", "快速交付"]
    );
    // each keyword once per text, digits and punctuation are not keywords
    assert_eq!(
        keywords::keywords_of("发送技术方案，技术方案需补充成本说明 2026"),
        ["发送", "技术方案", "补充", "成本说明"]
    );
    assert!(keywords::keywords_of("我们已经沟通了，好的。").is_empty());
}

#[test]
fn the_cloud_counts_texts_per_phrase_in_the_period_and_for_the_owner() {
    let mut e = env();
    let ming = members::add(
        &mut e.ws,
        MemberFields {
            name: "小明".into(),
            ..Default::default()
        },
    )
    .unwrap()
    .id;
    let c = customer(&mut e, "甲公司", None, &[]);
    note(
        &mut e,
        T0 + DAY,
        &c,
        Some(&ming),
        "客户价格敏感，价格敏感",
        Some("希望快速交付"),
    );
    note(
        &mut e,
        T0 + 2 * DAY,
        &c,
        None,
        "讨论合同条款，客户价格敏感",
        Some("价格过高"),
    );
    note(
        &mut e,
        T0 + 3 * DAY,
        &c,
        None,
        "讨论合同条款",
        Some("希望快速交付"),
    );
    // outside the period
    note(&mut e, T0 - DAY, &c, None, "产品演示", Some("价格过高"));
    let k = keywords::compute(e.ws.conn(), &P, 10, T0).unwrap();
    assert_eq!(k.followups, 3);
    let pairs = |v: &[keywords::Keyword]| -> Vec<(String, i64)> {
        v.iter().map(|k| (k.word.clone(), k.count)).collect()
    };
    // 价格敏感 twice in one note counts once for that note
    assert_eq!(
        pairs(&k.content),
        [
            ("价格敏感".to_string(), 2),
            ("合同条款".to_string(), 2),
            ("讨论".to_string(), 2)
        ]
    );
    assert_eq!(
        pairs(&k.feedback),
        [("快速交付".to_string(), 2), ("价格过高".to_string(), 1)]
    );
    // one owner's follow-ups only
    let mine = keywords::compute(e.ws.conn(), &P.clone().owner(Some(&ming)), 10, T0).unwrap();
    assert_eq!(mine.followups, 1);
    assert_eq!(pairs(&mine.content), [("价格敏感".to_string(), 1)]);
    // top n
    let k1 = keywords::compute(e.ws.conn(), &P, 1, T0).unwrap();
    assert_eq!(k1.content.len(), 1);
    // an empty period is empty, not an error
    let none = keywords::compute(e.ws.conn(), &Filter::new(0, 1), 10, T0).unwrap();
    assert_eq!(none.followups, 0);
    assert!(none.content.is_empty() && none.feedback.is_empty());
}

#[test]
fn needs_are_counted_per_customer_and_split_by_priority() {
    let mut e = env();
    // 20 customers with needs: 快速交付 in 12 (60%), 售后服务 in 1 (5%);
    // the need tag 定制 on 8 (40%); the other 8 want 试用
    for i in 0..20 {
        let needs = match i {
            0 => "快速交付，售后服务",
            1..=11 => "希望快速交付",
            _ => "要求试用",
        };
        let tags: &[&str] = if i < 8 { &["定制"] } else { &[] };
        customer(&mut e, &format!("客户{i}"), Some(needs), tags);
    }
    customer(&mut e, "无需求", None, &[]);
    let k = keywords::compute(e.ws.conn(), &P, 10, T0).unwrap();
    assert_eq!(k.customers_with_needs, 20);
    let get = |w: &str| k.needs.iter().find(|n| n.word == w).unwrap().clone();
    let fast = get("快速交付");
    assert_eq!(fast.customers, 12);
    assert!((fast.share - 0.6).abs() < 1e-9);
    assert_eq!(fast.priority, "high");
    assert_eq!(get("定制").customers, 8);
    let after = get("售后服务");
    assert_eq!(after.customers, 1);
    assert_eq!(after.priority, "medium"); // 5% ≥ 3%
    assert_eq!(k.needs[0].word, "快速交付");
}

#[test]
fn the_cloud_is_cached_until_a_follow_up_is_added() {
    let mut e = env();
    let c = customer(&mut e, "甲公司", None, &[]);
    note(&mut e, T0 + DAY, &c, None, "客户价格敏感", None);
    let first = keywords::cloud(e.ws.conn(), &P, 10, T0 + 2 * DAY).unwrap();
    assert!(!first.cached);
    let again = keywords::cloud(e.ws.conn(), &P, 10, T0 + 3 * DAY).unwrap();
    assert!(again.cached);
    assert_eq!(again.content, first.content);
    assert_eq!(again.computed_at, T0 + 2 * DAY);
    // a new follow-up: computed again, with it
    note(
        &mut e,
        T0 + 4 * DAY,
        &c,
        None,
        "客户价格敏感，要求快速交付",
        None,
    );
    let fresh = keywords::cloud(e.ws.conn(), &P, 10, T0 + 5 * DAY).unwrap();
    assert!(!fresh.cached);
    assert_eq!(fresh.followups, 2);
    assert_eq!(fresh.content[0].word, "价格敏感");
    assert_eq!(fresh.content[0].count, 2);
    // another scope has its own entry
    let other = keywords::cloud(e.ws.conn(), &Filter::new(0, 1), 10, T0).unwrap();
    assert!(!other.cached);
    assert!(keywords::cloud(e.ws.conn(), &P, 10, T0).unwrap().cached);
}

#[test]
fn the_command_line_prints_the_keyword_cloud_as_json() {
    let mut e = env();
    let c = customer(&mut e, "甲公司", Some("快速交付"), &[]);
    note(
        &mut e,
        T0 + DAY,
        &c,
        None,
        "客户价格敏感",
        Some("希望快速交付"),
    );
    let dir = e.dir;
    let db = dir.path().join("kehu.db");
    drop(e.ws);
    let out = assert_cmd::Command::cargo_bin("kehu")
        .unwrap()
        .env("KEHU_DB", &db)
        .env("LANG", "zh_CN.UTF-8")
        .env_remove("LC_ALL")
        .args([
            "--json",
            "report",
            "keywords",
            "--from",
            "2025-11-01",
            "--to",
            "2027-01-01",
            "--top",
            "5",
        ])
        .assert()
        .success();
    let v: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(v["followups"], 1);
    assert_eq!(v["content"][0]["word"], "价格敏感");
    assert_eq!(v["feedback"][0]["word"], "快速交付");
    assert_eq!(v["needs"][0]["priority"], "high");
}

#[test]
fn a_word_of_the_cloud_opens_exactly_the_customers_whose_follow_ups_hold_it() {
    use kehu::analysis::keywords::TextField;
    use kehu::customer_list::{self, CustomerQuery, FollowupWord};
    let mut e = env();
    let ming = members::add(
        &mut e.ws,
        MemberFields {
            name: "小明".into(),
            ..Default::default()
        },
    )
    .unwrap()
    .id;
    let a = customer(&mut e, "甲公司", None, &[]);
    let b = customer(&mut e, "乙公司", None, &[]);
    let c = customer(&mut e, "丙公司", None, &[]);
    let d = customer(&mut e, "丁公司", None, &[]);
    note(
        &mut e,
        T0 + DAY,
        &a,
        None,
        "客户对价格敏感，要ERP对接",
        Some("价格过高"),
    );
    note(&mut e, T0 + 2 * DAY, &a, None, "价格敏感，再谈", None);
    note(
        &mut e,
        T0 + 2 * DAY,
        &b,
        Some(&ming),
        "希望快速交付，价格敏感",
        None,
    );
    note(
        &mut e,
        T0 + 3 * DAY,
        &c,
        None,
        "erp 系统演示",
        Some("快速交付"),
    );
    // 价格 alone is not the phrase 价格敏感; before the period does not count
    note(&mut e, T0 + 3 * DAY, &d, None, "价格再议", None);
    note(&mut e, T0 - DAY, &d, None, "价格敏感", None);
    // a customer in the trash is not read
    let gone = customer(&mut e, "戊公司", None, &[]);
    note(&mut e, T0 + 4 * DAY, &gone, None, "价格敏感", None);
    customers::delete(&mut e.ws, &[gone]).unwrap();

    for owner in [None, Some(ming.as_str())] {
        let p = P.clone().owner(owner);
        let cloud = keywords::compute(e.ws.conn(), &p, 50, T0).unwrap();
        for (field, words) in [
            (TextField::Content, &cloud.content),
            (TextField::Feedback, &cloud.feedback),
        ] {
            assert!(!words.is_empty() || (owner.is_some() && field == TextField::Feedback));
            for w in words {
                let q = CustomerQuery {
                    followup_word: Some(FollowupWord {
                        word: w.word.clone(),
                        field,
                        period: p.clone(),
                    }),
                    ..Default::default()
                };
                let page = customer_list::page(&e.ws, &q).unwrap();
                assert_eq!(page.total, w.customers as u32, "{} of {owner:?}", w.word);
            }
        }
    }
    let ids = |word: &str, field| {
        let q = CustomerQuery {
            followup_word: Some(FollowupWord {
                word: word.into(),
                field,
                period: P,
            }),
            ..Default::default()
        };
        let mut v: Vec<String> = customer_list::page(&e.ws, &q)
            .unwrap()
            .rows
            .into_iter()
            .map(|r| r.id)
            .collect();
        v.sort();
        v
    };
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    assert_eq!(
        ids("价格敏感", TextField::Content),
        sorted(vec![a.clone(), b.clone()])
    );
    assert_eq!(
        ids("erp", TextField::Content),
        sorted(vec![a.clone(), c.clone()])
    );
    assert_eq!(ids("快速交付", TextField::Feedback), vec![c.clone()]);
    assert!(!ids("价格", TextField::Content).contains(&a));
}
