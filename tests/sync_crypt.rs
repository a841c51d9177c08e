//! Team sync with end-to-end encryption: with a team passphrase the shared
//! place holds only ciphertext, a wrong passphrase is refused up front, and
//! devices with the same passphrase converge without asking for it again.

mod common;

use common::{add, contact, T0};
use kehu::clock::FixedClock;
use kehu::customers;
use kehu::sync::{self, SyncReport};
use kehu::{Error, Workspace};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

const PASS: &str = "云杉 team passphrase 2026";
const NAME: &str = "杭州云杉科技有限公司";
const PHONE: &str = "13800138000";

struct Device {
    dir: tempfile::TempDir,
    ws: Workspace,
    clock: FixedClock,
}

fn device(skew_ms: i64) -> Device {
    let dir = tempfile::tempdir().unwrap();
    let clock = FixedClock::new(T0 + skew_ms);
    let ws =
        Workspace::open_with_clock(dir.path().join("kehu.db"), Arc::new(clock.clone())).unwrap();
    Device { dir, ws, clock }
}

fn id_of(ws: &Workspace, name: &str) -> String {
    ws.conn()
        .query_row("SELECT id FROM customers WHERE name = ?1", [name], |r| {
            r.get(0)
        })
        .unwrap()
}

fn db_path(d: &Device) -> PathBuf {
    d.dir.path().join("kehu.db")
}

/// Reopen a device's workspace, as after a restart of the app.
fn reopen(d: &mut Device) {
    d.ws = Workspace::open_with_clock(db_path(d), Arc::new(d.clock.clone())).unwrap();
}

fn sync_now(d: &mut Device) -> SyncReport {
    d.clock.advance(1_000);
    sync::sync_now(&mut d.ws).unwrap()
}

fn team(pass: Option<&str>) -> (tempfile::TempDir, Device, Device) {
    let shared = tempfile::tempdir().unwrap();
    let mut a = device(0);
    let mut b = device(7);
    sync::init_with(&mut a.ws, shared.path(), Some("销售一组"), pass).unwrap();
    sync::join_with(&mut b.ws, shared.path(), None, pass).unwrap();
    (shared, a, b)
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        if e.path().is_dir() {
            files(&e.path(), out);
        } else {
            out.push(e.path());
        }
    }
}

/// Does `needle` occur anywhere in the bytes of a file — raw, or inside a
/// zstd or deflate stream starting at any offset (what anyone with the
/// zstd or zlib tools could read)?
fn leaks(bytes: &[u8], needle: &[u8]) -> bool {
    let has = |hay: &[u8]| hay.windows(needle.len()).any(|w| w == needle);
    if has(bytes) {
        return true;
    }
    (0..bytes.len()).any(|i| {
        let mut out = vec![];
        if bytes[i..].starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            if let Ok(d) = zstd::stream::read::Decoder::new(&bytes[i..]) {
                let _ = d.take(1 << 20).read_to_end(&mut out);
            }
        } else {
            let _ = flate2::read::DeflateDecoder::new(&bytes[i..])
                .take(1 << 20)
                .read_to_end(&mut out);
        }
        has(&out)
    })
}

/// Which of the needles some file under `dir` shows.
fn scan(dir: &Path, needles: &[&str]) -> Vec<String> {
    let mut all = vec![];
    files(dir, &mut all);
    assert!(!all.is_empty());
    let mut found = vec![];
    for n in needles {
        for f in &all {
            if leaks(&std::fs::read(f).unwrap(), n.as_bytes()) {
                found.push(format!("{n} in {}", f.display()));
            }
        }
    }
    found
}

fn share_one_customer(pass: Option<&str>) -> (tempfile::TempDir, Device, Device) {
    let (shared, mut a, mut b) = team(pass);
    let c = add(&mut a.ws, NAME, vec![contact("王芳", PHONE)], &["重点"]);
    assert!(sync_now(&mut a).sent >= 4);
    let r = sync_now(&mut b);
    assert_eq!(r.skipped_files, 0, "{r:?}");
    let there = customers::get(b.ws.conn(), &c.id).unwrap();
    assert_eq!(there.fields.name, NAME);
    assert_eq!(there.contacts[0].fields.mobile.as_deref(), Some(PHONE));
    (shared, a, b)
}

#[test]
fn with_a_passphrase_the_shared_folder_shows_no_customer_name_or_phone_and_without_one_it_does() {
    let (plain, _, _) = share_one_customer(None);
    let found = scan(plain.path(), &[NAME, PHONE, "王芳", "销售一组"]);
    assert_eq!(found.len(), 4, "the scan reads plain files: {found:?}");

    let (sealed, _, _) = share_one_customer(Some(PASS));
    let found = scan(sealed.path(), &[NAME, PHONE, "王芳", "云杉", "销售一组"]);
    assert!(
        found.is_empty(),
        "plain text in the shared folder: {found:?}"
    );
    // Every file but team.json is sealed.
    let mut all = vec![];
    files(sealed.path(), &mut all);
    for f in all.iter().filter(|f| !f.ends_with("team.json")) {
        let b = std::fs::read(f).unwrap();
        assert!(b.starts_with(b"KEHU-SYNC-E 1\n"), "{}", f.display());
    }
}

#[test]
fn a_wrong_passphrase_on_join_is_refused_up_front_with_a_clear_message() {
    let shared = tempfile::tempdir().unwrap();
    let mut a = device(0);
    sync::init_with(&mut a.ws, shared.path(), None, Some(PASS)).unwrap();
    let mut b = device(7);
    let before = std::fs::read_dir(shared.path().join("kehu-sync"))
        .unwrap()
        .count();
    match sync::join_with(&mut b.ws, shared.path(), None, Some("not the passphrase")) {
        Err(Error::Validation { field, zh, en }) => {
            assert_eq!(field, "passphrase");
            assert!(zh.contains("团队口令不正确"), "{zh}");
            assert!(en.contains("Wrong team passphrase"), "{en}");
        }
        other => panic!("expected a validation error, got {other:?}"),
    }
    // Nothing of B was written or configured.
    assert!(sync::config(b.ws.conn()).unwrap().is_none());
    let mut all = vec![];
    files(shared.path(), &mut all);
    assert!(all
        .iter()
        .all(|f| !f.to_string_lossy().contains(b.ws.device_id())));
    assert_eq!(
        std::fs::read_dir(shared.path().join("kehu-sync"))
            .unwrap()
            .count(),
        before
    );
    // No passphrase at all: told that one is needed.
    match sync::join(&mut b.ws, shared.path(), None) {
        Err(Error::Validation { zh, en, .. }) => {
            assert!(zh.contains("请输入团队口令"), "{zh}");
            assert!(en.contains("encrypted"), "{en}");
        }
        other => panic!("expected a validation error, got {other:?}"),
    }
    // A passphrase that is too short cannot start a team.
    let mut c = device(9);
    let other = tempfile::tempdir().unwrap();
    assert!(matches!(
        sync::init_with(&mut c.ws, other.path(), None, Some("short")),
        Err(Error::Validation { .. })
    ));
}

#[test]
fn two_devices_with_the_same_passphrase_converge_and_later_rounds_need_no_passphrase() {
    let (_shared, mut a, mut b) = share_one_customer(Some(PASS));
    // Restart both apps: the key comes from the keyring / key file.
    reopen(&mut a);
    reopen(&mut b);
    let id = id_of(&b.ws, NAME);
    customers::update(
        &mut b.ws,
        &id,
        &common::patch(&[("city", serde_json::json!("杭州"))]),
    )
    .unwrap();
    add(&mut a.ws, "乙公司", vec![], &[]);
    for _ in 0..3 {
        sync_now(&mut a);
        sync_now(&mut b);
    }
    let names = |ws: &Workspace| -> Vec<(String, Option<String>)> {
        ws.conn()
            .prepare("SELECT name, city FROM customers ORDER BY name")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    assert_eq!(names(&a.ws), names(&b.ws));
    assert_eq!(names(&a.ws).len(), 2);
    assert!(names(&a.ws).contains(&(NAME.into(), Some("杭州".into()))));
    let st = sync::status(&b.ws).unwrap();
    assert!(st.encrypted);
    // Neither the passphrase nor the key is in the database file.
    let key_file = kehu::sync::secrets::file_path(&b.ws).unwrap();
    let path = db_path(&b);
    drop(b.ws);
    let db = std::fs::read(path).unwrap();
    let has = |n: &[u8]| db.windows(n.len()).any(|w| w == n);
    assert!(!has(PASS.as_bytes()));
    assert!(!has(b"passphrase 2026"));
    if st.key_store.as_deref() == Some("file") {
        let text = std::fs::read_to_string(&key_file).unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        let key = v["sync_team_key"].as_str().unwrap();
        assert_eq!(key.len(), 64);
        assert!(!has(key.as_bytes()), "the key is not in the database");
        assert!(!text.contains(PASS));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "key file readable by others");
        }
    } else {
        assert_eq!(st.key_store.as_deref(), Some("keyring"));
    }
}

#[test]
fn a_tampered_or_unencrypted_file_in_an_encrypted_team_is_skipped_and_reported() {
    let (shared, mut a, mut b) = team(Some(PASS));
    add(&mut a.ws, NAME, vec![], &[]);
    sync_now(&mut a);
    let mut all = vec![];
    files(shared.path(), &mut all);
    let seg = all
        .iter()
        .find(|f| f.extension().is_some_and(|e| e == "kseg"))
        .unwrap()
        .clone();
    let good = std::fs::read(&seg).unwrap();
    let mut bad = good.clone();
    let n = bad.len();
    bad[n - 20] ^= 1;
    std::fs::write(&seg, &bad).unwrap();
    let r = sync_now(&mut b);
    assert_eq!((r.skipped_files, r.applied), (1, 0), "{r:?}");
    assert!(r.problems.iter().any(|p| p.contains("altered")), "{r:?}");
    // A plain (unencrypted) file put there by someone without the key.
    let (plain_shared, mut p, _) = team(None);
    add(&mut p.ws, "冒充公司", vec![], &[]);
    sync_now(&mut p);
    let mut plain = vec![];
    files(plain_shared.path(), &mut plain);
    let plain_seg = plain
        .iter()
        .find(|f| f.extension().is_some_and(|e| e == "kseg"))
        .unwrap();
    std::fs::copy(plain_seg, &seg).unwrap();
    let r = sync_now(&mut b);
    assert_eq!((r.skipped_files, r.applied), (1, 0), "{r:?}");
    assert!(r.problems.iter().any(|p| p.contains("not encrypted")));
    // The real file again: it applies.
    std::fs::write(&seg, &good).unwrap();
    let r = sync_now(&mut b);
    assert_eq!((r.skipped_files, r.applied), (0, 1), "{r:?}");
}

#[test]
fn an_encrypted_bundle_opens_in_the_team_and_outside_it_only_with_the_passphrase() {
    let (shared, mut a, mut b) = share_one_customer(Some(PASS));
    add(&mut a.ws, "乙公司", vec![], &[]);
    let file = shared.path().join("bundle.kehu");
    let n = sync::export_bundle(&mut a.ws, &file).unwrap();
    assert!(n >= 5);
    assert!(scan(shared.path(), &[NAME, PHONE, "乙公司"]).is_empty());
    // In the team: the stored key opens it.
    let r = sync::import_bundle(&mut b.ws, &file).unwrap();
    assert_eq!(r.applied, 1, "{r:?}");
    // Outside the team: refused without the passphrase, wrong one named.
    let mut usb = device(3);
    let e = sync::import_bundle(&mut usb.ws, &file).unwrap_err();
    assert!(e.to_string().contains("encrypted"), "{e}");
    let e = sync::import_bundle_with(&mut usb.ws, &file, Some("nope nope nope")).unwrap_err();
    assert!(e.to_string().contains("Wrong team passphrase"), "{e}");
    let r = sync::import_bundle_with(&mut usb.ws, &file, Some(PASS)).unwrap();
    assert_eq!(r.applied, n);
    assert_eq!(
        customers::get(usb.ws.conn(), &id_of(&usb.ws, NAME))
            .unwrap()
            .contacts[0]
            .fields
            .mobile
            .as_deref(),
        Some(PHONE)
    );
}

#[test]
fn the_cli_starts_and_joins_an_encrypted_team_with_a_passphrase_from_the_environment() {
    use assert_cmd::Command;
    let dir = tempfile::tempdir().unwrap();
    let shared = dir.path().join("shared");
    std::fs::create_dir(&shared).unwrap();
    let kehu = |db: &str, pass: &str, args: &[&str]| {
        Command::cargo_bin("kehu")
            .unwrap()
            .env("KEHU_DB", dir.path().join(db))
            .env("TEAM_PASS", pass)
            .args(args)
            .output()
            .unwrap()
    };
    let folder = shared.to_str().unwrap();
    let pe = ["--passphrase-env", "TEAM_PASS"];
    let ok = |o: std::process::Output| {
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8(o.stdout).unwrap()
    };
    ok(kehu(
        "a.db",
        PASS,
        &[&["sync", "init", "--folder", folder][..], &pe].concat(),
    ));
    let wrong = kehu(
        "b.db",
        "wrong pass!",
        &[&["sync", "join", "--folder", folder][..], &pe].concat(),
    );
    assert!(!wrong.status.success());
    let err = String::from_utf8_lossy(&wrong.stderr);
    assert!(
        err.contains("团队口令不正确") || err.contains("Wrong team passphrase"),
        "{err}"
    );
    ok(kehu(
        "b.db",
        PASS,
        &[&["sync", "join", "--folder", folder][..], &pe].concat(),
    ));
    ok(kehu("a.db", "", &["customer", "add", "--name", NAME]));
    ok(kehu("a.db", "", &["sync", "now"]));
    // Later rounds need no passphrase.
    let got: serde_json::Value =
        serde_json::from_str(&ok(kehu("b.db", "", &["sync", "now", "--json"]))).unwrap();
    assert_eq!(got["applied"], 1);
    let st: serde_json::Value =
        serde_json::from_str(&ok(kehu("b.db", "", &["sync", "status", "--json"]))).unwrap();
    assert_eq!(st["encrypted"], true);
    assert!(scan(&shared, &[NAME]).is_empty());
}
