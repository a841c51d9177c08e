//! `kehu today`: overdue and today's follow-ups, customers due by cadence, alerts.

use crate::{output, Ctx};
use kehu::clock::format_local;
use kehu::today::{self, TodayQuery};
use kehu::Result;

#[derive(clap::Args)]
pub struct Args {
    #[arg(long, default_value_t = 20)]
    limit: usize,
}

pub fn run(ctx: &mut Ctx, args: Args) -> Result<()> {
    let l = ctx.lang;
    let now = ctx.ws.now_ms();
    let t = today::today(
        ctx.ws.conn(),
        now,
        &TodayQuery {
            limit: Some(args.limit),
            ..Default::default()
        },
        l,
    )?;
    if ctx.json {
        output::json(&t);
        return Ok(());
    }
    println!("{} ({})", l.pick("逾期", "Overdue"), t.overdue_total);
    for f in &t.overdue {
        println!(
            "  {}  {}  {}  {}",
            &f.id,
            f.planned_at.map(format_local).unwrap_or_default(),
            f.fields.kind.label(l),
            f.customer_name
        );
    }
    println!("{} ({})", l.pick("今日", "Today"), t.today_total);
    for f in &t.today {
        println!(
            "  {}  {}  {}  {}",
            &f.id,
            f.planned_at.map(format_local).unwrap_or_default(),
            f.fields.kind.label(l),
            f.customer_name
        );
    }
    println!(
        "{} ({})",
        l.pick("按分级应跟进", "Due by cadence"),
        t.due_customers_total
    );
    for d in &t.due_customers {
        println!(
            "  {}  {}  {}",
            output::pad(&d.code, 13),
            d.grade.key(),
            d.name
        );
    }
    println!("{} ({})", l.pick("预警", "Alerts"), t.alerts_total);
    for a in &t.alerts {
        println!("  {}", a.message);
    }
    Ok(())
}
