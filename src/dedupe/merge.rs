//! Merging duplicates into one master customer, in one transaction through
//! the change log (origin `merge:<id>`), and undoing it exactly from that
//! log (origin `unmerge:<id>`).

use crate::customers::{self, CustomerFields};
use crate::db::Workspace;
use crate::error::{Error, Result};
use crate::tags;
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use ts_rs::TS;

#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct MergeResult {
    pub merge_id: String,
    pub master_id: String,
    pub merged: Vec<String>,
}

/// Tables (other than contacts and tags) whose rows belong to a customer
/// through a `customer_id` column and move with it: follow-ups,
/// opportunities, and reminders/attachments if a later schema gives them a
/// customer. Alerts are derived by the rules and import rows belong to
/// their import, so they stay. (table, log entity).
fn child_tables(conn: &Connection) -> Result<Vec<(String, String)>> {
    let mut out = vec![];
    for t in ["followups", "opportunities", "reminders", "attachments"] {
        let cols: Vec<String> = conn
            .prepare(&format!("SELECT name FROM pragma_table_info('{t}')"))?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        if cols.iter().any(|c| c == "customer_id") && cols.iter().any(|c| c == "id") {
            out.push((t.to_string(), entity_of(t)));
        }
    }
    Ok(out)
}

fn entity_of(table: &str) -> String {
    if let Some(s) = table.strip_suffix("ies") {
        format!("{s}y")
    } else {
        table.strip_suffix('s').unwrap_or(table).to_string()
    }
}

fn live_ids(ws: &Workspace, keys: &[String]) -> Result<Vec<String>> {
    keys.iter()
        .map(|k| {
            let id = customers::resolve_id(ws.conn(), k)?;
            let deleted: Option<i64> = ws.conn().query_row(
                "SELECT deleted_at FROM customers WHERE id = ?1",
                [&id],
                |r| r.get(0),
            )?;
            if deleted.is_some() {
                return Err(Error::validation(
                    "id",
                    format!("{k} 在回收站中，不能合并"),
                    format!("{k} is in the trash and cannot be merged"),
                ));
            }
            Ok(id)
        })
        .collect()
}

/// Merge `others` into `master`: their contacts, tags and other children
/// (follow-ups, opportunities, … where they exist) move to the master; the
/// master's empty fields are filled from the others, and `field_choices`
/// (field → id or code of the customer whose value wins) override; the
/// others go to the trash pointing to the master. One transaction; undo
/// with [`unmerge`].
pub fn merge(
    ws: &mut Workspace,
    master: &str,
    others: &[String],
    field_choices: &BTreeMap<String, String>,
) -> Result<MergeResult> {
    let master_id = live_ids(ws, &[master.to_string()])?.remove(0);
    let mut other_ids = live_ids(ws, others)?;
    other_ids.dedup();
    other_ids.retain(|o| o != &master_id);
    if other_ids.is_empty() {
        return Err(Error::validation(
            "others",
            "请至少选择一个要合并的重复客户",
            "Choose at least one duplicate to merge",
        ));
    }
    let mut choices: BTreeMap<String, String> = BTreeMap::new();
    for (field, who) in field_choices {
        choices.insert(field.clone(), customers::resolve_id(ws.conn(), who)?);
    }
    let merge_id = crate::new_id();
    let origin = format!("merge:{merge_id}");
    let children = child_tables(ws.conn())?;
    ws.write(&origin, |w| {
        // 1. Fields: the chosen value, else the master's, else the first
        // other's non-empty value.
        let master_c = customers::get(w.tx(), &master_id)?;
        let mut fields: BTreeMap<String, CustomerFields> = BTreeMap::new();
        fields.insert(master_id.clone(), master_c.fields.clone());
        for o in &other_ids {
            fields.insert(o.clone(), customers::get(w.tx(), o)?.fields);
        }
        let as_map = |f: &CustomerFields| -> Result<Map<String, Value>> {
            match serde_json::to_value(f)? {
                Value::Object(m) => Ok(m),
                _ => Ok(Map::new()),
            }
        };
        let master_map = as_map(&master_c.fields)?;
        let mut patch = Map::new();
        for (k, v) in &master_map {
            if let Some(who) = choices.get(k) {
                let Some(f) = fields.get(who) else {
                    return Err(Error::validation(
                        k,
                        format!("“{k}”只能取自参与合并的客户"),
                        format!("{k} can only be taken from a customer in this merge"),
                    ));
                };
                let chosen = as_map(f)?.get(k).cloned().unwrap_or(Value::Null);
                if &chosen != v {
                    patch.insert(k.clone(), chosen);
                }
            } else if v.is_null() {
                for o in &other_ids {
                    let ov = as_map(&fields[o])?.get(k).cloned().unwrap_or(Value::Null);
                    if !ov.is_null() {
                        patch.insert(k.clone(), ov);
                        break;
                    }
                }
            }
        }
        if let Some(k) = choices.keys().find(|k| !master_map.contains_key(*k)) {
            return Err(Error::validation(
                k,
                format!("未知字段：{k}"),
                format!("unknown field: {k}"),
            ));
        }
        if !patch.is_empty() {
            customers::update_in(w, &master_id, &patch)?;
        }
        let master_has_primary: bool = w.tx().query_row(
            "SELECT EXISTS(SELECT 1 FROM contacts WHERE customer_id = ?1 AND is_primary = 1 AND deleted_at IS NULL)",
            [&master_id],
            |r| r.get(0),
        )?;
        for o in &other_ids {
            // 2. Contacts move; the master keeps its primary contact.
            let contacts: Vec<(String, bool)> = w
                .tx()
                .prepare("SELECT id, is_primary FROM contacts WHERE customer_id = ?1 ORDER BY created_at, id")?
                .query_map([o], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<_>>()?;
            for (cid, primary) in contacts {
                w.tx().execute(
                    "UPDATE contacts SET customer_id = ?2 WHERE id = ?1",
                    params![cid, master_id],
                )?;
                w.log("contact", &cid, "customer_id", Some(o.as_str().into()), Some(master_id.as_str().into()))?;
                if primary && master_has_primary {
                    w.tx().execute("UPDATE contacts SET is_primary = 0 WHERE id = ?1", [&cid])?;
                    w.log("contact", &cid, "is_primary", Some(true.into()), Some(false.into()))?;
                }
            }
            // 3. Tags move.
            let tag_ids: Vec<String> = w
                .tx()
                .prepare("SELECT tag_id FROM customer_tags WHERE customer_id = ?1 ORDER BY tag_id")?
                .query_map([o], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            for t in tag_ids {
                tags::link(w, &master_id, &t)?;
                tags::unlink(w, o, &t)?;
            }
            // 4. Follow-ups, opportunities, reminders, attachments …
            for (table, entity) in &children {
                let ids: Vec<String> = w
                    .tx()
                    .prepare(&format!("SELECT id FROM \"{table}\" WHERE customer_id = ?1"))?
                    .query_map([o], |r| r.get(0))?
                    .collect::<rusqlite::Result<_>>()?;
                for id in ids {
                    w.tx().execute(
                        &format!("UPDATE \"{table}\" SET customer_id = ?2 WHERE id = ?1"),
                        params![id, master_id],
                    )?;
                    w.log(entity, &id, "customer_id", Some(o.as_str().into()), Some(master_id.as_str().into()))?;
                }
            }
            // 5. The duplicate becomes a tombstone pointing to the master.
            w.tx().execute(
                "UPDATE customers SET deleted_at = ?2, merged_into = ?3, updated_at = ?2 WHERE id = ?1",
                params![o, w.now(), master_id],
            )?;
            w.log("customer", o, "deleted_at", None, Some(w.now().into()))?;
            w.log("customer", o, "merged_into", None, Some(master_id.as_str().into()))?;
            w.reindex(o);
        }
        // Derived last/next follow-up times follow the moved follow-ups.
        for id in std::iter::once(&master_id).chain(other_ids.iter()) {
            crate::followups::refresh_customer(w, id)?;
        }
        // 6. Remember the merged pairs; record the merge.
        let mut all = vec![master_id.clone()];
        all.extend(other_ids.iter().cloned());
        for (i, x) in all.iter().enumerate() {
            for y in &all[i + 1..] {
                let (a, b) = if x <= y { (x, y) } else { (y, x) };
                let old: Option<String> = w
                    .tx()
                    .query_row(
                        "SELECT decision FROM dedupe_decisions WHERE a = ?1 AND b = ?2",
                        params![a, b],
                        |r| r.get(0),
                    )
                    .optional()?;
                w.tx().execute(
                    "INSERT OR REPLACE INTO dedupe_decisions(a, b, decision, merge_id, at) VALUES (?1, ?2, 'merged', ?3, ?4)",
                    params![a, b, merge_id, w.now()],
                )?;
                w.log(
                    "dedupe_decision",
                    &format!("{a}:{b}"),
                    "decision",
                    old.map(Value::from),
                    Some("merged".into()),
                )?;
            }
        }
        let others_json = serde_json::to_string(&other_ids)?;
        w.tx().execute(
            "INSERT INTO merges(id, master_id, others, at) VALUES (?1, ?2, ?3, ?4)",
            params![merge_id, master_id, others_json, w.now()],
        )?;
        w.log(
            "merge",
            &merge_id,
            "*",
            None,
            Some(serde_json::json!({"master_id": master_id, "others": other_ids})),
        )?;
        w.reindex(&master_id);
        Ok(())
    })?;
    Ok(MergeResult {
        merge_id,
        master_id,
        merged: other_ids,
    })
}

/// (entity, entity_id, field, old, new) of a change-log entry.
type LogEntry = (String, String, String, Option<String>, Option<String>);

fn sql_value(v: &Option<Value>) -> rusqlite::types::Value {
    use rusqlite::types::Value as S;
    match v {
        None | Some(Value::Null) => S::Null,
        Some(Value::Bool(b)) => S::Integer(*b as i64),
        Some(Value::Number(n)) => match n.as_i64() {
            Some(i) => S::Integer(i),
            None => S::Real(n.as_f64().unwrap_or(0.0)),
        },
        Some(Value::String(s)) => S::Text(s.clone()),
        Some(other) => S::Text(other.to_string()),
    }
}

fn parse(v: Option<String>) -> Option<Value> {
    v.and_then(|s| serde_json::from_str(&s).ok())
}

/// Undo a merge: every change it made is reverted from the change log, in
/// reverse order, in one transaction. A field edited again since the merge
/// keeps the later edit.
pub fn unmerge(ws: &mut Workspace, merge_id: &str) -> Result<()> {
    let merge_id = merge_id.trim().to_string();
    let row: Option<(String, Option<i64>)> = ws
        .conn()
        .query_row(
            "SELECT master_id, undone_at FROM merges WHERE id = ?1",
            [&merge_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let Some((master_id, undone)) = row else {
        return Err(Error::not_found("merge", merge_id));
    };
    if undone.is_some() {
        return Err(Error::Conflict {
            zh: "这次合并已经撤销过了".into(),
            en: "This merge has already been undone".into(),
        });
    }
    let entries: Vec<LogEntry> = ws
        .conn()
        .prepare(
            "SELECT entity, entity_id, field, old, new FROM changes WHERE origin = ?1 ORDER BY seq DESC",
        )?
        .query_map([format!("merge:{merge_id}")], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let children: BTreeMap<String, String> = child_tables(ws.conn())?
        .into_iter()
        .map(|(t, e)| (e, t))
        .collect();
    let origin = format!("unmerge:{merge_id}");
    ws.write(&origin, |w| {
        let mut touched: Vec<String> = vec![master_id.clone()];
        let mut field_patch: BTreeMap<String, Map<String, Value>> = BTreeMap::new();
        for (entity, id, field, old, new) in entries {
            let (old, new) = (parse(old), parse(new));
            match (entity.as_str(), field.as_str()) {
                ("customer", "deleted_at") | ("customer", "merged_into") => {
                    let current: Option<Value> = w.tx().query_row(
                        &format!("SELECT json_quote({field}) FROM customers WHERE id = ?1"),
                        [&id],
                        |r| r.get::<_, Option<String>>(0),
                    ).optional()?.flatten().and_then(|s| serde_json::from_str(&s).ok()).filter(|v: &Value| !v.is_null());
                    if current.is_some() {
                        w.tx().execute(
                            &format!("UPDATE customers SET {field} = ?2, updated_at = ?3 WHERE id = ?1"),
                            params![id, sql_value(&old), w.now()],
                        )?;
                        w.log("customer", &id, &field, current, old)?;
                    }
                    touched.push(id);
                }
                ("customer", f) => {
                    // Reverted together through the customer update, so the
                    // change is validated, logged and indexed as any edit.
                    let current = customers::get(w.tx(), &id)?;
                    let cur = serde_json::to_value(&current.fields)?;
                    if cur.get(f) == new.as_ref().or(Some(&Value::Null)) {
                        field_patch
                            .entry(id.clone())
                            .or_default()
                            .insert(f.to_string(), old.unwrap_or(Value::Null));
                    }
                }
                ("contact", f @ ("customer_id" | "is_primary")) => {
                    w.tx().execute(
                        &format!("UPDATE contacts SET {f} = ?2 WHERE id = ?1"),
                        params![id, sql_value(&old)],
                    )?;
                    w.log("contact", &id, f, new, old)?;
                }
                ("customer_tag", "linked") => {
                    let Some((c, t)) = id.split_once(':') else { continue };
                    if old.is_some() {
                        tags::link(w, c, t)?;
                    } else {
                        tags::unlink(w, c, t)?;
                    }
                    touched.push(c.to_string());
                }
                ("dedupe_decision", _) => {
                    let Some((a, b)) = id.split_once(':') else { continue };
                    match &old {
                        Some(Value::String(d)) => {
                            w.tx().execute(
                                "UPDATE dedupe_decisions SET decision = ?3, merge_id = NULL WHERE a = ?1 AND b = ?2",
                                params![a, b, d],
                            )?;
                        }
                        _ => {
                            w.tx().execute(
                                "DELETE FROM dedupe_decisions WHERE a = ?1 AND b = ?2",
                                params![a, b],
                            )?;
                        }
                    }
                    w.log("dedupe_decision", &id, &field, new, old)?;
                }
                ("merge", _) => {
                    w.tx().execute(
                        "UPDATE merges SET undone_at = ?2 WHERE id = ?1",
                        params![id, w.now()],
                    )?;
                    w.log("merge", &id, "undone_at", None, Some(w.now().into()))?;
                }
                (e, "customer_id") => {
                    if let Some(table) = children.get(e) {
                        w.tx().execute(
                            &format!("UPDATE \"{table}\" SET customer_id = ?2 WHERE id = ?1"),
                            params![id, sql_value(&old)],
                        )?;
                        w.log(e, &id, "customer_id", new, old)?;
                    }
                }
                _ => {}
            }
        }
        for (id, patch) in field_patch {
            customers::update_in(w, &id, &patch)?;
        }
        for id in &touched {
            crate::followups::refresh_customer(w, id)?;
        }
        touched.sort();
        touched.dedup();
        for id in &touched {
            w.reindex(id);
        }
        Ok(())
    })
}

/// One merge, for the merge history (newest first).
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct MergeRecord {
    pub id: String,
    pub master_id: String,
    pub master_name: String,
    pub others: Vec<String>,
    /// Names of the merged customers, in the order of `others`.
    pub other_names: Vec<String>,
    pub at: i64,
    pub undone_at: Option<i64>,
}

/// Merges, newest first (the UI offers unmerge on those not undone).
pub fn history(conn: &Connection, limit: usize) -> Result<Vec<MergeRecord>> {
    let mut stmt = conn.prepare(
        "SELECT g.id, g.master_id, coalesce(c.name, ''), g.others, g.at, g.undone_at
         FROM merges g LEFT JOIN customers c ON c.id = g.master_id
         ORDER BY g.at DESC, g.id DESC LIMIT ?1",
    )?;
    let rows = stmt
        .query_map([limit as i64], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, i64>(4)?,
                r.get::<_, Option<i64>>(5)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut name = conn.prepare_cached("SELECT name FROM customers WHERE id = ?1")?;
    let mut out = vec![];
    for (id, master_id, master_name, others, at, undone_at) in rows {
        let others: Vec<String> = serde_json::from_str(&others).unwrap_or_default();
        let other_names = others
            .iter()
            .map(|o| {
                name.query_row([o], |r| r.get::<_, String>(0))
                    .unwrap_or_else(|_| o.clone())
            })
            .collect();
        out.push(MergeRecord {
            id,
            master_id,
            master_name,
            others,
            other_names,
            at,
            undone_at,
        });
    }
    Ok(out)
}
