//! The database file itself: migrations, refusal of newer schemas and
//! damaged files, the change log's clock, and backups.
mod common;

use common::*;
use kehu::error::Code;
use kehu::{backup, Workspace};

#[test]
fn an_empty_file_is_migrated_to_the_current_schema() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("new.db");
    std::fs::write(&path, b"").unwrap();
    let ws = Workspace::open(&path).unwrap();
    let v: i64 = ws
        .conn()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(v, kehu::db::schema_version());
    let mode: String = ws
        .conn()
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let fk: i64 = ws
        .conn()
        .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
        .unwrap();
    assert_eq!(fk, 1);
}

#[test]
fn reopening_keeps_the_device_id() {
    let e = env();
    let path = e.dir.path().join("kehu.db");
    let id = e.ws.device_id().to_string();
    drop(e.ws);
    assert_eq!(Workspace::open(&path).unwrap().device_id(), id);
}

#[test]
fn a_database_from_a_newer_schema_is_refused_and_left_untouched() {
    let e = env();
    let path = e.dir.path().join("kehu.db");
    e.ws.conn()
        .execute_batch("PRAGMA user_version = 999")
        .unwrap();
    drop(e.ws);
    let before = std::fs::read(&path).unwrap();
    let err = Workspace::open(&path).err().unwrap();
    assert_eq!(err.code(), Code::NewerSchema);
    assert!(err.message(kehu::Lang::Zh).contains("升级"));
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[test]
fn a_file_that_is_not_a_database_is_reported_as_damaged() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kehu.db");
    std::fs::write(&path, "这不是数据库".repeat(200)).unwrap();
    let err = Workspace::open(&path).err().unwrap();
    assert_eq!(err.code(), Code::Corrupt);
    assert!(err.message(kehu::Lang::Zh).contains("备份"));
}

#[test]
fn change_log_stamps_strictly_increase_even_when_the_clock_steps_back() {
    let mut e = env();
    add(&mut e.ws, "甲", vec![], &[]);
    e.clock.advance(-3_600_000);
    add(&mut e.ws, "乙", vec![], &[]);
    let stamps: Vec<i64> =
        e.ws.conn()
            .prepare("SELECT hlc FROM changes ORDER BY seq")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
    assert!(stamps.len() >= 2);
    assert!(stamps.windows(2).all(|w| w[0] < w[1]), "{stamps:?}");
    let device: String =
        e.ws.conn()
            .query_row("SELECT DISTINCT device_id FROM changes", [], |r| r.get(0))
            .unwrap();
    assert_eq!(device, e.ws.device_id());
}

#[test]
fn a_failed_write_leaves_no_change_log_entries() {
    let mut e = env();
    let c = add(&mut e.ws, "甲", vec![], &[]);
    let before: i64 =
        e.ws.conn()
            .query_row("SELECT count(*) FROM changes", [], |r| r.get(0))
            .unwrap();
    let res: kehu::Result<()> = e.ws.write("test", |w| {
        w.log("customer", &c.id, "notes", None, Some("x".into()))?;
        Err(kehu::Error::validation("x", "失败", "fail"))
    });
    assert!(res.is_err());
    let after: i64 =
        e.ws.conn()
            .query_row("SELECT count(*) FROM changes", [], |r| r.get(0))
            .unwrap();
    assert_eq!(before, after);
}

#[test]
fn a_backup_restores_the_state_it_was_taken_in() {
    let mut e = env();
    let keep = add(
        &mut e.ws,
        "留下的客户",
        vec![contact("张三", "13800138000")],
        &["重点"],
    );
    let b = backup::backup_now(&e.ws).unwrap();
    add(&mut e.ws, "备份后新增", vec![], &[]);
    kehu::customers::delete(&mut e.ws, std::slice::from_ref(&keep.id)).unwrap();
    backup::restore(&mut e.ws, std::path::Path::new(&b.path)).unwrap();
    let all = kehu::customer_list::list(e.ws.conn(), &Default::default()).unwrap();
    assert_eq!(
        all.rows.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(),
        vec!["留下的客户"]
    );
    assert_eq!(
        kehu::search::search_ids(e.ws.conn(), "zs", 5).unwrap(),
        vec![keep.id]
    );
    // The state before the restore was itself backed up.
    assert_eq!(backup::list(&e.ws).unwrap().len(), 2);
}

#[test]
fn a_daily_backup_is_made_once_a_day_and_seven_are_kept() {
    let e = env();
    assert!(backup::auto_backup(&e.ws).unwrap().is_some());
    e.clock.advance(3_600_000);
    assert!(
        backup::auto_backup(&e.ws).unwrap().is_none(),
        "not twice in a day"
    );
    for _ in 0..9 {
        e.clock.advance(86_400_000);
        assert!(backup::auto_backup(&e.ws).unwrap().is_some());
    }
    assert_eq!(backup::list(&e.ws).unwrap().len(), backup::KEEP);
}

#[test]
fn a_damaged_database_is_replaced_by_a_backup_and_kept_aside() {
    let mut e = env();
    add(&mut e.ws, "腾云科技", vec![], &[]);
    let b = backup::backup_now(&e.ws).unwrap();
    let path = e.dir.path().join("kehu.db");
    drop(e.ws);
    std::fs::write(&path, "garbage".repeat(1000)).unwrap();
    assert_eq!(Workspace::open(&path).err().unwrap().code(), Code::Corrupt);
    backup::restore_path(&path, std::path::Path::new(&b.path)).unwrap();
    let ws = Workspace::open(&path).unwrap();
    assert_eq!(
        kehu::customer_list::list(ws.conn(), &Default::default())
            .unwrap()
            .total,
        1
    );
    let kept = std::fs::read_dir(e.dir.path())
        .unwrap()
        .filter(|f| {
            f.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .contains("damaged")
        })
        .count();
    assert_eq!(kept, 1);
}

#[test]
fn a_damaged_backup_is_refused() {
    let mut e = env();
    let bad = e.dir.path().join("bad.db");
    std::fs::write(&bad, "garbage".repeat(1000)).unwrap();
    assert!(backup::restore(&mut e.ws, &bad).is_err());
}

#[test]
fn a_bulk_load_into_an_empty_workspace_ends_with_every_index_and_a_working_list() {
    let dir = tempfile::tempdir().unwrap();
    let fresh = kehu::Workspace::open(dir.path().join("fresh.db")).unwrap();
    let mut ws = kehu::Workspace::open(dir.path().join("bulk.db")).unwrap();
    // Enough customers for the load to build the list indexes at the end.
    kehu::demo::generate(&mut ws, 3_000, 3).unwrap();
    assert_eq!(index_definitions(&ws), index_definitions(&fresh));
    assert_eq!(integrity(&ws), "ok");
    let q = kehu::customer_list::CustomerQuery {
        status: vec![kehu::customers::Status::Interested],
        ..Default::default()
    };
    let page = kehu::customer_list::list(ws.conn(), &q).unwrap();
    let interested: i64 = ws
        .conn()
        .query_row(
            "SELECT count(*) FROM customers WHERE status = 'interested' AND deleted_at IS NULL",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(page.total as i64, interested);
}
