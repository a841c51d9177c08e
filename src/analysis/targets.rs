//! Sales targets (销售目标): monthly or quarterly, per member and for the
//! team; amount, wins and new customers. Completion, ranking and the
//! run-rate projection (see [`super::Sales`]).

use super::*;
use crate::changelog::Writer;
use crate::db::Workspace;
use crate::i18n::Lang;
use serde_json::Value;
use std::collections::HashMap;

/// What a target asks for; any part may be unset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, Default)]
#[serde(default)]
#[ts(export)]
pub struct TargetFields {
    /// 销售额目标 (yuan).
    pub amount: Option<f64>,
    /// 成交单数目标.
    pub wins: Option<i64>,
    /// 新客户数目标.
    pub new_customers: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct Target {
    pub id: String,
    /// None = the team.
    pub owner_id: Option<String>,
    /// `2026-11` or `2026-Q4`.
    pub period: String,
    #[serde(flatten)]
    pub fields: TargetFields,
}

/// A period text: `2026-11` (month) or `2026-Q4` (quarter), to its local
/// [from, to) and its normalised spelling.
pub fn parse_period(text: &str) -> Result<(String, i64, i64)> {
    let t = text.trim().to_uppercase().replace(['/', '.'], "-");
    let bad = || {
        Error::validation(
            "period",
            format!(
                "无法识别的周期“{}”，请写 2026-11（月）或 2026-Q4（季度）",
                text.trim()
            ),
            format!(
                "“{}” is not a period; use 2026-11 (month) or 2026-Q4 (quarter)",
                text.trim()
            ),
        )
    };
    let (y, rest) = t.split_once('-').ok_or_else(bad)?;
    let year: i32 = y.parse().map_err(|_| bad())?;
    let (first_month, months, norm) = if let Some(q) = rest.strip_prefix('Q') {
        let q: u32 = q.parse().map_err(|_| bad())?;
        if !(1..=4).contains(&q) {
            return Err(bad());
        }
        ((q - 1) * 3 + 1, 3, format!("{year}-Q{q}"))
    } else {
        let m: u32 = rest.parse().map_err(|_| bad())?;
        if !(1..=12).contains(&m) {
            return Err(bad());
        }
        (m, 1, format!("{year}-{m:02}"))
    };
    let a = NaiveDate::from_ymd_opt(year, first_month, 1).ok_or_else(bad)?;
    let b = a
        .checked_add_months(chrono::Months::new(months))
        .ok_or_else(bad)?;
    Ok((norm, local_midnight(a), local_midnight(b)))
}

/// The target period a report of `f` is measured against: `2026-Q4` when
/// `f` is exactly that quarter, else the month `f` starts in (as the
/// Analysis page picks it).
pub fn period_key(f: &Filter) -> String {
    let d = local_date(f.from);
    let key = format!("{}-Q{}", d.year(), d.month0() / 3 + 1);
    match parse_period(&key) {
        Ok((_, a, b)) if a == f.from && b == f.to => key,
        _ => month_key(f.from),
    }
}

/// The month (`2026-11`) containing `ms`, local time.
pub fn month_key(ms: i64) -> String {
    local_date(ms).format("%Y-%m").to_string()
}

fn validate(f: &TargetFields) -> Result<()> {
    if let Some(a) = f.amount {
        if !a.is_finite() || a < 0.0 {
            return Err(Error::validation(
                "amount",
                "目标金额必须是不小于 0 的数字",
                "The target amount must be a number ≥ 0",
            ));
        }
    }
    for (k, v) in [("wins", f.wins), ("new_customers", f.new_customers)] {
        if v.is_some_and(|v| v < 0) {
            return Err(Error::validation(
                k,
                "目标数量不能小于 0",
                "A target count cannot be negative",
            ));
        }
    }
    Ok(())
}

/// Set (create or replace) the target of `owner` (member id; None = team)
/// for `period`. Logged as entity `target`.
pub fn set(
    ws: &mut Workspace,
    owner: Option<&str>,
    period: &str,
    fields: TargetFields,
) -> Result<Target> {
    let origin = ws.origin.clone();
    ws.write(&origin, |w| set_in(w, owner, period, fields))
}

pub fn set_in(
    w: &mut Writer,
    owner: Option<&str>,
    period: &str,
    fields: TargetFields,
) -> Result<Target> {
    validate(&fields)?;
    let (period, _, _) = parse_period(period)?;
    if let Some(o) = owner {
        let exists: bool = w.tx().query_row(
            "SELECT EXISTS(SELECT 1 FROM members WHERE id = ?1 AND deleted_at IS NULL)",
            [o],
            |r| r.get(0),
        )?;
        if !exists {
            return Err(Error::validation(
                "owner",
                "负责人不存在",
                "The owner is not a team member",
            ));
        }
    }
    let now = w.now();
    let cur = find(w.tx(), owner, &period)?;
    let id = match cur {
        Some(t) => {
            crate::fields::log_diff(w, "target", &t.id, &t.fields, &fields)?;
            w.tx().execute(
                "UPDATE targets SET amount = ?2, wins = ?3, new_customers = ?4, updated_at = ?5 WHERE id = ?1",
                params![t.id, fields.amount, fields.wins, fields.new_customers, now],
            )?;
            t.id
        }
        None => {
            let id = crate::new_id();
            w.tx().execute(
                "INSERT INTO targets(id, owner_id, period, amount, wins, new_customers, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
                params![id, owner, period, fields.amount, fields.wins, fields.new_customers, now],
            )?;
            let mut rec = serde_json::to_value(&fields)?;
            rec["owner_id"] = owner.map(Value::from).unwrap_or(Value::Null);
            rec["period"] = Value::from(period.clone());
            crate::fields::log_create(w, "target", &id, &rec)?;
            id
        }
    };
    Ok(Target {
        id,
        owner_id: owner.map(str::to_string),
        period,
        fields,
    })
}

fn from_row(r: &rusqlite::Row) -> rusqlite::Result<Target> {
    let fields = TargetFields {
        amount: r.get(3)?,
        wins: r.get(4)?,
        new_customers: r.get(5)?,
    };
    Ok(Target {
        id: r.get(0)?,
        owner_id: r.get(1)?,
        period: r.get(2)?,
        fields,
    })
}

/// The target of `owner` (None = team) for a normalised period text.
pub fn find(conn: &Connection, owner: Option<&str>, period: &str) -> Result<Option<Target>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, owner_id, period, amount, wins, new_customers FROM targets
         WHERE coalesce(owner_id, '') = coalesce(?1, '') AND period = ?2 AND deleted_at IS NULL",
    )?;
    Ok(stmt
        .query_row(params![owner, period], from_row)
        .optional()?)
}

/// All targets of a period.
pub fn list(conn: &Connection, period: &str) -> Result<Vec<Target>> {
    let (period, _, _) = parse_period(period)?;
    let mut stmt = conn.prepare_cached(
        "SELECT id, owner_id, period, amount, wins, new_customers FROM targets
         WHERE period = ?1 AND deleted_at IS NULL ORDER BY owner_id IS NOT NULL, owner_id",
    )?;
    let rows = stmt.query_map([period], from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The target whose period is exactly [from, to) (a month or a quarter).
pub fn target_for(
    conn: &Connection,
    owner: Option<&str>,
    from: i64,
    to: i64,
) -> Result<Option<Target>> {
    let d = local_date(from);
    let month = d.format("%Y-%m").to_string();
    let quarter = format!("{}-Q{}", d.year(), (d.month() - 1) / 3 + 1);
    for p in [month, quarter] {
        let (norm, a, b) = parse_period(&p)?;
        if a == from && b == to {
            return find(conn, owner, &norm);
        }
    }
    Ok(None)
}

/// One line of the target report.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct TargetRow {
    /// Member id; None for the team line.
    pub owner_id: Option<String>,
    pub name: String,
    pub target: TargetFields,
    /// 销售额: won amount of the wins in the period (owner = the deal's).
    pub won_amount: f64,
    pub wins: i64,
    /// Customers created in the period (owner = the customer's).
    pub new_customers: i64,
    /// 目标完成率 = won_amount / target amount.
    pub target_completion: Option<f64>,
    /// wins / target wins.
    pub wins_completion: Option<f64>,
    /// new_customers / target new customers.
    pub new_customers_completion: Option<f64>,
    /// Run-rate projection of won_amount to the period's end.
    pub projected_amount: Option<f64>,
    /// 预计完成率 = projected_amount / target amount.
    pub projected_completion: Option<f64>,
    /// 业绩缺口 = max(0, target − projected_amount).
    pub shortfall: Option<f64>,
    /// 1 = best target completion (members without a target come last,
    /// by amount); None for the team line.
    pub rank: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct TargetReport {
    pub period: String,
    #[ts(type = "number")]
    pub from: i64,
    #[ts(type = "number")]
    pub to: i64,
    /// Share of the period elapsed at the time of the report (0–1).
    pub elapsed: f64,
    /// The team: its own target, or the sum of the members' targets when
    /// no team target is set.
    pub team: TargetRow,
    /// Members, ranked.
    pub members: Vec<TargetRow>,
}

fn row(
    owner_id: Option<String>,
    name: String,
    target: TargetFields,
    actual: (f64, i64, i64),
    f: &Filter,
    now: i64,
) -> TargetRow {
    let (won_amount, wins, new_customers) = actual;
    let projected = project(won_amount, f, now);
    TargetRow {
        owner_id,
        name,
        target_completion: target.amount.and_then(|t| ratio(won_amount, t)),
        wins_completion: target.wins.and_then(|t| ratio(wins as f64, t as f64)),
        new_customers_completion: target
            .new_customers
            .and_then(|t| ratio(new_customers as f64, t as f64)),
        projected_amount: projected,
        projected_completion: target.amount.zip(projected).and_then(|(t, p)| ratio(p, t)),
        shortfall: target.amount.zip(projected).map(|(t, p)| (t - p).max(0.0)),
        target,
        won_amount,
        wins,
        new_customers,
        rank: None,
    }
}

/// The team's target: its own, or the sum of the members' targets when no
/// team target is set (`targets` keyed by owner, None = team).
pub fn team_target(targets: &HashMap<Option<String>, TargetFields>) -> TargetFields {
    targets.get(&None).cloned().unwrap_or_else(|| {
        let sum_f = |g: fn(&TargetFields) -> Option<f64>| {
            let v: Vec<f64> = targets.values().filter_map(g).collect();
            (!v.is_empty()).then(|| v.iter().sum())
        };
        TargetFields {
            amount: sum_f(|t| t.amount),
            wins: sum_f(|t| t.wins.map(|x| x as f64)).map(|x| x as i64),
            new_customers: sum_f(|t| t.new_customers.map(|x| x as f64)).map(|x| x as i64),
        }
    })
}

/// 目标完成情况 for a period (`2026-11`, `2026-Q4`) at time `now`.
pub fn report(conn: &Connection, period: &str, now: i64, lang: Lang) -> Result<TargetReport> {
    let (period, from, to) = parse_period(period)?;
    let f = Filter::new(from, to);
    let pipe = Pipe::load(conn)?;
    let mut actual: HashMap<Option<String>, (f64, i64, i64)> = HashMap::new();
    let mut team = (0.0, 0, 0);
    for o in opps_closed(conn, &pipe, &f)? {
        if let Outcome::Won(_) = o.outcome(&pipe) {
            let a = actual.entry(o.owner_id.clone()).or_default();
            a.0 += o.deal_amount();
            a.1 += 1;
            team.0 += o.deal_amount();
            team.1 += 1;
        }
    }
    let mut stmt = conn.prepare_cached(
        "SELECT owner_id, count(*) FROM customers WHERE deleted_at IS NULL
           AND created_at >= ?1 AND created_at < ?2 GROUP BY owner_id",
    )?;
    for r in stmt.query_map(params![from, to], |r| {
        Ok((r.get::<_, Option<String>>(0)?, r.get::<_, i64>(1)?))
    })? {
        let (o, n) = r?;
        actual.entry(o).or_default().2 += n;
        team.2 += n;
    }
    let targets: HashMap<Option<String>, TargetFields> = list(conn, &period)?
        .into_iter()
        .map(|t| (t.owner_id, t.fields))
        .collect();
    let mut members = vec![];
    for m in crate::members::list(conn)? {
        let key = Some(m.id.clone());
        members.push(row(
            key.clone(),
            m.fields.name.clone(),
            targets.get(&key).cloned().unwrap_or_default(),
            actual.get(&key).copied().unwrap_or_default(),
            &f,
            now,
        ));
    }
    members.sort_by(|a, b| {
        let ka = a.target_completion.unwrap_or(f64::NEG_INFINITY);
        let kb = b.target_completion.unwrap_or(f64::NEG_INFINITY);
        kb.total_cmp(&ka)
            .then(b.won_amount.total_cmp(&a.won_amount))
            .then(a.name.cmp(&b.name))
    });
    for (i, m) in members.iter_mut().enumerate() {
        m.rank = Some(i as i64 + 1);
    }
    let team_target = team_target(&targets);
    let team = row(
        None,
        lang.pick("团队", "Team").to_string(),
        team_target,
        team,
        &f,
        now,
    );
    Ok(TargetReport {
        period,
        from,
        to,
        elapsed: elapsed(&f, now).map_or(0.0, |(e, t)| e / t),
        team,
        members,
    })
}
