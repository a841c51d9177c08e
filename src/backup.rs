//! Backups of the workspace file: a consistent copy made with `VACUUM INTO`
//! while the app runs, one a day, keeping the newest seven, and restore from
//! any of them.

use crate::db::Workspace;
use crate::error::{Error, Result};
use serde::Serialize;
use std::path::{Path, PathBuf};
use ts_rs::TS;

pub const KEEP: usize = 7;
const DAY_MS: i64 = 24 * 3600 * 1000;

#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct BackupFile {
    pub path: String,
    pub created_at: i64,
    pub size: u64,
}

/// Backups live beside the database in `backups/`.
pub fn backup_dir(ws: &Workspace) -> PathBuf {
    match ws.path().and_then(Path::parent) {
        Some(dir) => dir.join("backups"),
        None => std::env::temp_dir().join("kehu-backups"),
    }
}

/// Write a consistent copy of the workspace to `dest` (must not exist).
pub fn backup_to(ws: &Workspace, dest: &Path) -> Result<()> {
    if dest.exists() {
        return Err(Error::validation(
            "path",
            "目标文件已存在",
            "The destination file already exists",
        ));
    }
    if let Some(dir) = dest.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = dest.with_extension("partial");
    let _ = std::fs::remove_file(&tmp);
    match ws.key() {
        // Encrypted at rest: the backup is encrypted with the same passphrase.
        Some(key) => {
            if let Err(e) = crate::atrest::export(ws.conn(), &tmp, Some(key)) {
                let _ = std::fs::remove_file(&tmp);
                return Err(e);
            }
        }
        None => {
            ws.conn()
                .execute("VACUUM INTO ?1", [tmp.to_string_lossy()])?;
        }
    }
    std::fs::rename(&tmp, dest)?;
    Ok(())
}

/// Make a new backup in the backup folder now and prune old ones.
pub fn backup_now(ws: &Workspace) -> Result<BackupFile> {
    let dir = backup_dir(ws);
    // Names carry the time to the millisecond; two backups in the same
    // millisecond take the next free one.
    let mut now = ws.now_ms();
    let path = loop {
        let stamp = chrono::DateTime::from_timestamp_millis(now)
            .unwrap_or_default()
            .format("%Y%m%d-%H%M%S%3f");
        let path = dir.join(format!("kehu-{stamp}.db"));
        if !path.exists() {
            break path;
        }
        now += 1;
    };
    backup_to(ws, &path)?;
    prune(&dir, KEEP)?;
    let size = std::fs::metadata(&path)?.len();
    Ok(BackupFile {
        path: path.to_string_lossy().into(),
        created_at: now,
        size,
    })
}

/// Back up if the newest backup is a day old or there is none.
pub fn auto_backup(ws: &Workspace) -> Result<Option<BackupFile>> {
    let newest = list(ws)?.into_iter().map(|b| b.created_at).max();
    match newest {
        Some(t) if ws.now_ms() - t < DAY_MS => Ok(None),
        _ => backup_now(ws).map(Some),
    }
}

/// Backups in the folder, newest first.
pub fn list(ws: &Workspace) -> Result<Vec<BackupFile>> {
    list_in(&backup_dir(ws))
}

/// Backups of the database at `db`, newest first, without opening it (for
/// the "cannot open the database" view, which offers them for restore).
pub fn list_for_db(db: &Path) -> Result<Vec<BackupFile>> {
    match db.parent() {
        Some(dir) => list_in(&dir.join("backups")),
        None => Ok(vec![]),
    }
}

fn list_in(dir: &Path) -> Result<Vec<BackupFile>> {
    let mut out = vec![];
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(out);
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        let Some(stamp) = name
            .strip_prefix("kehu-")
            .and_then(|s| s.strip_suffix(".db"))
        else {
            continue;
        };
        let Ok(t) = chrono::NaiveDateTime::parse_from_str(stamp, "%Y%m%d-%H%M%S%3f") else {
            continue;
        };
        out.push(BackupFile {
            path: e.path().to_string_lossy().into(),
            created_at: t.and_utc().timestamp_millis(),
            size: e.metadata().map(|m| m.len()).unwrap_or(0),
        });
    }
    out.sort_by_key(|b| std::cmp::Reverse(b.created_at));
    Ok(out)
}

fn prune(dir: &Path, keep: usize) -> Result<()> {
    for old in list_in(dir)?.into_iter().skip(keep) {
        std::fs::remove_file(old.path)?;
    }
    Ok(())
}

/// Replace the workspace's contents with a backup. The backup is checked
/// first (a Kehu database this build can read); the current state is itself
/// backed up before it is replaced, so a restore can be undone.
pub fn restore(ws: &mut Workspace, file: &Path) -> Result<()> {
    restore_with(ws, file, None)
}

/// [`restore`] of a backup that may be encrypted: with `passphrase`, or
/// else the workspace's own. The restored data takes the workspace's
/// current encryption (its passphrase, or plain).
pub fn restore_with(ws: &mut Workspace, file: &Path, passphrase: Option<&str>) -> Result<()> {
    if !file.exists() {
        return Err(Error::not_found("backup", file.to_string_lossy()));
    }
    let backup_key = if crate::atrest::is_encrypted(file) {
        match passphrase.map(crate::atrest::Key::new).transpose()? {
            Some(k) => Some(k),
            None => Some(
                ws.key()
                    .cloned()
                    .ok_or(Error::Passphrase { wrong: false })?,
            ),
        }
    } else {
        None
    };
    // The backup, checked and in the workspace's encryption, in a temp file.
    let probe = std::env::temp_dir().join(format!("kehu-restore-{}.db", crate::new_id()));
    let result = (|| -> Result<()> {
        {
            let src = crate::atrest::open_checked(file, backup_key.as_ref())?;
            crate::atrest::export(&src, &probe, ws.key())?;
        }
        let check = open_probe(&probe, ws.key()).and_then(|w| {
            let ok: String = w
                .conn()
                .query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
            if ok != "ok" {
                return Err(Error::validation(
                    "path",
                    "备份文件已损坏",
                    "The backup file is damaged",
                ));
            }
            Ok(())
        });
        check?;
        if ws.path().is_some() {
            backup_now(ws)?;
        }
        let src = crate::atrest::open_checked(&probe, ws.key())?;
        let b = rusqlite::backup::Backup::new(&src, ws.conn_mut())?;
        b.run_to_completion(1024, std::time::Duration::from_millis(0), None)?;
        Ok(())
    })();
    for ext in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{ext}", probe.display()));
    }
    result
}

/// Open a checked copy as a workspace (same checks as any: schema version,
/// readable), without remembering its passphrase.
fn open_probe(probe: &Path, key: Option<&crate::atrest::Key>) -> Result<Workspace> {
    match key {
        Some(k) => {
            let w = Workspace::open_encrypted(probe, k.as_str());
            crate::atrest::forget(probe);
            w
        }
        None => Workspace::open(probe),
    }
}

/// Restore when the workspace cannot be opened at all (damaged file): the
/// backup is checked, the damaged file is kept beside it as
/// `kehu.db.damaged-<time>`, and the backup is copied in its place.
pub fn restore_path(db: &Path, file: &Path) -> Result<()> {
    restore_path_with(db, file, None)
}

/// [`restore_path`] of a backup that may be encrypted (then `passphrase`
/// is needed; the restored database stays encrypted with it).
pub fn restore_path_with(db: &Path, file: &Path, passphrase: Option<&str>) -> Result<()> {
    let probe = tempfile_copy(file)?;
    let key = if crate::atrest::is_encrypted(file) {
        Some(
            crate::atrest::Key::new(passphrase.unwrap_or_default())
                .map_err(|_| Error::Passphrase { wrong: false })?,
        )
    } else {
        None
    };
    let check = open_probe(&probe, key.as_ref()).map(|_| ());
    let _ = std::fs::remove_file(&probe);
    check?;
    if db.exists() {
        let stamp = chrono::Utc::now().format("%Y%m%d-%H%M%S");
        let keep = db.with_extension(format!("db.damaged-{stamp}"));
        std::fs::rename(db, keep)?;
    }
    for ext in ["db-wal", "db-shm"] {
        let _ = std::fs::remove_file(db.with_extension(ext));
    }
    let tmp = db.with_extension("db.restoring");
    std::fs::copy(file, &tmp)?;
    std::fs::rename(&tmp, db)?;
    Ok(())
}

fn tempfile_copy(file: &Path) -> Result<PathBuf> {
    let probe = std::env::temp_dir().join(format!("kehu-restore-check-{}.db", crate::new_id()));
    std::fs::copy(file, &probe)?;
    Ok(probe)
}
