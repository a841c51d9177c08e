//! Speed of duplicate detection (issue targets: 100k customers — full scan
//! ≤ 3 s, `dedupe check` of one record ≤ 10 ms, merge of two customers with
//! 100 follow-ups each ≤ 50 ms; 1M customers — full scan ≤ 40 s, ≤ 1 GB).
//!
//! `cargo bench --bench dedupe` (100k demo customers, every measurement) or
//! `cargo bench --bench dedupe -- --customers 1000000 --scan-only`. The scan
//! reads only the customer and contact rows, so `--scan-only` stores the
//! demo customers straight into those tables (no search index, no change
//! log), which keeps a 1M setup to about a minute.

// The allocator the `kehu` CLI and the desktop app use.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use kehu::customers::{self, CustomerFields, NewCustomer};
use kehu::dedupe as store;
use kehu::followups::{self, FollowupFields, Kind, NewFollowup};

use kehu::Workspace;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

/// Reset the peak-RSS counter (Linux), so the scan reports its own peak.
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn status_mb(key: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(f64::NAN)
}

/// CPU seconds (user + system) of this process: robust on a shared machine.
fn cpu_s() -> f64 {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            let rest = s.rsplit_once(')')?.1;
            let f: Vec<&str> = rest.split_whitespace().collect();
            let ticks = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
            Some(ticks / 100.0)
        })
        .unwrap_or(f64::NAN)
}

fn percentiles(mut d: Vec<Duration>) -> (f64, f64) {
    d.sort();
    let ms = |x: Duration| x.as_secs_f64() * 1e3;
    (
        ms(d[d.len() / 2]),
        ms(d[(d.len() * 95 / 100).min(d.len() - 1)]),
    )
}

/// Demo customers stored only as customer and contact rows.
fn store_rows(ws: &mut Workspace, n: usize) {
    let now = ws.now_ms();
    let mut sampler = kehu::demo::Sampler::new(7, now, vec![]);
    let tx = ws.conn().unchecked_transaction().unwrap();
    {
        let mut cust = tx
            .prepare(
                "INSERT INTO customers(id, code, name, province, city, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
            )
            .unwrap();
        let mut cont = tx
            .prepare(
                "INSERT INTO contacts(id, customer_id, name, mobile, email, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
            )
            .unwrap();
        for i in 0..n {
            let d = sampler.next_customer();
            let f = &d.customer.fields;
            let id = kehu::new_id();
            cust.execute(rusqlite::params![
                id,
                format!("B{i:09}"),
                f.name,
                f.province,
                f.city,
                d.created
            ])
            .unwrap();
            for c in &d.customer.contacts {
                let mobile = c
                    .mobile
                    .as_deref()
                    .map(|m| kehu::validate::normalize_phone(m).map(|p| p.0))
                    .transpose()
                    .ok()
                    .flatten();
                cont.execute(rusqlite::params![
                    kehu::new_id(),
                    id,
                    c.name,
                    mobile,
                    c.email,
                    d.created
                ])
                .unwrap();
            }
        }
    }
    tx.commit().unwrap();
}

fn scan(ws: &Workspace, n: usize) {
    let cancel = AtomicBool::new(false);
    // The kernel keeps the peak of all resident memory, which includes the
    // database pages SQLite maps (≤ 256 MB) and caches; sample the peak of
    // the process's own (anonymous) memory too.
    let stop = std::sync::Arc::new(AtomicBool::new(false));
    let sampler = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut peak = 0f64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                peak = peak.max(status_mb("RssAnon:"));
                std::thread::sleep(Duration::from_millis(20));
            }
            peak
        })
    };
    reset_peak();
    let before = status_mb("VmRSS:");
    let (t, c) = (Instant::now(), cpu_s());
    let r = store::scan(ws.conn(), &mut |_, _| {}, &cancel).unwrap();
    let wall = t.elapsed().as_secs_f64();
    let cpu = cpu_s() - c;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let anon = sampler.join().unwrap();
    let pairs: usize = r.groups.iter().map(|g| g.pairs.len()).sum();
    println!(
        "scan of {n} customers: wall {wall:.2} s, cpu {cpu:.2} s, {} pairs compared \
         ({:.1} per customer), {} groups ({pairs} pairs kept), peak RSS {:.0} MB \
         (process {before:.0} MB before), peak anonymous memory {anon:.0} MB",
        r.compared,
        r.compared as f64 / n.max(1) as f64,
        r.groups.len(),
        status_mb("VmHWM:"),
    );
}

fn main() {
    // `cargo test --benches` runs benches without `--bench`: do nothing then.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let n: usize = arg("--customers")
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000);
    let scan_only = std::env::args().any(|a| a == "--scan-only");
    let dir = tempfile::tempdir().unwrap();
    let mut ws = Workspace::open(dir.path().join("dedupe.db")).unwrap();
    let t = Instant::now();
    if scan_only {
        store_rows(&mut ws, n);
    } else {
        kehu::demo::generate(&mut ws, n, 7).unwrap();
    }
    println!(
        "setup: {n} demo customers in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    // Experiments on the search index's merge policy: KEHU_FTS_SQL runs
    // after the setup.
    if let Some(sql) = std::env::var_os("KEHU_FTS_SQL") {
        let t = Instant::now();
        ws.conn().execute_batch(&sql.to_string_lossy()).unwrap();
        println!("{sql:?} in {:.2} s", t.elapsed().as_secs_f64());
    }
    scan(&ws, n);
    if scan_only {
        return;
    }

    // `dedupe check`: candidates for records being typed — variants of
    // stored names (short form, a typo'd character) and a known mobile.
    let samples: Vec<(String, Option<String>)> = ws
        .conn()
        .prepare(
            "SELECT c.name, (SELECT mobile FROM contacts WHERE customer_id = c.id LIMIT 1)
             FROM customers c ORDER BY c.rowid LIMIT 200 OFFSET 1000",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    let mut times = vec![];
    for (i, (name, mobile)) in samples.iter().enumerate() {
        let name = match i % 3 {
            0 => name.replace("有限公司", "").replace("股份", ""),
            1 => {
                let mut c: Vec<char> = name.chars().collect();
                let k = c.len() / 2;
                c[k] = '藤';
                c.into_iter().collect()
            }
            _ => name.clone(),
        };
        let draft = store::Draft {
            name,
            mobiles: if i % 2 == 0 {
                mobile.iter().cloned().collect()
            } else {
                vec![]
            },
            ..Default::default()
        };
        let t = Instant::now();
        let found = store::candidates_for(ws.conn(), &draft, 5).unwrap();
        times.push(t.elapsed());
        std::hint::black_box(found);
    }
    let (p50, p95) = percentiles(times);
    println!("dedupe check (one record, 200 drafts): p50 {p50:.2} ms, p95 {p95:.2} ms");

    // Merge of two customers with 100 follow-ups each, then unmerge (so
    // every round merges the same records).
    let mut ids = vec![];
    for name in ["深圳市腾云科技有限公司", "腾云科技"] {
        let c = customers::create(
            &mut ws,
            NewCustomer {
                fields: CustomerFields {
                    name: name.into(),
                    ..Default::default()
                },
                contacts: vec![],
                tags: vec![],
            },
        )
        .unwrap();
        for k in 0..100 {
            followups::add(
                &mut ws,
                NewFollowup {
                    customer: c.id.clone(),
                    fields: FollowupFields {
                        kind: Kind::Call,
                        owner_id: None,
                        opportunity_id: None,
                        purpose: None,
                        content: Some(format!("第{k}次电话沟通")),
                        feedback: None,
                        next_step: None,
                        effective: Some(true),
                    },
                    planned_at: None,
                    remind_before_min: None,
                    no_reminder: true,
                    done: true,
                    done_at: None,
                },
            )
            .unwrap();
        }
        ids.push(c.id);
    }
    if std::env::var_os("KEHU_NO_AUTOCHECKPOINT").is_some() {
        ws.conn()
            .execute_batch("PRAGMA wal_autocheckpoint = 0")
            .unwrap();
    }
    let (mut merges, mut unmerges) = (vec![], vec![]);
    for _ in 0..15 {
        let t = Instant::now();
        let m = store::merge(&mut ws, &ids[0], &[ids[1].clone()], &Default::default()).unwrap();
        merges.push(t.elapsed());
        let t = Instant::now();
        store::unmerge(&mut ws, &m.merge_id).unwrap();
        unmerges.push(t.elapsed());
    }
    let ms = |d: &Vec<Duration>| {
        d.iter()
            .map(|x| format!("{:.0}", x.as_secs_f64() * 1e3))
            .collect::<Vec<_>>()
            .join(" ")
    };
    println!("merge rounds (ms): {}", ms(&merges));
    println!("unmerge rounds (ms): {}", ms(&unmerges));
    let (m50, m95) = percentiles(merges);
    let (u50, u95) = percentiles(unmerges);
    println!(
        "merge of two customers with 100 follow-ups each: p50 {m50:.1} ms, p95 {m95:.1} ms; \
         unmerge p50 {u50:.1} ms, p95 {u95:.1} ms"
    );
}
