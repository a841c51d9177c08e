//! Speed of the analysis at scale: 100k customers, 200k opportunities with
//! stage history, 1M follow-ups over two years. Run with
//! `cargo bench --bench analysis` (`-- --scale 0.1` for a tenth). Prints
//! p50/p95/max per report; the numbers go into the README.
//!
//! The data is written with plain SQL in one transaction (the shape the
//! core writes: entity rows, stage history, a creation and status entries
//! in the change log), because writing a million follow-ups through the
//! API would measure the writer, not the analysis.

// The allocator the `kehu` CLI and the desktop app use.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use kehu::analysis::{self, segments, targets, Bucket, Filter};
use kehu::clock::FixedClock;
use kehu::{Lang, Workspace};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use rusqlite::params;
use std::sync::Arc;
use std::time::{Duration, Instant};

const DAY: i64 = 86_400_000;
/// "Now": 2026-11-20 12:00 UTC.
const NOW: i64 = 1_795_176_000_000;

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn report(label: &str, mut d: Vec<Duration>) {
    d.sort();
    let ms = |x: Duration| x.as_secs_f64() * 1000.0;
    let p = |q: f64| ms(d[((d.len() as f64 - 1.0) * q).round() as usize]);
    println!(
        "{label:<44} n={:<3} p50 {:>8.2} ms  p95 {:>8.2} ms  max {:>8.2} ms",
        d.len(),
        p(0.5),
        p(0.95),
        ms(*d.last().unwrap())
    );
}

/// `--only WORD`: run only the lines whose label contains WORD.
fn wanted(label: &str) -> bool {
    arg("--only").is_none_or(|w| label.contains(&w))
}

/// CPU time of this process so far (user + system, all threads), from
/// /proc/self/stat in clock ticks (100 Hz): on a shared machine wall time
/// includes waiting for a core, CPU time does not.
fn cpu_ms() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let rest = stat.rsplit_once(')')?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    Some(ticks * 10.0)
}

fn bench<T>(label: &str, n: usize, mut f: impl FnMut() -> T) {
    if !wanted(label) {
        return;
    }
    f(); // warm the page cache and statement cache
    let mut d = vec![];
    let c0 = cpu_ms();
    for _ in 0..n {
        let t = Instant::now();
        std::hint::black_box(f());
        d.push(t.elapsed());
    }
    report(label, d);
    if let (Some(a), Some(b)) = (c0, cpu_ms()) {
        println!("{:<44} cpu mean {:>8.1} ms", "", (b - a) / n as f64);
    }
}

/// Follow-up texts (沟通内容, 客户反馈) in the style of seed 004's
/// follow-up table, for the keyword cloud.
const CONTENT: [&str; 16] = [
    "确认客户需求细节",
    "发送技术方案",
    "电话沟通采购计划",
    "客户关注价格和交付周期",
    "上门拜访采购经理",
    "演示产品功能",
    "推出季度采购优惠套餐",
    "客户希望快速交付",
    "讨论合同条款",
    "客户对售后服务有顾虑",
    "介绍成功案例",
    "客户预算不足",
    "竞品报价更低",
    "需求不明确，需要再次沟通",
    "邀请参加展会",
    "客户决策周期长",
];
const FEEDBACK: [&str; 10] = [
    "方案需补充成本说明",
    "价格仍偏高，需申请折扣",
    "价格敏感",
    "希望快速交付",
    "对产品质量满意",
    "需要内部讨论",
    "要求提供试用",
    "售后响应要快",
    "预算下个季度才批",
    "和竞品对比中",
];

fn generate(ws: &mut Workspace, scale: f64) {
    let n_cust = (100_000.0 * scale) as usize;
    let n_opp = (200_000.0 * scale) as usize;
    let n_fu = (1_000_000.0 * scale) as usize;
    let mut rng = SmallRng::seed_from_u64(42);
    let members: Vec<String> = (0..20)
        .map(|i| {
            kehu::members::add(
                ws,
                kehu::members::MemberFields {
                    name: format!("销售{i:02}"),
                    ..Default::default()
                },
            )
            .unwrap()
            .id
        })
        .collect();
    let sources = ["展会", "官网表单", "转介绍", "代理商", "陌拜", "线上推广"];
    let provinces = ["广东", "浙江", "江苏", "上海", "北京", "四川", "山东"];
    let industries = ["制造业", "零售", "IT服务", "教育", "医疗", "物流"];
    let keys = [
        "initial_contact",
        "needs_analysis",
        "proposal",
        "negotiation",
        "contract",
        "paid",
    ];
    let kinds = ["call", "visit", "email", "meeting", "wechat"];
    let span = 730 * DAY;
    let start = NOW - span;
    let conn = ws.conn();
    conn.execute_batch("BEGIN").unwrap();
    let mut cust = vec![];
    {
        let mut ins = conn
            .prepare(
                "INSERT INTO customers(id, code, name, source, status, owner_id, province, industry,
                    annual_purchase, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10)",
            )
            .unwrap();
        let mut log = conn
            .prepare(
                "INSERT INTO changes(hlc, device_id, entity, entity_id, field, old, new, origin, at)
                 VALUES (?1, 'bench', 'customer', ?2, ?3, ?4, ?5, 'bench', ?6)",
            )
            .unwrap();
        let mut hlc = 1i64;
        for i in 0..n_cust {
            let id = kehu::new_id();
            let t = start + rng.random_range(0..span);
            let owner = &members[rng.random_range(0..members.len())];
            let r: f64 = rng.random();
            let path: &[&str] = if r < 0.5 {
                &["prospect"]
            } else if r < 0.75 {
                &["prospect", "interested"]
            } else if r < 0.9 {
                &["prospect", "interested", "won"]
            } else {
                &["prospect", "interested", "lost"]
            };
            let status = *path.last().unwrap();
            ins.execute(params![
                id,
                format!("B{i:08}"),
                format!("客户{i}"),
                sources[rng.random_range(0..sources.len())],
                status,
                owner,
                provinces[rng.random_range(0..provinces.len())],
                industries[rng.random_range(0..industries.len())],
                rng.random_range(0..1_000_000) as f64,
                t
            ])
            .unwrap();
            hlc += 1;
            log.execute(params![
                hlc,
                id,
                "*",
                None::<String>,
                serde_json::json!({"status": "prospect", "name": format!("客户{i}")}).to_string(),
                t
            ])
            .unwrap();
            let mut at = t;
            for w in path.windows(2) {
                at += rng.random_range(DAY / 2..20 * DAY);
                hlc += 1;
                log.execute(params![
                    hlc,
                    id,
                    "status",
                    format!("\"{}\"", w[0]),
                    format!("\"{}\"", w[1]),
                    at
                ])
                .unwrap();
            }
            cust.push((id, t, owner.clone()));
        }
    }
    {
        let mut ins = conn
            .prepare(
                "INSERT INTO opportunities(id, customer_id, name, owner_id, stage, stage_entered_at,
                    expected_amount, received_amount, loss_reason, created_at, updated_at)
                 VALUES (?1, ?2, '项目', ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?5)",
            )
            .unwrap();
        let mut hist = conn
            .prepare(
                "INSERT INTO opportunity_stage_history(id, opportunity_id, stage, entered_at, left_at, reason)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .unwrap();
        for _ in 0..n_opp {
            let (cid, ct, owner) = &cust[rng.random_range(0..cust.len())];
            let id = kehu::new_id();
            let created = ct + rng.random_range(0..30 * DAY);
            let mut stays: Vec<(&str, i64, Option<&str>)> = vec![(keys[0], created, None)];
            let mut cur = 0usize;
            let mut t = created;
            for _ in 0..rng.random_range(0..6) {
                t += rng.random_range(DAY / 4..15 * DAY);
                if rng.random_bool(0.15) {
                    stays.push(("lost", t, Some("价格过高")));
                    break;
                }
                cur = (cur + rng.random_range(1..3)).min(5);
                stays.push((keys[cur], t, None));
                if cur == 5 {
                    break;
                }
            }
            let (stage, entered, reason) = *stays.last().unwrap();
            let amount = rng.random_range(1..200) as f64 * 1000.0;
            let received = (cur >= 4).then(|| amount * rng.random_range(0..=10) as f64 / 10.0);
            ins.execute(params![
                id, cid, owner, stage, entered, amount, received, reason, created
            ])
            .unwrap();
            for (k, s) in stays.iter().enumerate() {
                let left = stays.get(k + 1).map(|n| n.1);
                hist.execute(params![kehu::new_id(), id, s.0, s.1, left, s.2])
                    .unwrap();
            }
        }
    }
    {
        let mut ins = conn
            .prepare(
                "INSERT INTO followups(id, customer_id, kind, status, owner_id, done_at, feedback, effective,
                    content, created_at, updated_at) VALUES (?1, ?2, ?3, 'done', ?4, ?5, ?6, ?7, ?8, ?5, ?5)",
            )
            .unwrap();
        for _ in 0..n_fu {
            let (cid, ct, owner) = &cust[rng.random_range(0..cust.len())];
            let t = (ct + rng.random_range(0..120 * DAY)).min(NOW - 1);
            let fb = if rng.random_bool(0.05) {
                Some("价格过高".to_string())
            } else if rng.random_bool(0.4) {
                Some(FEEDBACK[rng.random_range(0..FEEDBACK.len())].to_string())
            } else {
                None
            };
            let content = format!(
                "{}，{}",
                CONTENT[rng.random_range(0..CONTENT.len())],
                CONTENT[rng.random_range(0..CONTENT.len())]
            );
            ins.execute(params![
                kehu::new_id(),
                cid,
                kinds[rng.random_range(0..kinds.len())],
                owner,
                t,
                fb,
                rng.random_bool(0.6),
                content
            ])
            .unwrap();
        }
    }
    conn.execute_batch(
        "UPDATE customers SET last_followup_at = (SELECT max(done_at) FROM followups f
            WHERE f.customer_id = customers.id AND f.status = 'done' AND f.deleted_at IS NULL);
         COMMIT; ANALYZE;",
    )
    .unwrap();
    targets::set(
        ws,
        None,
        "2026-11",
        targets::TargetFields {
            amount: Some(20_000_000.0),
            ..Default::default()
        },
    )
    .unwrap();
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let scale: f64 = arg("--scale").and_then(|s| s.parse().ok()).unwrap_or(1.0);
    let dir = tempfile::tempdir().unwrap();
    // `--db PATH` keeps the generated data set in PATH and reuses it on the
    // next run (generation takes minutes at full scale); migrations added
    // since are applied on open.
    let keep = arg("--db").map(std::path::PathBuf::from);
    let path = keep.clone().unwrap_or_else(|| dir.path().join("bench.db"));
    let reuse = keep.is_some() && path.exists();
    let clock = FixedClock::new(NOW);
    let mut ws = Workspace::open_with_clock(&path, Arc::new(clock.clone())).unwrap();
    if let Some(p) = arg("--pragma") {
        ws.conn().execute_batch(&format!("PRAGMA {p}")).unwrap();
    }
    let t = Instant::now();
    if reuse {
        ws.conn().execute_batch("ANALYZE").unwrap();
    } else {
        generate(&mut ws, scale);
    }
    let counts: (i64, i64, i64, i64) = ws
        .conn()
        .query_row(
            "SELECT (SELECT count(*) FROM customers), (SELECT count(*) FROM opportunities),
                    (SELECT count(*) FROM opportunity_stage_history), (SELECT count(*) FROM followups)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap();
    println!(
        "data: {} customers, {} opportunities ({} stage stays), {} follow-ups; {} in {:.1} s",
        counts.0,
        counts.1,
        counts.2,
        counts.3,
        if reuse { "reused" } else { "generated" },
        t.elapsed().as_secs_f64()
    );
    let (from, to) = analysis::month_of(NOW);
    let month = Filter::new(from, to);
    let quarter = {
        let (_, a, b) = targets::parse_period("2026-Q4").unwrap();
        Filter::new(a, b)
    };
    let owner: String = ws
        .conn()
        .query_row("SELECT id FROM members LIMIT 1", [], |r| r.get(0))
        .unwrap();
    let conn = ws.conn();
    let it: usize = arg("--iter").and_then(|s| s.parse().ok()).unwrap_or(10);
    let pipe = analysis::Pipe::load(conn).unwrap();
    bench("part: opps_closed (month)", it, || {
        analysis::opps_closed(conn, &pipe, &month).unwrap()
    });
    let two = Filter::new(month.previous().from, month.to);
    bench("part: opps_closed (two months)", it, || {
        analysis::opps_closed(conn, &pipe, &two).unwrap()
    });
    bench("part: customers_created (two months)", it, || {
        analysis::customers_created(conn, &two).unwrap()
    });
    bench("part: opps_created (month)", it, || {
        analysis::opps_created(conn, &pipe, &month).unwrap()
    });
    bench("part: customers_created (month)", it, || {
        analysis::customers_created(conn, &month).unwrap()
    });
    bench("part: leads (month)", it, || {
        analysis::leads(conn, &month).unwrap()
    });
    bench("dashboard (month, team)", it, || {
        analysis::dashboard(conn, &month, NOW).unwrap()
    });
    bench("dashboard (month, one owner)", it, || {
        analysis::dashboard(conn, &month.clone().owner(Some(&owner)), NOW).unwrap()
    });
    bench("report funnel (month)", it, || {
        analysis::pipeline_funnel(conn, &month, Lang::Zh).unwrap()
    });
    bench("report funnel (quarter)", it, || {
        analysis::pipeline_funnel(conn, &quarter, Lang::Zh).unwrap()
    });
    bench("report customers (month)", it, || {
        analysis::customer_funnel(conn, &month, Lang::Zh).unwrap()
    });
    bench("report conversion (month)", it, || {
        analysis::conversion(conn, &month).unwrap()
    });
    bench("report cycle (month)", it, || {
        analysis::cycle(conn, &month).unwrap()
    });
    bench("report sales (month)", it, || {
        analysis::sales(conn, &month, NOW).unwrap()
    });
    bench("report followups (month)", it, || {
        analysis::followup_activity(conn, &month, Lang::Zh).unwrap()
    });
    bench("report sources (month)", it, || {
        analysis::sources(conn, &month, Lang::Zh).unwrap()
    });
    bench("report trend by day (month)", it, || {
        analysis::trend(conn, &month, Bucket::Day).unwrap()
    });
    bench("report trend by week (quarter)", it, || {
        analysis::trend(conn, &quarter, Bucket::Week).unwrap()
    });
    bench("report targets (month, 20 members)", it, || {
        targets::report(conn, "2026-11", NOW, Lang::Zh).unwrap()
    });
    bench("daily report (build, yesterday)", it, || {
        analysis::daily::build(conn, analysis::daily::report_day(NOW), NOW, Lang::Zh).unwrap()
    });
    let all = Filter::new(NOW - 731 * DAY, NOW + DAY);
    bench("keyword cloud cold, 1M follow-ups (2 years)", 3, || {
        analysis::keywords::compute(conn, &all, 30, NOW).unwrap()
    });
    bench("keyword cloud cold (month)", it, || {
        analysis::keywords::compute(conn, &month, 30, NOW).unwrap()
    });
    // Real notes repeat less than the generated ones: segmentation speed
    // on distinct texts (one thread), to scale to a million distinct notes.
    let mut rng = SmallRng::seed_from_u64(7);
    let distinct: Vec<String> = (0..100_000)
        .map(|i| {
            format!(
                "{}，{}。{}（第{i}次）",
                CONTENT[rng.random_range(0..CONTENT.len())],
                FEEDBACK[rng.random_range(0..FEEDBACK.len())],
                CONTENT[rng.random_range(0..CONTENT.len())]
            )
        })
        .collect();
    bench("jieba: 100k distinct notes, one thread", 1, || {
        distinct
            .iter()
            .map(|t| analysis::keywords::keywords_of(t).len())
            .sum::<usize>()
    });
    bench("segmenter (clause memo): 100k distinct notes", 1, || {
        let mut seg = analysis::keywords::Segmenter::default();
        let mut out = vec![];
        distinct
            .iter()
            .map(|t| {
                seg.keywords(t, &mut out);
                out.len()
            })
            .sum::<usize>()
    });
    if wanted("keyword cloud cached") {
        analysis::keywords::cloud(conn, &all, 30, NOW).unwrap();
    }
    bench("keyword cloud cached (2 years)", it, || {
        let c = analysis::keywords::cloud(conn, &all, 30, NOW).unwrap();
        assert!(c.cached);
        c
    });
    bench("report segments (summary)", it, || {
        segments::summary(conn, None, Lang::Zh).unwrap()
    });
    let ids: Vec<String> = conn
        .prepare("SELECT customer_id FROM followups ORDER BY random() LIMIT 50")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    let mut d = vec![];
    for id in ids
        .iter()
        .filter(|_| wanted("segment recompute, one customer"))
    {
        let t = Instant::now();
        ws.write("bench", |w| {
            segments::recompute(w.tx(), id, w.now())?;
            Ok(())
        })
        .unwrap();
        d.push(t.elapsed());
    }
    if !d.is_empty() {
        report("segment recompute, one customer (in a write)", d);
    }
    let out = dir.path().join("report.xlsx");
    bench("xlsx report (month)", 3, || {
        analysis::xlsx::write_report(ws.conn(), &month, NOW, Lang::Zh, &out).unwrap()
    });
    #[cfg(feature = "pdf")]
    pdf_reports(&ws, &month, &quarter, dir.path());
    if !wanted("segment recompute_all") {
        return;
    }
    let t = Instant::now();
    let n = segments::recompute_all(&mut ws, NOW).unwrap();
    println!(
        "segment recompute_all: {n} customers in a segment, {:.1} s",
        t.elapsed().as_secs_f64()
    );
}

/// The PDF: the same data as the workbook, typeset (fonts read once per
/// process, so the warm-up run pays for them and the runs below do not).
#[cfg(feature = "pdf")]
fn pdf_reports(ws: &Workspace, month: &Filter, quarter: &Filter, dir: &std::path::Path) {
    let out = dir.join("report.pdf");
    if wanted("pdf report") {
        let t = Instant::now();
        analysis::pdf::write_report(ws.conn(), month, NOW, Lang::Zh, &out).unwrap();
        println!(
            "{:<44} {:>8.0} ms ({} KiB)",
            "pdf report, first (reads the fonts)",
            t.elapsed().as_secs_f64() * 1000.0,
            std::fs::metadata(&out).unwrap().len() / 1024
        );
    }
    bench("pdf report (month)", 3, || {
        analysis::pdf::write_report(ws.conn(), month, NOW, Lang::Zh, &out).unwrap()
    });
    bench("pdf report (quarter, by week)", 3, || {
        analysis::pdf::write_report(ws.conn(), quarter, NOW, Lang::Zh, &out).unwrap()
    });
}
