//! `kehu demo --customers N`

use crate::{output, Ctx};
use kehu::Result;

#[derive(clap::Args)]
pub struct Args {
    #[arg(long, default_value_t = 300)]
    customers: usize,
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Also add follow-ups and opportunities for the new customers.
    #[arg(long)]
    activity: bool,
}

pub fn run(ctx: &mut Ctx, a: Args) -> Result<()> {
    let started = std::time::Instant::now();
    let n = kehu::demo::generate(&mut ctx.ws, a.customers, a.seed)?;
    if a.activity {
        kehu::demo::generate_activity(&mut ctx.ws, a.seed)?;
    }
    let secs = started.elapsed().as_secs_f64();
    if ctx.json {
        output::json(&serde_json::json!({"customers": n, "seconds": secs}));
    } else {
        println!(
            "{} {n} ({secs:.2}s)",
            ctx.lang.pick("已生成演示客户", "Demo customers added:")
        );
    }
    Ok(())
}
