//! Tags (标签): reusable, coloured labels on customers. Renaming or merging a
//! tag changes every customer carrying it at once; membership changes are
//! logged as entity `customer_tag`, id `<customer_id>:<tag_id>`.

use crate::changelog::Writer;
use crate::db::Workspace;
use crate::error::{Error, Result};
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use serde_json::Value;
use ts_rs::TS;

#[derive(Debug, Clone, Serialize, TS, PartialEq)]
#[ts(export)]
pub struct Tag {
    pub id: String,
    pub name: String,
    pub color: String,
    /// Number of live customers carrying the tag (0 where not counted).
    pub count: i64,
}

/// Colours offered for new tags, picked in turn.
pub const PALETTE: &[&str] = &[
    "#5b8ff9", "#5ad8a6", "#f6bd16", "#e8684a", "#6dc8ec", "#9270ca", "#ff9d4d", "#269a99",
    "#ff99c3", "#5d7092",
];

/// A stable colour for a new tag: the same name gets the same colour on
/// every device.
fn palette_colour(name: &str) -> &'static str {
    let h = name
        .chars()
        .fold(0u32, |h, c| h.wrapping_mul(31).wrapping_add(c as u32));
    PALETTE[h as usize % PALETTE.len()]
}

fn check_name(name: &str) -> Result<String> {
    let n = name.trim();
    if n.is_empty() {
        return Err(Error::validation(
            "tag",
            "标签名称不能为空",
            "Tag name is required",
        ));
    }
    if n.chars().count() > 30 {
        return Err(Error::validation(
            "tag",
            "标签名称不能超过 30 个字",
            "Tag name is longer than 30 characters",
        ));
    }
    Ok(n.to_string())
}

fn check_color(color: &str) -> Result<String> {
    let c = color.trim();
    let ok = c.len() == 7 && c.starts_with('#') && c[1..].chars().all(|ch| ch.is_ascii_hexdigit());
    if ok {
        Ok(c.to_lowercase())
    } else {
        Err(Error::validation(
            "color",
            "颜色格式应为 #RRGGBB",
            "Colour must look like #RRGGBB",
        ))
    }
}

pub fn find_by_name(conn: &Connection, name: &str) -> Result<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT id FROM tags WHERE name = ?1 AND deleted_at IS NULL")?
        .query_row([name.trim()], |r| r.get(0))
        .optional()?)
}

/// A tag by id or name.
pub fn resolve(conn: &Connection, key: &str) -> Result<Tag> {
    conn.query_row(
        "SELECT id, name, color FROM tags WHERE (id = ?1 OR name = ?1) AND deleted_at IS NULL",
        [key.trim()],
        |r| {
            Ok(Tag {
                id: r.get(0)?,
                name: r.get(1)?,
                color: r.get(2)?,
                count: 0,
            })
        },
    )
    .optional()?
    .ok_or_else(|| Error::not_found("tag", key))
}

/// Inside a write: the id of the tag with this name, created if missing.
pub fn get_or_create(w: &mut Writer, name: &str) -> Result<String> {
    let name = check_name(name)?;
    if let Some(id) = find_by_name(w.tx(), &name)? {
        return Ok(id);
    }
    insert(w, &name, palette_colour(&name))
}

fn insert(w: &mut Writer, name: &str, color: &str) -> Result<String> {
    let id = crate::new_id();
    w.tx().execute(
        "INSERT INTO tags(id, name, color, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?4)",
        params![id, name, color, w.now()],
    )?;
    w.log(
        "tag",
        &id,
        "*",
        None,
        Some(serde_json::json!({"name": name, "color": color})),
    )?;
    Ok(id)
}

/// Put a tag on a customer (no-op if already there). Caller reindexes.
pub fn link(w: &mut Writer, customer_id: &str, tag_id: &str) -> Result<bool> {
    let n = w
        .tx()
        .prepare_cached("INSERT OR IGNORE INTO customer_tags(customer_id, tag_id) VALUES (?1, ?2)")?
        .execute(params![customer_id, tag_id])?;
    if n > 0 {
        w.log(
            "customer_tag",
            &format!("{customer_id}:{tag_id}"),
            "linked",
            None,
            Some(Value::Bool(true)),
        )?;
        w.tags_changed(customer_id);
    }
    Ok(n > 0)
}

pub fn unlink(w: &mut Writer, customer_id: &str, tag_id: &str) -> Result<bool> {
    let n = w
        .tx()
        .prepare_cached("DELETE FROM customer_tags WHERE customer_id = ?1 AND tag_id = ?2")?
        .execute(params![customer_id, tag_id])?;
    if n > 0 {
        w.log(
            "customer_tag",
            &format!("{customer_id}:{tag_id}"),
            "linked",
            Some(Value::Bool(true)),
            None,
        )?;
        w.tags_changed(customer_id);
    }
    Ok(n > 0)
}

/// Tags of one customer, by name.
pub fn for_customer(conn: &Connection, customer_id: &str) -> Result<Vec<Tag>> {
    let mut stmt = conn.prepare_cached(
        "SELECT t.id, t.name, t.color FROM customer_tags ct JOIN tags t ON t.id = ct.tag_id
         WHERE ct.customer_id = ?1 AND t.deleted_at IS NULL ORDER BY t.name",
    )?;
    let rows = stmt.query_map([customer_id], |r| {
        Ok(Tag {
            id: r.get(0)?,
            name: r.get(1)?,
            color: r.get(2)?,
            count: 0,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// All tags with the number of live customers carrying each.
pub fn list(conn: &Connection) -> Result<Vec<Tag>> {
    let mut stmt = conn.prepare_cached(
        "SELECT t.id, t.name, t.color,
            (SELECT count(*) FROM customer_tags ct JOIN customers c ON c.id = ct.customer_id
             WHERE ct.tag_id = t.id AND c.deleted_at IS NULL)
         FROM tags t WHERE t.deleted_at IS NULL ORDER BY t.name",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(Tag {
            id: r.get(0)?,
            name: r.get(1)?,
            color: r.get(2)?,
            count: r.get(3)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Create a tag; a name already in use is an error.
pub fn create(ws: &mut Workspace, name: &str, color: Option<&str>) -> Result<Tag> {
    let name = check_name(name)?;
    if find_by_name(ws.conn(), &name)?.is_some() {
        return Err(Error::validation(
            "tag",
            format!("标签“{name}”已存在"),
            format!("Tag “{name}” already exists"),
        ));
    }
    let color = match color {
        Some(c) => check_color(c)?,
        None => palette_colour(&name).to_string(),
    };
    let origin = ws.origin.clone();
    let id = ws.write(&origin, |w| insert(w, &name, &color))?;
    resolve(ws.conn(), &id)
}

fn customers_of(conn: &Connection, tag_id: &str) -> Result<Vec<String>> {
    let mut stmt =
        conn.prepare_cached("SELECT customer_id FROM customer_tags WHERE tag_id = ?1")?;
    let rows = stmt.query_map([tag_id], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Rename and/or recolour a tag.
pub fn edit(
    ws: &mut Workspace,
    key: &str,
    new_name: Option<&str>,
    color: Option<&str>,
) -> Result<Tag> {
    let tag = resolve(ws.conn(), key)?;
    let name = new_name
        .map(check_name)
        .transpose()?
        .unwrap_or(tag.name.clone());
    let color = color
        .map(check_color)
        .transpose()?
        .unwrap_or(tag.color.clone());
    if name != tag.name && find_by_name(ws.conn(), &name)?.is_some() {
        return Err(Error::validation(
            "tag",
            format!("标签“{name}”已存在，可以改用“合并标签”"),
            format!("Tag “{name}” already exists; merge the tags instead"),
        ));
    }
    let origin = ws.origin.clone();
    ws.write(&origin, |w| {
        w.tx().execute(
            "UPDATE tags SET name = ?2, color = ?3, updated_at = ?4 WHERE id = ?1",
            params![tag.id, name, color, w.now()],
        )?;
        w.log(
            "tag",
            &tag.id,
            "name",
            Some(Value::from(tag.name.clone())),
            Some(Value::from(name.clone())),
        )?;
        w.log(
            "tag",
            &tag.id,
            "color",
            Some(Value::from(tag.color.clone())),
            Some(Value::from(color.clone())),
        )?;
        if name != tag.name {
            for c in customers_of(w.tx(), &tag.id)? {
                w.reindex(&c);
            }
        }
        Ok(())
    })?;
    resolve(ws.conn(), &tag.id)
}

/// Merge tag `from` into `into`: every customer with `from` gets `into`,
/// and `from` is deleted.
pub fn merge(ws: &mut Workspace, from: &str, into: &str) -> Result<Tag> {
    let a = resolve(ws.conn(), from)?;
    let b = resolve(ws.conn(), into)?;
    if a.id == b.id {
        return Err(Error::validation(
            "tag",
            "不能把标签合并到它自己",
            "Cannot merge a tag into itself",
        ));
    }
    let origin = ws.origin.clone();
    ws.write(&origin, |w| {
        for c in customers_of(w.tx(), &a.id)? {
            unlink(w, &c, &a.id)?;
            link(w, &c, &b.id)?;
            w.reindex(&c);
        }
        w.tx().execute(
            "UPDATE tags SET deleted_at = ?2 WHERE id = ?1",
            params![a.id, w.now()],
        )?;
        w.log("tag", &a.id, "deleted_at", None, Some(Value::from(w.now())))?;
        w.log(
            "tag",
            &a.id,
            "merged_into",
            None,
            Some(Value::from(b.id.clone())),
        )?;
        Ok(())
    })?;
    let mut t = resolve(ws.conn(), &b.id)?;
    t.count = list(ws.conn())?
        .into_iter()
        .find(|x| x.id == t.id)
        .map(|x| x.count)
        .unwrap_or(0);
    Ok(t)
}

/// Delete a tag and take it off every customer.
pub fn delete(ws: &mut Workspace, key: &str) -> Result<()> {
    let tag = resolve(ws.conn(), key)?;
    let origin = ws.origin.clone();
    ws.write(&origin, |w| {
        for c in customers_of(w.tx(), &tag.id)? {
            unlink(w, &c, &tag.id)?;
            w.reindex(&c);
        }
        w.tx().execute(
            "UPDATE tags SET deleted_at = ?2 WHERE id = ?1",
            params![tag.id, w.now()],
        )?;
        w.log(
            "tag",
            &tag.id,
            "deleted_at",
            None,
            Some(Value::from(w.now())),
        )
    })
}

/// Add (or with `remove`, take off) a tag on many customers at once; the
/// tag is created when adding a new name. Returns how many changed.
pub fn apply_to_customers(
    ws: &mut Workspace,
    tag: &str,
    customers: &[String],
    remove: bool,
) -> Result<usize> {
    let ids = customers
        .iter()
        .map(|k| crate::customers::resolve_id(ws.conn(), k))
        .collect::<Result<Vec<_>>>()?;
    let origin = ws.origin.clone();
    ws.write(&origin, |w| {
        let tag_id = if remove {
            resolve(w.tx(), tag)?.id
        } else {
            match find_by_name(w.tx(), tag)? {
                Some(id) => id,
                None => match resolve(w.tx(), tag) {
                    Ok(t) => t.id,
                    Err(_) => get_or_create(w, tag)?,
                },
            }
        };
        let mut n = 0;
        for id in &ids {
            let changed = if remove {
                unlink(w, id, &tag_id)?
            } else {
                link(w, id, &tag_id)?
            };
            if changed {
                w.tx().execute(
                    "UPDATE customers SET updated_at = ?2 WHERE id = ?1",
                    params![id, w.now()],
                )?;
                w.reindex(id);
                n += 1;
            }
        }
        Ok(n)
    })
}
