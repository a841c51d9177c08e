//! `kehu member …`

use crate::{output, Ctx};
use clap::Subcommand;
use kehu::members::{self, MemberFields, Role};
use kehu::{Error, Result};

#[derive(Subcommand)]
pub enum Cmd {
    /// Add a team member.
    Add {
        name: String,
        #[arg(long)]
        employee_no: Option<String>,
        #[arg(long)]
        department: Option<String>,
        /// rep | manager | analyst | admin
        #[arg(long, default_value = "rep")]
        role: String,
    },
    /// List team members.
    List,
    /// Set the member who uses this device ("me").
    Me { member: String },
    /// Remove a team member.
    Remove { member: String },
}

pub fn run(ctx: &mut Ctx, cmd: Cmd) -> Result<()> {
    let l = ctx.lang;
    match cmd {
        Cmd::Add {
            name,
            employee_no,
            department,
            role,
        } => {
            let role = Role::parse(&role).ok_or_else(|| {
                Error::validation(
                    "role",
                    format!("未知角色“{role}”"),
                    format!("unknown role “{role}”"),
                )
            })?;
            let m = members::add(
                &mut ctx.ws,
                MemberFields {
                    name,
                    employee_no,
                    department,
                    role,
                },
            )?;
            if ctx.json {
                output::json(&m)
            } else {
                println!("{} {}", l.pick("已添加成员", "Added member"), m.fields.name)
            }
        }
        Cmd::List => {
            let all = members::list(ctx.ws.conn())?;
            if ctx.json {
                output::json(&all)
            } else {
                for m in all {
                    println!(
                        "{}{} {} {} {}",
                        if m.is_me { "* " } else { "  " },
                        output::pad(&m.fields.name, 10),
                        output::pad(m.fields.employee_no.as_deref().unwrap_or("-"), 8),
                        output::pad(m.fields.department.as_deref().unwrap_or("-"), 12),
                        m.fields.role.label(l)
                    );
                }
            }
        }
        Cmd::Me { member } => {
            let m = members::set_me(&mut ctx.ws, &member)?;
            if ctx.json {
                output::json(&m)
            } else {
                println!("{} {}", l.pick("当前用户：", "Me:"), m.fields.name)
            }
        }
        Cmd::Remove { member } => {
            members::remove(&mut ctx.ws, &member)?;
            if ctx.json {
                output::json(&serde_json::json!({"removed": member}))
            } else {
                println!("{} {member}", l.pick("已移除", "Removed"))
            }
        }
    }
    Ok(())
}
