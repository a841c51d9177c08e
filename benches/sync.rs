//! Speed and size of team sync: one device with N demo customers sends its
//! change log; a second device joins and applies all of it; then an idle
//! round. Run with `cargo bench --bench sync` (100k customers) or
//! `cargo bench --bench sync -- --customers 20000`.
//!
//! Other targets and end-to-end encryption:
//! `-- --passphrase-env VAR` (team passphrase), `-- --webdav URL --user U`
//! (password in `KEHU_WEBDAV_PASSWORD`), `-- --s3 URL --bucket B` (keys in
//! `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY`). Shared-file sizes are
//! measured on folder targets only.

// The allocator the `kehu` CLI and the desktop app use.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use kehu::Workspace;
use std::time::Instant;

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn dir_size(p: &std::path::Path) -> u64 {
    let mut n = 0;
    for e in std::fs::read_dir(p).unwrap().flatten() {
        let m = e.metadata().unwrap();
        n += if m.is_dir() {
            dir_size(&e.path())
        } else {
            m.len()
        };
    }
    n
}

/// Bytes of the files under `p` whose name ends with `ext`.
fn files_size(p: &std::path::Path, ext: &str) -> Vec<u64> {
    let mut out = vec![];
    for e in std::fs::read_dir(p).unwrap().flatten() {
        let m = e.metadata().unwrap();
        if m.is_dir() {
            out.extend(files_size(&e.path(), ext));
        } else if e.file_name().to_string_lossy().ends_with(ext) {
            out.push(m.len());
        }
    }
    out
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let n: usize = arg("--customers")
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000);
    let tmp = tempfile::tempdir().unwrap();
    let shared = tmp.path().join("shared");
    std::fs::create_dir(&shared).unwrap();
    let env = |v: &str| std::env::var(v).ok();
    let mut creds = kehu::sync::Credentials {
        passphrase: arg("--passphrase-env").and_then(|v| env(&v)),
        ..Default::default()
    };
    let target = if let Some(url) = arg("--webdav") {
        creds.password = env("KEHU_WEBDAV_PASSWORD");
        kehu::sync::Target::Webdav {
            url,
            user: arg("--user").unwrap_or_default(),
        }
    } else if let Some(endpoint) = arg("--s3") {
        creds.access_key = env("AWS_ACCESS_KEY_ID");
        creds.secret_key = env("AWS_SECRET_ACCESS_KEY");
        kehu::sync::Target::S3 {
            endpoint,
            bucket: arg("--bucket").unwrap_or_default(),
            region: "us-east-1".into(),
        }
    } else {
        kehu::sync::Target::Folder {
            path: shared.clone(),
        }
    };
    println!(
        "target: {} {}{}",
        target.kind(),
        target.location(),
        if creds.passphrase.is_some() {
            ", end-to-end encrypted"
        } else {
            ""
        }
    );
    let mut a = Workspace::open(tmp.path().join("a.db")).unwrap();
    kehu::demo::generate(&mut a, n, 1).unwrap();
    let entries: i64 = a
        .conn()
        .query_row("SELECT count(*) FROM changes", [], |r| r.get(0))
        .unwrap();
    let t = Instant::now();
    kehu::sync::init_target(&mut a, &target, None, &creds).unwrap();
    // No snapshot yet: the first joiner replays every entry.
    kehu::sync::set_snapshot_settings(&a, Some(0), None).unwrap();
    let r = kehu::sync::sync_now(&mut a).unwrap();
    let send = t.elapsed();
    println!(
        "send: {n} customers, {entries} change-log entries ({} sent) in {:.2} s",
        r.sent,
        send.as_secs_f64()
    );
    let size = |what: &str| {
        println!(
            "shared files{what}: {:.1} MB ({:.0} bytes per customer)",
            dir_size(&shared) as f64 / 1e6,
            dir_size(&shared) as f64 / n as f64
        )
    };
    size("");
    let cpu = || {
        // CPU time of this thread: the wall clock lies on a busy machine.
        std::fs::read_to_string("/proc/thread-self/schedstat")
            .ok()
            .and_then(|s| s.split_whitespace().next()?.parse::<f64>().ok())
            .map(|ns| ns / 1e9)
            .unwrap_or(0.0)
    };
    if !std::env::args().any(|a| a == "--skip-replay") {
        let mut c = Workspace::open(tmp.path().join("c.db")).unwrap();
        let (t, c0) = (Instant::now(), cpu());
        kehu::sync::join_target(&mut c, &target, None, &creds).unwrap();
        // Applying only: a device that replayed this much would then write a
        // snapshot for the team (timed below, on the sender).
        kehu::sync::set_snapshot_settings(&c, Some(0), None).unwrap();
        let r = kehu::sync::sync_now(&mut c).unwrap();
        let (wall, used) = (t.elapsed().as_secs_f64(), cpu() - c0);
        println!(
            "join by replaying every segment: {} entries applied in {wall:.2} s wall, {used:.2} s CPU ({:.2} s CPU per 100k entries, target ≤ 3 s)",
            r.applied,
            used / r.applied as f64 * 1e5
        );
        drop(c);
    }
    let t = Instant::now();
    kehu::sync::write_snapshot(&mut a).unwrap();
    println!("snapshot written in {:.2} s", t.elapsed().as_secs_f64());
    size(" (all devices' snapshots included)");
    // The replaying device above may have written a snapshot of its own:
    // the target counts the change files and one snapshot.
    let seg: u64 = files_size(&shared, ".kseg").iter().sum();
    let snap = files_size(&shared, ".ksnap").into_iter().max().unwrap_or(0);
    println!(
        "change files {:.1} MB + one snapshot {:.1} MB = {:.1} MB (target ≤ 30 MB)",
        seg as f64 / 1e6,
        snap as f64 / 1e6,
        (seg + snap) as f64 / 1e6
    );
    if let Some(keep) = arg("--keep-shared") {
        // For inspecting the files: a copy of the shared folder.
        let status = std::process::Command::new("cp")
            .arg("-r")
            .arg(&shared)
            .arg(&keep)
            .status();
        assert!(
            status.map(|s| s.success()).unwrap_or(false),
            "copy to {keep}"
        );
    }
    let mut b = Workspace::open(tmp.path().join("b.db")).unwrap();
    let (t, c0) = (Instant::now(), cpu());
    kehu::sync::join_target(&mut b, &target, None, &creds).unwrap();
    let r = kehu::sync::sync_now(&mut b).unwrap();
    let (wall, used) = (t.elapsed().as_secs_f64(), cpu() - c0);
    println!(
        "join from the snapshot: {} entries applied in {wall:.2} s wall, {used:.2} s CPU",
        r.applied
    );
    let mut idle = vec![];
    let mut idle_cpu = vec![];
    for _ in 0..20 {
        let (t, c0) = (Instant::now(), cpu());
        let r = kehu::sync::sync_now(&mut b).unwrap();
        assert_eq!(r.applied + r.sent, 0);
        idle.push(t.elapsed().as_secs_f64() * 1000.0);
        idle_cpu.push((cpu() - c0) * 1000.0);
    }
    idle.sort_by(|x, y| x.partial_cmp(y).unwrap());
    idle_cpu.sort_by(|x, y| x.partial_cmp(y).unwrap());
    println!(
        "idle round: p50 {:.1} ms, max {:.1} ms wall; p50 {:.1} ms, max {:.1} ms CPU",
        idle[idle.len() / 2],
        idle[idle.len() - 1],
        idle_cpu[idle.len() / 2],
        idle_cpu[idle.len() - 1]
    );
    // An edit on every 10th customer, then one round on each side.
    let ids: Vec<String> = a
        .conn()
        .prepare("SELECT id FROM customers WHERE rowid % 10 = 0")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut p = serde_json::Map::new();
    p.insert("notes".into(), serde_json::json!("已同步测试"));
    a.write("bench", |w| {
        for id in &ids {
            kehu::customers::update_in(w, id, &p)?;
        }
        Ok(())
    })
    .unwrap();
    kehu::sync::sync_now(&mut a).unwrap();
    let t = Instant::now();
    let r = kehu::sync::sync_now(&mut b).unwrap();
    println!(
        "incremental: {} edits applied in {:.2} s",
        r.applied,
        t.elapsed().as_secs_f64()
    );
}
