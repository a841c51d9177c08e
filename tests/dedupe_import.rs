//! Matching incoming records (import rows) against existing customers: the
//! per-row search-index lookup and the one-pass blocking strategy agree.

mod common;

use common::*;
use kehu::dedupe::{match_incoming_with, IncomingMatch, Record};

fn best(m: &Option<IncomingMatch>) -> Option<(String, u32)> {
    match m {
        Some(IncomingMatch::Existing { name, score, .. }) => {
            Some((name.clone(), (score * 1000.0).round() as u32))
        }
        _ => None,
    }
}

#[test]
fn lookup_and_blocking_find_the_same_existing_customers() {
    let mut e = env();
    kehu::demo::generate(&mut e.ws, 400, 7).unwrap();
    let existing: Vec<(String, String, String)> = e
        .ws
        .conn()
        .prepare("SELECT name, coalesce(province, ''), coalesce(city, '') FROM customers ORDER BY code LIMIT 60")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    // Short forms of existing names, and names nobody has.
    let mut incoming: Vec<Record> = existing
        .iter()
        .map(|(name, p, c)| Record {
            name: name
                .trim_end_matches("股份有限公司")
                .trim_end_matches("有限责任公司")
                .trim_end_matches("有限公司")
                .to_string(),
            region: format!("{p}{c}"),
            ..Default::default()
        })
        .collect();
    for n in [
        "宁波远洋渔业有限公司",
        "乌鲁木齐天山雪莲酒业有限公司",
        "拉萨高原氧吧科技有限公司",
    ] {
        incoming.push(Record {
            name: n.into(),
            ..Default::default()
        });
    }
    let by_lookup = match_incoming_with(e.ws.conn(), &incoming, true).unwrap();
    let by_blocking = match_incoming_with(e.ws.conn(), &incoming, false).unwrap();
    let a: Vec<_> = by_lookup.iter().map(best).collect();
    let b: Vec<_> = by_blocking.iter().map(best).collect();
    let found = a.iter().filter(|m| m.is_some()).count();
    assert!(found >= 50, "short forms are found: {found} of 60");
    // Same best score for every record (ties may pick another customer of
    // the same name, so compare scores and names).
    assert_eq!(a, b);
}
