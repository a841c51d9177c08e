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
    let r = kehu::sync::sync_now(&mut a).unwrap();
    let send = t.elapsed();
    println!(
        "send: {n} customers, {entries} change-log entries ({} sent) in {:.2} s",
        r.sent,
        send.as_secs_f64()
    );
    println!(
        "shared files: {:.1} MB ({:.0} bytes per customer)",
        dir_size(&shared) as f64 / 1e6,
        dir_size(&shared) as f64 / n as f64
    );
    let mut b = Workspace::open(tmp.path().join("b.db")).unwrap();
    let t = Instant::now();
    kehu::sync::join_target(&mut b, &target, None, &creds).unwrap();
    let r = kehu::sync::sync_now(&mut b).unwrap();
    let join = t.elapsed();
    println!(
        "join + apply: {} entries in {:.2} s ({:.0} entries/s)",
        r.applied,
        join.as_secs_f64(),
        r.applied as f64 / join.as_secs_f64()
    );
    let mut idle = vec![];
    for _ in 0..20 {
        let t = Instant::now();
        let r = kehu::sync::sync_now(&mut b).unwrap();
        assert_eq!(r.applied + r.sent, 0);
        idle.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    idle.sort_by(|x, y| x.partial_cmp(y).unwrap());
    println!(
        "idle round: p50 {:.1} ms, max {:.1} ms",
        idle[idle.len() / 2],
        idle[idle.len() - 1]
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
