//! Small helpers shared by the entity modules: trimming optional text,
//! applying a JSON patch onto a typed record, and diffing two records into
//! change-log entries.

use crate::changelog::Writer;
use crate::error::{Error, Result};
use serde::{de::DeserializeOwned, Serialize};
use serde_json::{Map, Value};

/// Trim; empty becomes None.
pub fn clean(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

/// Apply `patch` (field → new value) onto `current`. Unknown fields and
/// values of the wrong type are validation errors naming the field.
pub fn apply_patch<T: Serialize + DeserializeOwned>(
    current: &T,
    patch: &Map<String, Value>,
) -> Result<T> {
    let mut value = serde_json::to_value(current)?;
    let obj = value.as_object_mut().expect("records serialise to objects");
    for (k, v) in patch {
        if !obj.contains_key(k) {
            return Err(Error::validation(
                k,
                format!("未知字段：{k}"),
                format!("unknown field: {k}"),
            ));
        }
        // Empty strings clear optional fields.
        let v = match v {
            Value::String(s) if s.trim().is_empty() => Value::Null,
            v => v.clone(),
        };
        let mut probe = obj.clone();
        probe.insert(k.clone(), v.clone());
        if let Err(e) = serde_json::from_value::<T>(Value::Object(probe)) {
            return Err(Error::validation(
                k,
                format!("“{k}”的值无效：{v}"),
                format!("invalid value for {k}: {v} ({e})"),
            ));
        }
        obj.insert(k.clone(), v);
    }
    Ok(serde_json::from_value(value)?)
}

/// Log every field that differs between `old` and `new`.
pub fn log_diff<T: Serialize>(
    w: &mut Writer,
    entity: &str,
    id: &str,
    old: &T,
    new: &T,
) -> Result<Vec<String>> {
    let (Value::Object(a), Value::Object(b)) =
        (serde_json::to_value(old)?, serde_json::to_value(new)?)
    else {
        return Ok(vec![]);
    };
    let mut changed = vec![];
    for (k, nv) in &b {
        let ov = a.get(k).cloned().unwrap_or(Value::Null);
        if &ov != nv {
            w.log(entity, id, k, Some(ov), Some(nv.clone()))?;
            changed.push(k.clone());
        }
    }
    Ok(changed)
}

/// Log a whole new record as one entry (`field = "*"`): a create is one
/// change, not one per field.
pub fn log_create<T: Serialize>(w: &mut Writer, entity: &str, id: &str, record: &T) -> Result<()> {
    let mut v = serde_json::to_value(record)?;
    if let Value::Object(m) = &mut v {
        m.retain(|_, v| !v.is_null());
    }
    w.log(entity, id, "*", None, Some(v))
}

/// Resolve a full id or an unambiguous id prefix (≥ 4 characters) in
/// `table` (a fixed table name from the caller, never user input).
pub fn resolve_id_prefix(
    conn: &rusqlite::Connection,
    table: &str,
    what: &'static str,
    key: &str,
) -> Result<String> {
    use rusqlite::OptionalExtension;
    let key = key.trim().to_lowercase();
    if let Some(id) = conn
        .prepare_cached(&format!("SELECT id FROM {table} WHERE id = ?1"))?
        .query_row([&key], |r| r.get::<_, String>(0))
        .optional()?
    {
        return Ok(id);
    }
    if key.len() >= 4 {
        let ids: Vec<String> = conn
            .prepare_cached(&format!(
                "SELECT id FROM {table} WHERE id >= ?1 AND id < ?1 || '~' LIMIT 2"
            ))?
            .query_map([&key], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        if let [id] = ids.as_slice() {
            return Ok(id.clone());
        }
    }
    Err(Error::not_found(what, key))
}

/// An owner must be a live team member.
pub fn check_owner(conn: &rusqlite::Connection, owner: &str) -> Result<()> {
    let exists: bool = conn
        .prepare_cached(
            "SELECT EXISTS(SELECT 1 FROM members WHERE id = ?1 AND deleted_at IS NULL)",
        )?
        .query_row([owner], |r| r.get(0))?;
    if exists {
        Ok(())
    } else {
        Err(Error::validation(
            "owner_id",
            "负责人不存在",
            "The owner is not a team member",
        ))
    }
}

/// An amount in yuan must be a finite number ≥ 0.
pub fn check_amount(field: &str, value: Option<f64>, zh: &str, en: &str) -> Result<()> {
    match value {
        Some(x) if !x.is_finite() || x < 0.0 => Err(Error::validation(
            field,
            format!("{zh}必须是不小于 0 的数字"),
            format!("{en} must be a number ≥ 0"),
        )),
        _ => Ok(()),
    }
}

/// A date as people type it (2024/3/1, 2024年3月1日, …) in the stored form
/// YYYY-MM-DD, or a validation error on `field`.
pub fn normalize_date(field: &str, text: &str) -> Result<String> {
    crate::dates::parse_date(text)
        .map(|d| d.format("%Y-%m-%d").to_string())
        .ok_or_else(|| {
            Error::validation(
                field,
                format!("无法识别的日期“{text}”，请用 2024-03-01 这样的格式"),
                format!("“{text}” is not a date; use the form 2024-03-01"),
            )
        })
}
