//! The merge history the Duplicates page lists (newest first, with names),
//! from which a merge is undone.

use kehu::clock::FixedClock;
use kehu::customers::{self, CustomerFields, NewCustomer};
use kehu::dedupe;
use kehu::Workspace;
use std::collections::BTreeMap;
use std::sync::Arc;

fn workspace() -> (tempfile::TempDir, Arc<FixedClock>, Workspace) {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(FixedClock::new(1_764_000_000_000));
    let ws = Workspace::open_with_clock(dir.path().join("k.db"), clock.clone()).unwrap();
    (dir, clock, ws)
}

fn add(ws: &mut Workspace, name: &str) -> String {
    customers::create(
        ws,
        NewCustomer {
            fields: CustomerFields::named(name),
            ..Default::default()
        },
    )
    .unwrap()
    .id
}

#[test]
fn a_merge_is_listed_with_the_names_of_master_and_merged_and_unmerge_marks_it_undone() {
    let (_d, clock, mut ws) = workspace();
    let full = add(&mut ws, "深圳市腾云科技有限公司");
    let short = add(&mut ws, "腾云科技");
    let other = add(&mut ws, "杭州银行股份有限公司");
    let other2 = add(&mut ws, "杭州银行");
    assert!(dedupe::merge_history(ws.conn(), 10).unwrap().is_empty());

    let first = dedupe::merge(
        &mut ws,
        &full,
        std::slice::from_ref(&short),
        &BTreeMap::new(),
    )
    .unwrap();
    clock.advance(60_000);
    let second = dedupe::merge(
        &mut ws,
        &other,
        std::slice::from_ref(&other2),
        &BTreeMap::new(),
    )
    .unwrap();

    let h = dedupe::merge_history(ws.conn(), 10).unwrap();
    assert_eq!(h.len(), 2);
    assert_eq!(h[0].id, second.merge_id, "newest first");
    assert_eq!(h[1].id, first.merge_id);
    assert_eq!(h[1].master_id, full);
    assert_eq!(h[1].master_name, "深圳市腾云科技有限公司");
    assert_eq!(h[1].others, vec![short.clone()]);
    assert_eq!(h[1].other_names, vec!["腾云科技".to_string()]);
    assert!(h.iter().all(|m| m.undone_at.is_none()));

    dedupe::unmerge(&mut ws, &first.merge_id).unwrap();
    let h = dedupe::merge_history(ws.conn(), 10).unwrap();
    assert!(h[1].undone_at.is_some(), "the undone merge says so");
    assert!(h[0].undone_at.is_none());
    assert_eq!(
        dedupe::merge_history(ws.conn(), 1).unwrap().len(),
        1,
        "the limit holds"
    );
}
