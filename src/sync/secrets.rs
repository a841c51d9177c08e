//! Secrets of team sync kept on this device: the derived team key and the
//! passwords of a WebDAV or S3 target. Never in the database, never logged.
//!
//! Where they go:
//! 1. The OS keyring (Secret Service on Linux — GNOME Keyring, KWallet;
//!    Keychain on macOS; Credential Manager on Windows), service `kehu`,
//!    account `<device-id>/<name>`.
//! 2. When no keyring answers (a Linux without a desktop session, a
//!    headless server), a file next to the database, `<db>.secrets`, with
//!    permissions 0600 (owner only). Whoever can read that file can read the
//!    team's data, just as whoever can read the database can.
//!
//! `KEHU_SECRET_STORE=file` uses the file without asking the keyring (tests,
//! servers); `KEHU_SECRET_STORE=keyring` fails instead of falling back.

use crate::db::Workspace;
use crate::error::{Error, Result};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;

const SERVICE: &str = "kehu";

/// Secrets already read in this process, by (database, device, name).
static CACHE: Mutex<BTreeMap<(PathBuf, String, String), String>> = Mutex::new(BTreeMap::new());

fn mode() -> String {
    std::env::var("KEHU_SECRET_STORE").unwrap_or_default()
}

fn file_of(ws: &Workspace) -> Result<PathBuf> {
    let db = ws.path().ok_or_else(|| {
        Error::sync(
            "内存中的工作区不能保存同步密钥",
            "An in-memory workspace cannot keep sync secrets",
        )
    })?;
    let mut name = db.as_os_str().to_owned();
    name.push(".secrets");
    Ok(PathBuf::from(name))
}

fn read_file(path: &PathBuf) -> BTreeMap<String, String> {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default()
}

fn write_file(path: &PathBuf, map: &BTreeMap<String, String>) -> Result<()> {
    use std::io::Write;
    let dir = path.parent().unwrap_or(std::path::Path::new("."));
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        path.file_name().unwrap_or_default().to_string_lossy(),
        std::process::id()
    ));
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(&tmp)?;
    f.write_all(serde_json::to_string_pretty(map)?.as_bytes())?;
    f.sync_all()?;
    drop(f);
    std::fs::rename(&tmp, path)?;
    Ok(())
}

fn entry(ws: &Workspace, name: &str) -> keyring::Result<keyring::Entry> {
    keyring::Entry::new(SERVICE, &format!("{}/{name}", ws.device_id()))
}

/// Where a secret was kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Store {
    Keyring,
    File,
}

impl Store {
    pub fn key(self) -> &'static str {
        match self {
            Store::Keyring => "keyring",
            Store::File => "file",
        }
    }
}

/// Keep `value` under `name` for this workspace.
pub fn store(ws: &Workspace, name: &str, value: &str) -> Result<Store> {
    let file = file_of(ws)?;
    let cache_key = (file.clone(), ws.device_id().to_string(), name.to_string());
    let m = mode();
    let mut where_ = Store::File;
    if m != "file" {
        match entry(ws, name).and_then(|e| e.set_password(value)) {
            Ok(()) => where_ = Store::Keyring,
            Err(e) if m == "keyring" => {
                return Err(Error::sync(
                    format!("无法写入系统钥匙串：{e}"),
                    format!("Cannot write to the OS keyring: {e}"),
                ))
            }
            Err(_) => {}
        }
    }
    let mut map = read_file(&file);
    if where_ == Store::File {
        map.insert(name.to_string(), value.to_string());
        write_file(&file, &map)?;
    } else if map.remove(name).is_some() {
        write_file(&file, &map)?;
    }
    CACHE
        .lock()
        .expect("secret cache")
        .insert(cache_key, value.to_string());
    Ok(where_)
}

/// The secret kept under `name`, if any.
pub fn load(ws: &Workspace, name: &str) -> Result<Option<String>> {
    let file = file_of(ws)?;
    let cache_key = (file.clone(), ws.device_id().to_string(), name.to_string());
    if let Some(v) = CACHE.lock().expect("secret cache").get(&cache_key) {
        return Ok(Some(v.clone()));
    }
    let mut found = read_file(&file).remove(name);
    if found.is_none() && mode() != "file" {
        found = entry(ws, name).and_then(|e| e.get_password()).ok();
    }
    if let Some(v) = &found {
        CACHE
            .lock()
            .expect("secret cache")
            .insert(cache_key, v.clone());
    }
    Ok(found)
}

/// Forget every secret of this workspace's sync (leaving a team).
pub fn forget(ws: &Workspace, names: &[&str]) -> Result<()> {
    let file = file_of(ws)?;
    let mut map = read_file(&file);
    for n in names {
        map.remove(*n);
        if mode() != "file" {
            if let Ok(e) = entry(ws, n) {
                let _ = e.delete_credential();
            }
        }
        CACHE.lock().expect("secret cache").remove(&(
            file.clone(),
            ws.device_id().to_string(),
            n.to_string(),
        ));
    }
    if file.exists() {
        write_file(&file, &map)?;
    }
    Ok(())
}

/// The secrets file of a workspace (for tests and `sync status`).
pub fn file_path(ws: &Workspace) -> Option<PathBuf> {
    file_of(ws).ok()
}
