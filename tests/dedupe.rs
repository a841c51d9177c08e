//! Duplicate customers: normalisation, scoring with reasons, grouping, the
//! live hint, scan, merge and unmerge.

mod common;

use kehu::clock::FixedClock;
use kehu::contacts::ContactFields;
use kehu::customers::{self, CustomerFields, NewCustomer};
use kehu::dedupe::{self, normalize::normalize_name, Draft, Record, Settings};
use kehu::Workspace;
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

fn rec(name: &str) -> Record {
    Record {
        name: name.into(),
        ..Default::default()
    }
}

fn rec_m(name: &str, mobile: &str) -> Record {
    Record {
        name: name.into(),
        mobiles: vec![mobile.into()],
        ..Default::default()
    }
}

fn pair(a: &Record, b: &Record) -> dedupe::Match {
    dedupe::score(
        &dedupe::prepare(a),
        &dedupe::prepare(b),
        &Settings::default(),
    )
}

fn kinds(m: &dedupe::Match) -> Vec<String> {
    m.reasons.iter().map(|r| r.kind.to_string()).collect()
}

fn is_dup(a: &Record, b: &Record) -> bool {
    pair(a, b).score >= Settings::default().threshold
}

// ---- normalisation -------------------------------------------------------

#[test]
fn normalisation_removes_place_legal_suffix_brackets_spaces_and_case() {
    for (input, core) in [
        ("深圳市腾云科技有限公司", "腾云科技"),
        ("腾云科技", "腾云科技"),
        ("广东省深圳市腾云科技股份有限公司", "腾云科技"),
        ("深圳腾云科技有限责任公司", "腾云科技"),
        ("腾云科技集团", "腾云科技"),
        ("腾云科技（中国）有限公司", "腾云科技"),
        ("腾云科技(北京)有限公司", "腾云科技"),
        ("【北京】腾云科技", "腾云科技"),
        ("腾云 科技　有限  公司", "腾云科技"),
        ("ＴＥＮＧＹＵＮ Tech", "tengyuntech"),
        ("Tengyun Technology Co., Ltd.", "tengyuntechnology"),
        ("Tengyun Inc.", "tengyun"),
        ("Tengyun LLC", "tengyun"),
        ("河北黄骅市世华物流有限公司", "世华物流"),
        ("广西靖西洛希尔投资咨询有限公司", "洛希尔投资咨询"),
        ("新疆维吾尔自治区亿景元网络有限公司", "亿景元网络"),
    ] {
        assert_eq!(normalize_name(input).core, core, "{input}");
    }
}

#[test]
fn traditional_characters_become_simplified() {
    assert_eq!(
        normalize_name("濟南真諾諮詢服務有限公司").core,
        "真诺咨询服务"
    );
    assert_eq!(normalize_name("睿舜貿易").core, "睿舜贸易");
}

#[test]
fn a_place_is_kept_when_removing_it_would_leave_a_generic_name() {
    assert_eq!(normalize_name("杭州银行").core, "杭州银行");
    assert_eq!(normalize_name("长沙银行股份有限公司").core, "长沙银行");
}

#[test]
fn a_branch_is_split_off_and_kept_distinct() {
    let b = normalize_name("深圳市腾云科技有限公司北京分公司");
    assert_eq!(b.core, "腾云科技");
    assert_eq!(b.branch.as_deref(), Some("北京"));
    assert_eq!(normalize_name("深圳市腾云科技有限公司").branch, None);
    assert_eq!(
        normalize_name("腾云科技上海分公司").branch.as_deref(),
        Some("上海")
    );
}

#[test]
fn a_place_in_the_name_is_recognised_from_the_division_list() {
    let n = normalize_name("深圳市腾云科技有限公司");
    assert_eq!(n.provinces, vec![44]);
    let n = normalize_name("云南龙陵县通泰生物科技有限公司");
    assert_eq!(n.core, "通泰生物科技");
    assert_eq!(n.provinces, vec![53]);
}

// ---- scoring ---------------------------------------------------------------

#[test]
fn full_name_and_short_name_match_with_reasons() {
    let m = pair(&rec("深圳市腾云科技有限公司"), &rec("腾云科技"));
    assert!(m.score >= 0.95, "{m:?}");
    assert!(kinds(&m).contains(&"name_same".to_string()), "{m:?}");
    let m = pair(&rec("郑州图雅企业管理咨询有限公司"), &rec("图雅企业"));
    assert!(m.score >= 0.85, "{m:?}");
    assert!(m.reasons.iter().any(|r| r.zh == "简称包含"), "{m:?}");
}

#[test]
fn same_brand_in_another_industry_does_not_match() {
    assert!(!is_dup(
        &rec("河北天强农化经营有限公司"),
        &rec("河北天强建筑工程有限公司")
    ));
    assert!(!is_dup(&rec("河北天强农化"), &rec("河北天强建筑")));
    assert!(!is_dup(&rec("河北顺达纸业"), &rec("兰州顺达石化")));
}

#[test]
fn look_alike_big_companies_do_not_match() {
    assert!(!is_dup(&rec("杭州银行"), &rec("长沙银行")));
    assert!(!is_dup(&rec("中国石油"), &rec("中国石化")));
    let m = pair(&rec("杭州银行股份有限公司"), &rec("长沙银行股份有限公司"));
    assert!(m.score < 0.7, "{m:?}");
}

#[test]
fn traditional_name_matches_simplified() {
    let m = pair(
        &rec("濟南真諾諮詢服務有限公司"),
        &rec("济南真诺咨询服务有限公司"),
    );
    assert!(m.score >= 0.95, "{m:?}");
    assert!(is_dup(&rec("真諾諮詢"), &rec("济南真诺咨询服务有限公司")));
}

#[test]
fn homophone_typo_matches_by_pinyin() {
    let m = pair(
        &rec("深圳市腾云科技有限公司"),
        &rec("深圳市藤云科技有限公司"),
    );
    assert!(m.score >= 0.9, "{m:?}");
    assert!(m.reasons.iter().any(|r| r.zh == "拼音相同"), "{m:?}");
    assert!(is_dup(&rec("兴元实夜"), &rec("兴元实业有限公司")));
    // A homophone in the place name: 香潭市 for 湘潭市.
    assert!(is_dup(
        &rec("湘潭市顺祥汽贸有限公司"),
        &rec("香潭市顺祥汽贸")
    ));
}

#[test]
fn same_mobile_is_strong_evidence_and_reported() {
    let m = pair(
        &rec_m("腾云科技", "+86 138-0013-8000"),
        &rec_m("深圳市腾云信息科技有限公司", "13800138000"),
    );
    assert!(m.reasons.iter().any(|r| r.zh == "手机号相同"), "{m:?}");
    assert!(m.score >= 0.85, "{m:?}");
}

#[test]
fn a_shared_agency_mobile_alone_does_not_merge_two_different_names() {
    let a = rec_m("昆明春威科技有限公司", "13800138000");
    let b = rec_m("北京闪靓实惠贸易有限公司", "138 0013 8000");
    assert!(!is_dup(&a, &b), "{:?}", pair(&a, &b));
    // Nor does it chain them together through their real duplicates.
    let records = vec![a.clone(), rec("春威科技"), b.clone(), rec("闪靓实惠贸易")];
    let found = dedupe::find(&records, &Settings::default());
    assert_eq!(found.groups, vec![vec![0, 1], vec![2, 3]]);
}

#[test]
fn a_branch_is_not_merged_with_its_head_office() {
    let m = pair(
        &rec("深圳市腾云科技有限公司"),
        &rec("深圳市腾云科技有限公司北京分公司"),
    );
    assert!(m.score < 0.85, "{m:?}");
    assert!(kinds(&m).contains(&"branch_different".to_string()));
    assert!(!is_dup(
        &rec("深圳市腾云科技有限公司上海分公司"),
        &rec("深圳市腾云科技有限公司北京分公司")
    ));
    assert!(is_dup(
        &rec("深圳市腾云科技有限公司北京分公司"),
        &rec("腾云科技北京分公司")
    ));
}

#[test]
fn different_places_in_the_names_count_against() {
    let m = pair(&rec("杭州顺达物流有限公司"), &rec("兰州顺达物流有限公司"));
    assert!(kinds(&m).contains(&"place_different".to_string()), "{m:?}");
    assert!(m.score < 0.85, "{m:?}");
}

#[test]
fn same_region_is_weak_evidence_and_a_different_region_counts_against() {
    let mut a = rec("腾云科技");
    let mut b = rec("腾云科技有限公司");
    a.region = "广东省".into();
    b.region = "广东深圳".into();
    assert!(kinds(&pair(&a, &b)).contains(&"region_same".to_string()));
    b.region = "北京".into();
    let m = pair(&a, &b);
    assert!(kinds(&m).contains(&"region_different".to_string()), "{m:?}");
}

#[test]
fn english_names_match_across_legal_forms_and_case() {
    assert!(is_dup(
        &rec("Tengyun Technology Co., Ltd."),
        &rec("TENGYUN TECHNOLOGY LIMITED")
    ));
    assert!(!is_dup(&rec("Tengyun Technology"), &rec("Tianyu Trading")));
}

#[test]
fn blocking_compares_far_fewer_pairs_than_all() {
    let records: Vec<Record> = (0..400)
        .map(|i| rec(&format!("公司{}{}科技", (b'a' + (i % 26) as u8) as char, i)))
        .collect();
    let found = dedupe::find(&records, &Settings::default());
    assert!(found.compared < 400 * 399 / 2 / 10, "{}", found.compared);
}

fn dev_set() -> Option<std::path::PathBuf> {
    let p = std::path::PathBuf::from("/work/shared/eval/dedupe");
    p.join("records.csv").exists().then_some(p)
}

#[test]
fn the_development_set_is_matched_with_high_precision_when_present() {
    let Some(dir) = dev_set() else {
        eprintln!("development set absent: skipped");
        return;
    };
    let text = std::fs::read_to_string(dir.join("records.csv")).unwrap();
    let mut ids = vec![];
    let mut records = vec![];
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        if f.len() < 5 || line.contains('"') {
            continue;
        }
        ids.push(f[0].parse::<u32>().unwrap());
        records.push(Record {
            name: f[1].into(),
            contacts: vec![f[2].into()],
            mobiles: vec![f[3].into()],
            emails: vec![],
            region: f[4].into(),
        });
    }
    let truth: std::collections::HashSet<(u32, u32)> =
        std::fs::read_to_string(dir.join("pairs.csv"))
            .unwrap()
            .lines()
            .skip(1)
            .filter_map(|l| {
                let (a, b) = l.split_once(',')?;
                Some((a.parse().ok()?, b.parse().ok()?))
            })
            .collect();
    let found = dedupe::find(&records, &Settings::default());
    let mut tp = 0;
    let mut n = 0;
    for g in &found.groups {
        for (x, &i) in g.iter().enumerate() {
            for &j in &g[x + 1..] {
                n += 1;
                if truth.contains(&(ids[i].min(ids[j]), ids[i].max(ids[j]))) {
                    tp += 1;
                }
            }
        }
    }
    let precision = tp as f64 / n as f64;
    let recall = tp as f64 / truth.len() as f64;
    assert!(precision >= 0.98, "precision {precision}");
    assert!(recall >= 0.92, "recall {recall}");
}

proptest! {
    #[test]
    fn normalisation_is_idempotent(name in "[深圳市腾云科技有限公司北京分（）() 集团濟南諮詢A-Za-z]{1,20}") {
        let once = normalize_name(&name);
        let twice = normalize_name(&once.core);
        prop_assert_eq!(&twice.core, &once.core);
    }

    #[test]
    fn score_is_symmetric(
        a in "[深圳腾藤云科技有限公司北京分集团天强农化建筑 ]{1,14}",
        b in "[深圳腾藤云科技有限公司北京分集团天强农化建筑 ]{1,14}",
        ma in proptest::option::of("13800138000|13900139000"),
        mb in proptest::option::of("13800138000|13900139000"),
    ) {
        let ra = Record { name: a, mobiles: ma.into_iter().collect(), ..Default::default() };
        let rb = Record { name: b, mobiles: mb.into_iter().collect(), ..Default::default() };
        let (pa, pb) = (dedupe::prepare(&ra), dedupe::prepare(&rb));
        let s = Settings::default();
        prop_assert_eq!(dedupe::score(&pa, &pb, &s).score, dedupe::score(&pb, &pa, &s).score);
    }
}

// ---- the workspace ---------------------------------------------------------

fn workspace() -> (tempfile::TempDir, Workspace) {
    let dir = tempfile::tempdir().unwrap();
    let ws = Workspace::open_with_clock(
        dir.path().join("k.db"),
        Arc::new(FixedClock::new(1_764_000_000_000)),
    )
    .unwrap();
    (dir, ws)
}

fn add(ws: &mut Workspace, name: &str, mobile: Option<&str>, tags: &[&str]) -> String {
    customers::create(
        ws,
        NewCustomer {
            fields: CustomerFields::named(name),
            contacts: mobile
                .map(|m| ContactFields {
                    name: "张三".into(),
                    mobile: Some(m.into()),
                    ..Default::default()
                })
                .into_iter()
                .collect(),
            tags: tags.iter().map(|t| t.to_string()).collect(),
        },
    )
    .unwrap()
    .id
}

#[test]
fn typing_a_near_duplicate_name_shows_the_existing_customer_with_reasons() {
    let (_d, mut ws) = workspace();
    let id = add(&mut ws, "深圳市腾云科技有限公司", Some("13800138000"), &[]);
    add(&mut ws, "河北天强建筑工程有限公司", None, &[]);
    for draft in [
        Draft {
            name: "腾云科技".into(),
            ..Default::default()
        },
        Draft {
            name: "藤云科技".into(),
            ..Default::default()
        },
        Draft {
            name: "騰雲科技有限公司".into(),
            ..Default::default()
        },
        Draft {
            name: "随便".into(),
            mobiles: vec!["+86 138 0013 8000".into()],
            ..Default::default()
        },
    ] {
        let c = dedupe::candidates_for(ws.conn(), &draft, 5).unwrap();
        assert_eq!(
            c.first().map(|c| c.customer_id.as_str()),
            Some(id.as_str()),
            "{draft:?} → {c:?}"
        );
        assert!(!c[0].reasons.is_empty());
    }
    let none = dedupe::candidates_for(
        ws.conn(),
        &Draft {
            name: "北京闪靓实惠贸易".into(),
            ..Default::default()
        },
        5,
    )
    .unwrap();
    assert!(none.is_empty(), "{none:?}");
}

#[test]
fn scan_groups_duplicates_and_a_pair_marked_not_duplicate_is_not_suggested_again() {
    let (_d, mut ws) = workspace();
    let a = add(&mut ws, "深圳市腾云科技有限公司", Some("13800138000"), &[]);
    let b = add(&mut ws, "腾云科技", None, &[]);
    let c = add(&mut ws, "河北天强农化经营有限公司", None, &[]);
    let d = add(&mut ws, "天强农化", None, &[]);
    add(&mut ws, "河北天强建筑工程有限公司", None, &[]);
    let never = AtomicBool::new(false);
    let r = dedupe::scan(ws.conn(), &mut |_, _| {}, &never).unwrap();
    let mut groups: Vec<Vec<String>> = r.groups.iter().map(|g| g.members.clone()).collect();
    groups.iter_mut().for_each(|g| g.sort());
    let mut want = vec![vec![a.clone(), b.clone()], vec![c.clone(), d.clone()]];
    want.iter_mut().for_each(|g| g.sort());
    for w in &want {
        assert!(groups.contains(w), "{groups:?}");
    }
    assert_eq!(groups.len(), 2);
    dedupe::ignore(&mut ws, &c, &d).unwrap();
    let r = dedupe::scan(ws.conn(), &mut |_, _| {}, &never).unwrap();
    assert_eq!(r.groups.len(), 1);
    let cancelled = dedupe::scan(ws.conn(), &mut |_, _| {}, &AtomicBool::new(true)).unwrap();
    assert!(cancelled.cancelled);
}

#[test]
fn merge_moves_contacts_and_tags_to_the_master_and_a_merged_pair_never_returns() {
    let (_d, mut ws) = workspace();
    let a = add(
        &mut ws,
        "深圳市腾云科技有限公司",
        Some("13800138000"),
        &["大客户"],
    );
    let b = add(&mut ws, "腾云科技", Some("13900139000"), &["展会"]);
    let mut patch = serde_json::Map::new();
    patch.insert("industry".into(), "软件".into());
    customers::update(&mut ws, &b, &patch).unwrap();
    let r = dedupe::merge(&mut ws, &a, std::slice::from_ref(&b), &BTreeMap::new()).unwrap();
    let master = customers::get(ws.conn(), &a).unwrap();
    assert_eq!(master.contacts.len(), 2);
    assert_eq!(
        master
            .contacts
            .iter()
            .filter(|c| c.fields.is_primary)
            .count(),
        1
    );
    let mut tags: Vec<_> = master.tags.iter().map(|t| t.name.clone()).collect();
    tags.sort();
    assert_eq!(tags, vec!["大客户", "展会"]);
    assert_eq!(
        master.fields.industry.as_deref(),
        Some("软件"),
        "empty field filled"
    );
    let other = customers::get(ws.conn(), &b).unwrap();
    assert!(other.deleted_at.is_some());
    let into: Option<String> = ws
        .conn()
        .query_row(
            "SELECT merged_into FROM customers WHERE id = ?1",
            [&b],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(into.as_deref(), Some(a.as_str()));
    let origins: Vec<String> = ws
        .conn()
        .prepare("SELECT DISTINCT origin FROM changes WHERE origin LIKE 'merge:%'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(origins, vec![format!("merge:{}", r.merge_id)]);
    let never = AtomicBool::new(false);
    let scan = dedupe::scan(ws.conn(), &mut |_, _| {}, &never).unwrap();
    assert!(scan.groups.is_empty(), "{:?}", scan.groups);
}

#[test]
fn a_chosen_field_value_wins_in_a_merge() {
    let (_d, mut ws) = workspace();
    let a = add(&mut ws, "深圳市腾云科技有限公司", None, &[]);
    let b = add(&mut ws, "腾云科技", None, &[]);
    let mut choices = BTreeMap::new();
    choices.insert("name".to_string(), b.clone());
    dedupe::merge(&mut ws, &a, std::slice::from_ref(&b), &choices).unwrap();
    assert_eq!(
        customers::get(ws.conn(), &a).unwrap().fields.name,
        "腾云科技"
    );
    let bad = dedupe::merge(&mut ws, &a, std::slice::from_ref(&a), &BTreeMap::new());
    assert!(bad.is_err());
}

/// Everything a merge may touch, except `updated_at` stamps.
fn snapshot(ws: &Workspace) -> Vec<String> {
    let mut out = vec![];
    for sql in [
        "SELECT id, code, name, kind, industry, size, province, city, district, address, source, status, grade,
                owner_id, needs, budget, purchase_cycle, annual_purchase, first_contact_date, notes,
                deleted_at, merged_into FROM customers ORDER BY id",
        "SELECT id, customer_id, name, title, mobile, phone, email, wechat, is_primary, notes, deleted_at FROM contacts ORDER BY id",
        "SELECT customer_id, tag_id FROM customer_tags ORDER BY customer_id, tag_id",
        "SELECT id, name, deleted_at FROM tags ORDER BY id",
    ] {
        let mut stmt = ws.conn().prepare(sql).unwrap();
        let n = stmt.column_count();
        let rows = stmt
            .query_map([], |r| {
                let mut s = String::new();
                for i in 0..n {
                    let v: rusqlite::types::Value = r.get(i)?;
                    s.push_str(&format!("{v:?}|"));
                }
                Ok(s)
            })
            .unwrap();
        for row in rows {
            out.push(row.unwrap());
        }
    }
    out
}

#[test]
fn unmerge_restores_both_customers_even_after_a_later_edit_of_the_master() {
    let (_d, mut ws) = workspace();
    let a = add(
        &mut ws,
        "深圳市腾云科技有限公司",
        Some("13800138000"),
        &["大客户"],
    );
    let b = add(
        &mut ws,
        "腾云科技",
        Some("13900139000"),
        &["展会", "大客户"],
    );
    let mut patch = serde_json::Map::new();
    patch.insert("industry".into(), "软件".into());
    customers::update(&mut ws, &b, &patch).unwrap();
    let before = snapshot(&ws);
    let r = dedupe::merge(&mut ws, &a, std::slice::from_ref(&b), &BTreeMap::new()).unwrap();
    let mut notes = serde_json::Map::new();
    notes.insert("notes".into(), "合并后补充的备注".into());
    customers::update(&mut ws, &a, &notes).unwrap();
    dedupe::unmerge(&mut ws, &r.merge_id).unwrap();
    let master = customers::get(ws.conn(), &a).unwrap();
    assert_eq!(
        master.fields.notes.as_deref(),
        Some("合并后补充的备注"),
        "later edit kept"
    );
    notes.insert("notes".into(), serde_json::Value::Null);
    customers::update(&mut ws, &a, &notes).unwrap();
    assert_eq!(snapshot(&ws), before);
    assert!(
        dedupe::unmerge(&mut ws, &r.merge_id).is_err(),
        "undone once only"
    );
    // Both histories show the merge and the unmerge.
    for id in [&a, &b] {
        let h = customers::history(ws.conn(), id).unwrap();
        let text = format!("{h:?}");
        assert!(text.contains("merge:"), "{id}");
        assert!(text.contains("unmerge:"), "{id}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]
    #[test]
    fn merge_then_unmerge_restores_customers_contacts_and_tags(
        customers_spec in proptest::collection::vec(
            (0usize..3, proptest::collection::vec(0usize..4, 0..3), proptest::option::of(0usize..3)),
            2..5,
        ),
        master_pick in 0usize..5,
    ) {
        let (_d, mut ws) = workspace();
        let tag_names = ["大客户", "展会", "重点", "华南"];
        let industries = ["软件", "制造业", "贸易"];
        let mut ids = vec![];
        for (i, (n_contacts, tags, industry)) in customers_spec.iter().enumerate() {
            let c = customers::create(&mut ws, NewCustomer {
                fields: CustomerFields {
                    industry: industry.map(|x| industries[x].to_string()),
                    ..CustomerFields::named(&format!("腾云科技{i}"))
                },
                contacts: (0..*n_contacts).map(|k| ContactFields {
                    name: format!("联系人{i}{k}"),
                    mobile: Some(format!("1380013{:04}", i * 10 + k)),
                    is_primary: k == 0,
                    ..Default::default()
                }).collect(),
                tags: tags.iter().map(|t| tag_names[*t].to_string()).collect(),
            }).unwrap();
            ids.push(c.id);
        }
        let before = snapshot(&ws);
        let m = master_pick % ids.len();
        let others: Vec<String> = ids.iter().enumerate().filter(|(i, _)| *i != m).map(|(_, x)| x.clone()).collect();
        let contacts_before: i64 = ws.conn().query_row("SELECT count(*) FROM contacts", [], |r| r.get(0)).unwrap();
        let r = dedupe::merge(&mut ws, &ids[m], &others, &BTreeMap::new()).unwrap();
        let on_master: i64 = ws.conn().query_row("SELECT count(*) FROM contacts WHERE customer_id = ?1", [&ids[m]], |r| r.get(0)).unwrap();
        prop_assert_eq!(on_master, contacts_before, "no contact lost");
        dedupe::unmerge(&mut ws, &r.merge_id).unwrap();
        prop_assert_eq!(snapshot(&ws), before);
    }
}

#[test]
fn follow_ups_and_other_children_move_to_the_master_and_back() {
    let (_d, mut ws) = workspace();
    let a = add(&mut ws, "深圳市腾云科技有限公司", None, &[]);
    let b = add(&mut ws, "腾云科技", None, &[]);
    for i in 0..5 {
        ws.conn()
            .execute(
                "INSERT INTO followups(id, customer_id, content, status, done_at, created_at, updated_at)
                 VALUES (?1, ?2, '电话', 'done', 1764000000000 + ?3, 0, 0)",
                rusqlite::params![format!("f{i}"), if i < 2 { &a } else { &b }, i],
            )
            .unwrap();
    }
    let count = |ws: &Workspace, id: &str| -> i64 {
        ws.conn()
            .query_row(
                "SELECT count(*) FROM followups WHERE customer_id = ?1",
                [id],
                |r| r.get(0),
            )
            .unwrap()
    };
    let r = dedupe::merge(&mut ws, &a, std::slice::from_ref(&b), &BTreeMap::new()).unwrap();
    assert_eq!((count(&ws, &a), count(&ws, &b)), (5, 0));
    let last: Option<i64> = ws
        .conn()
        .query_row(
            "SELECT last_followup_at FROM customers WHERE id = ?1",
            [&a],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        last,
        Some(1_764_000_000_004),
        "derived times follow the follow-ups"
    );
    dedupe::unmerge(&mut ws, &r.merge_id).unwrap();
    assert_eq!((count(&ws, &a), count(&ws, &b)), (2, 3));
}

#[test]
fn names_that_differ_in_a_number_are_different_companies() {
    use kehu::dedupe::{prepare, score, Record, Settings};
    let s = Settings::default();
    let rec = |n: &str| {
        prepare(&Record {
            name: n.into(),
            ..Default::default()
        })
    };
    for (a, b) in [
        ("公司12", "公司120"),
        ("杭州联华超市第3分店", "杭州联华超市第13分店"),
        ("星光12345号仓储有限公司", "星光12346号仓储有限公司"),
    ] {
        let m = score(&rec(a), &rec(b), &s);
        assert!(m.score < s.threshold, "{a} / {b}: {m:?}");
        assert!(
            m.reasons.iter().any(|r| r.kind == "number_different"),
            "{a} / {b}: {m:?}"
        );
    }
    // The same number is no obstacle.
    let m = score(&rec("杭州联华超市第3分店"), &rec("联华超市第3分店"), &s);
    assert!(m.score >= s.threshold, "{m:?}");
}

#[test]
fn the_duplicate_threshold_is_a_setting_that_the_scan_and_the_hint_follow() {
    let (_d, mut ws) = workspace();
    let a = add(&mut ws, "深圳市腾云科技有限公司", None, &[]);
    let b = add(&mut ws, "深圳市藤云科技有限公司", None, &[]);
    let scan =
        |ws: &Workspace| dedupe::scan(ws.conn(), &mut |_, _| {}, &AtomicBool::new(false)).unwrap();
    let found = scan(&ws);
    assert_eq!(
        found.groups.len(),
        1,
        "the homophone pair is a duplicate by default"
    );
    let pair_score = found.groups[0].pairs[0].score;
    assert!(pair_score < 1.0);

    // Stricter than this pair: the scan no longer reports it, the hint still does.
    let stricter = Settings {
        threshold: (pair_score + 0.01).min(1.0),
        ..dedupe::settings(ws.conn()).unwrap()
    };
    dedupe::set_settings(&mut ws, stricter).unwrap();
    assert_eq!(dedupe::settings(ws.conn()).unwrap(), stricter);
    assert!(scan(&ws).groups.is_empty());
    let draft = Draft {
        name: "深圳市藤云科技有限公司".into(),
        exclude: Some(b.clone()),
        ..Default::default()
    };
    let hint = dedupe::candidates_for(ws.conn(), &draft, 5).unwrap();
    assert_eq!(
        hint.iter()
            .map(|c| c.customer_id.as_str())
            .collect::<Vec<_>>(),
        [a.as_str()]
    );

    // A hint threshold above the pair's score hides it while typing too.
    let quiet = Settings {
        hint_threshold: stricter.threshold,
        ..stricter
    };
    dedupe::set_settings(&mut ws, quiet).unwrap();
    assert!(dedupe::candidates_for(ws.conn(), &draft, 5)
        .unwrap()
        .is_empty());
}

#[test]
fn a_duplicate_threshold_out_of_range_is_refused_in_the_users_language() {
    let (_d, mut ws) = workspace();
    let before = dedupe::settings(ws.conn()).unwrap();
    for bad in [
        Settings {
            threshold: 1.5,
            ..before
        },
        Settings {
            threshold: 0.2,
            ..before
        },
        Settings {
            threshold: f32::NAN,
            ..before
        },
        Settings {
            hint_threshold: 0.9,
            threshold: 0.8,
            ..before
        },
        Settings {
            phone_bonus: -1.0,
            ..before
        },
        Settings {
            window: 0,
            ..before
        },
    ] {
        let err = dedupe::set_settings(&mut ws, bad).unwrap_err();
        assert!(err.field().is_some(), "{err}");
    }
    let err = dedupe::set_settings(
        &mut ws,
        Settings {
            threshold: 1.5,
            ..before
        },
    )
    .unwrap_err();
    assert_eq!(err.field(), Some("threshold"));
    assert!(
        err.message(kehu::i18n::Lang::Zh).contains("判定重复的分数"),
        "{err}"
    );
    assert_eq!(
        dedupe::settings(ws.conn()).unwrap(),
        before,
        "nothing was saved"
    );
}

#[test]
fn a_database_from_before_the_name_keys_gets_them_when_opened() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("k.db");
    let (a, b);
    {
        let mut ws = Workspace::open(&path).unwrap();
        a = add(&mut ws, "深圳市腾云科技有限公司", None, &[]);
        b = add(&mut ws, "河北天强建筑工程有限公司", None, &[]);
        // As a build without the keys left it (nor what later migrations
        // added: 0011's and 0014's indexes).
        ws.conn()
            .execute_batch(
                "DROP TABLE dedupe_keys; DROP INDEX contacts_phone;
                 DROP INDEX opportunities_facts; DROP INDEX changes_customer_status;
                 DROP INDEX customers_search_rank;
                 PRAGMA user_version = 8;",
            )
            .unwrap();
    }
    let ws = Workspace::open(&path).unwrap();
    assert_eq!(common::customers_with_name_keys(&ws), 2);
    let draft = Draft {
        name: "藤云科技".into(),
        ..Default::default()
    };
    let found = dedupe::candidates_for(ws.conn(), &draft, 5).unwrap();
    assert_eq!(
        found
            .iter()
            .map(|c| c.customer_id.as_str())
            .collect::<Vec<_>>(),
        [a.as_str()]
    );
    assert!(!found.iter().any(|c| c.customer_id == b));
}

#[test]
fn name_keys_of_a_bulk_write_are_those_of_each_name_and_a_bulk_rename_replaces_them() {
    let mut ws = Workspace::open_in_memory(Arc::new(FixedClock::new(1_790_000_000_000))).unwrap();
    let keys = |ws: &Workspace| -> Vec<(String, String, String)> {
        ws.conn()
            .prepare("SELECT key, sort, customer_id FROM dedupe_keys ORDER BY 1, 2, 3")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    // More customers than one search batch: the bulk path writes the keys.
    kehu::demo::generate(&mut ws, 600, 5).unwrap();
    let bulk = keys(&ws);
    assert!(bulk.len() >= 600);
    dedupe::index_all_names(ws.conn()).unwrap();
    assert_eq!(keys(&ws), bulk);

    let ids: Vec<String> = ws
        .conn()
        .prepare("SELECT id FROM customers ORDER BY id LIMIT 400")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    ws.write("test", |w| {
        for (i, id) in ids.iter().enumerate() {
            let mut patch = serde_json::Map::new();
            patch.insert("name".into(), format!("改名后{i}号贸易有限公司").into());
            customers::update_in(w, id, &patch)?;
        }
        Ok(())
    })
    .unwrap();
    let renamed = keys(&ws);
    assert_ne!(renamed, bulk);
    dedupe::index_all_names(ws.conn()).unwrap();
    assert_eq!(keys(&ws), renamed, "no key of an old name is left");
}
