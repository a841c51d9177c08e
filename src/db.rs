//! The workspace: one SQLite file, opened with the same settings by every face
//! (desktop, CLI, tests). All writes go through [`Workspace::write`], which
//! runs them in one transaction together with their change-log entries.

use crate::changelog::Writer;
use crate::clock::{Clock, Millis, SystemClock};
use crate::error::{Error, Result};
use crate::i18n::Lang;
use rusqlite::{Connection, OptionalExtension};
use rusqlite_migration::{Migrations, M};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Schema migrations, applied in order, each in its own transaction. The
/// schema version is the number of migrations applied.
const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/0001_core.sql"),
    include_str!("../migrations/0002_followups.sql"),
    include_str!("../migrations/0003_imports.sql"),
    include_str!("../migrations/0004_duplicates.sql"),
    include_str!("../migrations/0005_sync.sql"),
    include_str!("../migrations/0006_analysis.sql"),
    include_str!("../migrations/0007_analysis_speed.sql"),
    include_str!("../migrations/0008_search_bulk.sql"),
    DEDUPE_KEYS,
    include_str!("../migrations/0010_search_merge.sql"),
    include_str!("../migrations/0011_analysis_dashboard.sql"),
    PINYIN_STARTS,
    include_str!("../migrations/0013_search_pending.sql"),
    include_str!("../migrations/0014_search_rank.sql"),
];

/// How long a statement waits for another connection's lock.
const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// Settings of every connection (and restored after a bulk load).
const WORKING_PRAGMAS: &str = "PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;
    PRAGMA temp_store = MEMORY; PRAGMA cache_size = -65536; PRAGMA mmap_size = 268435456;";

const DEDUPE_KEYS: &str = include_str!("../migrations/0009_dedupe_keys.sql");
const PINYIN_STARTS: &str = include_str!("../migrations/0012_pinyin_starts.sql");

fn migrations() -> Migrations<'static> {
    Migrations::new(
        MIGRATIONS
            .iter()
            .map(|&sql| {
                // Keys and search documents are computed in Rust (pinyin),
                // for the customers already there.
                let hook = |work: fn(&rusqlite::Transaction) -> Result<usize>| {
                    M::up_with_hook(sql, move |tx: &rusqlite::Transaction| {
                        work(tx)
                            .map(|_| ())
                            .map_err(|e| rusqlite_migration::HookError::Hook(e.to_string()))
                    })
                };
                match sql {
                    DEDUPE_KEYS => hook(|tx| crate::dedupe::index_all_names(tx)),
                    PINYIN_STARTS => hook(|tx| crate::search::reindex_all(tx)),
                    _ => M::up(sql),
                }
            })
            .collect(),
    )
}

/// The schema version this build writes.
pub fn schema_version() -> i64 {
    MIGRATIONS.len() as i64
}

/// Default database path: `~/.local/share/kehu/kehu.db` on Linux.
pub fn default_db_path() -> PathBuf {
    directories::ProjectDirs::from("", "", "kehu")
        .map(|d| d.data_dir().join("kehu.db"))
        .unwrap_or_else(|| PathBuf::from("kehu.db"))
}

pub struct Workspace {
    conn: Connection,
    path: Option<PathBuf>,
    device_id: String,
    clock: Arc<dyn Clock>,
    /// Language for messages produced by the core (error text, labels).
    pub lang: Lang,
    /// Origin recorded on change-log entries of [`Workspace::write`] callers that do not name one (`ui`, `cli`).
    pub origin: String,
    /// Sort orders of the customer list, reloaded after any change.
    list_index: std::cell::RefCell<crate::list_index::ListIndex>,
    /// The passphrase of a database encrypted at rest (SQLCipher), kept in
    /// memory for backups; None for a plain database.
    key: Option<crate::atrest::Key>,
}

impl Workspace {
    /// Open (creating if needed) the workspace at `path` with the system clock.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        Self::open_with_clock(path, Arc::new(SystemClock))
    }

    ///
    /// A database encrypted at rest opens here too once this process has
    /// unlocked it with [`Workspace::open_encrypted`] (the passphrase is
    /// remembered in memory for that path, so every connection the app or
    /// a background job opens works); otherwise it fails with
    /// [`Error::Passphrase`], never as "damaged".
    pub fn open_with_clock(path: impl AsRef<Path>, clock: Arc<dyn Clock>) -> Result<Self> {
        let path = path.as_ref();
        let key = crate::atrest::remembered(path);
        Self::open_keyed(path, key, clock)
    }

    /// Open a database encrypted at rest with its passphrase (`PRAGMA key`
    /// first thing). A wrong passphrase is [`Error::Passphrase`]. A plain
    /// database refuses a passphrase (encrypt it with
    /// [`crate::atrest::encrypt`]); a new file is created encrypted.
    pub fn open_encrypted(path: impl AsRef<Path>, passphrase: &str) -> Result<Self> {
        Self::open_encrypted_with_clock(path, passphrase, Arc::new(SystemClock))
    }

    pub fn open_encrypted_with_clock(
        path: impl AsRef<Path>,
        passphrase: &str,
        clock: Arc<dyn Clock>,
    ) -> Result<Self> {
        let path = path.as_ref();
        let key = crate::atrest::Key::new(passphrase)?;
        if crate::atrest::is_plain(path) {
            return Err(crate::atrest::not_encrypted());
        }
        let ws = Self::open_keyed(path, Some(key.clone()), clock)?;
        crate::atrest::remember(path, &key);
        Ok(ws)
    }

    fn open_keyed(
        path: &Path,
        key: Option<crate::atrest::Key>,
        clock: Arc<dyn Clock>,
    ) -> Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let conn = Connection::open(path)?;
        if let Some(k) = &key {
            k.apply(&conn, "main")?;
        }
        let encrypted = crate::atrest::is_encrypted(path);
        match Self::init(conn, Some(path.to_path_buf()), clock, key.clone()) {
            Err(e) if encrypted && e.code() == crate::error::Code::Corrupt => {
                Err(Error::Passphrase {
                    wrong: key.is_some(),
                })
            }
            other => other,
        }
    }

    /// A throwaway in-memory workspace (tests, benchmarks of pure logic).
    pub fn open_in_memory(clock: Arc<dyn Clock>) -> Result<Self> {
        Self::init(Connection::open_in_memory()?, None, clock, None)
    }

    /// The passphrase of a database encrypted at rest (None: plain).
    pub(crate) fn key(&self) -> Option<&crate::atrest::Key> {
        self.key.as_ref()
    }

    /// Is this database encrypted at rest?
    pub fn is_encrypted(&self) -> bool {
        self.key.is_some()
    }

    fn init(
        mut conn: Connection,
        path: Option<PathBuf>,
        clock: Arc<dyn Clock>,
        key: Option<crate::atrest::Key>,
    ) -> Result<Self> {
        conn.busy_timeout(BUSY_TIMEOUT)?;
        // One customer write alone runs ~20 distinct cached statements (row,
        // change log, contacts, tags, search and duplicate keys); rusqlite's
        // default cache of 16 made bulk writes re-parse SQL on every row.
        conn.set_prepared_statement_cache_capacity(256);
        // Reading user_version is the first touch of the file: a non-SQLite
        // file fails here with NotADatabase (shown as "damaged"; an
        // encrypted one as "passphrase needed" by the caller).
        let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if found > schema_version() {
            return Err(Error::NewerSchema {
                found,
                supported: schema_version(),
            });
        }
        if path.is_some() {
            let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
            debug_assert!(mode.eq_ignore_ascii_case("wal") || mode.eq_ignore_ascii_case("memory"));
        }
        conn.execute_batch(WORKING_PRAGMAS)?;
        migrations().to_latest(&mut conn)?;
        // Keep the planner's statistics fresh (cheap; a no-op when recent).
        conn.execute_batch("PRAGMA analysis_limit = 400; PRAGMA optimize = 0x10002")?;
        // Keep the per-index row counts (sqlite_stat1) but not the STAT4
        // samples: with samples, SQLite re-plans a statement each time a new
        // value is bound to an indexed column, which cost bulk writes (an
        // import, a sync) a third of their time. `ANALYZE sqlite_schema`
        // reloads the statistics without them.
        let has_stat4: bool = conn.query_row(
            "SELECT EXISTS(SELECT 1 FROM sqlite_schema WHERE name = 'sqlite_stat4')",
            [],
            |r| r.get(0),
        )?;
        if has_stat4 {
            conn.execute_batch("DELETE FROM sqlite_stat4; ANALYZE sqlite_schema;")?;
        }
        let device_id = match conn
            .query_row("SELECT value FROM meta WHERE key = 'device_id'", [], |r| {
                r.get(0)
            })
            .optional()?
        {
            Some(id) => id,
            None => {
                let id = crate::new_id();
                conn.execute(
                    "INSERT INTO meta(key, value) VALUES ('device_id', ?1)",
                    [&id],
                )?;
                id
            }
        };
        Ok(Workspace {
            conn,
            path,
            device_id,
            clock,
            lang: Lang::Zh,
            origin: "ui".into(),
            list_index: Default::default(),
            key,
        })
    }

    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    pub(crate) fn list_index(&self) -> &std::cell::RefCell<crate::list_index::ListIndex> {
        &self.list_index
    }

    pub(crate) fn conn_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }

    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    pub fn device_id(&self) -> &str {
        &self.device_id
    }

    pub fn now_ms(&self) -> Millis {
        self.clock.now_ms()
    }

    pub fn clock(&self) -> Arc<dyn Clock> {
        self.clock.clone()
    }

    /// The team member who is "me" on this device, the actor of changes.
    pub fn me(&self) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row("SELECT value FROM meta WHERE key = 'me'", [], |r| r.get(0))
            .optional()?)
    }

    /// Run `f` in one transaction whose change-log entries carry `origin`.
    /// Nothing is written unless `f` returns Ok and the commit succeeds.
    pub fn write<T>(
        &mut self,
        origin: &str,
        f: impl FnOnce(&mut Writer) -> Result<T>,
    ) -> Result<T> {
        let actor = self.me()?;
        let now = self.clock.now_ms();
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let mut w = Writer::begin(tx, &self.device_id, actor, origin, now)?;
        let out = f(&mut w)?;
        w.commit()?;
        Ok(out)
    }

    /// Run a bulk load of `incoming` rows (customers of demo data or a first
    /// import, change entries of a team joined) with a rollback journal
    /// instead of the WAL when it lands in an (almost) empty workspace and
    /// this is the database's only connection. Pages a load adds past the
    /// end of the file need no journal, while the WAL writes each twice
    /// (log, then checkpoint) and looks each up in its index on every read:
    /// 100k demo customers 11.7 → 9.6 s. Still one transaction: a killed
    /// load leaves a hot journal that the next open rolls back. With another
    /// connection open (the app's window beside an import job) SQLite refuses
    /// the switch at once and the load runs in the WAL as before, so no
    /// reader is locked out for its length.
    pub(crate) fn bulk_load<T>(
        &mut self,
        incoming: usize,
        f: impl FnOnce(&mut Self) -> Result<T>,
    ) -> Result<T> {
        if self.path.is_none() || !DeferredIndexes::pays_off(&self.conn, incoming)? {
            return f(self);
        }
        self.conn.busy_timeout(std::time::Duration::ZERO)?;
        let switched = matches!(
            self.conn
                .query_row("PRAGMA journal_mode = DELETE", [], |r| r.get::<_, String>(0)),
            Ok(mode) if mode.eq_ignore_ascii_case("delete")
        );
        self.conn.busy_timeout(BUSY_TIMEOUT)?;
        if !switched {
            return f(self);
        }
        // The file grows by hundreds of MB: mapped, its pages would count
        // against the import's memory. FULL syncs the journal before the
        // file is overwritten, as the rollback journal needs on power loss.
        self.conn
            .execute_batch("PRAGMA mmap_size = 0; PRAGMA synchronous = FULL;")?;
        let out = f(self);
        // Back to the WAL. Should a connection opened meanwhile hold a lock,
        // the next open sets it instead: the load is committed or rolled
        // back either way, so its outcome is what is reported.
        let _ = self
            .conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get::<_, String>(0));
        let restored = self.conn.execute_batch(WORKING_PRAGMAS);
        let out = out?;
        restored?;
        Ok(out)
    }

    /// Has another connection (the CLI, a sync run) written since the last
    /// call? Cheap: SQLite bumps `data_version` on foreign commits only.
    pub fn data_version(&self) -> Result<i64> {
        Ok(self
            .conn
            .query_row("PRAGMA data_version", [], |r| r.get(0))?)
    }
}

/// The read-side indexes of customers, contacts and the change log (list
/// orders, filters, history, analysis), set aside while a workspace that has
/// (almost) nothing takes a bulk load (a team's data on joining, demo data,
/// a first import): inserting each row into a dozen indexes of unrelated
/// order costs more than building each index once, sorted, at the end (a
/// 100k join: 36 s → 24 s; 100k demo customers: 14.4–15.3 s → 12.3–12.5 s;
/// a 100k-row csv import: about 4 %). The indexes a load itself looks up
/// (unique codes, contacts by customer) stay. Drop and rebuild happen in the
/// load's transaction: a failed or killed load rolls both back.
pub(crate) struct DeferredIndexes(Vec<String>);

impl DeferredIndexes {
    /// Rows from which a load counts as bulk (small loads rebuild small
    /// indexes, so the bar can be low).
    const BULK_ROWS: usize = 2_000;

    /// Set the indexes aside when `incoming` rows will land in a workspace
    /// holding under a tenth as many customers; otherwise keep them.
    pub(crate) fn for_load(conn: &Connection, incoming: usize) -> Result<Option<Self>> {
        if Self::pays_off(conn, incoming)? {
            Ok(Some(Self::set_aside(conn)?))
        } else {
            Ok(None)
        }
    }

    pub(crate) fn pays_off(conn: &Connection, incoming: usize) -> Result<bool> {
        let present: i64 = conn.query_row("SELECT count(*) FROM customers", [], |r| r.get(0))?;
        Ok(incoming >= Self::BULK_ROWS && (present as usize) < incoming / 10)
    }

    const TABLES: &'static str = "'customers', 'contacts', 'changes'";
    const KEEP: &'static str = "'contacts_customer'";

    fn set_aside(conn: &Connection) -> Result<Self> {
        let sql: Vec<(String, String)> = conn
            .prepare(&format!(
                "SELECT name, sql FROM sqlite_schema WHERE type = 'index' AND sql IS NOT NULL
                 AND tbl_name IN ({}) AND name NOT IN ({})
                 AND sql NOT LIKE 'CREATE UNIQUE%'",
                Self::TABLES,
                Self::KEEP
            ))?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        for (name, _) in &sql {
            conn.execute_batch(&format!("DROP INDEX \"{name}\""))?;
        }
        Ok(DeferredIndexes(sql.into_iter().map(|(_, s)| s).collect()))
    }

    /// Build the indexes set aside, calling `between` after each one (a
    /// search index built on the side is handed more customers).
    pub(crate) fn rebuild_with(
        self,
        conn: &Connection,
        mut between: impl FnMut() -> Result<()>,
    ) -> Result<()> {
        for sql in &self.0 {
            conn.execute_batch(sql)?;
            between()?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::FixedClock;

    fn indexes(conn: &Connection) -> Vec<(String, String)> {
        conn.prepare("SELECT name, sql FROM sqlite_schema WHERE type = 'index' AND sql IS NOT NULL ORDER BY name")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap()
    }

    fn pragma(conn: &Connection, name: &str) -> String {
        conn.query_row(&format!("PRAGMA {name}"), [], |r| {
            r.get::<_, rusqlite::types::Value>(0)
        })
        .map(|v| match v {
            rusqlite::types::Value::Text(t) => t,
            rusqlite::types::Value::Integer(i) => i.to_string(),
            other => format!("{other:?}"),
        })
        .unwrap()
    }

    fn meta(conn: &Connection, key: &str) -> Option<String> {
        conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()
            .unwrap()
    }

    #[test]
    fn a_bulk_load_into_an_empty_file_skips_the_wal_and_one_that_fails_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.db");
        let mut ws = Workspace::open_with_clock(&path, Arc::new(FixedClock::new(0))).unwrap();
        let small = ws.bulk_load(10, |ws| Ok(pragma(ws.conn(), "journal_mode")));
        assert_eq!(small.unwrap(), "wal", "a small load is no bulk load");

        let failed: Result<()> = ws.bulk_load(5_000, |ws| {
            assert_eq!(pragma(ws.conn(), "journal_mode"), "delete");
            assert_eq!(pragma(ws.conn(), "mmap_size"), "0");
            ws.write("test", |w| {
                w.tx()
                    .execute("INSERT INTO meta(key, value) VALUES ('loaded', 'half')", [])?;
                Err(Error::validation("x", "失败", "failed"))
            })
        });
        assert!(failed.is_err());
        assert_eq!(meta(ws.conn(), "loaded"), None);
        let settings = ["journal_mode", "mmap_size", "synchronous", "foreign_keys"];
        let restored: Vec<String> = settings.iter().map(|p| pragma(ws.conn(), p)).collect();
        assert_eq!(restored, ["wal", "268435456", "1", "1"]);

        ws.bulk_load(5_000, |ws| {
            ws.write("test", |w| {
                w.tx()
                    .execute("INSERT INTO meta(key, value) VALUES ('loaded', 'all')", [])?;
                Ok(())
            })
        })
        .unwrap();
        assert_eq!(meta(ws.conn(), "loaded").as_deref(), Some("all"));
        assert_eq!(pragma(ws.conn(), "journal_mode"), "wal");

        // Another connection open (the app's window): the load stays in the
        // WAL, and that connection reads on.
        let other = Workspace::open_with_clock(&path, Arc::new(FixedClock::new(0))).unwrap();
        let mode = ws.bulk_load(5_000, |ws| {
            let mode = pragma(ws.conn(), "journal_mode");
            ws.write("test", |w| {
                w.tx()
                    .execute("UPDATE meta SET value = 'again' WHERE key = 'loaded'", [])?;
                Ok(())
            })?;
            Ok(mode)
        });
        assert_eq!(mode.unwrap(), "wal");
        assert_eq!(meta(other.conn(), "loaded").as_deref(), Some("again"));
    }

    #[test]
    fn indexes_set_aside_for_a_load_come_back_the_same_and_a_failed_load_keeps_them() {
        let mut ws = Workspace::open_in_memory(Arc::new(FixedClock::new(0))).unwrap();
        let before = indexes(ws.conn());
        {
            let tx = ws.conn_mut().transaction().unwrap();
            let _set_aside = DeferredIndexes::set_aside(&tx).unwrap();
            let during = indexes(&tx);
            assert!(!during.iter().any(|(n, _)| n == "customers_live_updated"));
            assert!(
                during.iter().any(|(n, _)| n == "contacts_customer"),
                "a load looks contacts up by customer"
            );
            // Dropped without rebuild or commit: the load failed.
        }
        assert_eq!(indexes(ws.conn()), before);
        {
            let tx = ws.conn_mut().transaction().unwrap();
            DeferredIndexes::set_aside(&tx)
                .unwrap()
                .rebuild_with(&tx, || Ok(()))
                .unwrap();
            tx.commit().unwrap();
        }
        assert_eq!(indexes(ws.conn()), before);
    }
}
