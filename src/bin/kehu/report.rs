//! `kehu report …`: the analysis reports (same numbers as the Analysis page).

use crate::{output, Ctx};
use clap::{Subcommand, ValueEnum};
use kehu::analysis::{self, segments, targets, Bucket, Filter};
use kehu::{Error, Lang, Result};
use serde_json::Value;
use std::path::PathBuf;

/// The period and owner every report takes.
#[derive(clap::Args, Clone)]
pub struct Scope {
    /// First day of the period (YYYY-MM-DD, local). Default: the first of this month.
    #[arg(long)]
    from: Option<String>,
    /// Day after the period (exclusive, YYYY-MM-DD). Default: the end of this month.
    #[arg(long)]
    to: Option<String>,
    /// A whole month or quarter instead of --from/--to: 2026-11 or 2026-Q4.
    #[arg(long, conflicts_with_all = ["from", "to"])]
    period: Option<String>,
    /// One salesperson (member name, id or employee no.); default the whole team.
    #[arg(long)]
    owner: Option<String>,
    /// Add a trend over the period by day, week or month.
    #[arg(long)]
    by: Option<String>,
}

#[derive(Subcommand)]
pub enum Cmd {
    /// 销售漏斗: opportunities created in the period, stage by stage.
    Funnel(Scope),
    /// 客户漏斗: customers created in the period by status (潜在 → 意向 → 成交).
    Customers(Scope),
    /// 线索转化率 and 商机赢单率.
    Conversion(Scope),
    /// 平均 / 中位成交周期.
    Cycle(Scope),
    /// 销售额, 客单价, 回款率, target completion and projection.
    Sales(Scope),
    /// Follow-up activity: by kind, effective share, response time, win rates.
    Followups(Scope),
    /// Lead sources and their (30-day) win rates.
    Sources(Scope),
    /// Customer segments (客户画像): counts and recommended actions.
    Segments(Scope),
    /// Targets of a month or quarter: completion, ranking, projection.
    Targets(Scope),
    /// The dashboard figures, compared with the previous period.
    Dashboard(Scope),
    /// Trend lines (amount, new customers, follow-ups, conversion).
    Trend(Scope),
    /// 日报: the report of one day (default yesterday), built and kept on first use.
    Daily {
        /// The day (YYYY-MM-DD, local); default yesterday.
        #[arg(long)]
        date: Option<String>,
        /// Build the report again even when one is kept for that day.
        #[arg(long)]
        rebuild: bool,
        /// List the kept reports (newest first) instead.
        #[arg(long, conflicts_with_all = ["date", "rebuild"])]
        list: bool,
    },
    /// 关键词云: top phrases of follow-up notes and feedback, customer needs by priority.
    Keywords {
        #[command(flatten)]
        scope: Scope,
        /// How many phrases of each kind.
        #[arg(long, default_value_t = 30)]
        top: usize,
    },
    /// Write the report: an Excel workbook (one sheet per metric, native
    /// charts) or a PDF (A4: key figures, funnel and trend charts, tables).
    Export {
        #[command(flatten)]
        scope: Scope,
        /// xlsx or pdf; default by the extension of --out (else xlsx).
        #[arg(long, value_enum)]
        format: Option<Format>,
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    Xlsx,
    Pdf,
}

fn date_arg(field: &str, text: &str) -> Result<i64> {
    kehu::dates::parse_date(text)
        .map(analysis::local_midnight)
        .ok_or_else(|| {
            Error::validation(
                field,
                format!("无法识别的日期“{text}”，请用 2026-11-01 这样的格式"),
                format!("“{text}” is not a date; use the form 2026-11-01"),
            )
        })
}

/// The filter of a scope at time `now`.
pub fn filter(ctx: &Ctx, s: &Scope) -> Result<Filter> {
    let (from, to) = period(ctx, s.from.as_deref(), s.to.as_deref(), s.period.as_deref())?;
    let owner_id = s
        .owner
        .as_deref()
        .map(|o| kehu::members::resolve(ctx.ws.conn(), o).map(|m| m.id))
        .transpose()?;
    Filter { from, to, owner_id }.validated()
}

/// [from, to) of `--from`/`--to` (local days, `--to` exclusive) or
/// `--period 2026-11|2026-Q4`; default this month.
pub fn period(
    ctx: &Ctx,
    from: Option<&str>,
    to: Option<&str>,
    period: Option<&str>,
) -> Result<(i64, i64)> {
    let now = ctx.ws.now_ms();
    Ok(if let Some(p) = period {
        let (_, a, b) = targets::parse_period(p)?;
        (a, b)
    } else {
        let (ma, mb) = analysis::month_of(now);
        let from = from.map(|t| date_arg("from", t)).transpose()?;
        let to = to.map(|t| date_arg("to", t)).transpose()?;
        match (from, to) {
            (None, None) => (ma, mb),
            (Some(a), None) => (a, analysis::month_of(a).1.max(a + 86_400_000)),
            (None, Some(b)) => (analysis::month_of(b - 1).0, b),
            (Some(a), Some(b)) => (a, b),
        }
    })
}

fn bucket(s: &Scope) -> Result<Option<Bucket>> {
    s.by.as_deref()
        .map(|b| {
            Bucket::parse(b).ok_or_else(|| {
                Error::validation(
                    "by",
                    "--by 只能是 day、week 或 month",
                    "--by must be day, week or month",
                )
            })
        })
        .transpose()
}

pub fn run(ctx: &mut Ctx, cmd: Cmd) -> Result<()> {
    let l = ctx.lang;
    let now = ctx.ws.now_ms();
    let (scope, value) = match cmd {
        Cmd::Export { scope, format, out } => {
            let f = filter(ctx, &scope)?;
            let pdf_ext = out
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("pdf"));
            let format = format.unwrap_or(if pdf_ext { Format::Pdf } else { Format::Xlsx });
            match format {
                Format::Xlsx => analysis::xlsx::write_report(ctx.ws.conn(), &f, now, l, &out)?,
                #[cfg(feature = "pdf")]
                Format::Pdf => analysis::pdf::write_report(ctx.ws.conn(), &f, now, l, &out)?,
                #[cfg(not(feature = "pdf"))]
                Format::Pdf => {
                    return Err(kehu::Error::validation(
                        "format",
                        "这个版本没有 PDF 报告，请导出 Excel",
                        "This build has no PDF report; export to Excel",
                    ))
                }
            }
            if ctx.json {
                output::json(&serde_json::json!({"path": out}));
            } else {
                println!(
                    "{} {}",
                    l.pick("已导出报表：", "Report written:"),
                    out.display()
                );
            }
            return Ok(());
        }
        Cmd::Daily {
            date,
            rebuild,
            list,
        } => return daily(ctx, date, rebuild, list),
        Cmd::Keywords { scope, top } => {
            let f = filter(ctx, &scope)?;
            let v = serde_json::to_value(analysis::keywords::cloud(ctx.ws.conn(), &f, top, now)?)?;
            (scope, v)
        }
        Cmd::Funnel(s) => {
            let f = filter(ctx, &s)?;
            let v = serde_json::to_value(analysis::pipeline_funnel(ctx.ws.conn(), &f, l)?)?;
            (s, v)
        }
        Cmd::Customers(s) => {
            let f = filter(ctx, &s)?;
            let v = serde_json::to_value(analysis::customer_funnel(ctx.ws.conn(), &f, l)?)?;
            (s, v)
        }
        Cmd::Conversion(s) => {
            let f = filter(ctx, &s)?;
            let v = serde_json::to_value(analysis::conversion(ctx.ws.conn(), &f)?)?;
            (s, v)
        }
        Cmd::Cycle(s) => {
            let f = filter(ctx, &s)?;
            let v = serde_json::to_value(analysis::cycle(ctx.ws.conn(), &f)?)?;
            (s, v)
        }
        Cmd::Sales(s) => {
            let f = filter(ctx, &s)?;
            let v = serde_json::to_value(analysis::sales(ctx.ws.conn(), &f, now)?)?;
            (s, v)
        }
        Cmd::Followups(s) => {
            let f = filter(ctx, &s)?;
            let v = serde_json::to_value(analysis::followup_activity(ctx.ws.conn(), &f, l)?)?;
            (s, v)
        }
        Cmd::Sources(s) => {
            let f = filter(ctx, &s)?;
            let v = serde_json::to_value(analysis::sources(ctx.ws.conn(), &f, l)?)?;
            (s, v)
        }
        Cmd::Segments(s) => {
            let f = filter(ctx, &s)?;
            // Time may have made customers churn risks since the app ran.
            segments::refresh_daily(&mut ctx.ws)?;
            let v =
                serde_json::to_value(segments::summary(ctx.ws.conn(), f.owner_id.as_deref(), l)?)?;
            (s, v)
        }
        Cmd::Targets(s) => {
            let period = match (&s.period, &s.from) {
                (Some(p), _) => p.clone(),
                (None, Some(d)) => targets::month_key(date_arg("from", d)?),
                (None, None) => targets::month_key(now),
            };
            let v = serde_json::to_value(targets::report(ctx.ws.conn(), &period, now, l)?)?;
            (s, v)
        }
        Cmd::Dashboard(s) => {
            let f = filter(ctx, &s)?;
            let v = serde_json::to_value(analysis::dashboard(ctx.ws.conn(), &f, now)?)?;
            (s, v)
        }
        Cmd::Trend(s) => {
            let f = filter(ctx, &s)?;
            let by = bucket(&s)?.unwrap_or(Bucket::Day);
            let v = serde_json::json!({ "trend": analysis::trend(ctx.ws.conn(), &f, by)? });
            (s, v)
        }
    };
    let mut value = value;
    if let (Some(by), Value::Object(m)) = (bucket(&scope)?, &mut value) {
        if !m.contains_key("trend") {
            let f = filter(ctx, &scope)?;
            m.insert(
                "trend".into(),
                serde_json::to_value(analysis::trend(ctx.ws.conn(), &f, by)?)?,
            );
        }
    }
    if ctx.json {
        output::json(&value);
    } else {
        print_value(&value, 0, l);
    }
    Ok(())
}

fn daily(ctx: &mut Ctx, date: Option<String>, rebuild: bool, list: bool) -> Result<()> {
    let l = ctx.lang;
    if list {
        let v = analysis::daily::list(ctx.ws.conn(), 365, l)?;
        if ctx.json {
            output::json(&v);
        } else if v.is_empty() {
            println!("{}", l.pick("（还没有日报）", "(no daily reports yet)"));
        } else {
            for e in v {
                println!("{}  {}", e.date, e.headline);
            }
        }
        return Ok(());
    }
    let day = match &date {
        Some(d) => kehu::dates::parse_date(d).ok_or_else(|| {
            Error::validation(
                "date",
                format!("无法识别的日期“{d}”，请用 2026-11-01 这样的格式"),
                format!("“{d}” is not a date; use the form 2026-11-01"),
            )
        })?,
        None => analysis::daily::report_day(ctx.ws.now_ms()),
    };
    let kept = if rebuild {
        None
    } else {
        analysis::daily::get(ctx.ws.conn(), day, l)?
    };
    let rep = match kept {
        Some(r) => r,
        None => analysis::daily::generate(&mut ctx.ws, day)?,
    };
    if ctx.json {
        output::json(&rep);
    } else {
        for line in &rep.lines {
            println!("{line}");
        }
    }
    Ok(())
}

fn is_ratio(key: &str) -> bool {
    [
        "conversion",
        "drop",
        "share",
        "rate",
        "completion",
        "elapsed",
        "change",
    ]
    .iter()
    .any(|k| key.ends_with(k) || key.starts_with("win_rate"))
        && !key.ends_with("days")
}

fn scalar(key: &str, v: &Value) -> String {
    match v {
        Value::Null => "-".into(),
        Value::Number(n) => {
            let x = n.as_f64().unwrap_or(0.0);
            if is_ratio(key) {
                format!("{:.1}%", x * 100.0)
            } else if n.is_i64() {
                n.to_string()
            } else {
                format!("{x:.2}")
            }
        }
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        other => other.to_string(),
    }
}

/// Text output: keys and values; arrays of records as aligned rows.
fn print_value(v: &Value, indent: usize, l: Lang) {
    let pad = " ".repeat(indent);
    let Value::Object(m) = v else {
        println!("{pad}{}", scalar("", v));
        return;
    };
    for (k, v) in m {
        match v {
            Value::Array(rows) if rows.iter().all(|r| r.is_object()) => {
                println!("{pad}{k}:");
                if rows.is_empty() {
                    println!("{pad}  {}", l.pick("（无数据）", "(no data)"));
                }
                for r in rows {
                    let Value::Object(r) = r else { continue };
                    let cells: Vec<String> = r
                        .iter()
                        .filter(|(_, x)| !x.is_object() && !x.is_array())
                        .map(|(k, x)| format!("{k}={}", scalar(k, x)))
                        .collect();
                    println!("{pad}  {}", cells.join("  "));
                }
            }
            Value::Object(_) => {
                println!("{pad}{k}:");
                print_value(v, indent + 2, l);
            }
            Value::Array(xs) => println!(
                "{pad}{k}: {}",
                xs.iter()
                    .map(|x| scalar(k, x))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            _ => println!("{pad}{}: {}", output::pad(k, 24), scalar(k, v)),
        }
    }
}
