//! `kehu alerts`: evaluate the alert rules and list active alerts.

use crate::followup::parse_time;
use crate::{output, Ctx};
use kehu::alerts::{self, AlertQuery};
use kehu::{Lang, Result};

#[derive(clap::Args)]
pub struct Args {
    /// Evaluate at this time (default now).
    #[arg(long)]
    at: Option<String>,
    /// Dismiss this alert instead.
    #[arg(long)]
    dismiss: Option<String>,
    /// Only this member's alerts (name, id or employee no.).
    #[arg(long)]
    owner: Option<String>,
    #[arg(long, default_value_t = 200)]
    limit: usize,
}

pub fn run(ctx: &mut Ctx, args: Args) -> Result<()> {
    let l = ctx.lang;
    if let Some(id) = args.dismiss {
        alerts::dismiss(&mut ctx.ws, &id)?;
        if !ctx.json {
            println!("{}", l.pick("已忽略", "Dismissed"));
        } else {
            output::json(&serde_json::json!({"dismissed": id}));
        }
        return Ok(());
    }
    let t = match args.at {
        Some(a) => parse_time(&a, "at")?,
        None => ctx.ws.now_ms(),
    };
    let owner_id = args
        .owner
        .map(|o| kehu::members::resolve(ctx.ws.conn(), &o).map(|m| m.id))
        .transpose()?;
    let eval = alerts::evaluate(&mut ctx.ws, t)?;
    let (total, rows) = alerts::active(
        ctx.ws.conn(),
        t,
        &AlertQuery {
            owner_id,
            manager: false,
            rule: None,
            limit: Some(args.limit),
        },
        l,
    )?;
    if ctx.json {
        output::json(
            &serde_json::json!({"raised": eval.raised, "resolved": eval.resolved, "total": total, "alerts": rows}),
        );
    } else {
        for a in &rows {
            println!(
                "{}  {}  {}",
                a.id,
                output::pad(&a.rule_label, 20),
                a.message
            );
        }
        println!(
            "{}",
            match l {
                Lang::Zh => format!(
                    "共 {total} 条预警（新增 {}，已解除 {}）",
                    eval.raised, eval.resolved
                ),
                Lang::En => format!(
                    "{total} alerts ({} new, {} resolved)",
                    eval.raised, eval.resolved
                ),
            }
        );
    }
    Ok(())
}
