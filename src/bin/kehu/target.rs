//! `kehu target …`: sales targets (销售目标).

use crate::{output, Ctx};
use clap::Subcommand;
use kehu::analysis::targets::{self, TargetFields};
use kehu::Result;

#[derive(Subcommand)]
pub enum Cmd {
    /// Set the target of a member (--owner) or the team (--team) for a month or quarter.
    Set {
        /// Member name, id or employee no.
        #[arg(long, required_unless_present = "team", conflicts_with = "team")]
        owner: Option<String>,
        /// The whole team.
        #[arg(long)]
        team: bool,
        /// 2026-11 (month) or 2026-Q4 (quarter).
        #[arg(long)]
        period: String,
        /// Amount target (yuan).
        #[arg(long)]
        amount: Option<f64>,
        /// Number of wins.
        #[arg(long)]
        wins: Option<i64>,
        /// Number of new customers.
        #[arg(long)]
        new_customers: Option<i64>,
    },
    /// List the targets of a period.
    List {
        #[arg(long)]
        period: String,
    },
}

pub fn run(ctx: &mut Ctx, cmd: Cmd) -> Result<()> {
    let l = ctx.lang;
    match cmd {
        Cmd::Set {
            owner,
            team: _,
            period,
            amount,
            wins,
            new_customers,
        } => {
            let owner_id = owner
                .map(|o| kehu::members::resolve(ctx.ws.conn(), &o).map(|m| m.id))
                .transpose()?;
            let t = targets::set(
                &mut ctx.ws,
                owner_id.as_deref(),
                &period,
                TargetFields {
                    amount,
                    wins,
                    new_customers,
                },
            )?;
            if ctx.json {
                output::json(&t)
            } else {
                println!(
                    "{} {} {}",
                    l.pick("已设置目标：", "Target set:"),
                    t.period,
                    t.fields
                        .amount
                        .map(|a| format!("{a:.0}"))
                        .unwrap_or_default()
                );
            }
        }
        Cmd::List { period } => {
            let ts = targets::list(ctx.ws.conn(), &period)?;
            if ctx.json {
                output::json(&ts)
            } else {
                for t in &ts {
                    println!(
                        "{}  {}  {}  {}  {}",
                        t.period,
                        output::pad(t.owner_id.as_deref().unwrap_or(l.pick("团队", "team")), 36),
                        t.fields
                            .amount
                            .map(|a| format!("{a:.0}"))
                            .unwrap_or("-".into()),
                        t.fields.wins.map(|a| a.to_string()).unwrap_or("-".into()),
                        t.fields
                            .new_customers
                            .map(|a| a.to_string())
                            .unwrap_or("-".into()),
                    );
                }
            }
        }
    }
    Ok(())
}
