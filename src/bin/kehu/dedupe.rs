//! `kehu dedupe …` (alias `dupes`): find, check, merge and unmerge duplicate customers.

use crate::{output, Ctx};
use clap::Subcommand;
use kehu::dedupe::{self, Draft};
use kehu::{customers, Error, Result};
use std::collections::BTreeMap;
use std::io::Write;
use std::sync::atomic::AtomicBool;

#[derive(Subcommand)]
pub enum Cmd {
    /// Find groups of likely duplicates among all customers.
    Scan {
        /// Pairs scoring at least this are duplicates (default: the setting, 0.85).
        #[arg(long)]
        threshold: Option<f32>,
    },
    /// Candidates for a customer not yet saved.
    Check {
        #[arg(long)]
        name: String,
        #[arg(long)]
        mobile: Vec<String>,
        #[arg(long)]
        email: Vec<String>,
        #[arg(long)]
        region: Option<String>,
        #[arg(long, default_value_t = 5)]
        limit: usize,
    },
    /// Merge duplicates into MASTER (ids or codes); prints the merge id.
    Merge {
        master: String,
        #[arg(required = true)]
        duplicates: Vec<String>,
        /// FIELD=CUSTOMER: take this field's value from that customer.
        #[arg(long = "take", value_name = "FIELD=ID")]
        take: Vec<String>,
    },
    /// Undo a merge.
    Unmerge { merge_id: String },
    /// Remember that two customers are not duplicates.
    Ignore { a: String, b: String },
    /// Show the duplicate settings, or change the thresholds.
    Settings {
        /// Pairs scoring at least this are duplicates (0.50–1.00; higher is stricter).
        #[arg(long)]
        threshold: Option<f32>,
        /// Candidates shown while typing score at least this.
        #[arg(long)]
        hint_threshold: Option<f32>,
    },
}

fn code_of(ctx: &Ctx, id: &str) -> String {
    customers::get(ctx.ws.conn(), id)
        .map(|c| format!("{} {}", c.code, c.fields.name))
        .unwrap_or_else(|_| id.to_string())
}

pub fn run(ctx: &mut Ctx, cmd: Cmd) -> Result<()> {
    let l = ctx.lang;
    match cmd {
        Cmd::Scan { threshold } => {
            let mut s = dedupe::settings(ctx.ws.conn())?;
            if let Some(t) = threshold {
                if !(0.0..=1.0).contains(&t) {
                    return Err(Error::validation(
                        "threshold",
                        "阈值应在 0 到 1 之间",
                        "The threshold must be between 0 and 1",
                    ));
                }
                s.threshold = t;
            }
            let quiet = ctx.json;
            let mut last = 0;
            let r = dedupe::scan_with(
                ctx.ws.conn(),
                &s,
                &mut |done, total| {
                    let pct = done * 100 / total.max(1);
                    if !quiet && pct >= last + 10 {
                        last = pct;
                        eprint!("\r{pct}%");
                        let _ = std::io::stderr().flush();
                    }
                },
                &AtomicBool::new(false),
            )?;
            if !quiet {
                eprint!("\r");
            }
            if ctx.json {
                output::json(&serde_json::json!({
                    "groups": r.groups,
                    "customers": r.customers,
                    "compared": r.compared,
                }));
            } else {
                for g in &r.groups {
                    println!("{:.2}", g.score);
                    for m in &g.members {
                        println!("  {}", code_of(ctx, m));
                    }
                    for p in &g.pairs {
                        let why: Vec<&str> = p
                            .reasons
                            .iter()
                            .map(|r| {
                                if l == kehu::Lang::Zh {
                                    r.zh.as_ref()
                                } else {
                                    r.en.as_ref()
                                }
                            })
                            .collect();
                        println!("    {:.2}  {}", p.score, why.join("、"));
                    }
                }
                println!(
                    "{}",
                    if l == kehu::Lang::Zh {
                        format!(
                            "{} 组可能重复（{} 个客户，比较 {} 对）",
                            r.groups.len(),
                            r.customers,
                            r.compared
                        )
                    } else {
                        format!(
                            "{} groups of likely duplicates ({} customers, {} pairs compared)",
                            r.groups.len(),
                            r.customers,
                            r.compared
                        )
                    }
                );
            }
        }
        Cmd::Check {
            name,
            mobile,
            email,
            region,
            limit,
        } => {
            let draft = Draft {
                name,
                mobiles: mobile,
                emails: email,
                region: region.unwrap_or_default(),
                ..Default::default()
            };
            let c = dedupe::candidates_for(ctx.ws.conn(), &draft, limit)?;
            if ctx.json {
                output::json(&serde_json::json!({ "candidates": c }));
            } else if c.is_empty() {
                println!("{}", l.pick("没有可能重复的客户", "No likely duplicates"));
            } else {
                for x in c {
                    let why: Vec<&str> = x
                        .reasons
                        .iter()
                        .map(|r| {
                            if l == kehu::Lang::Zh {
                                r.zh.as_ref()
                            } else {
                                r.en.as_ref()
                            }
                        })
                        .collect();
                    println!(
                        "{:.2}  {}  {}  {}",
                        x.score,
                        output::pad(&x.code, 13),
                        output::pad(&x.name, 30),
                        why.join("、")
                    );
                }
            }
        }
        Cmd::Merge {
            master,
            duplicates,
            take,
        } => {
            let mut choices = BTreeMap::new();
            for t in take {
                let Some((f, who)) = t.split_once('=') else {
                    return Err(Error::validation(
                        "take",
                        format!("“{t}”应写成 字段=客户"),
                        format!("“{t}” should be FIELD=CUSTOMER"),
                    ));
                };
                choices.insert(f.trim().to_string(), who.trim().to_string());
            }
            let r = dedupe::merge(&mut ctx.ws, &master, &duplicates, &choices)?;
            if ctx.json {
                output::json(&r);
            } else {
                println!(
                    "{} {}",
                    l.pick("已合并，合并编号", "Merged; merge id"),
                    r.merge_id
                );
            }
        }
        Cmd::Unmerge { merge_id } => {
            dedupe::unmerge(&mut ctx.ws, &merge_id)?;
            if ctx.json {
                output::json(&serde_json::json!({ "unmerged": merge_id }));
            } else {
                println!("{}", l.pick("已撤销合并", "Merge undone"));
            }
        }
        Cmd::Ignore { a, b } => {
            dedupe::ignore(&mut ctx.ws, &a, &b)?;
            if ctx.json {
                output::json(&serde_json::json!({ "ignored": [a, b] }));
            } else {
                println!("{}", l.pick("已标记为不重复", "Marked as not duplicates"));
            }
        }
        Cmd::Settings {
            threshold,
            hint_threshold,
        } => {
            let mut s = dedupe::settings(ctx.ws.conn())?;
            if threshold.is_some() || hint_threshold.is_some() {
                s.threshold = threshold.unwrap_or(s.threshold);
                s.hint_threshold = hint_threshold.unwrap_or(s.hint_threshold);
                dedupe::set_settings(&mut ctx.ws, s)?;
            }
            if ctx.json {
                output::json(&s);
            } else {
                println!(
                    "{} {:.2}",
                    l.pick("判定重复的分数：", "Duplicate threshold:"),
                    s.threshold
                );
                println!(
                    "{} {:.2}",
                    l.pick("录入提示的分数：", "Hint threshold:"),
                    s.hint_threshold
                );
            }
        }
    }
    Ok(())
}
