//! The Today page (今日): overdue follow-ups (planned before now), the rest
//! of today's follow-ups in time order, customers due by grade cadence and active alerts. Lists are
//! capped (`limit`) and come with their totals.

use crate::alerts::{self, Alert, AlertQuery};
use crate::clock::Millis;
use crate::error::Result;
use crate::followups::{self, DueCustomer, Followup};
use crate::i18n::Lang;
use chrono::TimeZone;
use rusqlite::{params, Connection};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Start and end (exclusive) of the local calendar day containing `t`.
pub fn day_bounds(t: Millis) -> (Millis, Millis) {
    let local = chrono::Local
        .timestamp_millis_opt(t)
        .single()
        .unwrap_or_else(chrono::Local::now);
    let date = local.date_naive();
    let start_of = |d: chrono::NaiveDate| {
        chrono::Local
            .from_local_datetime(&d.and_hms_opt(0, 0, 0).unwrap_or_default())
            .earliest()
            .map(|x| x.timestamp_millis())
            .unwrap_or(t)
    };
    let start = start_of(date);
    let end = date.succ_opt().map(start_of).unwrap_or(start + 86_400_000);
    (start, end)
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, TS)]
#[serde(default)]
#[ts(export)]
pub struct TodayQuery {
    /// Only this member's follow-ups, customers and alerts.
    pub owner_id: Option<String>,
    /// Include manager alerts.
    pub manager: bool,
    /// Cap of each list (default 100).
    pub limit: Option<usize>,
}

#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct Today {
    pub now: i64,
    pub day_start: i64,
    pub day_end: i64,
    pub overdue_total: i64,
    pub overdue: Vec<Followup>,
    pub today_total: i64,
    pub today: Vec<Followup>,
    pub due_customers_total: i64,
    pub due_customers: Vec<DueCustomer>,
    pub alerts_total: i64,
    pub alerts: Vec<Alert>,
}

fn planned_between(
    conn: &Connection,
    from: Option<Millis>,
    to: Millis,
    owner: Option<&str>,
    limit: usize,
) -> Result<(i64, Vec<Followup>)> {
    let from = from.unwrap_or(i64::MIN);
    let total: i64 = conn
        .prepare_cached(
            "SELECT count(*) FROM followups f INDEXED BY followups_planned
             JOIN customers c ON c.id = f.customer_id
             WHERE f.status = 'planned' AND f.deleted_at IS NULL AND c.deleted_at IS NULL
               AND f.planned_at >= ?1 AND f.planned_at < ?2 AND (?3 IS NULL OR f.owner_id = ?3)",
        )?
        .query_row(params![from, to, owner], |r| r.get(0))?;
    let ids: Vec<String> = {
        let mut stmt = conn.prepare_cached(
            "SELECT f.id FROM followups f INDEXED BY followups_planned
             JOIN customers c ON c.id = f.customer_id
             WHERE f.status = 'planned' AND f.deleted_at IS NULL AND c.deleted_at IS NULL
               AND f.planned_at >= ?1 AND f.planned_at < ?2 AND (?3 IS NULL OR f.owner_id = ?3)
             ORDER BY f.planned_at, f.id LIMIT ?4",
        )?;
        let rows = stmt.query_map(params![from, to, owner, limit as i64], |r| r.get(0))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    let rows = ids
        .iter()
        .map(|id| followups::get(conn, id))
        .collect::<Result<Vec<_>>>()?;
    Ok((total, rows))
}

/// Everything the Today page shows, at time `now`.
pub fn today(conn: &Connection, now: Millis, q: &TodayQuery, lang: Lang) -> Result<Today> {
    let limit = q.limit.unwrap_or(100);
    let (day_start, day_end) = day_bounds(now);
    let owner = q.owner_id.as_deref();
    let (overdue_total, overdue) = planned_between(conn, None, now, owner, limit)?;
    let (today_total, today) = planned_between(conn, Some(now), day_end, owner, limit)?;
    let (due_customers_total, due_customers) = followups::due_customers(conn, now, owner, limit)?;
    let (alerts_total, alerts) = alerts::active(
        conn,
        now,
        &AlertQuery {
            owner_id: q.owner_id.clone(),
            manager: q.manager,
            rule: None,
            limit: Some(limit),
        },
        lang,
    )?;
    Ok(Today {
        now,
        day_start,
        day_end,
        overdue_total,
        overdue,
        today_total,
        today,
        due_customers_total,
        due_customers,
        alerts_total,
        alerts,
    })
}
