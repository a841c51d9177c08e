//! `kehu sync …`, `kehu conflicts …` and `kehu device …`: team sync through a
//! shared folder, bundles for USB / e-mail, and values set concurrently.

use crate::{output, Ctx};
use clap::{Args, Subcommand};
use kehu::sync::{self, SyncReport};
use kehu::{Lang, Result};
use std::path::PathBuf;

/// Where the team's files are: exactly one of --folder, --webdav, --s3.
#[derive(Args)]
pub struct TargetArgs {
    /// A shared folder (Syncthing, Dropbox, OneDrive, NAS, USB stick).
    #[arg(long, conflicts_with_all = ["webdav", "s3"])]
    folder: Option<PathBuf>,
    /// A WebDAV folder URL (坚果云: https://dav.jianguoyun.com/dav/<folder>/ with an app password).
    #[arg(long, requires = "user", conflicts_with = "s3")]
    webdav: Option<String>,
    /// WebDAV user name.
    #[arg(long)]
    user: Option<String>,
    /// Environment variable holding the WebDAV password.
    #[arg(long, value_name = "VAR", default_value = "KEHU_WEBDAV_PASSWORD")]
    password_env: String,
    /// An S3-compatible endpoint URL (MinIO, AWS S3, Aliyun OSS, Tencent COS).
    #[arg(long, requires = "bucket")]
    s3: Option<String>,
    /// S3 bucket.
    #[arg(long)]
    bucket: Option<String>,
    /// S3 region.
    #[arg(long, default_value = "us-east-1")]
    region: String,
    /// Environment variable holding the S3 access key id.
    #[arg(long, value_name = "VAR", default_value = "AWS_ACCESS_KEY_ID")]
    access_key_env: String,
    /// Environment variable holding the S3 secret key.
    #[arg(long, value_name = "VAR", default_value = "AWS_SECRET_ACCESS_KEY")]
    secret_key_env: String,
}

impl TargetArgs {
    fn target(&self) -> Result<(sync::Target, sync::Credentials)> {
        let mut creds = sync::Credentials::default();
        let target = if let Some(url) = &self.webdav {
            creds.password =
                secret_env(Some(&self.password_env), "WebDAV 密码", "WebDAV password")?;
            sync::Target::Webdav {
                url: url.clone(),
                user: self.user.clone().unwrap_or_default(),
            }
        } else if let Some(endpoint) = &self.s3 {
            creds.access_key = secret_env(
                Some(&self.access_key_env),
                "S3 访问密钥 ID",
                "S3 access key id",
            )?;
            creds.secret_key = secret_env(
                Some(&self.secret_key_env),
                "S3 私有访问密钥",
                "S3 secret key",
            )?;
            sync::Target::S3 {
                endpoint: endpoint.clone(),
                bucket: self.bucket.clone().unwrap_or_default(),
                region: self.region.clone(),
            }
        } else if let Some(folder) = &self.folder {
            sync::Target::Folder {
                path: folder.clone(),
            }
        } else {
            return Err(kehu::Error::validation(
                "folder",
                "请指定同步位置：--folder、--webdav 或 --s3",
                "Choose where to sync: --folder, --webdav or --s3",
            ));
        };
        Ok((target, creds))
    }
}

#[derive(Subcommand)]
pub enum Cmd {
    /// Start a new team in a shared folder, on a WebDAV server or in an S3 bucket.
    Init {
        #[command(flatten)]
        target: TargetArgs,
        /// A name for the team.
        #[arg(long)]
        name: Option<String>,
        /// Encrypt the team's files end to end with the passphrase held in
        /// this environment variable (the passphrase is never stored).
        #[arg(long, value_name = "VAR")]
        passphrase_env: Option<String>,
    },
    /// Join the team found in a shared folder, on a WebDAV server or in an S3 bucket.
    Join {
        #[command(flatten)]
        target: TargetArgs,
        /// Team id, when the folder holds several teams.
        #[arg(long)]
        team: Option<String>,
        /// The team passphrase (encrypted teams) is in this environment variable.
        #[arg(long, value_name = "VAR")]
        passphrase_env: Option<String>,
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
    Import {
        file: PathBuf,
        /// The team passphrase for an encrypted file, on a device outside the team.
        #[arg(long, value_name = "VAR")]
        passphrase_env: Option<String>,
    },
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

/// A secret from the environment variable named on the command line.
fn secret_env(var: Option<&str>, what_zh: &str, what_en: &str) -> Result<Option<String>> {
    let Some(var) = var else { return Ok(None) };
    match std::env::var(var) {
        Ok(v) if !v.is_empty() => Ok(Some(v)),
        _ => Err(kehu::Error::validation(
            "passphrase_env",
            format!("环境变量 {var} 未设置或为空（应包含{what_zh}）"),
            format!(
                "The environment variable {var} is not set or empty (it should hold the {what_en})"
            ),
        )),
    }
}

pub fn run(ctx: &mut Ctx, cmd: Cmd) -> Result<()> {
    let l = ctx.lang;
    match cmd {
        Cmd::Init {
            target,
            name,
            passphrase_env,
        } => {
            let (target, mut creds) = target.target()?;
            creds.passphrase =
                secret_env(passphrase_env.as_deref(), "团队口令", "team passphrase")?;
            let cfg = sync::init_target(&mut ctx.ws, &target, name.as_deref(), &creds)?;
            let r = sync::sync_now(&mut ctx.ws)?;
            if ctx.json {
                output::json(&serde_json::json!({"config": cfg, "report": r}));
            } else {
                println!("{} {}", l.pick("已创建团队", "Team created:"), cfg.team_id);
                print_report(&r, false, l);
            }
        }
        Cmd::Join {
            target,
            team,
            passphrase_env,
        } => {
            let (target, mut creds) = target.target()?;
            creds.passphrase =
                secret_env(passphrase_env.as_deref(), "团队口令", "team passphrase")?;
            let cfg = sync::join_target(&mut ctx.ws, &target, team.as_deref(), &creds)?;
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
                let kind = match s.transport.as_deref() {
                    Some("webdav") => "WebDAV",
                    Some("s3") => "S3",
                    _ => l.pick("共享文件夹", "Folder"),
                };
                println!(
                    "{} {kind} · {}",
                    l.pick("同步位置：", "Sync target:"),
                    s.location.unwrap_or_default()
                );
                if s.encrypted {
                    println!(
                        "{} {}",
                        l.pick(
                            "端到端加密：是，密钥保存在",
                            "End-to-end encrypted: yes, key kept in"
                        ),
                        match s.key_store.as_deref() {
                            Some("keyring") => l.pick("系统钥匙串", "the OS keyring"),
                            _ => l.pick(
                                "数据库旁的密钥文件（仅本人可读）",
                                "a key file next to the database (owner-only)"
                            ),
                        }
                    );
                }
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
        Cmd::Import {
            file,
            passphrase_env,
        } => {
            let pass = secret_env(passphrase_env.as_deref(), "团队口令", "team passphrase")?;
            let r = sync::import_bundle_with(&mut ctx.ws, &file, pass.as_deref())?;
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
