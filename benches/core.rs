//! Speed of the foundation at scale: demo generation, search, list pages and
//! cold start. Run with `cargo bench --bench core` (100k customers) or
//! `cargo bench --bench core -- --customers 1000000`. Prints p50/p95/max per
//! query class; the numbers go into the README.
//!
//! Queries are drawn from the generated data itself (names, contacts, codes,
//! phones), so they exercise real hit sets, not misses.

// The allocator the `kehu` CLI and the desktop app use.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use kehu::customer_list::{list, page, CustomerQuery, SortKey};
use kehu::customers::{Grade, Status};
use kehu::search::{pinyin_forms, search_ids};
use kehu::Workspace;
use rand::rngs::SmallRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use std::time::{Duration, Instant};

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn percentiles(mut d: Vec<Duration>) -> (f64, f64, f64) {
    d.sort();
    let ms = |x: Duration| x.as_secs_f64() * 1000.0;
    let p = |q: f64| ms(d[((d.len() as f64 - 1.0) * q).round() as usize]);
    (p(0.5), p(0.95), ms(*d.last().unwrap()))
}

fn time<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let t = Instant::now();
    let out = f();
    (out, t.elapsed())
}

fn report(label: &str, d: Vec<Duration>) {
    let n = d.len();
    let (p50, p95, max) = percentiles(d);
    println!("{label:<46} n={n:<4} p50 {p50:>7.2} ms  p95 {p95:>7.2} ms  max {max:>7.2} ms");
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo bench -- --list` probes for tests.
    }
    let n: usize = arg("--customers")
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000);
    let dir = tempfile::tempdir().unwrap();
    // `--db FILE` reuses a database generated earlier (skips generation).
    let path = match arg("--db") {
        Some(p) => std::path::PathBuf::from(p),
        None => {
            let path = dir.path().join("bench.db");
            let mut ws = Workspace::open(&path).unwrap();
            let (_, gen) = time(|| kehu::demo::generate(&mut ws, n, 1).unwrap());
            println!(
                "demo generation: {n} customers in {:.2} s ({:.0} customers/s)",
                gen.as_secs_f64(),
                n as f64 / gen.as_secs_f64()
            );
            path
        }
    };
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    println!("database size: {:.0} MB", size as f64 / 1e6);

    // Cold start: open the file and load the first list page.
    let (mut ws, open) = time(|| {
        let ws = Workspace::open(&path).unwrap();
        page(&ws, &CustomerQuery::default()).unwrap();
        ws
    });
    println!(
        "cold open + first page of 200: {:.1} ms",
        open.as_secs_f64() * 1000.0
    );

    // Sample real values to query for.
    let mut rng = SmallRng::seed_from_u64(9);
    let sample: Vec<(String, String, Option<String>, Option<String>)> = ws
        .conn()
        .prepare(
            "SELECT c.name, c.code, p.name, p.mobile FROM customers c
             LEFT JOIN contacts p ON p.customer_id = c.id AND p.is_primary = 1
             ORDER BY random() LIMIT 400",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let runs = 200;
    let mut classes: Vec<(&str, Vec<String>)> = vec![
        ("search: 4 chars of a company name", vec![]),
        ("search: contact full name (3 chars)", vec![]),
        ("search: 4-digit phone fragment", vec![]),
        ("search: full pinyin of a contact", vec![]),
        ("search: first 3 pinyin letters of a contact", vec![]),
        ("search: code prefix (9 chars)", vec![]),
        ("search: 2 Chinese characters", vec![]),
        ("search: 1 Chinese character", vec![]),
        ("search: 2-letter pinyin initials", vec![]),
    ];
    for _ in 0..runs {
        let (name, code, contact, mobile) = sample.choose(&mut rng).unwrap();
        let chars: Vec<char> = name.chars().collect();
        let start = rng.random_range(0..chars.len().saturating_sub(4).max(1));
        classes[0]
            .1
            .push(chars[start..(start + 4).min(chars.len())].iter().collect());
        let contact = contact.clone().unwrap_or_else(|| "张伟".into());
        classes[1].1.push(contact.clone());
        let m = mobile.clone().unwrap_or_else(|| "13800138000".into());
        let s = rng.random_range(3..7);
        classes[2].1.push(m[s..s + 4].to_string());
        let full = pinyin_forms(&contact).0;
        classes[4]
            .1
            .push(full.get(..3).unwrap_or(&full).to_string());
        classes[3].1.push(full);
        classes[5].1.push(code[..9].to_string());
        let s2 = rng.random_range(0..chars.len() - 1);
        classes[6].1.push(chars[s2..s2 + 2].iter().collect());
        classes[7].1.push(chars[s2].to_string());
        classes[8]
            .1
            .push(pinyin_forms(&chars[s2..s2 + 2].iter().collect::<String>()).1);
    }
    for (label, queries) in &classes {
        let times = queries
            .iter()
            .map(|q| {
                let (hits, d) = time(|| search_ids(ws.conn(), q, 50).unwrap());
                assert!(!hits.is_empty(), "{q} found nothing");
                d
            })
            .collect();
        report(label, times);
    }
    // The list page the UI shows: search text excluded, filters and a sort.
    let owners: Vec<String> = kehu::members::list(ws.conn())
        .unwrap()
        .into_iter()
        .map(|m| m.id)
        .collect();
    let mut pages = vec![];
    let mut sql_pages = vec![];
    for i in 0..runs {
        let q = CustomerQuery {
            status: vec![[Status::Prospect, Status::Interested, Status::Won][i % 3]],
            grade: if i % 2 == 0 { vec![Grade::A] } else { vec![] },
            owner: (i % 4 == 0).then(|| owners.choose(&mut rng).unwrap().clone()),
            sort: [
                SortKey::Updated,
                SortKey::Name,
                SortKey::Code,
                SortKey::Created,
            ][i % 4],
            desc: i % 2 == 0,
            offset: (i as u32 % 5) * 200,
            limit: 200,
            ..Default::default()
        };
        let (shown, d) = time(|| page(&ws, &q).unwrap());
        assert!(shown.total > 0);
        pages.push(d);
        sql_pages.push(time(|| list(ws.conn(), &q).unwrap()).1);
    }
    report("list: page of 200, filter + sort (with count)", pages);
    report("  same pages straight from SQL", sql_pages);
    // After an edit the in-memory list index reloads once.
    let mut reloads = vec![];
    for (_, code, _, _) in sample.iter().take(20) {
        let id = code.clone();
        ws.write("bench", |w| {
            w.tx().execute(
                "UPDATE customers SET updated_at = updated_at + 1 WHERE code = ?1",
                [&id],
            )?;
            Ok(())
        })
        .unwrap();
        reloads.push(time(|| page(&ws, &CustomerQuery::default()).unwrap()).1);
    }
    report("list: first page after an edit (index reload)", reloads);
    let mut searched = vec![];
    for (i, q) in classes[0].1.iter().enumerate().take(runs) {
        let cq = CustomerQuery {
            text: Some(q.clone()),
            sort: if i % 2 == 0 {
                SortKey::Relevance
            } else {
                SortKey::Name
            },
            ..Default::default()
        };
        searched.push(time(|| list(ws.conn(), &cq).unwrap()).1);
    }
    report("list: search text + sort, page of 200", searched);
}
