//! `kehu sync …`, `kehu conflicts …` and `kehu device …`: team sync through a
//! shared folder, bundles for USB / e-mail, and values set concurrently.

use crate::{output, Ctx};
use clap::Subcommand;
use kehu::sync::{self, SyncReport};
use kehu::{Lang, Result};
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum Cmd {
    /// Start a new team in a shared folder (Syncthing, Dropbox, NAS, USB).
    Init {
        #[arg(long)]
        folder: PathBuf,
        /// A name for the team.
        #[arg(long)]
        name: Option<String>,
    },
    /// Join the team found in a shared folder.
    Join {
        #[arg(long)]
        folder: PathBuf,
        /// Team id, when the folder holds several teams.
        #[arg(long)]
        team: Option<String>,
    },
    /// Send this device's changes and merge the others' now.
    Now,
    /// Sync settings, pending changes, devices seen, conflicts, damaged files.
    Status,
    /// Write all changes to one file (for a USB stick or e-mail).
    Export {
        #[arg(long)]
        out: PathBuf,
    },
    /// Merge a file written by `sync export` on another device.
    Import { file: PathBuf },
}

#[derive(Subcommand)]
pub enum ConflictsCmd {
    /// Values set concurrently on two devices (open ones; --all for resolved too).
    List {
        #[arg(long)]
        all: bool,
    },
    /// Take the other value of a conflict (a new change that syncs).
    Take { id: i64 },
}

#[derive(Subcommand)]
pub enum DeviceCmd {
    /// Name this device as the team sees it.
    Rename { name: String },
}

fn print_report(r: &SyncReport, json: bool, l: Lang) {
    if json {
        output::json(r);
        return;
    }
    println!(
        "{} {} · {} {} · {} {} · {} {} · {} {}",
        l.pick("发送", "sent"),
        r.sent,
        l.pick("收到", "received"),
        r.received,
        l.pick("合并", "applied"),
        r.applied,
        l.pick("冲突", "conflicts"),
        r.conflicts,
        l.pick("跳过文件", "skipped files"),
        r.skipped_files
    );
    if r.renumbered > 0 {
        println!(
            "{} {}",
            l.pick(
                "客户编号重复，已重新编号：",
                "Customers renumbered (code used on another device):"
            ),
            r.renumbered
        );
    }
    for p in &r.problems {
        eprintln!("! {p}");
    }
}

pub fn run(ctx: &mut Ctx, cmd: Cmd) -> Result<()> {
    let l = ctx.lang;
    match cmd {
        Cmd::Init { folder, name } => {
            let cfg = sync::init(&mut ctx.ws, &folder, name.as_deref())?;
            let r = sync::sync_now(&mut ctx.ws)?;
            if ctx.json {
                output::json(&serde_json::json!({"config": cfg, "report": r}));
            } else {
                println!("{} {}", l.pick("已创建团队", "Team created:"), cfg.team_id);
                print_report(&r, false, l);
            }
        }
        Cmd::Join { folder, team } => {
            let cfg = sync::join(&mut ctx.ws, &folder, team.as_deref())?;
            let r = sync::sync_now(&mut ctx.ws)?;
            if ctx.json {
                output::json(&serde_json::json!({"config": cfg, "report": r}));
            } else {
                println!("{} {}", l.pick("已加入团队", "Joined team"), cfg.team_id);
                print_report(&r, false, l);
            }
        }
        Cmd::Now => {
            let r = sync::sync_now(&mut ctx.ws)?;
            print_report(&r, ctx.json, l);
        }
        Cmd::Status => {
            let s = sync::status(&ctx.ws)?;
            if ctx.json {
                output::json(&s);
            } else if !s.configured {
                println!(
                    "{}",
                    l.pick(
                        "尚未设置团队同步（sync init / sync join）",
                        "Team sync is not set up (sync init / sync join)"
                    )
                );
            } else {
                println!(
                    "{} {}",
                    l.pick("共享文件夹：", "Folder:"),
                    s.folder.unwrap_or_default()
                );
                println!(
                    "{} {} ({})",
                    l.pick("本机：", "This device:"),
                    s.device_name,
                    s.device_id
                );
                println!(
                    "{} {}",
                    l.pick("待发送修改：", "Pending changes:"),
                    s.pending
                );
                if let Some(t) = s.last_sync_at {
                    println!(
                        "{} {}",
                        l.pick("上次同步：", "Last sync:"),
                        kehu::clock::format_local(t)
                    );
                }
                for p in &s.peers {
                    println!(
                        "  {} {} {} {}",
                        output::pad(p.name.as_deref().unwrap_or(&p.device_id), 20),
                        output::pad(p.member.as_deref().unwrap_or("-"), 10),
                        p.app_version.as_deref().unwrap_or("?"),
                        p.last_change_at
                            .map(kehu::clock::format_local)
                            .unwrap_or_default()
                    );
                }
                println!(
                    "{} {}",
                    l.pick("未处理冲突：", "Open conflicts:"),
                    s.open_conflicts
                );
                for q in &s.quarantined {
                    println!("! {} — {}", q.path, q.reason);
                }
            }
        }
        Cmd::Export { out } => {
            let n = sync::export_bundle(&mut ctx.ws, &out)?;
            if ctx.json {
                output::json(&serde_json::json!({"entries": n, "file": out}));
            } else {
                println!(
                    "{} {n} → {}",
                    l.pick("已导出修改", "Exported changes"),
                    out.display()
                );
            }
        }
        Cmd::Import { file } => {
            let r = sync::import_bundle(&mut ctx.ws, &file)?;
            print_report(&r, ctx.json, l);
        }
    }
    Ok(())
}

pub fn conflicts(ctx: &mut Ctx, cmd: ConflictsCmd) -> Result<()> {
    let l = ctx.lang;
    match cmd {
        ConflictsCmd::List { all } => {
            let list = sync::conflicts(ctx.ws.conn(), !all)?;
            if ctx.json {
                output::json(&list);
            } else if list.is_empty() {
                println!("{}", l.pick("没有冲突", "No conflicts"));
            } else {
                for c in list {
                    let who = |name: &Option<String>, dev: &str| {
                        name.clone().unwrap_or_else(|| {
                            dev.chars()
                                .rev()
                                .take(6)
                                .collect::<String>()
                                .chars()
                                .rev()
                                .collect()
                        })
                    };
                    let show = |v: &Option<serde_json::Value>| match v {
                        Some(serde_json::Value::String(s)) => s.clone(),
                        Some(v) => v.to_string(),
                        None => l.pick("（空）", "(empty)").to_string(),
                    };
                    println!(
                        "#{} {} {} {}: {} {} {} · {} {} {}{}",
                        c.id,
                        c.entity,
                        c.customer_id.as_deref().unwrap_or(&c.entity_id),
                        c.field,
                        who(&c.kept_device_name, &c.kept_device),
                        l.pick("改为", "set"),
                        show(&c.kept_value),
                        who(&c.other_device_name, &c.other_device),
                        l.pick("改为", "set"),
                        show(&c.other_value),
                        if c.resolved_at.is_some() {
                            l.pick("（已处理）", " (resolved)")
                        } else {
                            ""
                        }
                    );
                }
            }
        }
        ConflictsCmd::Take { id } => {
            sync::take(&mut ctx.ws, id)?;
            if ctx.json {
                output::json(&serde_json::json!({"taken": id}));
            } else {
                println!(
                    "{} #{id}",
                    l.pick("已采用另一个值：", "Took the other value of")
                );
            }
        }
    }
    Ok(())
}

pub fn device(ctx: &mut Ctx, cmd: DeviceCmd) -> Result<()> {
    match cmd {
        DeviceCmd::Rename { name } => {
            sync::rename_device(&mut ctx.ws, &name)?;
            if ctx.json {
                output::json(&serde_json::json!({"name": name.trim()}));
            } else {
                println!(
                    "{} {}",
                    ctx.lang.pick("本机名称：", "Device name:"),
                    name.trim()
                );
            }
        }
    }
    Ok(())
}
