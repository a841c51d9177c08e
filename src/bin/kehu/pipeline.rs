//! `kehu pipeline …`: the stages of the sales pipeline.

use crate::{output, Ctx};
use clap::Subcommand;
use kehu::{pipeline, Result};

#[derive(Subcommand)]
pub enum Cmd {
    /// List the stages in order.
    List,
    /// Add a stage (before --before, or before 输单).
    Add {
        name: String,
        #[arg(long)]
        before: Option<String>,
    },
    /// Rename a stage.
    Rename { stage: String, name: String },
    /// Put the stages in this order (all but 输单).
    Reorder { stages: Vec<String> },
    /// Delete a stage; --move-to moves its opportunities first.
    Delete {
        stage: String,
        #[arg(long)]
        move_to: Option<String>,
    },
}

pub fn run(ctx: &mut Ctx, cmd: Cmd) -> Result<()> {
    let l = ctx.lang;
    match cmd {
        Cmd::List => {}
        Cmd::Add { name, before } => {
            pipeline::add_stage(&mut ctx.ws, &name, before.as_deref())?;
        }
        Cmd::Rename { stage, name } => {
            pipeline::rename_stage(&mut ctx.ws, &stage, &name)?;
        }
        Cmd::Reorder { stages } => {
            pipeline::reorder_stages(&mut ctx.ws, &stages)?;
        }
        Cmd::Delete { stage, move_to } => {
            pipeline::delete_stage(&mut ctx.ws, &stage, move_to.as_deref())?;
        }
    }
    let all = pipeline::stages(ctx.ws.conn())?;
    if ctx.json {
        output::json(&all)
    } else {
        for s in &all {
            println!("{}  {}", output::pad(&s.key, 18), s.label(l));
        }
    }
    Ok(())
}
