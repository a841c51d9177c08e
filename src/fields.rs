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
