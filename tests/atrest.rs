//! Encryption of the database at rest (SQLCipher): an encrypted file does
//! not open without its passphrase and holds no customer name in clear; a
//! wrong passphrase is a clear message, never "damaged"; encrypt, rekey and
//! decrypt keep every record and the search index; backups of an encrypted
//! database are encrypted and restore with the passphrase.

mod common;

use common::{add, contact};
use kehu::error::Code;
use kehu::{atrest, backup, search, Lang, Workspace};
use std::path::{Path, PathBuf};

const NAME: &str = "杭州云杉精密仪器有限公司";
const PASS: &str = "西湖 龙井 2026!";

fn file_holds(path: &Path, needle: &str) -> bool {
    let bytes = std::fs::read(path).unwrap();
    bytes.windows(needle.len()).any(|w| w == needle.as_bytes())
}

/// A plain workspace with one customer, closed; its path.
fn plain_db(dir: &Path) -> PathBuf {
    let path = dir.join("kehu.db");
    let mut ws = Workspace::open(&path).unwrap();
    add(
        &mut ws,
        NAME,
        vec![contact("王建国", "13800138000")],
        &["重点"],
    );
    drop(ws);
    path
}

fn names(ws: &Workspace) -> Vec<String> {
    ws.conn()
        .prepare("SELECT name FROM customers")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[test]
fn an_encrypted_database_does_not_open_without_its_passphrase_and_holds_no_name_in_clear() {
    let dir = tempfile::tempdir().unwrap();
    let path = plain_db(dir.path());
    assert!(
        file_holds(&path, NAME),
        "the plain file holds the name (the check can fail)"
    );
    atrest::encrypt(&path, PASS).unwrap();
    assert!(atrest::is_encrypted(&path));
    assert!(!file_holds(&path, NAME), "no customer name in clear");
    assert!(!file_holds(&path, "SQLite format 3"));
    // Another process (no passphrase remembered for it): a plain connection
    // cannot read it.
    let raw = rusqlite::Connection::open(&path).unwrap();
    assert!(raw
        .query_row("SELECT count(*) FROM customers", [], |r| r.get::<_, i64>(0))
        .is_err());
    drop(raw);
    let ws = Workspace::open_encrypted(&path, PASS).unwrap();
    assert_eq!(names(&ws), vec![NAME.to_string()]);
    // The search index (FTS5) came along.
    assert_eq!(search::search_ids(ws.conn(), "云杉", 10).unwrap().len(), 1);
    assert_eq!(
        search::search_ids(ws.conn(), "13800138000", 10)
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn a_wrong_passphrase_is_a_clear_message_not_a_damaged_database() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("new.db");
    // A new database can be created encrypted.
    let mut ws = Workspace::open_encrypted(&path, PASS).unwrap();
    add(&mut ws, NAME, vec![], &[]);
    drop(ws);
    let e = Workspace::open_encrypted(&path, "not it").err().unwrap();
    assert_eq!(e.code(), Code::Passphrase);
    assert!(
        e.message(Lang::Zh).contains("数据库口令不正确"),
        "{}",
        e.message(Lang::Zh)
    );
    assert!(e.message(Lang::En).contains("Wrong database passphrase"));
    // Without any passphrase, in a process that has not unlocked it: asked for.
    let other = dir.path().join("copy.db");
    std::fs::copy(&path, &other).unwrap();
    let e = Workspace::open(&other).err().unwrap();
    assert_eq!(e.code(), Code::Passphrase);
    assert!(
        e.message(Lang::Zh).contains("已加密"),
        "{}",
        e.message(Lang::Zh)
    );
    // A damaged file (zeros, text) is still "damaged", passphrase or not.
    let junk = dir.path().join("junk.db");
    std::fs::write(&junk, vec![0u8; 4096]).unwrap();
    assert_eq!(
        Workspace::open_encrypted(&junk, PASS).err().unwrap().code(),
        Code::Corrupt
    );
    assert_eq!(Workspace::open(&junk).err().unwrap().code(), Code::Corrupt);
    let text = dir.path().join("text.db");
    std::fs::write(&text, "not a database ".repeat(512)).unwrap();
    assert_eq!(Workspace::open(&text).err().unwrap().code(), Code::Corrupt);
    // And a passphrase on a plain database is refused with its own message.
    let plain = plain_db(&dir.path().join("p"));
    let e = Workspace::open_encrypted(&plain, PASS).err().unwrap();
    assert!(e.message(Lang::En).contains("not encrypted"));
}

#[test]
fn rekey_and_decrypt_round_trip_keeps_every_record() {
    let dir = tempfile::tempdir().unwrap();
    let path = plain_db(dir.path());
    atrest::encrypt(&path, PASS).unwrap();
    // Encrypting twice is refused.
    assert!(atrest::encrypt(&path, "again").is_err());
    assert_eq!(
        atrest::rekey(&path, "wrong", "new pass")
            .unwrap_err()
            .code(),
        Code::Passphrase
    );
    atrest::rekey(&path, PASS, "新口令 new").unwrap();
    assert_eq!(
        Workspace::open_encrypted(&path, PASS).err().unwrap().code(),
        Code::Passphrase,
        "the old passphrase no longer opens it"
    );
    {
        let mut ws = Workspace::open_encrypted(&path, "新口令 new").unwrap();
        add(&mut ws, "第二家客户", vec![], &[]);
        assert_eq!(names(&ws).len(), 2);
    }
    atrest::decrypt(&path, "新口令 new").unwrap();
    assert!(atrest::is_plain(&path));
    assert!(file_holds(&path, NAME));
    let ws = Workspace::open(&path).unwrap();
    assert!(!ws.is_encrypted());
    let mut got = names(&ws);
    got.sort();
    let mut want = vec!["第二家客户".to_string(), NAME.to_string()];
    want.sort();
    assert_eq!(got, want);
    assert_eq!(
        search::search_ids(ws.conn(), "第二家", 10).unwrap().len(),
        1
    );
    assert_eq!(
        ws.conn()
            .query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0))
            .unwrap(),
        kehu::db::schema_version()
    );
}

#[test]
fn a_conversion_waits_for_a_job_that_holds_the_file_and_converts_its_backup_too() {
    let dir = tempfile::tempdir().unwrap();
    let path = plain_db(dir.path());
    atrest::encrypt(&path, PASS).unwrap();
    let released = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (holding, held) = std::sync::mpsc::channel();
    let job = {
        let (path, released) = (path.clone(), released.clone());
        // The app's automatic backup: its own connection on the file.
        std::thread::spawn(move || {
            let _file = atrest::hold_file();
            holding.send(()).unwrap();
            let ws = Workspace::open(&path).unwrap();
            backup::auto_backup(&ws).unwrap();
            std::thread::sleep(std::time::Duration::from_millis(200));
            released.store(true, std::sync::atomic::Ordering::SeqCst);
        })
    };
    held.recv().unwrap();
    let converted = atrest::decrypt(&path, PASS).unwrap();
    assert!(
        released.load(std::sync::atomic::Ordering::SeqCst),
        "the file was swapped while the job had it open"
    );
    job.join().unwrap();
    assert_eq!(converted.backups, 1, "the job's backup is decrypted too");
    let ws = Workspace::open(&path).unwrap();
    assert!(!ws.is_encrypted());
    assert_eq!(names(&ws), [NAME]);
}

#[test]
fn a_backup_of_an_encrypted_database_is_encrypted_and_restores_with_the_passphrase() {
    let dir = tempfile::tempdir().unwrap();
    let path = plain_db(dir.path());
    // A plain backup made before encrypting is encrypted along with it.
    let old = {
        let ws = Workspace::open(&path).unwrap();
        backup::backup_now(&ws).unwrap()
    };
    let done = atrest::encrypt(&path, PASS).unwrap();
    assert_eq!(done.backups, 1);
    assert!(atrest::is_encrypted(Path::new(&old.path)));
    assert!(!file_holds(Path::new(&old.path), NAME));

    let mut ws = Workspace::open_encrypted(&path, PASS).unwrap();
    let b = backup::backup_now(&ws).unwrap();
    let bp = PathBuf::from(&b.path);
    assert!(atrest::is_encrypted(&bp), "the backup is encrypted");
    assert!(!file_holds(&bp, NAME), "no name in clear in the backup");
    // Changed after the backup, then restored from it.
    add(&mut ws, "备份之后的客户", vec![], &[]);
    assert_eq!(names(&ws).len(), 2);
    backup::restore(&mut ws, &bp).unwrap();
    assert_eq!(names(&ws), vec![NAME.to_string()]);
    drop(ws);
    // Still encrypted with its passphrase after the restore.
    assert!(atrest::is_encrypted(&path));
    assert!(!file_holds(&path, NAME));

    // Elsewhere (a new laptop): the backup alone restores with the
    // passphrase, and without it says so.
    let other = dir.path().join("laptop").join("kehu.db");
    let mut fresh = Workspace::open(&other).unwrap();
    let e = backup::restore(&mut fresh, &bp).unwrap_err();
    assert_eq!(e.code(), Code::Passphrase);
    let e = backup::restore_with(&mut fresh, &bp, Some("wrong")).unwrap_err();
    assert_eq!(e.code(), Code::Passphrase);
    backup::restore_with(&mut fresh, &bp, Some(PASS)).unwrap();
    assert_eq!(names(&fresh), vec![NAME.to_string()]);
}

#[test]
fn the_cli_opens_an_encrypted_database_with_passphrase_env_and_converts_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cli.db");
    let kehu = env!("CARGO_BIN_EXE_kehu");
    let run = |args: &[&str]| {
        std::process::Command::new(kehu)
            .arg("--db")
            .arg(&db)
            .args(args)
            .env("KEHU_LANG", "en")
            .env("DBPASS", PASS)
            .env("NEWPASS", "second passphrase")
            .output()
            .unwrap()
    };
    assert!(run(&["customer", "add", "--name", NAME]).status.success());
    let out = run(&["db", "encrypt", "--new-passphrase-env", "DBPASS"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("cannot be recovered"));
    assert!(!file_holds(&db, NAME));
    // Without the passphrase: a one-line message, not "damaged".
    let out = run(&["customer", "list"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("encrypted"), "{err}");
    assert!(!err.contains("damaged"), "{err}");
    let out = run(&["--passphrase-env", "NEWPASS", "customer", "list"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("Wrong database passphrase"));
    let out = run(&["--passphrase-env", "DBPASS", "customer", "list"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains(NAME));
    let out = run(&[
        "--passphrase-env",
        "DBPASS",
        "db",
        "rekey",
        "--new-passphrase-env",
        "NEWPASS",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(&["--passphrase-env", "NEWPASS", "--json", "customer", "list"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains(NAME));
    let out = run(&["--passphrase-env", "NEWPASS", "db", "decrypt"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(file_holds(&db, NAME));
    assert!(run(&["customer", "list"]).status.success());
}

/// A bulk load (thousands of demo customers into an empty file) runs with a
/// rollback journal instead of the WAL: the file it leaves is encrypted too.
#[test]
fn a_bulk_load_into_an_encrypted_database_stays_encrypted() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bulk.db");
    let mut ws = Workspace::open_encrypted(&path, PASS).unwrap();
    kehu::demo::generate(&mut ws, 2_500, 5).unwrap();
    let some = names(&ws).into_iter().next().unwrap();
    drop(ws);
    assert!(!dir.path().join("bulk.db-journal").exists());
    assert!(!file_holds(&path, &some), "no customer name in clear");
    let ws = Workspace::open_encrypted(&path, PASS).unwrap();
    assert_eq!(names(&ws).len(), 2_500);
    let ok: String = ws
        .conn()
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ok, "ok");
    assert!(!search::search_ids(ws.conn(), &some, 10).unwrap().is_empty());
}
