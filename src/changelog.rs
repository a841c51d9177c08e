//! The change log. Every mutation of an entity appends one entry per changed
//! field, in the same transaction as the mutation, stamped with the device's
//! hybrid logical clock. Customer history, undo and team sync read it.

use crate::clock::{hlc_next, Millis};
use crate::error::Result;
use rusqlite::{params, OptionalExtension, Transaction};
use serde::Serialize;
use serde_json::Value;

/// The write side: a transaction plus who, where and why it writes.
pub struct Writer<'a> {
    tx: Transaction<'a>,
    device_id: String,
    actor_id: Option<String>,
    origin: String,
    now: Millis,
    last_hlc: i64,
    /// Customers whose search document is rebuilt at commit, once each.
    search_dirty: std::collections::BTreeSet<String>,
    /// Customers whose tags changed, with when: their segments are
    /// recomputed at commit, once each.
    tags_changed: std::collections::BTreeMap<String, Millis>,
}

impl<'a> Writer<'a> {
    pub(crate) fn begin(
        tx: Transaction<'a>,
        device_id: &str,
        actor_id: Option<String>,
        origin: &str,
        now: Millis,
    ) -> Result<Self> {
        let last_hlc: i64 = tx
            .query_row("SELECT value FROM meta WHERE key = 'hlc'", [], |r| {
                r.get::<_, String>(0)
            })
            .optional()?
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        Ok(Writer {
            tx,
            device_id: device_id.to_string(),
            actor_id,
            origin: origin.to_string(),
            now,
            last_hlc,
            search_dirty: Default::default(),
            tags_changed: Default::default(),
        })
    }

    /// The transaction, for the entity statements themselves.
    pub fn tx(&self) -> &Transaction<'a> {
        &self.tx
    }

    /// Wall-clock time of this write (one value for the whole transaction).
    pub fn now(&self) -> Millis {
        self.now
    }

    /// Stamp the rest of this write with another wall time (bulk loads of
    /// historical records). The HLC still only moves forward.
    pub fn set_now(&mut self, ms: Millis) {
        self.now = ms;
    }

    pub fn origin(&self) -> &str {
        &self.origin
    }

    pub fn actor_id(&self) -> Option<&str> {
        self.actor_id.as_deref()
    }

    /// Append one field change. `None` means "absent" (before a create,
    /// after a purge). Entries with equal old and new values are skipped.
    pub fn log(
        &mut self,
        entity: &str,
        entity_id: &str,
        field: &str,
        old: Option<Value>,
        new: Option<Value>,
    ) -> Result<()> {
        let old = old.filter(|v| !v.is_null());
        let new = new.filter(|v| !v.is_null());
        if old == new {
            return Ok(());
        }
        self.last_hlc = hlc_next(self.last_hlc, self.now);
        self.tx
            .prepare_cached(
                "INSERT INTO changes(hlc, device_id, actor_id, entity, entity_id, field, old, new, origin, at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )?
            .execute(params![
                self.last_hlc,
                self.device_id,
                self.actor_id,
                entity,
                entity_id,
                field,
                old.map(|v| v.to_string()),
                new.map(|v| v.to_string()),
                self.origin,
                self.now,
            ])?;
        Ok(())
    }

    /// Rebuild this customer's search document when the write commits: a
    /// customer touched many times in one write is indexed once, and a bulk
    /// write indexes in batches (see [`crate::search::index_customers`]).
    pub fn reindex(&mut self, customer_id: &str) {
        if !self.search_dirty.contains(customer_id) {
            self.search_dirty.insert(customer_id.to_string());
        }
    }

    /// Start rebuilding the search documents of the customers touched so
    /// far (see [`crate::search::index_customers_begin`]): a bulk write into
    /// an empty workspace goes on with other work (its deferred indexes)
    /// while their postings are written on other threads.
    pub fn begin_reindex(&mut self) -> Result<crate::search::PendingIndex> {
        let dirty = self.take_search_dirty();
        crate::search::index_customers_begin(&self.tx, &dirty)
    }

    /// A customer's tags changed (see [`crate::analysis::segments::on_tags_changed`]).
    pub fn tags_changed(&mut self, customer_id: &str) {
        self.tags_changed.insert(customer_id.to_string(), self.now);
    }

    /// Customers from which a write counts as bulk for its memory.
    const BULK: usize = 10_000;

    /// The customers whose search documents are to be rebuilt. Before a
    /// bulk write's, what the write itself freed (an import's rows as they
    /// were written) goes back before the search index gathers its own.
    fn take_search_dirty(&mut self) -> Vec<String> {
        let dirty: Vec<String> = std::mem::take(&mut self.search_dirty).into_iter().collect();
        if dirty.len() >= Self::BULK {
            crate::memory::release_freed();
        }
        dirty
    }

    pub(crate) fn commit(mut self) -> Result<()> {
        crate::analysis::segments::on_tags_changed(&self.tx, &self.tags_changed)?;
        let dirty = self.take_search_dirty();
        crate::search::index_customers(&self.tx, &dirty)?;
        self.tx.execute(
            "INSERT INTO meta(key, value) VALUES ('hlc', ?1)
             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [self.last_hlc.to_string()],
        )?;
        self.tx.commit()?;
        Ok(())
    }
}

/// One line of a record's history, for people.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct HistoryEntry {
    pub seq: i64,
    pub at: i64,
    pub actor_id: Option<String>,
    pub actor_name: Option<String>,
    pub entity: String,
    pub entity_id: String,
    pub field: String,
    #[ts(type = "unknown")]
    pub old: Option<Value>,
    #[ts(type = "unknown")]
    pub new: Option<Value>,
    pub origin: String,
}

/// The history of one customer, newest first: its own fields, its
/// contacts and its tags.
pub fn customer_history(
    conn: &rusqlite::Connection,
    customer_id: &str,
    limit: usize,
) -> Result<Vec<HistoryEntry>> {
    let mut stmt = conn.prepare_cached(
        "SELECT c.seq, c.at, c.actor_id, m.name, c.entity, c.entity_id, c.field, c.old, c.new, c.origin
         FROM changes c LEFT JOIN members m ON m.id = c.actor_id
         WHERE (c.entity = 'customer' AND c.entity_id = ?1)
            OR (c.entity = 'contact' AND c.entity_id IN (SELECT id FROM contacts WHERE customer_id = ?1))
            OR (c.entity = 'customer_tag' AND c.entity_id >= ?1 || ':' AND c.entity_id < ?1 || ';')
         ORDER BY c.seq DESC LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![customer_id, limit as i64], |r| {
        let parse = |s: Option<String>| s.and_then(|s| serde_json::from_str(&s).ok());
        Ok(HistoryEntry {
            seq: r.get(0)?,
            at: r.get(1)?,
            actor_id: r.get(2)?,
            actor_name: r.get(3)?,
            entity: r.get(4)?,
            entity_id: r.get(5)?,
            field: r.get(6)?,
            old: parse(r.get(7)?),
            new: parse(r.get(8)?),
            origin: r.get(9)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
