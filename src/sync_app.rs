//! What the desktop app needs around team sync that is not the sync engine
//! itself ([`crate::sync`]): this device's automatic-sync setting, a look at
//! a candidate shared folder before starting or joining a team (is it
//! there, can Kehu write to it, which teams does it hold), and whether local
//! changes are waiting to be sent.
//!
//! The automatic-sync setting belongs to this computer only (one laptop may
//! sync every minute, another every hour): it lives in `meta`, which is
//! never synced, like the device name and "who am I".

use crate::db::Workspace;
use crate::error::{Error, Result};
use crate::sync::{Credentials, Target};
use rusqlite::{Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use std::path::Path;
use ts_rs::TS;

/// Minutes between two automatic rounds, unless set.
pub const DEFAULT_INTERVAL_MIN: u32 = 5;
/// At most one day between rounds.
pub const MAX_INTERVAL_MIN: u32 = 24 * 60;

const AUTO_KEY: &str = "sync_auto";

/// When the app syncs on its own: at start, every `interval_min` minutes,
/// a few seconds after a local edit and when the shared folder changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct AutoSync {
    pub enabled: bool,
    pub interval_min: u32,
}

impl Default for AutoSync {
    fn default() -> Self {
        AutoSync {
            enabled: true,
            interval_min: DEFAULT_INTERVAL_MIN,
        }
    }
}

/// This device's automatic-sync setting (the default when never set).
pub fn auto(conn: &Connection) -> Result<AutoSync> {
    let raw: Option<String> = conn
        .query_row("SELECT value FROM meta WHERE key = ?1", [AUTO_KEY], |r| {
            r.get(0)
        })
        .optional()?;
    Ok(raw
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or_default())
}

/// Save this device's automatic-sync setting.
pub fn set_auto(ws: &Workspace, a: AutoSync) -> Result<AutoSync> {
    if a.interval_min < 1 || a.interval_min > MAX_INTERVAL_MIN {
        return Err(Error::validation(
            "interval_min",
            format!("同步间隔请填写 1 到 {MAX_INTERVAL_MIN} 分钟"),
            format!("The interval must be between 1 and {MAX_INTERVAL_MIN} minutes"),
        ));
    }
    ws.conn().execute(
        "INSERT INTO meta(key, value) VALUES (?1, ?2)
         ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        rusqlite::params![AUTO_KEY, serde_json::to_string(&a)?],
    )?;
    auto(ws.conn())
}

/// Whether this device has changes not yet written to the shared place
/// (cheap: one index probe).
pub fn has_unsent(ws: &Workspace) -> Result<bool> {
    let exported = crate::sync::meta_i64(ws.conn(), "sync_exported_hlc")?;
    Ok(ws.conn().query_row(
        "SELECT EXISTS(SELECT 1 FROM changes WHERE device_id = ?1 AND hlc > ?2)",
        rusqlite::params![ws.device_id(), exported],
        |r| r.get(0),
    )?)
}

/// A team found in a shared folder.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct TeamInfo {
    pub team_id: String,
    pub name: Option<String>,
    pub created_at: Option<i64>,
    /// Devices that have written to it.
    pub devices: usize,
    /// Its files are end-to-end encrypted: joining needs the team passphrase.
    pub encrypted: bool,
}

/// What a look at a candidate shared folder found.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct FolderCheck {
    #[ts(type = "string")]
    pub folder: String,
    pub exists: bool,
    pub writable: bool,
    pub teams: Vec<TeamInfo>,
    /// What is wrong, for the user (their language); None when all is well.
    pub problem: Option<String>,
}

/// The teams in `folder` (`<folder>/kehu-sync/<team>/team.json`), oldest
/// first.
pub fn teams_in(folder: &Path) -> Vec<TeamInfo> {
    let mut out = vec![];
    let Ok(rd) = std::fs::read_dir(folder.join(crate::sync::ROOT)) else {
        return out;
    };
    for d in rd.flatten() {
        let dir = d.path();
        let Ok(text) = std::fs::read_to_string(dir.join("team.json")) else {
            continue;
        };
        let v: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        let devices = std::fs::read_dir(dir.join("devices"))
            .map(|rd| rd.flatten().filter(|e| e.path().is_dir()).count())
            .unwrap_or(0);
        out.push(TeamInfo {
            team_id: d.file_name().to_string_lossy().to_string(),
            name: v["name"]
                .as_str()
                .map(str::to_string)
                .filter(|s| !s.is_empty()),
            created_at: v["created_at"].as_i64(),
            devices,
            encrypted: v["encryption"].is_object(),
        });
    }
    out.sort_by(|a, b| (a.created_at, &a.team_id).cmp(&(b.created_at, &b.team_id)));
    out
}

/// Test a folder before starting or joining a team: it exists, Kehu can
/// write a file into it (and remove it again), and which teams it holds.
pub fn check_folder(folder: &Path, lang: crate::Lang) -> FolderCheck {
    let shown = folder.display().to_string();
    let mut check = FolderCheck {
        folder: shown.clone(),
        exists: false,
        writable: false,
        teams: vec![],
        problem: None,
    };
    if folder.as_os_str().is_empty() || !folder.is_absolute() {
        check.problem = Some(
            lang.pick(
                "请填写共享文件夹的完整路径（例如 /home/me/Sync/客户）",
                "Give the full path of the shared folder (e.g. /home/me/Sync/kehu)",
            )
            .into(),
        );
        return check;
    }
    if !folder.is_dir() {
        check.problem = Some(match lang {
            crate::Lang::Zh => format!(
                "找不到文件夹 {shown}：请检查路径，以及 U 盘或网络盘是否已连接"
            ),
            crate::Lang::En => format!(
                "There is no folder {shown}: check the path and that the drive or network share is connected"
            ),
        });
        return check;
    }
    check.exists = true;
    let probe = folder.join(format!(".kehu-write-test-{}", crate::new_id()));
    match std::fs::write(&probe, b"kehu").and_then(|_| std::fs::remove_file(&probe)) {
        Ok(()) => check.writable = true,
        Err(e) => {
            let _ = std::fs::remove_file(&probe);
            check.problem = Some(match lang {
                crate::Lang::Zh => {
                    format!("无法写入 {shown}（只读、已满或没有权限）：{e}")
                }
                crate::Lang::En => {
                    format!("Kehu cannot write to {shown} (read-only, full or no permission): {e}")
                }
            });
        }
    }
    check.teams = teams_in(folder);
    check
}

/// Test any target before starting or joining a team: a folder as
/// [`check_folder`]; a WebDAV server or S3 bucket answers with the user name
/// and password (or keys) given, and which teams it holds. The result names
/// the target by its location (never a password); `problem` says in the
/// user's language what is wrong (unreachable server, refused credentials,
/// no such folder or bucket, a missing field).
pub fn check_target(target: &Target, creds: &Credentials, lang: crate::Lang) -> FolderCheck {
    if let Target::Folder { path } = target {
        return check_folder(path, lang);
    }
    let mut check = FolderCheck {
        folder: target.location(),
        exists: false,
        writable: false,
        teams: vec![],
        problem: None,
    };
    let t = match incomplete(target, creds)
        .map_or(Ok(()), Err)
        .and_then(|()| crate::sync::canonical(target))
        .and_then(|t| crate::sync::transport_of(&t, creds))
    {
        Ok(t) => t,
        Err(e) => {
            check.problem = Some(e.message(lang));
            return check;
        }
    };
    if let Err(e) = t.check() {
        check.problem = Some(crate::sync::unreachable(t.as_ref(), &e).message(lang));
        return check;
    }
    check.exists = true;
    check.writable = true;
    let root = crate::sync::ROOT;
    let list = match t.list(root) {
        Ok(l) => l,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => vec![],
        Err(e) => {
            check.problem = Some(crate::sync::unreachable(t.as_ref(), &e).message(lang));
            return check;
        }
    };
    for (team, is_dir) in list {
        if !is_dir {
            continue;
        }
        let Ok(bytes) = t.read(&format!("{root}/{team}/team.json")) else {
            continue;
        };
        let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
        let devices = t
            .list(&format!("{root}/{team}/devices"))
            .map(|l| l.into_iter().filter(|(_, d)| *d).count())
            .unwrap_or(0);
        check.teams.push(TeamInfo {
            team_id: team,
            name: v["name"]
                .as_str()
                .map(str::to_string)
                .filter(|s| !s.is_empty()),
            created_at: v["created_at"].as_i64(),
            devices,
            encrypted: v["encryption"].is_object(),
        });
    }
    check
        .teams
        .sort_by(|a, b| (a.created_at, &a.team_id).cmp(&(b.created_at, &b.team_id)));
    check
}

/// A field of a WebDAV or S3 target left empty, as the form's own message.
fn incomplete(target: &Target, creds: &Credentials) -> Option<Error> {
    let empty = |s: &Option<String>| s.as_deref().is_none_or(|s| s.trim().is_empty());
    let need = |field: &str, zh: &str, en: &str| {
        Some(Error::validation(
            field,
            format!("请填写{zh}"),
            format!("Fill in the {en}"),
        ))
    };
    let is_url = |u: &str| {
        let u = u.trim();
        (u.starts_with("https://") || u.starts_with("http://")) && u.len() > "https://".len()
    };
    match target {
        Target::Folder { .. } => None,
        Target::Webdav { url, user } => {
            if !is_url(url) {
                Some(Error::validation(
                    "url",
                    "WebDAV 地址应以 https:// 开头（坚果云：https://dav.jianguoyun.com/dav/文件夹/）",
                    "The WebDAV address starts with https:// (e.g. https://dav.jianguoyun.com/dav/folder/)",
                ))
            } else if user.trim().is_empty() {
                need("user", "用户名（坚果云：登录邮箱）", "user name")
            } else if empty(&creds.password) {
                need(
                    "password",
                    "密码（坚果云：应用密码）",
                    "password (坚果云: an app password)",
                )
            } else {
                None
            }
        }
        Target::S3 {
            endpoint, bucket, ..
        } => {
            if !is_url(endpoint) {
                Some(Error::validation(
                    "endpoint",
                    "S3 服务地址应以 https:// 开头（例如 https://oss-cn-hangzhou.aliyuncs.com）",
                    "The S3 endpoint starts with https:// (e.g. https://s3.eu-west-1.amazonaws.com)",
                ))
            } else if bucket.trim().is_empty() {
                need("bucket", "存储桶名称", "bucket name")
            } else if empty(&creds.access_key) {
                need("access_key", "访问密钥 ID（AccessKey ID）", "access key id")
            } else if empty(&creds.secret_key) {
                need(
                    "secret_key",
                    "私有访问密钥（AccessKey Secret）",
                    "secret access key",
                )
            } else {
                None
            }
        }
    }
}
