//! The in-memory list index answers exactly what SQL answers: same total,
//! same rows in the same order, for any filter, sort and page, before and
//! after edits.

mod common;

use common::*;
use kehu::customer_list::{list, page, CustomerQuery, SortKey};
use kehu::customers::{self, CustomerFields, Grade, NewCustomer, Status};
use kehu::members::{self, MemberFields, Role};
use proptest::prelude::*;

const NAMES: [&str; 4] = ["华为", "华夏", "阿里", "字节"];
const INDUSTRIES: [&str; 2] = ["软件", "制造业"];
const CITIES: [&str; 3] = ["杭州市", "上海市", "深圳市"];

#[derive(Debug, Clone)]
struct Spec {
    name: usize,
    status: usize,
    grade: Option<usize>,
    owner: Option<usize>,
    industry: Option<usize>,
    city: usize,
    tag: Option<usize>,
    // Small ranges so that ties are common.
    created: i64,
    updated: i64,
    last_followup: Option<i64>,
    deleted: bool,
}

fn spec() -> impl Strategy<Value = Spec> {
    (
        0..NAMES.len(),
        0..4usize,
        proptest::option::of(0..3usize),
        proptest::option::of(0..2usize),
        proptest::option::of(0..INDUSTRIES.len()),
        0..CITIES.len(),
        proptest::option::of(0..2usize),
        (1..4i64, 1..4i64, proptest::option::of(1..3i64)),
        proptest::bool::weighted(0.15),
    )
        .prop_map(
            |(
                name,
                status,
                grade,
                owner,
                industry,
                city,
                tag,
                (created, updated, last),
                deleted,
            )| {
                Spec {
                    name,
                    status,
                    grade,
                    owner,
                    industry,
                    city,
                    tag,
                    created,
                    updated,
                    last_followup: last,
                    deleted,
                }
            },
        )
}

#[derive(Debug, Clone)]
struct Query {
    statuses: Vec<usize>,
    grades: Vec<usize>,
    owner: Option<usize>, // 0, 1: members; 2: "none"; 3: unknown id
    industry: Option<usize>,
    city: Option<usize>,
    tag: Option<usize>,
    created_from: Option<i64>,
    updated_to: Option<i64>,
    sort: usize,
    desc: bool,
    offset: u32,
    limit: u32,
}

fn query() -> impl Strategy<Value = Query> {
    (
        proptest::collection::vec(0..4usize, 0..3),
        proptest::collection::vec(0..3usize, 0..3),
        proptest::option::of(0..4usize),
        proptest::option::of(0..INDUSTRIES.len()),
        proptest::option::of(0..CITIES.len()),
        proptest::option::of(0..2usize),
        (proptest::option::of(1..4i64), proptest::option::of(1..4i64)),
        (0..6usize, any::<bool>(), 0..12u32, 1..8u32),
    )
        .prop_map(
            |(
                statuses,
                grades,
                owner,
                industry,
                city,
                tag,
                (cf, ut),
                (sort, desc, offset, limit),
            )| {
                Query {
                    statuses,
                    grades,
                    owner,
                    industry,
                    city,
                    tag,
                    created_from: cf,
                    updated_to: ut,
                    sort,
                    desc,
                    offset,
                    limit,
                }
            },
        )
}

fn to_query(q: &Query, owners: &[String]) -> CustomerQuery {
    CustomerQuery {
        status: q.statuses.iter().map(|&i| Status::ALL[i]).collect(),
        grade: q.grades.iter().map(|&i| Grade::ALL[i]).collect(),
        owner: q.owner.map(|o| match o {
            0 | 1 => owners[o].clone(),
            2 => "none".into(),
            _ => "no-such-member".into(),
        }),
        industry: q.industry.map(|i| INDUSTRIES[i].into()),
        city: q.city.map(|i| CITIES[i].into()),
        tag: q.tag.map(|t| format!("标签{t}")),
        created_from: q.created_from,
        updated_to: q.updated_to,
        sort: [
            SortKey::Relevance,
            SortKey::Name,
            SortKey::Code,
            SortKey::Updated,
            SortKey::Created,
            SortKey::LastFollowup,
        ][q.sort],
        desc: q.desc,
        offset: q.offset,
        limit: q.limit,
        ..Default::default()
    }
}

fn ids(p: &kehu::customer_list::Page<kehu::customer_list::CustomerRow>) -> Vec<String> {
    p.rows.iter().map(|r| r.id.clone()).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(40))]

    #[test]
    fn the_index_gives_the_same_pages_as_sql(
        specs in proptest::collection::vec(spec(), 0..25),
        queries in proptest::collection::vec(query(), 1..12),
        edits in proptest::collection::vec((0..25usize, 1..4i64), 0..4),
    ) {
        let mut e = env();
        let owners: Vec<String> = ["王磊", "李娜"]
            .iter()
            .map(|n| {
                members::add(&mut e.ws, MemberFields { name: n.to_string(), employee_no: None, department: None, role: Role::Rep })
                    .unwrap()
                    .id
            })
            .collect();
        let mut ids_made = vec![];
        for s in &specs {
            let mut fields = CustomerFields::named(NAMES[s.name]);
            fields.status = Status::ALL[s.status];
            fields.grade = s.grade.map(|g| Grade::ALL[g]);
            fields.owner_id = s.owner.map(|o| owners[o].clone());
            fields.industry = s.industry.map(|i| INDUSTRIES[i].into());
            fields.city = Some(CITIES[s.city].into());
            let c = customers::create(&mut e.ws, NewCustomer {
                fields,
                contacts: vec![],
                tags: s.tag.map(|t| format!("标签{t}")).into_iter().collect(),
            }).unwrap();
            e.ws.write("test", |w| {
                w.tx().execute(
                    "UPDATE customers SET created_at = ?2, updated_at = ?3, last_followup_at = ?4 WHERE id = ?1",
                    rusqlite::params![c.id, s.created, s.updated, s.last_followup],
                )?;
                Ok(())
            }).unwrap();
            if s.deleted {
                customers::delete(&mut e.ws, std::slice::from_ref(&c.id)).unwrap();
            }
            ids_made.push(c.id);
        }
        let check = |ws: &kehu::Workspace, q: &Query| {
            let cq = to_query(q, &owners);
            let fast = page(ws, &cq).unwrap();
            let sql = list(ws.conn(), &cq).unwrap();
            prop_assert_eq!(fast.total, sql.total, "{:?}", cq);
            prop_assert_eq!(ids(&fast), ids(&sql), "{:?}", cq);
            Ok(())
        };
        for q in &queries {
            check(&e.ws, q)?;
        }
        // Edits after the index was loaded show up on the next page.
        for (i, updated) in &edits {
            if let Some(id) = ids_made.get(*i) {
                e.ws.write("test", |w| {
                    w.tx().execute("UPDATE customers SET updated_at = ?2 WHERE id = ?1", rusqlite::params![id, updated])?;
                    Ok(())
                }).unwrap();
                for q in &queries {
                    check(&e.ws, q)?;
                }
            }
        }
    }
}

#[test]
fn a_customer_added_by_another_process_appears_on_the_next_page() {
    let mut e = env();
    add(&mut e.ws, "杭州甲公司", vec![], &[]);
    assert_eq!(page(&e.ws, &CustomerQuery::default()).unwrap().total, 1);
    let mut other = kehu::Workspace::open(e.dir.path().join("kehu.db")).unwrap();
    add(&mut other, "杭州乙公司", vec![], &[]);
    let now = page(&e.ws, &CustomerQuery::default()).unwrap();
    assert_eq!(now.total, 2);
    assert_eq!(
        now.rows[0].name, "杭州乙公司",
        "most recently updated first"
    );
}

#[test]
fn a_deleted_customer_leaves_the_list_and_a_restored_one_returns() {
    let mut e = env();
    let a = add(&mut e.ws, "杭州甲公司", vec![], &[]);
    add(&mut e.ws, "杭州乙公司", vec![], &[]);
    assert_eq!(page(&e.ws, &CustomerQuery::default()).unwrap().total, 2);
    customers::delete(&mut e.ws, std::slice::from_ref(&a.id)).unwrap();
    let shown = page(&e.ws, &CustomerQuery::default()).unwrap();
    assert_eq!(shown.total, 1);
    assert_ne!(shown.rows[0].id, a.id);
    customers::restore(&mut e.ws, std::slice::from_ref(&a.id)).unwrap();
    assert_eq!(page(&e.ws, &CustomerQuery::default()).unwrap().total, 2);
}
