//! The PDF report: a real PDF (typeset with the system CJK font) whose text,
//! read back with `pdftotext` (poppler-utils), holds the title, the period,
//! the owner and key figures worked out here from a small hand-made history.
#![cfg(feature = "pdf")]
mod common;

use assert_cmd::Command;
use common::{deal_at, env, patch, Env, T0};
use kehu::analysis::{self, pdf, targets, Filter};
use kehu::customers::{self, CustomerFields, NewCustomer};
use kehu::members::{self, MemberFields};
use kehu::opportunities;
use kehu::Lang;
use serde_json::json;
use std::path::Path;

const DAY: i64 = 86_400_000;

/// The text of a PDF as pdftotext reads it (layout kept, so a table row
/// stays on one line).
fn pdf_text(path: &Path) -> String {
    let out = std::process::Command::new("pdftotext")
        .arg("-layout")
        .arg(path)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils, scripts/install-deps.sh) must be installed");
    assert!(
        out.status.success(),
        "pdftotext could not read {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    // Typst sets a small gap between Chinese and Latin text (16 万元), which
    // pdftotext reads as a space: drop the spaces next to a Chinese character.
    let text = String::from_utf8(out.stdout).unwrap();
    let chars: Vec<char> = text.chars().collect();
    let cjk = |c: Option<&char>| {
        c.is_some_and(|c| {
            ('\u{2e80}'..='\u{9fff}').contains(c) || ('\u{ff00}'..='\u{ffef}').contains(c)
        })
    };
    let mut squeezed = String::new();
    for (i, c) in chars.iter().enumerate() {
        let next_to_cjk = cjk(i.checked_sub(1).and_then(|j| chars.get(j))) || cjk(chars.get(i + 1));
        if *c == ' '
            && next_to_cjk
            && chars.get(i + 1) != Some(&' ')
            && i > 0
            && chars[i - 1] != ' '
        {
            continue;
        }
        squeezed.push(*c);
    }
    squeezed
}

fn pages(path: &Path) -> usize {
    let out = std::process::Command::new("pdfinfo")
        .arg(path)
        .output()
        .expect("pdfinfo (poppler-utils)");
    let info = String::from_utf8(out.stdout).unwrap();
    let line = info.lines().find(|l| l.starts_with("Pages:")).unwrap();
    line["Pages:".len()..].trim().parse().unwrap()
}

fn customer(e: &mut Env, t: i64, name: &str, owner: &str) -> String {
    e.clock.set(t);
    let id = customers::create(
        &mut e.ws,
        NewCustomer {
            fields: CustomerFields {
                source: Some("展会".into()),
                ..CustomerFields::named(name)
            },
            contacts: vec![],
            tags: vec![],
        },
    )
    .unwrap()
    .id;
    customers::update(&mut e.ws, &id, &patch(&[("owner_id", json!(owner))])).unwrap();
    id
}

struct Deal {
    expected: f64,
    won_amount: Option<f64>,
    /// Final stage and the loss reason when lost.
    end: &'static str,
    received: f64,
}

/// Four deals in November 2025 for one salesperson (王芳), a team target of
/// 400,000; returns the period (the calendar month of T0) and the deals.
fn history(e: &mut Env) -> (Filter, Vec<Deal>) {
    let wang = members::add(
        &mut e.ws,
        MemberFields {
            name: "王芳".into(),
            ..Default::default()
        },
    )
    .unwrap();
    let (from, to) = analysis::month_of(T0);
    let deals = vec![
        Deal {
            expected: 120_000.0,
            won_amount: Some(100_000.0),
            end: "合同签订",
            received: 40_000.0,
        },
        Deal {
            expected: 60_000.0,
            won_amount: None,
            end: "回款完成",
            received: 60_000.0,
        },
        Deal {
            expected: 30_000.0,
            won_amount: None,
            end: "输单",
            received: 0.0,
        },
        Deal {
            expected: 9_000.0,
            won_amount: None,
            end: "方案提供",
            received: 0.0,
        },
    ];
    let c = customer(e, from + DAY, "杭州青禾贸易有限公司", &wang.id);
    for (i, d) in deals.iter().enumerate() {
        let t = from + (2 + i as i64) * DAY;
        let id = deal_at(e, t, &c, d.expected);
        e.clock.set(t + DAY);
        let reason = (d.end == "输单").then_some("价格过高");
        opportunities::set_stage(&mut e.ws, &id, d.end, reason).unwrap();
        if let Some(w) = d.won_amount {
            opportunities::update(&mut e.ws, &id, &patch(&[("won_amount", json!(w))])).unwrap();
        }
        if d.received > 0.0 {
            opportunities::receive(&mut e.ws, &id, d.received, None, None).unwrap();
        }
    }
    targets::set(
        &mut e.ws,
        None,
        "2025-11",
        targets::TargetFields {
            amount: Some(400_000.0),
            ..Default::default()
        },
    )
    .unwrap();
    e.clock.set(T0);
    (Filter::new(from, to), deals)
}

/// The key figures by plain arithmetic over the hand-made deals.
struct Expected {
    won_amount: f64,
    win_rate: f64,
    collection_rate: f64,
    target_completion: f64,
}

fn expected(deals: &[Deal]) -> Expected {
    let won: Vec<&Deal> = deals
        .iter()
        .filter(|d| d.end == "合同签订" || d.end == "回款完成")
        .collect();
    let lost = deals.iter().filter(|d| d.end == "输单").count();
    let won_amount: f64 = won.iter().map(|d| d.won_amount.unwrap_or(d.expected)).sum();
    let received: f64 = won.iter().map(|d| d.received).sum();
    Expected {
        won_amount,
        win_rate: won.len() as f64 / (won.len() + lost) as f64,
        collection_rate: received / won_amount,
        target_completion: won_amount / 400_000.0,
    }
}

fn pct(x: f64) -> String {
    let s = format!("{:.1}", x * 100.0);
    format!("{}%", s.trim_end_matches('0').trim_end_matches('.'))
}

#[test]
fn the_chinese_pdf_report_has_the_title_period_owner_and_key_figures() {
    let mut e = env();
    let (f, deals) = history(&mut e);
    let x = expected(&deals);
    assert_eq!(x.won_amount, 160_000.0);
    let path = e.dir.path().join("报告/销售报告.pdf");
    pdf::write_report(e.ws.conn(), &f, T0, Lang::Zh, &path).unwrap();

    let bytes = std::fs::read(&path).unwrap();
    assert!(bytes.starts_with(b"%PDF-"), "not a PDF");
    assert!(
        bytes.windows(8).any(|w| w == b"FontFile"),
        "the font is embedded"
    );
    let text = pdf_text(&path);
    // KEHU_PDF_KEEP=DIR keeps the PDFs to look at (pdftoppm -png).
    if let Some(dir) = std::env::var_os("KEHU_PDF_KEEP") {
        std::fs::copy(&path, Path::new(&dir).join("report-zh.pdf")).unwrap();
    }
    assert!(text.contains("销售报告"), "title missing:\n{text}");
    assert!(text.contains("2025-11-01 – 2025-11-30"), "period:\n{text}");
    assert!(text.contains("全体团队"), "owner line:\n{text}");
    // 160,000 yuan → 16万元; 2 won of 3 closed; 100,000 of 160,000 received;
    // 160,000 of the 400,000 target.
    assert!(text.contains("16万元"), "won amount:\n{text}");
    assert!(text.contains(&pct(x.win_rate)), "win rate 66.7%:\n{text}");
    assert_eq!(pct(x.collection_rate), "62.5%");
    assert!(
        text.contains(&pct(x.collection_rate)),
        "collection:\n{text}"
    );
    assert_eq!(pct(x.target_completion), "40%");
    assert!(text.contains(&pct(x.target_completion)), "target:\n{text}");
    // tables: the owner row, the loss reason, the stage labels
    assert!(
        text.lines()
            .any(|l| l.contains("王芳") && l.contains("16万元") && l.contains("100%")),
        "by-owner row:\n{text}"
    );
    assert!(text.contains("价格过高"), "loss reason:\n{text}");
    assert!(
        text.contains("初步接触") && text.contains("合同签订"),
        "funnel:\n{text}"
    );
    assert!(
        text.contains("高价值客户") || text.contains("高价值"),
        "segments:\n{text}"
    );
    assert!(pages(&path) <= 3, "a short report");
}

#[test]
fn the_english_pdf_report_has_the_english_title_and_figures() {
    let mut e = env();
    let (f, deals) = history(&mut e);
    let x = expected(&deals);
    let bytes = pdf::render(e.ws.conn(), &f, T0, Lang::En).unwrap();
    let path = e.dir.path().join("report.pdf");
    std::fs::write(&path, &bytes).unwrap();
    if let Some(dir) = std::env::var_os("KEHU_PDF_KEEP") {
        std::fs::copy(&path, Path::new(&dir).join("report-en.pdf")).unwrap();
    }
    let text = pdf_text(&path);
    assert!(text.contains("Sales report"), "title:\n{text}");
    assert!(!text.contains("销售报告"), "no Chinese title in English");
    assert!(text.contains("Whole team"), "owner:\n{text}");
    assert!(text.contains("¥160,000"), "won amount:\n{text}");
    assert!(text.contains(&pct(x.win_rate)), "win rate:\n{text}");
    // the customer's own (Chinese) text still renders in English mode
    assert!(text.contains("王芳"), "owner name:\n{text}");
}

#[test]
fn a_report_for_one_owner_names_the_owner_and_an_empty_period_still_makes_a_pdf() {
    let mut e = env();
    let (f, _) = history(&mut e);
    let wang = members::resolve(e.ws.conn(), "王芳").unwrap();
    let mine = f.clone().owner(Some(&wang.id));
    let path = e.dir.path().join("mine.pdf");
    pdf::write_report(e.ws.conn(), &mine, T0, Lang::Zh, &path).unwrap();
    let text = pdf_text(&path);
    assert!(text.contains("负责人：王芳"), "owner line:\n{text}");

    // A month with nothing in it: the figures are "—", the charts say so.
    let empty = Filter::new(f.from - 400 * DAY, f.from - 370 * DAY);
    let path = e.dir.path().join("empty.pdf");
    pdf::write_report(e.ws.conn(), &empty, T0, Lang::Zh, &path).unwrap();
    let text = pdf_text(&path);
    assert!(text.contains("销售报告"));
    assert!(text.contains("本期暂无数据"), "empty state:\n{text}");
    assert!(text.contains("0元"), "zero amount:\n{text}");
}

#[test]
fn customer_text_that_looks_like_markup_is_printed_as_it_is() {
    let mut e = env();
    let (f, _) = history(&mut e);
    let wang = members::resolve(e.ws.conn(), "王芳").unwrap();
    let odd = "#set page(width: 1cm) *粗* $x$ [链接] \\ @王";
    members::update(&mut e.ws, &wang.id, &patch(&[("name", json!(odd))])).unwrap();
    let path = e.dir.path().join("odd.pdf");
    pdf::write_report(e.ws.conn(), &f, T0, Lang::Zh, &path).unwrap();
    let text = pdf_text(&path);
    // The name wraps in its table cell; every piece is there as typed.
    for piece in ["#set page(width:", "*粗*", "$x$", "[链接]", "\\ @王"] {
        assert!(text.contains(piece), "{piece} as typed:\n{text}");
    }
}

#[test]
fn kehu_report_export_writes_a_pdf_by_format_or_by_extension() {
    let mut e = env();
    let _ = history(&mut e);
    let db = e.dir.path().join("kehu.db");
    drop(e.ws);
    for (args, name) in [(vec!["--format", "pdf"], "a.out"), (vec![], "b.pdf")] {
        let out = e.dir.path().join(name);
        let mut cmd = Command::cargo_bin("kehu").unwrap();
        cmd.env("LANG", "zh_CN.UTF-8")
            .arg("--db")
            .arg(&db)
            .args(["report", "export", "--period", "2025-11", "--out"])
            .arg(&out)
            .args(&args)
            .assert()
            .success();
        let bytes = std::fs::read(&out).unwrap();
        assert!(bytes.starts_with(b"%PDF-"), "{name} is a PDF");
        let text = pdf_text(&out);
        assert!(
            text.contains("销售报告") && text.contains("16万元"),
            "{text}"
        );
    }
}

#[test]
fn the_pdf_report_ranks_the_salespeople_by_target_completion() {
    let mut e = env();
    let (f, _) = history(&mut e);
    // 王芳 won 160,000 of her 200,000 (80%); 李雷 won 90,000 of 100,000 (90%)
    let wang = members::list(e.ws.conn())
        .unwrap()
        .into_iter()
        .find(|m| m.fields.name == "王芳")
        .unwrap();
    let li = members::add(
        &mut e.ws,
        MemberFields {
            name: "李雷".into(),
            ..Default::default()
        },
    )
    .unwrap();
    let c = customer(&mut e, f.from + DAY, "宁波东港机械有限公司", &li.id);
    let o = deal_at(&mut e, f.from + 3 * DAY, &c, 90_000.0);
    e.clock.set(f.from + 5 * DAY);
    opportunities::update(&mut e.ws, &o, &patch(&[("owner_id", json!(li.id))])).unwrap();
    opportunities::set_stage(&mut e.ws, &o, "合同签订", None).unwrap();
    for (who, amount) in [(&wang.id, 200_000.0), (&li.id, 100_000.0)] {
        targets::set(
            &mut e.ws,
            Some(who.as_str()),
            "2025-11",
            targets::TargetFields {
                amount: Some(amount),
                ..Default::default()
            },
        )
        .unwrap();
    }
    e.clock.set(T0);
    let path = e.dir.path().join("排名.pdf");
    pdf::write_report(e.ws.conn(), &f, T0, Lang::Zh, &path).unwrap();
    if let Some(dir) = std::env::var_os("KEHU_PDF_KEEP") {
        std::fs::copy(&path, Path::new(&dir).join("report-ranking-zh.pdf")).unwrap();
    }
    let text = pdf_text(&path);
    assert!(text.contains("目标完成与排名（2025-11）"), "title:\n{text}");
    let row = |name: &str| {
        text.lines()
            .find(|l| {
                l.contains(name)
                    && l.contains("万元")
                    && l.trim_start().starts_with(|c: char| c.is_ascii_digit())
            })
            .unwrap_or_else(|| panic!("no ranking row of {name}:\n{text}"))
            .split_whitespace()
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    // rank, name, won amount, target, completion, …
    assert_eq!(&row("李雷")[..5], ["1", "李雷", "9万元", "10万元", "90%"]);
    assert_eq!(&row("王芳")[..5], ["2", "王芳", "16万元", "20万元", "80%"]);
    // the team line: its own target of 400,000
    assert!(
        text.lines()
            .any(|l| l.contains("团队") && l.contains("25万元") && l.contains("40万元")),
        "team row:\n{text}"
    );

    // English: the same table with English headings
    let en = e.dir.path().join("ranking.pdf");
    pdf::write_report(e.ws.conn(), &f, T0, Lang::En, &en).unwrap();
    let text = pdf_text(&en);
    assert!(text.contains("Targets and ranking (2025-11)"), "{text}");
    assert!(
        text.lines().any(|l| l.contains("李雷")
            && l.contains("¥90,000")
            && l.contains("¥100,000")
            && l.contains("90%")),
        "{text}"
    );
}
