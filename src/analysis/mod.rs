//! Analysis (数据分析): the metrics of the reports, dashboard and exports,
//! computed from the entity tables, the stage history and the change log.
//!
//! Every metric is defined once, in the doc comment of its field; the UI
//! shows those sentences as tooltips. Common rules:
//!
//! - A report covers a period `[from, to)` (UTC ms; the CLI and UI turn
//!   local dates into local midnights) and optionally one owner (负责人);
//!   without an owner it covers the whole team. Records in the trash (and
//!   opportunities of customers in the trash) are left out.
//! - Ratios are fractions 0–1. A ratio whose denominator is 0 is `None`
//!   (JSON `null`), never NaN. Amounts are yuan.
//! - Days are (later time − earlier time) / 24 h, as fractions.
//! - An opportunity is **won** when it is in the pipeline's won stage
//!   (setting `analysis.settings` → `won_stage`, default 合同签订) or a later
//!   one (回款完成); its **win time** is when it entered that run of won
//!   stages. It is **lost** while it is in 输单; its **loss time** is when it
//!   entered 输单. Otherwise it is open. A reopened deal (输单 → an open
//!   stage) is open again, and is won or lost by where it ends up.
//! - The **won amount** of a deal is its 成交金额 when set, else its expected
//!   amount (预计成交金额), else 0.

pub mod daily;
pub mod keywords;
pub mod metrics;
#[cfg(feature = "pdf")]
pub mod pdf;
pub mod segments;
pub mod targets;
pub mod xlsx;

use crate::error::{Error, Result};
use crate::pipeline::{self, LOST};
use crate::settings;
use chrono::{Datelike, NaiveDate, TimeZone};
use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
#[allow(unused_imports)]
use std::collections::HashMap;
use ts_rs::TS;

pub use metrics::*;

pub const DAY_MS: f64 = 86_400_000.0;
pub const SETTING: &str = "analysis.settings";

/// A report's scope: the period `[from, to)` and optionally one owner.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, Default)]
#[serde(default)]
#[ts(export)]
pub struct Filter {
    /// Start of the period, UTC ms (inclusive).
    #[ts(type = "number")]
    pub from: i64,
    /// End of the period, UTC ms (exclusive).
    #[ts(type = "number")]
    pub to: i64,
    /// Member id; None = the whole team.
    pub owner_id: Option<String>,
}

impl Filter {
    pub fn new(from: i64, to: i64) -> Self {
        Filter {
            from,
            to,
            owner_id: None,
        }
    }
    pub fn owner(mut self, owner: Option<&str>) -> Self {
        self.owner_id = owner.map(str::to_string);
        self
    }
    pub fn contains(&self, t: i64) -> bool {
        t >= self.from && t < self.to
    }
    /// The period of the same length just before this one.
    pub fn previous(&self) -> Filter {
        Filter {
            from: self.from - (self.to - self.from),
            to: self.from,
            owner_id: self.owner_id.clone(),
        }
    }
    pub fn validated(self) -> Result<Self> {
        if self.to <= self.from {
            return Err(Error::validation(
                "to",
                "结束日期必须晚于开始日期",
                "The end date must be after the start date",
            ));
        }
        Ok(self)
    }
}

/// Analysis settings (setting `analysis.settings`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(default)]
#[ts(export)]
pub struct AnalysisSettings {
    /// Key of the won stage; None = the first stage of kind "won" (合同签订).
    pub won_stage: Option<String>,
    /// 低优先级商机: expected amount below this share of the historical
    /// average expected amount (default 0.8, i.e. 20% below average).
    pub low_priority_ratio: f64,
    /// Days after a lead's creation within which a win counts for the
    /// source win rate (default 30, 30天成单率).
    pub source_win_days: i64,
}

impl Default for AnalysisSettings {
    fn default() -> Self {
        AnalysisSettings {
            won_stage: None,
            low_priority_ratio: 0.8,
            source_win_days: 30,
        }
    }
}

pub fn settings(conn: &Connection) -> Result<AnalysisSettings> {
    Ok(settings::get(conn, SETTING)?.unwrap_or_default())
}

pub fn set_settings(ws: &mut crate::Workspace, s: AnalysisSettings) -> Result<()> {
    if !(s.low_priority_ratio.is_finite() && s.low_priority_ratio >= 0.0) {
        return Err(Error::validation(
            "low_priority_ratio",
            "低优先级比例必须是不小于 0 的数字",
            "The low-priority ratio must be a number ≥ 0",
        ));
    }
    if let Some(k) = &s.won_stage {
        let st = pipeline::resolve(ws.conn(), k, "won_stage")?;
        if st.key == LOST {
            return Err(Error::validation(
                "won_stage",
                "赢单阶段不能是“输单”",
                "The won stage cannot be Lost",
            ));
        }
    }
    let origin = ws.origin.clone();
    ws.write(&origin, |w| settings::put(w, SETTING, &s))
}

/// The pipeline as analysis sees it: open and won stages in order (输单
/// aside), and where the won run starts.
#[derive(Debug, Clone)]
pub struct Pipe {
    pub stages: Vec<pipeline::Stage>,
    pub won_idx: usize,
}

impl Pipe {
    pub fn load(conn: &Connection) -> Result<Pipe> {
        let stages: Vec<_> = pipeline::stages(conn)?
            .into_iter()
            .filter(|s| s.key != LOST)
            .collect();
        let set = settings(conn)?;
        let won_idx = set
            .won_stage
            .and_then(|k| stages.iter().position(|s| s.key == k))
            .or_else(|| {
                stages
                    .iter()
                    .position(|s| s.kind == pipeline::StageKind::Won)
            })
            .unwrap_or(stages.len().saturating_sub(1));
        Ok(Pipe { stages, won_idx })
    }
    pub fn index(&self, key: &str) -> Option<usize> {
        self.stages.iter().position(|s| s.key == key)
    }
    /// Keys of the won stage and every later one.
    pub fn won_keys(&self) -> Vec<String> {
        self.stages[self.won_idx..]
            .iter()
            .map(|s| s.key.clone())
            .collect()
    }
}

/// One stay of an opportunity in a stage. `idx` is the position in the
/// pipeline (None for 输单 or a deleted stage).
#[derive(Debug, Clone, PartialEq)]
pub struct Stay {
    pub idx: Option<usize>,
    pub lost: bool,
    pub entered: i64,
    pub left: Option<i64>,
    pub reason: Option<String>,
}

/// Where a deal stands now.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Outcome {
    Open,
    Won(i64),
    Lost(i64),
}

/// An opportunity with its stage history, as the metrics read it.
#[derive(Debug, Clone)]
pub struct OppFacts {
    pub id: String,
    pub customer_id: String,
    pub owner_id: Option<String>,
    pub created_at: i64,
    pub expected: Option<f64>,
    pub won_amount: Option<f64>,
    pub received: Option<f64>,
    pub loss_reason: Option<String>,
    pub stays: Vec<Stay>,
}

impl OppFacts {
    /// Won / lost / open, from the stays (see the module docs).
    pub fn outcome(&self, pipe: &Pipe) -> Outcome {
        let Some(last) = self.stays.last() else {
            return Outcome::Open;
        };
        if last.lost {
            return Outcome::Lost(last.entered);
        }
        let is_won = |s: &Stay| s.idx.is_some_and(|i| i >= pipe.won_idx);
        if !is_won(last) {
            return Outcome::Open;
        }
        let mut at = last.entered;
        for s in self.stays.iter().rev() {
            if !is_won(s) {
                break;
            }
            at = s.entered;
        }
        Outcome::Won(at)
    }
    /// The furthest pipeline stage it ever reached (输单 not counted).
    pub fn max_reached(&self) -> Option<usize> {
        self.stays.iter().filter_map(|s| s.idx).max()
    }
    /// The loss reason: the deal's own, else the one given with its last
    /// stage change.
    pub fn reason_given(&self) -> Option<&str> {
        self.loss_reason
            .as_deref()
            .or_else(|| self.stays.last().and_then(|s| s.reason.as_deref()))
    }
    /// 成交金额, else the expected amount, else 0.
    pub fn deal_amount(&self) -> f64 {
        self.won_amount.or(self.expected).unwrap_or(0.0)
    }
}

/// Live customers only: the trash is small, so "not in the trash" is one
/// small list, cheaper than a lookup per row.
pub(crate) const LIVE_CUSTOMER: &str =
    "NOT IN (SELECT id FROM customers WHERE deleted_at IS NOT NULL)";

/// Load opportunities with their stays in one query. `source` names the
/// rows as `o` (e.g. `opportunities o` or a CTE joined to it); `cond` adds
/// conditions; `args` fill its parameters. Sorted by id, stays by entry
/// time (ties in insertion order); the sorting is done here rather than by
/// SQLite, which would build a temporary b-tree of every row.
fn load_opps(
    conn: &Connection,
    pipe: &Pipe,
    with: &str,
    source: &str,
    cond: &str,
    args: &[&dyn rusqlite::ToSql],
) -> Result<Vec<OppFacts>> {
    let sql = format!(
        "{with} SELECT o.id, o.customer_id, o.owner_id, o.created_at, o.expected_amount,
            o.won_amount, o.received_amount, o.loss_reason, h.stage, h.entered_at, h.left_at, h.reason,
            h.rowid
         FROM {source} LEFT JOIN opportunity_stage_history h ON h.opportunity_id = o.id
         WHERE o.deleted_at IS NULL AND o.customer_id {LIVE_CUSTOMER} AND {cond}"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query(args)?;
    let mut out: Vec<OppFacts> = vec![];
    let mut order: Vec<Vec<i64>> = vec![];
    let mut at: HashMap<String, usize> = HashMap::new();
    // Stage keys repeat: resolve each once.
    let mut stage_idx: HashMap<String, (Option<usize>, bool)> = HashMap::new();
    while let Some(r) = rows.next()? {
        let id = r.get_ref(0)?.as_str().map_err(rusqlite::Error::from)?;
        let k = match at.get(id) {
            Some(k) => *k,
            None => {
                let id = id.to_string();
                at.insert(id.clone(), out.len());
                out.push(OppFacts {
                    id,
                    customer_id: r.get(1)?,
                    owner_id: r.get(2)?,
                    created_at: r.get(3)?,
                    expected: r.get(4)?,
                    won_amount: r.get(5)?,
                    received: r.get(6)?,
                    loss_reason: r.get(7)?,
                    stays: vec![],
                });
                order.push(vec![]);
                out.len() - 1
            }
        };
        let stage = r
            .get_ref(8)?
            .as_str_or_null()
            .map_err(rusqlite::Error::from)?;
        if let Some(stage) = stage {
            let (idx, lost) = match stage_idx.get(stage) {
                Some(v) => *v,
                None => {
                    let v = (pipe.index(stage), stage == LOST);
                    stage_idx.insert(stage.to_string(), v);
                    v
                }
            };
            out[k].stays.push(Stay {
                idx,
                lost,
                entered: r.get(9)?,
                left: r.get(10)?,
                reason: r.get(11)?,
            });
            order[k].push(r.get(12)?);
        }
    }
    for (o, rowids) in out.iter_mut().zip(order) {
        if o.stays.len() > 1 {
            let mut v: Vec<(i64, i64, Stay)> = rowids
                .into_iter()
                .zip(o.stays.drain(..))
                .map(|(rid, s)| (s.entered, rid, s))
                .collect();
            v.sort_by_key(|x| (x.0, x.1));
            o.stays = v.into_iter().map(|x| x.2).collect();
        }
    }
    out.sort_unstable_by(|a, b| a.id.cmp(&b.id));
    Ok(out)
}

/// Live opportunities created in the period (owner filter applies).
pub fn opps_created(conn: &Connection, pipe: &Pipe, f: &Filter) -> Result<Vec<OppFacts>> {
    load_opps(
        conn,
        pipe,
        "",
        "opportunities o",
        "o.created_at >= ?1 AND o.created_at < ?2 AND (?3 IS NULL OR o.owner_id = ?3)",
        &[&f.from, &f.to, &f.owner_id],
    )
}

fn quoted(keys: &[String]) -> String {
    keys.iter()
        .map(|k| format!("'{}'", k.replace('\'', "''")))
        .collect::<Vec<_>>()
        .join(",")
}

/// Live opportunities won or lost in the period (by win / loss time).
pub fn opps_closed(conn: &Connection, pipe: &Pipe, f: &Filter) -> Result<Vec<OppFacts>> {
    let mut keys = pipe.won_keys();
    keys.push(LOST.to_string());
    let with = format!(
        "WITH cand(id) AS (SELECT DISTINCT opportunity_id FROM opportunity_stage_history
            WHERE stage IN ({}) AND entered_at >= ?1 AND entered_at < ?2)",
        quoted(&keys)
    );
    let all = load_opps(
        conn,
        pipe,
        &with,
        "cand JOIN opportunities o ON o.id = cand.id",
        "(?3 IS NULL OR o.owner_id = ?3)",
        &[&f.from, &f.to, &f.owner_id],
    )?;
    Ok(all
        .into_iter()
        .filter(|o| match o.outcome(pipe) {
            Outcome::Won(t) | Outcome::Lost(t) => f.contains(t),
            Outcome::Open => false,
        })
        .collect())
}

/// All live opportunities of one customer.
pub fn opps_of_customer(
    conn: &Connection,
    pipe: &Pipe,
    customer_id: &str,
) -> Result<Vec<OppFacts>> {
    load_opps(
        conn,
        pipe,
        "",
        "opportunities o",
        "o.customer_id = ?1",
        &[&customer_id],
    )
}

/// All live opportunities of the customers created in the period (owner =
/// the customer's owner).
pub fn opps_of_leads(conn: &Connection, pipe: &Pipe, f: &Filter) -> Result<Vec<OppFacts>> {
    load_opps(
        conn,
        pipe,
        "",
        "opportunities o",
        "o.customer_id IN (SELECT id FROM customers WHERE deleted_at IS NULL
            AND created_at >= ?1 AND created_at < ?2 AND (?3 IS NULL OR owner_id = ?3))",
        &[&f.from, &f.to, &f.owner_id],
    )
}

/// Status rank on the customer funnel: 潜在 0 → 意向 1 → 成交 2; 流失 aside.
pub fn status_rank(key: &str) -> Option<usize> {
    match key {
        "prospect" => Some(0),
        "interested" => Some(1),
        "won" => Some(2),
        _ => None,
    }
}

/// A customer as the metrics read it.
#[derive(Debug, Clone)]
pub struct CustFacts {
    pub id: String,
    pub created_at: i64,
    /// 首次接触日期 at local midnight, when set.
    pub first_contact: Option<i64>,
    pub source: Option<String>,
    pub status: String,
    pub owner_id: Option<String>,
    /// (status key, since) in order, from the change log.
    pub statuses: Vec<(String, i64)>,
}

impl CustFacts {
    /// The highest funnel rank the customer ever reached.
    pub fn max_rank(&self) -> Option<usize> {
        self.statuses
            .iter()
            .filter_map(|(s, _)| status_rank(s))
            .max()
    }
    /// When the status first became 成交.
    pub fn status_won_at(&self) -> Option<i64> {
        self.statuses
            .iter()
            .find(|(s, _)| s == "won")
            .map(|(_, t)| *t)
    }
    /// The start of the sales cycle: first contact, else creation.
    pub fn cycle_start(&self) -> i64 {
        self.first_contact.unwrap_or(self.created_at)
    }
}

/// Local midnight of a `YYYY-MM-DD` date, UTC ms.
pub fn local_midnight(date: NaiveDate) -> i64 {
    chrono::Local
        .from_local_datetime(&date.and_hms_opt(0, 0, 0).expect("midnight"))
        .earliest()
        .map(|d| d.timestamp_millis())
        .unwrap_or_else(|| {
            date.and_hms_opt(0, 0, 0)
                .expect("midnight")
                .and_utc()
                .timestamp_millis()
        })
}

/// The local date of a UTC ms time.
pub fn local_date(ms: i64) -> NaiveDate {
    chrono::Local
        .timestamp_millis_opt(ms)
        .single()
        .map(|d| d.date_naive())
        .unwrap_or_default()
}

/// The local calendar month containing `ms`: [first day, first of next).
pub fn month_of(ms: i64) -> (i64, i64) {
    let d = local_date(ms);
    let first = NaiveDate::from_ymd_opt(d.year(), d.month(), 1).expect("valid");
    let next = first
        .checked_add_months(chrono::Months::new(1))
        .expect("valid");
    (local_midnight(first), local_midnight(next))
}

const CUST_SQL: &str =
    "SELECT c.id, c.created_at, c.first_contact_date, c.source, c.status, c.owner_id,
    ch.field, ch.new, ch.at
    FROM customers c LEFT JOIN changes ch
      ON ch.entity = 'customer' AND ch.entity_id = c.id AND ch.field IN ('*', 'status')
    WHERE c.deleted_at IS NULL";

/// Customers with their status history, in one query (ordered by id, seq).
fn load_custs(
    conn: &Connection,
    cond: &str,
    args: &[&dyn rusqlite::ToSql],
) -> Result<Vec<CustFacts>> {
    let sql = format!("{CUST_SQL} AND {cond} ORDER BY c.id, ch.seq");
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query(args)?;
    let mut out: Vec<CustFacts> = vec![];
    while let Some(r) = rows.next()? {
        let id: String = r.get(0)?;
        if out.last().map(|c| &c.id) != Some(&id) {
            if let Some(last) = out.last_mut() {
                finish_statuses(last);
            }
            let fc: Option<String> = r.get(2)?;
            out.push(CustFacts {
                id,
                created_at: r.get(1)?,
                first_contact: fc
                    .as_deref()
                    .and_then(crate::dates::parse_date)
                    .map(local_midnight),
                source: r.get(3)?,
                status: r.get(4)?,
                owner_id: r.get(5)?,
                statuses: vec![],
            });
        }
        let c = out.last_mut().expect("pushed above");
        let field = r
            .get_ref(6)?
            .as_str_or_null()
            .map_err(rusqlite::Error::from)?;
        let new = r
            .get_ref(7)?
            .as_str_or_null()
            .map_err(rusqlite::Error::from)?;
        let (Some(field), Some(new)) = (field, new) else {
            continue;
        };
        let at: i64 = r.get(8)?;
        // Only the status is read: a typed parse skips the rest of a
        // creation record without building it.
        let status = if field == "*" {
            serde_json::from_str::<StatusOnly>(new)
                .ok()
                .and_then(|x| x.status)
                .and_then(|s| s.as_str().map(str::to_string))
        } else {
            serde_json::from_str::<String>(new).ok()
        };
        if let Some(s) = status {
            if c.statuses.last().map(|l| &l.0) != Some(&s) {
                c.statuses.push((s, at));
            }
        }
    }
    if let Some(last) = out.last_mut() {
        finish_statuses(last);
    }
    Ok(out)
}

#[derive(Deserialize)]
struct StatusOnly {
    #[serde(default)]
    status: Option<serde_json::Value>,
}

/// A customer without status entries in the log (written by an older
/// build) has had its current status since creation.
fn finish_statuses(c: &mut CustFacts) {
    if c.statuses.is_empty() {
        c.statuses.push((c.status.clone(), c.created_at));
    }
}

/// Live customers created in the period (owner filter applies), with their
/// status history.
pub fn customers_created(conn: &Connection, f: &Filter) -> Result<Vec<CustFacts>> {
    load_custs(
        conn,
        "c.created_at >= ?1 AND c.created_at < ?2 AND (?3 IS NULL OR c.owner_id = ?3)",
        &[&f.from, &f.to, &f.owner_id],
    )
}

/// One live customer (with status history), or None.
pub fn customer_facts(conn: &Connection, id: &str) -> Result<Option<CustFacts>> {
    Ok(load_custs(conn, "c.id = ?1", &[&id])?.pop())
}

/// `a / b`, or None when `b` is 0 (never NaN).
pub fn ratio(a: f64, b: f64) -> Option<f64> {
    if b == 0.0 || !a.is_finite() || !b.is_finite() {
        None
    } else {
        Some(a / b)
    }
}

/// Mean, None when empty.
pub fn mean(xs: &[f64]) -> Option<f64> {
    ratio(xs.iter().sum(), xs.len() as f64)
}

/// Median (mean of the middle two for an even count), None when empty.
pub fn median(xs: &[f64]) -> Option<f64> {
    if xs.is_empty() {
        return None;
    }
    let mut v = xs.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

/// Days between two times, as a fraction.
pub fn days(from: i64, to: i64) -> f64 {
    (to - from) as f64 / DAY_MS
}

/// What the report exports (xlsx, PDF) read: each data set loaded once and
/// fed to every metric that needs it; the trend's bucket follows the
/// period's length.
// The PDF reads more of it than the workbook does.
#[cfg_attr(not(feature = "pdf"), allow(dead_code))]
pub(crate) struct ReportData {
    pub pipe: Pipe,
    pub set: AnalysisSettings,
    pub closed: Vec<OppFacts>,
    pub sales: Sales,
    pub conv: Conversion,
    pub cyc: Cycle,
    pub pf: Funnel,
    pub cf: Funnel,
    pub by: Bucket,
    pub tr: Vec<TrendPoint>,
    pub fa: FollowupActivity,
    pub src: Sources,
}

impl ReportData {
    pub(crate) fn load(
        conn: &Connection,
        f: &Filter,
        now: i64,
        lang: crate::i18n::Lang,
    ) -> Result<Self> {
        let pipe = Pipe::load(conn)?;
        let set = settings(conn)?;
        let closed = opps_closed(conn, &pipe, f)?;
        let created = opps_created(conn, &pipe, f)?;
        let custs = customers_created(conn, f)?;
        let target = targets::target_for(conn, f.owner_id.as_deref(), f.from, f.to)?
            .and_then(|t| t.fields.amount);
        let sales = sales_of(&pipe, &closed, f, now, target);
        let conv = conversion_of(&pipe, &custs, &closed, &created);
        let info = customer_info(
            conn,
            closed
                .iter()
                .filter(|o| matches!(o.outcome(&pipe), Outcome::Won(_)))
                .map(|o| o.customer_id.as_str()),
        )?;
        let starts = info.into_iter().map(|(k, v)| (k, v.start)).collect();
        let cyc = cycle_of(&pipe, &closed, &starts);
        let pf = pipeline_funnel_of(&pipe, &created, lang);
        let cf = customer_funnel_of(&custs, lang);
        let by = if f.to - f.from <= 62 * 86_400_000 {
            Bucket::Day
        } else if f.to - f.from <= 200 * 86_400_000 {
            Bucket::Week
        } else {
            Bucket::Month
        };
        let tr = trend_from(conn, &pipe, f, by, &closed, &custs)?;
        let leads = leads_from(conn, &pipe, f, custs)?;
        let fa = followup_activity_from(conn, f, &leads, set.source_win_days, lang)?;
        let src = sources_of(&leads, set.source_win_days, lang);
        Ok(ReportData {
            pipe,
            set,
            closed,
            sales,
            conv,
            cyc,
            pf,
            cf,
            by,
            tr,
            fa,
            src,
        })
    }
}
