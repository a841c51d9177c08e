//! End-to-end encryption of team sync files with a team passphrase.
//!
//! The passphrase becomes a 256-bit key through Argon2id; its salt and cost
//! and a key check value are public and stored in `team.json`, so a wrong
//! passphrase is told apart from a damaged file before anything is read.
//! Every file a device writes to the shared place (segments, bundles,
//! `device.json`) is sealed with XChaCha20-Poly1305:
//!
//! ```text
//! KEHU-SYNC-E 1\n              envelope version
//! <params JSON>\n              team id, KDF salt and cost, key check value
//! <24-byte random nonce>
//! <ciphertext + 16-byte tag>   of the whole plain file
//! ```
//!
//! The first two lines are authenticated as associated data, so a file
//! cannot be moved to another team or have its parameters changed unseen.

use crate::error::{Error, Result};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

const MAGIC: &str = "KEHU-SYNC-E";
/// The envelope version this build writes and the newest it reads.
pub const ENVELOPE: u32 = 1;

/// Public parameters of a team's key: stored in `team.json` and at the top
/// of every sealed file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyParams {
    pub team: String,
    pub kdf: String,
    pub cipher: String,
    /// Hex of the 16-byte random salt.
    pub salt: String,
    pub m_cost: u32,
    pub t_cost: u32,
    pub p_cost: u32,
    /// Hex of the first 16 bytes of SHA-256("kehu-sync key check" ‖ key).
    pub check: String,
}

/// The derived team key (never the passphrase).
#[derive(Clone, PartialEq, Eq)]
pub struct TeamKey(pub [u8; 32]);

impl std::fmt::Debug for TeamKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TeamKey(…)")
    }
}

impl TeamKey {
    pub fn to_hex(&self) -> String {
        hex(&self.0)
    }
    pub fn from_hex(s: &str) -> Option<TeamKey> {
        let v = unhex(s.trim())?;
        Some(TeamKey(v.try_into().ok()?))
    }
    pub fn check_value(&self) -> String {
        let mut h = Sha256::new();
        h.update(b"kehu-sync key check\0");
        h.update(self.0);
        hex(&h.finalize()[..16])
    }
}

pub(crate) fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

pub(crate) fn unhex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

fn kdf(passphrase: &str, salt: &[u8], m: u32, t: u32, p: u32) -> Result<TeamKey> {
    let params = argon2::Params::new(m, t, p, Some(32)).map_err(|e| {
        Error::sync(
            format!("团队加密参数无效：{e}"),
            format!("Invalid team encryption parameters: {e}"),
        )
    })?;
    let a = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let mut out = [0u8; 32];
    a.hash_password_into(passphrase.as_bytes(), salt, &mut out)
        .map_err(|e| {
            Error::sync(
                format!("密钥派生失败：{e}"),
                format!("Key derivation failed: {e}"),
            )
        })?;
    Ok(TeamKey(out))
}

fn short_passphrase() -> Error {
    Error::validation(
        "passphrase",
        "团队口令至少需要 8 个字符",
        "The team passphrase needs at least 8 characters",
    )
}

/// A new key for a new team: random salt, Argon2id with OWASP's
/// recommended cost (19 MiB, 2 passes).
pub fn new_key(team: &str, passphrase: &str) -> Result<(KeyParams, TeamKey)> {
    if passphrase.chars().count() < 8 {
        return Err(short_passphrase());
    }
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let (m, t, p) = (19 * 1024, 2, 1);
    let key = kdf(passphrase, &salt, m, t, p)?;
    Ok((
        KeyParams {
            team: team.to_string(),
            kdf: "argon2id".into(),
            cipher: "xchacha20poly1305".into(),
            salt: hex(&salt),
            m_cost: m,
            t_cost: t,
            p_cost: p,
            check: key.check_value(),
        },
        key,
    ))
}

pub fn wrong_passphrase() -> Error {
    Error::validation(
        "passphrase",
        "团队口令不正确：请向团队中已加入的同事确认口令（区分大小写）",
        "Wrong team passphrase: check it with a colleague already in the team (it is case-sensitive)",
    )
}

/// The key of a team from its passphrase; a wrong passphrase is a clear
/// validation error (the key check value does not match).
pub fn derive(params: &KeyParams, passphrase: &str) -> Result<TeamKey> {
    if params.kdf != "argon2id" || params.cipher != "xchacha20poly1305" {
        return Err(Error::sync(
            "团队使用更新版本 Kehu 的加密方式，请升级 Kehu",
            "The team uses an encryption of a newer Kehu: update Kehu",
        ));
    }
    let salt = unhex(&params.salt).ok_or_else(|| {
        Error::sync(
            "team.json 中的加密参数已损坏",
            "The encryption parameters in team.json are damaged",
        )
    })?;
    let key = kdf(
        passphrase,
        &salt,
        params.m_cost,
        params.t_cost,
        params.p_cost,
    )?;
    if key.check_value() != params.check {
        return Err(wrong_passphrase());
    }
    Ok(key)
}

/// Does this file start like a sealed file?
pub fn is_sealed(bytes: &[u8]) -> bool {
    bytes.starts_with(MAGIC.as_bytes())
}

/// Encrypt the bytes of a whole file.
pub fn seal(params: &KeyParams, key: &TeamKey, plain: &[u8]) -> Vec<u8> {
    let mut out = format!("{MAGIC} {ENVELOPE}\n").into_bytes();
    serde_json::to_writer(&mut out, params).expect("params serialise");
    out.push(b'\n');
    let mut nonce = [0u8; 24];
    rand::rng().fill_bytes(&mut nonce);
    let cipher = XChaCha20Poly1305::new(&key.0.into());
    let ct = cipher
        .encrypt(
            &XNonce::from(nonce),
            Payload {
                msg: plain,
                aad: &out,
            },
        )
        .expect("encryption of an in-memory buffer");
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&ct);
    out
}

/// Why a sealed file could not be opened.
#[derive(Debug, Clone, PartialEq)]
pub enum OpenError {
    /// Sealed by a newer Kehu.
    NewerFormat(u32),
    /// Sealed with another key (another team or passphrase).
    OtherKey,
    /// This device has no key for it.
    NoKey,
    /// Truncated or altered.
    Damaged(String),
}

/// Split a sealed file into its public parameters and the rest.
pub fn params_of(bytes: &[u8]) -> std::result::Result<(KeyParams, usize), OpenError> {
    let bad = |w: &str| OpenError::Damaged(w.to_string());
    let nl = bytes
        .iter()
        .position(|&b| b == b'\n')
        .filter(|&n| n < 32)
        .ok_or_else(|| bad("no envelope header"))?;
    let first = std::str::from_utf8(&bytes[..nl]).map_err(|_| bad("no envelope header"))?;
    let version: u32 = first
        .strip_prefix(MAGIC)
        .map(str::trim)
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| bad("not a sealed Kehu file"))?;
    if version > ENVELOPE {
        return Err(OpenError::NewerFormat(version));
    }
    let rest = &bytes[nl + 1..];
    let pl = rest
        .iter()
        .position(|&b| b == b'\n')
        .ok_or_else(|| bad("no envelope parameters"))?;
    let params: KeyParams =
        serde_json::from_slice(&rest[..pl]).map_err(|e| bad(&format!("envelope: {e}")))?;
    Ok((params, nl + 1 + pl + 1))
}

/// Decrypt a sealed file with `key` (None: this device has none).
pub fn open(key: Option<&TeamKey>, bytes: &[u8]) -> std::result::Result<Vec<u8>, OpenError> {
    let (params, start) = params_of(bytes)?;
    let key = key.ok_or(OpenError::NoKey)?;
    if key.check_value() != params.check {
        return Err(OpenError::OtherKey);
    }
    if bytes.len() < start + 24 + 16 {
        return Err(OpenError::Damaged("truncated".into()));
    }
    let (aad, rest) = bytes.split_at(start);
    let (nonce, ct) = rest.split_at(24);
    let nonce: [u8; 24] = nonce.try_into().expect("24 bytes");
    XChaCha20Poly1305::new(&key.0.into())
        .decrypt(&XNonce::from(nonce), Payload { msg: ct, aad })
        .map_err(|_| OpenError::Damaged("authentication failed (altered or truncated)".into()))
}

impl OpenError {
    pub fn message(&self) -> String {
        match self {
            OpenError::NewerFormat(v) => format!(
                "由更新版本的 Kehu 加密（版本 {v}），请升级 Kehu / encrypted by a newer Kehu (version {v}): update Kehu"
            ),
            OpenError::OtherKey => "用另一个团队口令加密，无法读取 / encrypted with another team passphrase: cannot be read".into(),
            OpenError::NoKey => "文件已加密，本机没有团队密钥：请用团队口令加入（sync join --passphrase-env）/ the file is encrypted and this device has no team key: join with the team passphrase".into(),
            OpenError::Damaged(w) => format!("加密文件损坏或不完整 / damaged or incomplete encrypted file: {w}"),
        }
    }
}

impl From<OpenError> for Error {
    fn from(e: OpenError) -> Self {
        let m = e.message();
        let (zh, en) = m.split_once(" / ").unwrap_or((&m, &m));
        Error::sync(zh.to_string(), en.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_file_opens_with_the_key_and_not_with_another_or_when_altered() {
        let (p, k) = new_key("team", "correct horse").unwrap();
        let sealed = seal(&p, &k, b"KEHU-SYNC 1\nhello");
        assert_eq!(open(Some(&k), &sealed).unwrap(), b"KEHU-SYNC 1\nhello");
        assert_eq!(derive(&p, "correct horse").unwrap(), k);
        assert_eq!(
            derive(&p, "wrong horse").unwrap_err().to_string(),
            wrong_passphrase().to_string()
        );
        let (_, other) = new_key("team", "correct horse").unwrap(); // other salt
        assert_eq!(open(Some(&other), &sealed), Err(OpenError::OtherKey));
        assert_eq!(open(None, &sealed), Err(OpenError::NoKey));
        for i in 0..sealed.len() {
            let mut b = sealed.clone();
            b[i] ^= 0x10;
            assert!(open(Some(&k), &b).is_err(), "flip at {i} undetected");
            assert!(
                open(Some(&k), &sealed[..i]).is_err(),
                "cut at {i} undetected"
            );
        }
    }
}
