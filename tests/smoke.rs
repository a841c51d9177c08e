use kehu::clock::FixedClock;
use kehu::contacts::ContactFields;
use kehu::customer_list::{self, CustomerQuery};
use kehu::customers::{self, CustomerFields, NewCustomer};
use std::sync::Arc;

#[test]
fn smoke() {
    let dir = tempfile::tempdir().unwrap();
    let mut ws = kehu::Workspace::open_with_clock(
        dir.path().join("k.db"),
        Arc::new(FixedClock::new(1_764_000_000_000)),
    )
    .unwrap();
    let c = customers::create(
        &mut ws,
        NewCustomer {
            fields: CustomerFields::named("深圳市腾云科技有限公司"),
            contacts: vec![ContactFields {
                name: "张三".into(),
                mobile: Some("+86 138-0013-8000".into()),
                ..Default::default()
            }],
            tags: vec!["大客户".into()],
        },
    )
    .unwrap();
    println!("{c:#?}");
    for q in [
        "zhang",
        "zs",
        "张三",
        "138 0013",
        "腾云",
        "tengyun",
        &c.code[..6],
        "大客户",
    ] {
        let rows = customer_list::list(
            ws.conn(),
            &CustomerQuery {
                text: Some(q.into()),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(rows.total, 1, "{q}");
    }
    kehu::demo::generate(&mut ws, 300, 1).unwrap();
    let p = customer_list::list(ws.conn(), &CustomerQuery::default()).unwrap();
    println!("{} {:?}", p.total, p.rows[0]);
}
