//! Team sync through a shared folder: several workspaces (separate database
//! files) exchange change-log segments and end in the same state.

mod common;

use common::{add, contact, index_definitions, integrity, patch, T0};
use kehu::clock::FixedClock;
use kehu::customers;
use kehu::sync::{self, SyncReport};
use kehu::Workspace;
use proptest::prelude::*;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::sync::Arc;

struct Device {
    _dir: tempfile::TempDir,
    ws: Workspace,
    clock: FixedClock,
}

fn device(skew_ms: i64) -> Device {
    let dir = tempfile::tempdir().unwrap();
    let clock = FixedClock::new(T0 + skew_ms);
    let ws =
        Workspace::open_with_clock(dir.path().join("kehu.db"), Arc::new(clock.clone())).unwrap();
    Device {
        _dir: dir,
        ws,
        clock,
    }
}

/// A shared folder and `n` devices in one team (the first one started it).
fn team(n: usize) -> (tempfile::TempDir, Vec<Device>) {
    let shared = tempfile::tempdir().unwrap();
    let mut devs: Vec<Device> = (0..n).map(|i| device(i as i64 * 7)).collect();
    sync::init(&mut devs[0].ws, shared.path(), Some("销售一组")).unwrap();
    for d in devs.iter_mut().skip(1) {
        sync::join(&mut d.ws, shared.path(), None).unwrap();
    }
    (shared, devs)
}

fn sync_now(d: &mut Device) -> SyncReport {
    d.clock.advance(1_000);
    sync::sync_now(&mut d.ws).unwrap()
}

/// Sync every device until a whole round moves nothing.
fn settle(devs: &mut [Device]) {
    for _ in 0..12 {
        let mut moved = 0;
        for d in devs.iter_mut() {
            let r = sync_now(d);
            moved += r.sent + r.applied;
        }
        if moved == 0 {
            return;
        }
    }
    panic!("sync did not settle");
}

/// The rows of a query as JSON arrays, for comparing databases.
fn rows(conn: &rusqlite::Connection, sql: &str) -> Vec<Value> {
    let mut stmt = conn.prepare(sql).unwrap();
    let n = stmt.column_count();
    stmt.query_map([], |r| {
        Ok(Value::Array(
            (0..n)
                .map(|i| match r.get_ref(i).unwrap() {
                    rusqlite::types::ValueRef::Null => Value::Null,
                    rusqlite::types::ValueRef::Integer(x) => json!(x),
                    rusqlite::types::ValueRef::Real(x) => json!(x),
                    rusqlite::types::ValueRef::Text(t) => json!(String::from_utf8_lossy(t)),
                    rusqlite::types::ValueRef::Blob(_) => json!("blob"),
                })
                .collect(),
        ))
    })
    .unwrap()
    .collect::<Result<_, _>>()
    .unwrap()
}

/// Everything a person can see, in a canonical order.
fn dump(ws: &Workspace) -> Value {
    let conn = ws.conn();
    let q = |sql: &str| rows(conn, sql);
    json!({
        "customers": q("SELECT id, code, name, kind, industry, city, status, grade, owner_id, notes, budget,
                        created_at, deleted_at FROM customers ORDER BY id"),
        "contacts": q("SELECT ct.id, ct.customer_id, ct.name, ct.mobile, ct.is_primary, ct.notes, ct.deleted_at
                       FROM contacts ct JOIN customers c ON c.id = ct.customer_id ORDER BY ct.id"),
        "tags": q("SELECT id, name, color, deleted_at FROM tags ORDER BY id"),
        "customer_tags": q("SELECT ct.customer_id, ct.tag_id FROM customer_tags ct
                            JOIN customers c ON c.id = ct.customer_id JOIN tags t ON t.id = ct.tag_id
                            ORDER BY 1, 2"),
        "members": q("SELECT id, name, role, deleted_at FROM members ORDER BY id"),
    })
}

fn segments(shared: &Path) -> Vec<PathBuf> {
    let mut out = vec![];
    for team in std::fs::read_dir(shared.join("kehu-sync"))
        .unwrap()
        .flatten()
    {
        let Ok(devs) = std::fs::read_dir(team.path().join("devices")) else {
            continue;
        };
        for d in devs.flatten() {
            for f in std::fs::read_dir(d.path()).unwrap().flatten() {
                if f.path().extension().is_some_and(|e| e == "kseg") {
                    out.push(f.path());
                }
            }
        }
    }
    out.sort();
    out
}

#[test]
fn a_customer_created_on_one_device_appears_on_the_other_with_contacts_tags_and_search() {
    let (_shared, mut d) = team(2);
    let c = add(
        &mut d[0].ws,
        "杭州云杉科技有限公司",
        vec![contact("王芳", "13800138000")],
        &["重点"],
    );
    let sent = sync_now(&mut d[0]);
    assert!(sent.sent >= 4, "{sent:?}");
    let got = sync_now(&mut d[1]);
    assert_eq!(got.applied, sent.sent);
    assert_eq!(got.skipped_files, 0);
    let there = customers::get(d[1].ws.conn(), &c.id).unwrap();
    assert_eq!(there.code, c.code);
    assert_eq!(there.fields.name, "杭州云杉科技有限公司");
    assert_eq!(
        there.contacts[0].fields.mobile.as_deref(),
        Some("13800138000")
    );
    assert_eq!(there.tags[0].name, "重点");
    let hits = kehu::search::search_ids(d[1].ws.conn(), "云杉", 10).unwrap();
    assert_eq!(hits.len(), 1, "the search document is built on arrival");
    // History on B shows where the change came from.
    let h = customers::history(d[1].ws.conn(), &c.id).unwrap();
    assert!(h.iter().all(|e| e.origin == "sync"));
    assert_eq!(dump(&d[0].ws), dump(&d[1].ws));
}

#[test]
fn a_device_that_receives_a_whole_team_at_once_ends_equal_with_every_index() {
    let (_shared, mut devs) = team(2);
    // Enough entries (customer, contact, tag link: 3 each) for the empty
    // device to build its list indexes after the merge, not row by row.
    for i in 0..800 {
        let c = add(
            &mut devs[0].ws,
            &format!("批量客户{i}有限公司"),
            vec![contact("张伟", &format!("138{i:08}"))],
            &[["重点", "老客户"][i % 2]],
        );
        if i % 3 == 0 {
            customers::update(
                &mut devs[0].ws,
                &c.id,
                &patch(&[("status", json!("interested"))]),
            )
            .unwrap();
        }
    }
    // Demo customers were created in the past: that time travels too.
    kehu::demo::generate(&mut devs[0].ws, 50, 5).unwrap();
    settle(&mut devs);
    assert_eq!(dump(&devs[0].ws), dump(&devs[1].ws));
    let fresh = device(0);
    assert_eq!(index_definitions(&devs[1].ws), index_definitions(&fresh.ws));
    assert_eq!(integrity(&devs[1].ws), "ok");
    let q = kehu::customer_list::CustomerQuery {
        status: vec![customers::Status::Interested],
        ..Default::default()
    };
    let a = kehu::customer_list::list(devs[0].ws.conn(), &q).unwrap();
    let b = kehu::customer_list::list(devs[1].ws.conn(), &q).unwrap();
    assert_eq!(a.total, b.total);
    assert_eq!(
        a.rows.iter().map(|r| &r.id).collect::<Vec<_>>(),
        b.rows.iter().map(|r| &r.id).collect::<Vec<_>>()
    );
}

#[test]
fn syncing_again_with_nothing_new_applies_nothing() {
    let (_shared, mut d) = team(2);
    add(&mut d[0].ws, "甲公司", vec![], &[]);
    settle(&mut d);
    let before = dump(&d[1].ws);
    let r = sync_now(&mut d[1]);
    assert_eq!((r.sent, r.received, r.applied), (0, 0, 0));
    assert_eq!(dump(&d[1].ws), before);
}

#[test]
fn concurrent_edits_of_one_field_pick_the_same_winner_everywhere_and_keep_the_other_as_a_conflict()
{
    let (_shared, mut d) = team(2);
    let c = add(&mut d[0].ws, "甲公司", vec![], &[]);
    settle(&mut d);
    d[0].clock.advance(10);
    customers::update(&mut d[0].ws, &c.id, &patch(&[("city", json!("杭州"))])).unwrap();
    d[1].clock.advance(20);
    customers::update(&mut d[1].ws, &c.id, &patch(&[("city", json!("宁波"))])).unwrap();
    settle(&mut d);
    let a = customers::get(d[0].ws.conn(), &c.id).unwrap();
    let b = customers::get(d[1].ws.conn(), &c.id).unwrap();
    assert_eq!(a.fields.city, b.fields.city);
    assert_eq!(dump(&d[0].ws), dump(&d[1].ws));
    for dev in &d {
        let list = sync::conflicts(dev.ws.conn(), true).unwrap();
        assert_eq!(list.len(), 1, "{list:?}");
        let k = &list[0];
        assert_eq!(k.field, "city");
        assert_eq!(k.customer_id.as_deref(), Some(c.id.as_str()));
        assert_eq!(k.kept_value, Some(json!(a.fields.city.clone().unwrap())));
        let other = if a.fields.city.as_deref() == Some("杭州") {
            "宁波"
        } else {
            "杭州"
        };
        assert_eq!(k.other_value, Some(json!(other)));
    }
    // Taking the other value is a new change that wins everywhere.
    let id = sync::conflicts(d[0].ws.conn(), true).unwrap()[0].id;
    let loser = sync::conflicts(d[0].ws.conn(), true).unwrap()[0]
        .other_value
        .clone();
    sync::take(&mut d[0].ws, id).unwrap();
    assert!(sync::conflicts(d[0].ws.conn(), true).unwrap().is_empty());
    settle(&mut d);
    for dev in &d {
        let c = customers::get(dev.ws.conn(), &c.id).unwrap();
        assert_eq!(c.fields.city.map(Value::from), loser);
    }
    assert_eq!(dump(&d[0].ws), dump(&d[1].ws));
}

#[test]
fn an_edit_made_after_seeing_the_other_is_not_a_conflict() {
    let (_shared, mut d) = team(2);
    let c = add(&mut d[0].ws, "甲公司", vec![], &[]);
    settle(&mut d);
    customers::update(&mut d[0].ws, &c.id, &patch(&[("city", json!("杭州"))])).unwrap();
    settle(&mut d);
    d[1].clock.advance(5);
    customers::update(&mut d[1].ws, &c.id, &patch(&[("city", json!("宁波"))])).unwrap();
    settle(&mut d);
    for dev in &d {
        assert!(sync::conflicts(dev.ws.conn(), true).unwrap().is_empty());
        assert_eq!(
            customers::get(dev.ws.conn(), &c.id)
                .unwrap()
                .fields
                .city
                .as_deref(),
            Some("宁波")
        );
    }
}

#[test]
fn a_delete_and_a_concurrent_edit_both_apply_and_the_customer_stays_in_the_trash() {
    let (_shared, mut d) = team(2);
    let c = add(&mut d[0].ws, "甲公司", vec![], &[]);
    settle(&mut d);
    customers::delete(&mut d[0].ws, std::slice::from_ref(&c.id)).unwrap();
    d[1].clock.advance(50);
    customers::update(&mut d[1].ws, &c.id, &patch(&[("notes", json!("下周拜访"))])).unwrap();
    settle(&mut d);
    for dev in &d {
        let x = customers::get(dev.ws.conn(), &c.id).unwrap();
        assert!(x.deleted_at.is_some(), "still in the trash");
        assert_eq!(
            x.fields.notes.as_deref(),
            Some("下周拜访"),
            "the edit is not lost"
        );
    }
    assert_eq!(dump(&d[0].ws), dump(&d[1].ws));
    // Restore is the same field and syncs the same way.
    customers::restore(&mut d[1].ws, std::slice::from_ref(&c.id)).unwrap();
    settle(&mut d);
    assert!(customers::get(d[0].ws.conn(), &c.id)
        .unwrap()
        .deleted_at
        .is_none());
}

#[test]
fn two_devices_that_used_the_same_code_end_with_unique_codes_and_the_later_one_is_renumbered() {
    let (_shared, mut d) = team(2);
    let a = add(&mut d[0].ws, "甲公司", vec![], &[]);
    d[1].clock.advance(100);
    let b = add(&mut d[1].ws, "乙公司", vec![], &[]);
    assert_eq!(
        a.code, b.code,
        "both devices took the first code of the day"
    );
    settle(&mut d);
    for dev in &d {
        let ca = customers::get(dev.ws.conn(), &a.id).unwrap();
        let cb = customers::get(dev.ws.conn(), &b.id).unwrap();
        assert_eq!(ca.code, a.code, "the earlier customer keeps its code");
        assert_ne!(cb.code, a.code);
        assert!(
            cb.code.chars().skip(1).all(|c| c.is_ascii_digit()),
            "renumbered to a real code: {}",
            cb.code
        );
        // The renumbering is in the customer's history.
        let h = customers::history(dev.ws.conn(), &b.id).unwrap();
        assert!(h.iter().any(|e| e.field == "code"));
    }
    assert_eq!(dump(&d[0].ws), dump(&d[1].ws));
}

#[test]
fn damaged_incomplete_and_conflict_copy_files_are_skipped_and_reported_and_a_repaired_file_applies()
{
    let (shared, mut d) = team(2);
    add(&mut d[0].ws, "甲公司", vec![], &[]);
    sync_now(&mut d[0]);
    let seg = segments(shared.path()).pop().unwrap();
    let good = std::fs::read(&seg).unwrap();
    // A conflict copy beside it is never read.
    let copy = seg.with_file_name(format!(
        "{} (conflicted copy 2026-11-26).kseg",
        seg.file_stem().unwrap().to_string_lossy()
    ));
    std::fs::write(&copy, b"garbage").unwrap();
    let sync_copy = seg.with_file_name("x.sync-conflict-20261126-101010-ABCDEFG.kseg");
    std::fs::write(&sync_copy, b"garbage").unwrap();
    for (what, bytes) in [
        ("zero-length", vec![]),
        ("truncated", good[..good.len() / 2].to_vec()),
        ("bit-flipped", {
            let mut b = good.clone();
            let i = b.len() - 40;
            b[i] ^= 0x10;
            b
        }),
    ] {
        std::fs::write(&seg, &bytes).unwrap();
        let r = sync_now(&mut d[1]);
        assert_eq!(r.skipped_files, 1, "{what}: {r:?}");
        assert_eq!(r.applied, 0, "{what}");
        assert!(!r.problems.is_empty());
        let st = sync::status(&d[1].ws).unwrap();
        assert_eq!(st.quarantined.len(), 1, "{what}");
        assert_eq!(
            customers::get(d[1].ws.conn(), "甲公司").ok().map(|c| c.id),
            None
        );
    }
    // The whole file arrives later (the sync engine finished): it applies.
    std::fs::write(&seg, &good).unwrap();
    let r = sync_now(&mut d[1]);
    assert_eq!((r.skipped_files, r.applied), (0, 1), "{r:?}");
    assert!(sync::status(&d[1].ws).unwrap().quarantined.is_empty());
    assert_eq!(dump(&d[0].ws), dump(&d[1].ws));
}

#[test]
fn a_file_from_a_newer_kehu_asks_to_update_kehu() {
    let (shared, mut d) = team(2);
    add(&mut d[0].ws, "甲公司", vec![], &[]);
    sync_now(&mut d[0]);
    let seg = segments(shared.path()).pop().unwrap();
    let mut bytes = std::fs::read(&seg).unwrap();
    assert_eq!(&bytes[..11], b"KEHU-SYNC 2");
    bytes[10] = b'7';
    std::fs::write(&seg, &bytes).unwrap();
    let r = sync_now(&mut d[1]);
    assert_eq!(r.skipped_files, 1);
    assert!(
        r.problems
            .iter()
            .any(|p| p.contains("请升级 Kehu") && p.contains("update Kehu")),
        "{r:?}"
    );
    let e = sync::import_bundle(&mut d[1].ws, &seg).unwrap_err();
    assert_eq!(e.code(), kehu::error::Code::Sync);
    assert!(e.message(kehu::Lang::Zh).contains("请升级 Kehu"));
}

#[test]
fn a_missing_shared_folder_is_a_clear_message_and_local_work_goes_on() {
    let shared = tempfile::tempdir().unwrap();
    let mut a = device(0);
    sync::init(&mut a.ws, &shared.path().join("nas"), None).unwrap_err();
    let gone = shared.path().join("usb");
    std::fs::create_dir(&gone).unwrap();
    sync::init(&mut a.ws, &gone, None).unwrap();
    std::fs::remove_dir_all(&gone).unwrap();
    add(&mut a.ws, "甲公司", vec![], &[]);
    let e = sync::sync_now(&mut a.ws).unwrap_err();
    assert_eq!(e.code(), kehu::error::Code::Sync);
    assert!(e.message(kehu::Lang::Zh).contains("找不到共享文件夹"));
    assert!(e.message(kehu::Lang::En).contains("Local changes are kept"));
    add(&mut a.ws, "乙公司", vec![], &[]);
    assert_eq!(sync::status(&a.ws).unwrap().pending, 2);
}

#[cfg(unix)]
#[test]
fn a_read_only_shared_folder_still_receives_and_reports_that_it_cannot_send() {
    use std::os::unix::fs::PermissionsExt;
    let (shared, mut d) = team(2);
    add(&mut d[0].ws, "甲公司", vec![], &[]);
    sync_now(&mut d[0]);
    sync_now(&mut d[1]);
    add(&mut d[1].ws, "乙公司", vec![], &[]);
    let mine = shared
        .path()
        .join("kehu-sync")
        .join(sync::config(d[1].ws.conn()).unwrap().unwrap().team_id)
        .join("devices")
        .join(d[1].ws.device_id());
    std::fs::set_permissions(&mine, std::fs::Permissions::from_mode(0o555)).unwrap();
    if std::fs::write(mine.join("probe"), b"x").is_ok() {
        return; // running as root: permissions do not apply
    }
    customers::update(&mut d[0].ws, "甲公司", &patch(&[("city", json!("杭州"))])).unwrap();
    sync_now(&mut d[0]);
    let r = sync_now(&mut d[1]);
    assert_eq!(r.sent, 0);
    assert_eq!(r.applied, 1, "receiving goes on");
    assert!(
        r.problems.iter().any(|p| p.contains("无法写入共享文件夹")),
        "{r:?}"
    );
    std::fs::set_permissions(&mine, std::fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(sync_now(&mut d[1]).sent, 2);
}

#[test]
fn a_bundle_carries_every_change_to_a_device_without_the_shared_folder() {
    let (shared, mut d) = team(2);
    add(
        &mut d[0].ws,
        "甲公司",
        vec![contact("张伟", "13900139000")],
        &["展会"],
    );
    settle(&mut d);
    add(&mut d[1].ws, "乙公司", vec![], &[]);
    let file = shared.path().join("bundle.kehu");
    let n = sync::export_bundle(&mut d[1].ws, &file).unwrap();
    assert!(n >= 5);
    let mut usb = device(3);
    let r = sync::import_bundle(&mut usb.ws, &file).unwrap();
    assert_eq!(r.applied, n);
    assert_eq!(dump(&usb.ws), dump(&d[1].ws));
    // Importing again changes nothing.
    let r = sync::import_bundle(&mut usb.ws, &file).unwrap();
    assert_eq!(r.applied, 0);
}

// ---- Convergence under any delivery schedule -------------------------------

#[derive(Debug, Clone)]
enum Op {
    Create {
        dev: usize,
        name: usize,
        tag: Option<usize>,
    },
    Edit {
        dev: usize,
        pick: usize,
        field: usize,
        value: usize,
    },
    Delete {
        dev: usize,
        pick: usize,
    },
    Restore {
        dev: usize,
        pick: usize,
    },
    Tag {
        dev: usize,
        pick: usize,
        tag: usize,
    },
    Untag {
        dev: usize,
        pick: usize,
        tag: usize,
    },
    AddContact {
        dev: usize,
        pick: usize,
        name: usize,
    },
    EditContact {
        dev: usize,
        pick: usize,
        value: usize,
    },
    RemoveContact {
        dev: usize,
        pick: usize,
    },
    Send {
        dev: usize,
    },
    Deliver {
        dev: usize,
        files: Vec<usize>,
    },
    Tick {
        dev: usize,
        ms: i64,
    },
    AddMember {
        dev: usize,
        name: usize,
    },
    Assign {
        dev: usize,
        pick: usize,
        member: usize,
    },
    RenameTag {
        dev: usize,
        tag: usize,
        to: usize,
    },
    DeleteTag {
        dev: usize,
        tag: usize,
    },
    Purge {
        dev: usize,
        pick: usize,
    },
    PlanFollowup {
        dev: usize,
        pick: usize,
        hours: i64,
    },
    CompleteFollowup {
        dev: usize,
        pick: usize,
    },
    DeleteFollowup {
        dev: usize,
        pick: usize,
    },
    AddOpportunity {
        dev: usize,
        pick: usize,
    },
    MoveOpportunity {
        dev: usize,
        pick: usize,
        stage: usize,
    },
    Pay {
        dev: usize,
        pick: usize,
    },
}

const NAMES: &[&str] = &["甲公司", "乙公司", "丙工厂", "丁贸易", "戊科技"];
const TAGS: &[&str] = &["重点", "展会", "VIP"];
const FIELDS: &[(&str, &[&str])] = &[
    ("name", &["华东电子", "华南电子", "北方机械"]),
    ("status", &["prospect", "interested", "won", "lost"]),
    ("grade", &["A", "B", "C", ""]),
    ("city", &["杭州", "宁波", ""]),
    ("notes", &["已报价", "待回访", ""]),
];

fn op(n: usize) -> impl Strategy<Value = Op> {
    let d = 0..n;
    prop_oneof![
        3 => (d.clone(), 0..NAMES.len(), proptest::option::of(0..TAGS.len()))
            .prop_map(|(dev, name, tag)| Op::Create { dev, name, tag }),
        4 => (d.clone(), 0..8usize, 0..FIELDS.len(), 0..4usize)
            .prop_map(|(dev, pick, field, value)| Op::Edit { dev, pick, field, value }),
        1 => (d.clone(), 0..8usize).prop_map(|(dev, pick)| Op::Delete { dev, pick }),
        1 => (d.clone(), 0..8usize).prop_map(|(dev, pick)| Op::Restore { dev, pick }),
        2 => (d.clone(), 0..8usize, 0..TAGS.len()).prop_map(|(dev, pick, tag)| Op::Tag { dev, pick, tag }),
        1 => (d.clone(), 0..8usize, 0..TAGS.len()).prop_map(|(dev, pick, tag)| Op::Untag { dev, pick, tag }),
        1 => (d.clone(), 0..8usize, 0..3usize).prop_map(|(dev, pick, name)| Op::AddContact { dev, pick, name }),
        1 => (d.clone(), 0..8usize, 0..3usize).prop_map(|(dev, pick, value)| Op::EditContact { dev, pick, value }),
        1 => (d.clone(), 0..8usize).prop_map(|(dev, pick)| Op::RemoveContact { dev, pick }),
        3 => d.clone().prop_map(|dev| Op::Send { dev }),
        3 => (d.clone(), proptest::collection::vec(0..32usize, 0..6)).prop_map(|(dev, files)| Op::Deliver { dev, files }),
        1 => (d.clone(), 0..3usize).prop_map(|(dev, name)| Op::AddMember { dev, name }),
        1 => (d.clone(), 0..8usize, 0..4usize).prop_map(|(dev, pick, member)| Op::Assign { dev, pick, member }),
        1 => (d.clone(), 0..TAGS.len(), 0..TAGS.len() + 1).prop_map(|(dev, tag, to)| Op::RenameTag { dev, tag, to }),
        1 => (d.clone(), 0..TAGS.len()).prop_map(|(dev, tag)| Op::DeleteTag { dev, tag }),
        1 => (d.clone(), 0..8usize).prop_map(|(dev, pick)| Op::Purge { dev, pick }),
        2 => (d.clone(), 0..8usize, 1..48i64).prop_map(|(dev, pick, hours)| Op::PlanFollowup { dev, pick, hours }),
        1 => (d.clone(), 0..8usize).prop_map(|(dev, pick)| Op::CompleteFollowup { dev, pick }),
        1 => (d.clone(), 0..8usize).prop_map(|(dev, pick)| Op::DeleteFollowup { dev, pick }),
        1 => (d.clone(), 0..8usize).prop_map(|(dev, pick)| Op::AddOpportunity { dev, pick }),
        1 => (d.clone(), 0..8usize, 0..7usize).prop_map(|(dev, pick, stage)| Op::MoveOpportunity { dev, pick, stage }),
        1 => (d.clone(), 0..8usize).prop_map(|(dev, pick)| Op::Pay { dev, pick }),
        2 => (d, 0..3i64).prop_map(|(dev, ms)| Op::Tick { dev, ms }),
    ]
}

fn pick(ws: &Workspace, sql: &str, i: usize) -> Option<String> {
    let ids: Vec<String> = ws
        .conn()
        .prepare(sql)
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    (!ids.is_empty()).then(|| ids[i % ids.len()].clone())
}

fn run(devs: &mut [Device], shared: &Path, op: &Op) {
    let customer = |ws: &Workspace, i| pick(ws, "SELECT id FROM customers ORDER BY id", i);
    match op.clone() {
        Op::Create { dev, name, tag } => {
            let tags: Vec<&str> = tag.map(|t| TAGS[t]).into_iter().collect();
            add(&mut devs[dev].ws, NAMES[name], vec![], &tags);
        }
        Op::Edit {
            dev,
            pick: p,
            field,
            value,
        } => {
            if let Some(id) = customer(&devs[dev].ws, p) {
                let (f, vals) = FIELDS[field];
                let _ = customers::update(
                    &mut devs[dev].ws,
                    &id,
                    &patch(&[(f, json!(vals[value % vals.len()]))]),
                );
            }
        }
        Op::Delete { dev, pick: p } => {
            if let Some(id) = customer(&devs[dev].ws, p) {
                customers::delete(&mut devs[dev].ws, &[id]).unwrap();
            }
        }
        // Follow-ups and deals may be refused (a customer in the trash, a
        // finished deal): only what was accepted has to converge.
        Op::PlanFollowup {
            dev,
            pick: p,
            hours,
        } => {
            if let Some(id) = customer(&devs[dev].ws, p) {
                let at = devs[dev].ws.now_ms() + hours * 3_600_000;
                let _ = kehu::followups::add(
                    &mut devs[dev].ws,
                    kehu::followups::NewFollowup {
                        customer: id,
                        planned_at: Some(at),
                        ..Default::default()
                    },
                );
            }
        }
        Op::CompleteFollowup { dev, pick: p } => {
            let sql = "SELECT id FROM followups WHERE status = 'planned' ORDER BY id";
            if let Some(id) = pick(&devs[dev].ws, sql, p) {
                let _ = kehu::followups::complete(&mut devs[dev].ws, &id, Default::default());
            }
        }
        Op::DeleteFollowup { dev, pick: p } => {
            if let Some(id) = pick(&devs[dev].ws, "SELECT id FROM followups ORDER BY id", p) {
                let _ = kehu::followups::set_deleted(&mut devs[dev].ws, &id, true);
            }
        }
        Op::AddOpportunity { dev, pick: p } => {
            if let Some(id) = customer(&devs[dev].ws, p) {
                let _ = kehu::opportunities::create(
                    &mut devs[dev].ws,
                    kehu::opportunities::NewOpportunity {
                        customer: id,
                        fields: kehu::opportunities::OpportunityFields {
                            name: "采购项目".into(),
                            expected_amount: Some(100_000.0),
                            ..Default::default()
                        },
                        stage: None,
                    },
                );
            }
        }
        Op::MoveOpportunity {
            dev,
            pick: p,
            stage,
        } => {
            if let Some(id) = pick(&devs[dev].ws, "SELECT id FROM opportunities ORDER BY id", p) {
                let stages = kehu::pipeline::stages(devs[dev].ws.conn()).unwrap();
                let key = stages[stage % stages.len()].key.clone();
                let _ = kehu::opportunities::set_stage(&mut devs[dev].ws, &id, &key, Some("价格"));
            }
        }
        Op::Pay { dev, pick: p } => {
            if let Some(id) = pick(&devs[dev].ws, "SELECT id FROM opportunities ORDER BY id", p) {
                let _ = kehu::opportunities::receive(&mut devs[dev].ws, &id, 10_000.0, None, None);
            }
        }
        Op::Restore { dev, pick: p } => {
            if let Some(id) = customer(&devs[dev].ws, p) {
                customers::restore(&mut devs[dev].ws, &[id]).unwrap();
            }
        }
        Op::Tag { dev, pick: p, tag } | Op::Untag { dev, pick: p, tag } => {
            if let Some(id) = customer(&devs[dev].ws, p) {
                let remove = matches!(op, Op::Untag { .. });
                let _ = kehu::tags::apply_to_customers(&mut devs[dev].ws, TAGS[tag], &[id], remove);
            }
        }
        Op::AddContact { dev, pick: p, name } => {
            if let Some(id) = customer(&devs[dev].ws, p) {
                let _ = kehu::contacts::add(
                    &mut devs[dev].ws,
                    &id,
                    contact(["王芳", "李娜", "张伟"][name], "13800138000"),
                );
            }
        }
        Op::EditContact {
            dev,
            pick: p,
            value,
        } => {
            let sql = "SELECT id FROM contacts WHERE deleted_at IS NULL ORDER BY id";
            if let Some(id) = pick(&devs[dev].ws, sql, p) {
                let v = ["13900139000", "", "0571-88886666"][value];
                let _ = kehu::contacts::update(
                    &mut devs[dev].ws,
                    &id,
                    &patch(&[("mobile", json!(v)), ("is_primary", json!(value == 0))]),
                );
            }
        }
        Op::RemoveContact { dev, pick: p } => {
            let sql = "SELECT id FROM contacts WHERE deleted_at IS NULL ORDER BY id";
            if let Some(id) = pick(&devs[dev].ws, sql, p) {
                let _ = kehu::contacts::remove(&mut devs[dev].ws, &id);
            }
        }
        Op::Send { dev } => {
            sync::send(&mut devs[dev].ws).unwrap();
        }
        Op::Deliver { dev, files } => {
            let all = segments(shared);
            if all.is_empty() {
                return;
            }
            let chosen: Vec<PathBuf> = files.iter().map(|i| all[i % all.len()].clone()).collect();
            let mut r = SyncReport::default();
            sync::receive_files(&mut devs[dev].ws, &chosen, &mut r).unwrap();
        }
        Op::Tick { dev, ms } => devs[dev].clock.advance(ms),
        Op::RenameTag { dev, tag, to } => {
            let to = if to == TAGS.len() {
                "新标签"
            } else {
                TAGS[to]
            };
            let _ = kehu::tags::edit(&mut devs[dev].ws, TAGS[tag], Some(to), None);
        }
        Op::DeleteTag { dev, tag } => {
            let _ = kehu::tags::delete(&mut devs[dev].ws, TAGS[tag]);
        }
        Op::Purge { dev, pick: p } => {
            let sql = "SELECT id FROM customers WHERE deleted_at IS NOT NULL ORDER BY id";
            if let Some(id) = pick(&devs[dev].ws, sql, p) {
                customers::purge(&mut devs[dev].ws, &[id]).unwrap();
            }
        }
        Op::AddMember { dev, name } => {
            let f = kehu::members::MemberFields {
                name: ["张三", "李四", "王五"][name].into(),
                ..Default::default()
            };
            kehu::members::add(&mut devs[dev].ws, f).unwrap();
        }
        Op::Assign {
            dev,
            pick: p,
            member,
        } => {
            let m = pick(
                &devs[dev].ws,
                "SELECT id FROM members WHERE deleted_at IS NULL ORDER BY id",
                member,
            );
            if let (Some(id), Some(m)) = (customer(&devs[dev].ws, p), m) {
                let _ = customers::assign_owner(&mut devs[dev].ws, &[id], Some(&m));
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(40),
        ..ProptestConfig::default()
    })]

    /// Whatever the operations and however the files travel (any order,
    /// duplicates, subsets, repeated rounds), once everything is delivered
    /// every device holds the same customers, contacts, tags and links.
    #[test]
    fn every_device_converges_to_the_same_state(
        n in 2usize..=4,
        ops in proptest::collection::vec(op(4), 1..60),
    ) {
        let (shared, mut devs) = team(n);
        for (i, o) in ops.iter().enumerate() {
            // Half way, one device writes a snapshot of what it holds.
            if i == ops.len() / 2 {
                sync::write_snapshot(&mut devs[0].ws).unwrap();
            }
            let o = retarget(o, n);
            run(&mut devs, shared.path(), &o);
        }
        settle(&mut devs);
        // A device joining now starts from that snapshot and the segments
        // after it, and must end like those that replayed everything.
        let mut newcomer = device(3);
        sync::join(&mut newcomer.ws, shared.path(), None).unwrap();
        devs.push(newcomer);
        settle(&mut devs);
        let first = dump(&devs[0].ws);
        let activity = dump_activity(&devs[0].ws);
        for d in &devs[1..] {
            prop_assert_eq!(&dump(&d.ws), &first);
            prop_assert_eq!(&dump_activity(&d.ws), &activity);
        }
        // Codes are unique and real (no stand-ins left once settled).
        let codes = first["customers"].as_array().unwrap().iter().map(|c| c[1].as_str().unwrap().to_string()).collect::<Vec<_>>();
        prop_assert!(codes.iter().all(|c| c.chars().skip(1).all(|x| x.is_ascii_digit())), "{:?}", codes);
    }
}

fn retarget(o: &Op, n: usize) -> Op {
    let mut o = o.clone();
    match &mut o {
        Op::Create { dev, .. }
        | Op::Edit { dev, .. }
        | Op::Delete { dev, .. }
        | Op::Restore { dev, .. }
        | Op::Tag { dev, .. }
        | Op::Untag { dev, .. }
        | Op::AddContact { dev, .. }
        | Op::EditContact { dev, .. }
        | Op::RemoveContact { dev, .. }
        | Op::Send { dev }
        | Op::Deliver { dev, .. }
        | Op::Tick { dev, .. }
        | Op::AddMember { dev, .. }
        | Op::Assign { dev, .. }
        | Op::RenameTag { dev, .. }
        | Op::DeleteTag { dev, .. }
        | Op::Purge { dev, .. }
        | Op::PlanFollowup { dev, .. }
        | Op::CompleteFollowup { dev, .. }
        | Op::DeleteFollowup { dev, .. }
        | Op::AddOpportunity { dev, .. }
        | Op::MoveOpportunity { dev, .. }
        | Op::Pay { dev, .. } => *dev %= n,
    }
    o
}

#[test]
fn the_cli_syncs_two_workspaces_and_reports_in_json() {
    use assert_cmd::Command;
    let dir = tempfile::tempdir().unwrap();
    let shared = dir.path().join("shared");
    std::fs::create_dir(&shared).unwrap();
    let kehu = |db: &str, args: &[&str]| {
        let out = Command::cargo_bin("kehu")
            .unwrap()
            .env("KEHU_DB", dir.path().join(db))
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let folder = shared.to_str().unwrap();
    kehu("a.db", &["sync", "init", "--folder", folder]);
    kehu("b.db", &["sync", "join", "--folder", folder]);
    kehu("a.db", &["customer", "add", "--name", "杭州云杉科技"]);
    let sent: Value = serde_json::from_str(&kehu("a.db", &["sync", "now", "--json"])).unwrap();
    assert_eq!(sent["sent"], 1);
    let got: Value = serde_json::from_str(&kehu("b.db", &["sync", "now", "--json"])).unwrap();
    for key in ["sent", "received", "applied", "conflicts", "skipped_files"] {
        assert!(got[key].is_number(), "{key} in {got}");
    }
    assert_eq!(got["applied"], 1);
    let list: Value = serde_json::from_str(&kehu("b.db", &["customer", "list", "--json"])).unwrap();
    assert!(list.to_string().contains("杭州云杉科技"));
    let st: Value = serde_json::from_str(&kehu("b.db", &["sync", "status", "--json"])).unwrap();
    assert_eq!(st["configured"], true);
    assert_eq!(st["peers"].as_array().unwrap().len(), 1);
    let c: Value = serde_json::from_str(&kehu("b.db", &["conflicts", "list", "--json"])).unwrap();
    assert_eq!(c, json!([]));
    let bundle = dir.path().join("b.kehu");
    kehu(
        "b.db",
        &["sync", "export", "--out", bundle.to_str().unwrap()],
    );
    let r: Value = serde_json::from_str(&kehu(
        "c.db",
        &["sync", "import", bundle.to_str().unwrap(), "--json"],
    ))
    .unwrap();
    assert_eq!(r["applied"], 1);
}

#[test]
fn a_device_whose_clock_runs_days_ahead_is_warned_about_and_does_not_win_forever() {
    let (_shared, mut d) = team(2);
    let c = add(&mut d[0].ws, "甲公司", vec![], &[]);
    settle(&mut d);
    // B's clock is three days ahead; its edit is stamped in the future.
    d[1].clock.advance(3 * 86_400_000);
    customers::update(&mut d[1].ws, &c.id, &patch(&[("city", json!("宁波"))])).unwrap();
    sync_now(&mut d[1]);
    let r = sync_now(&mut d[0]);
    assert!(
        r.problems
            .iter()
            .any(|p| p.contains("时钟") && p.contains("clock")),
        "{r:?}"
    );
    // A's next edit, made after seeing B's, wins although A's wall clock is
    // three days behind B's stamp.
    customers::update(&mut d[0].ws, &c.id, &patch(&[("city", json!("杭州"))])).unwrap();
    settle(&mut d);
    for dev in &d {
        assert_eq!(
            customers::get(dev.ws.conn(), &c.id)
                .unwrap()
                .fields
                .city
                .as_deref(),
            Some("杭州")
        );
    }
    // A clock that steps back does not reorder A's own changes either.
    d[0].clock.advance(-10 * 86_400_000);
    customers::update(&mut d[0].ws, &c.id, &patch(&[("city", json!("温州"))])).unwrap();
    settle(&mut d);
    for dev in &d {
        assert_eq!(
            customers::get(dev.ws.conn(), &c.id)
                .unwrap()
                .fields
                .city
                .as_deref(),
            Some("温州")
        );
    }
}

#[test]
fn changes_of_a_kind_this_build_does_not_know_are_kept_and_passed_on() {
    use kehu::sync::segment::{encode, Entry, Section};
    let (shared, mut d) = team(2);
    // A newer Kehu on another device logged a follow-up.
    let e = Entry {
        hlc: (T0 + 5) << 16,
        actor: None,
        entity: "followup_v9".into(),
        entity_id: "f1".into(),
        field: "*".into(),
        old: None,
        new: Some(json!({"customer_id": "x", "summary": "电话沟通"})),
        at: T0 + 5,
        origin: "ui".into(),
        base_hlc: None,
        base_device: None,
    };
    let s = Section {
        device: "newer-device".into(),
        prev_hlc: 0,
        hlc_from: e.hlc,
        hlc_to: e.hlc,
        count: 1,
        entries: vec![e.clone()],
        lines: None,
    };
    let file = shared.path().join("from-newer.kehu");
    std::fs::write(&file, encode("bundle", "newer-device", &[s]).unwrap()).unwrap();
    let r = sync::import_bundle(&mut d[0].ws, &file).unwrap();
    assert_eq!(r.applied, 1);
    // A passes it on to B inside its own bundle.
    let out = shared.path().join("a.kehu");
    sync::export_bundle(&mut d[0].ws, &out).unwrap();
    sync::import_bundle(&mut d[1].ws, &out).unwrap();
    let n: i64 = d[1]
        .ws
        .conn()
        .query_row("SELECT count(*) FROM changes WHERE entity = 'followup_v9' AND device_id = 'newer-device'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 1);
}

/// Follow-ups, postponements, opportunities, their stage history and
/// payments as the other device shows them.
fn dump_activity(ws: &Workspace) -> Value {
    let conn = ws.conn();
    let q = |sql: &str| rows(conn, sql);
    json!({
        "followups": q("SELECT id, customer_id, kind, status, planned_at, remind_at, done_at, content,
                        feedback, next_step, effective, postpone_reason, deleted_at FROM followups ORDER BY id"),
        "postponements": q("SELECT id, followup_id, from_at, to_at, reason FROM followup_postponements ORDER BY id"),
        "opportunities": q("SELECT id, customer_id, name, stage, stage_entered_at, expected_amount,
                            received_amount, loss_reason, deleted_at FROM opportunities ORDER BY id"),
        "stages": q("SELECT id, opportunity_id, stage, entered_at, left_at, reason
                     FROM opportunity_stage_history ORDER BY id"),
        "payments": q("SELECT id, opportunity_id, amount, at, note FROM opportunity_payments ORDER BY id"),
        "customer_dates": q("SELECT id, last_followup_at, next_followup_at FROM customers ORDER BY id"),
    })
}

#[test]
fn follow_ups_and_the_pipeline_reach_the_other_device_with_the_customers_follow_up_dates() {
    use kehu::followups::{self, DoneInput, FollowupFields, Kind, NewFollowup};
    use kehu::opportunities::{self, NewOpportunity, OpportunityFields};
    let (_shared, mut d) = team(2);
    let c = add(
        &mut d[0].ws,
        "杭州云帆科技有限公司",
        vec![contact("张伟", "13800138000")],
        &[],
    );
    let visit = followups::add(
        &mut d[0].ws,
        NewFollowup {
            customer: c.id.clone(),
            fields: FollowupFields {
                kind: Kind::Visit,
                purpose: Some("介绍新品".into()),
                ..Default::default()
            },
            planned_at: Some(T0 + 86_400_000),
            ..Default::default()
        },
    )
    .unwrap();
    followups::postpone(&mut d[0].ws, &visit.id, T0 + 2 * 86_400_000, "客户出差").unwrap();
    let call = followups::add(
        &mut d[0].ws,
        NewFollowup {
            customer: c.id.clone(),
            fields: FollowupFields {
                kind: Kind::Call,
                content: Some("电话沟通报价".into()),
                ..Default::default()
            },
            planned_at: Some(T0 + 3_600_000),
            ..Default::default()
        },
    )
    .unwrap();
    followups::complete(
        &mut d[0].ws,
        &call.id,
        DoneInput {
            feedback: Some("价格过高".into()),
            effective: Some(true),
            ..Default::default()
        },
    )
    .unwrap();
    let opp = opportunities::create(
        &mut d[0].ws,
        NewOpportunity {
            customer: c.id.clone(),
            fields: OpportunityFields {
                name: "办公设备采购项目".into(),
                expected_amount: Some(120_000.0),
                ..Default::default()
            },
            stage: None,
        },
    )
    .unwrap();
    d[0].clock.advance(60_000);
    let stages = kehu::pipeline::stages(d[0].ws.conn()).unwrap();
    opportunities::set_stage(&mut d[0].ws, &opp.id, &stages[2].key, None).unwrap();
    opportunities::receive(&mut d[0].ws, &opp.id, 50_000.0, None, Some("首付款")).unwrap();
    settle(&mut d);
    let a = dump_activity(&d[0].ws);
    let b = dump_activity(&d[1].ws);
    assert_eq!(a, b);
    assert_eq!(a["followups"].as_array().unwrap().len(), 2);
    assert_eq!(a["postponements"].as_array().unwrap().len(), 1);
    assert_eq!(a["stages"].as_array().unwrap().len(), 2);
    assert_eq!(a["payments"].as_array().unwrap().len(), 1);
    let dates = &b["customer_dates"][0];
    assert!(
        dates[1].is_i64() && dates[2].is_i64(),
        "last and next follow-up on B: {dates}"
    );
    // An edit on B comes back to A.
    followups::set_deleted(&mut d[1].ws, &visit.id, true).unwrap();
    settle(&mut d);
    assert_eq!(dump_activity(&d[0].ws), dump_activity(&d[1].ws));
    let next: Option<i64> = d[0]
        .ws
        .conn()
        .query_row(
            "SELECT next_followup_at FROM customers WHERE id = ?1",
            [&c.id],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(next, None, "the only planned visit went to the trash on B");
}

// ---- Snapshots and pruning ---------------------------------------------------

fn snapshots(shared: &Path) -> Vec<PathBuf> {
    let mut out = vec![];
    for team in std::fs::read_dir(shared.join("kehu-sync"))
        .unwrap()
        .flatten()
    {
        for d in std::fs::read_dir(team.path().join("devices"))
            .unwrap()
            .flatten()
        {
            for f in std::fs::read_dir(d.path()).unwrap().flatten() {
                if f.path().extension().is_some_and(|e| e == "ksnap") {
                    out.push(f.path());
                }
            }
        }
    }
    out.sort();
    out
}

/// Two devices with some history: customers, edits on both sides, a delete.
fn busy_team() -> (tempfile::TempDir, Vec<Device>) {
    let (shared, mut d) = team(2);
    let mut ids = vec![];
    for i in 0..12 {
        let c = add(
            &mut d[i % 2].ws,
            &format!("客户{i}号公司"),
            vec![contact("李雷", "13800138000")],
            &["重点"],
        );
        ids.push(c.id);
    }
    settle(&mut d);
    for (i, id) in ids.iter().enumerate() {
        let dev = &mut d[(i + 1) % 2];
        customers::update(
            &mut dev.ws,
            id,
            &patch(&[("notes", json!(format!("第{i}次回访")))]),
        )
        .unwrap();
        customers::update(&mut dev.ws, id, &patch(&[("city", json!("杭州"))])).unwrap();
        // Overwritten values: a snapshot holds only the last of them.
        customers::update(
            &mut dev.ws,
            id,
            &patch(&[("notes", json!(format!("第{i}次报价")))]),
        )
        .unwrap();
    }
    customers::delete(&mut d[0].ws, &[ids[3].clone()]).unwrap();
    settle(&mut d);
    (shared, d)
}

fn log_len(ws: &Workspace) -> i64 {
    ws.conn()
        .query_row("SELECT count(*) FROM changes", [], |r| r.get(0))
        .unwrap()
}

#[test]
fn a_new_device_joins_from_a_snapshot_and_later_segments_and_ends_like_those_that_replayed_everything(
) {
    let (shared, mut d) = busy_team();
    let snap = sync::write_snapshot(&mut d[0].ws).unwrap();
    assert!(snap.is_some());
    // After the snapshot: more changes on both devices, in segments only.
    let late = add(&mut d[1].ws, "后来的客户", vec![], &["展会"]);
    customers::update(&mut d[0].ws, &late.id, &patch(&[("grade", json!("A"))])).ok();
    settle(&mut d);
    customers::update(&mut d[0].ws, &late.id, &patch(&[("grade", json!("A"))])).unwrap();
    settle(&mut d);

    let mut c = device(11);
    sync::join(&mut c.ws, shared.path(), None).unwrap();
    let r = sync_now(&mut c);
    assert_eq!(r.skipped_files, 0, "{r:?}");
    assert_eq!(dump(&c.ws), dump(&d[0].ws));
    assert_eq!(dump_activity(&c.ws), dump_activity(&d[0].ws));
    // It did not replay every entry: the snapshot holds only the winners.
    assert!(
        log_len(&c.ws) < log_len(&d[0].ws),
        "{} vs {}",
        log_len(&c.ws),
        log_len(&d[0].ws)
    );
    // Search works on what arrived through the snapshot.
    assert_eq!(
        kehu::search::search_ids(c.ws.conn(), "客户5号", 10)
            .unwrap()
            .len(),
        1
    );
    // And it goes on syncing like any device.
    d.push(c);
    customers::update(
        &mut d[2].ws,
        &late.id,
        &patch(&[("notes", json!("新设备的修改"))]),
    )
    .unwrap();
    settle(&mut d);
    assert_eq!(dump(&d[0].ws), dump(&d[2].ws));
    assert_eq!(dump(&d[1].ws), dump(&d[2].ws));
}

/// The first device of a team gets only its own entries back until another
/// device edits something; a snapshot that device wrote is read once, not at
/// every round (at 100k customers that read took 1.3 s of an idle round).
#[test]
fn a_snapshot_already_taken_is_not_read_again_at_every_round() {
    let (shared, mut d) = team(1);
    for i in 0..5 {
        add(&mut d[0].ws, &format!("甲{i}公司"), vec![], &[]);
    }
    sync_now(&mut d[0]);
    let mut c = device(3);
    sync::join(&mut c.ws, shared.path(), None).unwrap();
    sync_now(&mut c);
    assert!(sync::write_snapshot(&mut c.ws).unwrap().is_some());
    let theirs = snapshots(shared.path());
    assert_eq!(theirs.len(), 1, "{theirs:?}");

    let first = sync_now(&mut d[0]);
    assert_eq!((first.applied, first.skipped_files), (0, 0), "{first:?}");
    // Damaged now: read again, it would be reported as skipped.
    std::fs::write(&theirs[0], b"not a snapshot any more").unwrap();
    let next = sync_now(&mut d[0]);
    assert_eq!((next.applied, next.skipped_files), (0, 0), "{next:?}");
    assert_eq!(dump(&d[0].ws), dump(&c.ws));
}

#[test]
fn a_truncated_or_corrupt_snapshot_is_skipped_and_the_device_joins_from_the_segments() {
    let (shared, mut d) = busy_team();
    sync::write_snapshot(&mut d[0].ws).unwrap();
    let snap = snapshots(shared.path()).pop().unwrap();
    let good = std::fs::read(&snap).unwrap();
    for (what, bytes) in [
        ("truncated", good[..good.len() / 2].to_vec()),
        ("bit-flipped", {
            let mut b = good.clone();
            let i = b.len() / 2;
            b[i] ^= 0x01;
            b
        }),
    ] {
        std::fs::write(&snap, &bytes).unwrap();
        let mut c = device(5);
        sync::join(&mut c.ws, shared.path(), None).unwrap();
        let r = sync_now(&mut c);
        assert_eq!(r.skipped_files, 1, "{what}: {r:?}");
        assert!(
            r.problems.iter().any(|p| p.contains("ksnap")),
            "{what}: {r:?}"
        );
        assert_eq!(dump(&c.ws), dump(&d[0].ws), "{what}");
        assert_eq!(
            log_len(&c.ws),
            log_len(&d[0].ws),
            "{what}: every entry replayed"
        );
    }
}

/// A snapshot's entries are parsed during the merge. One that passes its
/// checksum yet holds a line that is no entry (not written by Kehu) fails
/// the round as damaged, and what was applied before that line is rolled
/// back with the rest.
#[test]
fn a_snapshot_line_that_is_no_entry_behind_a_valid_checksum_fails_the_round_and_applies_nothing() {
    use sha2::Digest;
    let (shared, mut d) = busy_team();
    sync::write_snapshot(&mut d[0].ws).unwrap();
    let snap = snapshots(shared.path()).pop().unwrap();
    let good = std::fs::read(&snap).unwrap();
    let after = |from: usize| from + good[from..].iter().position(|&b| b == b'\n').unwrap() + 1;
    let body_start = after(after(0));
    let body = zstd::decode_all(&good[body_start..good.len() - 32]).unwrap();
    let mut text = String::from_utf8(body).unwrap();
    let last = text.trim_end().rfind('\n').unwrap() + 1;
    text.truncate(last);
    text.push_str("{\"not\":\"an entry\"}\n");
    let mut bytes = good[..body_start].to_vec();
    bytes.extend(zstd::encode_all(text.as_bytes(), 3).unwrap());
    let sum = sha2::Sha256::digest(&bytes);
    bytes.extend_from_slice(&sum);
    std::fs::write(&snap, &bytes).unwrap();

    let mut c = device(5);
    sync::join(&mut c.ws, shared.path(), None).unwrap();
    c.clock.advance(1_000);
    let err = sync::sync_now(&mut c.ws).unwrap_err();
    assert!(err.to_string().contains("damaged"), "{err}");
    let n: i64 =
        c.ws.conn()
            .query_row("SELECT count(*) FROM customers", [], |r| r.get(0))
            .unwrap();
    assert_eq!(n, 0, "nothing of the snapshot was kept");
    let applied: i64 =
        c.ws.conn()
            .query_row(
                "SELECT count(*) FROM sync_peers WHERE applied_hlc > 0",
                [],
                |r| r.get(0),
            )
            .unwrap();
    assert_eq!(applied, 0);
}

#[test]
fn pruning_removes_only_segments_every_known_device_has_applied_and_a_new_device_still_joins() {
    let (shared, mut d) = team(2);
    for i in 0..3 {
        add(&mut d[0].ws, &format!("甲{i}公司"), vec![], &[]);
        sync_now(&mut d[0]);
    }
    settle(&mut d);
    // Device A: a snapshot at every round, segments kept zero days.
    sync::set_snapshot_settings(&d[0].ws, Some(1), Some(0)).unwrap();
    let own_segments = |shared: &Path, d: &Device| -> Vec<PathBuf> {
        let id = d.ws.device_id().to_string();
        segments(shared)
            .into_iter()
            .filter(|p| p.to_string_lossy().contains(&id))
            .collect()
    };
    let before = own_segments(shared.path(), &d[0]);
    assert!(before.len() >= 3);
    // B is away: A makes more changes and snapshots, but B has not seen them.
    for i in 0..3 {
        add(&mut d[0].ws, &format!("乙{i}公司"), vec![], &[]);
        sync_now(&mut d[0]);
    }
    let unseen: Vec<PathBuf> = own_segments(shared.path(), &d[0])
        .into_iter()
        .filter(|p| !before.contains(p))
        .collect();
    assert_eq!(unseen.len(), 3);
    for p in &unseen {
        assert!(p.exists(), "a segment B has not applied was pruned: {p:?}");
    }
    // B catches up and says so; A then prunes what both have seen and its
    // older snapshot covers, never what B lacks.
    sync_now(&mut d[1]);
    sync_now(&mut d[0]);
    let after = own_segments(shared.path(), &d[0]);
    assert!(
        after.len() < before.len() + unseen.len(),
        "something was pruned: {after:?}"
    );
    assert_eq!(dump(&d[0].ws), dump(&d[1].ws));
    // A new device joins from a snapshot although early segments are gone.
    let mut c = device(9);
    sync::join(&mut c.ws, shared.path(), None).unwrap();
    d.push(c);
    settle(&mut d);
    assert_eq!(dump(&d[2].ws), dump(&d[0].ws));
    assert_eq!(
        d[2].ws
            .conn()
            .query_row("SELECT count(*) FROM customers", [], |r| r.get::<_, i64>(0))
            .unwrap(),
        6
    );
}

fn segment_members(ws: &Workspace, segment: &str) -> Vec<String> {
    ws.conn()
        .prepare(
            "SELECT customer_id FROM customer_segments WHERE segment = ?1 ORDER BY customer_id",
        )
        .unwrap()
        .query_map([segment], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// Segments are derived on each device, not synced: a received customer
/// gets them from the receiving device, at its time; a batch too large to
/// recompute one by one (a join) leaves them to the daily refresh, which
/// then runs again the same day.
#[test]
fn received_customers_get_their_segments_here_and_a_large_batch_asks_for_the_daily_refresh() {
    use kehu::analysis::segments;
    const DAY: i64 = 86_400_000;
    let (_shared, mut d) = team(2);
    let quiet = add(&mut d[0].ws, "沉默科技有限公司", vec![], &[]);
    sync_now(&mut d[0]);
    // The receiving device is two months on: no follow-up since creation.
    d[1].clock.advance(61 * DAY);
    sync_now(&mut d[1]);
    assert_eq!(
        segment_members(&d[1].ws, "churn_risk"),
        vec![quiet.id.clone()]
    );
    assert!(segment_members(&d[0].ws, "churn_risk").is_empty());

    assert!(segments::refresh_daily(&mut d[1].ws).unwrap().is_some());
    assert_eq!(
        segments::refresh_daily(&mut d[1].ws).unwrap(),
        None,
        "once a day"
    );
    // Demo customers were created over the last two years: many are quiet.
    kehu::demo::generate(&mut d[0].ws, 2_100, 9).unwrap();
    sync_now(&mut d[0]);
    sync_now(&mut d[1]);
    let after_batch = segment_members(&d[1].ws, "churn_risk");
    assert_eq!(after_batch, vec![quiet.id.clone()], "left to the refresh");
    let n = segments::refresh_daily(&mut d[1].ws)
        .unwrap()
        .expect("asked for by the batch");
    let churn = segment_members(&d[1].ws, "churn_risk");
    assert!(
        churn.len() > 1000 && n >= churn.len(),
        "{n} {}",
        churn.len()
    );
    assert!(churn.contains(&quiet.id));
}

/// A new device of a team of thousands builds its search index on the side
/// (see `kehu::search::index_customers_begin`): it finds what the team finds,
/// on the joining connection and on another one open beside it.
#[test]
fn a_device_joining_a_team_of_thousands_finds_what_the_team_finds() {
    let (shared, mut d) = team(1);
    kehu::demo::generate(&mut d[0].ws, 2_500, 3).unwrap();
    sync_now(&mut d[0]);
    assert!(sync::write_snapshot(&mut d[0].ws).unwrap().is_some());
    let mut c = device(7);
    // The app's window keeps a connection of its own, which has searched
    // before the join (FTS5 caches an index's structure per connection).
    let window =
        Workspace::open_with_clock(c._dir.path().join("kehu.db"), Arc::new(c.clock.clone()))
            .unwrap();
    assert!(kehu::search::search_ids(window.conn(), "科技", 10)
        .unwrap()
        .is_empty());
    sync::join(&mut c.ws, shared.path(), None).unwrap();
    sync_now(&mut c);

    let names: Vec<String> = d[0]
        .ws
        .conn()
        .prepare("SELECT name FROM customers ORDER BY id LIMIT 150")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for name in names {
        let start: String = name.chars().take(2).collect();
        let (_, initials) = kehu::search::pinyin_forms(&name);
        for q in [name.as_str(), start.as_str(), initials.as_str()] {
            let mut theirs = kehu::search::search_ids(d[0].ws.conn(), q, 5_000).unwrap();
            let mut mine = kehu::search::search_ids(c.ws.conn(), q, 5_000).unwrap();
            let mut windows = kehu::search::search_ids(window.conn(), q, 5_000).unwrap();
            theirs.sort();
            mine.sort();
            windows.sort();
            assert!(!mine.is_empty(), "{q}");
            assert_eq!(mine, theirs, "{q}");
            assert_eq!(windows, theirs, "{q}");
        }
    }
    assert_eq!(integrity(&c.ws), "ok");
    for table in ["customer_fts", "customer_grams"] {
        c.ws.conn()
            .execute(
                &format!("INSERT INTO {table}({table}, rank) VALUES ('integrity-check', 0)"),
                [],
            )
            .unwrap();
    }
}
