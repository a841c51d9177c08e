//! The Today page (今日): overdue follow-ups (planned before now), the rest
//! of today's follow-ups in time order, customers due by grade cadence and active alerts. Lists are
//! capped (`limit`) and come with their totals.

use crate::alerts::{self, Alert, AlertQuery};
use crate::clock::Millis;
use crate::error::Result;
use crate::followups::{self, DueCustomer, Followup};
use crate::i18n::Lang;
use chrono::TimeZone;
use rusqlite::Connection;
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

/// Totals on the Today page are exact up to this many; beyond it they are
/// this number (show it as "1000+"), so the page stays fast however much
/// is overdue.
pub const COUNT_CAP: i64 = 1_000;

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
    /// Totals at this value mean "at least this many" ([`COUNT_CAP`]).
    pub count_cap: i64,
}

/// Everything the Today page shows, at time `now`.
pub fn today(conn: &Connection, now: Millis, q: &TodayQuery, lang: Lang) -> Result<Today> {
    let limit = q.limit.unwrap_or(100);
    let (day_start, day_end) = day_bounds(now);
    let owner = q.owner_id.as_deref();
    let overdue = followups::planned_between(conn, i64::MIN, now, owner, limit)?;
    let overdue_total = followups::count_planned_between(conn, i64::MIN, now, owner, COUNT_CAP)?;
    let today = followups::planned_between(conn, now, day_end, owner, limit)?;
    let today_total = followups::count_planned_between(conn, now, day_end, owner, COUNT_CAP)?;
    let (due_customers_total, due_customers) =
        followups::due_customers_capped(conn, now, owner, limit, COUNT_CAP)?;
    let (alerts_total, alerts) = alerts::active_capped(
        conn,
        now,
        &AlertQuery {
            owner_id: q.owner_id.clone(),
            manager: q.manager,
            rule: None,
            limit: Some(limit),
        },
        lang,
        COUNT_CAP,
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
        count_cap: COUNT_CAP,
    })
}
