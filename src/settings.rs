//! Workspace settings: JSON values in the `settings` table, each with a
//! typed default in the module that owns it (pipeline stages, grade cadence,
//! alert thresholds). Writes are logged like any entity (`setting`).

use crate::changelog::Writer;
use crate::error::Result;
use rusqlite::{Connection, OptionalExtension};
use serde::{de::DeserializeOwned, Serialize};

/// The stored value of `key`, or None when unset (or unreadable: a value
/// written by a newer build falls back to the default rather than failing).
pub fn get<T: DeserializeOwned>(conn: &Connection, key: &str) -> Result<Option<T>> {
    let raw: Option<String> = conn
        .query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| {
            r.get(0)
        })
        .optional()?;
    Ok(raw.and_then(|s| serde_json::from_str(&s).ok()))
}

/// Store `value` under `key` inside an open write, logging old → new.
pub fn put<T: Serialize>(w: &mut Writer, key: &str, value: &T) -> Result<()> {
    let new = serde_json::to_value(value)?;
    let old: Option<String> = w
        .tx()
        .query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| {
            r.get(0)
        })
        .optional()?;
    let old = old.and_then(|s| serde_json::from_str::<serde_json::Value>(&s).ok());
    if old.as_ref() == Some(&new) {
        return Ok(());
    }
    w.tx().execute(
        "INSERT INTO settings(key, value) VALUES (?1, ?2)
         ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        rusqlite::params![key, new.to_string()],
    )?;
    w.log("setting", key, "value", old, Some(new))
}
