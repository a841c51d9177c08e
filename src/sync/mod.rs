//! Team sync without a server. Each device writes its own change-log
//! entries as immutable, checksummed segment files into its own folder of a
//! shared place (a folder that Syncthing, Dropbox, OneDrive, a NAS share or a
//! USB stick replicates):
//!
//! ```text
//! <shared>/kehu-sync/<team-id>/team.json
//! <shared>/kehu-sync/<team-id>/devices/<device-id>/device.json
//! <shared>/kehu-sync/<team-id>/devices/<device-id>/<hlc_from>-<hlc_to>.kseg
//! ```
//!
//! and reads the other devices' folders. Merging is last writer wins per
//! field by `(hlc, device)` (see [`apply`]); a value overwritten by a
//! concurrent change is kept in `conflicts`, so nothing is lost silently.
//! A bundle (`export_bundle` / `import_bundle`) carries the same entries on
//! a USB stick or by e-mail and merges the same way.

pub mod apply;
pub mod crypt;
pub mod secrets;
pub mod segment;
pub mod snapshot;
pub mod transport;

use crate::clock::{hlc_observe, hlc_physical};
use crate::db::Workspace;
use crate::error::{Error, Result};
use crypt::{KeyParams, TeamKey};
use rusqlite::{params, Connection, OptionalExtension};
use segment::{Bad, Entry, Section};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use transport::Transport;
use ts_rs::TS;

/// Changes stamped further ahead of this device's clock get a warning.
pub const CLOCK_SKEW_WARNING_MS: i64 = 6 * 3_600_000;

/// Folder inside the shared place that holds every team.
pub const ROOT: &str = "kehu-sync";

/// `KEHU_SYNC_TIMING=1` prints how long each phase of a round takes.
fn phase(label: &str, since: std::time::Instant) {
    if std::env::var_os("KEHU_SYNC_TIMING").is_some() {
        // CPU time of this thread too: the wall clock lies on a busy machine.
        let cpu_ms = std::fs::read_to_string("/proc/thread-self/schedstat")
            .ok()
            .and_then(|s| s.split_whitespace().next()?.parse::<f64>().ok())
            .map(|ns| ns / 1e6)
            .unwrap_or(0.0);
        eprintln!(
            "sync {label}: {:.1} ms (thread CPU total {cpu_ms:.0} ms)",
            since.elapsed().as_secs_f64() * 1000.0
        );
    }
}

pub(crate) fn meta(conn: &Connection, key: &str) -> Result<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT value FROM meta WHERE key = ?1")?
        .query_row([key], |r| r.get(0))
        .optional()?)
}

pub(crate) fn meta_i64(conn: &Connection, key: &str) -> Result<i64> {
    Ok(meta(conn, key)?.and_then(|s| s.parse().ok()).unwrap_or(0))
}

pub(crate) fn set_meta(conn: &Connection, key: &str, value: &str) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO meta(key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
    )?
    .execute(params![key, value])?;
    Ok(())
}

/// The place a team keeps its files: a folder, a WebDAV server or an
/// S3-compatible bucket. Passwords are not part of it (see [`Credentials`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[ts(export, rename = "SyncTarget")]
pub enum Target {
    Folder {
        #[ts(type = "string")]
        path: PathBuf,
    },
    Webdav {
        url: String,
        user: String,
    },
    S3 {
        endpoint: String,
        bucket: String,
        region: String,
    },
}

impl Target {
    pub fn kind(&self) -> &'static str {
        match self {
            Target::Folder { .. } => "folder",
            Target::Webdav { .. } => "webdav",
            Target::S3 { .. } => "s3",
        }
    }
    /// Where, for people (no password).
    pub fn location(&self) -> String {
        match self {
            Target::Folder { path } => path.to_string_lossy().to_string(),
            Target::Webdav { url, user } => format!("{url} ({user})"),
            Target::S3 {
                endpoint, bucket, ..
            } => format!("{}/{bucket}", endpoint.trim_end_matches('/')),
        }
    }
}

/// Secrets given when starting or joining a team. Only the derived team key
/// and the transport's password/keys are kept, in the OS keyring (see
/// [`secrets`]); never in the database.
#[derive(Clone, Default)]
pub struct Credentials {
    /// Team passphrase: end-to-end encryption.
    pub passphrase: Option<String>,
    /// WebDAV password (坚果云: an app password).
    pub password: Option<String>,
    /// S3 access key id and secret key.
    pub access_key: Option<String>,
    pub secret_key: Option<String>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Credentials(…)")
    }
}

const WEBDAV_PASSWORD: &str = "sync_webdav_password";
const S3_ACCESS_KEY: &str = "sync_s3_access_key";
const S3_SECRET_KEY: &str = "sync_s3_secret_key";

/// Where this workspace syncs.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct SyncConfig {
    /// The shared folder (folder targets; empty for WebDAV and S3).
    #[ts(type = "string")]
    pub folder: PathBuf,
    pub team_id: String,
    /// Files in the shared place are end-to-end encrypted (team passphrase).
    pub encrypted: bool,
    pub target: Target,
}

impl SyncConfig {
    /// `kehu-sync/<team>` inside the target.
    pub fn team_dir(&self) -> String {
        format!("{ROOT}/{}", self.team_id)
    }
    pub fn device_dir(&self, device: &str) -> String {
        format!("{ROOT}/{}/devices/{device}", self.team_id)
    }
}

fn folder_of(target: &Target) -> PathBuf {
    match target {
        Target::Folder { path } => path.clone(),
        _ => PathBuf::new(),
    }
}

pub fn config(conn: &Connection) -> Result<Option<SyncConfig>> {
    let Some(team_id) = meta(conn, "sync_team")? else {
        return Ok(None);
    };
    let target = match meta(conn, "sync_target")? {
        Some(t) => serde_json::from_str(&t)?,
        None => match meta(conn, "sync_folder")? {
            Some(f) => Target::Folder {
                path: PathBuf::from(f),
            },
            None => return Ok(None),
        },
    };
    Ok(Some(SyncConfig {
        folder: folder_of(&target),
        team_id,
        encrypted: meta(conn, "sync_key_params")?.is_some(),
        target,
    }))
}

/// The transport of a target with the credentials given.
pub(crate) fn transport_of(target: &Target, creds: &Credentials) -> Result<Box<dyn Transport>> {
    let missing = |zh: &str, en: &str| {
        Error::validation(
            "credentials",
            format!("缺少{zh}"),
            format!("Missing the {en}"),
        )
    };
    Ok(match target {
        Target::Folder { path } => Box::new(transport::Folder::new(path)),
        Target::Webdav { url, user } => Box::new(transport::WebDav::new(
            url,
            user,
            creds
                .password
                .as_deref()
                .ok_or_else(|| missing(" WebDAV 密码", "WebDAV password"))?,
        )),
        Target::S3 {
            endpoint,
            bucket,
            region,
        } => Box::new(
            transport::S3::new(
                endpoint,
                bucket,
                region,
                creds
                    .access_key
                    .as_deref()
                    .ok_or_else(|| missing(" S3 访问密钥 ID", "S3 access key id"))?,
                creds
                    .secret_key
                    .as_deref()
                    .ok_or_else(|| missing(" S3 私有访问密钥", "S3 secret key"))?,
            )
            .map_err(|e| {
                Error::validation(
                    "s3",
                    format!("S3 地址无效：{e}"),
                    format!("Invalid S3 address: {e}"),
                )
            })?,
        ),
    })
}

/// The transport of this workspace, with the credentials kept on this device.
fn open_transport(ws: &Workspace, cfg: &SyncConfig) -> Result<Box<dyn Transport>> {
    let lost = || {
        Error::sync(
            "本机找不到同步服务器的密码（系统钥匙串或密钥文件已被清除）：请重新运行 sync join",
            "This device has lost the password of the sync server (keyring or key file cleared): run sync join again",
        )
    };
    let creds = match &cfg.target {
        Target::Folder { .. } => Credentials::default(),
        Target::Webdav { .. } => Credentials {
            password: Some(secrets::load(ws, WEBDAV_PASSWORD)?.ok_or_else(lost)?),
            ..Default::default()
        },
        Target::S3 { .. } => Credentials {
            access_key: Some(secrets::load(ws, S3_ACCESS_KEY)?.ok_or_else(lost)?),
            secret_key: Some(secrets::load(ws, S3_SECRET_KEY)?.ok_or_else(lost)?),
            ..Default::default()
        },
    };
    transport_of(&cfg.target, &creds)
}

/// What one sync round did (`kehu sync now --json`).
#[derive(Debug, Clone, Default, Serialize, TS)]
#[ts(export)]
pub struct SyncReport {
    /// Entries of this device written to the shared place.
    pub sent: usize,
    /// Entries of other devices read (not seen before).
    pub received: usize,
    /// Entries merged into this workspace.
    pub applied: usize,
    /// New conflicts (values set concurrently; both kept).
    pub conflicts: usize,
    /// Files skipped: damaged, incomplete or from a newer Kehu.
    pub skipped_files: usize,
    /// Customers renumbered because another device used the same code.
    pub renumbered: usize,
    /// Problems to show (Chinese / English).
    pub problems: Vec<String>,
}

fn missing_folder(folder: &Path) -> Error {
    Error::sync(
        format!(
            "找不到共享文件夹 {}：请检查它是否存在，U 盘或网络盘是否已连接。本机的修改照常保存，连接后再同步。",
            folder.display()
        ),
        format!(
            "The shared folder {} is not there: check that it exists and that the drive or network share is connected. Local changes are kept and sync later.",
            folder.display()
        ),
    )
}

/// The target cannot be reached or read: a message for people.
pub(crate) fn unreachable(t: &dyn Transport, e: &std::io::Error) -> Error {
    if t.kind() == "folder" {
        return missing_folder(Path::new(&t.location()));
    }
    let loc = t.location();
    match e.kind() {
        std::io::ErrorKind::PermissionDenied => Error::sync(
            format!("同步服务器 {loc} 拒绝了用户名或密码（坚果云请使用“应用密码”）。本机的修改照常保存。"),
            format!("The sync server {loc} refused the user name or password. Local changes are kept."),
        ),
        std::io::ErrorKind::NotFound => Error::sync(
            format!("同步服务器 {loc} 上找不到这个位置（文件夹或存储桶）：请检查地址。本机的修改照常保存。"),
            format!("The sync server {loc} has no such folder or bucket: check the address. Local changes are kept."),
        ),
        _ => Error::sync(
            format!("无法连接同步服务器 {loc}（{e}）：请检查网络。本机的修改照常保存，连接后再同步。"),
            format!("Cannot reach the sync server {loc} ({e}): check the network. Local changes are kept and sync later."),
        ),
    }
}

fn unwritable(path: &str, e: &std::io::Error) -> String {
    if e.kind() == std::io::ErrorKind::StorageFull {
        format!(
            "共享位置已满，本机的修改暂未发送（仍保存在本机）/ The shared place is full; local changes are kept and not sent yet: {path}"
        )
    } else {
        format!(
            "无法写入共享文件夹（只读或没有权限），本机的修改暂未发送（仍保存在本机）/ Cannot write to the shared folder (read-only or no permission); local changes are kept and not sent yet: {path} ({e})"
        )
    }
}

fn sync_err(m: String) -> Error {
    match m.split_once(" / ") {
        Some((zh, en)) => Error::sync(zh.to_string(), en.to_string()),
        None => Error::sync(m.clone(), m),
    }
}

fn device_name(conn: &Connection) -> Result<String> {
    Ok(meta(conn, "device_name")?.unwrap_or_else(|| {
        std::env::var("HOSTNAME")
            .ok()
            .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
            .or_else(|| std::env::var("COMPUTERNAME").ok())
            .map(|h| h.trim().to_string())
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "Kehu".into())
    }))
}

/// Write `device.json` when what it says has changed.
fn write_device_json(ws: &Workspace, cfg: &SyncConfig, t: &dyn Transport) -> Result<()> {
    let me = ws.me()?;
    let seen: BTreeMap<String, i64> = ws
        .conn()
        .prepare("SELECT device_id, applied_hlc FROM sync_peers WHERE applied_hlc > 0")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let member: Option<String> = match &me {
        Some(id) => ws
            .conn()
            .query_row("SELECT name FROM members WHERE id = ?1", [id], |r| r.get(0))
            .optional()?,
        None => None,
    };
    let doc = serde_json::json!({
        "format": segment::FORMAT,
        "device_id": ws.device_id(),
        "name": device_name(ws.conn())?,
        "member_id": me,
        "member": member,
        "app_version": env!("CARGO_PKG_VERSION"),
        "schema_version": crate::db::schema_version(),
        // How far this device has applied each other device's entries:
        // a device prunes only what everyone has seen.
        "seen": seen,
    });
    let path = format!("{}/device.json", cfg.device_dir(ws.device_id()));
    let text = serde_json::to_string_pretty(&doc)?;
    let key = team_key(ws)?;
    let now = t
        .read(&path)
        .ok()
        .and_then(|b| unseal(key.as_ref(), &b).ok());
    if now.as_deref() == Some(text.as_bytes()) {
        return Ok(());
    }
    let bytes = seal(key.as_ref(), text.into_bytes());
    t.write(&path, &bytes)
        .map_err(|e| sync_err(unwritable(&t.label(&path), &e)))
}

/// Start a new team in `folder` with this device as its first member.
pub fn init(ws: &mut Workspace, folder: &Path, name: Option<&str>) -> Result<SyncConfig> {
    init_with(ws, folder, name, None)
}

/// [`init`], with end-to-end encryption when a team passphrase is given:
/// the key is derived here and kept on this device (see [`secrets`]).
pub fn init_with(
    ws: &mut Workspace,
    folder: &Path,
    name: Option<&str>,
    passphrase: Option<&str>,
) -> Result<SyncConfig> {
    let creds = Credentials {
        passphrase: passphrase.map(str::to_string),
        ..Default::default()
    };
    init_target(
        ws,
        &Target::Folder {
            path: folder.to_path_buf(),
        },
        name,
        &creds,
    )
}

/// A target as stored: a folder's absolute path, trimmed addresses.
pub(crate) fn canonical(target: &Target) -> Result<Target> {
    Ok(match target {
        Target::Folder { path } => {
            if !path.is_dir() {
                return Err(missing_folder(path));
            }
            Target::Folder {
                path: path.canonicalize()?,
            }
        }
        Target::Webdav { url, user } => Target::Webdav {
            url: url.trim().to_string(),
            user: user.trim().to_string(),
        },
        Target::S3 {
            endpoint,
            bucket,
            region,
        } => Target::S3 {
            endpoint: endpoint.trim().to_string(),
            bucket: bucket.trim().to_string(),
            region: if region.trim().is_empty() {
                "us-east-1".into()
            } else {
                region.trim().to_string()
            },
        },
    })
}

/// Start a new team on any target (folder, WebDAV, S3) with this device as
/// its first member.
pub fn init_target(
    ws: &mut Workspace,
    target: &Target,
    name: Option<&str>,
    creds: &Credentials,
) -> Result<SyncConfig> {
    if config(ws.conn())?.is_some() {
        return Err(Error::validation(
            "folder",
            "本工作区已加入团队同步",
            "This workspace already syncs with a team",
        ));
    }
    let target = canonical(target)?;
    let t = transport_of(&target, creds)?;
    t.check().map_err(|e| unreachable(t.as_ref(), &e))?;
    let team_id = crate::new_id();
    let key = creds
        .passphrase
        .as_deref()
        .map(|p| crypt::new_key(&team_id, p))
        .transpose()?;
    let cfg = SyncConfig {
        folder: folder_of(&target),
        team_id,
        encrypted: key.is_some(),
        target,
    };
    let mut team = serde_json::json!({
        "format": segment::FORMAT,
        "team_id": cfg.team_id,
        "name": name,
        "created_at": ws.now_ms(),
        "created_by": ws.device_id(),
    });
    if let Some((params, k)) = &key {
        team["encryption"] = serde_json::to_value(params)?;
        // The rest of team.json is public; the team's name is not.
        if let Some(n) = name {
            team["name"] = Value::Null;
            team["name_sealed"] = Value::from(crypt::hex(&crypt::seal(params, k, n.as_bytes())));
        }
    }
    let path = format!("{}/team.json", cfg.team_dir());
    t.write(
        &path,
        serde_json::to_string_pretty(&team)
            .expect("json")
            .as_bytes(),
    )
    .map_err(|e| sync_err(unwritable(&t.label(&path), &e)))?;
    save_config(ws, &cfg, key, creds, t.as_ref())?;
    Ok(cfg)
}

/// Join the team found in `folder` (`team`: its id when there are several).
pub fn join(ws: &mut Workspace, folder: &Path, team: Option<&str>) -> Result<SyncConfig> {
    join_with(ws, folder, team, None)
}

/// [`join`] with the team passphrase, needed when the team is encrypted;
/// a wrong one is refused before anything is written.
pub fn join_with(
    ws: &mut Workspace,
    folder: &Path,
    team: Option<&str>,
    passphrase: Option<&str>,
) -> Result<SyncConfig> {
    let creds = Credentials {
        passphrase: passphrase.map(str::to_string),
        ..Default::default()
    };
    join_target(
        ws,
        &Target::Folder {
            path: folder.to_path_buf(),
        },
        team,
        &creds,
    )
}

/// Join the team found on any target (`team`: its id when there are several).
pub fn join_target(
    ws: &mut Workspace,
    target: &Target,
    team: Option<&str>,
    creds: &Credentials,
) -> Result<SyncConfig> {
    let target = canonical(target)?;
    let t = transport_of(&target, creds)?;
    t.check().map_err(|e| unreachable(t.as_ref(), &e))?;
    let mut teams = vec![];
    match t.list(ROOT) {
        Ok(list) => {
            for (name, is_dir) in list {
                if is_dir && t.read(&format!("{ROOT}/{name}/team.json")).is_ok() {
                    teams.push(name);
                }
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(unreachable(t.as_ref(), &e)),
    }
    teams.sort();
    let where_ = target.location();
    let team_id = match team {
        Some(x) => teams.iter().find(|t| *t == x).cloned(),
        None if teams.len() == 1 => teams.pop(),
        None if teams.len() > 1 => {
            return Err(Error::validation(
                "team",
                format!(
                    "共享文件夹中有多个团队，请用 --team 指定：{}",
                    teams.join(", ")
                ),
                format!(
                    "The folder holds several teams; choose one with --team: {}",
                    teams.join(", ")
                ),
            ))
        }
        None => None,
    }
    .ok_or_else(|| {
        Error::sync(
            format!("在 {where_} 中没有找到团队，请先在一台电脑上运行“sync init”。"),
            format!("No team found in {where_}; run “sync init” on one computer first."),
        )
    })?;
    let team_json: Value = t
        .read(&format!("{ROOT}/{team_id}/team.json"))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or(Value::Null);
    let key = team_key_from(&team_json, creds.passphrase.as_deref())?;
    let cfg = SyncConfig {
        folder: folder_of(&target),
        team_id,
        encrypted: key.is_some(),
        target,
    };
    save_config(ws, &cfg, key, creds, t.as_ref())?;
    Ok(cfg)
}

/// The key of a team from its `team.json` and the passphrase given.
fn team_key_from(
    team_json: &Value,
    passphrase: Option<&str>,
) -> Result<Option<(KeyParams, TeamKey)>> {
    match (&team_json["encryption"], passphrase) {
        (Value::Null, None) => Ok(None),
        (Value::Null, Some(_)) => Err(Error::validation(
            "passphrase",
            "这个团队没有加密，不需要团队口令",
            "This team is not encrypted: no team passphrase is needed",
        )),
        (_, None) => Err(Error::validation(
            "passphrase",
            "这个团队的同步文件已加密：请输入团队口令（--passphrase-env）",
            "This team's sync files are encrypted: give the team passphrase (--passphrase-env)",
        )),
        (enc, Some(p)) => {
            let params: KeyParams = serde_json::from_value(enc.clone()).map_err(|_| {
                Error::sync(
                    "team.json 中的加密参数已损坏",
                    "The encryption parameters in team.json are damaged",
                )
            })?;
            let key = crypt::derive(&params, p)?;
            Ok(Some((params, key)))
        }
    }
}

const KEY_SECRET: &str = "sync_team_key";

fn save_config(
    ws: &mut Workspace,
    cfg: &SyncConfig,
    key: Option<(KeyParams, TeamKey)>,
    creds: &Credentials,
    t: &dyn Transport,
) -> Result<()> {
    let hex = key.as_ref().map(|(_, k)| k.to_hex());
    let mut kept: Vec<(&str, &str)> = vec![];
    if let Some(h) = &hex {
        kept.push((KEY_SECRET, h));
    }
    match &cfg.target {
        Target::Folder { .. } => {}
        Target::Webdav { .. } => {
            kept.push((WEBDAV_PASSWORD, creds.password.as_deref().unwrap_or("")))
        }
        Target::S3 { .. } => {
            kept.push((S3_ACCESS_KEY, creds.access_key.as_deref().unwrap_or("")));
            kept.push((S3_SECRET_KEY, creds.secret_key.as_deref().unwrap_or("")));
        }
    }
    for (name, value) in kept {
        let store = secrets::store(ws, name, value)?;
        set_meta(ws.conn(), "sync_secret_store", store.key())?;
    }
    if let Some((params, _)) = &key {
        set_meta(
            ws.conn(),
            "sync_key_params",
            &serde_json::to_string(params)?,
        )?;
    }
    if let Target::Folder { path } = &cfg.target {
        set_meta(ws.conn(), "sync_folder", &path.to_string_lossy())?;
    }
    set_meta(
        ws.conn(),
        "sync_target",
        &serde_json::to_string(&cfg.target)?,
    )?;
    set_meta(ws.conn(), "sync_team", &cfg.team_id)?;
    ingest(ws)?;
    // A read-only target can still be joined to receive; each sync round
    // reports that this device cannot send.
    let _ = write_device_json(ws, cfg, t);
    Ok(())
}

/// This device's team key when the team is encrypted.
fn team_key(ws: &Workspace) -> Result<Option<(KeyParams, TeamKey)>> {
    let Some(params) = meta(ws.conn(), "sync_key_params")? else {
        return Ok(None);
    };
    let params: KeyParams = serde_json::from_str(&params)?;
    let key = secrets::load(ws, KEY_SECRET)?
        .and_then(|h| TeamKey::from_hex(&h))
        .filter(|k| k.check_value() == params.check)
        .ok_or_else(|| {
            Error::sync(
                "本机找不到团队密钥（系统钥匙串或密钥文件已被清除）：请用团队口令重新运行 sync join",
                "This device has lost the team key (keyring or key file cleared): run sync join again with the team passphrase",
            )
        })?;
    Ok(Some((params, key)))
}

/// Encrypt a file's bytes when the team is encrypted.
fn seal(key: Option<&(KeyParams, TeamKey)>, plain: Vec<u8>) -> Vec<u8> {
    match key {
        Some((params, key)) => crypt::seal(params, key, &plain),
        None => plain,
    }
}

/// The plain bytes of a file read from the shared place. In an encrypted
/// team a file that is not sealed with the team key is refused.
fn unseal(key: Option<&(KeyParams, TeamKey)>, bytes: &[u8]) -> std::result::Result<Vec<u8>, Bad> {
    if crypt::is_sealed(bytes) {
        crypt::open(key.map(|k| &k.1), bytes).map_err(|e| match e {
            crypt::OpenError::NewerFormat(v) => Bad::NewerFormat(v),
            e => Bad::Damaged(e.message()),
        })
    } else if key.is_some() {
        Err(Bad::Damaged(
            "团队已加密，但这个文件没有加密 / not encrypted although the team is".into(),
        ))
    } else {
        Ok(bytes.to_vec())
    }
}

fn require_config(ws: &Workspace) -> Result<SyncConfig> {
    config(ws.conn())?.ok_or_else(|| {
        Error::validation(
            "sync",
            "尚未设置团队同步：请先运行 sync init 或 sync join",
            "Team sync is not set up: run sync init or sync join first",
        )
    })
}

/// Take this device's new change-log entries into the merge state.
fn ingest(ws: &mut Workspace) -> Result<usize> {
    let me = ws.device_id().to_string();
    // The merge runs a few dozen distinct statements per entry kind.
    ws.conn().set_prepared_statement_cache_capacity(128);
    let tx = ws
        .conn_mut()
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let n = apply::ingest_local(&tx, &me)?;
    tx.commit()?;
    Ok(n)
}

fn parse(s: Option<String>) -> Option<Value> {
    s.and_then(|s| serde_json::from_str(&s).ok())
}

/// Entries of `device` in this workspace's log after `after_hlc`, in order.
fn entries_of(conn: &Connection, device: &str, after_hlc: i64) -> Result<Vec<Entry>> {
    // This device's own entries only once they are in the registers (their
    // base is known); a change written meanwhile goes out next round.
    let own = device == meta(conn, "device_id")?.unwrap_or_default();
    let upto = if own {
        meta_i64(conn, "sync_ingested_seq")?
    } else {
        i64::MAX
    };
    let mut stmt = conn.prepare_cached(
        "SELECT hlc, actor_id, entity, entity_id, field, old, new, at, origin, base_hlc, base_device
         FROM changes WHERE device_id = ?1 AND hlc > ?2 AND seq <= ?3 ORDER BY hlc",
    )?;
    let rows = stmt.query_map(params![device, after_hlc, upto], |r| {
        Ok(Entry {
            hlc: r.get(0)?,
            actor: r.get(1)?,
            entity: r.get(2)?,
            entity_id: r.get(3)?,
            field: r.get(4)?,
            old: parse(r.get(5)?),
            new: parse(r.get(6)?),
            at: r.get(7)?,
            origin: r.get(8)?,
            base_hlc: r.get(9)?,
            base_device: r.get(10)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

fn section(device: &str, prev_hlc: i64, entries: Vec<Entry>) -> Section {
    Section {
        device: device.to_string(),
        prev_hlc,
        hlc_from: entries.first().map_or(0, |e| e.hlc),
        hlc_to: entries.last().map_or(prev_hlc, |e| e.hlc),
        count: entries.len(),
        entries,
        lines: None,
    }
}

/// Write this device's entries not yet sent as one new segment file.
/// Returns the file (None when there was nothing to send).
pub fn send(ws: &mut Workspace) -> Result<Option<(PathBuf, usize)>> {
    let cfg = require_config(ws)?;
    let t = open_transport(ws, &cfg)?;
    send_to(ws, &cfg, t.as_ref())
}

fn send_to(
    ws: &mut Workspace,
    cfg: &SyncConfig,
    tr: &dyn Transport,
) -> Result<Option<(PathBuf, usize)>> {
    let t = std::time::Instant::now();
    ingest(ws)?;
    phase("ingest", t);
    let me = ws.device_id().to_string();
    let exported = meta_i64(ws.conn(), "sync_exported_hlc")?;
    let t = std::time::Instant::now();
    let entries = entries_of(ws.conn(), &me, exported)?;
    phase("read own entries", t);
    if entries.is_empty() {
        return Ok(None);
    }
    let n = entries.len();
    let s = section(&me, exported, entries);
    let t = std::time::Instant::now();
    let key = team_key(ws)?;
    let bytes = seal(
        key.as_ref(),
        segment::encode("segment", &me, std::slice::from_ref(&s))?,
    );
    phase("encode", t);
    let dir = cfg.device_dir(&me);
    let path = format!("{dir}/{:016x}-{:016x}.kseg", s.hlc_from, s.hlc_to);
    tr.check().map_err(|e| unreachable(tr, &e))?;
    tr.write(&path, &bytes)
        .map_err(|e| sync_err(unwritable(&tr.label(&dir), &e)))?;
    set_meta(ws.conn(), "sync_exported_hlc", &s.hlc_to.to_string())?;
    Ok(Some((PathBuf::from(tr.label(&path)), n)))
}

/// One sync round with the shared place: send, receive, merge.
pub fn sync_now(ws: &mut Workspace) -> Result<SyncReport> {
    let cfg = require_config(ws)?;
    let t = open_transport(ws, &cfg)?;
    let t = t.as_ref();
    let team_json = format!("{}/team.json", cfg.team_dir());
    if let Err(e) = t.check().and_then(|_| t.read(&team_json).map(|_| ())) {
        return Err(if t.kind() == "folder" {
            missing_folder(Path::new(&t.label(&cfg.team_dir())))
        } else {
            unreachable(t, &e)
        });
    }
    let mut report = SyncReport::default();
    let send_once = |ws: &mut Workspace, report: &mut SyncReport| match send_to(ws, &cfg, t) {
        Ok(Some((_, n))) => report.sent += n,
        Ok(None) => {}
        Err(Error::Sync { zh, en }) => report.problems.push(format!("{zh} / {en}")),
        Err(e) => report.problems.push(e.to_string()),
    };
    send_once(ws, &mut report);
    if let Err(e) = write_device_json(ws, &cfg, t) {
        if report.problems.is_empty() {
            report.problems.push(e.to_string());
        }
    }
    let key = team_key(ws)?;
    // A device that has nothing of the others yet starts from the newest
    // snapshot instead of replaying every segment.
    let fresh: bool = ws.conn().query_row(
        "SELECT NOT EXISTS(SELECT 1 FROM sync_peers WHERE applied_hlc > 0)",
        [],
        |r| r.get(0),
    )?;
    // One already taken is not read again: a device that only ever gets its
    // own entries back (the first one of a team whose others have not
    // edited yet) would otherwise stay "fresh" and read it every round.
    let taken = meta_i64(ws.conn(), "sync_snapshot_taken")?;
    let t0 = std::time::Instant::now();
    let (snap_hlc, snap) = match fresh {
        true => snapshot::newest(ws, &cfg, t, key.as_ref(), &mut report, taken)?.unzip(),
        false => (None, None),
    };
    phase("snapshot read", t0);
    let floor: BTreeMap<String, i64> = snap
        .iter()
        .flatten()
        .map(|s| (s.device.clone(), s.hlc_to))
        .collect();
    let t0 = std::time::Instant::now();
    let (files, seen, newest_snapshot) = list_segments(ws, &cfg, t, &floor, &mut report)?;
    phase("list", t0);
    let t0 = std::time::Instant::now();
    let mut blobs = vec![];
    for f in files {
        match t.read(&f) {
            Ok(b) => blobs.push((t.label(&f), b)),
            Err(e) => {
                report.skipped_files += 1;
                report.problems.push(format!("{}: {e}", t.label(&f)));
            }
        }
    }
    phase("download", t0);
    let mut sections = snap.unwrap_or_default();
    sections.extend(decode_blobs(ws, blobs, key.as_ref(), &mut report)?);
    receive_sections(ws, sections, &mut report)?;
    if let Some(h) = snap_hlc {
        set_meta(ws.conn(), "sync_snapshot_taken", &h.to_string())?;
    }
    if report.renumbered > 0 {
        send_once(ws, &mut report);
    }
    let _ = write_device_json(ws, &cfg, t);
    if !floor.is_empty() {
        // Joined from a snapshot: no need to write another one now.
        let end: i64 =
            ws.conn()
                .query_row("SELECT coalesce(max(seq), 0) FROM changes", [], |r| {
                    r.get(0)
                })?;
        set_meta(ws.conn(), "sync_snapshot_seq", &end.to_string())?;
    }
    match snapshot::maybe_write(ws, &cfg, t, newest_snapshot) {
        Ok(_) => {}
        Err(Error::Sync { zh, en }) => report.problems.push(format!("{zh} / {en}")),
        Err(e) => report.problems.push(e.to_string()),
    }
    snapshot::prune(ws, &cfg, t, &seen)?;
    set_meta(ws.conn(), "sync_last_at", &ws.now_ms().to_string())?;
    Ok(report)
}

/// Segment files of other devices that may hold entries not applied yet.
/// Also returns, for every other device with a folder, how far it says it
/// has applied this device's entries (0 when it does not say).
fn list_segments(
    ws: &Workspace,
    cfg: &SyncConfig,
    t: &dyn Transport,
    floor: &BTreeMap<String, i64>,
    report: &mut SyncReport,
) -> Result<(Vec<String>, BTreeMap<String, i64>, i64)> {
    let mut out = vec![];
    let mut seen = BTreeMap::new();
    let mut newest_snapshot = 0;
    let key = team_key(ws)?;
    let devices_dir = format!("{}/devices", cfg.team_dir());
    let Ok(list) = t.list(&devices_dir) else {
        return Ok((out, seen, 0));
    };
    let mut devices: Vec<String> = list
        .into_iter()
        .filter(|(_, is_dir)| *is_dir)
        .map(|(n, _)| n)
        .collect();
    devices.sort();
    for device in devices {
        if device == ws.device_id() {
            continue;
        }
        let dir = format!("{devices_dir}/{device}");
        seen.insert(device.clone(), 0);
        if let Some(text) = t
            .read(&format!("{dir}/device.json"))
            .ok()
            .and_then(|b| unseal(key.as_ref(), &b).ok())
        {
            if let Ok(v) = serde_json::from_slice::<Value>(&text) {
                seen.insert(
                    device.clone(),
                    v["seen"][ws.device_id()].as_i64().unwrap_or(0),
                );
                ws.conn().execute(
                    "INSERT INTO sync_peers(device_id, name, member, app_version, schema_version, last_seen)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                     ON CONFLICT(device_id) DO UPDATE SET name = excluded.name, member = excluded.member,
                        app_version = excluded.app_version, schema_version = excluded.schema_version,
                        last_seen = CASE WHEN sync_peers.name IS NOT excluded.name
                            OR sync_peers.app_version IS NOT excluded.app_version THEN excluded.last_seen
                            ELSE sync_peers.last_seen END",
                    params![
                        device,
                        v["name"].as_str(),
                        v["member"].as_str(),
                        v["app_version"].as_str(),
                        v["schema_version"].as_i64(),
                        ws.now_ms()
                    ],
                )?;
                if v["format"].as_u64().unwrap_or(1) > segment::FORMAT as u64 {
                    report.problems.push(format!(
                        "设备“{}”使用更新版本的 Kehu，请升级 Kehu / device “{}” runs a newer Kehu: update Kehu",
                        v["name"].as_str().unwrap_or(&device),
                        v["name"].as_str().unwrap_or(&device)
                    ));
                }
            }
        }
        let applied =
            applied_hlc(ws.conn(), &device)?.max(floor.get(&device).copied().unwrap_or(0));
        let Ok(files) = t.list(&dir) else {
            continue;
        };
        for (n, _) in &files {
            if let Some(h) = snapshot::snap_name(n) {
                newest_snapshot = newest_snapshot.max(h);
            }
        }
        let mut names: Vec<String> = files
            .into_iter()
            .filter(|(n, is_dir)| !is_dir && n.ends_with(".kseg") && !segment::is_conflict_copy(n))
            .map(|(n, _)| n)
            .collect();
        names.sort();
        for n in names {
            let to = n
                .trim_end_matches(".kseg")
                .split_once('-')
                .and_then(|(_, to)| i64::from_str_radix(to, 16).ok());
            match to {
                Some(to) if to <= applied => continue,
                Some(_) => out.push(format!("{dir}/{n}")),
                None => {} // not a name this format writes
            }
        }
    }
    Ok((out, seen, newest_snapshot))
}

fn applied_hlc(conn: &Connection, device: &str) -> Result<i64> {
    Ok(conn
        .prepare_cached("SELECT applied_hlc FROM sync_peers WHERE device_id = ?1")?
        .query_row([device], |r| r.get(0))
        .optional()?
        .unwrap_or(0))
}

/// Read, check and merge sync files (segments or bundles), in one
/// transaction. Damaged files are quarantined and reported; a device whose
/// earlier file is missing or damaged waits for it.
pub fn receive_files(ws: &mut Workspace, files: &[PathBuf], report: &mut SyncReport) -> Result<()> {
    let key = team_key(ws)?;
    receive_files_with(ws, files, key.as_ref(), report)
}

fn receive_files_with(
    ws: &mut Workspace,
    files: &[PathBuf],
    key: Option<&(KeyParams, TeamKey)>,
    report: &mut SyncReport,
) -> Result<()> {
    let mut blobs = vec![];
    for path in files {
        match std::fs::read(path) {
            Ok(b) => blobs.push((path.to_string_lossy().to_string(), b)),
            Err(e) => {
                report.skipped_files += 1;
                report.problems.push(format!("{}: {e}", path.display()));
            }
        }
    }
    let sections = decode_blobs(ws, blobs, key, report)?;
    receive_sections(ws, sections, report)
}

/// A sync file that cannot be used: counted, reported, and a damaged one
/// quarantined (one written by a newer Kehu is only skipped).
pub(super) fn skip_bad_file(
    ws: &Workspace,
    report: &mut SyncReport,
    label: &str,
    bad: &Bad,
    now: i64,
) -> Result<()> {
    report.skipped_files += 1;
    report.problems.push(format!("{label}: {}", bad.message()));
    if let Bad::Damaged(_) = bad {
        ws.conn().execute(
            "INSERT INTO sync_quarantine(path, reason, at) VALUES (?1, ?2, ?3)
             ON CONFLICT(path) DO UPDATE SET reason = excluded.reason",
            params![label, bad.message(), now],
        )?;
    }
    Ok(())
}

/// Check and decode the bytes of sync files, named by `label` (its path).
/// Damaged ones are quarantined and reported.
fn decode_blobs(
    ws: &mut Workspace,
    blobs: Vec<(String, Vec<u8>)>,
    key: Option<&(KeyParams, TeamKey)>,
    report: &mut SyncReport,
) -> Result<Vec<Section>> {
    let now = ws.now_ms();
    let mut sections: Vec<Section> = vec![];
    let t = std::time::Instant::now();
    for (label, bytes) in blobs {
        match unseal(key, &bytes).and_then(|b| segment::decode(&b)) {
            Ok((_, s)) => {
                ws.conn()
                    .execute("DELETE FROM sync_quarantine WHERE path = ?1", [&label])?;
                sections.extend(s);
            }
            Err(bad) => skip_bad_file(ws, report, &label, &bad, now)?,
        }
    }
    phase("read and decode", t);
    Ok(sections)
}

/// Merge decoded sections in one transaction.
fn receive_sections(
    ws: &mut Workspace,
    sections: Vec<Section>,
    report: &mut SyncReport,
) -> Result<()> {
    let me = ws.device_id().to_string();
    let now = ws.now_ms();
    let mut by_device: BTreeMap<String, Vec<Section>> = BTreeMap::new();
    for s in sections {
        if s.device != me {
            by_device.entry(s.device.clone()).or_default().push(s);
        }
    }
    // Values displaced by a unique clash (a code, a tag name) are placed
    // again even when nothing arrives: a local purge may have freed them.
    let displaced: bool =
        ws.conn()
            .query_row("SELECT EXISTS(SELECT 1 FROM sync_displaced)", [], |r| {
                r.get(0)
            })?;
    if by_device.is_empty() && !displaced {
        report.renumbered += renumber(ws)?;
        return Ok(());
    }
    // A device joining a big team (or far behind a small one) loads most of
    // its rows now.
    let incoming: usize = by_device.values().flatten().map(Section::entry_count).sum();
    ws.bulk_load(incoming, |ws| merge(ws, by_device, incoming, now, report))?;
    report.renumbered += renumber(ws)?;
    Ok(())
}

/// Merge the sections of other devices, `incoming` entries in all, in one
/// transaction.
fn merge(
    ws: &mut Workspace,
    by_device: BTreeMap<String, Vec<Section>>,
    incoming: usize,
    now: crate::clock::Millis,
    report: &mut SyncReport,
) -> Result<()> {
    let me = ws.device_id().to_string();
    ws.conn().set_prepared_statement_cache_capacity(128);
    let conn = ws.conn_mut();
    // Entries of different devices arrive in any order: a contact may come
    // before its customer. Rows are checked against the merge state instead.
    conn.execute_batch("PRAGMA foreign_keys = OFF")?;
    // A big batch (a join) touches far more pages than the default cache
    // holds; spilling them to the WAL mid-transaction doubles the writing.
    // With a rollback journal (a bulk load) spilled pages go straight to
    // the file, and the larger cache only cost time (join 100k: 12.6 → 11.3 s).
    let cache: i64 = conn.query_row("PRAGMA cache_size", [], |r| r.get(0))?;
    let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
    if mode.eq_ignore_ascii_case("wal") {
        conn.execute_batch("PRAGMA cache_size = -262144")?;
    }
    let result = (|| -> Result<()> {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        // Local changes made since the last look go into the registers in
        // the same transaction, so none can slip between them and the merge.
        apply::ingest_local(&tx, &me)?;
        let t = std::time::Instant::now();
        // Build the read-side indexes of a big load once, at the end.
        let deferred = crate::db::DeferredIndexes::for_load(&tx, incoming)?;
        let mut ap = apply::Applier::new(&tx, &me, now)?;
        apply_sections(&tx, &mut ap, by_device, now, report)?;
        phase("merge", t);
        let t = std::time::Instant::now();
        let (applied, conflicts, max_hlc, mut search) = ap.finish()?;
        phase("settle", t);
        // Into an empty workspace the search postings are written on other
        // threads meanwhile (join 100k, alternating runs: 10.3–10.9 → 8.7–9.4
        // s; 12.0–12.3 → 10.0–11.4 s on a slower day).
        if let Some(d) = deferred {
            let t = std::time::Instant::now();
            d.rebuild_with(&tx, || search.feed(&tx))?;
            phase("rebuild indexes", t);
        }
        let t = std::time::Instant::now();
        search.finish(&tx)?;
        phase("search index", t);
        report.applied += applied;
        report.conflicts += conflicts;
        // Later local edits sort after everything seen.
        let last = meta_i64(&tx, "hlc")?;
        set_meta(&tx, "hlc", &hlc_observe(last, max_hlc, now).to_string())?;
        let t = std::time::Instant::now();
        tx.commit()?;
        phase("commit", t);
        Ok(())
    })();
    conn.execute_batch(&format!(
        "PRAGMA foreign_keys = ON; PRAGMA cache_size = {cache}"
    ))?;
    result
}

/// Entries of a lazily decoded file parsed per message to the merge.
const PARSE_BATCH: usize = 4096;

/// Apply each device's sections in chain order. Which sections apply is
/// decided from their headers first, so the entries of lazily decoded ones
/// (a snapshot) can be parsed on a second thread, in that order, while the
/// merge applies the ones before them: parsing a 100k team's snapshot
/// (1.0–1.7 s) no longer comes before the merge.
fn apply_sections(
    tx: &rusqlite::Transaction,
    ap: &mut apply::Applier,
    by_device: BTreeMap<String, Vec<Section>>,
    now: crate::clock::Millis,
    report: &mut SyncReport,
) -> Result<()> {
    // Per device: the sections to apply, each with the stamp applied
    // before it, and the stamp applied after them all.
    type Chosen = Vec<(i64, Section)>;
    let mut plan: Vec<(String, Chosen, i64)> = vec![];
    for (device, mut secs) in by_device {
        // A device's files chain by `prev_hlc`; a snapshot (prev 0) comes
        // before the segments that continue it.
        secs.sort_by_key(|s| (s.prev_hlc, s.hlc_to));
        let mut applied = applied_hlc(tx, &device)?;
        let mut chosen = vec![];
        for s in secs {
            if s.hlc_to <= applied {
                continue;
            }
            if s.prev_hlc > applied {
                report.problems.push(format!(
                    "设备 {device} 有较早的文件尚未到达，稍后再同步 / waiting for an earlier file of device {device}"
                ));
                break;
            }
            let before = std::mem::replace(&mut applied, s.hlc_to);
            chosen.push((before, s));
        }
        plan.push((device, chosen, applied));
    }
    let lazy: Vec<segment::Lines> = plan
        .iter()
        .flat_map(|(_, chosen, _)| chosen)
        .filter_map(|(_, s)| s.lines.clone())
        .collect();
    // `move`: on an error the receiver is dropped with the closure, so the
    // parser's next send fails and the scope can end.
    std::thread::scope(move |scope| {
        let (to_merge, parsed) = std::sync::mpsc::sync_channel(8);
        scope.spawn(move || {
            for lines in lazy {
                let mut open = true;
                let done = lines.parse(PARSE_BATCH, |batch| {
                    // The JSON text of each new value, as the log and the
                    // registers store it, is written here rather than by the
                    // merge (0.3 s of a 100k join).
                    let batch: Vec<(Entry, Option<String>)> = batch
                        .into_iter()
                        .map(|e| {
                            let text = e.new.as_ref().map(|v| v.to_string());
                            (e, text)
                        })
                        .collect();
                    open = to_merge.send(Ok(batch)).is_ok();
                    open
                });
                if let Err(bad) = done {
                    let _ = to_merge.send(Err(bad));
                    return;
                }
                if !open {
                    return;
                }
            }
        });
        for (device, chosen, applied) in plan {
            for (before, s) in chosen {
                let mut take = |e: &Entry, text: Option<String>| -> Result<()> {
                    if e.hlc > before {
                        report.received += 1;
                        ap.apply_with_text(&device, e, text)?;
                    }
                    Ok(())
                };
                if s.lines.is_some() {
                    let mut left = s.count;
                    while left > 0 {
                        let batch: Vec<(Entry, Option<String>)> = parsed
                            .recv()
                            .map_err(|_| Bad::Damaged("entries stopped".into()))??;
                        left = left.saturating_sub(batch.len());
                        batch.into_iter().try_for_each(|(e, text)| take(&e, text))?;
                    }
                } else {
                    s.entries
                        .iter()
                        .try_for_each(|e| take(e, e.new.as_ref().map(|v| v.to_string())))?;
                }
                warn_clock_ahead(tx, &device, s.hlc_to, now, report)?;
            }
            tx.execute(
                "INSERT INTO sync_peers(device_id, applied_hlc) VALUES (?1, ?2)
                 ON CONFLICT(device_id) DO UPDATE SET applied_hlc = max(applied_hlc, excluded.applied_hlc)",
                params![device, applied],
            )?;
        }
        Ok(())
    })
}

/// Warn about a device whose clock runs far ahead of this one.
fn warn_clock_ahead(
    tx: &rusqlite::Transaction,
    device: &str,
    hlc: i64,
    now: crate::clock::Millis,
    report: &mut SyncReport,
) -> Result<()> {
    let ahead = hlc_physical(hlc) - now;
    if ahead > CLOCK_SKEW_WARNING_MS {
        let name: Option<String> = tx
            .query_row(
                "SELECT name FROM sync_peers WHERE device_id = ?1",
                [device],
                |r| r.get(0),
            )
            .optional()?
            .flatten();
        let name = name.unwrap_or_else(|| device.to_string());
        let hours = ahead / 3_600_000;
        report.problems.push(format!(
            "设备“{name}”的时钟比本机快约 {hours} 小时，请校准它的日期和时间 / the clock of device “{name}” is about {hours} h ahead of this one: please correct its date and time"
        ));
    }
    Ok(())
}

/// Customers created here whose code an older customer from another device
/// holds get the next free code (a logged change that syncs).
fn renumber(ws: &mut Workspace) -> Result<usize> {
    let me = ws.device_id().to_string();
    let rows: Vec<(String, String)> = ws
        .conn()
        .prepare(
            "SELECT d.entity_id, d.wanted FROM sync_displaced d
             JOIN sync_reg r ON r.entity = 'customer' AND r.entity_id = d.entity_id AND r.field = '*'
             WHERE d.entity = 'customer' AND d.col = 'code' AND r.device = ?1",
        )?
        .query_map([&me], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    if rows.is_empty() {
        return Ok(0);
    }
    ws.write("sync", |w| {
        for (id, wanted) in &rows {
            let code = crate::customers::next_code(w.tx(), w.now())?;
            w.tx().execute(
                "UPDATE customers SET code = ?2 WHERE id = ?1",
                params![id, code],
            )?;
            w.tx().execute(
                "DELETE FROM sync_displaced WHERE entity = 'customer' AND entity_id = ?1",
                [id],
            )?;
            w.log(
                "customer",
                id,
                "code",
                Some(Value::from(wanted.clone())),
                Some(Value::from(code)),
            )?;
            w.reindex(id);
        }
        Ok(rows.len())
    })
}

/// Write every entry this workspace holds (its own and those received) to
/// one file for a USB stick or e-mail. Returns the number of entries.
pub fn export_bundle(ws: &mut Workspace, out: &Path) -> Result<usize> {
    ingest(ws)?;
    let devices: Vec<String> = ws
        .conn()
        .prepare("SELECT DISTINCT device_id FROM changes ORDER BY device_id")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut sections = vec![];
    let mut n = 0;
    for d in devices {
        let entries = entries_of(ws.conn(), &d, 0)?;
        n += entries.len();
        sections.push(section(&d, 0, entries));
    }
    let key = team_key(ws)?;
    let bytes = seal(
        key.as_ref(),
        segment::encode("bundle", ws.device_id(), &sections)?,
    );
    segment::write_atomic(out, &bytes)?;
    Ok(n)
}

/// Merge a bundle written by [`export_bundle`] on another device.
pub fn import_bundle(ws: &mut Workspace, file: &Path) -> Result<SyncReport> {
    import_bundle_with(ws, file, None)
}

/// [`import_bundle`]; an encrypted bundle opens with this device's team key
/// or, on a device outside the team, with the team passphrase.
pub fn import_bundle_with(
    ws: &mut Workspace,
    file: &Path,
    passphrase: Option<&str>,
) -> Result<SyncReport> {
    let bytes = std::fs::read(file)?;
    let mut key = team_key(ws)?;
    if crypt::is_sealed(&bytes) {
        let (params, _) = crypt::params_of(&bytes)?;
        if key.as_ref().is_none_or(|k| k.0.check != params.check) {
            key = match passphrase {
                Some(p) => Some((params.clone(), crypt::derive(&params, p)?)),
                None => return Err(crypt::OpenError::NoKey.into()),
            };
        }
    } else {
        // A plain bundle carried by hand is the user's own choice.
        key = None;
    }
    segment::decode(&unseal(key.as_ref(), &bytes)?)?;
    let mut report = SyncReport::default();
    receive_files_with(ws, &[file.to_path_buf()], key.as_ref(), &mut report)?;
    Ok(report)
}

/// A device seen in the shared place.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct Peer {
    pub device_id: String,
    pub name: Option<String>,
    pub member: Option<String>,
    pub app_version: Option<String>,
    /// Wall time (ms) of the newest change applied from it.
    pub last_change_at: Option<i64>,
    pub last_seen: Option<i64>,
}

#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct Quarantined {
    pub path: String,
    pub reason: String,
}

/// `kehu sync status`.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct SyncStatus {
    pub configured: bool,
    pub folder: Option<String>,
    pub team_id: Option<String>,
    /// "folder", "webdav" or "s3".
    pub transport: Option<String>,
    /// Where the team's files are (a folder path, a WebDAV URL with the
    /// user, an S3 endpoint/bucket); never a password.
    pub location: Option<String>,
    /// Files in the shared place are end-to-end encrypted.
    pub encrypted: bool,
    /// Where this device keeps the team key: "keyring" or "file".
    pub key_store: Option<String>,
    pub device_id: String,
    pub device_name: String,
    /// Local entries not yet sent.
    pub pending: i64,
    pub last_sync_at: Option<i64>,
    pub peers: Vec<Peer>,
    pub open_conflicts: i64,
    pub quarantined: Vec<Quarantined>,
}

pub fn status(ws: &Workspace) -> Result<SyncStatus> {
    let cfg = config(ws.conn())?;
    let conn = ws.conn();
    let exported = meta_i64(conn, "sync_exported_hlc")?;
    let pending: i64 = conn.query_row(
        "SELECT count(*) FROM changes WHERE device_id = ?1 AND hlc > ?2",
        params![ws.device_id(), exported],
        |r| r.get(0),
    )?;
    let peers = conn
        .prepare("SELECT device_id, name, member, app_version, applied_hlc, last_seen FROM sync_peers ORDER BY name, device_id")?
        .query_map([], |r| {
            let h: i64 = r.get(4)?;
            Ok(Peer {
                device_id: r.get(0)?,
                name: r.get(1)?,
                member: r.get(2)?,
                app_version: r.get(3)?,
                last_change_at: (h > 0).then(|| hlc_physical(h)),
                last_seen: r.get(5)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    let quarantined = conn
        .prepare("SELECT path, reason FROM sync_quarantine ORDER BY path")?
        .query_map([], |r| {
            Ok(Quarantined {
                path: r.get(0)?,
                reason: r.get(1)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(SyncStatus {
        configured: cfg.is_some(),
        folder: cfg
            .as_ref()
            .filter(|c| c.target.kind() == "folder")
            .map(|c| c.folder.to_string_lossy().to_string()),
        transport: cfg.as_ref().map(|c| c.target.kind().to_string()),
        location: cfg.as_ref().map(|c| c.target.location()),
        encrypted: cfg.as_ref().is_some_and(|c| c.encrypted),
        key_store: meta(conn, "sync_secret_store")?,
        team_id: cfg.map(|c| c.team_id),
        device_id: ws.device_id().to_string(),
        device_name: device_name(conn)?,
        pending,
        last_sync_at: meta(conn, "sync_last_at")?.and_then(|s| s.parse().ok()),
        peers,
        open_conflicts: conn.query_row(
            "SELECT count(*) FROM conflicts WHERE resolved_at IS NULL",
            [],
            |r| r.get(0),
        )?,
        quarantined,
    })
}

/// Name this device as other devices see it.
pub fn rename_device(ws: &mut Workspace, name: &str) -> Result<()> {
    let name = name.trim();
    if name.is_empty() {
        return Err(Error::validation(
            "name",
            "设备名称不能为空",
            "Device name is required",
        ));
    }
    set_meta(ws.conn(), "device_name", name)?;
    if let Some(cfg) = config(ws.conn())? {
        if let Ok(t) = open_transport(ws, &cfg) {
            let _ = write_device_json(ws, &cfg, t.as_ref());
        }
    }
    Ok(())
}

/// Two values of one field set concurrently on two devices.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct Conflict {
    pub id: i64,
    pub entity: String,
    pub entity_id: String,
    /// The customer the record belongs to (for links and the detail page).
    pub customer_id: Option<String>,
    pub field: String,
    /// The value in effect (the later change).
    #[ts(type = "unknown")]
    pub kept_value: Option<Value>,
    pub kept_device: String,
    pub kept_device_name: Option<String>,
    pub kept_at: i64,
    /// The value it replaced, kept here so nothing is lost.
    #[ts(type = "unknown")]
    pub other_value: Option<Value>,
    pub other_device: String,
    pub other_device_name: Option<String>,
    pub other_at: i64,
    pub resolved_at: Option<i64>,
}

/// Conflicts, newest first (`open_only`: not yet resolved).
pub fn conflicts(conn: &Connection, open_only: bool) -> Result<Vec<Conflict>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT c.id, c.entity, c.entity_id, c.field, c.kept_value, c.kept_hlc, c.kept_device,
            c.other_value, c.other_hlc, c.other_device, c.resolved_at,
            coalesce(pk.name, CASE WHEN c.kept_device = (SELECT value FROM meta WHERE key = 'device_id')
                THEN coalesce((SELECT value FROM meta WHERE key = 'device_name'), '本机 / this device') END),
            coalesce(po.name, CASE WHEN c.other_device = (SELECT value FROM meta WHERE key = 'device_id')
                THEN coalesce((SELECT value FROM meta WHERE key = 'device_name'), '本机 / this device') END),
            CASE c.entity WHEN 'customer' THEN c.entity_id
                WHEN 'contact' THEN (SELECT customer_id FROM contacts WHERE id = c.entity_id)
                WHEN 'customer_tag' THEN substr(c.entity_id, 1, instr(c.entity_id, ':') - 1) END
         FROM conflicts c
         LEFT JOIN sync_peers pk ON pk.device_id = c.kept_device
         LEFT JOIN sync_peers po ON po.device_id = c.other_device
         {} ORDER BY c.id DESC",
        if open_only {
            "WHERE c.resolved_at IS NULL"
        } else {
            ""
        }
    ))?;
    let rows = stmt.query_map([], |r| {
        Ok(Conflict {
            id: r.get(0)?,
            entity: r.get(1)?,
            entity_id: r.get(2)?,
            field: r.get(3)?,
            kept_value: parse(r.get(4)?),
            kept_at: hlc_physical(r.get(5)?),
            kept_device: r.get(6)?,
            other_value: parse(r.get(7)?),
            other_at: hlc_physical(r.get(8)?),
            other_device: r.get(9)?,
            resolved_at: r.get(10)?,
            kept_device_name: r.get(11)?,
            other_device_name: r.get(12)?,
            customer_id: r.get(13)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Resolve a conflict by taking the other value: a new local change that
/// syncs like any edit.
pub fn take(ws: &mut Workspace, id: i64) -> Result<()> {
    let c = conflicts(ws.conn(), false)?
        .into_iter()
        .find(|c| c.id == id)
        .ok_or_else(|| Error::not_found("conflict", id.to_string()))?;
    if c.resolved_at.is_some() {
        return Err(Error::validation(
            "id",
            "这个冲突已经处理过",
            "This conflict is already resolved",
        ));
    }
    let origin = ws.origin.clone();
    ws.write(&origin, |w| {
        let v = c.other_value.clone();
        if c.entity == "customer_tag" {
            let (cid, tid) = c.entity_id.split_once(':').unwrap_or_default();
            if v.is_some() {
                crate::tags::link(w, cid, tid)?;
            } else {
                crate::tags::unlink(w, cid, tid)?;
            }
        } else {
            let spec = apply::spec(&c.entity)
                .filter(|s| {
                    s.cols.iter().any(|(col, _)| *col == c.field)
                        && s.unique.is_none_or(|u| u.0 != c.field)
                })
                .ok_or_else(|| {
                    Error::validation(
                        "id",
                        "这个冲突不能在这里处理",
                        "This conflict cannot be resolved here",
                    )
                })?;
            let old: Option<Value> = w
                .tx()
                .query_row(
                    &format!(
                        "SELECT json_quote({f}) FROM {t} WHERE id = ?1",
                        f = c.field,
                        t = spec.table
                    ),
                    [&c.entity_id],
                    |r| r.get::<_, Option<String>>(0),
                )
                .optional()?
                .flatten()
                .and_then(|s| serde_json::from_str(&s).ok());
            w.tx().execute(
                &format!(
                    "UPDATE {} SET {} = ?2, updated_at = ?3 WHERE id = ?1",
                    spec.table, c.field
                ),
                params![c.entity_id, sql_value(v.as_ref()), w.now()],
            )?;
            let old = match (&old, &v) {
                (Some(Value::Number(n)), Some(Value::Bool(_))) => {
                    Some(Value::Bool(n.as_i64() == Some(1)))
                }
                _ => old,
            };
            w.log(&c.entity, &c.entity_id, &c.field, old, v)?;
        }
        if let Some(cid) = &c.customer_id {
            w.reindex(cid);
        }
        w.tx().execute(
            "UPDATE conflicts SET resolved_at = ?2 WHERE id = ?1",
            params![id, w.now()],
        )?;
        Ok(())
    })
}

fn sql_value(v: Option<&Value>) -> rusqlite::types::Value {
    use rusqlite::types::Value as Sql;
    match v {
        None | Some(Value::Null) => Sql::Null,
        Some(Value::Bool(b)) => Sql::Integer(*b as i64),
        Some(Value::Number(n)) => n
            .as_i64()
            .map(Sql::Integer)
            .unwrap_or(Sql::Real(n.as_f64().unwrap_or(0.0))),
        Some(Value::String(s)) => Sql::Text(s.clone()),
        Some(v) => Sql::Text(v.to_string()),
    }
}

/// Send what is pending and write a snapshot of this device's merge state
/// now (normally one is written every [`snapshot::SNAPSHOT_EVERY`] entries).
pub fn write_snapshot(ws: &mut Workspace) -> Result<Option<String>> {
    let cfg = require_config(ws)?;
    let t = open_transport(ws, &cfg)?;
    send_to(ws, &cfg, t.as_ref())?;
    snapshot::maybe_write(ws, &cfg, t.as_ref(), -1)
}

/// Sync settings of this device: entries between snapshots (0 = never
/// by itself) and days a segment is kept before it may be pruned.
pub fn set_snapshot_settings(
    ws: &Workspace,
    every: Option<i64>,
    retention_days: Option<i64>,
) -> Result<()> {
    if let Some(n) = every {
        set_meta(ws.conn(), "sync_snapshot_every", &n.max(0).to_string())?;
    }
    if let Some(d) = retention_days {
        set_meta(ws.conn(), "sync_retention_days", &d.max(0).to_string())?;
    }
    Ok(())
}
