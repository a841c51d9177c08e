//! Customer segments (客户画像, seed 000): 高价值客户, 潜力客户, 流失风险客户.
//! The rules are settings (`analysis.segments`) with the seed's defaults;
//! membership is kept in `customer_segments` (derived data, like the search
//! index) and recomputed for one customer whenever its follow-ups, deals,
//! tags or fields change ([`recompute`]), and for everyone by
//! [`recompute_all`] (time passing makes customers churn risks: the app
//! runs [`refresh_daily`] at start and once a day).

use super::*;
use crate::db::Workspace;
use crate::i18n::Lang;
use std::collections::BTreeMap;

pub const SETTING: &str = "analysis.segments";
pub const HIGH_VALUE: &str = "high_value";
pub const POTENTIAL: &str = "potential";
pub const CHURN_RISK: &str = "churn_risk";
pub const ALL: [&str; 3] = [HIGH_VALUE, POTENTIAL, CHURN_RISK];

/// The segment rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(default)]
#[ts(export)]
pub struct SegmentRules {
    /// 高价值: 年采购额 ≥ this (yuan; default 500,000) …
    pub high_value_annual_purchase: f64,
    /// … and 复购率 ≥ this (default 0.8). 复购率 of a customer = repeat
    /// wins / wins = (won deals − 1) / won deals (none won: not high value).
    pub high_value_repurchase_rate: f64,
    /// 潜力: at least this many done follow-ups (default 3) …
    pub potential_followups: i64,
    /// … in the last this many days (default 90, 近3个月) …
    pub potential_days: i64,
    /// … and 需求匹配度 ≥ this (default 0.7). 需求匹配度 = share of the
    /// customer's need tags that are in `matching_tags` (no need tags: not
    /// potential).
    pub potential_need_match: f64,
    /// Tag names that describe needs; empty = every tag is a need tag.
    pub need_tags: Vec<String>,
    /// Need tags the user marks as matching our offer.
    pub matching_tags: Vec<String>,
    /// 流失风险: no done follow-up (or since creation, when none) for this
    /// many days (default 60, 近2个月无跟进) …
    pub churn_days: i64,
    /// … or feedback / content of a follow-up done in the last `churn_days`
    /// days containing one of these phrases (default 价格过高).
    pub churn_phrases: Vec<String>,
    /// Recommended action per segment key, shown on the customer; editable.
    pub actions: BTreeMap<String, String>,
}

impl Default for SegmentRules {
    fn default() -> Self {
        SegmentRules {
            high_value_annual_purchase: 500_000.0,
            high_value_repurchase_rate: 0.8,
            potential_followups: 3,
            potential_days: 90,
            potential_need_match: 0.7,
            need_tags: vec![],
            matching_tags: vec![],
            churn_days: 60,
            churn_phrases: vec!["价格过高".into()],
            actions: [
                (HIGH_VALUE, "安排专人对接，提供定制化服务"),
                (POTENTIAL, "增加跟进频次，推送匹配产品资料"),
                (CHURN_RISK, "进行原因调研，制定挽回方案"),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        }
    }
}

pub fn label(key: &str, lang: Lang) -> &'static str {
    match key {
        HIGH_VALUE => lang.pick("高价值客户", "High value"),
        POTENTIAL => lang.pick("潜力客户", "Potential"),
        CHURN_RISK => lang.pick("流失风险客户", "Churn risk"),
        _ => lang.pick("其他", "Other"),
    }
}

pub fn rules(conn: &Connection) -> Result<SegmentRules> {
    Ok(settings::get(conn, SETTING)?.unwrap_or_default())
}

/// Save new rules and recompute every customer.
pub fn set_rules(ws: &mut Workspace, r: SegmentRules) -> Result<usize> {
    for (k, v) in [
        ("high_value_annual_purchase", r.high_value_annual_purchase),
        ("high_value_repurchase_rate", r.high_value_repurchase_rate),
        ("potential_need_match", r.potential_need_match),
    ] {
        if !v.is_finite() || v < 0.0 {
            return Err(Error::validation(
                k,
                "阈值必须是不小于 0 的数字",
                "A threshold must be a number ≥ 0",
            ));
        }
    }
    if r.potential_days <= 0 || r.churn_days <= 0 || r.potential_followups < 0 {
        return Err(Error::validation(
            "churn_days",
            "天数必须大于 0",
            "Day counts must be greater than 0",
        ));
    }
    for segment in r.actions.keys() {
        known_segment("actions", segment)?;
    }
    let origin = ws.origin.clone();
    ws.write(&origin, |w| settings::put(w, SETTING, &r))?;
    let now = ws.now_ms();
    recompute_all(ws, now)
}

/// Refuse a segment key that is not one of [`ALL`] (`field`: where it was given).
fn known_segment(field: &str, segment: &str) -> Result<()> {
    if ALL.contains(&segment) {
        return Ok(());
    }
    Err(Error::validation(
        field,
        format!("没有“{segment}”这个客户画像：可用 high_value、potential、churn_risk"),
        format!("Unknown segment “{segment}”: use high_value, potential or churn_risk"),
    ))
}

/// Change the recommended action of one segment.
pub fn set_action(ws: &mut Workspace, segment: &str, action: &str) -> Result<()> {
    known_segment("segment", segment)?;
    let mut r = rules(ws.conn())?;
    r.actions
        .insert(segment.to_string(), action.trim().to_string());
    let origin = ws.origin.clone();
    ws.write(&origin, |w| settings::put(w, SETTING, &r))
}

/// What the rules read about one customer.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct SegmentInputs {
    pub annual_purchase: Option<f64>,
    pub won_deals: i64,
    pub repurchase_rate: Option<f64>,
    pub recent_followups: i64,
    pub need_match: Option<f64>,
    /// Days since the last done follow-up (or creation).
    pub days_without_followup: f64,
    /// The churn phrase found in recent feedback, if any.
    pub churn_phrase: Option<String>,
}

/// The inputs and resulting segments of one live customer at `now`.
pub fn evaluate(
    conn: &Connection,
    r: &SegmentRules,
    pipe: &Pipe,
    customer_id: &str,
    now: i64,
) -> Result<Option<(SegmentInputs, Vec<&'static str>)>> {
    let row: Option<(Option<f64>, String, i64, Option<i64>)> = conn
        .prepare_cached(
            "SELECT annual_purchase, status, created_at,
                (SELECT max(done_at) FROM followups WHERE customer_id = c.id AND status = 'done' AND deleted_at IS NULL)
             FROM customers c WHERE id = ?1 AND deleted_at IS NULL",
        )?
        .query_row([customer_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .optional()?;
    let Some((annual, status, created, last_fu)) = row else {
        return Ok(None);
    };
    let won_deals = opps_of_customer(conn, pipe, customer_id)?
        .iter()
        .filter(|o| matches!(o.outcome(pipe), Outcome::Won(_)))
        .count() as i64;
    let repurchase_rate = ratio((won_deals - 1).max(0) as f64, won_deals as f64);
    let recent_followups: i64 = conn
        .prepare_cached(
            "SELECT count(*) FROM followups WHERE customer_id = ?1 AND status = 'done'
               AND deleted_at IS NULL AND done_at >= ?2",
        )?
        .query_row(
            params![customer_id, now - r.potential_days * 86_400_000],
            |r| r.get(0),
        )?;
    let tags: Vec<String> = conn
        .prepare_cached(
            "SELECT t.name FROM customer_tags ct JOIN tags t ON t.id = ct.tag_id
             WHERE ct.customer_id = ?1 AND t.deleted_at IS NULL",
        )?
        .query_map([customer_id], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let needs: Vec<&String> = tags
        .iter()
        .filter(|t| r.need_tags.is_empty() || r.need_tags.contains(t))
        .collect();
    let matching = needs.iter().filter(|t| r.matching_tags.contains(t)).count();
    let need_match = ratio(matching as f64, needs.len() as f64);
    let since = now - r.churn_days * 86_400_000;
    let mut churn_phrase = None;
    if !r.churn_phrases.is_empty() {
        let mut stmt = conn.prepare_cached(
            "SELECT coalesce(feedback, '') || ' ' || coalesce(content, '') FROM followups
             WHERE customer_id = ?1 AND status = 'done' AND deleted_at IS NULL AND done_at >= ?2",
        )?;
        for text in stmt.query_map(params![customer_id, since], |r| r.get::<_, String>(0))? {
            let text = text?;
            if let Some(p) = r
                .churn_phrases
                .iter()
                .find(|p| !p.is_empty() && text.contains(p.as_str()))
            {
                churn_phrase = Some(p.clone());
                break;
            }
        }
    }
    let inputs = SegmentInputs {
        annual_purchase: annual,
        won_deals,
        repurchase_rate,
        recent_followups,
        need_match,
        days_without_followup: days(last_fu.unwrap_or(created), now).max(0.0),
        churn_phrase,
    };
    let mut segs = vec![];
    if annual.is_some_and(|a| a >= r.high_value_annual_purchase)
        && repurchase_rate.is_some_and(|x| x >= r.high_value_repurchase_rate)
    {
        segs.push(HIGH_VALUE);
    }
    if recent_followups >= r.potential_followups
        && need_match.is_some_and(|m| m >= r.potential_need_match)
    {
        segs.push(POTENTIAL);
    }
    if status != "lost"
        && (inputs.days_without_followup >= r.churn_days as f64 || inputs.churn_phrase.is_some())
    {
        segs.push(CHURN_RISK);
    }
    Ok(Some((inputs, segs)))
}

/// Recompute the segments of one customer (inside a write: pass `w.tx()`).
/// Returns the segments it is in now.
pub fn recompute(conn: &Connection, customer_id: &str, now: i64) -> Result<Vec<&'static str>> {
    let r = rules(conn)?;
    let pipe = Pipe::load(conn)?;
    recompute_with(conn, &r, &pipe, customer_id, now)
}

/// After tag changes (at the commit of a write, each customer once, with
/// when its tags changed): only need match depends on tags, and it can only
/// qualify when some tags are marked as matching; skip the work otherwise
/// (an import that tags 100k customers stays fast).
pub fn on_tags_changed(
    conn: &Connection,
    customers: &std::collections::BTreeMap<String, i64>,
) -> Result<()> {
    if customers.is_empty() {
        return Ok(());
    }
    if rules(conn)?.matching_tags.is_empty() {
        return Ok(());
    }
    recompute_many(conn, customers.iter().map(|(c, &at)| (c, at)))
}

fn recompute_with(
    conn: &Connection,
    r: &SegmentRules,
    pipe: &Pipe,
    customer_id: &str,
    now: i64,
) -> Result<Vec<&'static str>> {
    let segs = evaluate(conn, r, pipe, customer_id, now)?
        .map(|(_, s)| s)
        .unwrap_or_default();
    let mut del = conn
        .prepare_cached("DELETE FROM customer_segments WHERE customer_id = ?1 AND segment = ?2")?;
    let mut ins = conn.prepare_cached(
        "INSERT INTO customer_segments(customer_id, segment, since) VALUES (?1, ?2, ?3)
         ON CONFLICT(customer_id, segment) DO NOTHING",
    )?;
    for s in ALL {
        if segs.contains(&s) {
            ins.execute(params![customer_id, s, now])?;
        } else {
            del.execute(params![customer_id, s])?;
        }
    }
    Ok(segs)
}

/// Customers recomputed per transaction by [`recompute_all`]: a refresh in
/// the background never holds the write lock for long.
const CHUNK: usize = 2_000;

/// Meta key: the local day everyone's segments were last recomputed.
const REFRESHED_DAY: &str = "segments_refreshed_day";

/// Recompute every live customer; returns how many are in any segment.
/// Segments are derived data, so each chunk commits on its own.
pub fn recompute_all(ws: &mut Workspace, now: i64) -> Result<usize> {
    let conn = ws.conn_mut();
    let r = rules(conn)?;
    let pipe = Pipe::load(conn)?;
    conn.execute(
        "DELETE FROM customer_segments WHERE customer_id IN (SELECT id FROM customers WHERE deleted_at IS NOT NULL)",
        [],
    )?;
    let ids: Vec<String> = conn
        .prepare("SELECT id FROM customers WHERE deleted_at IS NULL")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut n = 0;
    for chunk in ids.chunks(CHUNK) {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        for id in chunk {
            if !recompute_with(&tx, &r, &pipe, id, now)?.is_empty() {
                n += 1;
            }
        }
        tx.commit()?;
    }
    Ok(n)
}

/// Recompute everyone once per local day: time passing makes customers
/// churn risks, and a sync of many customers asks for it ([`refresh_due`]).
/// The app runs it at start and daily. Returns how many are in a segment,
/// when it ran.
pub fn refresh_daily(ws: &mut Workspace) -> Result<Option<usize>> {
    let now = ws.now_ms();
    let day = crate::clock::local_date_compact(now);
    if crate::sync::meta(ws.conn(), REFRESHED_DAY)?.as_deref() == Some(day.as_str()) {
        return Ok(None);
    }
    // Marked first: a sync that asks again while this runs is not lost.
    crate::sync::set_meta(ws.conn(), REFRESHED_DAY, &day)?;
    match recompute_all(ws, now) {
        Ok(n) => Ok(Some(n)),
        Err(e) => {
            let _ = refresh_due(ws.conn());
            Err(e)
        }
    }
}

/// Have the next [`refresh_daily`] recompute everyone, even on the same day.
pub(crate) fn refresh_due(conn: &Connection) -> Result<()> {
    conn.execute("DELETE FROM meta WHERE key = ?1", [REFRESHED_DAY])?;
    Ok(())
}

/// Recompute some customers, each as of its time (inside a write), reading
/// the rules once.
pub(crate) fn recompute_many<'a>(
    conn: &Connection,
    customers: impl IntoIterator<Item = (&'a String, i64)>,
) -> Result<()> {
    let r = rules(conn)?;
    let pipe = Pipe::load(conn)?;
    for (id, now) in customers {
        recompute_with(conn, &r, &pipe, id, now)?;
    }
    Ok(())
}

/// A segment badge on a customer.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct Badge {
    pub segment: String,
    pub label: String,
    /// The recommended action (editable in settings).
    pub action: String,
    #[ts(type = "number")]
    pub since: i64,
}

/// The segments a customer is in, with their recommended actions.
pub fn of_customer(conn: &Connection, customer_id: &str, lang: Lang) -> Result<Vec<Badge>> {
    let r = rules(conn)?;
    let mut stmt = conn.prepare_cached(
        "SELECT segment, since FROM customer_segments WHERE customer_id = ?1 ORDER BY segment",
    )?;
    let rows = stmt.query_map([customer_id], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
    })?;
    let mut out = vec![];
    for row in rows {
        let (segment, since) = row?;
        out.push(Badge {
            label: label(&segment, lang).to_string(),
            action: r.actions.get(&segment).cloned().unwrap_or_default(),
            segment,
            since,
        });
    }
    Ok(out)
}

#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct SegmentCount {
    pub segment: String,
    pub label: String,
    pub count: i64,
    /// count / live customers (of the owner).
    pub share: Option<f64>,
    pub action: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct SegmentSummary {
    pub customers: i64,
    pub segments: Vec<SegmentCount>,
}

/// How many live customers (of an owner) are in each segment.
pub fn summary(conn: &Connection, owner: Option<&str>, lang: Lang) -> Result<SegmentSummary> {
    let r = rules(conn)?;
    let customers: i64 = conn.query_row(
        "SELECT count(*) FROM customers WHERE deleted_at IS NULL AND (?1 IS NULL OR owner_id = ?1)",
        [owner],
        |r| r.get(0),
    )?;
    let mut stmt = conn.prepare_cached(
        "SELECT count(*) FROM customer_segments s JOIN customers c ON c.id = s.customer_id
         WHERE s.segment = ?1 AND c.deleted_at IS NULL AND (?2 IS NULL OR c.owner_id = ?2)",
    )?;
    let mut segments = vec![];
    for s in ALL {
        let count: i64 = stmt.query_row(params![s, owner], |r| r.get(0))?;
        segments.push(SegmentCount {
            segment: s.to_string(),
            label: label(s, lang).to_string(),
            count,
            share: ratio(count as f64, customers as f64),
            action: r.actions.get(s).cloned().unwrap_or_default(),
        });
    }
    Ok(SegmentSummary {
        customers,
        segments,
    })
}
