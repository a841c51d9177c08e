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
pub fn restore(db: &Path, a: &RestoreArgs, json: bool, lang: Lang) -> Result<()> {
    match kehu::Workspace::open(db) {
        Ok(mut ws) => backup::restore(&mut ws, &a.file)?,
        Err(e) if matches!(e.code(), kehu::error::Code::Corrupt) => {
            backup::restore_path(db, &a.file)?
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
