//! `kehu import FILE …`, `kehu imports list|undo ID`

use crate::{output, Ctx};
use kehu::import::{self, ImportOptions, OnDuplicate};
use kehu::{Error, Result};
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;

#[derive(clap::Args)]
pub struct Args {
    /// xlsx, xlsm, xls, ods, csv or tsv file.
    file: PathBuf,
    /// Sheet name or 1-based number (default: the first sheet with a customer header).
    #[arg(long)]
    sheet: Option<String>,
    /// Column mapping saved as JSON (see --save-mapping).
    #[arg(long)]
    mapping: Option<PathBuf>,
    /// Write the mapping used to this JSON file, to reuse or edit it.
    #[arg(long)]
    save_mapping: Option<PathBuf>,
    /// CSV encoding: utf-8, gbk, gb18030, utf-16le, utf-16be (default: detected).
    #[arg(long)]
    encoding: Option<String>,
    /// Rows matching an existing customer (exactly or by the duplicate scorer):
    /// skip, fill (empty fields), merge (fill, add contacts and tags, keep both notes), overwrite, create.
    #[arg(long, default_value = "skip")]
    on_duplicate: String,
    /// Check everything and report, but write nothing.
    #[arg(long)]
    dry_run: bool,
    /// Write the failed rows with an error column to this xlsx.
    #[arg(long)]
    errors: Option<PathBuf>,
    /// Show progress on stderr.
    #[arg(long)]
    progress: bool,
}

#[derive(clap::Subcommand)]
pub enum Cmd {
    /// The import log, newest first.
    List,
    /// Undo a whole import.
    Undo { id: String },
}

pub fn run(ctx: &mut Ctx, a: Args) -> Result<()> {
    let lang = ctx.lang;
    let on_duplicate = OnDuplicate::parse(&a.on_duplicate).ok_or_else(|| {
        Error::validation(
            "on_duplicate",
            "--on-duplicate 应为 skip、fill、merge、overwrite 或 create",
            "--on-duplicate must be skip, fill, merge, overwrite or create",
        )
    })?;
    let mapping = match &a.mapping {
        Some(p) => Some(serde_json::from_slice(&std::fs::read(p)?).map_err(|e| {
            Error::validation(
                "mapping",
                format!("列映射文件无法解析：{e}"),
                format!("The mapping file cannot be parsed: {e}"),
            )
        })?),
        None => None,
    };
    let opts = ImportOptions {
        sheet: a.sheet,
        encoding: a.encoding,
        mapping,
        on_duplicate,
    };
    if let Some(p) = &a.save_mapping {
        let pv = import::preview(&ctx.ws, &a.file, &opts)?;
        std::fs::write(p, serde_json::to_string_pretty(&pv.mapping)?)?;
    }
    let started = std::time::Instant::now();
    let show = a.progress;
    let mut last = std::time::Instant::now();
    let mut on_progress = |p: import::Progress| {
        if show && (last.elapsed().as_millis() >= 200 || p.done == p.total) {
            last = std::time::Instant::now();
            let rate = p.done as f64 / started.elapsed().as_secs_f64().max(1e-3);
            eprint!(
                "\r{} {}/{} ({rate:.0} {})",
                lang.pick("导入中", "importing"),
                p.done,
                p.total,
                lang.pick("行/秒", "rows/s")
            );
            if p.done == p.total {
                eprintln!();
            }
            let _ = std::io::stderr().flush();
        }
    };
    let cancel = AtomicBool::new(false);
    let report = import::run(
        &mut ctx.ws,
        &a.file,
        &opts,
        a.dry_run,
        &mut on_progress,
        &cancel,
    )?;
    if let Some(p) = &a.errors {
        if report.failed > 0
            || !report.followup_failures.is_empty()
            || !report.opportunity_failures.is_empty()
        {
            import::report::write_error_report(&report, p, lang)?;
        }
    }
    if ctx.json {
        output::json(&report);
        return Ok(());
    }
    let verb = if a.dry_run {
        lang.pick("（试运行，未写入）", " (dry run, nothing written)")
    } else {
        ""
    };
    if lang == kehu::Lang::Zh {
        println!(
            "共 {} 行：新增 {}，更新 {}，跳过 {}，失败 {}{verb}",
            report.total, report.imported, report.updated, report.skipped, report.failed
        );
    } else {
        println!(
            "{} rows: {} imported, {} updated, {} skipped, {} failed{verb}",
            report.total, report.imported, report.updated, report.skipped, report.failed
        );
    }
    if let Some(sheet) = &report.followup_sheet {
        if lang == kehu::Lang::Zh {
            println!(
                "跟进记录（工作表“{sheet}”）：导入 {}，失败 {}",
                report.followups_imported,
                report.followup_failures.len()
            );
        } else {
            println!(
                "follow-ups (sheet “{sheet}”): {} imported, {} failed",
                report.followups_imported,
                report.followup_failures.len()
            );
        }
    }
    if let Some(sheet) = &report.opportunity_sheet {
        if lang == kehu::Lang::Zh {
            println!(
                "销售机会（工作表“{sheet}”）：导入 {}，失败 {}",
                report.opportunities_imported,
                report.opportunity_failures.len()
            );
        } else {
            println!(
                "opportunities (sheet “{sheet}”): {} imported, {} failed",
                report.opportunities_imported,
                report.opportunity_failures.len()
            );
        }
    }
    for f in report.failures.iter().take(20) {
        let msg: Vec<&str> = f.issues.iter().map(|i| i.message(lang)).collect();
        if lang == kehu::Lang::Zh {
            println!("  第 {} 行：{}", f.row, msg.join("；"));
        } else {
            println!("  row {}: {}", f.row, msg.join("; "));
        }
    }
    if report.failures.len() > 20 {
        println!("  …");
    }
    if let Some(id) = &report.job_id {
        println!("{} {id}", lang.pick("导入编号", "import id"));
    }
    if let (Some(p), true) = (&a.errors, report.failed > 0) {
        println!(
            "{} {}",
            lang.pick("错误报告：", "error report:"),
            p.display()
        );
    }
    Ok(())
}

pub fn run_jobs(ctx: &mut Ctx, cmd: Cmd) -> Result<()> {
    let lang = ctx.lang;
    match cmd {
        Cmd::List => {
            let jobs = import::list_jobs(ctx.ws.conn())?;
            if ctx.json {
                output::json(&jobs);
                return Ok(());
            }
            for j in &jobs {
                let when = chrono::DateTime::from_timestamp_millis(j.finished_at)
                    .map(|d| {
                        d.with_timezone(&chrono::Local)
                            .format("%Y-%m-%d %H:%M")
                            .to_string()
                    })
                    .unwrap_or_default();
                println!(
                    "{}  {when}  {}  {}/{}/{}/{}/{}{}",
                    j.id,
                    output::pad(&j.file_name, 24),
                    j.total,
                    j.imported,
                    j.updated,
                    j.skipped,
                    j.failed,
                    if j.undone_at.is_some() {
                        lang.pick("  已撤销", "  undone")
                    } else {
                        ""
                    }
                );
            }
            if jobs.is_empty() {
                println!("{}", lang.pick("还没有导入记录", "No imports yet"));
            } else {
                println!(
                    "{}",
                    lang.pick(
                        "（共/新增/更新/跳过/失败）",
                        "(total/imported/updated/skipped/failed)"
                    )
                );
            }
        }
        Cmd::Undo { id } => {
            let r = import::undo(&mut ctx.ws, &id)?;
            if ctx.json {
                output::json(&r);
            } else if lang == kehu::Lang::Zh {
                println!(
                    "已撤销导入 {}：删除 {} 个新建客户，恢复 {} 个客户",
                    r.job_id, r.removed, r.restored
                );
            } else {
                println!(
                    "Import {} undone: {} created customers removed, {} restored",
                    r.job_id, r.removed, r.restored
                );
            }
        }
    }
    Ok(())
}
