//! kill -9 while `kehu sync now` applies a big incoming set: the database
//! stays intact, and the next `sync now` resumes and ends in the same state
//! as a run that was never interrupted.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

/// A private copy of the CLI (a target directory shared by several
/// checkouts may swap the built binary mid-test).
fn exe() -> PathBuf {
    static EXE: std::sync::OnceLock<(tempfile::TempDir, PathBuf)> = std::sync::OnceLock::new();
    EXE.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("kehu");
        std::fs::copy(env!("CARGO_BIN_EXE_kehu"), &p).unwrap();
        (dir, p)
    })
    .1
    .clone()
}

fn kehu(db: &Path) -> Command {
    let mut c = Command::new(exe());
    c.env("KEHU_DB", db)
        .env("LANG", "C")
        .env("KEHU_SECRET_STORE", "file")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    c
}

fn run(db: &Path, args: &[&str]) {
    let out = kehu(db).args(args).stderr(Stdio::piped()).output().unwrap();
    assert!(
        out.status.success(),
        "kehu {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// No snapshots: the incoming set is every segment, replayed.
fn no_snapshots(db: &Path) {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.execute(
        "INSERT INTO meta(key, value) VALUES ('sync_snapshot_every', '0')
         ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        [],
    )
    .unwrap();
}

/// Integrity, then what a person sees plus the merge state.
fn state(db: &Path) -> (String, Vec<String>) {
    let conn = rusqlite::Connection::open(db).unwrap();
    let ok: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    let mut out = vec![];
    for sql in [
        "SELECT id, code, name, status, grade, owner_id, notes, deleted_at FROM customers ORDER BY id",
        "SELECT id, customer_id, name, mobile, deleted_at FROM contacts ORDER BY id",
        "SELECT id, name, deleted_at FROM tags ORDER BY id",
        "SELECT customer_id, tag_id FROM customer_tags ORDER BY 1, 2",
        "SELECT id, customer_id, status, planned_at, done_at, deleted_at FROM followups ORDER BY id",
        "SELECT id, customer_id, stage, expected_amount, deleted_at FROM opportunities ORDER BY id",
        "SELECT entity, entity_id, field, hlc, device, value FROM sync_reg ORDER BY 1, 2, 3",
        "SELECT device_id, applied_hlc FROM sync_peers ORDER BY 1",
        "SELECT count(*), count(DISTINCT hlc || device_id) FROM changes",
        "SELECT count(*) FROM search_docs",
    ] {
        let mut stmt = conn.prepare(sql).unwrap();
        let n = stmt.column_count();
        let rows: Vec<String> = stmt
            .query_map([], |r| {
                Ok((0..n)
                    .map(|i| format!("{:?}", r.get_ref(i).unwrap()))
                    .collect::<Vec<_>>()
                    .join("|"))
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        out.push(rows.join("\n"));
    }
    (ok, out)
}

#[test]
fn kill_9_during_sync_apply_leaves_a_sound_database_and_the_next_sync_resumes_to_the_same_state() {
    let dir = tempfile::tempdir().unwrap();
    let shared = dir.path().join("shared");
    std::fs::create_dir(&shared).unwrap();
    let shared_s = shared.to_str().unwrap();
    // Device A: a few thousand customers with their follow-ups and deals.
    let a = dir.path().join("a.db");
    run(&a, &["demo", "--customers", "1500"]);
    no_snapshots(&a);
    run(&a, &["sync", "init", "--folder", shared_s]);
    run(&a, &["sync", "now"]);
    // Device B has joined and not synced yet.
    let base = dir.path().join("base.db");
    run(&base, &["sync", "join", "--folder", shared_s]);
    no_snapshots(&base);

    // An uninterrupted run, and how long it takes.
    let whole = dir.path().join("whole.db");
    std::fs::copy(&base, &whole).unwrap();
    let t = Instant::now();
    run(&whole, &["sync", "now"]);
    let full = t.elapsed();
    let (ok, expected) = state(&whole);
    assert_eq!(ok, "ok");
    assert!(expected[0].lines().count() >= 1500);

    let mut seed = 0x9E3779B97F4A7C15u64;
    let mut interrupted = 0;
    let mut i = 0;
    // At least ten kills that land while the round runs (the machine may
    // be busier than when `full` was measured: runs that finished first
    // do not count).
    while interrupted < 10 {
        assert!(
            i < 40,
            "only {interrupted} of {i} kills landed during the run"
        );
        let db = dir.path().join(format!("k{i}.db"));
        std::fs::copy(&base, &db).unwrap();
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        // A point in [0.02, 0.97) of a whole run.
        let at = full.mul_f64(0.02 + (seed % 1000) as f64 / 1000.0 * 0.95);
        let mut child = kehu(&db).args(["sync", "now"]).spawn().unwrap();
        std::thread::sleep(at);
        let finished = child.try_wait().unwrap().is_some();
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        if !finished {
            interrupted += 1;
        }
        let (ok, _) = state(&db);
        assert_eq!(ok, "ok", "integrity after kill {i} at {at:?}");
        // The next round resumes and ends where the uninterrupted one did.
        run(&db, &["sync", "now"]);
        let (ok, got) = state(&db);
        assert_eq!(ok, "ok");
        for (k, (g, e)) in got.iter().zip(&expected).enumerate() {
            assert!(g == e, "kill {i} at {at:?}: query {k} differs");
        }
        for ext in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{ext}", db.display()));
        }
        i += 1;
    }
    eprintln!("{interrupted} of {i} runs killed mid-way (whole run {full:?})");
}
