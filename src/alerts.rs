//! Alert rules (预警, seed 004), with thresholds as the setting
//! `alerts.thresholds`:
//!
//! - `lead_owner`: a lead (潜在客户) not followed up for 3 days → its owner;
//! - `lead_manager`: … for 7 days → the manager;
//! - `opportunity_stale`: an open opportunity in one stage for more than 15 days;
//! - `churn_risk`: a customer (not lost) without a follow-up for 30 days →
//!   流失风险.
//!
//! "Not followed up" counts from the last done follow-up, or from the
//! customer's creation when there is none. Each condition has a key (rule,
//! entity and the time it counts from), so evaluating the rules again never
//! raises the same alert twice; a new follow-up or stage starts a new
//! condition. An alert is active until dismissed or until its condition no
//! longer holds (then it is resolved by the next evaluation).

use crate::changelog::Writer;
use crate::clock::Millis;
use crate::db::Workspace;
use crate::error::{Error, Result};
use crate::i18n::Lang;
use crate::settings;
use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use ts_rs::TS;

const DAY: i64 = 86_400_000;
pub const SETTING: &str = "alerts.thresholds";

/// Alert thresholds in days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(default)]
#[ts(export)]
pub struct Thresholds {
    pub lead_owner_days: i64,
    pub lead_manager_days: i64,
    pub opportunity_stage_days: i64,
    pub churn_days: i64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            lead_owner_days: 3,
            lead_manager_days: 7,
            opportunity_stage_days: 15,
            churn_days: 30,
        }
    }
}

pub fn thresholds(conn: &Connection) -> Result<Thresholds> {
    Ok(settings::get(conn, SETTING)?.unwrap_or_default())
}

pub fn set_thresholds(ws: &mut Workspace, t: Thresholds) -> Result<()> {
    for (f, v) in [
        ("lead_owner_days", t.lead_owner_days),
        ("lead_manager_days", t.lead_manager_days),
        ("opportunity_stage_days", t.opportunity_stage_days),
        ("churn_days", t.churn_days),
    ] {
        if !(1..=3650).contains(&v) {
            return Err(Error::validation(
                f,
                "天数必须在 1 到 3650 之间",
                "Days must be between 1 and 3650",
            ));
        }
    }
    let origin = ws.origin.clone();
    ws.write(&origin, |w| settings::put(w, SETTING, &t))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Rule {
    LeadOwner,
    LeadManager,
    OpportunityStale,
    ChurnRisk,
}

impl Rule {
    pub const ALL: [Rule; 4] = [
        Rule::LeadOwner,
        Rule::LeadManager,
        Rule::OpportunityStale,
        Rule::ChurnRisk,
    ];
    pub fn key(self) -> &'static str {
        match self {
            Rule::LeadOwner => "lead_owner",
            Rule::LeadManager => "lead_manager",
            Rule::OpportunityStale => "opportunity_stale",
            Rule::ChurnRisk => "churn_risk",
        }
    }
    pub fn from_key(k: &str) -> Option<Rule> {
        Rule::ALL.into_iter().find(|r| r.key() == k)
    }
    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            Rule::LeadOwner => lang.pick("线索未跟进", "Lead not followed up"),
            Rule::LeadManager => lang.pick("线索长期未跟进（经理）", "Lead neglected (manager)"),
            Rule::OpportunityStale => lang.pick("商机阶段停滞", "Opportunity stuck in stage"),
            Rule::ChurnRisk => lang.pick("流失风险", "Churn risk"),
        }
    }
}

#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct Alert {
    pub id: String,
    pub rule: Rule,
    pub rule_label: String,
    pub entity: String,
    pub entity_id: String,
    pub customer_id: Option<String>,
    pub customer_code: Option<String>,
    pub customer_name: Option<String>,
    pub opportunity_name: Option<String>,
    /// `owner` or `manager`: who the alert is for.
    pub audience: String,
    pub owner_id: Option<String>,
    /// The time the condition counts from (last follow-up, stage entry).
    pub since: i64,
    /// Whole days since `since` at the time asked.
    pub days: i64,
    pub raised_at: i64,
    pub message: String,
}

/// What one evaluation did.
#[derive(Debug, Clone, Default, Serialize, TS)]
#[ts(export)]
pub struct Evaluation {
    pub raised: usize,
    pub resolved: usize,
    /// Every customer and opportunity was checked (first run, changed
    /// settings, clock moved back); otherwise only what changed or crossed
    /// a threshold since the last evaluation.
    pub full: bool,
}

/// Where the last evaluation left off (device-local, in `meta`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct EvalState {
    t: i64,
    seq: i64,
    thresholds: Thresholds,
    closed: Vec<String>,
}
const STATE_KEY: &str = "alerts.last_evaluation";

#[derive(Clone, Copy)]
enum Scope {
    /// Everything.
    Full,
    /// Conditions that started between the last evaluation (`prev`) and now.
    Window(i64),
    /// Entities in `temp.alert_dirty` (changed since the last evaluation).
    Dirty,
}

/// Evaluate every rule at `t`: raise an alert for each condition that holds
/// and has none yet, and resolve active alerts whose condition ended.
///
/// Incremental: a condition starts either because time passed (a threshold
/// was crossed since the last evaluation: an index range per rule) or
/// because something changed (found through the change log since the last
/// evaluation), and it ends only through a change. So after the first run
/// only the time window and the changed entities are looked at. Changed
/// thresholds or stages, or a time before the last evaluation, evaluate
/// everything again.
pub fn evaluate(ws: &mut Workspace, t: Millis) -> Result<Evaluation> {
    evaluate_with(ws, t, false)
}

/// [`evaluate`], checking every customer and opportunity.
pub fn evaluate_full(ws: &mut Workspace, t: Millis) -> Result<Evaluation> {
    evaluate_with(ws, t, true)
}

fn evaluate_with(ws: &mut Workspace, t: Millis, force_full: bool) -> Result<Evaluation> {
    let th = thresholds(ws.conn())?;
    let stages = crate::pipeline::stages(ws.conn())?;
    let closed_keys: Vec<String> = stages
        .iter()
        .filter(|s| s.kind != crate::pipeline::StageKind::Open)
        .map(|s| s.key.clone())
        .collect();
    let closed = if closed_keys.is_empty() {
        "''".to_string()
    } else {
        closed_keys
            .iter()
            .map(|k| format!("'{}'", k.replace('\'', "''")))
            .collect::<Vec<_>>()
            .join(",")
    };
    let prev: Option<EvalState> = ws
        .conn()
        .query_row("SELECT value FROM meta WHERE key = ?1", [STATE_KEY], |r| {
            r.get::<_, String>(0)
        })
        .optional()?
        .and_then(|s| serde_json::from_str(&s).ok());
    let incremental = match &prev {
        Some(p) if !force_full && p.thresholds == th && p.closed == closed_keys && t >= p.t => {
            Some((p.t, p.seq))
        }
        _ => None,
    };
    ws.write("rules", |w| {
        let mut out = Evaluation {
            full: incremental.is_none(),
            ..Default::default()
        };
        let scopes: Vec<Scope> = match incremental {
            None => vec![Scope::Full],
            Some((prev_t, seq)) => {
                mark_dirty(w, seq)?;
                vec![Scope::Window(prev_t), Scope::Dirty]
            }
        };
        // Resolve: customer rules whose customer was followed up (the count
        // starts from a new time), left the lead status, was lost or deleted;
        // opportunity rules whose opportunity moved on.
        // Changed entities only: through alerts_entity (entity, entity_id),
        // one seek per changed customer or opportunity.
        let only_dirty = if incremental.is_some() {
            "AND id IN (SELECT a.id FROM temp.alert_dirty d CROSS JOIN alerts a INDEXED BY alerts_entity
                 ON a.entity IN ('customer', 'opportunity') AND a.entity_id = d.id)"
        } else {
            ""
        };
        let resolved: Vec<String> = {
            let mut stmt = w.tx().prepare(&format!(
                "UPDATE alerts SET resolved_at = ?1
                 WHERE dismissed_at IS NULL AND resolved_at IS NULL {only_dirty} AND (
                   (entity = 'customer' AND NOT EXISTS (
                      SELECT 1 FROM customers c WHERE c.id = alerts.entity_id AND c.deleted_at IS NULL
                        AND coalesce(c.last_followup_at, c.created_at) = alerts.since
                        AND (alerts.rule NOT IN ('lead_owner', 'lead_manager') OR c.status = 'prospect')
                        AND c.status <> 'lost'))
                   OR (entity = 'opportunity' AND NOT EXISTS (
                      SELECT 1 FROM opportunities o JOIN customers c ON c.id = o.customer_id
                      WHERE o.id = alerts.entity_id AND o.deleted_at IS NULL AND c.deleted_at IS NULL
                        AND o.stage_entered_at = alerts.since AND o.stage NOT IN ({closed}))))
                 RETURNING id"
            ))?;
            let rows = stmt.query_map([t], |r| r.get(0))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        for id in &resolved {
            w.log("alert", id, "resolved_at", None, Some(t.into()))?;
        }
        out.resolved = resolved.len();

        // Raise.
        let customer_rule = |rule: Rule, days: i64, lead: bool, scope: Scope| {
            let since = "coalesce(c.last_followup_at, c.created_at)";
            let (index, extra) = match scope {
                Scope::Full => (
                    format!("INDEXED BY {}", if lead { "customers_live_lead" } else { "customers_live_contact" }),
                    String::new(),
                ),
                Scope::Window(prev) => (
                    format!("INDEXED BY {}", if lead { "customers_live_lead" } else { "customers_live_contact" }),
                    format!("AND {since} > {}", prev - days * DAY),
                ),
                Scope::Dirty => (String::new(), "AND c.id IN (SELECT id FROM temp.alert_dirty)".into()),
            };
            format!(
                "SELECT '{rule}', 'customer', c.id, c.id, '{aud}', c.owner_id,
                        '{rule}:' || c.id || ':' || {since}, {since}
                 FROM customers c {index}
                 WHERE {status} AND c.deleted_at IS NULL
                   AND {since} <= {cutoff} {extra}
                   AND NOT EXISTS (SELECT 1 FROM alerts a WHERE a.condition_key =
                        '{rule}:' || c.id || ':' || {since})",
                rule = rule.key(),
                aud = if rule == Rule::LeadManager { "manager" } else { "owner" },
                status = if lead { "c.status = 'prospect'" } else { "c.status <> 'lost'" },
                cutoff = t - days * DAY,
            )
        };
        let opportunity_rule = |scope: Scope| {
            let days = th.opportunity_stage_days;
            let extra = match scope {
                Scope::Full => String::new(),
                Scope::Window(prev) => format!("AND o.stage_entered_at >= {}", prev - days * DAY),
                Scope::Dirty => "AND o.id IN (SELECT id FROM temp.alert_dirty)".into(),
            };
            format!(
                "SELECT 'opportunity_stale', 'opportunity', o.id, o.customer_id, 'owner', o.owner_id,
                        'opportunity_stale:' || o.id || ':' || o.stage || ':' || o.stage_entered_at,
                        o.stage_entered_at
                 FROM opportunities o JOIN customers c ON c.id = o.customer_id
                 WHERE o.deleted_at IS NULL AND c.deleted_at IS NULL AND o.stage NOT IN ({closed})
                   AND o.stage_entered_at < {cutoff} {extra}
                   AND NOT EXISTS (SELECT 1 FROM alerts a WHERE a.condition_key =
                        'opportunity_stale:' || o.id || ':' || o.stage || ':' || o.stage_entered_at)",
                cutoff = t - days * DAY,
            )
        };
        let mut queries = vec![];
        for &scope in &scopes {
            queries.push(customer_rule(Rule::LeadOwner, th.lead_owner_days, true, scope));
            queries.push(customer_rule(Rule::LeadManager, th.lead_manager_days, true, scope));
            queries.push(customer_rule(Rule::ChurnRisk, th.churn_days, false, scope));
            queries.push(opportunity_rule(scope));
        }
        for q in &queries {
            type Cand = (String, String, String, String, String, Option<String>, String, i64);
            let cands: Vec<Cand> = {
                let mut stmt = w.tx().prepare(q)?;
                let rows = stmt.query_map([], |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                        r.get(6)?,
                        r.get(7)?,
                    ))
                })?;
                rows.collect::<rusqlite::Result<_>>()?
            };
            for (rule, entity, entity_id, customer_id, audience, owner_id, key, since) in cands {
                let id = crate::new_id();
                let n = w
                    .tx()
                    .prepare_cached(
                        "INSERT OR IGNORE INTO alerts(id, rule, entity, entity_id, customer_id, audience, owner_id,
                            condition_key, since, raised_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                    )?
                    .execute(params![
                        id, rule, entity, entity_id, customer_id, audience, owner_id, key, since, t
                    ])?;
                if n == 0 {
                    continue;
                }
                w.log(
                    "alert",
                    &id,
                    "*",
                    None,
                    Some(serde_json::json!({
                        "rule": rule, "entity": entity, "entity_id": entity_id,
                        "customer_id": customer_id, "audience": audience, "owner_id": owner_id,
                        "condition_key": key, "since": since, "raised_at": t,
                    })),
                )?;
                out.raised += 1;
            }
        }
        // Remember where this evaluation left off (after its own log entries).
        let seq: i64 = w
            .tx()
            .query_row("SELECT coalesce(max(seq), 0) FROM changes", [], |r| r.get(0))?;
        let state = EvalState {
            t,
            seq,
            thresholds: th,
            closed: closed_keys.clone(),
        };
        w.tx().execute(
            "INSERT INTO meta(key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            params![STATE_KEY, serde_json::to_string(&state)?],
        )?;
        Ok(out)
    })
}

/// Fill `temp.alert_dirty` with the customers and opportunities changed
/// since change-log entry `seq` (and the opportunities of changed customers).
fn mark_dirty(w: &Writer, seq: i64) -> Result<()> {
    let tx = w.tx();
    tx.execute_batch(
        "CREATE TEMP TABLE IF NOT EXISTS alert_dirty(id TEXT PRIMARY KEY) WITHOUT ROWID;
         DELETE FROM temp.alert_dirty;",
    )?;
    tx.execute(
        "INSERT OR IGNORE INTO temp.alert_dirty(id)
         SELECT entity_id FROM changes WHERE seq > ?1 AND +entity IN ('customer', 'opportunity')",
        [seq],
    )?;
    tx.execute(
        "INSERT OR IGNORE INTO temp.alert_dirty(id)
         SELECT f.customer_id FROM changes ch JOIN followups f ON f.id = ch.entity_id
         WHERE ch.seq > ?1 AND +ch.entity = 'followup'",
        [seq],
    )?;
    tx.execute(
        "INSERT OR IGNORE INTO temp.alert_dirty(id)
         SELECT o.customer_id FROM opportunities o WHERE o.id IN (SELECT id FROM temp.alert_dirty)",
        [],
    )?;
    tx.execute(
        "INSERT OR IGNORE INTO temp.alert_dirty(id)
         SELECT o.id FROM opportunities o WHERE o.customer_id IN (SELECT id FROM temp.alert_dirty)",
        [],
    )?;
    Ok(())
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, TS)]
#[serde(default)]
#[ts(export)]
pub struct AlertQuery {
    /// Only alerts for this owner (owner-audience alerts of their customers).
    pub owner_id: Option<String>,
    /// Include manager-audience alerts (a manager's view).
    pub manager: bool,
    pub rule: Option<Rule>,
    pub limit: Option<usize>,
}

/// Active alerts (neither dismissed nor resolved), newest first, and how
/// many there are in all.
pub fn active(
    conn: &Connection,
    t: Millis,
    q: &AlertQuery,
    lang: Lang,
) -> Result<(i64, Vec<Alert>)> {
    active_capped(conn, t, q, lang, i64::MAX)
}

/// [`active`] with the total counted up to `cap`.
pub fn active_capped(
    conn: &Connection,
    t: Millis,
    q: &AlertQuery,
    lang: Lang,
    cap: i64,
) -> Result<(i64, Vec<Alert>)> {
    let mut filter = String::from("a.dismissed_at IS NULL AND a.resolved_at IS NULL");
    let mut args: Vec<rusqlite::types::Value> = vec![];
    if let Some(o) = &q.owner_id {
        args.push(o.clone().into());
        if q.manager {
            filter += &format!(
                " AND (a.owner_id = ?{} OR a.audience = 'manager')",
                args.len()
            );
        } else {
            filter += &format!(" AND a.owner_id = ?{} AND a.audience = 'owner'", args.len());
        }
    }
    if let Some(r) = q.rule {
        args.push(r.key().to_string().into());
        filter += &format!(" AND a.rule = ?{}", args.len());
    }
    let index = if q.owner_id.is_some() && !q.manager {
        "alerts_active_owner"
    } else {
        "alerts_active"
    };
    let total: i64 = conn.query_row(
        &format!(
            "SELECT count(*) FROM (SELECT 1 FROM alerts a INDEXED BY {index} WHERE {filter} LIMIT {cap})"
        ),
        rusqlite::params_from_iter(args.clone()),
        |r| r.get(0),
    )?;
    let sql = format!(
        "SELECT a.id, a.rule, a.entity, a.entity_id, a.customer_id, c.code, c.name, o.name, a.audience,
                a.owner_id, a.since, a.raised_at
         FROM alerts a INDEXED BY {index} LEFT JOIN customers c ON c.id = a.customer_id
         LEFT JOIN opportunities o ON a.entity = 'opportunity' AND o.id = a.entity_id
         WHERE {filter} ORDER BY a.raised_at DESC, a.id DESC LIMIT {}",
        q.limit.unwrap_or(10_000)
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(rusqlite::params_from_iter(args), |r| {
        let rule = Rule::from_key(&r.get::<_, String>(1)?).unwrap_or(Rule::ChurnRisk);
        let since: i64 = r.get(10)?;
        let days = (t - since).div_euclid(DAY);
        let customer_name: Option<String> = r.get(6)?;
        let opp_name: Option<String> = r.get(7)?;
        let cn = customer_name.clone().unwrap_or_default();
        let message = match (rule, lang) {
            (Rule::LeadOwner | Rule::LeadManager, Lang::Zh) => {
                format!("潜在客户“{cn}”已 {days} 天未跟进")
            }
            (Rule::LeadOwner | Rule::LeadManager, Lang::En) => {
                format!("Lead “{cn}” not followed up for {days} days")
            }
            (Rule::OpportunityStale, Lang::Zh) => format!(
                "销售机会“{}”（{cn}）已在当前阶段停留 {days} 天",
                opp_name.clone().unwrap_or_default()
            ),
            (Rule::OpportunityStale, Lang::En) => format!(
                "Opportunity “{}” ({cn}) has been in its stage for {days} days",
                opp_name.clone().unwrap_or_default()
            ),
            (Rule::ChurnRisk, Lang::Zh) => format!("客户“{cn}”已 {days} 天无跟进，有流失风险"),
            (Rule::ChurnRisk, Lang::En) => {
                format!("“{cn}” has had no follow-up for {days} days: churn risk")
            }
        };
        Ok(Alert {
            id: r.get(0)?,
            rule_label: rule.label(lang).to_string(),
            rule,
            entity: r.get(2)?,
            entity_id: r.get(3)?,
            customer_id: r.get(4)?,
            customer_code: r.get(5)?,
            customer_name,
            opportunity_name: opp_name,
            audience: r.get(8)?,
            owner_id: r.get(9)?,
            since,
            days,
            raised_at: r.get(11)?,
            message,
        })
    })?;
    Ok((total, rows.collect::<rusqlite::Result<_>>()?))
}

/// Dismiss an alert (it will not come back for the same condition).
pub fn dismiss(ws: &mut Workspace, id: &str) -> Result<()> {
    let origin = ws.origin.clone();
    ws.write(&origin, |w| {
        let n = w.tx().execute(
            "UPDATE alerts SET dismissed_at = ?2 WHERE id = ?1 AND dismissed_at IS NULL",
            params![id, w.now()],
        )?;
        if n == 0 {
            let exists: bool = w.tx().query_row(
                "SELECT EXISTS(SELECT 1 FROM alerts WHERE id = ?1)",
                [id],
                |r| r.get(0),
            )?;
            if !exists {
                return Err(Error::not_found("alert", id));
            }
            return Ok(());
        }
        w.log(
            "alert",
            id,
            "dismissed_at",
            None,
            Some(Value::from(w.now())),
        )
    })
}

/// Customers marked 流失风险: those with an active churn-risk alert.
pub fn churn_risk_customers(conn: &Connection) -> Result<Vec<String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT customer_id FROM alerts INDEXED BY alerts_active
         WHERE rule = 'churn_risk' AND dismissed_at IS NULL AND resolved_at IS NULL",
    )?;
    let rows = stmt.query_map([], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
