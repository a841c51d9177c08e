//! Contacts (联系人) of a customer. Phones and emails are validated and stored
//! normalised; a customer has at most one primary contact.

use crate::changelog::Writer;
use crate::db::Workspace;
use crate::error::{Error, Result};
use crate::fields::{apply_patch, clean, log_create, log_diff};
use crate::validate::{normalize_email, normalize_phone};
use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use ts_rs::TS;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, Default)]
#[serde(deny_unknown_fields, default)]
#[ts(export)]
pub struct ContactFields {
    pub name: String,
    /// 职务.
    pub title: Option<String>,
    pub mobile: Option<String>,
    /// Landline (座机).
    pub phone: Option<String>,
    pub email: Option<String>,
    pub wechat: Option<String>,
    pub is_primary: bool,
    pub notes: Option<String>,
}

impl ContactFields {
    pub fn validated(mut self) -> Result<Self> {
        self.name = self.name.trim().to_string();
        if self.name.is_empty() {
            return Err(Error::validation(
                "contact.name",
                "联系人姓名不能为空",
                "Contact name is required",
            ));
        }
        for f in [
            &mut self.title,
            &mut self.mobile,
            &mut self.phone,
            &mut self.email,
            &mut self.wechat,
            &mut self.notes,
        ] {
            *f = clean(f.take());
        }
        if let Some(m) = &self.mobile {
            self.mobile = Some(normalize_phone(m).map_err(|e| rename_field(e, "mobile"))?.0);
        }
        if let Some(p) = &self.phone {
            self.phone = Some(normalize_phone(p).map_err(|e| rename_field(e, "phone"))?.0);
        }
        if let Some(e) = &self.email {
            self.email = Some(normalize_email(e)?);
        }
        Ok(self)
    }
}

fn rename_field(e: Error, field: &str) -> Error {
    match e {
        Error::Validation { zh, en, .. } => Error::Validation {
            field: field.into(),
            zh,
            en,
        },
        e => e,
    }
}

/// Field names of the i-th contact of a new customer: `contacts.0.mobile`.
pub fn prefix_field(e: Error, i: usize) -> Error {
    match e {
        Error::Validation { field, zh, en } => {
            let f = field.trim_start_matches("contact.");
            Error::Validation {
                field: format!("contacts.{i}.{f}"),
                zh,
                en,
            }
        }
        e => e,
    }
}

#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct Contact {
    pub id: String,
    pub customer_id: String,
    #[serde(flatten)]
    pub fields: ContactFields,
    pub created_at: i64,
    pub updated_at: i64,
}

fn from_row(r: &Row) -> rusqlite::Result<Contact> {
    Ok(Contact {
        id: r.get(0)?,
        customer_id: r.get(1)?,
        fields: ContactFields {
            name: r.get(2)?,
            title: r.get(3)?,
            mobile: r.get(4)?,
            phone: r.get(5)?,
            email: r.get(6)?,
            wechat: r.get(7)?,
            is_primary: r.get(8)?,
            notes: r.get(9)?,
        },
        created_at: r.get(10)?,
        updated_at: r.get(11)?,
    })
}

const COLUMNS: &str = "id, customer_id, name, title, mobile, phone, email, wechat, is_primary, notes, created_at, updated_at";

pub fn list_for_customer(conn: &Connection, customer_id: &str) -> Result<Vec<Contact>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM contacts WHERE customer_id = ?1 AND deleted_at IS NULL
         ORDER BY is_primary DESC, created_at, id"
    ))?;
    let rows = stmt.query_map([customer_id], from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub fn get(conn: &Connection, id: &str) -> Result<Contact> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM contacts WHERE id = ?1 AND deleted_at IS NULL"),
        [id],
        from_row,
    )
    .optional()?
    .ok_or_else(|| Error::not_found("contact", id))
}

/// Insert inside an open write; the caller reindexes the customer.
pub fn insert(w: &mut Writer, customer_id: &str, f: ContactFields) -> Result<String> {
    let id = crate::new_id();
    let now = w.now();
    if f.is_primary {
        clear_primary(w, customer_id, None)?;
    }
    w.tx()
        .prepare_cached(
            "INSERT INTO contacts(id, customer_id, name, title, mobile, phone, email, wechat, is_primary, notes, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11)",
        )?
        .execute(params![id, customer_id, f.name, f.title, f.mobile, f.phone, f.email, f.wechat, f.is_primary, f.notes, now])?;
    let mut record = serde_json::to_value(&f)?;
    record["customer_id"] = Value::String(customer_id.to_string());
    log_create(w, "contact", &id, &record)?;
    Ok(id)
}

fn clear_primary(w: &mut Writer, customer_id: &str, except: Option<&str>) -> Result<()> {
    let ids: Vec<String> = w
        .tx()
        .prepare_cached("SELECT id FROM contacts WHERE customer_id = ?1 AND is_primary = 1 AND deleted_at IS NULL")?
        .query_map([customer_id], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    for id in ids.iter().filter(|id| Some(id.as_str()) != except) {
        w.tx().execute(
            "UPDATE contacts SET is_primary = 0, updated_at = ?2 WHERE id = ?1",
            params![id, w.now()],
        )?;
        w.log(
            "contact",
            id,
            "is_primary",
            Some(Value::Bool(true)),
            Some(Value::Bool(false)),
        )?;
    }
    Ok(())
}

/// Add a contact to a customer. The first contact becomes primary.
pub fn add(ws: &mut Workspace, customer: &str, fields: ContactFields) -> Result<Contact> {
    let customer_id = crate::customers::resolve_id(ws.conn(), customer)?;
    let mut f = fields.validated()?;
    let origin = ws.origin.clone();
    let id = ws.write(&origin, |w| {
        let has_any: bool = w.tx().query_row(
            "SELECT EXISTS(SELECT 1 FROM contacts WHERE customer_id = ?1 AND deleted_at IS NULL)",
            [&customer_id],
            |r| r.get(0),
        )?;
        f.is_primary |= !has_any;
        let id = insert(w, &customer_id, f)?;
        touch_customer(w, &customer_id)?;
        Ok(id)
    })?;
    get(ws.conn(), &id)
}

/// Change fields of a contact (same patch rules as customers).
pub fn update(ws: &mut Workspace, id: &str, patch: &Map<String, Value>) -> Result<Contact> {
    let current = get(ws.conn(), id)?;
    let next = apply_patch(&current.fields, patch)?.validated()?;
    let origin = ws.origin.clone();
    ws.write(&origin, |w| {
        if next.is_primary && !current.fields.is_primary {
            clear_primary(w, &current.customer_id, Some(id))?;
        }
        let changed = log_diff(w, "contact", id, &current.fields, &next)?;
        if !changed.is_empty() {
            w.tx().execute(
                "UPDATE contacts SET name = ?2, title = ?3, mobile = ?4, phone = ?5, email = ?6, wechat = ?7,
                    is_primary = ?8, notes = ?9, updated_at = ?10 WHERE id = ?1",
                params![id, next.name, next.title, next.mobile, next.phone, next.email, next.wechat, next.is_primary, next.notes, w.now()],
            )?;
            touch_customer(w, &current.customer_id)?;
        }
        Ok(())
    })?;
    get(ws.conn(), id)
}

/// Remove a contact (soft delete). If it was primary, the oldest remaining
/// contact becomes primary.
pub fn remove(ws: &mut Workspace, id: &str) -> Result<()> {
    let c = get(ws.conn(), id)?;
    let origin = ws.origin.clone();
    ws.write(&origin, |w| {
        w.tx().execute("UPDATE contacts SET deleted_at = ?2, is_primary = 0 WHERE id = ?1", params![id, w.now()])?;
        w.log("contact", id, "deleted_at", None, Some(Value::from(w.now())))?;
        if c.fields.is_primary {
            w.log("contact", id, "is_primary", Some(Value::Bool(true)), Some(Value::Bool(false)))?;
        }
        if c.fields.is_primary {
            let next: Option<String> = w
                .tx()
                .query_row(
                    "SELECT id FROM contacts WHERE customer_id = ?1 AND deleted_at IS NULL ORDER BY created_at, id LIMIT 1",
                    [&c.customer_id],
                    |r| r.get(0),
                )
                .optional()?;
            if let Some(n) = next {
                w.tx().execute("UPDATE contacts SET is_primary = 1 WHERE id = ?1", [&n])?;
                w.log("contact", &n, "is_primary", Some(Value::Bool(false)), Some(Value::Bool(true)))?;
            }
        }
        touch_customer(w, &c.customer_id)
    })
}

/// A contact change is a change of its customer: bump updated_at, reindex.
pub(crate) fn touch_customer(w: &mut Writer, customer_id: &str) -> Result<()> {
    w.tx().execute(
        "UPDATE customers SET updated_at = ?2 WHERE id = ?1",
        params![customer_id, w.now()],
    )?;
    w.reindex(customer_id);
    Ok(())
}
