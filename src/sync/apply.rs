//! Merging entries from other devices into this workspace.
//!
//! Every (entity, id, field) is a last-writer-wins register ordered by
//! `(hlc, device)`; `sync_reg` holds the winning stamp and value of each, so
//! applying the same entries in any order, any number of times, gives the
//! same registers, and the entity tables are a function of the registers.
//! A create (`field = "*"`) is one register holding the whole record; a
//! field's value is its own register when that is newer than the record.
//!
//! Which tables and columns an entity materialises into is data
//! ([`SPECS`]): a new entity kind is one more entry there.

use super::segment::Entry;
use crate::error::Result;
use rusqlite::types::Value as Sql;
use rusqlite::{params, OptionalExtension, Transaction};
use serde_json::Value;
use std::cmp::Ordering;
use std::collections::BTreeSet;

/// How one entity kind is stored.
pub struct Spec {
    pub entity: &'static str,
    pub table: &'static str,
    /// Logged field names that are columns of the same name, with the
    /// value used when a record lacks them (NOT NULL columns).
    pub cols: &'static [(&'static str, Option<&'static str>)],
    /// A column unique in the table (`live`: among rows not in the trash).
    pub unique: Option<(&'static str, bool)>,
    /// Which customer's search document a change touches.
    pub customer: CustomerOf,
    /// Which of `created_at` / `updated_at` the table has.
    pub stamps: Stamps,
}

#[derive(Clone, Copy, PartialEq)]
pub enum Stamps {
    CreatedUpdated,
    Created,
    None,
}

#[derive(Clone, Copy)]
pub enum CustomerOf {
    None,
    Itself,
    Column(&'static str),
    TagsCustomers,
}

pub static SPECS: &[Spec] = &[
    Spec {
        entity: "customer",
        table: "customers",
        cols: &[
            ("code", None),
            ("name", Some("")),
            ("kind", Some("company")),
            ("industry", None),
            ("size", None),
            ("province", None),
            ("city", None),
            ("district", None),
            ("address", None),
            ("source", None),
            ("status", Some("prospect")),
            ("grade", None),
            ("owner_id", None),
            ("needs", None),
            ("budget", None),
            ("purchase_cycle", None),
            ("annual_purchase", None),
            ("first_contact_date", None),
            ("notes", None),
            ("deleted_at", None),
        ],
        unique: Some(("code", false)),
        customer: CustomerOf::Itself,
        stamps: Stamps::CreatedUpdated,
    },
    Spec {
        entity: "contact",
        table: "contacts",
        cols: &[
            ("customer_id", Some("")),
            ("name", Some("")),
            ("title", None),
            ("mobile", None),
            ("phone", None),
            ("email", None),
            ("wechat", None),
            ("is_primary", Some("0")),
            ("notes", None),
            ("deleted_at", None),
        ],
        unique: None,
        customer: CustomerOf::Column("customer_id"),
        stamps: Stamps::CreatedUpdated,
    },
    Spec {
        entity: "tag",
        table: "tags",
        cols: &[
            ("name", Some("")),
            ("color", Some("#5b8ff9")),
            ("deleted_at", None),
        ],
        unique: Some(("name", true)),
        customer: CustomerOf::TagsCustomers,
        stamps: Stamps::CreatedUpdated,
    },
    Spec {
        entity: "member",
        table: "members",
        cols: &[
            ("name", Some("")),
            ("employee_no", None),
            ("department", None),
            ("role", Some("rep")),
            ("deleted_at", None),
        ],
        unique: None,
        customer: CustomerOf::None,
        stamps: Stamps::CreatedUpdated,
    },
    // Follow-ups and the pipeline. Their customer's last/next follow-up
    // dates are derived again after a batch (see `Apply::finish`).
    Spec {
        entity: "followup",
        table: "followups",
        cols: &[
            ("customer_id", Some("")),
            ("opportunity_id", None),
            ("kind", Some("call")),
            ("status", Some("planned")),
            ("owner_id", None),
            ("planned_at", None),
            ("remind_before_min", None),
            ("remind_at", None),
            ("reminder_fired_at", None),
            ("snoozed_until", None),
            ("done_at", None),
            ("purpose", None),
            ("content", None),
            ("feedback", None),
            ("next_step", None),
            ("effective", None),
            ("postpone_reason", None),
            ("cancel_reason", None),
            ("deleted_at", None),
        ],
        unique: None,
        customer: CustomerOf::None,
        stamps: Stamps::CreatedUpdated,
    },
    Spec {
        entity: "followup_postponement",
        table: "followup_postponements",
        cols: &[
            ("followup_id", Some("")),
            ("from_at", None),
            ("to_at", Some("0")),
            ("reason", Some("")),
            ("at", Some("0")),
        ],
        unique: None,
        customer: CustomerOf::None,
        stamps: Stamps::None,
    },
    Spec {
        entity: "opportunity",
        table: "opportunities",
        cols: &[
            ("customer_id", Some("")),
            ("name", Some("")),
            ("owner_id", None),
            ("stage", Some("")),
            ("stage_entered_at", Some("0")),
            ("expected_amount", None),
            ("won_amount", None),
            ("received_amount", None),
            ("expected_close_date", None),
            ("loss_reason", None),
            ("notes", None),
            ("deleted_at", None),
        ],
        unique: None,
        customer: CustomerOf::None,
        stamps: Stamps::CreatedUpdated,
    },
    Spec {
        entity: "opportunity_stage",
        table: "opportunity_stage_history",
        cols: &[
            ("opportunity_id", Some("")),
            ("stage", Some("")),
            ("entered_at", Some("0")),
            ("left_at", None),
            ("reason", None),
        ],
        unique: None,
        customer: CustomerOf::None,
        stamps: Stamps::None,
    },
    Spec {
        entity: "opportunity_payment",
        table: "opportunity_payments",
        cols: &[
            ("opportunity_id", Some("")),
            ("amount", Some("0")),
            ("at", Some("0")),
            ("note", None),
            ("deleted_at", None),
        ],
        unique: None,
        customer: CustomerOf::None,
        stamps: Stamps::Created,
    },
];

/// The entity a record belongs to (its first column, `<parent>_id`, names it).
fn parent_of(entity: &str) -> Option<&'static str> {
    match entity {
        "contact" | "followup" | "opportunity" => Some("customer"),
        "followup_postponement" => Some("followup"),
        "opportunity_stage" | "opportunity_payment" => Some("opportunity"),
        _ => None,
    }
}

/// Columns whose default (for a record that lacks them) is a number.
const NUMERIC_DEFAULTS: &[&str] = &[
    "is_primary",
    "to_at",
    "at",
    "stage_entered_at",
    "entered_at",
    "amount",
];

pub fn spec(entity: &str) -> Option<&'static Spec> {
    SPECS.iter().find(|s| s.entity == entity)
}

/// `(hlc, device)`: the total order of changes.
pub type Stamp = (i64, String);

/// A register's current winner.
#[derive(Debug, Clone)]
pub struct Reg {
    pub stamp: Stamp,
    pub base: Option<Stamp>,
    pub value: Option<Value>,
}

fn parse(s: Option<String>) -> Option<Value> {
    s.and_then(|s| serde_json::from_str(&s).ok())
        .filter(|v: &Value| !v.is_null())
}

pub fn reg(tx: &Transaction, entity: &str, id: &str, field: &str) -> Result<Option<Reg>> {
    Ok(tx
        .prepare_cached(
            "SELECT hlc, device, base_hlc, base_device, value FROM sync_reg
             WHERE entity = ?1 AND entity_id = ?2 AND field = ?3",
        )?
        .query_row(params![entity, id, field], |r| {
            let bh: Option<i64> = r.get(2)?;
            let bd: Option<String> = r.get(3)?;
            Ok(Reg {
                stamp: (r.get(0)?, r.get(1)?),
                base: bh.zip(bd),
                value: parse(r.get(4)?),
            })
        })
        .optional()?)
}

/// The winning value of one field: its own register, or the record of the
/// create when that is newer.
pub fn effective(tx: &Transaction, entity: &str, id: &str, field: &str) -> Result<Option<Reg>> {
    let mut stmt = tx.prepare_cached(
        "SELECT field, hlc, device, base_hlc, base_device, value FROM sync_reg
         WHERE entity = ?1 AND entity_id = ?2 AND field IN (?3, '*')",
    )?;
    let mut rows = stmt.query(params![entity, id, field])?;
    let mut best: Option<Reg> = None;
    while let Some(r) = rows.next()? {
        let f: String = r.get(0)?;
        let value = parse(r.get(5)?);
        let reg = if f == "*" && field != "*" {
            Reg {
                stamp: (r.get(1)?, r.get(2)?),
                base: None,
                value: value
                    .as_ref()
                    .and_then(|v| v.get(field))
                    .cloned()
                    .filter(|v| !v.is_null()),
            }
        } else {
            let bh: Option<i64> = r.get(3)?;
            let bd: Option<String> = r.get(4)?;
            Reg {
                stamp: (r.get(1)?, r.get(2)?),
                base: bh.zip(bd),
                value,
            }
        };
        if best.as_ref().is_none_or(|b| reg.stamp > b.stamp) {
            best = Some(reg);
        }
    }
    Ok(best)
}

/// Every field's winning value of one record (for building its row).
fn effective_all(
    tx: &Transaction,
    entity: &str,
    id: &str,
) -> Result<std::collections::HashMap<String, Value>> {
    let mut stmt = tx.prepare_cached(
        "SELECT field, hlc, device, value FROM sync_reg WHERE entity = ?1 AND entity_id = ?2",
    )?;
    let mut rows = stmt.query(params![entity, id])?;
    let mut star: Option<(Stamp, Option<Value>)> = None;
    let mut fields: Vec<(String, Stamp, Option<Value>)> = vec![];
    while let Some(r) = rows.next()? {
        let f: String = r.get(0)?;
        let stamp: Stamp = (r.get(1)?, r.get(2)?);
        let v = parse(r.get(3)?);
        if f == "*" {
            star = Some((stamp, v));
        } else {
            fields.push((f, stamp, v));
        }
    }
    let mut out = std::collections::HashMap::new();
    let star_stamp = star.as_ref().map(|s| s.0.clone());
    if let Some((_, Some(Value::Object(m)))) = star {
        for (k, v) in m {
            if !v.is_null() {
                out.insert(k, v);
            }
        }
    }
    for (f, stamp, v) in fields {
        if star_stamp.as_ref().is_none_or(|s| stamp > *s) {
            match v {
                Some(v) => out.insert(f, v),
                None => out.remove(&f),
            };
        }
    }
    Ok(out)
}

/// `value`: the entry's new value as stored (JSON text).
fn put_reg(tx: &Transaction, e: &Entry, device: &str, value: Option<&str>) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO sync_reg(entity, entity_id, field, hlc, device, base_hlc, base_device, value, at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
         ON CONFLICT(entity, entity_id, field) DO UPDATE SET hlc = excluded.hlc, device = excluded.device,
            base_hlc = excluded.base_hlc, base_device = excluded.base_device, value = excluded.value, at = excluded.at",
    )?
    .execute(params![
        e.entity,
        e.entity_id,
        e.field,
        e.hlc,
        device,
        e.base_hlc,
        e.base_device,
        value,
        e.at
    ])?;
    Ok(())
}

/// Record this device's own new log entries in the registers, with the
/// stamp each overwrote (its base). Returns how many were taken in.
pub fn ingest_local(tx: &Transaction, me: &str) -> Result<usize> {
    let from: i64 = super::meta_i64(tx, "sync_ingested_seq")?;
    let rows: Vec<(i64, Entry)> = {
        let mut stmt = tx.prepare_cached(
            "SELECT seq, hlc, actor_id, entity, entity_id, field, old, new, at, origin FROM changes
             WHERE seq > ?2 AND +device_id = ?1 ORDER BY seq",
        )?;
        let rows = stmt.query_map(params![me, from], |r| {
            Ok((
                r.get(0)?,
                Entry {
                    hlc: r.get(1)?,
                    actor: r.get(2)?,
                    entity: r.get(3)?,
                    entity_id: r.get(4)?,
                    field: r.get(5)?,
                    old: parse(r.get(6)?),
                    new: parse(r.get(7)?),
                    at: r.get(8)?,
                    origin: r.get(9)?,
                    base_hlc: None,
                    base_device: None,
                },
            ))
        })?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    let mut last = from;
    let n = rows.len();
    for (seq, mut e) in rows {
        let cur = if e.field == "*" {
            reg(tx, &e.entity, &e.entity_id, "*")?
        } else {
            effective(tx, &e.entity, &e.entity_id, &e.field)?
        };
        if let Some(c) = &cur {
            if c.stamp >= (e.hlc, me.to_string()) {
                // Cannot happen with a forward-moving clock; keep the winner.
                last = seq;
                continue;
            }
            e.base_hlc = Some(c.stamp.0);
            e.base_device = Some(c.stamp.1.clone());
        }
        let value = e.new.as_ref().map(|v| v.to_string());
        put_reg(tx, &e, me, value.as_deref())?;
        if e.base_hlc.is_some() {
            tx.prepare_cached("UPDATE changes SET base_hlc = ?2, base_device = ?3 WHERE seq = ?1")?
                .execute(params![seq, e.base_hlc, e.base_device])?;
        }
        last = seq;
    }
    // Everything up to the end of the log has been looked at (the
    // transaction holds the write lock), so the next look starts there and
    // does not wade through entries received from other devices.
    let end: i64 = tx.query_row("SELECT coalesce(max(seq), 0) FROM changes", [], |r| {
        r.get(0)
    })?;
    super::set_meta(tx, "sync_ingested_seq", &end.max(last).to_string())?;
    Ok(n)
}

fn record_hash(entity: &str, id: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::hash::DefaultHasher::new();
    (entity, id).hash(&mut h);
    h.finish()
}

/// Customers whose segments a batch recomputes itself; above, the daily
/// refresh does.
const SEGMENTS_INLINE: usize = 2_000;

/// Applies remote entries inside one transaction.
pub struct Applier<'a, 't> {
    pub tx: &'a Transaction<'t>,
    pub me: String,
    pub now: i64,
    pub applied: usize,
    pub conflicts: usize,
    pub max_hlc: i64,
    customers: BTreeSet<String>,
    /// Customers whose follow-ups changed: their follow-up dates are derived.
    followup_customers: BTreeSet<String>,
    /// Customers whose opportunities changed: their segments are derived.
    deal_customers: BTreeSet<String>,
    tags_renamed: BTreeSet<String>,
    /// The upsert of each entity kind, built once.
    row_sql: std::collections::HashMap<&'static str, String>,
    /// Set when the workspace held no register as the batch began (a device
    /// joining): a record not yet met in this batch then has none, so its
    /// register lookups are skipped. Hashes of (entity, id); a collision
    /// only costs the lookup.
    fresh: Option<std::collections::HashSet<u64>>,
    /// With `fresh`: the customers whose whole record (register "*") this
    /// batch set to a value, so are not purged; their children (contacts,
    /// tags, follow-ups) skip that lookup.
    live_customers: Option<std::collections::HashSet<String>>,
}

fn upsert_sql(spec: &Spec) -> String {
    let names: Vec<&str> = spec.cols.iter().map(|c| c.0).collect();
    let placeholders: Vec<String> = (0..names.len()).map(|i| format!("?{}", i + 3)).collect();
    let updates: Vec<String> = names
        .iter()
        .map(|n| format!("{n} = excluded.{n}"))
        .collect();
    let (stamp_cols, stamp_vals) = match spec.stamps {
        Stamps::CreatedUpdated => ("created_at, updated_at, ", "?2, ?2, "),
        Stamps::Created => ("created_at, ", "?2, "),
        // ?2 must still be used once: bind it to nothing visible.
        Stamps::None => ("", ""),
    };
    format!(
        "INSERT INTO {t}(id, {stamp_cols}{cols}) SELECT ?1, {stamp_vals}{ph} WHERE ?2 IS NOT NULL
         ON CONFLICT(id) DO UPDATE SET {up}",
        t = spec.table,
        cols = names.join(", "),
        ph = placeholders.join(", "),
        up = updates.join(", ")
    )
}

fn to_sql(v: Option<&Value>) -> Sql {
    match v {
        None | Some(Value::Null) => Sql::Null,
        Some(Value::Bool(b)) => Sql::Integer(*b as i64),
        Some(Value::Number(n)) => match n.as_i64() {
            Some(i) => Sql::Integer(i),
            None => Sql::Real(n.as_f64().unwrap_or(0.0)),
        },
        Some(Value::String(s)) => Sql::Text(s.clone()),
        Some(v) => Sql::Text(v.to_string()),
    }
}

fn default_sql(spec_default: Option<&str>, col: &str) -> Sql {
    match spec_default {
        None => Sql::Null,
        Some(d) if NUMERIC_DEFAULTS.contains(&col) => Sql::Integer(d.parse().unwrap_or(0)),
        Some(d) => Sql::Text(d.to_string()),
    }
}

/// The stand-in for a unique value taken by an older row elsewhere.
fn stand_in(entity: &str, wanted: &str, id: &str) -> String {
    let tail: String = id
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    if entity == "tag" {
        format!("{wanted}·{tail}")
    } else {
        format!("{wanted}-{tail}")
    }
}

impl<'a, 't> Applier<'a, 't> {
    pub fn new(tx: &'a Transaction<'t>, me: &str, now: i64) -> Result<Self> {
        let empty: bool = tx.query_row("SELECT NOT EXISTS(SELECT 1 FROM sync_reg)", [], |r| {
            r.get(0)
        })?;
        Ok(Applier {
            tx,
            me: me.to_string(),
            now,
            applied: 0,
            conflicts: 0,
            max_hlc: 0,
            customers: BTreeSet::new(),
            followup_customers: BTreeSet::new(),
            deal_customers: BTreeSet::new(),
            tags_renamed: BTreeSet::new(),
            row_sql: Default::default(),
            fresh: empty.then(Default::default),
            live_customers: empty.then(Default::default),
        })
    }

    /// Whether the record has no register at all, known without a lookup
    /// (see `fresh`). Marks it as met.
    fn unmet(&mut self, entity: &str, id: &str) -> bool {
        let Some(met) = &mut self.fresh else {
            return false;
        };
        met.insert(record_hash(entity, id))
    }

    /// Whether the record was met in this batch of a fresh workspace; when
    /// not, it has no register.
    fn known_absent(&self, entity: &str, id: &str) -> bool {
        self.fresh
            .as_ref()
            .is_some_and(|met| !met.contains(&record_hash(entity, id)))
    }

    /// Apply one entry written by `device`. Returns false for a duplicate.
    pub fn apply(&mut self, device: &str, e: &Entry) -> Result<bool> {
        self.apply_with_text(device, e, e.new.as_ref().map(|v| v.to_string()))
    }

    /// [`Self::apply`], given the JSON text of the entry's new value.
    pub fn apply_with_text(
        &mut self,
        device: &str,
        e: &Entry,
        value: Option<String>,
    ) -> Result<bool> {
        let stamp: Stamp = (e.hlc, device.to_string());
        self.max_hlc = self.max_hlc.max(e.hlc);
        let unmet = self.unmet(&e.entity, &e.entity_id);
        let cur = if unmet {
            None
        } else if e.field == "*" {
            reg(self.tx, &e.entity, &e.entity_id, "*")?
        } else {
            effective(self.tx, &e.entity, &e.entity_id, &e.field)?
        };
        if cur.as_ref().is_some_and(|c| c.stamp == stamp) {
            return Ok(false);
        }
        let new = e.new.as_ref().filter(|v| !v.is_null());
        let wins = cur.as_ref().is_none_or(|c| c.stamp < stamp);
        if e.field != "*" {
            if let Some(c) = &cur {
                self.maybe_conflict(e, &stamp, c, wins)?;
            }
        }
        self.log(device, e, value.as_deref().filter(|v| *v != "null"))?;
        self.applied += 1;
        if !wins {
            return Ok(true);
        }
        put_reg(self.tx, e, device, value.as_deref())?;
        if e.field == "*" && e.entity == "customer" {
            if let Some(live) = &mut self.live_customers {
                match new {
                    Some(_) => live.insert(e.entity_id.clone()),
                    None => live.remove(&e.entity_id),
                };
            }
        }
        if e.field == "*" {
            match new {
                // The record's only register is this one: no need to read
                // the registers back.
                Some(v) => {
                    let only = unmet.then_some(v);
                    self.materialise_row(&e.entity, &e.entity_id, e.at, only)?
                }
                None => self.remove_row(&e.entity, &e.entity_id)?,
            }
        } else {
            self.materialise_field(&e.entity, &e.entity_id, &e.field, new, e.at)?;
        }
        Ok(true)
    }

    /// Two values set without either writer knowing the other: keep both.
    fn maybe_conflict(
        &mut self,
        e: &Entry,
        stamp: &Stamp,
        cur: &Reg,
        remote_wins: bool,
    ) -> Result<()> {
        let new = e.new.clone().filter(|v| !v.is_null());
        if cur.value == new || cur.stamp.1 == stamp.1 {
            return Ok(());
        }
        // Two deletions of one record are not a disagreement.
        if e.field == "deleted_at" && cur.value.is_some() && new.is_some() {
            return Ok(());
        }
        let remote_base = e.base_hlc.zip(e.base_device.clone());
        let concurrent = if remote_wins {
            remote_base.as_ref().is_none_or(|b| *b < cur.stamp)
        } else {
            cur.base.as_ref().is_none_or(|b| b < stamp)
        };
        if !concurrent || (cur.base.is_none() && remote_base.is_none()) {
            return Ok(());
        }
        let (kept, kept_stamp, other, other_stamp) = if remote_wins {
            (&new, stamp, &cur.value, &cur.stamp)
        } else {
            (&cur.value, &cur.stamp, &new, stamp)
        };
        let n = self.tx.prepare_cached(
            "INSERT OR IGNORE INTO conflicts(entity, entity_id, field, kept_value, kept_hlc, kept_device,
                other_value, other_hlc, other_device, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        )?
        .execute(params![
            e.entity,
            e.entity_id,
            e.field,
            kept.as_ref().map(|v| v.to_string()),
            kept_stamp.0,
            kept_stamp.1,
            other.as_ref().map(|v| v.to_string()),
            other_stamp.0,
            other_stamp.1,
            self.now
        ])?;
        self.conflicts += n;
        Ok(())
    }

    /// Append to the local change log so history shows the change.
    fn log(&mut self, device: &str, e: &Entry, new: Option<&str>) -> Result<()> {
        self.tx
            .prepare_cached(
                "INSERT INTO changes(hlc, device_id, actor_id, entity, entity_id, field, old, new, origin, at, base_hlc, base_device)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'sync', ?9, ?10, ?11)",
            )?
            .execute(params![
                e.hlc,
                device,
                e.actor,
                e.entity,
                e.entity_id,
                e.field,
                e.old.as_ref().filter(|v| !v.is_null()).map(|v| v.to_string()),
                new,
                e.at,
                e.base_hlc,
                e.base_device,
            ])?;
        Ok(())
    }

    fn touch(&mut self, spec: &Spec, id: &str) -> Result<()> {
        self.touch_row(spec, id, None)
    }

    /// A column of a record's row: from `row` (the columns just written,
    /// by name) when it has it, else read back.
    fn column(
        &self,
        spec: &Spec,
        id: &str,
        col: &str,
        row: Option<(&[&str], &[Sql])>,
    ) -> Result<Option<String>> {
        if let Some((names, values)) = row {
            if let Some(i) = names.iter().position(|n| *n == col) {
                return Ok(match &values[i] {
                    Sql::Text(s) => Some(s.clone()),
                    _ => None,
                });
            }
        }
        Ok(self
            .tx
            .prepare_cached(&format!("SELECT {col} FROM {} WHERE id = ?1", spec.table))?
            .query_row([id], |r| r.get(0))
            .optional()?
            .flatten())
    }

    /// [`Self::touch`] with the row just written, if the caller has it.
    fn touch_row(&mut self, spec: &Spec, id: &str, row: Option<(&[&str], &[Sql])>) -> Result<()> {
        if matches!(spec.entity, "followup" | "opportunity") {
            let c = self.column(spec, id, "customer_id", row)?;
            if spec.entity == "followup" {
                self.followup_customers.extend(c);
            } else {
                self.deal_customers.extend(c);
            }
        }
        match spec.customer {
            CustomerOf::None => {}
            CustomerOf::Itself => {
                self.customers.insert(id.to_string());
            }
            CustomerOf::Column(col) => {
                let c = self.column(spec, id, col, row)?;
                self.customers.extend(c);
            }
            CustomerOf::TagsCustomers => {
                self.tags_renamed.insert(id.to_string());
            }
        }
        Ok(())
    }

    /// Insert or replace a whole row from the registers (`only`: the
    /// record's value when that is its only register).
    fn materialise_row(
        &mut self,
        entity: &str,
        id: &str,
        at: i64,
        only: Option<&Value>,
    ) -> Result<()> {
        let Some(spec) = spec(entity) else {
            return Ok(());
        };
        let mut values: Vec<Sql> = Vec::with_capacity(spec.cols.len());
        let mut unique_wanted = None;
        let merged;
        let mut all: std::collections::HashMap<&str, &Value> = match only {
            Some(Value::Object(m)) => m
                .iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.as_str(), v))
                .collect(),
            Some(_) => Default::default(),
            None => {
                merged = effective_all(self.tx, entity, id)?;
                merged.iter().map(|(k, v)| (k.as_str(), v)).collect()
            }
        };
        for (col, default) in spec.cols {
            let v = all.remove(*col);
            if spec.unique.is_some_and(|(u, _)| u == *col) {
                unique_wanted = v.as_ref().and_then(|v| v.as_str().map(str::to_string));
            }
            values.push(match v {
                Some(v) => to_sql(Some(v)),
                None => default_sql(*default, col),
            });
        }
        // A record of a purged customer (or of a purged follow-up or
        // opportunity) is not brought back: the purge removed it everywhere.
        if let (Some(parent), Some(Sql::Text(pid))) = (parent_of(entity), values.first()) {
            if self.purged(parent, pid)? {
                return Ok(());
            }
        }
        // A record first made earlier than it was written (demo data, carried
        // over) says so; otherwise it was created when written.
        let created = all
            .remove("created_at")
            .and_then(|v| v.as_i64())
            .unwrap_or(at);
        let names: Vec<&str> = spec.cols.iter().map(|c| c.0).collect();
        // A unique value someone else holds is placed after the row exists
        // (a stand-in first); a free one goes straight in.
        let mut free = false;
        if let Some((ucol, live)) = spec.unique {
            let i = names
                .iter()
                .position(|n| *n == ucol)
                .expect("unique column listed");
            let wanted = unique_wanted.clone().unwrap_or_else(|| id.to_string());
            let taken: bool = self
                .tx
                .prepare_cached(&format!(
                    "SELECT EXISTS(SELECT 1 FROM {} WHERE {ucol} = ?1 AND id != ?2{})",
                    spec.table,
                    if live { " AND deleted_at IS NULL" } else { "" }
                ))?
                .query_row(params![wanted, id], |r| r.get(0))?;
            values[i] = if taken {
                Sql::Text(format!("\u{1}{id}"))
            } else {
                free = true;
                Sql::Text(wanted)
            };
        }
        let sql = self
            .row_sql
            .entry(spec.entity)
            .or_insert_with(|| upsert_sql(spec))
            .clone();
        let mut all: Vec<Sql> = vec![Sql::Text(id.to_string()), Sql::Integer(created)];
        all.extend(values);
        self.tx
            .prepare_cached(&sql)?
            .execute(rusqlite::params_from_iter(&all))?;
        if let Some((ucol, _)) = spec.unique.filter(|_| !free) {
            let wanted = unique_wanted.unwrap_or_else(|| id.to_string());
            self.place_unique(spec, id, ucol, &wanted)?;
        }
        self.touch_row(spec, id, Some((&names, &all[2..])))?;
        Ok(())
    }

    /// Whether a fresh workspace's batch answers, without the registers,
    /// that a record is not gone: it has not met the record (no register
    /// yet), or holds the record of that customer (a customer has no parent).
    fn surely_not_gone(&self, entity: &str, id: &str) -> bool {
        self.known_absent(entity, id)
            || (entity == "customer"
                && self
                    .live_customers
                    .as_ref()
                    .is_some_and(|live| live.contains(id)))
    }

    /// Was this record, or the customer it belongs to, purged?
    fn purged(&self, entity: &str, id: &str) -> Result<bool> {
        if self.surely_not_gone(entity, id) {
            return Ok(false);
        }
        // The parent's id is in `<parent>_id` (customer_id, followup_id, …);
        // only it is read from the record.
        let parent = parent_of(entity);
        let r: Option<(bool, Option<String>)> = self
            .tx
            .prepare_cached(
                "SELECT value IS NULL OR value = 'null', json_extract(value, ?3) FROM sync_reg
                 WHERE entity = ?1 AND entity_id = ?2 AND field = '*'",
            )?
            .query_row(
                params![entity, id, format!("$.{}_id", parent.unwrap_or("-"))],
                |r| Ok((r.get(0)?, r.get(1).ok().flatten())),
            )
            .optional()?;
        match (r, parent) {
            (Some((true, _)), _) => Ok(true),
            (Some((false, Some(pid))), Some(parent)) => self.purged(parent, &pid),
            _ => Ok(false),
        }
    }

    /// Was the whole record removed (its create register holds nothing)?
    fn gone(&self, entity: &str, id: &str) -> Result<bool> {
        if self.surely_not_gone(entity, id) {
            return Ok(false);
        }
        Ok(self
            .tx
            .prepare_cached(
                "SELECT value IS NULL OR value = 'null' FROM sync_reg
                 WHERE entity = ?1 AND entity_id = ?2 AND field = '*'",
            )?
            .query_row(params![entity, id], |r| r.get(0))
            .optional()?
            .unwrap_or(false))
    }

    fn remove_row(&mut self, entity: &str, id: &str) -> Result<()> {
        if entity == "customer" {
            crate::search::unindex_customer(self.tx, id)?;
            // What the foreign keys would cascade locally.
            self.tx.execute(
                "DELETE FROM followup_postponements WHERE followup_id IN (SELECT id FROM followups WHERE customer_id = ?1)",
                [id],
            )?;
            self.tx
                .execute("DELETE FROM followups WHERE customer_id = ?1", [id])?;
            for child in ["opportunity_stage_history", "opportunity_payments"] {
                self.tx.execute(
                    &format!("DELETE FROM {child} WHERE opportunity_id IN (SELECT id FROM opportunities WHERE customer_id = ?1)"),
                    [id],
                )?;
            }
            self.tx
                .execute("DELETE FROM opportunities WHERE customer_id = ?1", [id])?;
            self.tx
                .execute("DELETE FROM contacts WHERE customer_id = ?1", [id])?;
            self.tx
                .execute("DELETE FROM customer_tags WHERE customer_id = ?1", [id])?;
            self.customers.remove(id);
        }
        if entity == "tag" {
            self.touch(spec(entity).expect("tag spec"), id)?;
            self.tx
                .execute("DELETE FROM customer_tags WHERE tag_id = ?1", [id])?;
        }
        if let Some(spec) = spec(entity) {
            self.tx
                .execute(&format!("DELETE FROM {} WHERE id = ?1", spec.table), [id])?;
            self.tx.execute(
                "DELETE FROM sync_displaced WHERE entity = ?1 AND entity_id = ?2",
                params![entity, id],
            )?;
        }
        Ok(())
    }

    fn materialise_field(
        &mut self,
        entity: &str,
        id: &str,
        field: &str,
        v: Option<&Value>,
        at: i64,
    ) -> Result<()> {
        if entity == "customer_tag" && field == "linked" {
            let Some((c, t)) = id.split_once(':') else {
                return Ok(());
            };
            if v.is_some() && !self.gone("customer", c)? && !self.gone("tag", t)? {
                self.tx
                    .prepare_cached(
                        "INSERT OR IGNORE INTO customer_tags(customer_id, tag_id) VALUES (?1, ?2)",
                    )?
                    .execute(params![c, t])?;
            } else {
                self.tx
                    .prepare_cached(
                        "DELETE FROM customer_tags WHERE customer_id = ?1 AND tag_id = ?2",
                    )?
                    .execute(params![c, t])?;
            }
            self.customers.insert(c.to_string());
            return Ok(());
        }
        let Some(spec) = spec(entity) else {
            return Ok(());
        };
        if !spec.cols.iter().any(|(c, _)| *c == field) {
            return Ok(());
        }
        let exists: bool = self
            .tx
            .prepare_cached(&format!(
                "SELECT EXISTS(SELECT 1 FROM {} WHERE id = ?1)",
                spec.table
            ))?
            .query_row([id], |r| r.get(0))?;
        if !exists {
            // The create has not arrived (or the record was purged): the
            // register keeps the value for when it does.
            return Ok(());
        }
        self.touch(spec, id)?;
        match spec.unique {
            Some((ucol, _)) if ucol == field => {
                let wanted = v.and_then(|v| v.as_str()).unwrap_or(id).to_string();
                self.place_unique(spec, id, ucol, &wanted)?;
            }
            Some((ucol, true)) if field == "deleted_at" => {
                // Leaving or entering the trash changes who holds the name.
                let cur: String = self.tx.query_row(
                    &format!("SELECT {ucol} FROM {} WHERE id = ?1", spec.table),
                    [id],
                    |r| r.get(0),
                )?;
                let wanted = effective(self.tx, entity, id, ucol)?
                    .and_then(|r| r.value)
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or(cur);
                if v.is_none() {
                    self.set_col(spec, id, ucol, Sql::Text(format!("\u{1}{id}")))?;
                }
                self.set_col(spec, id, field, to_sql(v))?;
                self.place_unique(spec, id, ucol, &wanted)?;
            }
            _ => self.set_col(spec, id, field, to_sql(v))?,
        }
        if spec.stamps == Stamps::CreatedUpdated {
            self.tx
                .prepare_cached(&format!(
                    "UPDATE {} SET updated_at = max(updated_at, ?2) WHERE id = ?1",
                    spec.table
                ))?
                .execute(params![id, at])?;
        }
        Ok(())
    }

    fn set_col(&self, spec: &Spec, id: &str, col: &str, v: Sql) -> Result<()> {
        self.tx
            .prepare_cached(&format!(
                "UPDATE {} SET {col} = ?2 WHERE id = ?1",
                spec.table
            ))?
            .execute(params![id, v])?;
        Ok(())
    }

    /// Give `id` its wanted unique value unless an older claim holds it;
    /// the younger claim carries a stand-in (and is remembered).
    fn place_unique(&mut self, spec: &Spec, id: &str, col: &str, wanted: &str) -> Result<()> {
        let live_clause = if spec.unique.is_some_and(|u| u.1) {
            " AND deleted_at IS NULL"
        } else {
            ""
        };
        let i_am_live: bool = if live_clause.is_empty() {
            true
        } else {
            self.tx.query_row(
                &format!(
                    "SELECT deleted_at IS NULL FROM {} WHERE id = ?1",
                    spec.table
                ),
                [id],
                |r| r.get(0),
            )?
        };
        let holder: Option<String> = if i_am_live {
            self.tx
                .prepare_cached(&format!(
                    "SELECT id FROM {} WHERE {col} = ?1 AND id != ?2{live_clause}",
                    spec.table
                ))?
                .query_row(params![wanted, id], |r| r.get(0))
                .optional()?
        } else {
            None
        };
        let take = match &holder {
            None => true,
            Some(h) => {
                let mine = effective(self.tx, spec.entity, id, col)?.map(|r| r.stamp);
                let theirs = effective(self.tx, spec.entity, h, col)?.map(|r| r.stamp);
                match (mine, theirs) {
                    (Some(m), Some(t)) => m.cmp(&t) == Ordering::Less,
                    (Some(_), None) => false,
                    (None, _) => false,
                }
            }
        };
        if take {
            if let Some(h) = holder {
                self.set_col(spec, &h, col, Sql::Text(stand_in(spec.entity, wanted, &h)))?;
                self.displace(spec, &h, col, wanted)?;
                self.touch(spec, &h)?;
            }
            self.set_col(spec, id, col, Sql::Text(wanted.to_string()))?;
            self.tx.execute(
                "DELETE FROM sync_displaced WHERE entity = ?1 AND entity_id = ?2 AND col = ?3",
                params![spec.entity, id, col],
            )?;
        } else {
            self.set_col(spec, id, col, Sql::Text(stand_in(spec.entity, wanted, id)))?;
            self.displace(spec, id, col, wanted)?;
        }
        Ok(())
    }

    fn displace(&self, spec: &Spec, id: &str, col: &str, wanted: &str) -> Result<()> {
        self.tx.execute(
            "INSERT INTO sync_displaced(entity, entity_id, col, wanted) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT DO UPDATE SET wanted = excluded.wanted",
            params![spec.entity, id, col, wanted],
        )?;
        Ok(())
    }

    /// Displaced values whose older claim has gone (renamed, renumbered,
    /// deleted) take their value back; repeat until nothing moves.
    fn settle_displaced(&mut self) -> Result<()> {
        for _ in 0..16 {
            let rows: Vec<(String, String, String, String)> = self
                .tx
                .prepare("SELECT entity, entity_id, col, wanted FROM sync_displaced ORDER BY entity, entity_id")?
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
                .collect::<rusqlite::Result<_>>()?;
            let mut moved = false;
            for (entity, id, col, wanted) in rows {
                let Some(spec) = spec(&entity) else { continue };
                let before: Option<String> = self
                    .tx
                    .query_row(
                        &format!("SELECT {col} FROM {} WHERE id = ?1", spec.table),
                        [&id],
                        |r| r.get(0),
                    )
                    .optional()?;
                if before.is_none() {
                    self.tx.execute(
                        "DELETE FROM sync_displaced WHERE entity = ?1 AND entity_id = ?2",
                        params![entity, id],
                    )?;
                    continue;
                }
                self.place_unique(spec, &id, &col, &wanted)?;
                let after: Option<String> = self
                    .tx
                    .query_row(
                        &format!("SELECT {col} FROM {} WHERE id = ?1", spec.table),
                        [&id],
                        |r| r.get(0),
                    )
                    .optional()?;
                moved |= before != after;
            }
            if !moved {
                break;
            }
        }
        Ok(())
    }

    /// After a batch: settle displaced values, and rebuild the search
    /// documents of every touched customer. Those of a big batch may still be
    /// indexing on other threads: finish the returned
    /// [`crate::search::PendingIndex`] before the commit.
    pub fn finish(mut self) -> Result<(usize, usize, i64, crate::search::PendingIndex)> {
        self.settle_displaced()?;
        for t in std::mem::take(&mut self.tags_renamed) {
            let cs: Vec<String> = self
                .tx
                .prepare_cached("SELECT customer_id FROM customer_tags WHERE tag_id = ?1")?
                .query_map([&t], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            self.customers.extend(cs);
        }
        // Segments are derived here, not synced. A batch of many customers
        // (a join) leaves them to the daily refresh, asked for now, rather
        // than recomputing each one (0.16 ms each).
        let mut segments: BTreeSet<&String> = self.customers.iter().collect();
        segments.extend(&self.deal_customers);
        segments.extend(&self.followup_customers);
        let segments_now = segments.len() <= SEGMENTS_INLINE;
        for c in &self.followup_customers {
            crate::followups::refresh_followup_dates(self.tx, c)?;
        }
        if segments_now {
            let now = self.now;
            crate::analysis::segments::recompute_many(
                self.tx,
                segments.into_iter().map(|c| (c, now)),
            )?;
        } else {
            crate::analysis::segments::refresh_due(self.tx)?;
        }
        // A customer that is gone has no document: index_customers removes it.
        let touched: Vec<String> = std::mem::take(&mut self.customers).into_iter().collect();
        let search = crate::search::index_customers_begin(self.tx, &touched)?;
        Ok((self.applied, self.conflicts, self.max_hlc, search))
    }
}
