//! Follow-up benchmarks on 100k customers and 1M follow-ups:
//! Today page data (target ≤ 20 ms), alert evaluation (≤ 200 ms) and the
//! next due reminder (≤ 1 ms).
//!
//! `cargo bench --bench followups`. The data set is generated once and kept
//! beside the build (`$CARGO_TARGET_DIR/bench-data/followups-100k-1m.db`);
//! delete it to regenerate. Customers come from `kehu::demo` (through the
//! core); the million follow-ups and 20k opportunities are bulk-loaded with
//! plain SQL in one transaction (going through the core API one by one
//! would take minutes and measures nothing these benchmarks are about), then
//! the customers' last/next follow-up columns are recomputed as the core
//! keeps them.

// The allocator the `kehu` CLI and the desktop app use.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use criterion::{criterion_group, criterion_main, Criterion};
use kehu::clock::FixedClock;
use kehu::today::TodayQuery;
use kehu::{alerts, reminders, today, Lang, Workspace};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

const CUSTOMERS: usize = 100_000;
const FOLLOWUPS: usize = 1_000_000;
const OPPORTUNITIES: usize = 20_000;
/// 2026-11-24 10:00 UTC.
const NOW: i64 = 1_763_978_400_000;
const DAY: i64 = 86_400_000;
const MIN: i64 = 60_000;

fn data_path() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target"));
    target.join("bench-data").join("followups-100k-1m.db")
}

fn open(path: &PathBuf) -> Workspace {
    Workspace::open_with_clock(path, Arc::new(FixedClock::new(NOW))).unwrap()
}

fn generate(path: &PathBuf) {
    let t = Instant::now();
    let tmp = path.with_extension("tmp");
    for ext in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{ext}", tmp.display()));
    }
    std::fs::create_dir_all(tmp.parent().unwrap()).unwrap();
    let mut ws = open(&tmp);
    kehu::demo::generate(&mut ws, CUSTOMERS, 7).unwrap();
    eprintln!("  {CUSTOMERS} customers in {:.1?}", t.elapsed());
    let t = Instant::now();
    let conn = ws.conn();
    let ids: Vec<(String, Option<String>, i64)> = conn
        .prepare("SELECT id, owner_id, created_at FROM customers")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    let mut rng = SmallRng::seed_from_u64(11);
    let kinds = ["call", "visit", "email", "meeting", "wechat", "other"];
    conn.execute_batch("BEGIN").unwrap();
    {
        let mut ins = conn
            .prepare(
                "INSERT INTO followups(id, customer_id, kind, status, owner_id, planned_at, remind_before_min,
                    remind_at, reminder_fired_at, done_at, content, effective, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?13)",
            )
            .unwrap();
        for i in 0..FOLLOWUPS {
            let (cid, owner, created) = &ids[rng.random_range(0..ids.len())];
            let id = format!("{:08x}-bench-{i:012}", i);
            let kind = kinds[rng.random_range(0..kinds.len())];
            // 95 % done in the past; 5 % planned from a week ago to a month ahead.
            if rng.random_bool(0.95) {
                let span = (NOW - created).max(DAY);
                let done = created + rng.random_range(0..span);
                ins.execute(rusqlite::params![
                    id,
                    cid,
                    kind,
                    "done",
                    owner,
                    None::<i64>,
                    None::<i64>,
                    None::<i64>,
                    None::<i64>,
                    done,
                    "沟通了产品方案和报价",
                    rng.random_bool(0.7),
                    done
                ])
                .unwrap();
            } else {
                let planned = NOW - 7 * DAY + rng.random_range(0..37 * DAY);
                let remind_at = planned - 30 * MIN;
                let fired = (remind_at <= NOW).then_some(remind_at);
                ins.execute(rusqlite::params![
                    id,
                    cid,
                    kind,
                    "planned",
                    owner,
                    planned,
                    30,
                    remind_at,
                    fired,
                    None::<i64>,
                    None::<String>,
                    None::<bool>,
                    NOW - 30 * DAY
                ])
                .unwrap();
            }
        }
        let stages = [
            "initial_contact",
            "needs_analysis",
            "proposal",
            "negotiation",
            "contract",
            "paid",
            "lost",
        ];
        let mut opp = conn
            .prepare(
                "INSERT INTO opportunities(id, customer_id, name, owner_id, stage, stage_entered_at, expected_amount,
                    created_at, updated_at) VALUES (?1, ?2, '采购项目', ?3, ?4, ?5, ?6, ?5, ?5)",
            )
            .unwrap();
        for i in 0..OPPORTUNITIES {
            let (cid, owner, _) = &ids[rng.random_range(0..ids.len())];
            let entered = NOW - rng.random_range(0..120) * DAY;
            opp.execute(rusqlite::params![
                format!("opp-bench-{i:08}"),
                cid,
                owner,
                stages[rng.random_range(0..stages.len())],
                entered,
                (rng.random_range(1..500) * 10_000) as f64
            ])
            .unwrap();
        }
    }
    conn.execute_batch(
        "UPDATE customers SET
           last_followup_at = (SELECT max(done_at) FROM followups f WHERE f.customer_id = customers.id AND f.status = 'done'),
           next_followup_at = (SELECT min(planned_at) FROM followups f WHERE f.customer_id = customers.id AND f.status = 'planned');
         COMMIT; ANALYZE;",
    )
    .unwrap();
    eprintln!(
        "  {FOLLOWUPS} follow-ups, {OPPORTUNITIES} opportunities in {:.1?}",
        t.elapsed()
    );
    // The first evaluation raises every alert that holds (a one-off).
    let t = Instant::now();
    let ev = alerts::evaluate(&mut ws, NOW).unwrap();
    eprintln!(
        "  first alert evaluation: {} raised in {:.1?}",
        ev.raised,
        t.elapsed()
    );
    drop(ws);
    for ext in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{ext}", tmp.display()));
    }
    std::fs::rename(&tmp, path).unwrap();
}

fn benches(c: &mut Criterion) {
    let path = data_path();
    if !path.exists() {
        eprintln!("generating {} …", path.display());
        generate(&path);
    }
    let mut ws = open(&path);
    let owner: String = ws
        .conn()
        .query_row(
            "SELECT owner_id FROM customers WHERE owner_id IS NOT NULL LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let t = today::today(ws.conn(), NOW, &TodayQuery::default(), Lang::Zh).unwrap();
    eprintln!(
        "  Today: {} overdue, {} today, {} customers due by cadence, {} active alerts",
        t.overdue_total, t.today_total, t.due_customers_total, t.alerts_total
    );
    let mut g = c.benchmark_group("followups_100k_customers_1m_followups");
    g.measurement_time(Duration::from_secs(5));
    g.sample_size(30);
    g.bench_function("next_due_reminder", |b| {
        b.iter(|| reminders::next_due_time(ws.conn()).unwrap())
    });
    g.bench_function("due_at_now", |b| {
        b.iter(|| reminders::due_at(ws.conn(), NOW + 10 * MIN).unwrap())
    });
    g.bench_function("today_all", |b| {
        b.iter(|| today::today(ws.conn(), NOW, &TodayQuery::default(), Lang::Zh).unwrap())
    });
    g.bench_function("today_one_owner", |b| {
        let q = TodayQuery {
            owner_id: Some(owner.clone()),
            ..Default::default()
        };
        b.iter(|| today::today(ws.conn(), NOW, &q, Lang::Zh).unwrap())
    });
    // The scheduler evaluates the rules periodically: each run here is one
    // hour after the previous one (a time window plus what changed).
    let mut t = NOW;
    g.bench_function("alert_evaluation_hourly", |b| {
        b.iter(|| {
            t += 60 * MIN;
            alerts::evaluate(&mut ws, t).unwrap()
        })
    });
    // Checking every customer and opportunity again (after a settings
    // change), with nothing new to raise.
    g.bench_function("alert_evaluation_full", |b| {
        b.iter(|| alerts::evaluate_full(&mut ws, t).unwrap())
    });
    g.finish();
}

criterion_group!(benches_group, benches);
criterion_main!(benches_group);
