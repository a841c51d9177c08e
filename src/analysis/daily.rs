//! The daily report (日报, seed 004): every day Kehu builds the report of
//! the day before — team and personal won amount, month-to-date target
//! completion and how far it lags the calendar, the members' ranking, and
//! anomalies ("线索转化率较上周下降 15%，建议检查线索质量").
//!
//! Reports are kept in `daily_reports` (one per local date) so past ones
//! stay viewable. They are derived data, like segment membership: built
//! from the records, not written to the change log, not synced.
//!
//! The desktop shell calls [`ensure`] when it starts and again at the
//! settable time ([`next_run`]); `ensure` builds yesterday's report only
//! when it is not stored yet, so there is at most one per day and one
//! notification (`Some` = new report to announce).

use super::*;
use crate::db::Workspace;
use crate::i18n::Lang;
use std::collections::HashMap;

pub const SETTING: &str = "analysis.daily";

/// Daily report settings (setting `analysis.daily`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(default)]
#[ts(export)]
pub struct DailySettings {
    /// Build the report at all.
    pub enabled: bool,
    /// Local time of day (HH:MM) at which a running app builds the report
    /// (it is also built at the first start of the day).
    pub time: String,
    /// An anomaly is a metric of the last 7 days that fell by at least this
    /// share against the 7 days before (default 0.15 = 15%).
    pub anomaly_threshold: f64,
}

impl Default for DailySettings {
    fn default() -> Self {
        DailySettings {
            enabled: true,
            time: "08:00".into(),
            anomaly_threshold: 0.15,
        }
    }
}

pub fn settings(conn: &Connection) -> Result<DailySettings> {
    Ok(crate::settings::get(conn, SETTING)?.unwrap_or_default())
}

fn parse_time(t: &str) -> Option<chrono::NaiveTime> {
    chrono::NaiveTime::parse_from_str(t.trim(), "%H:%M").ok()
}

pub fn set_settings(ws: &mut Workspace, s: DailySettings) -> Result<()> {
    if !(s.anomaly_threshold.is_finite() && s.anomaly_threshold > 0.0) {
        return Err(Error::validation(
            "anomaly_threshold",
            "异常阈值必须是大于 0 的数字，例如 0.15（15%）",
            "The anomaly threshold must be a number > 0, e.g. 0.15 (15%)",
        ));
    }
    let Some(t) = parse_time(&s.time) else {
        return Err(Error::validation(
            "time",
            "时间请写成 08:00 这样的格式",
            "Write the time as 08:00",
        ));
    };
    let s = DailySettings {
        time: t.format("%H:%M").to_string(),
        ..s
    };
    let origin = ws.origin.clone();
    ws.write(&origin, |w| crate::settings::put(w, SETTING, &s))
}

/// One line of the report: the team, or one member.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct DailyLine {
    /// Member id; None for the team.
    pub owner_id: Option<String>,
    pub name: String,
    /// Won amount of the wins on the report day (owner = the deal's).
    pub day_amount: f64,
    pub day_wins: i64,
    /// Customers created on the report day (owner = the customer's).
    pub day_new_customers: i64,
    /// Follow-ups done on the report day (owner = the follow-up's).
    pub day_followups: i64,
    /// Won amount from the first of the month to the end of the report day.
    pub month_amount: f64,
    pub month_wins: i64,
    /// The month's amount target (the team's, or the sum of the members').
    pub target_amount: Option<f64>,
    /// 目标完成率 = month_amount / target_amount.
    pub completion: Option<f64>,
    /// 落后进度 = time elapsed in the month − completion (0.10 = ten points
    /// behind the calendar; negative = ahead).
    pub lag: Option<f64>,
    /// Among members: 1 = best completion (members without a target last,
    /// by amount). None for the team.
    pub rank: Option<i64>,
}

/// A metric that fell noticeably week over week.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Anomaly {
    /// `lead_conversion`, `win_rate`, `won_amount`, `new_leads` or `followups`.
    pub metric: String,
    pub label: String,
    /// The 7 days ending with the report day.
    pub current: f64,
    /// The 7 days before those.
    pub previous: f64,
    /// (current − previous) / previous; ≤ −threshold here.
    pub change: f64,
    pub message: String,
}

/// 日报 of one day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct DailyReport {
    /// The local day the report covers, YYYY-MM-DD.
    pub date: String,
    #[ts(type = "number")]
    pub from: i64,
    #[ts(type = "number")]
    pub to: i64,
    #[ts(type = "number")]
    pub generated_at: i64,
    /// The month of the targets, `2026-11`.
    pub month: String,
    /// 时间进度: share of the month elapsed at the end of the report day.
    pub elapsed: f64,
    pub team: DailyLine,
    /// The user's own line (the member marked as "me"), when set.
    pub me: Option<DailyLine>,
    /// Members ranked.
    pub members: Vec<DailyLine>,
    /// The report as sentences (headline first), in the workspace language.
    pub lines: Vec<String>,
    pub anomalies: Vec<Anomaly>,
}

impl Anomaly {
    /// Its label and message in `lang`.
    fn word(&mut self, lang: Lang) {
        let (label, advice) = match self.metric.as_str() {
            "lead_conversion" => (
                lang.pick("线索转化率", "Lead conversion"),
                lang.pick("建议检查线索质量", "check the quality of the leads"),
            ),
            "win_rate" => (
                lang.pick("商机赢单率", "Win rate"),
                lang.pick(
                    "建议复盘报价和谈判阶段",
                    "review the quote and negotiation stages",
                ),
            ),
            "won_amount" => (
                lang.pick("销售额", "Won amount"),
                lang.pick("建议关注重点商机", "focus on the key opportunities"),
            ),
            "new_leads" => (
                lang.pick("新增线索", "New leads"),
                lang.pick("建议加强获客渠道", "strengthen the lead channels"),
            ),
            "followups" => (
                lang.pick("跟进次数", "Follow-ups"),
                lang.pick("建议督促及时跟进", "make sure customers are followed up"),
            ),
            // A metric of a newer version: keep its words as stored.
            _ => return,
        };
        self.message = match lang {
            Lang::Zh => format!("{label}较上周下降 {}，{advice}", fmt_pct(-self.change)),
            _ => format!(
                "{label} fell {} against the week before; {advice}",
                fmt_pct(-self.change)
            ),
        };
        self.label = label.to_string();
    }
}

impl DailyReport {
    /// The report in `lang`: a stored report keeps the words of the
    /// language it was built in, its figures are read again in the
    /// reader's.
    pub fn in_lang(mut self, lang: Lang) -> Self {
        self.team.name = lang.pick("团队", "Team").to_string();
        for a in &mut self.anomalies {
            a.word(lang);
        }
        self.lines = sentences(&self, lang);
        self
    }
}

/// Yuan as the seed writes them: 120万, 3.5万, 8000元.
/// In English: ¥160,000 (whole yuan from 1,000 up).
pub fn fmt_amount(x: f64, lang: Lang) -> String {
    match lang {
        // 2.95亿元 rather than 29533.5万元
        Lang::Zh if x.abs() >= 1e8 => format!("{}亿元", fmt_num(x / 1e8)),
        Lang::Zh if x.abs() >= 10_000.0 => format!("{}万元", fmt_num(x / 10_000.0)),
        Lang::Zh => format!("{}元", fmt_num(x)),
        _ if x.abs() >= 1000.0 => {
            let n = x.round() as i64;
            let digits = n.unsigned_abs().to_string();
            let mut out = String::new();
            for (i, c) in digits.chars().enumerate() {
                if i > 0 && (digits.len() - i) % 3 == 0 {
                    out.push(',');
                }
                out.push(c);
            }
            format!("{}¥{out}", if n < 0 { "-" } else { "" })
        }
        _ => format!("¥{}", fmt_num(x)),
    }
}

fn fmt_num(x: f64) -> String {
    let s = format!("{:.2}", x);
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// A ratio as a percentage: 0.8 → 80%, 0.125 → 12.5%.
pub fn fmt_pct(x: f64) -> String {
    format!("{}%", fmt_num((x * 1000.0).round() / 10.0))
}

/// Local [from, to) of a date.
fn day_range(d: NaiveDate) -> (i64, i64) {
    (
        local_midnight(d),
        local_midnight(d + chrono::Duration::days(1)),
    )
}

#[derive(Default, Clone, Copy)]
struct Acc {
    day_amount: f64,
    day_wins: i64,
    day_new: i64,
    day_fu: i64,
    month_amount: f64,
    month_wins: i64,
}

/// Count rows per owner in [a, b) with a `GROUP BY owner_id` query.
fn count_by_owner(
    conn: &Connection,
    sql: &str,
    a: i64,
    b: i64,
) -> Result<HashMap<Option<String>, i64>> {
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt.query_map(params![a, b], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

const NEW_CUSTOMERS: &str = "SELECT owner_id, count(*) FROM customers WHERE deleted_at IS NULL
    AND created_at >= ?1 AND created_at < ?2 GROUP BY owner_id";
const FOLLOWUPS: &str = "SELECT owner_id, count(*) FROM followups
    WHERE status = 'done' AND deleted_at IS NULL AND done_at >= ?1 AND done_at < ?2
      AND customer_id NOT IN (SELECT id FROM customers WHERE deleted_at IS NOT NULL)
    GROUP BY owner_id";

/// Week-over-week figures of the team.
struct Week {
    leads: i64,
    converted: i64,
    won: i64,
    lost: i64,
    amount: f64,
    followups: i64,
}

fn week(conn: &Connection, pipe: &Pipe, f: &Filter) -> Result<Week> {
    let custs = customers_created(conn, f)?;
    let closed = opps_closed(conn, pipe, f)?;
    let mut won = 0;
    let mut amount = 0.0;
    for o in &closed {
        if let Outcome::Won(_) = o.outcome(pipe) {
            won += 1;
            amount += o.deal_amount();
        }
    }
    let followups: i64 = count_by_owner(conn, FOLLOWUPS, f.from, f.to)?
        .values()
        .sum();
    Ok(Week {
        leads: custs.len() as i64,
        converted: custs
            .iter()
            .filter(|c| c.max_rank().is_some_and(|r| r >= 1))
            .count() as i64,
        won,
        lost: closed.len() as i64 - won,
        amount,
        followups,
    })
}

/// Build the report of local day `date` (not stored; see [`generate`]).
/// `now` is the generation time written into the report.
pub fn build(conn: &Connection, date: NaiveDate, now: i64, lang: Lang) -> Result<DailyReport> {
    let set = settings(conn)?;
    let pipe = Pipe::load(conn)?;
    let (d0, d1) = day_range(date);
    let month = super::targets::month_key(d0);
    let (_, m0, m1) = super::targets::parse_period(&month)?;
    let mtd = Filter::new(m0, d1);
    let month_f = Filter::new(m0, m1);
    let elapsed_share = elapsed(&month_f, d1).map_or(0.0, |(e, t)| e / t);

    // Actuals per owner (None key = deals without an owner).
    let mut acc: HashMap<Option<String>, Acc> = HashMap::new();
    let mut team = Acc::default();
    for o in opps_closed(conn, &pipe, &mtd)? {
        if let Outcome::Won(t) = o.outcome(&pipe) {
            let a = acc.entry(o.owner_id.clone()).or_default();
            for x in [a, &mut team] {
                x.month_amount += o.deal_amount();
                x.month_wins += 1;
                if t >= d0 {
                    x.day_amount += o.deal_amount();
                    x.day_wins += 1;
                }
            }
        }
    }
    for (o, n) in count_by_owner(conn, NEW_CUSTOMERS, d0, d1)? {
        acc.entry(o).or_default().day_new += n;
        team.day_new += n;
    }
    for (o, n) in count_by_owner(conn, FOLLOWUPS, d0, d1)? {
        acc.entry(o).or_default().day_fu += n;
        team.day_fu += n;
    }
    let targets: HashMap<Option<String>, super::targets::TargetFields> =
        super::targets::list(conn, &month)?
            .into_iter()
            .map(|t| (t.owner_id, t.fields))
            .collect();
    let line = |owner_id: Option<String>, name: String, a: Acc, target: Option<f64>| {
        let completion = target.and_then(|t| ratio(a.month_amount, t));
        DailyLine {
            owner_id,
            name,
            day_amount: a.day_amount,
            day_wins: a.day_wins,
            day_new_customers: a.day_new,
            day_followups: a.day_fu,
            month_amount: a.month_amount,
            month_wins: a.month_wins,
            target_amount: target,
            completion,
            lag: completion.map(|c| elapsed_share - c),
            rank: None,
        }
    };
    let team_line = line(
        None,
        lang.pick("团队", "Team").to_string(),
        team,
        super::targets::team_target(&targets).amount,
    );
    let mut members = vec![];
    let mut me_id = None;
    for m in crate::members::list(conn)? {
        let key = Some(m.id.clone());
        if m.is_me {
            me_id = key.clone();
        }
        members.push(line(
            key.clone(),
            m.fields.name.clone(),
            acc.get(&key).copied().unwrap_or_default(),
            targets.get(&key).and_then(|t| t.amount),
        ));
    }
    members.sort_by(|a, b| {
        let ka = a.completion.unwrap_or(f64::NEG_INFINITY);
        let kb = b.completion.unwrap_or(f64::NEG_INFINITY);
        kb.total_cmp(&ka)
            .then(b.month_amount.total_cmp(&a.month_amount))
            .then(a.name.cmp(&b.name))
    });
    for (i, m) in members.iter_mut().enumerate() {
        m.rank = Some(i as i64 + 1);
    }
    let me = me_id.and_then(|id| {
        members
            .iter()
            .find(|m| m.owner_id == Some(id.clone()))
            .cloned()
    });

    // Anomalies: the 7 days ending with the report day against the 7 before.
    let w0 = Filter::new(local_midnight(date - chrono::Duration::days(6)), d1);
    let wp = Filter::new(local_midnight(date - chrono::Duration::days(13)), w0.from);
    let (cur, prev) = (week(conn, &pipe, &w0)?, week(conn, &pipe, &wp)?);
    let mut anomalies = vec![];
    // (metric, this week, the week before)
    let checks: [(&str, Option<f64>, Option<f64>); 5] = [
        (
            "lead_conversion",
            ratio(cur.converted as f64, cur.leads as f64),
            ratio(prev.converted as f64, prev.leads as f64),
        ),
        (
            "win_rate",
            ratio(cur.won as f64, (cur.won + cur.lost) as f64),
            ratio(prev.won as f64, (prev.won + prev.lost) as f64),
        ),
        ("won_amount", Some(cur.amount), Some(prev.amount)),
        ("new_leads", Some(cur.leads as f64), Some(prev.leads as f64)),
        (
            "followups",
            Some(cur.followups as f64),
            Some(prev.followups as f64),
        ),
    ];
    for (metric, c, p) in checks {
        let (Some(c), Some(p)) = (c, p) else { continue };
        let Some(change) = ratio(c - p, p) else {
            continue;
        };
        // A small epsilon keeps an exact 15% drop from missing a 15%
        // threshold through floating-point rounding.
        if change <= -set.anomaly_threshold + 1e-9 {
            let mut a = Anomaly {
                metric: metric.to_string(),
                label: String::new(),
                current: c,
                previous: p,
                change,
                message: String::new(),
            };
            a.word(lang);
            anomalies.push(a);
        }
    }

    let mut rep = DailyReport {
        date: date.format("%Y-%m-%d").to_string(),
        from: d0,
        to: d1,
        generated_at: now,
        month,
        elapsed: elapsed_share,
        team: team_line,
        me,
        members,
        lines: vec![],
        anomalies,
    };
    rep.lines = sentences(&rep, lang);
    Ok(rep)
}

fn progress(l: &DailyLine, lang: Lang) -> String {
    let (Some(c), Some(lag)) = (l.completion, l.lag) else {
        return lang.pick("未设目标", "no target set").to_string();
    };
    let lag_text = if lag > 0.0005 {
        format!(
            "{}{}",
            lang.pick("落后进度 ", "behind schedule by "),
            fmt_pct(lag)
        )
    } else if lag < -0.0005 {
        format!(
            "{}{}",
            lang.pick("领先进度 ", "ahead of schedule by "),
            fmt_pct(-lag)
        )
    } else {
        lang.pick("与进度持平", "on schedule").to_string()
    };
    match lang {
        Lang::Zh => format!("目标完成率 {}，{lag_text}", fmt_pct(c)),
        _ => format!("target {} reached, {lag_text}", fmt_pct(c)),
    }
}

/// The report as sentences: headline (team), personal line, ranking
/// highlights, anomalies.
fn sentences(r: &DailyReport, lang: Lang) -> Vec<String> {
    let mut out = vec![];
    let t = &r.team;
    let day = NaiveDate::parse_from_str(&r.date, "%Y-%m-%d").unwrap_or_default();
    out.push(match lang {
        Lang::Zh => format!(
            "{}：团队成交 {} 单，销售额 {}；本月累计 {}，{}。",
            day.format("%-m月%-d日"),
            t.day_wins,
            fmt_amount(t.day_amount, lang),
            fmt_amount(t.month_amount, lang),
            progress(t, lang)
        ),
        _ => format!(
            "{}: the team won {} deals worth {}; {} this month, {}.",
            r.date,
            t.day_wins,
            fmt_amount(t.day_amount, lang),
            fmt_amount(t.month_amount, lang),
            progress(t, lang)
        ),
    });
    if let Some(me) = &r.me {
        out.push(match lang {
            Lang::Zh => format!(
                "个人：昨日销售额 {}，本月累计 {}，{}，排名第 {}/{}。",
                fmt_amount(me.day_amount, lang),
                fmt_amount(me.month_amount, lang),
                progress(me, lang),
                me.rank.unwrap_or(0),
                r.members.len()
            ),
            _ => format!(
                "You: {} yesterday, {} this month, {}, rank {} of {}.",
                fmt_amount(me.day_amount, lang),
                fmt_amount(me.month_amount, lang),
                progress(me, lang),
                me.rank.unwrap_or(0),
                r.members.len()
            ),
        });
    }
    if r.members.len() > 1 {
        let top = r
            .members
            .iter()
            .filter(|m| m.month_amount > 0.0)
            .max_by(|a, b| {
                a.month_amount
                    .total_cmp(&b.month_amount)
                    .then(b.name.cmp(&a.name))
            });
        let low = r
            .members
            .iter()
            .filter(|m| m.completion.is_some())
            .min_by(|a, b| {
                a.completion
                    .unwrap_or(0.0)
                    .total_cmp(&b.completion.unwrap_or(0.0))
                    .then(a.name.cmp(&b.name))
            });
        let mut parts = vec![];
        if let Some(m) = top {
            parts.push(match lang {
                Lang::Zh => format!(
                    "{}销售额最高（{}）",
                    m.name,
                    fmt_amount(m.month_amount, lang)
                ),
                _ => format!(
                    "{} has the highest amount ({})",
                    m.name,
                    fmt_amount(m.month_amount, lang)
                ),
            });
        }
        if let Some(m) = low {
            parts.push(match lang {
                Lang::Zh => format!(
                    "{}目标完成率最低（{}）",
                    m.name,
                    fmt_pct(m.completion.unwrap_or(0.0))
                ),
                _ => format!(
                    "{} has the lowest completion ({})",
                    m.name,
                    fmt_pct(m.completion.unwrap_or(0.0))
                ),
            });
        }
        if !parts.is_empty() {
            out.push(format!(
                "{}{}",
                parts.join(lang.pick("，", "; ")),
                lang.pick("。", ".")
            ));
        }
    }
    for a in &r.anomalies {
        out.push(format!("{}{}", a.message, lang.pick("。", ".")));
    }
    out
}

/// Build the report of `date` and store it (replacing a stored one).
pub fn generate(ws: &mut Workspace, date: NaiveDate) -> Result<DailyReport> {
    let now = ws.now_ms();
    let rep = build(ws.conn(), date, now, ws.lang)?;
    let body = serde_json::to_string(&rep)?;
    ws.conn().execute(
        "INSERT INTO daily_reports(date, generated_at, body) VALUES (?1, ?2, ?3)
         ON CONFLICT(date) DO UPDATE SET generated_at = excluded.generated_at, body = excluded.body",
        params![rep.date, now, body],
    )?;
    Ok(rep)
}

/// The day a report built at `now` covers: yesterday, local time.
pub fn report_day(now: i64) -> NaiveDate {
    local_date(now) - chrono::Duration::days(1)
}

/// Call at start and at [`next_run`]: builds and stores yesterday's report
/// unless it is stored already (or the report is switched off). `Some` =
/// a new report, to announce with one notification.
/// The notification announcing a new daily report: its headline. A click
/// (its default action) opens Today, where the report is shown.
pub fn notification(rep: &DailyReport, lang: crate::Lang) -> crate::reminders::Notification {
    crate::reminders::Notification {
        title: lang
            .pick("Kehu 日报（昨日）", "Kehu daily report (yesterday)")
            .into(),
        body: rep.lines.first().cloned().unwrap_or_default(),
        customer_id: None,
        followup_ids: vec![],
        summary: true,
    }
}

pub fn ensure(ws: &mut Workspace) -> Result<Option<DailyReport>> {
    if !settings(ws.conn())?.enabled {
        return Ok(None);
    }
    let day = report_day(ws.now_ms());
    if get(ws.conn(), day, ws.lang)?.is_some() {
        return Ok(None);
    }
    generate(ws, day).map(Some)
}

/// When a running app should next call [`ensure`]: the next local time of
/// day `time` (setting) after `now`.
pub fn next_run(conn: &Connection, now: i64) -> Result<i64> {
    let set = settings(conn)?;
    let t = parse_time(&set.time).unwrap_or_default();
    let mut d = local_date(now);
    loop {
        let at = chrono::Local
            .from_local_datetime(&d.and_time(t))
            .earliest()
            .map(|x| x.timestamp_millis())
            .unwrap_or_else(|| local_midnight(d));
        if at > now {
            return Ok(at);
        }
        d += chrono::Duration::days(1);
    }
}

/// The stored report of `date`, in `lang`.
pub fn get(conn: &Connection, date: NaiveDate, lang: Lang) -> Result<Option<DailyReport>> {
    let body: Option<String> = conn
        .query_row(
            "SELECT body FROM daily_reports WHERE date = ?1",
            [date.format("%Y-%m-%d").to_string()],
            |r| r.get(0),
        )
        .optional()?;
    Ok(body
        .and_then(|b| serde_json::from_str::<DailyReport>(&b).ok())
        .map(|r| r.in_lang(lang)))
}

/// A stored report in the list of past reports.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct DailyEntry {
    pub date: String,
    #[ts(type = "number")]
    pub generated_at: i64,
    /// The first sentence of the report.
    pub headline: String,
    pub anomalies: i64,
    pub seen: bool,
}

/// Stored reports, newest first, their headlines in `lang`.
pub fn list(conn: &Connection, limit: i64, lang: Lang) -> Result<Vec<DailyEntry>> {
    let mut stmt = conn.prepare_cached(
        "SELECT date, generated_at, body, seen_at IS NOT NULL FROM daily_reports
         ORDER BY date DESC LIMIT ?1",
    )?;
    let rows = stmt.query_map([limit], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, bool>(3)?,
        ))
    })?;
    let mut out = vec![];
    for row in rows {
        let (date, generated_at, body, seen) = row?;
        let rep = serde_json::from_str::<DailyReport>(&body)
            .ok()
            .map(|r| r.in_lang(lang));
        out.push(DailyEntry {
            date,
            generated_at,
            headline: rep
                .as_ref()
                .and_then(|r| r.lines.first().cloned())
                .unwrap_or_default(),
            anomalies: rep.map_or(0, |r| r.anomalies.len() as i64),
            seen,
        });
    }
    Ok(out)
}

/// Mark the report of `date` as shown to the user.
pub fn mark_seen(ws: &mut Workspace, date: NaiveDate) -> Result<()> {
    let now = ws.now_ms();
    ws.conn().execute(
        "UPDATE daily_reports SET seen_at = coalesce(seen_at, ?2) WHERE date = ?1",
        params![date.format("%Y-%m-%d").to_string(), now],
    )?;
    Ok(())
}
