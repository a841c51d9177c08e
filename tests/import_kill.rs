//! kill -9 during an import: the database stays intact and holds either
//! none or all of that import (one transaction: in the WAL, or with a
//! rollback journal for a first big import).

use std::process::{Command, Stdio};
use std::time::Instant;

/// A private copy of the CLI (a target directory shared by several
/// checkouts may swap the built binary mid-test).
fn exe() -> std::path::PathBuf {
    static EXE: std::sync::OnceLock<(tempfile::TempDir, std::path::PathBuf)> =
        std::sync::OnceLock::new();
    EXE.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("kehu");
        std::fs::copy(env!("CARGO_BIN_EXE_kehu"), &p).unwrap();
        (dir, p)
    })
    .1
    .clone()
}

fn kehu(db: &std::path::Path) -> Command {
    let mut c = Command::new(exe());
    c.env("KEHU_DB", db)
        .env("LANG", "C")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    c
}

fn count(db: &std::path::Path) -> (String, i64, i64) {
    let conn = rusqlite::Connection::open(db).unwrap();
    let ok: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    let customers: i64 = conn
        .query_row("SELECT count(*) FROM customers", [], |r| r.get(0))
        .unwrap();
    let imports: i64 = conn
        .query_row("SELECT count(*) FROM imports", [], |r| r.get(0))
        .unwrap();
    (ok, customers, imports)
}

#[test]
fn kill_9_during_an_import_leaves_none_or_all_of_it() {
    let hot_journals = kill_9_during_an_import_of(600);
    assert_eq!(hot_journals, 0, "a small import runs in the WAL");
}

/// Thousands of rows into a workspace of 5 customers: a bulk load, which
/// runs with a rollback journal instead of the WAL.
#[test]
fn kill_9_during_a_first_big_import_leaves_none_or_all_of_it() {
    let hot_journals = kill_9_during_an_import_of(3_000);
    assert!(hot_journals > 0, "no kill met the rollback journal");
}

/// Kill imports of `rows` rows 20 times; how many kills left a rollback
/// journal for the next open to roll back.
fn kill_9_during_an_import_of(rows: usize) -> usize {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("big.csv");
    let mut s = String::from("客户名称,联系人,手机,所属行业,标签,预算\n");
    for i in 0..rows {
        s.push_str(&format!(
            "公司{i},联系人{i},139{i:08},制造业,标签{},{}\n",
            i % 7,
            i * 10
        ));
    }
    std::fs::write(&csv, s).unwrap();
    let base = dir.path().join("base.db");
    assert!(kehu(&base)
        .args(["demo", "--customers", "5"])
        .status()
        .unwrap()
        .success());

    // How long a whole import takes here, to spread the kills over it.
    let full_db = dir.path().join("full.db");
    std::fs::copy(&base, &full_db).unwrap();
    let t = Instant::now();
    assert!(kehu(&full_db)
        .arg("import")
        .arg(&csv)
        .status()
        .unwrap()
        .success());
    let full = t.elapsed();
    assert_eq!(count(&full_db).1, 5 + rows as i64);

    let mut outcomes = (0, 0);
    let mut hot_journals = 0;
    let mut seed = 0x2545F4914F6CDD1Du64;
    for i in 0..20 {
        let db = dir.path().join(format!("k{i}.db"));
        std::fs::copy(&base, &db).unwrap();
        // Pseudo-random point in [0, 1.1 × full).
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let at = full.mul_f64((seed % 1000) as f64 / 1000.0 * 1.1);
        let mut child = kehu(&db).arg("import").arg(&csv).spawn().unwrap();
        std::thread::sleep(at);
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        if db.with_extension("db-journal").exists() {
            hot_journals += 1;
        }
        let (ok, customers, imports) = count(&db);
        assert_eq!(ok, "ok", "integrity after kill {i}");
        match (customers, imports) {
            (5, 0) => outcomes.0 += 1,
            (n, 1) if n == 5 + rows as i64 => outcomes.1 += 1,
            other => panic!("kill {i} at {at:?} left a partial import: {other:?}"),
        }
        // Whatever happened, the database still opens and works, in the WAL.
        assert!(kehu(&db)
            .args(["imports", "list"])
            .status()
            .unwrap()
            .success());
        let conn = rusqlite::Connection::open(&db).unwrap();
        let mode: String = conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal", "journal after kill {i}");
    }
    eprintln!(
        "kills: {} before commit, {} after, {hot_journals} left a journal (full import {full:?})",
        outcomes.0, outcomes.1
    );
    assert!(outcomes.0 > 0, "some kills must land before the commit");
    hot_journals
}

#[test]
fn the_cli_imports_dry_runs_writes_an_error_report_and_undoes() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("k.db");
    let csv = dir.path().join("c.csv");
    std::fs::write(
        &csv,
        "客户名称,手机,客户状态\n甲公司,13800138000,意向\n乙公司,123,成交\n",
    )
    .unwrap();
    let out = Command::new(exe())
        .env("KEHU_DB", &db)
        .args(["--json", "import", "--dry-run"])
        .arg(&csv)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (
            v["imported"].as_i64(),
            v["failed"].as_i64(),
            v["dry_run"].as_bool()
        ),
        (Some(1), Some(1), Some(true))
    );
    let errors = dir.path().join("errors.xlsx");
    let out = Command::new(exe())
        .env("KEHU_DB", &db)
        .args(["--json", "import", "--errors"])
        .arg(&errors)
        .arg(&csv)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let job = v["job_id"].as_str().unwrap().to_string();
    assert!(errors.exists());
    let list = Command::new(exe())
        .env("KEHU_DB", &db)
        .args(["--json", "imports", "list"])
        .output()
        .unwrap();
    let jobs: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(jobs[0]["id"], job.as_str());
    let undo = Command::new(exe())
        .env("KEHU_DB", &db)
        .args(["--json", "imports", "undo", &job])
        .output()
        .unwrap();
    assert!(undo.status.success());
    assert_eq!(count(&db).1, 0);
    let tpl = dir.path().join("t.xlsx");
    assert!(Command::new(exe())
        .env("KEHU_DB", &db)
        .args(["template", "--out"])
        .arg(&tpl)
        .status()
        .unwrap()
        .success());
    let exp = dir.path().join("e.csv");
    let st = Command::new(exe())
        .env("KEHU_DB", &db)
        .args(["export", "customers", "--out"])
        .arg(&exp)
        .status()
        .unwrap();
    assert!(st.success() && exp.exists());
    let bad = Command::new(exe())
        .env("KEHU_DB", &db)
        .args(["--json", "import", "--on-duplicate", "maybe"])
        .arg(&csv)
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_slice(&bad.stdout).unwrap();
    assert_eq!(v["code"], "validation");
}
