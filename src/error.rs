//! One error type for the whole core. Each error carries a stable `code` the
//! UI and CLI branch on, an optional `field` (for messages shown next to an
//! input), and a message in the user's language.

use crate::i18n::Lang;
use serde::Serialize;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Stable codes sent over IPC and in `--json` output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Code {
    Validation,
    NotFound,
    Conflict,
    NewerSchema,
    Locked,
    Corrupt,
    Unwritable,
    DiskFull,
    Io,
    Sync,
    /// The database is encrypted at rest: a passphrase is needed, or the
    /// one given is wrong (the app asks for it; never "damaged").
    Passphrase,
    Internal,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad user input; `field` names the input, the messages are ready to show.
    #[error("{en}")]
    Validation {
        field: String,
        zh: String,
        en: String,
    },
    /// Team sync could not reach or read the shared place; local work goes on.
    #[error("{en}")]
    Sync { zh: String, en: String },
    #[error("{what} not found: {key}")]
    NotFound { what: &'static str, key: String },
    #[error("{en}")]
    Conflict { zh: String, en: String },
    /// An encrypted database: no passphrase given (`wrong` false) or a
    /// wrong one (`wrong` true).
    #[error("{}", if *wrong { "wrong database passphrase" } else { "the database is encrypted: a passphrase is needed" })]
    Passphrase { wrong: bool },
    #[error("database schema version {found} is newer than this Kehu ({supported})")]
    NewerSchema { found: i64, supported: i64 },
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("migration error: {0}")]
    Migration(#[from] rusqlite_migration::Error),
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    #[error("JSON error: {0}")]
    Json(#[from] serde_json::Error),
}

impl Error {
    pub fn validation(field: &str, zh: impl Into<String>, en: impl Into<String>) -> Self {
        Error::Validation {
            field: field.to_string(),
            zh: zh.into(),
            en: en.into(),
        }
    }

    pub fn sync(zh: impl Into<String>, en: impl Into<String>) -> Self {
        Error::Sync {
            zh: zh.into(),
            en: en.into(),
        }
    }

    pub fn not_found(what: &'static str, key: impl Into<String>) -> Self {
        Error::NotFound {
            what,
            key: key.into(),
        }
    }

    pub fn code(&self) -> Code {
        use rusqlite::ErrorCode as E;
        match self {
            Error::Validation { .. } => Code::Validation,
            Error::NotFound { .. } => Code::NotFound,
            Error::Conflict { .. } => Code::Conflict,
            Error::Sync { .. } => Code::Sync,
            Error::NewerSchema { .. } => Code::NewerSchema,
            Error::Passphrase { .. } => Code::Passphrase,
            Error::Sqlite(e)
            | Error::Migration(rusqlite_migration::Error::RusqliteError { err: e, .. }) => {
                match e.sqlite_error_code() {
                    Some(E::DatabaseBusy | E::DatabaseLocked) => Code::Locked,
                    Some(E::DatabaseCorrupt | E::NotADatabase) => Code::Corrupt,
                    Some(E::ReadOnly | E::CannotOpen | E::PermissionDenied) => Code::Unwritable,
                    Some(E::DiskFull) => Code::DiskFull,
                    Some(E::ConstraintViolation) => Code::Conflict,
                    _ => Code::Internal,
                }
            }
            Error::Migration(_) => Code::Internal,
            Error::Io(e) if e.kind() == std::io::ErrorKind::StorageFull => Code::DiskFull,
            Error::Io(e) if e.kind() == std::io::ErrorKind::PermissionDenied => Code::Unwritable,
            Error::Io(_) => Code::Io,
            Error::Json(_) => Code::Internal,
        }
    }

    pub fn field(&self) -> Option<&str> {
        match self {
            Error::Validation { field, .. } => Some(field),
            Error::Passphrase { .. } => Some("passphrase"),
            _ => None,
        }
    }

    /// The message to show a person, in their language.
    pub fn message(&self, lang: Lang) -> String {
        let zh = lang == Lang::Zh;
        match (self, self.code()) {
            (Error::Validation { zh: z, en, .. }, _)
            | (Error::Conflict { zh: z, en }, _)
            | (Error::Sync { zh: z, en }, _) => {
                if zh {
                    z.clone()
                } else {
                    en.clone()
                }
            }
            (Error::NotFound { what, key }, _) => {
                if zh {
                    format!("找不到{}：{}", crate::i18n::entity_zh(what), key)
                } else {
                    format!("{what} not found: {key}")
                }
            }
            (Error::NewerSchema { found, supported }, _) => {
                if zh {
                    format!("这个数据库由更新版本的客户管理软件创建（结构版本 {found}，本程序支持 {supported}），请先升级 Kehu。数据没有被修改。")
                } else {
                    format!("This database was written by a newer Kehu (schema {found}, this build supports {supported}). Please update Kehu; nothing was changed.")
                }
            }
            (Error::Passphrase { wrong: false }, _) => {
                if zh {
                    "这个数据库已加密，请输入数据库口令。".into()
                } else {
                    "This database is encrypted: enter its passphrase.".into()
                }
            }
            (Error::Passphrase { wrong: true }, _) => {
                if zh {
                    "数据库口令不正确，请重新输入（区分大小写）。数据没有被修改。".into()
                } else {
                    "Wrong database passphrase; try again (it is case-sensitive). Nothing was changed.".into()
                }
            }
            (_, Code::Locked) => {
                if zh {
                    "数据库正被另一个程序占用，请稍后重试。".into()
                } else {
                    "The database is locked by another program. Try again in a moment.".into()
                }
            }
            (_, Code::Corrupt) => {
                if zh {
                    "数据库文件已损坏或不是 Kehu 数据库，可以从备份恢复。".into()
                } else {
                    "The database file is damaged or is not a Kehu database. You can restore it from a backup.".into()
                }
            }
            (_, Code::Unwritable) => {
                if zh {
                    "无法写入数据库文件，请检查文件权限和所在磁盘。".into()
                } else {
                    "The database file cannot be written. Check its permissions and disk.".into()
                }
            }
            (_, Code::DiskFull) => {
                if zh {
                    "磁盘已满，本次修改没有保存，已有数据完好。请清理磁盘后重试。".into()
                } else {
                    "The disk is full. This change was not saved; existing data is intact. Free some space and try again.".into()
                }
            }
            (_, Code::Conflict) => {
                if zh {
                    format!("数据冲突：{self}")
                } else {
                    format!("Conflict: {self}")
                }
            }
            _ => {
                if zh {
                    format!("出错了：{self}")
                } else {
                    self.to_string()
                }
            }
        }
    }

    /// What crosses IPC and `--json`: `{code, message, field}`.
    pub fn to_payload(&self, lang: Lang) -> ErrorPayload {
        ErrorPayload {
            code: self.code(),
            message: self.message(lang),
            field: self.field().map(str::to_string),
        }
    }
}

#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct ErrorPayload {
    pub code: Code,
    pub message: String,
    pub field: Option<String>,
}
