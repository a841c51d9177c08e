//! The customer list: filter, search, sort and page. One page is one query
//! plus a count, so it stays fast at 100k customers.

use crate::analysis::keywords::TextField;
use crate::analysis::Filter;
use crate::customers::{Grade, Status};
use crate::db::Workspace;
use crate::error::Result;
use crate::list_index::ListIndex;
use crate::tags::Tag;
use rusqlite::types::Value as SqlValue;
use rusqlite::Connection;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS, Default)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum SortKey {
    /// Search rank when there is a query, else most recently updated.
    #[default]
    Relevance,
    Name,
    Code,
    Updated,
    Created,
    LastFollowup,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, Default)]
#[serde(default)]
#[ts(export)]
pub struct CustomerQuery {
    /// Free text: name, code, contacts, phones, tags, notes, pinyin.
    pub text: Option<String>,
    pub status: Vec<Status>,
    pub grade: Vec<Grade>,
    /// Tag id or name.
    pub tag: Option<String>,
    /// Member id, or "none" for unassigned.
    pub owner: Option<String>,
    pub industry: Option<String>,
    pub province: Option<String>,
    pub city: Option<String>,
    /// Segment key (客户画像): high_value | potential | churn_risk.
    pub segment: Option<String>,
    /// 线索来源, exactly; "未填写" / "Not given" = not set (as the source
    /// breakdown names it).
    pub source: Option<String>,
    /// Customers behind a loss-reason bar: with an opportunity created in
    /// the period (of the owner) that is lost now for that reason.
    pub lost: Option<LostDeals>,
    /// Customers behind a word of the keyword cloud: with a follow-up done
    /// in the period (of the owner) whose text holds that keyword.
    pub followup_word: Option<FollowupWord>,
    pub created_from: Option<i64>,
    pub created_to: Option<i64>,
    pub updated_from: Option<i64>,
    pub updated_to: Option<i64>,
    /// List the trash instead of live customers.
    pub trash: bool,
    pub sort: SortKey,
    pub desc: bool,
    pub offset: u32,
    /// Page size; 0 means 200.
    pub limit: u32,
}

/// A drill-down from the loss reasons (see [`CustomerQuery::lost`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, Default)]
#[serde(default)]
#[ts(export)]
pub struct LostDeals {
    /// 输单原因; "未填写" / "Not given" = none given.
    pub reason: String,
    /// When the opportunities were created, and their owner.
    pub period: Filter,
}

/// A drill-down from the keyword cloud (see [`CustomerQuery::followup_word`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, Default)]
#[serde(default)]
#[ts(export)]
pub struct FollowupWord {
    pub word: String,
    /// 沟通内容 or 客户反馈.
    pub field: TextField,
    /// When the follow-ups were done, and their owner.
    pub period: Filter,
}

impl CustomerQuery {
    /// Whether a drill-down filter that only SQL answers is set.
    pub fn has_drill(&self) -> bool {
        self.source.as_deref().is_some_and(|s| !s.is_empty())
            || self.lost.is_some()
            || self.followup_word.is_some()
    }
}

/// One line of the list.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct CustomerRow {
    pub id: String,
    pub code: String,
    pub name: String,
    pub status: Status,
    pub grade: Option<Grade>,
    pub industry: Option<String>,
    pub province: Option<String>,
    pub city: Option<String>,
    pub owner_id: Option<String>,
    pub owner_name: Option<String>,
    pub contact_name: Option<String>,
    pub contact_mobile: Option<String>,
    pub tags: Vec<Tag>,
    pub last_followup_at: Option<i64>,
    pub next_followup_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub deleted_at: Option<i64>,
}

#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct Page<T: TS> {
    pub total: u32,
    pub offset: u32,
    pub rows: Vec<T>,
}

/// Most matches a text query ranks; beyond that, refine the query.
pub const MAX_TEXT_MATCHES: usize = crate::search::MAX_CANDIDATES;

/// The customer list as the app and the CLI show it: answered by the
/// in-memory [`ListIndex`] when it can, else by SQL.
pub fn page(ws: &Workspace, q: &CustomerQuery) -> Result<Page<CustomerRow>> {
    if ListIndex::handles(q) {
        ws.list_index().borrow_mut().page(ws.conn(), q)
    } else {
        list(ws.conn(), q)
    }
}

/// The list straight from SQL (the reference for [`page`]).
pub fn list(conn: &Connection, q: &CustomerQuery) -> Result<Page<CustomerRow>> {
    let mut wh: Vec<String> = vec![if q.trash {
        "c.deleted_at IS NOT NULL"
    } else {
        "c.deleted_at IS NULL"
    }
    .into()];
    let mut args: Vec<SqlValue> = vec![];
    let arg = |v: SqlValue, args: &mut Vec<SqlValue>| {
        args.push(v);
        format!("?{}", args.len())
    };
    let mut join = String::new();
    let text = q.text.as_deref().map(str::trim).filter(|t| !t.is_empty());
    if let Some(t) = text {
        let ids = crate::search::search_ids(conn, t, MAX_TEXT_MATCHES)?;
        let p = arg(SqlValue::Text(serde_json::to_string(&ids)?), &mut args);
        join = format!("JOIN json_each({p}) j ON j.value = c.id");
    }
    if !q.status.is_empty() {
        let list = q
            .status
            .iter()
            .map(|s| format!("'{}'", s.key()))
            .collect::<Vec<_>>()
            .join(",");
        wh.push(format!("c.status IN ({list})"));
    }
    if !q.grade.is_empty() {
        let list = q
            .grade
            .iter()
            .map(|g| format!("'{}'", g.key()))
            .collect::<Vec<_>>()
            .join(",");
        wh.push(format!("c.grade IN ({list})"));
    }
    if let Some(tag) = q.tag.as_deref().filter(|t| !t.is_empty()) {
        let p = arg(SqlValue::Text(tag.into()), &mut args);
        wh.push(format!(
            "c.id IN (SELECT ct.customer_id FROM customer_tags ct JOIN tags t ON t.id = ct.tag_id WHERE t.id = {p} OR (t.name = {p} AND t.deleted_at IS NULL))"
        ));
    }
    match q.owner.as_deref() {
        Some("none") => wh.push("c.owner_id IS NULL".into()),
        Some(o) if !o.is_empty() => {
            let p = arg(SqlValue::Text(o.into()), &mut args);
            wh.push(format!("c.owner_id = {p}"));
        }
        _ => {}
    }
    for (col, v) in [
        ("industry", &q.industry),
        ("province", &q.province),
        ("city", &q.city),
    ] {
        if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
            let p = arg(SqlValue::Text(v.into()), &mut args);
            wh.push(format!("c.{col} = {p}"));
        }
    }
    if let Some(seg) = q.segment.as_deref().filter(|s| !s.is_empty()) {
        let p = arg(SqlValue::Text(seg.into()), &mut args);
        wh.push(format!(
            "c.id IN (SELECT customer_id FROM customer_segments WHERE segment = {p})"
        ));
    }
    match q.source.as_deref().filter(|s| !s.is_empty()) {
        Some(s) if crate::analysis::is_not_given(s) => wh.push("c.source IS NULL".into()),
        Some(s) => {
            let p = arg(SqlValue::Text(s.into()), &mut args);
            wh.push(format!("c.source = {p}"));
        }
        None => {}
    }
    let mut ids_in = |ids: Vec<String>, args: &mut Vec<SqlValue>| -> Result<()> {
        let p = arg(SqlValue::Text(serde_json::to_string(&ids)?), args);
        wh.push(format!("c.id IN (SELECT value FROM json_each({p}))"));
        Ok(())
    };
    if let Some(l) = &q.lost {
        ids_in(
            crate::analysis::lost_customers(conn, &l.period, &l.reason)?,
            &mut args,
        )?;
    }
    if let Some(w) = &q.followup_word {
        ids_in(
            crate::analysis::keywords::customers_with_word(conn, &w.period, w.field, &w.word)?,
            &mut args,
        )?;
    }
    for (col, op, v) in [
        ("created_at", ">=", q.created_from),
        ("created_at", "<", q.created_to),
        ("updated_at", ">=", q.updated_from),
        ("updated_at", "<", q.updated_to),
    ] {
        if let Some(v) = v {
            let p = arg(SqlValue::Integer(v), &mut args);
            wh.push(format!("c.{col} {op} {p}"));
        }
    }
    let dir = if q.desc { "DESC" } else { "ASC" };
    let order = match q.sort {
        SortKey::Relevance if text.is_some() => "CAST(j.key AS INTEGER)".to_string(),
        // Ties go by rowid in the sort's direction, as in `ListIndex`.
        SortKey::Relevance => "c.updated_at DESC, c.rowid DESC".to_string(),
        SortKey::Name => format!("c.name_sort {dir}, c.rowid {dir}"),
        SortKey::Code => format!("c.code {dir}"),
        SortKey::Updated => format!("c.updated_at {dir}, c.rowid {dir}"),
        SortKey::Created => format!("c.created_at {dir}, c.rowid {dir}"),
        SortKey::LastFollowup => {
            format!("c.last_followup_at IS NULL, c.last_followup_at {dir}, c.rowid {dir}")
        }
    };
    let where_sql = wh.join(" AND ");
    let total: u32 = conn
        .prepare_cached(&format!(
            "SELECT count(*) FROM customers c {join} WHERE {where_sql}"
        ))?
        .query_row(rusqlite::params_from_iter(args.iter()), |r| r.get(0))?;
    let limit = if q.limit == 0 { 200 } else { q.limit.min(1000) };
    // First the ids of the page (filter, sort, slice: index work only),
    // then the display columns for just those rows. Computing contacts and
    // tags before the sort would do it for every matching customer.
    let rowids: Vec<i64> = conn
        .prepare_cached(&format!(
            "SELECT c.rowid FROM customers c {join} WHERE {where_sql} ORDER BY {order} LIMIT {limit} OFFSET {}",
            q.offset
        ))?
        .query_map(rusqlite::params_from_iter(args.iter()), |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(Page {
        total,
        offset: q.offset,
        rows: rows_by_rowid(conn, &rowids)?,
    })
}

/// The display columns of the given customers, in the given order.
pub(crate) fn rows_by_rowid(conn: &Connection, rowids: &[i64]) -> Result<Vec<CustomerRow>> {
    // Three set queries (rows, contacts, tags) instead of two correlated
    // subqueries per row: a page of 200 costs about a millisecond.
    let page = serde_json::to_string(rowids)?;
    let mut rows: Vec<CustomerRow> = Vec::with_capacity(rowids.len());
    let mut at: std::collections::HashMap<String, usize> = Default::default();
    {
        let mut stmt = conn.prepare_cached(
            "SELECT c.id, c.code, c.name, c.status, c.grade, c.industry, c.province, c.city, c.owner_id, m.name,
                c.last_followup_at, c.next_followup_at, c.created_at, c.updated_at, c.deleted_at
             FROM json_each(?1) page
             JOIN customers c ON c.rowid = page.value
             LEFT JOIN members m ON m.id = c.owner_id
             ORDER BY page.key",
        )?;
        let mut q = stmt.query([&page])?;
        while let Some(r) = q.next()? {
            let id: String = r.get(0)?;
            at.insert(id.clone(), rows.len());
            rows.push(CustomerRow {
                id,
                code: r.get(1)?,
                name: r.get(2)?,
                status: Status::from_key(&r.get::<_, String>(3)?),
                grade: r
                    .get::<_, Option<String>>(4)?
                    .and_then(|g| Grade::parse(&g)),
                industry: r.get(5)?,
                province: r.get(6)?,
                city: r.get(7)?,
                owner_id: r.get(8)?,
                owner_name: r.get(9)?,
                contact_name: None,
                contact_mobile: None,
                tags: vec![],
                last_followup_at: r.get(10)?,
                next_followup_at: r.get(11)?,
                created_at: r.get(12)?,
                updated_at: r.get(13)?,
                deleted_at: r.get(14)?,
            });
        }
    }
    // The contact shown: the primary one, else the first added.
    let mut best: Vec<Option<(bool, i64, String)>> = vec![None; rows.len()];
    {
        let mut stmt = conn.prepare_cached(
            "SELECT ct.customer_id, ct.is_primary, ct.created_at, ct.id, ct.name, ct.mobile
             FROM json_each(?1) page
             JOIN customers c ON c.rowid = page.value
             JOIN contacts ct ON ct.customer_id = c.id AND ct.deleted_at IS NULL",
        )?;
        let mut q = stmt.query([&page])?;
        while let Some(r) = q.next()? {
            let Some(&i) = at.get(r.get_ref(0)?.as_str().unwrap_or_default()) else {
                continue;
            };
            let key = (
                r.get::<_, bool>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, String>(3)?,
            );
            let better = match &best[i] {
                None => true,
                Some((p, t, id)) => (!key.0, key.1, &key.2) < (!*p, *t, id),
            };
            if better {
                rows[i].contact_name = r.get(4)?;
                rows[i].contact_mobile = r.get(5)?;
                best[i] = Some(key);
            }
        }
    }
    {
        let mut stmt = conn.prepare_cached(
            "SELECT ct.customer_id, t.id, t.name, t.color
             FROM json_each(?1) page
             JOIN customers c ON c.rowid = page.value
             JOIN customer_tags ct ON ct.customer_id = c.id
             JOIN tags t ON t.id = ct.tag_id AND t.deleted_at IS NULL",
        )?;
        let mut q = stmt.query([&page])?;
        while let Some(r) = q.next()? {
            if let Some(&i) = at.get(r.get_ref(0)?.as_str().unwrap_or_default()) {
                rows[i].tags.push(Tag {
                    id: r.get(1)?,
                    name: r.get(2)?,
                    color: r.get(3)?,
                    count: 0,
                });
            }
        }
    }
    for r in &mut rows {
        r.tags.sort_by(|a, b| a.name.cmp(&b.name));
    }
    Ok(rows)
}

/// Quick search (Ctrl+K): the best matches as list rows.
pub fn quick_search(conn: &Connection, text: &str, limit: u32) -> Result<Vec<CustomerRow>> {
    let q = CustomerQuery {
        text: Some(text.to_string()),
        limit,
        ..Default::default()
    };
    Ok(list(conn, &q)?.rows)
}

/// The values in use for the filter bar's choices.
#[derive(Debug, Clone, Serialize, TS, Default)]
#[ts(export)]
pub struct Facets {
    pub provinces: Vec<String>,
    pub industries: Vec<String>,
}

/// Provinces and industries of live customers, sorted (both indexed).
pub fn facets(conn: &Connection) -> Result<Facets> {
    let distinct = |col: &str| -> Result<Vec<String>> {
        let sql = format!(
            "SELECT DISTINCT {col} FROM customers WHERE deleted_at IS NULL AND {col} IS NOT NULL ORDER BY {col}"
        );
        let mut stmt = conn.prepare_cached(&sql)?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    };
    Ok(Facets {
        provinces: distinct("province")?,
        industries: distinct("industry")?,
    })
}
