//! `kehu backup` and `kehu restore FILE`

use crate::{output, Ctx};
use kehu::{backup, Lang, Result};
use std::path::{Path, PathBuf};

#[derive(clap::Args)]
pub struct BackupArgs {
    /// Write the backup to this file instead of the backup folder.
    #[arg(long)]
    out: Option<PathBuf>,
    /// List existing backups.
    #[arg(long)]
    list: bool,
}

#[derive(clap::Args)]
pub struct RestoreArgs {
    file: PathBuf,
    /// The backup is encrypted with another passphrase than the database's
    /// (--passphrase-env): it is in this environment variable.
    #[arg(long, value_name = "VAR")]
    backup_passphrase_env: Option<String>,
}

pub fn backup(ctx: &mut Ctx, a: BackupArgs) -> Result<()> {
    let l = ctx.lang;
    if a.list {
        let all = backup::list(&ctx.ws)?;
        if ctx.json {
            output::json(&all);
        } else {
            for b in all {
                println!(
                    "{}  {}  {} KB",
                    kehu::clock::format_local(b.created_at),
                    b.path,
                    b.size / 1024
                );
            }
        }
        return Ok(());
    }
    let path = match a.out {
        Some(out) => {
            backup::backup_to(&ctx.ws, &out)?;
            out.to_string_lossy().to_string()
        }
        None => backup::backup_now(&ctx.ws)?.path,
    };
    if ctx.json {
        output::json(&serde_json::json!({"path": path}));
    } else {
        println!("{} {path}", l.pick("已备份到", "Backed up to"));
    }
    Ok(())
}

/// Restore by file: works even when the current database is damaged.
pub fn restore(
    db: &Path,
    a: &RestoreArgs,
    passphrase: Option<&str>,
    json: bool,
    lang: Lang,
) -> Result<()> {
    let backup_pass = a
        .backup_passphrase_env
        .as_deref()
        .map(crate::db::env_secret)
        .transpose()?;
    let opened = match passphrase {
        Some(p) => kehu::Workspace::open_encrypted(db, p),
        None => kehu::Workspace::open(db),
    };
    match opened {
        Ok(mut ws) => backup::restore_with(&mut ws, &a.file, backup_pass.as_deref())?,
        Err(e) if matches!(e.code(), kehu::error::Code::Corrupt) => {
            backup::restore_path_with(db, &a.file, backup_pass.as_deref().or(passphrase))?
        }
        Err(e) => return Err(e),
    }
    if json {
        output::json(&serde_json::json!({"restored": a.file}));
    } else {
        println!(
            "{} {}",
            lang.pick("已从备份恢复：", "Restored from"),
            a.file.display()
        );
    }
    Ok(())
}
