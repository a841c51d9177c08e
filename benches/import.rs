//! Import/export speed. Generates a 100k-row × 15-column customer sheet
//! (xlsx and csv), then times, each as the median of a few runs:
//! - calamine alone reading the xlsx (the baseline),
//! - `kehu::import::run` of the xlsx into an empty workspace (target ≤ 1.3 × baseline),
//! - the same data as csv (target ≤ 1 s),
//! - rust_xlsxwriter alone writing the same cells (baseline),
//! - `kehu::export::export_customers` of the imported 100k customers (target ≤ 1.3 × baseline).
//!
//! Peak memory (VmHWM, reset between phases) is printed with each phase.
//! `KEHU_BENCH_ROWS` changes the row count; `KEHU_BENCH_RUNS` the runs per phase.
//! Run: `cargo bench --bench import`.

// The allocator the `kehu` CLI and the desktop app use.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use calamine::Reader;
use kehu::clock::FixedClock;
use kehu::export::ExportOptions;
use kehu::import::{self, ImportOptions};
use kehu::Workspace;
use rust_xlsxwriter::Workbook;
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, Instant};

const HEADERS: [&str; 15] = [
    "客户编号",
    "客户名称",
    "所属行业",
    "线索来源",
    "客户状态",
    "客户分级",
    "省份",
    "城市",
    "详细地址",
    "联系人",
    "职务",
    "手机",
    "邮箱",
    "预算(元)",
    "首次接触时间",
];
const INDUSTRY: [&str; 6] = [
    "制造业",
    "信息技术",
    "批发零售",
    "教育培训",
    "金融",
    "医疗健康",
];
const SOURCE: [&str; 5] = ["展会", "官网表单", "转介绍", "代理商", "陌拜"];
const STATUS: [&str; 4] = ["潜在客户", "意向客户", "成交客户", "流失客户"];
const CITY: [(&str, &str); 4] = [
    ("浙江省", "杭州市"),
    ("广东省", "深圳市"),
    ("江苏省", "南京市"),
    ("北京市", "北京市"),
];
const SURNAME: [&str; 8] = ["张", "王", "李", "赵", "刘", "陈", "杨", "黄"];

fn row(i: usize) -> [String; 15] {
    let (p, c) = CITY[i % 4];
    [
        format!("B{i:07}"),
        format!(
            "{}{}科技有限公司{i}",
            c.trim_end_matches('市'),
            ["云帆", "星辰", "华信", "远航"][i % 4]
        ),
        INDUSTRY[i % 6].into(),
        SOURCE[i % 5].into(),
        STATUS[i % 4].into(),
        ["A", "B", "C"][i % 3].into(),
        p.into(),
        c.into(),
        format!("{}路{}号", ["文三", "科技", "中山", "人民"][i % 4], i % 500),
        format!("{}{}", SURNAME[i % 8], ["伟", "芳", "娜", "强"][i % 4]),
        ["采购经理", "总经理", "技术总监"][i % 3].into(),
        format!("13{}{:08}", i % 10, i),
        format!("user{i}@example.com"),
        format!("{}", (i % 100) * 1000),
        format!("2024-{:02}-{:02}", i % 12 + 1, i % 28 + 1),
    ]
}

fn write_xlsx(path: &Path, rows: usize) {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet_with_constant_memory().unwrap();
    for (c, h) in HEADERS.iter().enumerate() {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    for i in 0..rows {
        for (c, v) in row(i).iter().enumerate() {
            if c == 13 {
                ws.write_number(i as u32 + 1, c as u16, v.parse::<f64>().unwrap())
                    .unwrap();
            } else {
                ws.write_string(i as u32 + 1, c as u16, v).unwrap();
            }
        }
    }
    wb.save(path).unwrap();
}

fn write_csv(path: &Path, rows: usize) {
    let mut w = csv::Writer::from_path(path).unwrap();
    w.write_record(HEADERS).unwrap();
    for i in 0..rows {
        w.write_record(row(i)).unwrap();
    }
    w.flush().unwrap();
}

/// Reset the peak-RSS counter (Linux), so each phase reports its own peak.
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn peak_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(f64::NAN)
}

/// CPU seconds (user + system) this process has used: robust when the
/// machine is shared and wall time is not.
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

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// Median (wall, CPU) time of `runs` runs of `f`.
fn time(label: &str, runs: usize, mut f: impl FnMut()) -> (Duration, Duration) {
    let mut ds = vec![];
    let mut cpus = vec![];
    let mut peak = 0f64;
    for _ in 0..runs {
        // Memory an earlier phase freed but the allocator kept is not this
        // phase's: hand it back before resetting the peak.
        kehu::memory::release_freed();
        reset_peak();
        let (t, c) = (Instant::now(), cpu_s());
        f();
        ds.push(t.elapsed());
        cpus.push(Duration::from_secs_f64((cpu_s() - c).max(0.0)));
        peak = peak.max(peak_mb());
    }
    let d = median(ds);
    let c = median(cpus);
    println!(
        "{label:<48} wall {:>8.3} s   cpu {:>8.3} s   peak RSS {peak:>7.1} MB",
        d.as_secs_f64(),
        c.as_secs_f64()
    );
    (d, c)
}

fn fresh_ws(dir: &Path, n: usize) -> Workspace {
    let p = dir.join(format!("bench{n}.db"));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", p.display()));
    }
    Workspace::open_with_clock(&p, Arc::new(FixedClock::new(1_763_978_400_000))).unwrap()
}

fn main() {
    // `cargo test --benches` passes --bench-less args; only run under `cargo bench`.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let rows: usize = std::env::var("KEHU_BENCH_ROWS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000);
    let runs: usize = std::env::var("KEHU_BENCH_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    let dir = tempfile::tempdir().unwrap();
    let xlsx = dir.path().join("customers.xlsx");
    let csvp = dir.path().join("customers.csv");
    write_xlsx(&xlsx, rows);
    write_csv(&csvp, rows);
    println!(
        "{rows} rows × 15 columns: xlsx {:.1} MB, csv {:.1} MB, {runs} runs per phase (median)",
        std::fs::metadata(&xlsx).unwrap().len() as f64 / 1e6,
        std::fs::metadata(&csvp).unwrap().len() as f64 / 1e6
    );

    let (_, base) = time("calamine alone: read xlsx", runs, || {
        let mut wb: calamine::Xlsx<_> = calamine::open_workbook(&xlsx).unwrap();
        let r = wb.worksheet_range_at(0).unwrap().unwrap();
        assert_eq!(r.height(), rows + 1);
    });
    let (_, read) = time("kehu: read + map + validate xlsx (preview)", runs, || {
        let ws = fresh_ws(dir.path(), 0);
        let pv = import::preview(&ws, &xlsx, &ImportOptions::default()).unwrap();
        assert_eq!(pv.create, rows);
    });
    let mut n = 1;
    let (_, imp) = time("kehu: import xlsx into empty workspace", runs, || {
        let mut ws = fresh_ws(dir.path(), n);
        n += 1;
        let rep = import::run(
            &mut ws,
            &xlsx,
            &ImportOptions::default(),
            false,
            &mut |_| {},
            &AtomicBool::new(false),
        )
        .unwrap();
        assert_eq!(rep.imported, rows);
    });
    let (_, csv_t) = time("kehu: import csv into empty workspace", runs, || {
        let mut ws = fresh_ws(dir.path(), n);
        n += 1;
        let rep = import::run(
            &mut ws,
            &csvp,
            &ImportOptions::default(),
            false,
            &mut |_| {},
            &AtomicBool::new(false),
        )
        .unwrap();
        assert_eq!(rep.imported, rows);
    });

    // The workspace the last import filled.
    let ws = Workspace::open(dir.path().join(format!("bench{}.db", n - 1))).unwrap();
    let out_base = dir.path().join("plain.xlsx");
    let (wbase, wbase_cpu) = time("rust_xlsxwriter alone: write the cells", runs, || {
        write_xlsx(&out_base, rows)
    });
    let out = dir.path().join("export.xlsx");
    // The same 15 columns the baseline writes.
    use kehu::import::mapping::Field as F;
    let same = ExportOptions {
        columns: vec![
            F::Code,
            F::Name,
            F::Industry,
            F::Source,
            F::Status,
            F::Grade,
            F::Province,
            F::City,
            F::Address,
            F::ContactName,
            F::ContactTitle,
            F::ContactMobile,
            F::ContactEmail,
            F::Budget,
            F::FirstContactDate,
        ],
        ..Default::default()
    };
    let (exp, exp_cpu) = time(
        "kehu: export customers to xlsx (same 15 cols)",
        runs,
        || {
            let n = kehu::export::export_customers(ws.conn(), &out, &same).unwrap();
            assert_eq!(n, rows);
        },
    );
    time("kehu: export customers to xlsx (all 27 cols)", runs, || {
        kehu::export::export_customers(ws.conn(), &out, &ExportOptions::default()).unwrap();
    });
    let outc = dir.path().join("export.csv");
    time("kehu: export customers to csv", runs, || {
        kehu::export::export_customers(ws.conn(), &outc, &ExportOptions::default()).unwrap();
    });
    println!();
    println!("(import ratios use CPU time; peak RSS includes SQLite's memory-mapped database file and is not reset between phases where /proc/self/clear_refs is not writable)");
    println!(
        "import xlsx / calamine alone   = {:.2}× (target ≤ 1.3×)",
        imp.as_secs_f64() / base.as_secs_f64()
    );
    println!(
        "preview xlsx / calamine alone  = {:.2}×",
        read.as_secs_f64() / base.as_secs_f64()
    );
    println!(
        "import csv                     = {:.3} s (target ≤ 1 s)",
        csv_t.as_secs_f64()
    );
    // An export reads on one thread and writes on another: what the user
    // waits for is the wall time (CPU time adds both threads).
    println!(
        "export xlsx / writer alone     = {:.2}× wall (target ≤ 1.3×), {:.2}× CPU",
        exp.as_secs_f64() / wbase.as_secs_f64(),
        exp_cpu.as_secs_f64() / wbase_cpu.as_secs_f64()
    );
}
