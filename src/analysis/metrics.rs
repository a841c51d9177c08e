//! The metrics. Each report is one function taking a [`Filter`] and returning
//! one serialisable struct; the CLI's JSON and the UI show the same numbers.

use super::*;
use crate::customers::Status;
use crate::followups::Kind;
use crate::i18n::Lang;
use std::collections::{BTreeMap, HashMap, HashSet};

// ---------------------------------------------------------------- funnels

/// One row of a funnel.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct FunnelStage {
    /// Stage (or status) key.
    pub stage: String,
    pub label: String,
    /// 进入数: records of the cohort that ever reached this stage or a later
    /// one (a deal that skipped a stage counts as having passed it).
    pub entered: i64,
    /// 转化率 = entered(this) / entered(previous); null for the first stage
    /// or when the previous stage has 0.
    pub conversion: Option<f64>,
    /// 流失率 = 1 − conversion.
    pub drop: Option<f64>,
    /// 平均停留天数: mean days of the completed stays in this stage (each
    /// stay that ended counts once; the current stay is not counted).
    pub avg_days: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct LossReason {
    pub reason: String,
    /// Lost opportunities with this reason.
    pub count: i64,
    /// The customers of those opportunities (a customer with two such
    /// deals counts once): what the customer list shows for this reason.
    pub customers: i64,
    /// count / all lost records of the cohort.
    pub share: f64,
}

/// A funnel: pipeline (销售漏斗) or customer status (客户漏斗).
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct Funnel {
    /// Size of the cohort: opportunities (customers) created in the period.
    pub total: i64,
    pub stages: Vec<FunnelStage>,
    /// 输单 (流失): records of the cohort that are lost now.
    pub lost: i64,
    /// The 3 most frequent loss reasons of the lost ones, with their share
    /// of all lost (ties: alphabetical).
    pub loss_reasons: Vec<LossReason>,
}

fn funnel_rows(
    labels: Vec<(String, String)>,
    entered: Vec<i64>,
    stays: Vec<Vec<f64>>,
) -> Vec<FunnelStage> {
    let mut rows = vec![];
    for (k, (key, label)) in labels.into_iter().enumerate() {
        let conversion = if k == 0 {
            None
        } else {
            ratio(entered[k] as f64, entered[k - 1] as f64)
        };
        rows.push(FunnelStage {
            stage: key,
            label,
            entered: entered[k],
            conversion,
            drop: conversion.map(|c| 1.0 - c),
            avg_days: mean(&stays[k]),
        });
    }
    rows
}

/// 销售漏斗 over the opportunities created in the period.
pub fn pipeline_funnel(conn: &Connection, f: &Filter, lang: Lang) -> Result<Funnel> {
    let pipe = Pipe::load(conn)?;
    let opps = opps_created(conn, &pipe, f)?;
    Ok(pipeline_funnel_of(&pipe, &opps, lang))
}

pub fn pipeline_funnel_of(pipe: &Pipe, opps: &[OppFacts], lang: Lang) -> Funnel {
    let n = pipe.stages.len();
    let mut entered = vec![0i64; n];
    let mut stays: Vec<Vec<f64>> = vec![vec![]; n];
    let mut lost = 0;
    let mut reasons: BTreeMap<String, (i64, HashSet<&str>)> = BTreeMap::new();
    for o in opps {
        if let Some(m) = o.max_reached() {
            for e in entered.iter_mut().take(m + 1) {
                *e += 1;
            }
        }
        for s in &o.stays {
            if let (Some(i), Some(left)) = (s.idx, s.left) {
                stays[i].push(days(s.entered, left));
            }
        }
        if let Outcome::Lost(_) = o.outcome(pipe) {
            lost += 1;
            let r = o
                .reason_given()
                .map(str::to_string)
                .unwrap_or_else(|| lang.pick(NOT_GIVEN.0, NOT_GIVEN.1).to_string());
            let e = reasons.entry(r).or_default();
            e.0 += 1;
            e.1.insert(o.customer_id.as_str());
        }
    }
    let labels = pipe
        .stages
        .iter()
        .map(|s| (s.key.clone(), s.label(lang)))
        .collect();
    Funnel {
        total: opps.len() as i64,
        stages: funnel_rows(labels, entered, stays),
        lost,
        loss_reasons: top_reasons(reasons, lost),
    }
}

fn top_reasons(reasons: BTreeMap<String, (i64, HashSet<&str>)>, lost: i64) -> Vec<LossReason> {
    let mut v: Vec<_> = reasons.into_iter().collect();
    v.sort_by(|a, b| b.1 .0.cmp(&a.1 .0).then(a.0.cmp(&b.0)));
    v.into_iter()
        .take(3)
        .map(|(reason, (count, custs))| LossReason {
            reason,
            count,
            customers: custs.len() as i64,
            share: count as f64 / lost as f64,
        })
        .collect()
}

/// The label of a loss without a reason ("未填写" / "Not given"), as the
/// loss-reason and source breakdowns show it.
pub const NOT_GIVEN: (&str, &str) = ("未填写", "Not given");

/// Whether a breakdown key names "no value" (in either language).
pub fn is_not_given(key: &str) -> bool {
    key == NOT_GIVEN.0 || key == NOT_GIVEN.1
}

/// The customers behind one loss-reason bar: those with an opportunity
/// created in the period (of the owner) that is lost now for `reason`
/// ("未填写" / "Not given" = no reason given). Sorted ids.
pub fn lost_customers(conn: &Connection, f: &Filter, reason: &str) -> Result<Vec<String>> {
    let pipe = Pipe::load(conn)?;
    let mut ids: Vec<String> = opps_created(conn, &pipe, f)?
        .into_iter()
        .filter(|o| matches!(o.outcome(&pipe), Outcome::Lost(_)))
        .filter(|o| match o.reason_given() {
            Some(r) => r == reason,
            None => is_not_given(reason),
        })
        .map(|o| o.customer_id)
        .collect();
    ids.sort_unstable();
    ids.dedup();
    Ok(ids)
}

/// 客户漏斗 (潜在 → 意向 → 成交; 流失 aside) over the customers created in
/// the period, from their status history in the change log.
pub fn customer_funnel(conn: &Connection, f: &Filter, lang: Lang) -> Result<Funnel> {
    let custs = customers_created(conn, f)?;
    Ok(customer_funnel_of(&custs, lang))
}

pub fn customer_funnel_of(custs: &[CustFacts], lang: Lang) -> Funnel {
    let order = [Status::Prospect, Status::Interested, Status::Won];
    let mut entered = vec![0i64; 3];
    let mut stays: Vec<Vec<f64>> = vec![vec![]; 3];
    let mut lost = 0;
    for c in custs {
        if let Some(m) = c.max_rank() {
            for e in entered.iter_mut().take(m + 1) {
                *e += 1;
            }
        }
        for w in c.statuses.windows(2) {
            if let Some(i) = status_rank(&w[0].0) {
                stays[i].push(days(w[0].1, w[1].1));
            }
        }
        if c.status == "lost" {
            lost += 1;
        }
    }
    let labels = order
        .iter()
        .map(|s| (s.key().to_string(), s.label(lang).to_string()))
        .collect();
    Funnel {
        total: custs.len() as i64,
        stages: funnel_rows(labels, entered, stays),
        lost,
        loss_reasons: vec![],
    }
}

// ------------------------------------------------------ conversion, cycle

/// 转化: leads and deals.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct Conversion {
    /// Customers (leads) created in the period.
    pub leads: i64,
    /// Of those, how many ever reached 意向 or later (成交), by the status history.
    pub converted: i64,
    /// 线索转化率 = converted / leads.
    pub lead_conversion: Option<f64>,
    /// Opportunities won in the period (by win time).
    pub won: i64,
    /// Opportunities lost in the period (by loss time).
    pub lost: i64,
    /// 商机赢单率 = won / (won + lost), over opportunities closed in the period.
    pub win_rate: Option<f64>,
    /// Opportunities created in the period.
    pub created: i64,
    /// Of those, how many are won now.
    pub created_won: i64,
    /// won / created: created_won / created.
    pub win_rate_of_created: Option<f64>,
}

pub fn conversion(conn: &Connection, f: &Filter) -> Result<Conversion> {
    let pipe = Pipe::load(conn)?;
    let custs = customers_created(conn, f)?;
    let closed = opps_closed(conn, &pipe, f)?;
    let created = opps_created(conn, &pipe, f)?;
    Ok(conversion_of(&pipe, &custs, &closed, &created))
}

pub fn conversion_of(
    pipe: &Pipe,
    custs: &[CustFacts],
    closed: &[OppFacts],
    created: &[OppFacts],
) -> Conversion {
    let leads = custs.len() as i64;
    let converted = custs
        .iter()
        .filter(|c| c.max_rank().is_some_and(|r| r >= 1))
        .count() as i64;
    let won = closed
        .iter()
        .filter(|o| matches!(o.outcome(pipe), Outcome::Won(_)))
        .count() as i64;
    let lost = closed.len() as i64 - won;
    let created_won = created
        .iter()
        .filter(|o| matches!(o.outcome(pipe), Outcome::Won(_)))
        .count() as i64;
    Conversion {
        leads,
        converted,
        lead_conversion: ratio(converted as f64, leads as f64),
        won,
        lost,
        win_rate: ratio(won as f64, (won + lost) as f64),
        created: created.len() as i64,
        created_won,
        win_rate_of_created: ratio(created_won as f64, created.len() as f64),
    }
}

/// 成交周期.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct Cycle {
    /// Opportunities won in the period.
    pub wins: i64,
    /// 平均成交周期 = mean days from the customer's 首次接触日期 (local
    /// midnight; its creation time when not set) to the win, over the wins
    /// in the period. A win dated before the first contact counts as 0 days.
    pub avg_cycle_days: Option<f64>,
    /// The median of the same days.
    pub median_cycle_days: Option<f64>,
}

pub fn cycle(conn: &Connection, f: &Filter) -> Result<Cycle> {
    let pipe = Pipe::load(conn)?;
    let closed = opps_closed(conn, &pipe, f)?;
    let info = customer_info(
        conn,
        closed
            .iter()
            .filter(|o| matches!(o.outcome(&pipe), Outcome::Won(_)))
            .map(|o| o.customer_id.as_str()),
    )?;
    let starts = info.into_iter().map(|(k, v)| (k, v.start)).collect();
    Ok(cycle_of(&pipe, &closed, &starts))
}

/// What the cycle and the breakdowns need of a customer.
pub struct CustomerInfo {
    /// 首次接触日期 at local midnight, else the creation time.
    pub start: i64,
    pub province: String,
    pub industry: String,
}

/// [`CustomerInfo`] of many customers in one query.
pub fn customer_info<'a>(
    conn: &Connection,
    ids: impl Iterator<Item = &'a str>,
) -> Result<HashMap<String, CustomerInfo>> {
    let mut ids: Vec<&str> = ids.collect();
    ids.sort_unstable();
    ids.dedup();
    let mut stmt = conn.prepare_cached(
        "SELECT c.id, c.created_at, c.first_contact_date, coalesce(c.province, ''), coalesce(c.industry, '')
         FROM json_each(?1) j JOIN customers c ON c.id = j.value",
    )?;
    let mut out = HashMap::new();
    let mut rows = stmt.query([serde_json::to_string(&ids)?])?;
    while let Some(r) = rows.next()? {
        let created: i64 = r.get(1)?;
        let fc: Option<String> = r.get(2)?;
        out.insert(
            r.get::<_, String>(0)?,
            CustomerInfo {
                start: fc
                    .as_deref()
                    .and_then(crate::dates::parse_date)
                    .map(local_midnight)
                    .unwrap_or(created),
                province: r.get(3)?,
                industry: r.get(4)?,
            },
        );
    }
    Ok(out)
}

pub fn cycle_of(pipe: &Pipe, closed: &[OppFacts], starts: &HashMap<String, i64>) -> Cycle {
    let mut d = vec![];
    for o in closed {
        if let Outcome::Won(t) = o.outcome(pipe) {
            let start = starts.get(&o.customer_id).copied().unwrap_or(o.created_at);
            d.push(days(start, t).max(0.0));
        }
    }
    Cycle {
        wins: d.len() as i64,
        avg_cycle_days: mean(&d),
        median_cycle_days: median(&d),
    }
}

// ------------------------------------------------------------------ sales

/// 业绩: amounts, collection and the target.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct Sales {
    /// Opportunities won in the period.
    pub wins: i64,
    /// 销售额 = sum of the won amounts of the wins in the period.
    pub won_amount: f64,
    /// 客单价 = won_amount / wins.
    pub avg_deal: Option<f64>,
    /// 回款金额 = sum of the received amounts (回款) of those wins.
    pub received_amount: f64,
    /// 回款率 = received_amount / won_amount.
    pub collection_rate: Option<f64>,
    /// The amount target of exactly this period (month or quarter) for the
    /// owner, or the team's without an owner; null when none is set.
    pub target_amount: Option<f64>,
    /// 目标完成率 = won_amount / target_amount.
    pub target_completion: Option<f64>,
    /// Expected amount at the period's end at the current daily run rate:
    /// won_amount / days elapsed × days in the period (= won_amount once the
    /// period is over; null before it starts).
    pub projected_amount: Option<f64>,
    /// 预计完成率 = projected_amount / target_amount.
    pub projected_completion: Option<f64>,
    /// 还差 = max(0, target − won_amount), yuan.
    pub remaining: Option<f64>,
    /// 业绩缺口 = max(0, target − projected_amount), yuan.
    pub shortfall: Option<f64>,
}

pub fn sales(conn: &Connection, f: &Filter, now: i64) -> Result<Sales> {
    let pipe = Pipe::load(conn)?;
    let closed = opps_closed(conn, &pipe, f)?;
    let target = super::targets::target_for(conn, f.owner_id.as_deref(), f.from, f.to)?
        .and_then(|t| t.fields.amount);
    Ok(sales_of(&pipe, &closed, f, now, target))
}

/// Elapsed share of the period at `now`, as (elapsed days, total days);
/// None before the period starts.
pub fn elapsed(f: &Filter, now: i64) -> Option<(f64, f64)> {
    if now <= f.from {
        return None;
    }
    Some((days(f.from, now.min(f.to)), days(f.from, f.to)))
}

/// Run-rate projection of `actual` to the period's end.
pub fn project(actual: f64, f: &Filter, now: i64) -> Option<f64> {
    let (e, total) = elapsed(f, now)?;
    ratio(actual, e).map(|r| r * total)
}

pub fn sales_of(
    pipe: &Pipe,
    closed: &[OppFacts],
    f: &Filter,
    now: i64,
    target: Option<f64>,
) -> Sales {
    let mut wins = 0;
    let mut won_amount = 0.0;
    let mut received = 0.0;
    for o in closed {
        if let Outcome::Won(_) = o.outcome(pipe) {
            wins += 1;
            won_amount += o.deal_amount();
            received += o.received.unwrap_or(0.0);
        }
    }
    let projected = project(won_amount, f, now);
    Sales {
        wins,
        won_amount,
        avg_deal: ratio(won_amount, wins as f64),
        received_amount: received,
        collection_rate: ratio(received, won_amount),
        target_amount: target,
        target_completion: target.and_then(|t| ratio(won_amount, t)),
        projected_amount: projected,
        projected_completion: target.zip(projected).and_then(|(t, p)| ratio(p, t)),
        remaining: target.map(|t| (t - won_amount).max(0.0)),
        shortfall: target.zip(projected).map(|(t, p)| (t - p).max(0.0)),
    }
}

/// 低优先级商机 (seed 004: expected amount 20% below the historical average).
#[derive(Debug, Clone, PartialEq, Serialize, TS, Default)]
#[ts(export)]
pub struct LowPriority {
    /// Mean expected amount of all live opportunities that have one.
    pub historical_avg: Option<f64>,
    /// historical_avg × the setting `low_priority_ratio` (0.8).
    pub threshold: Option<f64>,
    /// Open opportunities (of the owner) whose expected amount is below the
    /// threshold, whenever they were created.
    pub count: i64,
    /// Their ids, at most 100, smallest amount first.
    pub ids: Vec<String>,
}

pub fn low_priority(conn: &Connection, f: &Filter) -> Result<LowPriority> {
    let pipe = Pipe::load(conn)?;
    let set = settings(conn)?;
    let avg: Option<f64> = conn.query_row(
        &format!(
            "SELECT avg(o.expected_amount) FROM opportunities o
             WHERE o.deleted_at IS NULL AND o.customer_id {LIVE_CUSTOMER} AND o.expected_amount IS NOT NULL"
        ),
        [],
        |r| r.get(0),
    )?;
    let Some(avg) = avg else {
        return Ok(LowPriority::default());
    };
    let threshold = avg * set.low_priority_ratio;
    let open: Vec<String> = pipe.stages[..pipe.won_idx]
        .iter()
        .map(|s| format!("'{}'", s.key.replace('\'', "''")))
        .collect();
    if open.is_empty() {
        return Ok(LowPriority {
            historical_avg: Some(avg),
            threshold: Some(threshold),
            ..Default::default()
        });
    }
    let sql = format!(
        "SELECT o.id FROM opportunities o
         WHERE o.deleted_at IS NULL AND o.customer_id {LIVE_CUSTOMER} AND o.stage IN ({})
           AND o.expected_amount < ?1 AND (?2 IS NULL OR o.owner_id = ?2)
         ORDER BY o.expected_amount, o.id",
        open.join(",")
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let ids: Vec<String> = stmt
        .query_map(params![threshold, f.owner_id], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(LowPriority {
        historical_avg: Some(avg),
        threshold: Some(threshold),
        count: ids.len() as i64,
        ids: ids.into_iter().take(100).collect(),
    })
}

/// Whether one opportunity is low priority now (open and below the threshold).
pub fn is_low_priority(conn: &Connection, opportunity_id: &str) -> Result<bool> {
    let lp = low_priority(conn, &Filter::default())?;
    let Some(t) = lp.threshold else {
        return Ok(false);
    };
    let pipe = Pipe::load(conn)?;
    let row: Option<(String, Option<f64>)> = conn
        .query_row(
            "SELECT stage, expected_amount FROM opportunities WHERE id = ?1 AND deleted_at IS NULL",
            [opportunity_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    Ok(match row {
        Some((stage, Some(x))) => pipe.index(&stage).is_some_and(|i| i < pipe.won_idx) && x < t,
        _ => false,
    })
}

// ------------------------------------------------------------- follow-ups

#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct KindCount {
    pub kind: String,
    pub label: String,
    pub count: i64,
}

/// Win rate of a group of leads (by follow-up kind, source or tag).
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct GroupWin {
    pub key: String,
    pub label: String,
    /// Leads (customers created in the period) in the group.
    pub customers: i64,
    /// Of those, won now: status reached 成交 or an opportunity was won.
    pub won: i64,
    /// won / customers.
    pub win_rate: Option<f64>,
    /// Won within `source_win_days` (30) days of creation.
    pub won_30d: i64,
    /// 30天成单率 = won_30d / customers.
    pub win_rate_30d: Option<f64>,
}

/// 跟进活动.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct FollowupActivity {
    /// Follow-ups done in the period (by 实际跟进时间, owner = the follow-up's).
    pub total: i64,
    pub by_kind: Vec<KindCount>,
    /// Of those, marked 有效跟进.
    pub effective: i64,
    /// 有效跟进占比 = effective / total (not judged counts as not effective).
    pub effective_share: Option<f64>,
    /// Leads (customers) created in the period.
    pub leads: i64,
    /// Of those, with at least one done follow-up.
    pub responded: i64,
    /// 跟进响应时长: mean days from a lead's creation to its first done
    /// follow-up, over the responded leads (a follow-up dated before the
    /// creation counts as 0).
    pub avg_response_days: Option<f64>,
    pub median_response_days: Option<f64>,
    /// Win rate of the leads that had a done follow-up of each kind.
    pub win_by_kind: Vec<GroupWin>,
    /// Win rate of the leads carrying each tag (which needs convert best).
    pub win_by_tag: Vec<GroupWin>,
}

/// Per-lead facts the follow-up and source reports need.
#[derive(Debug, Clone)]
pub struct LeadFacts {
    pub cust: CustFacts,
    /// When it was won: status 成交 or the first win of one of its deals.
    pub won_at: Option<i64>,
    pub first_followup: Option<i64>,
    pub kinds: Vec<String>,
    pub tags: Vec<String>,
}

pub fn leads(conn: &Connection, f: &Filter) -> Result<Vec<LeadFacts>> {
    let pipe = Pipe::load(conn)?;
    let custs = customers_created(conn, f)?;
    leads_from(conn, &pipe, f, custs)
}

/// [`leads`] from the customers created in the period, already loaded.
pub fn leads_from(
    conn: &Connection,
    pipe: &Pipe,
    f: &Filter,
    custs: Vec<CustFacts>,
) -> Result<Vec<LeadFacts>> {
    let leads_of = "IN (SELECT id FROM customers WHERE deleted_at IS NULL
        AND created_at >= ?1 AND created_at < ?2 AND (?3 IS NULL OR owner_id = ?3))";
    let mut won: HashMap<String, i64> = HashMap::new();
    for o in opps_of_leads(conn, pipe, f)? {
        if let Outcome::Won(t) = o.outcome(pipe) {
            let w = won.entry(o.customer_id).or_insert(t);
            *w = (*w).min(t);
        }
    }
    let mut kinds: HashMap<String, (Vec<String>, i64)> = HashMap::new();
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT customer_id, kind, min(done_at) FROM followups
         WHERE customer_id {leads_of} AND status = 'done' AND deleted_at IS NULL AND done_at IS NOT NULL
         GROUP BY customer_id, kind"
    ))?;
    let mut rows = stmt.query(params![f.from, f.to, f.owner_id])?;
    while let Some(r) = rows.next()? {
        let t: i64 = r.get(2)?;
        let e = kinds.entry(r.get(0)?).or_insert((vec![], t));
        e.0.push(r.get(1)?);
        e.1 = e.1.min(t);
    }
    let mut tags: HashMap<String, Vec<String>> = HashMap::new();
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT ct.customer_id, t.name FROM customer_tags ct JOIN tags t ON t.id = ct.tag_id
         WHERE ct.customer_id {leads_of} AND t.deleted_at IS NULL ORDER BY t.name"
    ))?;
    let mut rows = stmt.query(params![f.from, f.to, f.owner_id])?;
    while let Some(r) = rows.next()? {
        tags.entry(r.get(0)?).or_default().push(r.get(1)?);
    }
    Ok(custs
        .into_iter()
        .map(|c| {
            let mut won_at = c.status_won_at();
            if let Some(t) = won.get(&c.id) {
                won_at = Some(won_at.map_or(*t, |w| w.min(*t)));
            }
            let (kinds, first) = match kinds.remove(&c.id) {
                Some((k, t)) => (k, Some(t)),
                None => (vec![], None),
            };
            LeadFacts {
                tags: tags.remove(&c.id).unwrap_or_default(),
                won_at,
                first_followup: first,
                kinds,
                cust: c,
            }
        })
        .collect())
}

fn group_wins<'a>(
    groups: impl Iterator<Item = (String, String, &'a LeadFacts)>,
    win_days: i64,
) -> Vec<GroupWin> {
    let mut m: BTreeMap<String, GroupWin> = BTreeMap::new();
    for (key, label, l) in groups {
        let g = m.entry(key.clone()).or_insert(GroupWin {
            key,
            label,
            customers: 0,
            won: 0,
            win_rate: None,
            won_30d: 0,
            win_rate_30d: None,
        });
        g.customers += 1;
        if let Some(w) = l.won_at {
            g.won += 1;
            if w - l.cust.created_at <= win_days * 86_400_000 {
                g.won_30d += 1;
            }
        }
    }
    let mut v: Vec<GroupWin> = m
        .into_values()
        .map(|mut g| {
            g.win_rate = ratio(g.won as f64, g.customers as f64);
            g.win_rate_30d = ratio(g.won_30d as f64, g.customers as f64);
            g
        })
        .collect();
    v.sort_by(|a, b| b.customers.cmp(&a.customers).then(a.key.cmp(&b.key)));
    v
}

pub fn followup_activity(conn: &Connection, f: &Filter, lang: Lang) -> Result<FollowupActivity> {
    let set = settings(conn)?;
    let leads = leads(conn, f)?;
    followup_activity_from(conn, f, &leads, set.source_win_days, lang)
}

/// [`followup_activity`] with the leads of the period already loaded.
pub fn followup_activity_from(
    conn: &Connection,
    f: &Filter,
    leads: &[LeadFacts],
    win_days: i64,
    lang: Lang,
) -> Result<FollowupActivity> {
    let mut stmt = conn.prepare_cached(
        "SELECT kind, count(*), sum(coalesce(effective, 0)) FROM followups
         WHERE status = 'done' AND deleted_at IS NULL AND done_at >= ?1 AND done_at < ?2
           AND (?3 IS NULL OR owner_id = ?3)
           AND customer_id NOT IN (SELECT id FROM customers WHERE deleted_at IS NOT NULL)
         GROUP BY kind",
    )?;
    let mut counts: HashMap<String, (i64, i64)> = HashMap::new();
    for row in stmt.query_map(params![f.from, f.to, f.owner_id], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, i64>(2)?,
        ))
    })? {
        let (k, n, e) = row?;
        counts.insert(k, (n, e));
    }
    let total: i64 = counts.values().map(|c| c.0).sum();
    let effective: i64 = counts.values().map(|c| c.1).sum();
    let by_kind = Kind::ALL
        .iter()
        .map(|k| KindCount {
            kind: k.key().into(),
            label: k.label(lang).into(),
            count: counts.get(k.key()).map_or(0, |c| c.0),
        })
        .collect();
    Ok(followup_activity_of(
        total, effective, by_kind, leads, win_days, lang,
    ))
}

pub fn followup_activity_of(
    total: i64,
    effective: i64,
    by_kind: Vec<KindCount>,
    leads: &[LeadFacts],
    win_days: i64,
    lang: Lang,
) -> FollowupActivity {
    let resp: Vec<f64> = leads
        .iter()
        .filter_map(|l| {
            l.first_followup
                .map(|t| days(l.cust.created_at, t).max(0.0))
        })
        .collect();
    let win_by_kind = group_wins(
        leads.iter().flat_map(|l| {
            l.kinds
                .iter()
                .map(move |k| (k.clone(), Kind::from_key(k).label(lang).to_string(), l))
        }),
        win_days,
    );
    let win_by_tag = group_wins(
        leads
            .iter()
            .flat_map(|l| l.tags.iter().map(move |t| (t.clone(), t.clone(), l))),
        win_days,
    );
    FollowupActivity {
        total,
        by_kind,
        effective,
        effective_share: ratio(effective as f64, total as f64),
        leads: leads.len() as i64,
        responded: resp.len() as i64,
        avg_response_days: mean(&resp),
        median_response_days: median(&resp),
        win_by_kind,
        win_by_tag,
    }
}

/// 线索来源分析.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct Sources {
    /// Days within which a win counts for `win_rate_30d` (setting).
    pub win_days: i64,
    /// One row per 线索来源 of the leads created in the period ("未填写"
    /// for none), largest first.
    pub sources: Vec<GroupWin>,
}

pub fn sources(conn: &Connection, f: &Filter, lang: Lang) -> Result<Sources> {
    let set = settings(conn)?;
    let leads = leads(conn, f)?;
    Ok(sources_of(&leads, set.source_win_days, lang))
}

pub fn sources_of(leads: &[LeadFacts], win_days: i64, lang: Lang) -> Sources {
    let none = lang.pick(NOT_GIVEN.0, NOT_GIVEN.1);
    Sources {
        win_days,
        sources: group_wins(
            leads.iter().map(|l| {
                let s = l.cust.source.clone().unwrap_or_else(|| none.to_string());
                (s.clone(), s, l)
            }),
            win_days,
        ),
    }
}

// -------------------------------------------------------------- dashboard

/// A figure and the same figure in the previous period of equal length.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct Compare {
    pub current: Option<f64>,
    pub previous: Option<f64>,
    /// Relative change (current − previous) / previous; null when either is
    /// null or previous is 0.
    pub change: Option<f64>,
}

impl Compare {
    pub fn new(current: Option<f64>, previous: Option<f64>) -> Self {
        Compare {
            current,
            previous,
            change: current.zip(previous).and_then(|(c, p)| ratio(c - p, p)),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct Breakdown {
    /// Member id, province or industry ("" when not set).
    pub key: String,
    pub label: String,
    pub wins: i64,
    pub won_amount: f64,
}

/// 数据看板.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct Dashboard {
    /// 今日新增线索: customers created today (local day of `now`).
    pub today_new_leads: i64,
    pub sales: Sales,
    pub lead_conversion: Compare,
    pub win_rate: Compare,
    pub avg_cycle_days: Compare,
    pub won_amount: Compare,
    /// Wins in the period by owner, province and industry, largest amount first.
    pub by_owner: Vec<Breakdown>,
    pub by_region: Vec<Breakdown>,
    pub by_industry: Vec<Breakdown>,
}

pub fn dashboard(conn: &Connection, f: &Filter, now: i64) -> Result<Dashboard> {
    let pipe = Pipe::load(conn)?;
    let prev = f.previous();
    let today = local_midnight(local_date(now));
    let tomorrow = local_midnight(local_date(now) + chrono::Duration::days(1));
    let today_new_leads: i64 = conn.query_row(
        "SELECT count(*) FROM customers WHERE deleted_at IS NULL AND created_at >= ?1 AND created_at < ?2
           AND (?3 IS NULL OR owner_id = ?3)",
        params![today, tomorrow, f.owner_id],
        |r| r.get(0),
    )?;
    // Both periods in one pass each: they are adjacent.
    let both = Filter {
        from: prev.from,
        to: f.to,
        owner_id: f.owner_id.clone(),
    };
    let (closed, closed_prev): (Vec<OppFacts>, Vec<OppFacts>) = opps_closed(conn, &pipe, &both)?
        .into_iter()
        .partition(|o| match o.outcome(&pipe) {
            Outcome::Won(t) | Outcome::Lost(t) => f.contains(t),
            Outcome::Open => false,
        });
    // Leads of both periods and how many of them ever reached 意向 or
    // later: the status is that now, or a logged status change went to or
    // came from it (the first change's old value is the status it was
    // created with). The same count as the customer funnel's, from the
    // status-change index alone instead of every creation record.
    let (custs_n, custs_p) = {
        let (mut n, mut p) = ((0, 0), (0, 0));
        let mut stmt = conn.prepare_cached(
            "SELECT c.created_at >= ?4, count(*),
                sum(c.status IN ('interested', 'won') OR EXISTS (
                    SELECT 1 FROM changes ch WHERE ch.entity_id = c.id AND ch.entity = 'customer'
                      AND ch.field = 'status'
                      AND (ch.new IN ('\"interested\"', '\"won\"') OR ch.old IN ('\"interested\"', '\"won\"'))))
             FROM customers c
             WHERE c.deleted_at IS NULL AND c.created_at >= ?1 AND c.created_at < ?2
               AND (?3 IS NULL OR c.owner_id = ?3)
             GROUP BY 1",
        )?;
        let mut rows = stmt.query(params![both.from, both.to, both.owner_id, f.from])?;
        while let Some(r) = rows.next()? {
            let x = if r.get::<_, bool>(0)? { &mut n } else { &mut p };
            *x = (r.get::<_, i64>(1)?, r.get::<_, i64>(2)?);
        }
        (n, p)
    };
    let target = super::targets::target_for(conn, f.owner_id.as_deref(), f.from, f.to)?
        .and_then(|t| t.fields.amount);
    let sales = sales_of(&pipe, &closed, f, now, target);
    let sales_p = sales_of(&pipe, &closed_prev, &prev, now, None);
    let win = |c: &[OppFacts]| {
        let w = c
            .iter()
            .filter(|o| matches!(o.outcome(&pipe), Outcome::Won(_)))
            .count();
        ratio(w as f64, c.len() as f64)
    };
    // The cycle and the breakdowns read the customers of the wins only.
    let info = customer_info(
        conn,
        closed
            .iter()
            .chain(closed_prev.iter())
            .filter(|o| matches!(o.outcome(&pipe), Outcome::Won(_)))
            .map(|o| o.customer_id.as_str()),
    )?;
    let starts: HashMap<String, i64> = info.iter().map(|(k, v)| (k.clone(), v.start)).collect();
    let cyc = cycle_of(&pipe, &closed, &starts);
    let cyc_p = cycle_of(&pipe, &closed_prev, &starts);
    // Breakdowns over the wins of the period.
    let mut by_owner: HashMap<String, Breakdown> = HashMap::new();
    let mut by_region: HashMap<String, Breakdown> = HashMap::new();
    let mut by_industry: HashMap<String, Breakdown> = HashMap::new();
    let names: HashMap<String, String> = crate::members::list(conn)?
        .into_iter()
        .map(|m| (m.id, m.fields.name))
        .collect();
    let none = "—".to_string();
    for o in &closed {
        if !matches!(o.outcome(&pipe), Outcome::Won(_)) {
            continue;
        }
        let (prov, ind) = info
            .get(&o.customer_id)
            .map(|c| (c.province.clone(), c.industry.clone()))
            .unwrap_or_default();
        let owner = o.owner_id.clone().unwrap_or_default();
        let owner_label = names.get(&owner).cloned().unwrap_or_else(|| none.clone());
        for (m, key, label) in [
            (&mut by_owner, owner, owner_label),
            (
                &mut by_region,
                prov.clone(),
                if prov.is_empty() { none.clone() } else { prov },
            ),
            (
                &mut by_industry,
                ind.clone(),
                if ind.is_empty() { none.clone() } else { ind },
            ),
        ] {
            let b = m.entry(key.clone()).or_insert(Breakdown {
                key,
                label,
                wins: 0,
                won_amount: 0.0,
            });
            b.wins += 1;
            b.won_amount += o.deal_amount();
        }
    }
    let sorted = |m: HashMap<String, Breakdown>| {
        let mut v: Vec<_> = m.into_values().collect();
        v.sort_by(|a, b| {
            b.won_amount
                .total_cmp(&a.won_amount)
                .then(a.key.cmp(&b.key))
        });
        v
    };
    Ok(Dashboard {
        today_new_leads,
        lead_conversion: Compare::new(
            ratio(custs_n.1 as f64, custs_n.0 as f64),
            ratio(custs_p.1 as f64, custs_p.0 as f64),
        ),
        win_rate: Compare::new(win(&closed), win(&closed_prev)),
        avg_cycle_days: Compare::new(cyc.avg_cycle_days, cyc_p.avg_cycle_days),
        won_amount: Compare::new(Some(sales.won_amount), Some(sales_p.won_amount)),
        sales,
        by_owner: sorted(by_owner),
        by_region: sorted(by_region),
        by_industry: sorted(by_industry),
    })
}

// ----------------------------------------------------------------- trends

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, Default)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Bucket {
    Day,
    Week,
    #[default]
    Month,
}

impl Bucket {
    pub fn parse(s: &str) -> Option<Bucket> {
        match s.trim().to_lowercase().as_str() {
            "day" | "日" | "按日" => Some(Bucket::Day),
            "week" | "周" | "按周" => Some(Bucket::Week),
            "month" | "月" | "按月" => Some(Bucket::Month),
            _ => None,
        }
    }
}

/// One point of a trend line.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct TrendPoint {
    /// Local date of the bucket's first day, YYYY-MM-DD.
    pub start: String,
    #[ts(type = "number")]
    pub from: i64,
    #[ts(type = "number")]
    pub to: i64,
    /// As [`Sales::won_amount`], for this bucket.
    pub won_amount: f64,
    pub wins: i64,
    /// Customers created in the bucket.
    pub new_customers: i64,
    /// Follow-ups done in the bucket.
    pub followups: i64,
    /// As [`Conversion::lead_conversion`], for the leads created in the bucket.
    pub lead_conversion: Option<f64>,
}

/// Bucket boundaries over [from, to): local days, ISO weeks (Monday) or months.
pub fn buckets(f: &Filter, by: Bucket) -> Vec<(NaiveDate, i64, i64)> {
    let mut d = local_date(f.from);
    d = match by {
        Bucket::Day => d,
        Bucket::Week => d - chrono::Duration::days(d.weekday().num_days_from_monday() as i64),
        Bucket::Month => NaiveDate::from_ymd_opt(d.year(), d.month(), 1).expect("valid"),
    };
    let mut out = vec![];
    while local_midnight(d) < f.to && out.len() < 5000 {
        let next = match by {
            Bucket::Day => d + chrono::Duration::days(1),
            Bucket::Week => d + chrono::Duration::days(7),
            Bucket::Month => d.checked_add_months(chrono::Months::new(1)).expect("valid"),
        };
        let a = local_midnight(d).max(f.from);
        let b = local_midnight(next).min(f.to);
        out.push((d, a, b));
        d = next;
    }
    out
}

pub fn trend(conn: &Connection, f: &Filter, by: Bucket) -> Result<Vec<TrendPoint>> {
    let pipe = Pipe::load(conn)?;
    let closed = opps_closed(conn, &pipe, f)?;
    let custs = customers_created(conn, f)?;
    trend_from(conn, &pipe, f, by, &closed, &custs)
}

/// [`trend`] from the deals closed and customers created in the period,
/// already loaded.
pub fn trend_from(
    conn: &Connection,
    pipe: &Pipe,
    f: &Filter,
    by: Bucket,
    closed: &[OppFacts],
    custs: &[CustFacts],
) -> Result<Vec<TrendPoint>> {
    // Follow-ups are counted per bucket inside SQLite (a covering index
    // range each) rather than returned row by row.
    let mut stmt = conn.prepare_cached(
        "SELECT count(*) FROM followups
         WHERE status = 'done' AND deleted_at IS NULL AND done_at >= ?1 AND done_at < ?2
           AND (?3 IS NULL OR owner_id = ?3)
           AND customer_id NOT IN (SELECT id FROM customers WHERE deleted_at IS NOT NULL)",
    )?;
    let mut out = vec![];
    for (d, a, b) in buckets(f, by) {
        let followups: i64 = stmt.query_row(params![a, b, f.owner_id], |r| r.get(0))?;
        let inb = |t: i64| t >= a && t < b;
        let mut wins = 0;
        let mut amount = 0.0;
        for o in closed {
            if let Outcome::Won(t) = o.outcome(pipe) {
                if inb(t) {
                    wins += 1;
                    amount += o.deal_amount();
                }
            }
        }
        let cs: Vec<_> = custs.iter().filter(|c| inb(c.created_at)).collect();
        let conv = cs
            .iter()
            .filter(|c| c.max_rank().is_some_and(|r| r >= 1))
            .count();
        out.push(TrendPoint {
            start: d.format("%Y-%m-%d").to_string(),
            from: a,
            to: b,
            won_amount: amount,
            wins,
            new_customers: cs.len() as i64,
            followups,
            lead_conversion: ratio(conv as f64, cs.len() as f64),
        });
    }
    Ok(out)
}

// ---------------------------------------------------------------- heatmap

/// Row / column dimension of the heatmap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Dimension {
    Industry,
    Grade,
    Province,
}

impl Dimension {
    fn column(self) -> &'static str {
        match self {
            Dimension::Industry => "industry",
            Dimension::Grade => "grade",
            Dimension::Province => "province",
        }
    }
}

/// One cell of the heatmap.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct HeatCell {
    /// Row value ("" when not set).
    pub row: String,
    pub col: String,
    /// Live customers (of the owner) created before the period's end.
    pub customers: i64,
    /// Won amount of the wins in the period.
    pub won_amount: f64,
}

/// 客户分布热力图: customers and won amount by `rows` × `cols` (e.g.
/// industry × province, grade × province).
pub fn heatmap(
    conn: &Connection,
    f: &Filter,
    rows: Dimension,
    cols: Dimension,
) -> Result<Vec<HeatCell>> {
    let (r, c) = (rows.column(), cols.column());
    let mut cells: BTreeMap<(String, String), HeatCell> = BTreeMap::new();
    let sql = format!(
        "SELECT coalesce({r}, ''), coalesce({c}, ''), count(*) FROM customers
         WHERE deleted_at IS NULL AND created_at < ?1 AND (?2 IS NULL OR owner_id = ?2) GROUP BY 1, 2"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut q = stmt.query(params![f.to, f.owner_id])?;
    while let Some(x) = q.next()? {
        let key: (String, String) = (x.get(0)?, x.get(1)?);
        cells.insert(
            key.clone(),
            HeatCell {
                row: key.0,
                col: key.1,
                customers: x.get(2)?,
                won_amount: 0.0,
            },
        );
    }
    let pipe = Pipe::load(conn)?;
    let wins: Vec<OppFacts> = opps_closed(conn, &pipe, f)?
        .into_iter()
        .filter(|o| matches!(o.outcome(&pipe), Outcome::Won(_)))
        .collect();
    let ids: Vec<&str> = wins.iter().map(|o| o.customer_id.as_str()).collect();
    let sql = format!(
        "SELECT c.id, coalesce(c.{r}, ''), coalesce(c.{c}, '') FROM json_each(?1) j JOIN customers c ON c.id = j.value"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let dims: HashMap<String, (String, String)> = stmt
        .query_map([serde_json::to_string(&ids)?], |x| {
            Ok((x.get::<_, String>(0)?, (x.get(1)?, x.get(2)?)))
        })?
        .collect::<rusqlite::Result<_>>()?;
    for o in &wins {
        if let Some(key) = dims.get(&o.customer_id) {
            let cell = cells.entry(key.clone()).or_insert(HeatCell {
                row: key.0.clone(),
                col: key.1.clone(),
                customers: 0,
                won_amount: 0.0,
            });
            cell.won_amount += o.deal_amount();
        }
    }
    Ok(cells.into_values().collect())
}
