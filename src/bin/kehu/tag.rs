//! `kehu tag …`

use crate::{output, Ctx};
use clap::Subcommand;
use kehu::{tags, Result};

#[derive(Subcommand)]
pub enum Cmd {
    /// Create a tag.
    Add {
        name: String,
        /// Colour as #RRGGBB.
        #[arg(long)]
        color: Option<String>,
    },
    /// List tags with how many customers carry each.
    List,
    /// Rename a tag (and/or change its colour).
    Rename {
        tag: String,
        new_name: String,
        #[arg(long)]
        color: Option<String>,
    },
    /// Merge tag FROM into tag INTO.
    Merge { from: String, into: String },
    /// Delete a tag and take it off every customer.
    Delete { tag: String },
    /// Put a tag on customers (created if new); `--remove` takes it off.
    Apply {
        tag: String,
        customers: Vec<String>,
        #[arg(long)]
        remove: bool,
    },
}

pub fn run(ctx: &mut Ctx, cmd: Cmd) -> Result<()> {
    let l = ctx.lang;
    match cmd {
        Cmd::Add { name, color } => {
            let t = tags::create(&mut ctx.ws, &name, color.as_deref())?;
            if ctx.json {
                output::json(&t)
            } else {
                println!("{} {}", l.pick("已创建标签", "Created tag"), t.name)
            }
        }
        Cmd::List => {
            let all = tags::list(ctx.ws.conn())?;
            if ctx.json {
                output::json(&all)
            } else {
                for t in all {
                    println!("{} {} {}", output::pad(&t.name, 16), t.color, t.count);
                }
            }
        }
        Cmd::Rename {
            tag,
            new_name,
            color,
        } => {
            let t = tags::edit(&mut ctx.ws, &tag, Some(&new_name), color.as_deref())?;
            if ctx.json {
                output::json(&t)
            } else {
                println!("{} {}", l.pick("已重命名为", "Renamed to"), t.name)
            }
        }
        Cmd::Merge { from, into } => {
            let t = tags::merge(&mut ctx.ws, &from, &into)?;
            if ctx.json {
                output::json(&t)
            } else {
                println!(
                    "{} {} ({})",
                    l.pick("已合并到", "Merged into"),
                    t.name,
                    t.count
                )
            }
        }
        Cmd::Delete { tag } => {
            tags::delete(&mut ctx.ws, &tag)?;
            if ctx.json {
                output::json(&serde_json::json!({"deleted": tag}))
            } else {
                println!("{} {tag}", l.pick("已删除标签", "Deleted tag"))
            }
        }
        Cmd::Apply {
            tag,
            customers,
            remove,
        } => {
            let n = tags::apply_to_customers(&mut ctx.ws, &tag, &customers, remove)?;
            if ctx.json {
                output::json(&serde_json::json!({"changed": n}))
            } else {
                println!("{n} {}", l.pick("个客户已更新", "customer(s) changed"))
            }
        }
    }
    Ok(())
}
