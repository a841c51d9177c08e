mod common;

use common::*;
use kehu::customer_list::{list, CustomerQuery};
use kehu::search::search_ids;
use proptest::prelude::*;

fn find(ws: &kehu::Workspace, q: &str) -> Vec<String> {
    search_ids(ws.conn(), q, 50).unwrap()
}

#[test]
fn the_ways_people_type_all_find_the_customer() {
    let mut e = env();
    let c = add(
        &mut e.ws,
        "深圳市腾云科技有限公司",
        vec![contact("张三", "138 0013 8000")],
        &["大客户"],
    );
    let other = add(
        &mut e.ws,
        "北京华信贸易有限公司",
        vec![contact("李四", "13912345678")],
        &[],
    );
    kehu::contacts::add(
        &mut e.ws,
        &other.id,
        kehu::contacts::ContactFields {
            name: "王五".into(),
            email: Some("wangwu@huaxin.cn".into()),
            ..Default::default()
        },
    )
    .unwrap();
    for q in [
        "zhang",
        "zs",
        "张三",
        "138 0013",
        "13800138000",
        "腾云",
        "云科",
        "tengyun",
        "szstykj",
        "大客户",
        &c.code,
        "ZHANGSAN",
        "深圳市腾云",
    ] {
        assert_eq!(find(&e.ws, q), vec![c.id.clone()], "query {q:?}");
    }
    // A code prefix finds every customer of that day, ours among them.
    assert!(find(&e.ws, &c.code[..7]).contains(&c.id));
    for q in ["华信", "lisi", "wangwu@", "王五", "hx"] {
        assert_eq!(find(&e.ws, q), vec![other.id.clone()], "query {q:?}");
    }
    assert!(find(&e.ws, "不存在的公司").is_empty());
    assert!(find(&e.ws, "").is_empty());
    assert!(
        find(&e.ws, "\"*^").is_empty(),
        "FTS syntax characters are not an error"
    );
}

#[test]
fn a_query_never_matches_across_two_fields() {
    let mut e = env();
    let c = add(
        &mut e.ws,
        "深圳市腾云科技有限公司",
        vec![contact("张三", "13800138000")],
        &[],
    );
    let code = c.code.to_lowercase();
    assert_eq!(find(&e.ws, "张三"), vec![c.id.clone()]);
    assert_eq!(find(&e.ws, "13800138"), vec![c.id.clone()]);
    // The same text run together over a field boundary (contact name into
    // its mobile, company name into the code) is not in the customer.
    for q in ["张三138".to_string(), format!("公司{}", &code[..3])] {
        assert!(find(&e.ws, &q).is_empty(), "query {q:?}");
    }
}

#[test]
fn pinyin_matches_from_any_syllable_of_a_name_and_latin_text_anywhere() {
    let mut e = env();
    let c = add(
        &mut e.ws,
        "Microsoft 吕梁分公司",
        vec![contact("张伟明", "13800138000")],
        &["重点客户"],
    );
    let other = add(
        &mut e.ws,
        "华信贸易",
        vec![contact("王伟", "13912345678")],
        &[],
    );
    for q in [
        "zhangweiming",
        "zhangw",
        "weiming",
        "zwm",
        "lvliang",
        "liangfen",
        "zhongdian",
        "zdkh",
        "soft",
        "microsoftlv",
    ] {
        assert_eq!(find(&e.ws, q), vec![c.id.clone()], "query {q:?}");
    }
    assert_eq!(find(&e.ws, "wangwei"), vec![other.id.clone()]);
    // `wei` starts a syllable of both contacts' names.
    let mut both = find(&e.ws, "wei");
    both.sort();
    let mut want = vec![c.id.clone(), other.id.clone()];
    want.sort();
    assert_eq!(both, want);
    // Found both as text and as a reading: listed once, a name starting
    // with the query first.
    let latin = add(&mut e.ws, "Lvliang Trading", vec![], &[]);
    assert_eq!(find(&e.ws, "lvliang"), vec![latin.id, c.id]);
}

/// As the schema before 0012 left a workspace, as far as a pinyin query can
/// tell: no pinyin terms in the grams index (nor 0014's index).
fn back_to_schema_11(ws: &kehu::Workspace) {
    ws.conn()
        .execute_batch(
            "INSERT INTO customer_grams(customer_grams) VALUES ('delete-all');
             DROP INDEX customers_search_rank;
             PRAGMA user_version = 11;",
        )
        .unwrap();
}

#[test]
fn a_database_indexed_before_the_pinyin_terms_is_reindexed_when_opened() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("k.db");
    let c;
    {
        let mut ws = kehu::Workspace::open(&path).unwrap();
        c = add(
            &mut ws,
            "腾云科技",
            vec![contact("欧阳娜娜", "13800138000")],
            &[],
        );
        back_to_schema_11(&ws);
        assert!(search_ids(ws.conn(), "ouyang", 50).unwrap().is_empty());
    }
    let ws = kehu::Workspace::open(&path).unwrap();
    for q in ["ouyang", "nana", "oyn", "ty", "腾"] {
        assert_eq!(
            search_ids(ws.conn(), q, 50).unwrap(),
            vec![c.id.clone()],
            "{q}"
        );
    }
}

/// The same upgrade of a workspace of thousands: its documents are rebuilt
/// on the side (`kehu::search::index_customers_begin`), inside the migration.
#[test]
fn a_big_database_indexed_before_the_pinyin_terms_is_reindexed_when_opened() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("k.db");
    let answers = |ws: &kehu::Workspace, queries: &[String]| -> Vec<Vec<String>> {
        queries
            .iter()
            .map(|q| {
                let mut found = search_ids(ws.conn(), q, 5_000).unwrap();
                found.sort();
                found
            })
            .collect()
    };
    let (queries, before) = {
        let mut ws = kehu::Workspace::open(&path).unwrap();
        kehu::demo::generate(&mut ws, 2_100, 5).unwrap();
        let names: Vec<String> = ws
            .conn()
            .prepare("SELECT name FROM customers ORDER BY id LIMIT 40")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let mut queries = vec![];
        for name in names {
            let (full, initials) = kehu::search::pinyin_forms(&name);
            queries.push(full[..full.len().min(7)].to_string());
            queries.push(initials);
            queries.push(name.chars().take(2).collect());
            queries.push(name);
        }
        let before = answers(&ws, &queries);
        assert!(before.iter().all(|found| !found.is_empty()));
        back_to_schema_11(&ws);
        assert!(answers(&ws, &queries).iter().any(Vec::is_empty));
        (queries, before)
    };
    let ws = kehu::Workspace::open(&path).unwrap();
    assert_eq!(answers(&ws, &queries), before);
}

#[test]
fn one_chinese_character_and_two_letter_initials_work() {
    let mut e = env();
    let a = add(&mut e.ws, "腾云科技", vec![], &[]);
    let b = add(&mut e.ws, "华信贸易", vec![], &[]);
    assert_eq!(find(&e.ws, "腾"), vec![a.id.clone()]);
    assert_eq!(find(&e.ws, "ty"), vec![a.id.clone()]);
    assert_eq!(find(&e.ws, "hx"), vec![b.id.clone()]);
}

#[test]
fn names_starting_with_the_query_rank_first() {
    let mut e = env();
    let inside = add(&mut e.ws, "深圳腾云科技", vec![], &[]);
    let starts = add(&mut e.ws, "腾云网络", vec![], &[]);
    let by_contact = add(
        &mut e.ws,
        "华信贸易",
        vec![contact("腾云", "13800138000")],
        &[],
    );
    assert_eq!(
        find(&e.ws, "腾云"),
        vec![starts.id, inside.id, by_contact.id]
    );
}

#[test]
fn renaming_a_tag_reindexes_its_customers() {
    let mut e = env();
    let c = add(&mut e.ws, "腾云科技", vec![], &["老客户"]);
    kehu::tags::edit(&mut e.ws, "老客户", Some("战略客户"), None).unwrap();
    assert_eq!(find(&e.ws, "战略客户"), vec![c.id.clone()]);
    assert!(find(&e.ws, "老客户").is_empty());
}

#[test]
fn search_combines_with_filters_in_the_list() {
    let mut e = env();
    let a = add(&mut e.ws, "腾云科技", vec![], &[]);
    add(&mut e.ws, "腾云网络", vec![], &[]);
    kehu::customers::update(
        &mut e.ws,
        &a.id,
        &patch(&[("grade", serde_json::json!("A"))]),
    )
    .unwrap();
    let q = CustomerQuery {
        text: Some("腾云".into()),
        grade: vec![kehu::customers::Grade::A],
        ..Default::default()
    };
    let page = list(e.ws.conn(), &q).unwrap();
    assert_eq!(page.total, 1);
    assert_eq!(page.rows[0].id, a.id);
}

#[test]
fn a_bulk_write_indexes_every_customer_once_with_its_final_state() {
    let mut e = env();
    // More customers than one indexing batch, so documents are built on the
    // second thread while others are stored.
    kehu::demo::generate(&mut e.ws, 700, 7).unwrap();
    let conn = e.ws.conn();
    let count = |sql: &str| -> i64 { conn.query_row(sql, [], |r| r.get(0)).unwrap() };
    assert_eq!(count("SELECT count(*) FROM customers"), 700);
    assert_eq!(count("SELECT count(*) FROM search_docs"), 700);
    assert_eq!(
        count("SELECT count(DISTINCT customer_id) FROM dedupe_keys"),
        700
    );
    let codes: Vec<(String, String)> = conn
        .prepare("SELECT id, code FROM customers ORDER BY code")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for (id, code) in codes.iter().step_by(37) {
        assert_eq!(find(&e.ws, code), vec![id.clone()], "{code}");
    }

    // One write that creates, renames and adds a contact: the document
    // holds the end state, not the name it had halfway.
    let id =
        e.ws.write("test", |w| {
            let id = kehu::customers::insert(
                w,
                kehu::customers::NewCustomer {
                    fields: kehu::customers::CustomerFields::named("临时名称科技"),
                    ..Default::default()
                },
                None,
            )?;
            kehu::customers::update_in(w, &id, &patch(&[("name", serde_json::json!("星河数据"))]))?;
            kehu::contacts::insert(
                w,
                &id,
                kehu::contacts::ContactFields {
                    name: "欧阳娜娜".into(),
                    ..Default::default()
                },
            )?;
            Ok(id)
        })
        .unwrap();
    assert_eq!(find(&e.ws, "星河数据"), vec![id.clone()]);
    assert_eq!(find(&e.ws, "oyn"), vec![id.clone()]);
    assert!(find(&e.ws, "临时名称").is_empty());
}

#[test]
fn a_code_prefix_lists_the_codes_in_order_then_other_matches() {
    let mut e = env();
    let mut ids = vec![];
    for (code, name, notes) in [
        ("GZ2024002", "广州乙公司", None),
        ("XY2024001", "西安甲公司", None),
        ("GZ2024001", "广州甲公司", None),
        ("SZ0001", "深圳甲公司", Some("原编号 gz2024003")),
    ] {
        let id =
            e.ws.write("test", |w| {
                let mut fields = kehu::customers::CustomerFields::named(name);
                fields.notes = notes.map(str::to_string);
                kehu::customers::insert(
                    w,
                    kehu::customers::NewCustomer {
                        fields,
                        ..Default::default()
                    },
                    Some(code.to_string()),
                )
            })
            .unwrap();
        ids.push(id);
    }
    assert_eq!(
        find(&e.ws, "gz2024"),
        vec![ids[2].clone(), ids[0].clone(), ids[3].clone()],
        "GZ2024001, GZ2024002, then the one whose notes hold the text"
    );
    assert_eq!(find(&e.ws, "XY2024001"), vec![ids[1].clone()]);
    kehu::customers::delete(&mut e.ws, std::slice::from_ref(&ids[2])).unwrap();
    assert_eq!(
        find(&e.ws, "GZ2024"),
        vec![ids[0].clone(), ids[3].clone()],
        "a customer in the trash is not listed"
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]
    /// A created customer is always found by its name and by its code.
    #[test]
    fn a_created_customer_is_found_by_its_name_and_code(names in prop::collection::vec("[\\u4e00-\\u9fa5]{2,8}(科技|贸易|有限公司)?|[A-Za-z]{3,10} [A-Za-z]{2,6}", 1..6)) {
        let mut e = env();
        for name in &names {
            let c = add(&mut e.ws, name, vec![], &[]);
            let by_name = find(&e.ws, name);
            prop_assert!(by_name.contains(&c.id), "{} not found by name", name);
            prop_assert_eq!(find(&e.ws, &c.code), vec![c.id.clone()]);
        }
    }
}
