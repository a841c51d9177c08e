//! `kehu db encrypt|decrypt|rekey`: encryption of the database at rest
//! (SQLCipher). Passphrases come from environment variables, never from the
//! command line (it would be in the shell history and the process list).

use crate::output;
use clap::Subcommand;
use kehu::{atrest, Lang, Result};
use std::path::Path;

#[derive(Subcommand)]
pub enum Cmd {
    /// Encrypt a plain database (and its backups) with the passphrase in VAR.
    /// A forgotten passphrase cannot be recovered.
    Encrypt {
        #[arg(long, value_name = "VAR", default_value = "KEHU_NEW_PASSPHRASE")]
        new_passphrase_env: String,
    },
    /// Decrypt an encrypted database (and its backups); the current
    /// passphrase comes from --passphrase-env.
    Decrypt,
    /// Change the passphrase (old from --passphrase-env, new from VAR).
    Rekey {
        #[arg(long, value_name = "VAR", default_value = "KEHU_NEW_PASSPHRASE")]
        new_passphrase_env: String,
    },
    /// Whether the database is encrypted.
    Status,
}

/// The value of the environment variable `var`, or a clear message.
pub fn env_secret(var: &str) -> Result<String> {
    match std::env::var(var) {
        Ok(v) if !v.is_empty() => Ok(v),
        _ => Err(kehu::Error::validation(
            "passphrase",
            format!("环境变量 {var} 中没有口令"),
            format!("No passphrase in the environment variable {var}"),
        )),
    }
}

pub fn run(db: &Path, cmd: Cmd, passphrase: Option<String>, json: bool, lang: Lang) -> Result<()> {
    let current = || {
        passphrase.clone().ok_or_else(|| {
            kehu::Error::validation(
                "passphrase",
                "请用 --passphrase-env 指定当前口令所在的环境变量",
                "Give the current passphrase with --passphrase-env VAR",
            )
        })
    };
    let (done, zh, en) = match cmd {
        Cmd::Status => {
            let encrypted = atrest::is_encrypted(db);
            if json {
                output::json(&serde_json::json!({ "encrypted": encrypted }));
            } else if encrypted {
                println!("{}", lang.pick("数据库已加密", "The database is encrypted"));
            } else {
                println!("{}", lang.pick("数据库未加密", "The database is not encrypted"));
            }
            return Ok(());
        }
        Cmd::Encrypt { new_passphrase_env } => (
            atrest::encrypt(db, &env_secret(&new_passphrase_env)?)?,
            "数据库已加密。请牢记口令：忘记后无法找回数据。",
            "The database is encrypted. Keep the passphrase safe: a forgotten passphrase cannot be recovered.",
        ),
        Cmd::Decrypt => (
            atrest::decrypt(db, &current()?)?,
            "数据库已解密",
            "The database is decrypted",
        ),
        Cmd::Rekey { new_passphrase_env } => (
            atrest::rekey(db, &current()?, &env_secret(&new_passphrase_env)?)?,
            "数据库口令已更换",
            "The database passphrase is changed",
        ),
    };
    if json {
        output::json(&done);
    } else {
        println!("{}", lang.pick(zh, en));
        if done.backups + done.backups_skipped > 0 {
            println!(
                "{}",
                match lang {
                    Lang::Zh => format!(
                        "备份：已转换 {} 个，跳过 {} 个",
                        done.backups, done.backups_skipped
                    ),
                    Lang::En => format!(
                        "Backups: {} converted, {} skipped",
                        done.backups, done.backups_skipped
                    ),
                }
            );
        }
    }
    Ok(())
}
