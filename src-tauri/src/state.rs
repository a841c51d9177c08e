//! What the app holds while it runs: the open workspace, or — when the
//! database could not be opened — why not, so the UI can show an error view
//! with the path and a way to restore from a backup instead of a blank window.

use kehu::error::{Code, ErrorPayload};
use kehu::{Lang, Workspace};
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};

/// Customers generated on the first start of an empty database, so a new
/// user sees a working CRM. Small enough to keep the first start fast.
const DEMO_CUSTOMERS: usize = 300;
const DEMO_SEED: u64 = 42;

pub struct AppState {
    pub db_path: PathBuf,
    inner: Mutex<Inner>,
}

struct Inner {
    ws: Option<Workspace>,
    /// Why the workspace is not open (both languages, shown on switch).
    open_error: Option<kehu::Error>,
    lang: Lang,
}

/// The database path: `--db PATH`, else `KEHU_DB`, else the OS data dir.
pub fn db_path_from_env() -> PathBuf {
    let mut args = std::env::args_os().skip(1);
    while let Some(a) = args.next() {
        if a == "--db" {
            if let Some(p) = args.next() {
                return PathBuf::from(p);
            }
        } else if let Some(p) = a.to_str().and_then(|s| s.strip_prefix("--db=")) {
            return PathBuf::from(p);
        }
    }
    std::env::var_os("KEHU_DB")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(kehu::db::default_db_path)
}

/// The single-instance id of a database (D-Bus name on Linux): the app's own
/// for the default database, so a second launch focuses the running window;
/// another database gets its own, so two workspaces run side by side (one
/// window each).
pub fn instance_id(db: &std::path::Path) -> String {
    const APP_ID: &str = "app.kehu.desktop";
    let db = db.canonicalize().unwrap_or_else(|_| db.to_path_buf());
    let default = kehu::db::default_db_path();
    if db == default.canonicalize().unwrap_or(default) {
        return APP_ID.to_string();
    }
    // FNV-1a: stable across builds, so every Kehu agrees on the name.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in db.as_os_str().as_encoded_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{APP_ID}.db{h:016x}")
}

/// Open the workspace (with its passphrase when encrypted at rest; once
/// unlocked, the passphrase is remembered for the path); on an empty
/// database, load the demo data.
fn open(path: &std::path::Path, lang: Lang, passphrase: Option<&str>) -> kehu::Result<Workspace> {
    let mut ws = match passphrase {
        Some(p) => Workspace::open_encrypted(path, p)?,
        None => Workspace::open(path)?,
    };
    ws.lang = lang;
    ws.origin = "ui".into();
    let empty: bool = ws.conn().query_row(
        "SELECT NOT EXISTS(SELECT 1 FROM customers) AND NOT EXISTS(SELECT 1 FROM members)",
        [],
        |r| r.get(0),
    )?;
    // KEHU_DEMO_CUSTOMERS overrides the size (0 = start empty).
    let n = std::env::var("KEHU_DEMO_CUSTOMERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEMO_CUSTOMERS);
    if empty && n > 0 {
        kehu::demo::populate(&mut ws, n, DEMO_SEED)?;
    }
    Ok(ws)
}

impl AppState {
    pub fn new(db_path: PathBuf) -> Self {
        let state = AppState {
            db_path,
            inner: Mutex::new(Inner {
                ws: None,
                open_error: None,
                lang: Lang::Zh,
            }),
        };
        state.reopen();
        state
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock must not take the whole app down:
        // the workspace is transactional, so the data is still consistent.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// (Re)open the database, replacing any previous state. True when open.
    pub fn reopen(&self) -> bool {
        self.open_with(None).is_ok()
    }

    /// Open an encrypted database with its passphrase (the start-up
    /// passphrase screen). A wrong one leaves the app locked and says so.
    pub fn unlock(&self, passphrase: &str) -> Result<(), ErrorPayload> {
        self.open_with(Some(passphrase))
    }

    fn open_with(&self, passphrase: Option<&str>) -> Result<(), ErrorPayload> {
        let mut g = self.lock();
        g.ws = None; // close first: a restore replaces the file
        let lang = g.lang;
        match open(&self.db_path, lang, passphrase) {
            Ok(ws) => {
                g.ws = Some(ws);
                g.open_error = None;
                Ok(())
            }
            Err(e) => {
                let payload = e.to_payload(lang);
                g.open_error = Some(e);
                Err(payload)
            }
        }
    }

    /// Is the open database encrypted at rest?
    pub fn encrypted(&self) -> bool {
        self.lock().ws.as_ref().is_some_and(|w| w.is_encrypted())
    }

    /// Close the workspace (before replacing its file).
    pub fn close(&self) {
        self.lock().ws = None;
    }

    pub fn lang(&self) -> Lang {
        self.lock().lang
    }

    pub fn set_lang(&self, lang: Lang) {
        let mut g = self.lock();
        g.lang = lang;
        if let Some(ws) = g.ws.as_mut() {
            ws.lang = lang;
        }
    }

    /// Why the database is not open, in the user's language.
    pub fn open_error(&self) -> Option<ErrorPayload> {
        let g = self.lock();
        g.open_error.as_ref().map(|e| e.to_payload(g.lang))
    }

    /// Run `f` on the open workspace; errors come back as the payload the
    /// UI shows (`{code, message, field}` in the user's language).
    pub fn with<T>(
        &self,
        f: impl FnOnce(&mut Workspace) -> kehu::Result<T>,
    ) -> Result<T, ErrorPayload> {
        let mut g = self.lock();
        let lang = g.lang;
        match g.ws.as_mut() {
            Some(ws) => f(ws).map_err(|e| e.to_payload(lang)),
            None => Err(match &g.open_error {
                Some(e) => e.to_payload(lang),
                None => ErrorPayload {
                    code: Code::Io,
                    message: lang
                        .pick("数据库没有打开", "The database is not open")
                        .into(),
                    field: None,
                },
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_database_starts_with_demo_customers() {
        let dir = tempfile::tempdir().unwrap();
        let state = AppState::new(dir.path().join("kehu.db"));
        assert!(state.open_error().is_none());
        let n: i64 = state
            .with(|ws| {
                Ok(ws
                    .conn()
                    .query_row("SELECT count(*) FROM customers", [], |r| r.get(0))?)
            })
            .unwrap();
        assert!(n > 0);
    }

    #[test]
    fn a_damaged_database_is_reported_in_the_users_language_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("kehu.db");
        std::fs::write(&db, "not a database ".repeat(200)).unwrap();
        let state = AppState::new(db);
        let zh = state.open_error().expect("open fails");
        assert_eq!(zh.code, Code::Corrupt);
        assert!(zh.message.contains("损坏"), "{}", zh.message);
        state.set_lang(Lang::En);
        let en = state.with(|_| Ok(())).unwrap_err();
        assert_eq!(en.code, Code::Corrupt);
        assert!(en.message.contains("damaged"), "{}", en.message);
    }

    #[test]
    fn validation_errors_carry_their_field() {
        let dir = tempfile::tempdir().unwrap();
        let state = AppState::new(dir.path().join("kehu.db"));
        let e = state
            .with(|ws| kehu::customers::create(ws, Default::default()))
            .unwrap_err();
        assert_eq!(e.code, Code::Validation);
        assert_eq!(e.field.as_deref(), Some("name"));
        assert!(e.message.contains("客户名称"), "{}", e.message);
    }
}
