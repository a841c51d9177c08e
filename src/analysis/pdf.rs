//! The PDF report (销售报告 · 客户画像): one A4 document with the period,
//! the owner, the key figures, the pipeline funnel and the trend as charts,
//! and tables by owner, source, loss reason and segment.
//!
//! Typeset by Typst used as a library: the layout is the Typst file
//! `report.typ` (compiled into the binary) and the data reach it as one JSON
//! string in `sys.inputs.data`, so no customer text is ever parsed as markup.
//! Chinese text is set in a CJK font found on the system (Noto Sans CJK
//! from `fonts-noto-cjk` on Linux, PingFang on macOS, Microsoft YaHei on
//! Windows, or the file named by `KEHU_PDF_FONT`); the PDF embeds the glyphs
//! it uses.

use super::*;
use crate::i18n::Lang;
use daily::{fmt_amount, fmt_pct};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use typst::diag::{FileError, FileResult};
use typst::foundations::{Bytes, Datetime, Dict, IntoValue, Smart};
use typst::syntax::{FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World, WorldExt};

const TEMPLATE: &str = include_str!("report.typ");

/// Font families tried in order (Typst falls back glyph by glyph).
const FAMILIES: &[&str] = &[
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "PingFang SC",
    "Microsoft YaHei",
];

/// Where the CJK fonts are looked for: (directory, file names).
const FONT_DIRS: &[&str] = &[
    "/usr/share/fonts/opentype/noto",
    "/usr/share/fonts/noto-cjk",
    "/usr/share/fonts/google-noto-cjk",
    "/usr/share/fonts/opentype/noto-cjk",
    "/usr/share/fonts/noto",
    "/usr/local/share/fonts",
    "/System/Library/Fonts",
    "/Library/Fonts",
    "C:\\Windows\\Fonts",
];
const FONT_FILES: &[&str] = &[
    "NotoSansCJK-Regular.ttc",
    "NotoSansCJK-Bold.ttc",
    "NotoSansCJKsc-Regular.otf",
    "NotoSansCJKsc-Bold.otf",
    "NotoSansSC-Regular.otf",
    "NotoSansSC-Bold.otf",
    "SourceHanSansSC-Regular.otf",
    "SourceHanSansSC-Bold.otf",
    "PingFang.ttc",
    "msyh.ttc",
    "msyhbd.ttc",
];

/// The fonts of the report, read once per process.
struct Fonts {
    book: LazyHash<FontBook>,
    fonts: Vec<Font>,
    families: Vec<String>,
}

/// The font files to read: `KEHU_PDF_FONT` (a file, or a folder of font
/// files) first, then the known CJK fonts in the usual system folders.
/// The flag tells whether the first file is the one named.
fn font_files() -> (Vec<PathBuf>, bool) {
    let mut out = vec![];
    let mut named = false;
    if let Some(p) = std::env::var_os("KEHU_PDF_FONT").map(PathBuf::from) {
        if p.is_dir() {
            let mut files: Vec<PathBuf> = std::fs::read_dir(&p)
                .into_iter()
                .flatten()
                .flatten()
                .map(|e| e.path())
                .filter(|f| {
                    f.extension().and_then(|e| e.to_str()).is_some_and(|e| {
                        ["ttf", "otf", "ttc", "otc"].contains(&e.to_ascii_lowercase().as_str())
                    })
                })
                .collect();
            files.sort();
            named = !files.is_empty();
            out.extend(files);
        } else if p.is_file() {
            named = true;
            out.push(p);
        }
    }
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let user_dirs = home.iter().flat_map(|h| {
        [
            h.join(".local/share/fonts"),
            h.join(".fonts"),
            h.join("Library/Fonts"),
        ]
    });
    for dir in FONT_DIRS.iter().map(PathBuf::from).chain(user_dirs) {
        for f in FONT_FILES {
            let p = dir.join(f);
            if p.is_file() {
                out.push(p);
            }
        }
    }
    (out, named)
}

fn missing_font() -> Error {
    Error::validation(
        "font",
        "找不到中文字体，无法生成 PDF 报告。请安装思源黑体 / Noto Sans CJK（Debian/Ubuntu：sudo apt install fonts-noto-cjk），或用环境变量 KEHU_PDF_FONT 指定中文字体文件（或所在文件夹）。",
        "No Chinese font found, so the PDF report cannot be made. Install Noto Sans CJK (Debian/Ubuntu: sudo apt install fonts-noto-cjk), or name a CJK font file (or folder) in the KEHU_PDF_FONT environment variable.",
    )
}

/// Read the fonts of `files`; when `named`, the family of the first file
/// comes first. Unreadable files are skipped; none at all is an error that
/// says what to install.
fn load_fonts(files: &[PathBuf], named: bool) -> Result<Fonts> {
    let mut fonts: Vec<Font> = vec![];
    let mut families: Vec<String> = vec![];
    for path in files {
        let Ok(data) = std::fs::read(path) else {
            continue;
        };
        let before = fonts.len();
        fonts.extend(Font::iter(Bytes::new(data)));
        if named && before == 0 {
            if let Some(f) = fonts.first() {
                families.push(f.info().family.clone());
            }
        }
    }
    let book = FontBook::from_fonts(&fonts);
    for fam in FAMILIES {
        if book.contains_family(fam) {
            families.push(fam.to_string());
        }
    }
    // Any CJK font we loaded is better than none.
    if families.is_empty() {
        if let Some(f) = fonts.first() {
            families.push(f.info().family.clone());
        }
    }
    if fonts.is_empty() || families.is_empty() {
        return Err(missing_font());
    }
    Ok(Fonts {
        book: LazyHash::new(book),
        fonts,
        families,
    })
}

fn fonts() -> Result<&'static Fonts> {
    static FONTS: OnceLock<Fonts> = OnceLock::new();
    if let Some(f) = FONTS.get() {
        return Ok(f);
    }
    // Not cached on failure: installing the font helps without a restart.
    let (files, named) = font_files();
    let f = load_fonts(&files, named)?;
    Ok(FONTS.get_or_init(|| f))
}

/// The smallest Typst world: one source file, the system CJK fonts, no
/// file access and no packages.
struct ReportWorld {
    library: LazyHash<Library>,
    fonts: &'static Fonts,
    main: Source,
    today: Option<Datetime>,
}

impl World for ReportWorld {
    fn library(&self) -> &LazyHash<Library> {
        &self.library
    }
    fn book(&self) -> &LazyHash<FontBook> {
        &self.fonts.book
    }
    fn main(&self) -> FileId {
        self.main.id()
    }
    fn source(&self, id: FileId) -> FileResult<Source> {
        if id == self.main.id() {
            Ok(self.main.clone())
        } else {
            Err(FileError::AccessDenied)
        }
    }
    fn file(&self, id: FileId) -> FileResult<Bytes> {
        if id == self.main.id() {
            Ok(Bytes::from_string(self.main.text().to_string()))
        } else {
            Err(FileError::AccessDenied)
        }
    }
    fn font(&self, index: usize) -> Option<Font> {
        self.fonts.fonts.get(index).cloned()
    }
    fn today(&self, _offset: Option<typst::foundations::Duration>) -> Option<Datetime> {
        self.today
    }
}

fn typeset_error(what: String) -> Error {
    Error::validation(
        "pdf",
        format!("PDF 报告排版失败：{what}"),
        format!("The PDF report could not be typeset: {what}"),
    )
}

/// Typeset the report data (see [`report_data`]) into PDF bytes.
pub fn typeset(data: &Value, today: chrono::NaiveDate) -> Result<Vec<u8>> {
    let fonts = fonts()?;
    let mut data = data.clone();
    data["fonts"] = json!(fonts.families);
    let mut inputs = Dict::new();
    inputs.insert("data".into(), data.to_string().into_value());
    let library = Library::builder().with_inputs(inputs).build();
    let id = RootedPath::new(
        VirtualRoot::Project,
        VirtualPath::new("/report.typ").map_err(|e| typeset_error(format!("{e:?}")))?,
    )
    .intern();
    let world = ReportWorld {
        library: LazyHash::new(library),
        fonts,
        main: Source::new(id, TEMPLATE.to_string()),
        today: Datetime::from_ymd(today.year(), today.month() as u8, today.day() as u8),
    };
    // An error names the line of report.typ it comes from.
    let describe = |errs: &[typst::diag::SourceDiagnostic]| {
        errs.iter()
            .map(|e| {
                let line = world
                    .range(e.span)
                    .and_then(|r| world.main.lines().byte_to_line(r.start))
                    .map(|l| format!("report.typ:{}: ", l + 1))
                    .unwrap_or_default();
                format!("{line}{}", e.message)
            })
            .collect::<Vec<_>>()
            .join("; ")
    };
    let doc = typst::compile::<typst_layout::PagedDocument>(&world)
        .output
        .map_err(|errs| typeset_error(describe(&errs)))?;
    let options = typst_pdf::PdfOptions {
        ident: Smart::Custom("kehu-report".into()),
        creator: Smart::Custom(Some("Kehu".into())),
        ..Default::default()
    };
    let pdf = typst_pdf::pdf(&doc, &options).map_err(|errs| typeset_error(describe(&errs)));
    // Typst memoises layout work in process-wide caches; a report is a
    // one-off, so free them rather than keep them for the app's lifetime.
    typst::comemo::evict(0);
    pdf
}

/// Yuan as the daily report writes them: 16万元 or 2.95亿元, ¥160,000.
fn money(x: f64, lang: Lang) -> String {
    fmt_amount(x, lang)
}

/// "—" for an undefined figure.
const NONE: &str = "—";

fn pct(x: Option<f64>) -> String {
    x.map(fmt_pct).unwrap_or_else(|| NONE.into())
}

fn days_text(x: Option<f64>, lang: Lang) -> String {
    match x {
        Some(d) => format!("{:.1}{}", d, lang.pick(" 天", " d")),
        None => NONE.into(),
    }
}

fn funnel_json(fu: &Funnel, lang: Lang) -> Value {
    json!({
        "total": fu.total,
        "stages": fu.stages.iter().map(|s| json!({
            "label": s.label,
            "entered": s.entered,
            "conversion": pct(s.conversion),
            "avg_days": days_text(s.avg_days, lang),
        })).collect::<Vec<_>>(),
    })
}

/// Everything the layout prints, computed from the database. Amounts and
/// ratios are the same numbers as the xlsx report and the CLI.
pub fn report_data(conn: &Connection, f: &Filter, now: i64, lang: Lang) -> Result<Value> {
    let p = |zh: &str, en: &str| lang.pick(zh, en).to_string();
    let ReportData {
        pipe,
        set,
        closed,
        sales,
        conv,
        cyc,
        pf,
        cf,
        by,
        tr,
        fa,
        src,
        ..
    } = ReportData::load(conn, f, now, lang)?;
    let seg = super::segments::summary(conn, f.owner_id.as_deref(), lang)?;
    let members = crate::members::list(conn)?;
    let name_of = |id: &str| {
        members
            .iter()
            .find(|m| m.id == id)
            .map(|m| m.fields.name.clone())
    };

    // Wins by owner, largest amount first.
    let mut owners: HashMap<String, (i64, f64)> = HashMap::new();
    for o in &closed {
        if matches!(o.outcome(&pipe), Outcome::Won(_)) {
            let e = owners
                .entry(o.owner_id.clone().unwrap_or_default())
                .or_default();
            e.0 += 1;
            e.1 += o.deal_amount();
        }
    }
    let mut owners: Vec<_> = owners.into_iter().collect();
    owners.sort_by(|a, b| b.1 .1.total_cmp(&a.1 .1).then(a.0.cmp(&b.0)));
    let owners: Vec<Value> = owners
        .iter()
        .map(|(id, (wins, amount))| {
            json!([
                name_of(id).unwrap_or_else(|| p("未分配", "Unassigned")),
                wins.to_string(),
                money(*amount, lang),
                pct(ratio(*amount, sales.won_amount)),
            ])
        })
        .collect();

    let period = format!(
        "{} – {}",
        local_date(f.from).format("%Y-%m-%d"),
        local_date(f.to - 1).format("%Y-%m-%d")
    );
    let owner = match &f.owner_id {
        Some(id) => name_of(id).unwrap_or_else(|| id.clone()),
        None => p("全体团队", "Whole team"),
    };
    let generated = chrono::Local
        .timestamp_millis_opt(now)
        .single()
        .map(|d| d.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default();

    let count = |n: i64, zh: &str, en: &str| match lang {
        Lang::Zh => format!("{n} {zh}"),
        Lang::En => format!("{n} {en}"),
    };
    let kpis = vec![
        json!({"label": p("销售额", "Won amount"), "value": money(sales.won_amount, lang),
               "note": count(sales.wins, "单成交", "wins")}),
        json!({"label": p("商机赢单率", "Win rate"), "value": pct(conv.win_rate),
        "note": match lang {
            Lang::Zh => format!("赢 {} / 输 {}", conv.won, conv.lost),
            Lang::En => format!("{} won / {} lost", conv.won, conv.lost),
        }}),
        json!({"label": p("线索转化率", "Lead conversion"), "value": pct(conv.lead_conversion),
        "note": match lang {
            Lang::Zh => format!("{} 条线索，{} 条转为意向", conv.leads, conv.converted),
            Lang::En => format!("{} of {} leads converted", conv.converted, conv.leads),
        }}),
        json!({"label": p("平均成交周期", "Average cycle"), "value": days_text(cyc.avg_cycle_days, lang),
               "note": format!("{}{}", p("中位数 ", "median "), days_text(cyc.median_cycle_days, lang))}),
        json!({"label": p("回款率", "Collection rate"), "value": pct(sales.collection_rate),
               "note": format!("{}{}", p("已回款 ", "received "), money(sales.received_amount, lang))}),
        json!({"label": p("目标完成率", "Target completion"), "value": pct(sales.target_completion),
        "note": match sales.target_amount {
            Some(t) => format!("{}{}", p("目标 ", "target "), money(t, lang)),
            None => p("未设定目标", "no target set"),
        }}),
        json!({"label": p("预计完成率", "Projected completion"), "value": pct(sales.projected_completion),
        "note": match sales.shortfall {
            Some(s) if s > 0.0 => format!("{}{}", p("缺口 ", "shortfall "), money(s, lang)),
            Some(_) => p("按当前进度可完成", "on track"),
            None => p("按当前日均推算", "at the current daily rate"),
        }}),
        json!({"label": p("客单价", "Average deal"),
               "value": sales.avg_deal.map(|x| money(x, lang)).unwrap_or_else(|| NONE.into()),
               "note": p("销售额 ÷ 成交单数", "won amount ÷ wins")}),
    ];

    // At most ~12 labels under the trend chart.
    let every = tr.len().div_ceil(12).max(1);
    let max_amount = tr.iter().map(|t| t.won_amount).fold(0.0, f64::max);
    let max_new = tr.iter().map(|t| t.new_customers).max().unwrap_or(0);
    let points: Vec<Value> = tr
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let label = if i % every == 0 {
                match by {
                    Bucket::Month => t.start[..7].to_string(),
                    _ => t.start[5..].to_string(),
                }
            } else {
                String::new()
            };
            json!({"label": label, "amount": t.won_amount, "new": t.new_customers})
        })
        .collect();
    let by_text = match by {
        Bucket::Day => p("按日", "by day"),
        Bucket::Week => p("按周", "by week"),
        Bucket::Month => p("按月", "by month"),
    };

    // Targets and ranking of the target period the report falls in:
    // every member, best completion first, then the team.
    let tgt = targets::report(conn, &targets::period_key(f), now, lang)?;
    let target_text = |t: &targets::TargetRow| {
        t.target
            .amount
            .map(|a| money(a, lang))
            .unwrap_or_else(|| NONE.into())
    };
    let mut target_rows: Vec<Value> = tgt
        .members
        .iter()
        .map(|m| {
            json!([
                m.rank.map(|r| r.to_string()).unwrap_or_else(|| NONE.into()),
                m.name,
                money(m.won_amount, lang),
                target_text(m),
                pct(m.target_completion),
                pct(m.projected_completion),
            ])
        })
        .collect();
    if !target_rows.is_empty() {
        target_rows.push(json!([
            "",
            tgt.team.name,
            money(tgt.team.won_amount, lang),
            target_text(&tgt.team),
            pct(tgt.team.target_completion),
            pct(tgt.team.projected_completion),
        ]));
    }

    let loss_reasons: Vec<Value> = pf
        .loss_reasons
        .iter()
        .map(|l| json!([l.reason, l.count.to_string(), fmt_pct(l.share)]))
        .collect();
    let sources: Vec<Value> = src
        .sources
        .iter()
        .map(|g| {
            json!([
                g.label,
                g.customers.to_string(),
                g.won.to_string(),
                pct(g.win_rate),
                pct(g.win_rate_30d)
            ])
        })
        .collect();
    let segments: Vec<Value> = seg
        .segments
        .iter()
        .map(|s| json!([s.label, s.count.to_string(), pct(s.share), s.action]))
        .collect();
    let more = vec![
        json!([p("线索数", "Leads"), conv.leads.to_string()]),
        json!([
            p("新建商机", "Opportunities created"),
            conv.created.to_string()
        ]),
        json!([
            p("赢单率（按新建）", "Won / created"),
            pct(conv.win_rate_of_created)
        ]),
        json!([
            p("回款金额", "Received"),
            money(sales.received_amount, lang)
        ]),
        json!([p("跟进次数", "Follow-ups"), fa.total.to_string()]),
        json!([
            p("有效跟进占比", "Effective follow-ups"),
            pct(fa.effective_share)
        ]),
        json!([
            p("平均响应时长", "Average response"),
            days_text(fa.avg_response_days, lang)
        ]),
        json!([
            p("低优先级商机", "Low-priority deals"),
            low_priority(conn, f)?.count.to_string()
        ]),
    ];

    let loss_note = match lang {
        Lang::Zh => format!(
            "本期新建商机 {} 个，其中输单 {} 个。转化率 = 本阶段进入数 / 上一阶段进入数；停留天数为离开该阶段的商机的平均值。",
            pf.total, pf.lost
        ),
        Lang::En => format!(
            "{} opportunities created in the period, {} of them lost. Conversion = entered this stage / entered the previous one; days are the mean stay of deals that left the stage.",
            pf.total, pf.lost
        ),
    };
    let labels = json!({
        "colon": p("：", ": "),
        "period": p("统计周期", "Period"),
        "owner": p("负责人", "Owner"),
        "generated": p("生成时间", "Generated"),
        "key_figures": p("关键指标", "Key figures"),
        "funnel": p("销售漏斗", "Pipeline funnel"),
        "customer_funnel": p("客户漏斗", "Customer funnel"),
        "trend": p("业绩趋势", "Trend"),
        "by_owner": p("负责人业绩", "By owner"),
        "by_source": p("线索来源", "Lead sources"),
        "loss_reasons": p("输单原因（前三）", "Loss reasons (top 3)"),
        "segments": p("客户画像", "Customer segments"),
        "more": p("其他指标", "More figures"),
        "stage": p("阶段", "Stage"),
        "status": p("状态", "Status"),
        "entered": p("进入数", "Entered"),
        "conversion": p("转化率", "Conversion"),
        "avg_days": p("平均停留", "Avg stay"),
        "owner_col": p("负责人", "Owner"),
        "wins": p("成交单数", "Wins"),
        "won_amount": p("销售额", "Won amount"),
        "share": p("占比", "Share"),
        "reason": p("原因", "Reason"),
        "count": p("数量", "Count"),
        "source": p("来源", "Source"),
        "leads": p("线索数", "Leads"),
        "won": p("成交数", "Won"),
        "win_rate": p("成交率", "Win rate"),
        "win_rate_30d": p(&format!("{}天成单率", set.source_win_days), &format!("{}-day win rate", set.source_win_days)),
        "segment": p("分群", "Segment"),
        "customers": p("客户数", "Customers"),
        "action": p("建议动作", "Recommended action"),
        "new_customers": p("新客户", "New customers"),
        "max": p("最高", "max"),
        "figure": p("指标", "Figure"),
        "value": p("数值", "Value"),
        "empty": p("本期暂无数据", "No data in this period"),
        "rank": p("排名", "Rank"),
        "target": p("目标金额", "Target"),
        "completion": p("完成率", "Completion"),
        "projected": p("预计完成率", "Projected"),
    });
    Ok(json!({
        "lang": lang.pick("zh", "en"),
        "region": lang.pick("cn", "us"),
        "title": p("销售报告", "Sales report"),
        "subtitle": p("业绩与客户画像", "Performance and customer portrait"),
        "footer": p("Kehu 客户管理 · 销售报告", "Kehu CRM · Sales report"),
        "period": period,
        "owner": owner,
        "generated": generated,
        "labels": labels,
        "kpis": kpis,
        "funnel": {
            "total": pf.total,
            "stages": funnel_json(&pf, lang)["stages"],
            "note": loss_note,
        },
        "customer_funnel": funnel_json(&cf, lang),
        "trend": {
            "points": points,
            "max_amount": max_amount,
            "max_amount_text": money(max_amount, lang),
            "max_new": max_new,
            "note": by_text,
        },
        "owners": owners,
        "loss_reasons": loss_reasons,
        "sources": sources,
        "segments": segments,
        "segments_note": match lang {
            Lang::Zh => format!("按当前客户计算（共 {} 位），与统计周期无关；一位客户可属于多个分群。", seg.customers),
            Lang::En => format!("Current customers ({} in all), whatever the period; a customer can be in several segments.", seg.customers),
        },
        "more": more,
        "targets": {
            "title": match lang {
                Lang::Zh => format!("目标完成与排名（{}）", tgt.period),
                Lang::En => format!("Targets and ranking ({})", tgt.period),
            },
            "rows": target_rows,
            "note": p(
                "排名按目标完成率（销售额 ÷ 目标金额），未设目标的按销售额排在后面；预计完成率按当前日均推算到期末。",
                "Ranked by target completion (won amount ÷ target); members without a target follow by won amount. Projection: the current daily rate to the end of the period.",
            ),
        },
    }))
}

/// The report of `f` at time `now` as PDF bytes.
pub fn render(conn: &Connection, f: &Filter, now: i64, lang: Lang) -> Result<Vec<u8>> {
    let data = report_data(conn, f, now, lang)?;
    typeset(&data, local_date(now))
}

/// Write the report of `f` at time `now` to `path` (PDF).
pub fn write_report(
    conn: &Connection,
    f: &Filter,
    now: i64,
    lang: Lang,
    path: &Path,
) -> Result<()> {
    let bytes = render(conn, f, now, lang)?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, bytes)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_a_cjk_font_the_error_says_what_to_install_in_both_languages() {
        let dir = std::env::temp_dir().join("kehu-no-such-font-dir");
        let Err(e) = load_fonts(&[dir.join("NotoSansCJK-Regular.ttc")], true) else {
            panic!("no font, no report");
        };
        let zh = e.message(Lang::Zh);
        let en = e.message(Lang::En);
        assert!(
            zh.contains("找不到中文字体") && zh.contains("fonts-noto-cjk"),
            "{zh}"
        );
        assert!(
            en.contains("No Chinese font") && en.contains("KEHU_PDF_FONT"),
            "{en}"
        );
    }

    #[test]
    fn english_amounts_have_thousands_separators() {
        assert_eq!(money(160_000.0, Lang::En), "¥160,000");
        assert_eq!(money(1_234_567.4, Lang::En), "¥1,234,567");
        assert_eq!(money(999.5, Lang::En), "¥999.5");
        assert_eq!(money(-2_500.0, Lang::En), "-¥2,500");
        assert_eq!(money(160_000.0, Lang::Zh), "16万元");
        assert_eq!(money(295_335_000.0, Lang::Zh), "2.95亿元");
        assert_eq!(money(800.0, Lang::Zh), "800元");
    }
}
