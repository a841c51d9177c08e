//! Core functions that exist for the desktop app's views: the filter bar's
//! choices and the backups offered when the database cannot be opened.

use kehu::clock::FixedClock;
use kehu::customer_list;
use kehu::customers::{self, CustomerFields, NewCustomer};
use std::sync::Arc;

fn customer(ws: &mut kehu::Workspace, name: &str, province: &str, industry: &str) -> String {
    let mut f = CustomerFields::named(name);
    f.province = Some(province.into());
    f.industry = Some(industry.into());
    customers::create(
        ws,
        NewCustomer {
            fields: f,
            ..Default::default()
        },
    )
    .unwrap()
    .id
}

#[test]
fn facets_list_each_province_and_industry_of_live_customers_once_sorted() {
    let dir = tempfile::tempdir().unwrap();
    let mut ws = kehu::Workspace::open_with_clock(
        dir.path().join("k.db"),
        Arc::new(FixedClock::new(1_764_000_000_000)),
    )
    .unwrap();
    customer(&mut ws, "甲公司", "浙江省", "制造业");
    customer(&mut ws, "乙公司", "广东省", "制造业");
    let gone = customer(&mut ws, "丙公司", "北京市", "教育");
    customers::delete(&mut ws, &[gone]).unwrap();
    let f = customer_list::facets(ws.conn()).unwrap();
    let mut provinces = vec!["广东省".to_string(), "浙江省".to_string()];
    provinces.sort();
    assert_eq!(f.provinces, provinces);
    assert_eq!(f.industries, vec!["制造业".to_string()]);
}

#[test]
fn backups_of_a_database_that_cannot_be_opened_are_listed_from_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("kehu.db");
    {
        let ws = kehu::Workspace::open(&db).unwrap();
        kehu::backup::backup_now(&ws).unwrap();
    }
    std::fs::write(&db, b"this is not a database at all, it is damaged").unwrap();
    let _ = std::fs::remove_file(dir.path().join("kehu.db-wal"));
    assert!(kehu::Workspace::open(&db).is_err());
    let list = kehu::backup::list_for_db(&db).unwrap();
    assert_eq!(list.len(), 1);
    kehu::backup::restore_path(&db, std::path::Path::new(&list[0].path)).unwrap();
    assert!(kehu::Workspace::open(&db).is_ok());
}
