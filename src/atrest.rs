//! Encryption of the database at rest (SQLCipher, built into the bundled
//! SQLite): optional, with a passphrase asked at start. A forgotten
//! passphrase cannot be recovered — nothing else holds the key.
//!
//! - [`crate::Workspace::open_encrypted`] opens an encrypted database
//!   (`PRAGMA key` first thing); a wrong passphrase is
//!   [`Error::Passphrase`], never "damaged".
//! - [`encrypt`], [`decrypt`] and [`rekey`] convert a closed database:
//!   `sqlcipher_export` into a new file beside it, checked, then an atomic
//!   rename over the old one (the old file stays until the new one is
//!   complete). The backups in `backups/` are converted the same way, so no
//!   plain copy of an encrypted database is left beside it.
//! - Backups of an encrypted database are encrypted with its passphrase
//!   (see [`crate::backup`]).
//!
//! Once a process has unlocked a database, the passphrase is remembered in
//! memory for that path only, so the other connections the app opens to it
//! (reminders, imports, the daily backup) work too.

use crate::error::{Error, Result};
use rusqlite::{params, Connection};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";

/// A database passphrase (never printed).
#[derive(Clone, PartialEq, Eq)]
pub struct Key(String);

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key(…)")
    }
}

impl Key {
    pub fn new(passphrase: &str) -> Result<Key> {
        if passphrase.is_empty() {
            return Err(Error::validation(
                "passphrase",
                "请输入数据库口令",
                "Enter the database passphrase",
            ));
        }
        Ok(Key(passphrase.to_string()))
    }

    /// `PRAGMA key`: must come before anything else reads the file.
    pub(crate) fn apply(&self, conn: &Connection, _schema: &str) -> Result<()> {
        conn.pragma_update(None, "key", &self.0)?;
        Ok(())
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

/// Passphrases of the databases this process has unlocked, by path.
static UNLOCKED: Mutex<BTreeMap<PathBuf, Key>> = Mutex::new(BTreeMap::new());

fn norm(path: &Path) -> PathBuf {
    path.canonicalize()
        .or_else(|_| std::path::absolute(path))
        .unwrap_or_else(|_| path.to_path_buf())
}

pub(crate) fn remember(path: &Path, key: &Key) {
    UNLOCKED
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(norm(path), key.clone());
}

pub(crate) fn forget(path: &Path) {
    UNLOCKED
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .remove(&norm(path));
}

pub(crate) fn remembered(path: &Path) -> Option<Key> {
    UNLOCKED
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(&norm(path))
        .cloned()
}

fn header(path: &Path) -> Option<[u8; 16]> {
    use std::io::Read;
    let mut f = std::fs::File::open(path).ok()?;
    let mut buf = [0u8; 16];
    f.read_exact(&mut buf).ok()?;
    Some(buf)
}

/// A plain (unencrypted) SQLite file.
pub fn is_plain(path: &Path) -> bool {
    header(path).is_some_and(|h| &h == SQLITE_MAGIC)
}

/// Looks like an encrypted database: not plain SQLite, whole pages, and a
/// first page of random-looking bytes (SQLCipher writes a random salt and
/// ciphertext). A damaged or foreign file (text, zeros) is not, so it is
/// still reported as damaged rather than asking for a passphrase.
pub fn is_encrypted(path: &Path) -> bool {
    use std::io::Read;
    let Ok(meta) = std::fs::metadata(path) else {
        return false;
    };
    if meta.len() < 1024 || meta.len() % 512 != 0 || is_plain(path) {
        return false;
    }
    let mut page = vec![0u8; 4096.min(meta.len() as usize)];
    let Ok(()) = std::fs::File::open(path).and_then(|mut f| f.read_exact(&mut page)) else {
        return false;
    };
    let mut seen = [false; 256];
    for b in &page {
        seen[*b as usize] = true;
    }
    // 1024 random bytes show ~252 distinct values; text shows < 100.
    seen.iter().filter(|s| **s).count() >= 200
}

pub(crate) fn not_encrypted() -> Error {
    Error::validation(
        "passphrase",
        "这个数据库没有加密，不需要口令",
        "This database is not encrypted: no passphrase is needed",
    )
}

fn already_encrypted() -> Error {
    Error::validation(
        "passphrase",
        "这个数据库已经加密；要更换口令请使用“修改口令”",
        "This database is already encrypted; use change passphrase instead",
    )
}

/// What a conversion did besides the database itself.
#[derive(Debug, Clone, Default, serde::Serialize, ts_rs::TS)]
#[ts(export)]
pub struct Converted {
    /// Backups converted alongside.
    pub backups: usize,
    /// Backups that could not be converted (another passphrase, damaged);
    /// left as they were.
    pub backups_skipped: usize,
}

/// Encrypt a plain database with `passphrase` (its backups too).
pub fn encrypt(path: &Path, passphrase: &str) -> Result<Converted> {
    let to = Key::new(passphrase)?;
    if !is_plain(path) {
        return Err(if is_encrypted(path) {
            already_encrypted()
        } else {
            Error::not_found("database", path.to_string_lossy())
        });
    }
    let out = convert_all(path, None, Some(&to))?;
    remember(path, &to);
    Ok(out)
}

/// Decrypt an encrypted database back to a plain one (its backups too).
pub fn decrypt(path: &Path, passphrase: &str) -> Result<Converted> {
    let from = Key::new(passphrase)?;
    if is_plain(path) {
        return Err(not_encrypted());
    }
    let out = convert_all(path, Some(&from), None)?;
    forget(path);
    Ok(out)
}

/// Change the passphrase of an encrypted database (its backups too).
pub fn rekey(path: &Path, old: &str, new: &str) -> Result<Converted> {
    let from = Key::new(old)?;
    let to = Key::new(new)?;
    if is_plain(path) {
        return Err(not_encrypted());
    }
    let out = convert_all(path, Some(&from), Some(&to))?;
    remember(path, &to);
    Ok(out)
}

/// Held while a conversion replaces database files.
static CONVERTING: Mutex<()> = Mutex::new(());

/// Keep any conversion from replacing the database file while the guard
/// lives. A job of this process that opens the database on a connection of
/// its own (the automatic backup) holds it: a connection opened while the
/// file is swapped would leave a write-ahead log of the old file beside the
/// new one, and the next open would find the database damaged.
pub fn hold_file() -> std::sync::MutexGuard<'static, ()> {
    CONVERTING.lock().unwrap_or_else(|p| p.into_inner())
}

fn convert_all(path: &Path, from: Option<&Key>, to: Option<&Key>) -> Result<Converted> {
    let _swapping = hold_file();
    convert(path, from, to)?;
    let mut out = Converted::default();
    for b in crate::backup::list_for_db(path).unwrap_or_default() {
        let b = PathBuf::from(b.path);
        // A backup already in the wanted state is left alone.
        let plain = is_plain(&b);
        if (to.is_none() && plain) || (from.is_none() && !plain) {
            continue;
        }
        match convert(&b, if plain { None } else { from }, to) {
            Ok(()) => out.backups += 1,
            Err(_) => out.backups_skipped += 1,
        }
    }
    Ok(out)
}

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Open `path` with `key` (None: plain) and check that it reads.
pub(crate) fn open_checked(path: &Path, key: Option<&Key>) -> Result<Connection> {
    let conn = Connection::open(path)?;
    if let Some(k) = key {
        k.apply(&conn, "main")?;
    }
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    match conn.query_row("SELECT count(*) FROM sqlite_schema", [], |r| {
        r.get::<_, i64>(0)
    }) {
        Ok(_) => Ok(conn),
        Err(e) => {
            let e = Error::from(e);
            if e.code() == crate::error::Code::Corrupt && is_encrypted(path) {
                Err(Error::Passphrase {
                    wrong: key.is_some(),
                })
            } else {
                Err(e)
            }
        }
    }
}

/// Copy the database at `conn` into a new file `dest` encrypted with `to`
/// (None: plain), schema version included.
pub(crate) fn export(conn: &Connection, dest: &Path, to: Option<&Key>) -> Result<()> {
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    conn.execute(
        "ATTACH DATABASE ?1 AS kehu_export KEY ?2",
        params![
            dest.to_string_lossy().to_string(),
            to.map(Key::as_str).unwrap_or("")
        ],
    )?;
    let done = conn
        .query_row("SELECT sqlcipher_export('kehu_export')", [], |_| Ok(()))
        .map_err(Error::from)
        .and_then(|()| {
            conn.execute_batch(&format!("PRAGMA kehu_export.user_version = {version}"))?;
            Ok(())
        });
    conn.execute("DETACH DATABASE kehu_export", [])?;
    done
}

fn in_use() -> Error {
    Error::validation(
        "path",
        "数据库正被另一个程序使用，请关闭其他 Kehu 窗口后重试",
        "The database is in use by another program: close other Kehu windows and try again",
    )
}

/// Convert one closed database file in place.
fn convert(path: &Path, from: Option<&Key>, to: Option<&Key>) -> Result<()> {
    let tmp = sibling(path, ".converting");
    let _ = std::fs::remove_file(&tmp);
    let result = (|| -> Result<()> {
        {
            let conn = open_checked(path, from)?;
            // Everything into the main file, so the old write-ahead log can
            // go with the old file. Another connection of this app reading
            // at the same moment only delays it (busy timeout).
            let (busy, log, done): (i64, i64, i64) =
                conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })?;
            if busy != 0 || log != done {
                return Err(in_use());
            }
            export(&conn, &tmp, to)?;
        }
        {
            let conn = open_checked(&tmp, to)?;
            let ok: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
            if ok != "ok" {
                return Err(Error::validation(
                    "path",
                    "转换后的数据库未通过检查，原数据库保持不变",
                    "The converted database failed its check; the original is unchanged",
                ));
            }
        }
        // The old log holds nothing the main file lacks (checkpointed above,
        // and no other connection has written since).
        let wal = sibling(path, "-wal");
        if std::fs::metadata(&wal).is_ok_and(|m| m.len() > 0) {
            return Err(in_use());
        }
        let _ = std::fs::remove_file(&wal);
        let _ = std::fs::remove_file(sibling(path, "-shm"));
        std::fs::rename(&tmp, path)?;
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
