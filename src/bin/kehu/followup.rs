//! `kehu followup …`: plan, record, complete, postpone, cancel and list follow-ups.

use crate::{output, Ctx};
use clap::Subcommand;
use kehu::clock::format_local;
use kehu::followups::{
    self, DoneInput, Followup, FollowupQuery, FollowupStatus, Kind, NewFollowup,
};
use kehu::{Error, Lang, Result};

/// A time the way people type it: `2026-11-25 14:00` (local) or RFC 3339.
pub fn parse_time(text: &str, field: &str) -> Result<i64> {
    kehu::dates::parse_local_datetime(text).ok_or_else(|| {
        Error::validation(
            field,
            format!("无法识别的时间“{text}”，请用 2026-11-25 14:00 这样的格式"),
            format!("“{text}” is not a time; use the form 2026-11-25 14:00"),
        )
    })
}

pub fn parse_kind(text: &str) -> Result<Kind> {
    Kind::parse(text).ok_or_else(|| {
        Error::validation(
            "kind",
            format!("未知的跟进方式“{text}”，可选：电话、拜访、邮件、线上会议、微信、其他"),
            format!("Unknown kind “{text}”; use call, visit, email, meeting, wechat or other"),
        )
    })
}

#[derive(Subcommand)]
pub enum Cmd {
    /// Plan a follow-up (with a reminder), or record one that happened (--done).
    Add {
        /// Customer code or id.
        customer: String,
        /// call | visit | email | meeting | wechat | other (or 电话/拜访/邮件/线上会议/微信/其他).
        #[arg(long, default_value = "call")]
        kind: String,
        /// Planned time (YYYY-MM-DD HH:MM local, or RFC 3339); with --done, when it happened.
        #[arg(long)]
        at: Option<String>,
        /// Remind this many minutes before (default 30).
        #[arg(long)]
        remind: Option<i64>,
        /// No reminder.
        #[arg(long, conflicts_with = "remind")]
        no_remind: bool,
        /// Record a follow-up that already happened.
        #[arg(long)]
        done: bool,
        #[arg(long)]
        purpose: Option<String>,
        #[arg(long)]
        content: Option<String>,
        #[arg(long)]
        feedback: Option<String>,
        #[arg(long)]
        next_step: Option<String>,
        /// Opportunity id (or prefix) this follow-up belongs to.
        #[arg(long)]
        opp: Option<String>,
        /// Owner (member name, id or employee no.).
        #[arg(long)]
        owner: Option<String>,
    },
    /// Mark a planned follow-up done with its result.
    Done {
        id: String,
        #[arg(long)]
        result: Option<String>,
        #[arg(long)]
        feedback: Option<String>,
        #[arg(long)]
        next_step: Option<String>,
        /// Count it as an effective follow-up (有效跟进).
        #[arg(long)]
        effective: bool,
        /// Not an effective follow-up.
        #[arg(long, conflicts_with = "effective")]
        not_effective: bool,
        /// When it happened (default now).
        #[arg(long)]
        at: Option<String>,
    },
    /// Move a planned follow-up to a new time (a reason is required).
    Postpone {
        id: String,
        #[arg(long)]
        to: String,
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// Cancel a planned follow-up.
    Cancel {
        id: String,
        #[arg(long)]
        reason: Option<String>,
    },
    /// List follow-ups.
    List {
        /// Only this customer's (code or id).
        #[arg(long)]
        customer: Option<String>,
        /// Only planned follow-ups due by the end of today (overdue included).
        #[arg(long)]
        due: bool,
        /// planned | done | cancelled
        #[arg(long)]
        status: Option<String>,
        #[arg(long, default_value_t = 200)]
        limit: usize,
    },
    /// Show one follow-up.
    Show { id: String },
    /// A customer's timeline: follow-ups and stage changes, newest first.
    Timeline { customer: String },
    /// Attach a file to a follow-up (copied into the data folder).
    Attach {
        id: String,
        file: std::path::PathBuf,
    },
}

pub fn run(ctx: &mut Ctx, cmd: Cmd) -> Result<()> {
    let l = ctx.lang;
    match cmd {
        Cmd::Add {
            customer,
            kind,
            at,
            remind,
            no_remind,
            done,
            purpose,
            content,
            feedback,
            next_step,
            opp,
            owner,
        } => {
            let kind = parse_kind(&kind)?;
            let at = at.map(|a| parse_time(&a, "at")).transpose()?;
            let owner_id = owner
                .map(|o| kehu::members::resolve(ctx.ws.conn(), &o).map(|m| m.id))
                .transpose()?;
            let new = NewFollowup {
                customer,
                fields: followups::FollowupFields {
                    kind,
                    owner_id,
                    opportunity_id: opp,
                    purpose,
                    content,
                    feedback,
                    next_step,
                    effective: None,
                },
                planned_at: if done { None } else { at },
                remind_before_min: remind,
                no_reminder: no_remind,
                done,
                done_at: if done { at } else { None },
            };
            let f = followups::add(&mut ctx.ws, new)?;
            let suggestion = if f.status == FollowupStatus::Done {
                followups::suggest_next_at(
                    ctx.ws.conn(),
                    &f.customer_id,
                    f.done_at.unwrap_or(f.created_at),
                )?
            } else {
                None
            };
            if ctx.json {
                output::json(&serde_json::json!({"followup": f, "suggested_next_at": suggestion}));
            } else {
                print_one(&f, l);
                print_suggestion(suggestion, l);
            }
        }
        Cmd::Done {
            id,
            result,
            feedback,
            next_step,
            effective,
            not_effective,
            at,
        } => {
            let done_at = at.map(|a| parse_time(&a, "at")).transpose()?;
            let f = followups::complete(
                &mut ctx.ws,
                &id,
                DoneInput {
                    content: result,
                    feedback,
                    next_step,
                    effective: if effective {
                        Some(true)
                    } else if not_effective {
                        Some(false)
                    } else {
                        None
                    },
                    done_at,
                },
            )?;
            let suggestion = followups::suggest_next_at(
                ctx.ws.conn(),
                &f.customer_id,
                f.done_at.unwrap_or(f.updated_at),
            )?;
            if ctx.json {
                output::json(&serde_json::json!({"followup": f, "suggested_next_at": suggestion}));
            } else {
                print_one(&f, l);
                print_suggestion(suggestion, l);
            }
        }
        Cmd::Postpone { id, to, reason } => {
            let to = parse_time(&to, "to")?;
            let f = followups::postpone(&mut ctx.ws, &id, to, &reason)?;
            if ctx.json {
                output::json(&f)
            } else {
                print_one(&f, l)
            }
        }
        Cmd::Cancel { id, reason } => {
            let f = followups::cancel(&mut ctx.ws, &id, reason.as_deref())?;
            if ctx.json {
                output::json(&f)
            } else {
                print_one(&f, l)
            }
        }
        Cmd::List {
            customer,
            due,
            status,
            limit,
        } => {
            let status = status
                .map(|s| match s.as_str() {
                    "planned" | "计划" | "计划中" => Ok(FollowupStatus::Planned),
                    "done" | "完成" | "已完成" => Ok(FollowupStatus::Done),
                    "cancelled" | "canceled" | "取消" | "已取消" => {
                        Ok(FollowupStatus::Cancelled)
                    }
                    _ => Err(Error::validation(
                        "status",
                        "状态只能是 planned / done / cancelled",
                        "Status must be planned, done or cancelled",
                    )),
                })
                .transpose()?;
            let planned_before = due.then(|| kehu::today::day_bounds(ctx.ws.now_ms()).1);
            let rows = followups::list(
                ctx.ws.conn(),
                &FollowupQuery {
                    customer,
                    status,
                    planned_before,
                    limit: Some(limit),
                    ..Default::default()
                },
            )?;
            if ctx.json {
                output::json(&rows)
            } else {
                for f in &rows {
                    print_row(f, l);
                }
                println!(
                    "{}",
                    match l {
                        Lang::Zh => format!("共 {} 条", rows.len()),
                        Lang::En => format!("{} follow-ups", rows.len()),
                    }
                );
            }
        }
        Cmd::Show { id } => {
            let f = followups::get(ctx.ws.conn(), &id)?;
            if ctx.json {
                let post = followups::postponements(ctx.ws.conn(), &f.id)?;
                let att = followups::attachments(ctx.ws.conn(), &f.id)?;
                output::json(
                    &serde_json::json!({"followup": f, "postponements": post, "attachments": att}),
                )
            } else {
                print_one(&f, l)
            }
        }
        Cmd::Timeline { customer } => {
            let items = followups::timeline(ctx.ws.conn(), &customer, l, 500)?;
            if ctx.json {
                output::json(&items)
            } else {
                for i in &items {
                    match i {
                        followups::TimelineItem::Followup { followup, .. } => {
                            print_row(followup, l)
                        }
                        followups::TimelineItem::StageChange {
                            at,
                            opportunity_name,
                            stage_name,
                            reason,
                            ..
                        } => println!(
                            "{}  {}  {} → {}{}",
                            format_local(*at),
                            l.pick("阶段", "stage"),
                            opportunity_name,
                            stage_name,
                            reason
                                .as_ref()
                                .map(|r| format!("（{r}）"))
                                .unwrap_or_default()
                        ),
                    }
                }
            }
        }
        Cmd::Attach { id, file } => {
            let a = followups::attach(&mut ctx.ws, &id, &file)?;
            if ctx.json {
                output::json(&a)
            } else {
                println!(
                    "{} {} ({} B, {})",
                    l.pick("已添加附件", "Attached"),
                    a.name,
                    a.size,
                    &a.sha256[..12]
                );
            }
        }
    }
    Ok(())
}

fn print_suggestion(s: Option<i64>, l: Lang) {
    if let Some(t) = s {
        println!(
            "{} {}",
            l.pick("建议下次跟进：", "Suggested next follow-up:"),
            format_local(t)
        );
    }
}

fn print_row(f: &Followup, l: Lang) {
    let when = f
        .done_at
        .or(f.planned_at)
        .map(format_local)
        .unwrap_or_default();
    println!(
        "{}  {}  {}  {}  {}  {}",
        &f.id,
        output::pad(&when, 16),
        output::pad(f.status.label(l), 6),
        output::pad(f.fields.kind.label(l), 8),
        output::pad(&f.customer_name, 28),
        f.fields
            .content
            .as_deref()
            .or(f.fields.purpose.as_deref())
            .unwrap_or("")
    );
}

fn print_one(f: &Followup, l: Lang) {
    println!("{}: {}", l.pick("编号", "id"), f.id);
    println!(
        "{}: {} ({})",
        l.pick("客户", "customer"),
        f.customer_name,
        f.customer_code
    );
    println!("{}: {}", l.pick("方式", "kind"), f.fields.kind.label(l));
    println!("{}: {}", l.pick("状态", "status"), f.status.label(l));
    if let Some(p) = f.planned_at {
        println!("{}: {}", l.pick("计划时间", "planned"), format_local(p));
    }
    if let Some(r) = f.remind_at {
        println!("{}: {}", l.pick("提醒时间", "reminder"), format_local(r));
    }
    if let Some(d) = f.done_at {
        println!("{}: {}", l.pick("完成时间", "done"), format_local(d));
    }
    for (zh, en, v) in [
        ("目的", "purpose", &f.fields.purpose),
        ("内容", "content", &f.fields.content),
        ("客户反馈", "feedback", &f.fields.feedback),
        ("下一步", "next step", &f.fields.next_step),
        ("延期原因", "postponed because", &f.postpone_reason),
    ] {
        if let Some(v) = v {
            println!("{}: {v}", l.pick(zh, en));
        }
    }
}
