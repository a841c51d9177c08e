//! `kehu remind …`: what is due, and a headless reminder scheduler.

use crate::followup::parse_time;
use crate::{output, Ctx};
use clap::Subcommand;
use kehu::clock::format_local;
use kehu::reminders::{self, ActionSink, DesktopNotifier, Notification, Notifier, Scheduler};
use kehu::{Lang, Result};

#[derive(Subcommand)]
pub enum Cmd {
    /// Reminders due at a time (default now) and not yet shown; shows nothing.
    Due {
        #[arg(long)]
        at: Option<String>,
    },
    /// Run the reminder scheduler with desktop notifications until stopped;
    /// prints each notification and what was clicked on it.
    Run {
        /// Also build yesterday's daily report (日报) at start when it is
        /// missing and announce it, as the app does.
        #[arg(long)]
        daily: bool,
    },
    /// Remind again later.
    Snooze {
        id: String,
        #[arg(long, default_value_t = 10)]
        minutes: i64,
    },
}

/// Shows desktop notifications and prints a line for each.
struct Loud(DesktopNotifier, bool);

impl Notifier for Loud {
    fn notify(&self, n: &Notification, actions: &ActionSink) -> Result<()> {
        let r = self.0.notify(n, actions);
        if self.1 {
            println!("{}", serde_json::to_string(n).unwrap_or_default());
        } else {
            println!(
                "{} {} — {}",
                format_local(chrono::Utc::now().timestamp_millis()),
                n.title,
                n.body.replace('\n', " / ")
            );
        }
        if let Err(e) = &r {
            eprintln!("{}", e.message(self.0.lang));
        }
        r
    }
}

pub fn run(ctx: &mut Ctx, cmd: Cmd) -> Result<()> {
    let l = ctx.lang;
    match cmd {
        Cmd::Due { at } => {
            let t = match at {
                Some(a) => parse_time(&a, "at")?,
                None => ctx.ws.now_ms(),
            };
            let due = reminders::due_at(ctx.ws.conn(), t)?;
            if ctx.json {
                output::json(&due)
            } else {
                for d in &due {
                    println!(
                        "{}  {}  {}  {}  {}",
                        d.followup_id,
                        format_local(d.remind_at),
                        output::pad(d.kind.label(l), 8),
                        d.planned_at.map(format_local).unwrap_or_default(),
                        d.customer_name
                    );
                }
                println!(
                    "{}",
                    match l {
                        Lang::Zh => format!("共 {} 条到期提醒", due.len()),
                        Lang::En => format!("{} reminders due", due.len()),
                    }
                );
            }
        }
        Cmd::Run { daily } => {
            let path = ctx
                .ws
                .path()
                .map(|p| p.to_path_buf())
                .unwrap_or_else(kehu::db::default_db_path);
            if !ctx.json {
                eprintln!(
                    "{}",
                    l.pick(
                        "提醒服务已启动（Ctrl+C 退出）",
                        "Reminder scheduler running (Ctrl+C to stop)"
                    )
                );
            }
            let json = ctx.json;
            let notifier = Loud(DesktopNotifier::new(l), json);
            let clicked = move |a: &reminders::Action| {
                if json {
                    println!("{}", serde_json::json!({ "action": a }));
                } else {
                    println!("{} {a:?}", l.pick("点击：", "Clicked:"));
                }
            };
            if daily {
                if let Some(rep) = kehu::analysis::daily::ensure(&mut ctx.ws)? {
                    let n = kehu::analysis::daily::notification(&rep, l);
                    // A click opens Today in the app; here it is printed.
                    let _ = notifier.notify(&n, &ActionSink::callback(clicked));
                }
            }
            let handle = Scheduler::spawn_with(path, notifier, l, Some(Box::new(clicked)))?;
            handle.join();
        }
        Cmd::Snooze { id, minutes } => {
            let f = reminders::snooze(&mut ctx.ws, &id, minutes)?;
            if ctx.json {
                output::json(&f)
            } else {
                println!(
                    "{} {}",
                    l.pick("将再次提醒于", "Will remind again at"),
                    f.remind_at.map(format_local).unwrap_or_default()
                );
            }
        }
    }
    Ok(())
}
