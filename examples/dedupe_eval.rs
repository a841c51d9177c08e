//! Duplicate detection quality and scale.
//!
//! `cargo run --release --example dedupe_eval -- DIR` reads DIR/records.csv
//! (`id,name,contact,mobile,region,cluster`) and DIR/pairs.csv (true pairs)
//! and prints pairwise precision, recall and F1, recall on mobile-linked and
//! name-only pairs, compared pairs and time. `--scale` prints compared pairs
//! and time on generated bases of 10k / 50k / 100k records.

use kehu::dedupe::{self, normalize, Record, Settings};
use std::collections::{HashMap, HashSet};
use std::time::Instant;

fn parse_csv_line(line: &str) -> Vec<String> {
    let mut out = vec![];
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    out.push(cur);
    out
}

fn eval(dir: &str, s: &Settings, verbose: bool) {
    let text = std::fs::read_to_string(format!("{dir}/records.csv")).expect("records.csv");
    let mut ids = vec![];
    let mut records = vec![];
    for line in text.lines().skip(1) {
        let f = parse_csv_line(line);
        if f.len() < 5 {
            continue;
        }
        ids.push(f[0].parse::<u32>().unwrap());
        records.push(Record {
            name: f[1].clone(),
            contacts: vec![f[2].clone()]
                .into_iter()
                .filter(|c| !c.trim().is_empty())
                .collect(),
            mobiles: vec![f[3].clone()]
                .into_iter()
                .filter(|c| !c.trim().is_empty())
                .collect(),
            emails: vec![],
            region: f[4].clone(),
        });
    }
    let truth: HashSet<(u32, u32)> = std::fs::read_to_string(format!("{dir}/pairs.csv"))
        .expect("pairs.csv")
        .lines()
        .skip(1)
        .filter_map(|l| {
            let (a, b) = l.split_once(',')?;
            Some((a.trim().parse().ok()?, b.trim().parse().ok()?))
        })
        .collect();
    let t0 = Instant::now();
    let found = dedupe::find(&records, s);
    let elapsed = t0.elapsed();
    let mut predicted: HashSet<(u32, u32)> = HashSet::new();
    for g in &found.groups {
        for (x, &i) in g.iter().enumerate() {
            for &j in &g[x + 1..] {
                let (a, b) = (ids[i].min(ids[j]), ids[i].max(ids[j]));
                predicted.insert((a, b));
            }
        }
    }
    let by_id: HashMap<u32, usize> = ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
    let phone = |i: usize| {
        records[i]
            .mobiles
            .first()
            .and_then(|m| normalize::normalize_phone(m))
    };
    let tp = predicted.intersection(&truth).count() as f64;
    let p = tp / predicted.len().max(1) as f64;
    let r = tp / truth.len().max(1) as f64;
    let f1 = 2.0 * p * r / (p + r).max(1e-9);
    let (mut mob_t, mut mob_f, mut name_t, mut name_f) = (0, 0, 0, 0);
    for &(a, b) in &truth {
        let (i, j) = (by_id[&a], by_id[&b]);
        let linked = phone(i).is_some() && phone(i) == phone(j);
        let hit = predicted.contains(&(a, b));
        match (linked, hit) {
            (true, true) => mob_t += 1,
            (true, false) => mob_f += 1,
            (false, true) => name_t += 1,
            (false, false) => name_f += 1,
        }
    }
    println!(
        "threshold {:.2}: P {:.3}  R {:.3}  F1 {:.3}  | recall mobile-linked {:.3} ({}), name-only {:.3} ({}) | predicted pairs {}, compared pairs {}, groups {}, time {:.0} ms",
        s.threshold,
        p,
        r,
        f1,
        mob_t as f64 / (mob_t + mob_f).max(1) as f64,
        mob_t + mob_f,
        name_t as f64 / (name_t + name_f).max(1) as f64,
        name_t + name_f,
        predicted.len(),
        found.compared,
        found.groups.len(),
        elapsed.as_secs_f64() * 1000.0
    );
    if verbose {
        let name = |id: u32| records[by_id[&id]].name.clone();
        let mut fps: Vec<_> = predicted.difference(&truth).collect();
        fps.sort();
        println!("-- false positives (first 40 of {})", fps.len());
        for &&(a, b) in fps.iter().take(40) {
            let m = dedupe::score(
                &dedupe::prepare(&records[by_id[&a]]),
                &dedupe::prepare(&records[by_id[&b]]),
                s,
            );
            let why: Vec<_> = m.reasons.iter().map(|r| r.zh.clone()).collect();
            println!(
                "  {} | {} | {:.3} {}",
                name(a),
                name(b),
                m.score,
                why.join("、")
            );
        }
        let mut fns: Vec<_> = truth.difference(&predicted).collect();
        fns.sort();
        println!("-- missed (first 60 of {})", fns.len());
        for &&(a, b) in fns.iter().take(60) {
            let pa = dedupe::prepare(&records[by_id[&a]]);
            let pb = dedupe::prepare(&records[by_id[&b]]);
            let m = dedupe::score(&pa, &pb, s);
            let why: Vec<_> = m.reasons.iter().map(|r| r.zh.clone()).collect();
            println!(
                "  {} [{}] | {} [{}] | {:.3} {}",
                name(a),
                pa.core.iter().collect::<String>(),
                name(b),
                pb.core.iter().collect::<String>(),
                m.score,
                why.join("、")
            );
        }
    }
}

/// A synthetic base shaped like real customer lists: distinct companies
/// (random 字号 + industry + place + legal form) and 30 % re-typed copies.
fn synthetic(n: usize, seed: u64) -> Vec<Record> {
    let brand_chars: Vec<char> = "华盛天达兴隆恒通宏远鑫源金瑞祥和泰安康永嘉信德宝丰利新明东方正大中光辉海龙腾云飞鹏程万博创美嘉旭昌顺凯凌峰锦绣佳宇航星晨阳晟弘毅卓越昊辰亿联众诚科睿智启铭浩瀚江川鼎益荣福俊翔鸿运发展友邦力合成恒业立新汇聚丰收长城百年尚品优选精工匠心蓝天白云青山绿水红日紫光银河北斗南方西部东海中原神州九州四海五洲环球世纪时代未来先锋开拓奋进腾飞跃升赢家合众共赢互惠同心协力齐心德胜仁和义信礼智忠孝廉耻勤俭朴实谦恭温良宽厚博爱慈善友谊和平安宁祥瑞吉庆喜乐欢欣悦怡静雅清逸灵秀俊杰英豪雄伟壮丽辉煌灿烂璀璨晶莹玲珑剔透"
        .chars()
        .collect();
    let trades = [
        "科技",
        "贸易",
        "电子",
        "机械",
        "化工",
        "建筑工程",
        "物流",
        "食品",
        "服饰",
        "医药",
        "商贸",
        "信息技术",
        "网络科技",
        "新材料",
        "环保科技",
        "汽车服务",
        "文化传媒",
        "广告",
        "装饰工程",
        "农业",
        "包装材料",
        "印刷",
        "能源",
        "电力设备",
        "实业",
        "投资管理",
        "企业管理咨询",
        "餐饮管理",
        "酒店管理",
        "教育咨询",
    ];
    let places = [
        "北京",
        "上海",
        "广州市",
        "深圳市",
        "杭州",
        "南京市",
        "武汉",
        "成都市",
        "重庆",
        "西安市",
        "长沙",
        "郑州市",
        "济南",
        "青岛市",
        "苏州",
        "无锡市",
        "宁波",
        "合肥市",
        "福州",
        "厦门市",
        "昆明",
        "南宁市",
        "沈阳",
        "大连市",
        "",
        "",
        "",
    ];
    let suffixes = ["有限公司", "有限公司", "有限责任公司", "股份有限公司", ""];
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut rnd = |m: usize| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        (x % m as u64) as usize
    };
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let brand: String = (0..2 + rnd(2))
            .map(|_| brand_chars[rnd(brand_chars.len())])
            .collect();
        let trade = trades[rnd(trades.len())];
        let place = places[rnd(places.len())];
        let mobile = format!("1{}{:09}", 3 + rnd(7), rnd(1_000_000_000));
        let copies = if rnd(10) < 3 { 2 } else { 1 };
        for c in 0..copies {
            let name = if c == 0 {
                format!("{place}{brand}{trade}{}", suffixes[rnd(suffixes.len())])
            } else {
                format!("{brand}{}", trade.chars().take(2).collect::<String>())
            };
            out.push(Record {
                name,
                contacts: vec![],
                mobiles: if rnd(2) == 0 {
                    vec![mobile.clone()]
                } else {
                    vec![]
                },
                emails: vec![],
                region: place.to_string(),
            });
        }
    }
    out.truncate(n);
    out
}

/// The database side on a generated base of `n` customers: full scan,
/// the live hint for one record, merge and unmerge.
fn db_bench(n: usize) {
    use kehu::contacts::ContactFields;
    use kehu::customers::{self, CustomerFields, NewCustomer};
    let dir = tempfile::tempdir().unwrap();
    let mut ws = kehu::Workspace::open(dir.path().join("bench.db")).unwrap();
    let records = synthetic(n, 11);
    let t0 = Instant::now();
    for chunk in records.chunks(20_000) {
        ws.write("bench", |w| {
            for r in chunk {
                customers::insert(
                    w,
                    NewCustomer {
                        fields: CustomerFields {
                            province: Some(r.region.clone()).filter(|r| !r.is_empty()),
                            ..CustomerFields::named(&r.name)
                        },
                        contacts: r
                            .mobiles
                            .iter()
                            .map(|m| ContactFields {
                                name: "张伟".into(),
                                mobile: Some(m.clone()),
                                ..Default::default()
                            })
                            .collect(),
                        tags: vec![],
                    },
                    None,
                )?;
            }
            Ok(())
        })
        .unwrap();
    }
    println!(
        "{n} customers inserted in {:.1} s",
        t0.elapsed().as_secs_f64()
    );
    let t0 = Instant::now();
    let never = std::sync::atomic::AtomicBool::new(false);
    let scan = dedupe::scan(ws.conn(), &mut |_, _| {}, &never).unwrap();
    println!(
        "scan: {} groups, {} pairs compared, {:.0} ms",
        scan.groups.len(),
        scan.compared,
        t0.elapsed().as_secs_f64() * 1000.0
    );
    let mut times = vec![];
    for r in records.iter().step_by((n / 200).max(1)).take(200) {
        let draft = dedupe::Draft {
            name: r.name.clone(),
            mobiles: r.mobiles.clone(),
            ..Default::default()
        };
        let t = Instant::now();
        let c = dedupe::candidates_for(ws.conn(), &draft, 5).unwrap();
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        assert!(!c.is_empty(), "{} finds itself", r.name);
    }
    times.sort_by(|a, b| a.total_cmp(b));
    println!(
        "check (candidates_for): median {:.2} ms, p95 {:.2} ms, max {:.2} ms over {} records",
        times[times.len() / 2],
        times[times.len() * 95 / 100],
        times[times.len() - 1],
        times.len()
    );
    let mk = |ws: &mut kehu::Workspace, name: &str, base: usize| {
        customers::create(
            ws,
            NewCustomer {
                fields: CustomerFields::named(name),
                contacts: (0..100)
                    .map(|k| ContactFields {
                        name: format!("联系人{k}"),
                        mobile: Some(format!("139{:08}", base + k)),
                        ..Default::default()
                    })
                    .collect(),
                tags: vec!["大客户".into(), format!("标签{base}")],
            },
        )
        .unwrap()
        .id
    };
    let a = mk(&mut ws, "深圳市腾云测速科技有限公司", 1000);
    let b = mk(&mut ws, "腾云测速科技", 2000);
    let t0 = Instant::now();
    let m = dedupe::merge(&mut ws, &a, &[b], &Default::default()).unwrap();
    let merge_ms = t0.elapsed().as_secs_f64() * 1000.0;
    let t0 = Instant::now();
    dedupe::unmerge(&mut ws, &m.merge_id).unwrap();
    println!(
        "merge of two customers with 100 contacts each: {merge_ms:.1} ms; unmerge {:.1} ms",
        t0.elapsed().as_secs_f64() * 1000.0
    );
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(i) = args.iter().position(|a| a == "--db-bench") {
        db_bench(
            args.get(i + 1)
                .and_then(|n| n.parse().ok())
                .unwrap_or(100_000),
        );
        return;
    }
    let mut s = Settings::default();
    let verbose = args.iter().any(|a| a == "-v");
    if let Some(i) = args.iter().position(|a| a == "--threshold") {
        s.threshold = args[i + 1].parse().expect("threshold");
    }
    if args.iter().any(|a| a == "--scale") {
        for n in [10_000, 50_000, 100_000] {
            let records = synthetic(n, 7);
            let t0 = Instant::now();
            let found = dedupe::find(&records, &s);
            println!(
                "{n:>7} records: {:>9} compared pairs ({:.2} per record), {} groups, {:.0} ms",
                found.compared,
                found.compared as f64 / n as f64,
                found.groups.len(),
                t0.elapsed().as_secs_f64() * 1000.0
            );
        }
        return;
    }
    let dir = args
        .iter()
        .find(|a| !a.starts_with('-') && std::path::Path::new(a).is_dir())
        .cloned()
        .unwrap_or_else(|| "/work/shared/eval/dedupe".into());
    if !std::path::Path::new(&format!("{dir}/records.csv")).exists() {
        eprintln!("no records.csv in {dir}: skipped");
        return;
    }
    if args.iter().any(|a| a == "--sweep") {
        for t in [0.75, 0.8, 0.82, 0.85, 0.88, 0.9, 0.95] {
            s.threshold = t;
            eval(&dir, &s, false);
        }
        return;
    }
    eval(&dir, &s, verbose);
}
