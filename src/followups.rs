//! Follow-ups (跟进): planned (计划) with an optional reminder, then done
//! (with the result, the customer's feedback and the next step), postponed
//! (with a reason) or cancelled. Every change is one write with its
//! change-log entries, and refreshes the customer's last and next follow-up
//! times (`customers.last_followup_at` / `next_followup_at`, derived columns
//! recomputed from the follow-ups in the same transaction).
//!
//! Grade cadence (seed 001): A weekly, B every two weeks, C monthly by
//! default (setting `cadence.days`). A customer is *due* when its last
//! follow-up (or, without one, its creation) is older than its grade's
//! cadence and nothing is planned for it.

use crate::changelog::Writer;
use crate::clock::Millis;
use crate::customers::Grade;
use crate::db::Workspace;
use crate::error::{Error, Result};
use crate::fields::{apply_patch, clean, log_create, log_diff};
use crate::i18n::Lang;
use crate::settings;
use rusqlite::{params, Connection, Row};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};
use ts_rs::TS;

pub const MINUTE: i64 = 60_000;
pub const DAY: i64 = 86_400_000;
/// Default "remind me N minutes before".
pub const DEFAULT_REMIND_MIN: i64 = 30;
/// Longest accepted remind-before: one week.
pub const MAX_REMIND_MIN: i64 = 7 * 24 * 60;

/// How a follow-up happens (跟进方式).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS, Default)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Kind {
    #[default]
    Call,
    Visit,
    Email,
    Meeting,
    Wechat,
    Other,
}

impl Kind {
    pub const ALL: [Kind; 6] = [
        Kind::Call,
        Kind::Visit,
        Kind::Email,
        Kind::Meeting,
        Kind::Wechat,
        Kind::Other,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Kind::Call => "call",
            Kind::Visit => "visit",
            Kind::Email => "email",
            Kind::Meeting => "meeting",
            Kind::Wechat => "wechat",
            Kind::Other => "other",
        }
    }

    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            Kind::Call => lang.pick("电话", "Call"),
            Kind::Visit => lang.pick("拜访", "Visit"),
            Kind::Email => lang.pick("邮件", "Email"),
            Kind::Meeting => lang.pick("线上会议", "Online meeting"),
            Kind::Wechat => lang.pick("微信", "WeChat"),
            Kind::Other => lang.pick("其他", "Other"),
        }
    }

    /// From a key, an English or a Chinese label (电话回访, 上门拜访, 视频会议, …).
    pub fn parse(text: &str) -> Option<Kind> {
        let t = text.trim().to_lowercase();
        Some(match t.as_str() {
            "call" | "phone" | "电话" | "电话回访" | "电话沟通" | "打电话" => {
                Kind::Call
            }
            "visit" | "拜访" | "上门" | "上门拜访" | "面谈" | "见面" => Kind::Visit,
            "email" | "e-mail" | "mail" | "邮件" | "电子邮件" => Kind::Email,
            "meeting" | "online meeting" | "会议" | "线上会议" | "视频会议" | "线上"
            | "在线会议" => Kind::Meeting,
            "wechat" | "weixin" | "微信" => Kind::Wechat,
            "other" | "其他" | "其它" => Kind::Other,
            _ => return None,
        })
    }

    pub fn from_key(key: &str) -> Kind {
        Kind::parse(key).unwrap_or(Kind::Other)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, Default)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum FollowupStatus {
    #[default]
    Planned,
    Done,
    Cancelled,
}

impl FollowupStatus {
    pub fn key(self) -> &'static str {
        match self {
            FollowupStatus::Planned => "planned",
            FollowupStatus::Done => "done",
            FollowupStatus::Cancelled => "cancelled",
        }
    }
    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            FollowupStatus::Planned => lang.pick("计划中", "Planned"),
            FollowupStatus::Done => lang.pick("已完成", "Done"),
            FollowupStatus::Cancelled => lang.pick("已取消", "Cancelled"),
        }
    }
    pub fn from_key(key: &str) -> FollowupStatus {
        match key {
            "done" => FollowupStatus::Done,
            "cancelled" => FollowupStatus::Cancelled,
            _ => FollowupStatus::Planned,
        }
    }
}

/// The freely editable parts of a follow-up (times and status change
/// through [`add`], [`complete`], [`postpone`] and [`cancel`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, Default)]
#[serde(deny_unknown_fields, default)]
#[ts(export)]
pub struct FollowupFields {
    pub kind: Kind,
    pub owner_id: Option<String>,
    pub opportunity_id: Option<String>,
    /// 跟进目的.
    pub purpose: Option<String>,
    /// 沟通内容 / 跟进结果.
    pub content: Option<String>,
    /// 客户反馈.
    pub feedback: Option<String>,
    /// 下一步计划.
    pub next_step: Option<String>,
    /// 有效跟进.
    pub effective: Option<bool>,
}

impl FollowupFields {
    fn validated(mut self, conn: &Connection, customer_id: &str) -> Result<Self> {
        for f in [
            &mut self.owner_id,
            &mut self.opportunity_id,
            &mut self.purpose,
            &mut self.content,
            &mut self.feedback,
            &mut self.next_step,
        ] {
            *f = clean(f.take());
        }
        for (field, v, zh, en) in [
            ("purpose", &self.purpose, "跟进目的", "Purpose"),
            ("content", &self.content, "沟通内容", "Content"),
            ("feedback", &self.feedback, "客户反馈", "Feedback"),
            ("next_step", &self.next_step, "下一步计划", "Next step"),
        ] {
            if v.as_ref().is_some_and(|s| s.chars().count() > 10_000) {
                return Err(Error::validation(
                    field,
                    format!("{zh}不能超过 10000 个字"),
                    format!("{en} is longer than 10000 characters"),
                ));
            }
        }
        if let Some(owner) = &self.owner_id {
            crate::fields::check_owner(conn, owner)?;
        }
        if let Some(o) = &self.opportunity_id {
            let id = crate::opportunities::resolve_id(conn, o).map_err(|_| {
                Error::validation("opportunity_id", "销售机会不存在", "No such opportunity")
            })?;
            let of: String = conn.query_row(
                "SELECT customer_id FROM opportunities WHERE id = ?1",
                [&id],
                |r| r.get(0),
            )?;
            if of != customer_id {
                return Err(Error::validation(
                    "opportunity_id",
                    "这个销售机会不属于该客户",
                    "The opportunity belongs to another customer",
                ));
            }
            self.opportunity_id = Some(id);
        }
        Ok(self)
    }
}

/// A follow-up to record: planned (give `planned_at`) or already done
/// (`done: true`, with `done_at` or now).
#[derive(Debug, Clone, Serialize, Deserialize, TS, Default)]
#[serde(default)]
#[ts(export)]
pub struct NewFollowup {
    /// Customer id or code.
    pub customer: String,
    #[serde(flatten)]
    pub fields: FollowupFields,
    pub planned_at: Option<i64>,
    /// Minutes before `planned_at` to remind; None = the default (30) for a
    /// plan in the future.
    pub remind_before_min: Option<i64>,
    /// Plan without a reminder.
    pub no_reminder: bool,
    /// Record a follow-up that already happened.
    pub done: bool,
    pub done_at: Option<i64>,
}

#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct Followup {
    pub id: String,
    pub customer_id: String,
    pub customer_code: String,
    pub customer_name: String,
    #[serde(flatten)]
    pub fields: FollowupFields,
    pub owner_name: Option<String>,
    pub status: FollowupStatus,
    pub planned_at: Option<i64>,
    pub remind_before_min: Option<i64>,
    pub remind_at: Option<i64>,
    pub reminder_fired_at: Option<i64>,
    pub snoozed_until: Option<i64>,
    pub done_at: Option<i64>,
    pub postpone_count: i64,
    pub postpone_reason: Option<String>,
    pub cancel_reason: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub deleted_at: Option<i64>,
}

const COLUMNS: &str = "f.id, f.customer_id, c.code, c.name, f.kind, f.owner_id, f.opportunity_id,
    f.purpose, f.content, f.feedback, f.next_step, f.effective, m.name, f.status, f.planned_at,
    f.remind_before_min, f.remind_at, f.reminder_fired_at, f.snoozed_until, f.done_at,
    f.postpone_count, f.postpone_reason, f.cancel_reason, f.created_at, f.updated_at, f.deleted_at";
const FROM: &str = "FROM followups f JOIN customers c ON c.id = f.customer_id
    LEFT JOIN members m ON m.id = f.owner_id";

fn from_row(r: &Row) -> rusqlite::Result<Followup> {
    Ok(Followup {
        id: r.get(0)?,
        customer_id: r.get(1)?,
        customer_code: r.get(2)?,
        customer_name: r.get(3)?,
        fields: FollowupFields {
            kind: Kind::from_key(&r.get::<_, String>(4)?),
            owner_id: r.get(5)?,
            opportunity_id: r.get(6)?,
            purpose: r.get(7)?,
            content: r.get(8)?,
            feedback: r.get(9)?,
            next_step: r.get(10)?,
            effective: r.get(11)?,
        },
        owner_name: r.get(12)?,
        status: FollowupStatus::from_key(&r.get::<_, String>(13)?),
        planned_at: r.get(14)?,
        remind_before_min: r.get(15)?,
        remind_at: r.get(16)?,
        reminder_fired_at: r.get(17)?,
        snoozed_until: r.get(18)?,
        done_at: r.get(19)?,
        postpone_count: r.get(20)?,
        postpone_reason: r.get(21)?,
        cancel_reason: r.get(22)?,
        created_at: r.get(23)?,
        updated_at: r.get(24)?,
        deleted_at: r.get(25)?,
    })
}

/// Resolve a full id or an unambiguous id prefix (≥ 4 characters).
pub fn resolve_id(conn: &Connection, key: &str) -> Result<String> {
    crate::fields::resolve_id_prefix(conn, "followups", "followup", key)
}

pub fn get(conn: &Connection, id: &str) -> Result<Followup> {
    let id = resolve_id(conn, id)?;
    let sql = format!("SELECT {COLUMNS} {FROM} WHERE f.id = ?1");
    Ok(conn.prepare_cached(&sql)?.query_row([&id], from_row)?)
}

/// Planned follow-ups with `from ≤ planned_at < to` (optionally one
/// owner's), customers in the trash left out, in time order, at most
/// `limit`. One indexed range scan (Today page).
pub fn planned_between(
    conn: &Connection,
    from: Millis,
    to: Millis,
    owner_id: Option<&str>,
    limit: usize,
) -> Result<Vec<Followup>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM followups f INDEXED BY followups_planned
            JOIN customers c ON c.id = f.customer_id LEFT JOIN members m ON m.id = f.owner_id
         WHERE f.status = 'planned' AND f.deleted_at IS NULL
           AND f.planned_at >= ?1 AND f.planned_at < ?2 AND (?3 IS NULL OR f.owner_id = ?3)
           AND f.customer_id NOT IN (SELECT id FROM customers WHERE deleted_at IS NOT NULL)
         ORDER BY f.planned_at, f.id LIMIT ?4"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params![from, to, owner_id, limit as i64], from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// How many planned follow-ups [`planned_between`] would find, counted up
/// to `cap` (index only).
pub fn count_planned_between(
    conn: &Connection,
    from: Millis,
    to: Millis,
    owner_id: Option<&str>,
    cap: i64,
) -> Result<i64> {
    Ok(conn
        .prepare_cached(
            "SELECT count(*) FROM (SELECT 1 FROM followups f INDEXED BY followups_planned
             WHERE f.status = 'planned' AND f.deleted_at IS NULL
               AND f.planned_at >= ?1 AND f.planned_at < ?2 AND (?3 IS NULL OR f.owner_id = ?3)
               AND f.customer_id NOT IN (SELECT id FROM customers WHERE deleted_at IS NOT NULL)
             LIMIT ?4)",
        )?
        .query_row(params![from, to, owner_id, cap], |r| r.get(0))?)
}

fn live_customer(conn: &Connection, key: &str) -> Result<String> {
    let id = crate::customers::resolve_id(conn, key)?;
    let deleted: Option<i64> = conn.query_row(
        "SELECT deleted_at FROM customers WHERE id = ?1",
        [&id],
        |r| r.get(0),
    )?;
    if deleted.is_some() {
        return Err(Error::validation(
            "customer",
            "客户在回收站中，请先恢复",
            "The customer is in the trash; restore it first",
        ));
    }
    Ok(id)
}

fn check_remind(min: i64) -> Result<i64> {
    if !(0..=MAX_REMIND_MIN).contains(&min) {
        return Err(Error::validation(
            "remind_before_min",
            "提前提醒的分钟数必须在 0 到 10080（一周）之间",
            "Remind-before must be between 0 and 10080 minutes (one week)",
        ));
    }
    Ok(min)
}

/// Record a follow-up (planned or done).
pub fn add(ws: &mut Workspace, new: NewFollowup) -> Result<Followup> {
    let origin = ws.origin.clone();
    let id = ws.write(&origin, |w| insert(w, new))?;
    get(ws.conn(), &id)
}

/// [`add`] inside an open write; returns the new id.
pub fn insert(w: &mut Writer, new: NewFollowup) -> Result<String> {
    let customer_id = live_customer(w.tx(), &new.customer)?;
    let mut fields = new.fields;
    if fields.owner_id.is_none() {
        fields.owner_id = w.actor_id().map(str::to_string).or(w.tx().query_row(
            "SELECT owner_id FROM customers WHERE id = ?1",
            [&customer_id],
            |r| r.get(0),
        )?);
    }
    let fields = fields.validated(w.tx(), &customer_id)?;
    let now = w.now();
    let done = new.done || new.done_at.is_some();
    let (status, planned_at, remind_before, done_at) = if done {
        let done_at = new.done_at.unwrap_or(now);
        if done_at > now + MINUTE {
            return Err(Error::validation(
                "done_at",
                "完成时间不能晚于现在",
                "A done follow-up cannot be in the future",
            ));
        }
        (FollowupStatus::Done, new.planned_at, None, Some(done_at))
    } else {
        let Some(planned) = new.planned_at else {
            return Err(Error::validation(
                "planned_at",
                "请填写计划跟进时间",
                "Enter the planned time",
            ));
        };
        let remind = if new.no_reminder {
            None
        } else if let Some(m) = new.remind_before_min {
            if planned <= now {
                return Err(Error::validation(
                    "planned_at",
                    "计划时间已经过去，不能设置提醒；请选择将来的时间，或不设提醒",
                    "The planned time is in the past, so it cannot have a reminder; choose a future time or no reminder",
                ));
            }
            Some(check_remind(m)?)
        } else if planned > now {
            Some(default_remind(w.tx())?)
        } else {
            None
        };
        (FollowupStatus::Planned, Some(planned), remind, None)
    };
    let remind_at = match (planned_at, remind_before) {
        (Some(p), Some(m)) => Some(p - m * MINUTE),
        _ => None,
    };
    let id = crate::new_id();
    w.tx().execute(
        "INSERT INTO followups(id, customer_id, opportunity_id, kind, status, owner_id, planned_at,
            remind_before_min, remind_at, done_at, purpose, content, feedback, next_step, effective,
            created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?16)",
        params![
            id,
            customer_id,
            fields.opportunity_id,
            fields.kind.key(),
            status.key(),
            fields.owner_id,
            planned_at,
            remind_before,
            remind_at,
            done_at,
            fields.purpose,
            fields.content,
            fields.feedback,
            fields.next_step,
            fields.effective,
            now
        ],
    )?;
    let mut record = serde_json::to_value(&fields)?;
    record["customer_id"] = Value::from(customer_id.clone());
    record["status"] = Value::from(status.key());
    record["planned_at"] = planned_at.into();
    record["remind_before_min"] = remind_before.into();
    record["remind_at"] = remind_at.into();
    record["done_at"] = done_at.into();
    log_create(w, "followup", &id, &record)?;
    refresh_customer(w, &customer_id)?;
    Ok(id)
}

/// The default remind-before in minutes (setting `followup.remind_before_min`).
pub fn default_remind(conn: &Connection) -> Result<i64> {
    Ok(settings::get::<i64>(conn, "followup.remind_before_min")?.unwrap_or(DEFAULT_REMIND_MIN))
}

/// Change the default remind-before (minutes, 0 to 10080).
pub fn set_default_remind(ws: &mut Workspace, minutes: i64) -> Result<()> {
    let m = check_remind(minutes)?;
    let origin = ws.origin.clone();
    ws.write(&origin, |w| {
        settings::put(w, "followup.remind_before_min", &m)
    })
}

/// Recompute the customer's last (latest done) and next (earliest
/// planned) follow-up times.
pub fn refresh_customer(w: &Writer, customer_id: &str) -> Result<()> {
    refresh_customer_in(w.tx(), customer_id, w.now())
}

/// [`refresh_customer`] inside any transaction: the follow-up dates, then
/// the segments that depend on them.
pub fn refresh_customer_in(tx: &Connection, customer_id: &str, now: i64) -> Result<()> {
    refresh_followup_dates(tx, customer_id)?;
    crate::analysis::segments::recompute(tx, customer_id, now)?;
    Ok(())
}

/// The customer's last and next follow-up times, from its follow-ups.
pub(crate) fn refresh_followup_dates(tx: &Connection, customer_id: &str) -> Result<()> {
    tx.prepare_cached(
        "UPDATE customers SET
               last_followup_at = (SELECT max(done_at) FROM followups
                   WHERE customer_id = ?1 AND status = 'done' AND deleted_at IS NULL),
               next_followup_at = (SELECT min(planned_at) FROM followups
                   WHERE customer_id = ?1 AND status = 'planned' AND deleted_at IS NULL)
             WHERE id = ?1",
    )?
    .execute([customer_id])?;
    Ok(())
}

fn load_live(w: &Writer, id: &str) -> Result<Followup> {
    let f = get(w.tx(), id)?;
    if f.deleted_at.is_some() {
        return Err(Error::validation(
            "id",
            "这条跟进记录在回收站中",
            "This follow-up is in the trash",
        ));
    }
    Ok(f)
}

fn require_planned(f: &Followup) -> Result<()> {
    if f.status != FollowupStatus::Planned {
        return Err(Error::validation(
            "status",
            format!("这条跟进已{}，不能再修改计划", f.status.label(Lang::Zh)),
            format!(
                "This follow-up is already {}",
                f.status.label(Lang::En).to_lowercase()
            ),
        ));
    }
    Ok(())
}

/// What was done, for [`complete`].
#[derive(Debug, Clone, Serialize, Deserialize, TS, Default)]
#[serde(default)]
#[ts(export)]
pub struct DoneInput {
    /// 跟进结果 / 沟通内容 (replaces the content when given).
    pub content: Option<String>,
    pub feedback: Option<String>,
    pub next_step: Option<String>,
    pub effective: Option<bool>,
    /// When it happened; now by default.
    pub done_at: Option<i64>,
}

/// Mark a planned follow-up done with its result.
pub fn complete(ws: &mut Workspace, id: &str, input: DoneInput) -> Result<Followup> {
    let id = resolve_id(ws.conn(), id)?;
    let origin = ws.origin.clone();
    ws.write(&origin, |w| {
        let f = load_live(w, &id)?;
        require_planned(&f)?;
        let now = w.now();
        let done_at = input.done_at.unwrap_or(now);
        if done_at > now + MINUTE {
            return Err(Error::validation(
                "done_at",
                "完成时间不能晚于现在",
                "The done time cannot be in the future",
            ));
        }
        let mut next = f.fields.clone();
        if let Some(c) = clean(input.content) {
            next.content = Some(c);
        }
        if let Some(c) = clean(input.feedback) {
            next.feedback = Some(c);
        }
        if let Some(c) = clean(input.next_step) {
            next.next_step = Some(c);
        }
        if input.effective.is_some() {
            next.effective = input.effective;
        }
        let next = next.validated(w.tx(), &f.customer_id)?;
        write_fields(w, &id, &f.fields, &next)?;
        w.tx().execute(
            "UPDATE followups SET status = 'done', done_at = ?2, updated_at = ?3 WHERE id = ?1",
            params![id, done_at, now],
        )?;
        w.log(
            "followup",
            &id,
            "status",
            Some("planned".into()),
            Some("done".into()),
        )?;
        w.log("followup", &id, "done_at", None, Some(done_at.into()))?;
        refresh_customer(w, &f.customer_id)
    })?;
    get(ws.conn(), &id)
}

fn write_fields(
    w: &mut Writer,
    id: &str,
    old: &FollowupFields,
    new: &FollowupFields,
) -> Result<()> {
    if log_diff(w, "followup", id, old, new)?.is_empty() {
        return Ok(());
    }
    w.tx().execute(
        "UPDATE followups SET kind = ?2, owner_id = ?3, opportunity_id = ?4, purpose = ?5, content = ?6,
            feedback = ?7, next_step = ?8, effective = ?9, updated_at = ?10 WHERE id = ?1",
        params![
            id,
            new.kind.key(),
            new.owner_id,
            new.opportunity_id,
            new.purpose,
            new.content,
            new.feedback,
            new.next_step,
            new.effective,
            w.now()
        ],
    )?;
    Ok(())
}

/// Change the editable fields (see [`FollowupFields`]).
pub fn update(ws: &mut Workspace, id: &str, patch: &Map<String, Value>) -> Result<Followup> {
    let id = resolve_id(ws.conn(), id)?;
    let origin = ws.origin.clone();
    ws.write(&origin, |w| {
        let f = load_live(w, &id)?;
        let next = apply_patch(&f.fields, patch)?.validated(w.tx(), &f.customer_id)?;
        write_fields(w, &id, &f.fields, &next)
    })?;
    get(ws.conn(), &id)
}

/// Move a planned follow-up to a new time. The reason (延期原因, e.g.
/// 客户临时出差 / 需等待内部审批) is required; the reminder is re-armed for
/// the new time.
pub fn postpone(ws: &mut Workspace, id: &str, to: Millis, reason: &str) -> Result<Followup> {
    let id = resolve_id(ws.conn(), id)?;
    let origin = ws.origin.clone();
    ws.write(&origin, |w| postpone_in(w, &id, to, reason))?;
    get(ws.conn(), &id)
}

pub fn postpone_in(w: &mut Writer, id: &str, to: Millis, reason: &str) -> Result<()> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(Error::validation(
            "reason",
            "延期必须填写原因（如：客户临时出差、需等待内部审批）",
            "A reason is required to postpone (e.g. the customer is travelling)",
        ));
    }
    let f = load_live(w, id)?;
    require_planned(&f)?;
    let now = w.now();
    if to <= now {
        return Err(Error::validation(
            "to",
            "延期后的时间必须晚于现在",
            "The new time must be in the future",
        ));
    }
    let remind_at = f.remind_before_min.map(|m| to - m * MINUTE);
    w.tx().execute(
        "UPDATE followups SET planned_at = ?2, remind_at = ?3, reminder_fired_at = NULL, snoozed_until = NULL,
            postpone_count = postpone_count + 1, postpone_reason = ?4, updated_at = ?5 WHERE id = ?1",
        params![id, to, remind_at, reason, now],
    )?;
    let pid = crate::new_id();
    w.tx().execute(
        "INSERT INTO followup_postponements(id, followup_id, from_at, to_at, reason, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![pid, id, f.planned_at, to, reason, now],
    )?;
    w.log(
        "followup",
        id,
        "planned_at",
        f.planned_at.map(Value::from),
        Some(to.into()),
    )?;
    w.log(
        "followup",
        id,
        "remind_at",
        f.remind_at.map(Value::from),
        remind_at.map(Value::from),
    )?;
    w.log(
        "followup",
        id,
        "reminder_fired_at",
        f.reminder_fired_at.map(Value::from),
        None,
    )?;
    w.log(
        "followup",
        id,
        "snoozed_until",
        f.snoozed_until.map(Value::from),
        None,
    )?;
    w.log(
        "followup",
        id,
        "postpone_reason",
        f.postpone_reason.map(Value::from),
        Some(reason.into()),
    )?;
    w.log(
        "followup_postponement",
        &pid,
        "*",
        None,
        Some(serde_json::json!({"followup_id": id, "from_at": f.planned_at, "to_at": to, "reason": reason})),
    )?;
    refresh_customer(w, &f.customer_id)
}

/// Cancel a planned follow-up.
pub fn cancel(ws: &mut Workspace, id: &str, reason: Option<&str>) -> Result<Followup> {
    let id = resolve_id(ws.conn(), id)?;
    let origin = ws.origin.clone();
    ws.write(&origin, |w| {
        let f = load_live(w, &id)?;
        require_planned(&f)?;
        let reason = reason.map(str::trim).filter(|r| !r.is_empty());
        w.tx().execute(
            "UPDATE followups SET status = 'cancelled', cancel_reason = ?2, updated_at = ?3 WHERE id = ?1",
            params![id, reason, w.now()],
        )?;
        w.log("followup", &id, "status", Some("planned".into()), Some("cancelled".into()))?;
        w.log("followup", &id, "cancel_reason", None, reason.map(Value::from))?;
        refresh_customer(w, &f.customer_id)
    })?;
    get(ws.conn(), &id)
}

/// Move to the trash / back.
pub fn set_deleted(ws: &mut Workspace, id: &str, delete: bool) -> Result<()> {
    let id = resolve_id(ws.conn(), id)?;
    let origin = ws.origin.clone();
    ws.write(&origin, |w| {
        let f = get(w.tx(), &id)?;
        let new = if delete {
            f.deleted_at.or(Some(w.now()))
        } else {
            None
        };
        if f.deleted_at != new {
            w.tx().execute(
                "UPDATE followups SET deleted_at = ?2, updated_at = ?3 WHERE id = ?1",
                params![id, new, w.now()],
            )?;
            w.log(
                "followup",
                &id,
                "deleted_at",
                f.deleted_at.map(Value::from),
                new.map(Value::from),
            )?;
            refresh_customer(w, &f.customer_id)?;
        }
        Ok(())
    })
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, TS)]
#[serde(default)]
#[ts(export)]
pub struct FollowupQuery {
    /// Customer id or code.
    pub customer: Option<String>,
    pub status: Option<FollowupStatus>,
    pub owner_id: Option<String>,
    /// Only planned follow-ups whose time is before this (e.g. end of today).
    pub planned_before: Option<i64>,
    pub limit: Option<usize>,
}

/// Follow-ups. Planned-before queries are in time order; others newest first.
pub fn list(conn: &Connection, q: &FollowupQuery) -> Result<Vec<Followup>> {
    let mut sql =
        format!("SELECT {COLUMNS} {FROM} WHERE f.deleted_at IS NULL AND c.deleted_at IS NULL");
    let mut args: Vec<rusqlite::types::Value> = vec![];
    if let Some(c) = &q.customer {
        args.push(crate::customers::resolve_id(conn, c)?.into());
        sql += &format!(" AND f.customer_id = ?{}", args.len());
    }
    if let Some(o) = &q.owner_id {
        args.push(o.clone().into());
        sql += &format!(" AND f.owner_id = ?{}", args.len());
    }
    let mut status = q.status;
    if let Some(t) = q.planned_before {
        status = Some(FollowupStatus::Planned);
        args.push(t.into());
        sql += &format!(" AND f.planned_at < ?{}", args.len());
    }
    if let Some(s) = status {
        args.push(s.key().to_string().into());
        sql += &format!(" AND f.status = ?{}", args.len());
    }
    if q.planned_before.is_some() {
        sql += " ORDER BY f.planned_at, f.id";
    } else {
        sql += " ORDER BY coalesce(f.done_at, f.planned_at, f.created_at) DESC, f.id DESC";
    }
    sql += &format!(" LIMIT {}", q.limit.unwrap_or(10_000));
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(rusqlite::params_from_iter(args), from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Postponements of a follow-up, oldest first.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct Postponement {
    pub from_at: Option<i64>,
    pub to_at: i64,
    pub reason: String,
    pub at: i64,
}

pub fn postponements(conn: &Connection, id: &str) -> Result<Vec<Postponement>> {
    let id = resolve_id(conn, id)?;
    let mut stmt = conn.prepare_cached(
        "SELECT from_at, to_at, reason, at FROM followup_postponements WHERE followup_id = ?1 ORDER BY at, rowid",
    )?;
    let rows = stmt.query_map([&id], |r| {
        Ok(Postponement {
            from_at: r.get(0)?,
            to_at: r.get(1)?,
            reason: r.get(2)?,
            at: r.get(3)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

// ---------------------------------------------------------------- timeline

/// One entry of a customer's timeline.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(tag = "type", rename_all = "snake_case")]
#[ts(export)]
pub enum TimelineItem {
    Followup {
        at: i64,
        followup: Box<Followup>,
    },
    StageChange {
        at: i64,
        opportunity_id: String,
        opportunity_name: String,
        stage: String,
        stage_name: String,
        reason: Option<String>,
    },
}

impl TimelineItem {
    pub fn at(&self) -> i64 {
        match self {
            TimelineItem::Followup { at, .. } | TimelineItem::StageChange { at, .. } => *at,
        }
    }
}

/// A customer's follow-ups and opportunity stage changes, newest first.
pub fn timeline(
    conn: &Connection,
    customer: &str,
    lang: Lang,
    limit: usize,
) -> Result<Vec<TimelineItem>> {
    let cid = crate::customers::resolve_id(conn, customer)?;
    let mut items: Vec<TimelineItem> = list(
        conn,
        &FollowupQuery {
            customer: Some(cid.clone()),
            limit: Some(limit),
            ..Default::default()
        },
    )?
    .into_iter()
    .map(|f| TimelineItem::Followup {
        at: f.done_at.or(f.planned_at).unwrap_or(f.created_at),
        followup: Box::new(f),
    })
    .collect();
    let stages = crate::pipeline::stages(conn)?;
    let mut stmt = conn.prepare_cached(
        "SELECT h.entered_at, o.id, o.name, h.stage, h.reason FROM opportunity_stage_history h
         JOIN opportunities o ON o.id = h.opportunity_id
         WHERE o.customer_id = ?1 AND o.deleted_at IS NULL ORDER BY h.entered_at DESC LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![cid, limit as i64], |r| {
        let stage: String = r.get(3)?;
        Ok(TimelineItem::StageChange {
            at: r.get(0)?,
            opportunity_id: r.get(1)?,
            opportunity_name: r.get(2)?,
            stage_name: stages
                .iter()
                .find(|s| s.key == stage)
                .map(|s| s.label(lang))
                .unwrap_or_else(|| stage.clone()),
            stage,
            reason: r.get(4)?,
        })
    })?;
    for r in rows {
        items.push(r?);
    }
    items.sort_by_key(|i| std::cmp::Reverse(i.at()));
    items.truncate(limit);
    Ok(items)
}

// ---------------------------------------------------------------- cadence

/// Days between follow-ups per grade (setting `cadence.days`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Cadence {
    #[serde(rename = "A")]
    pub a: i64,
    #[serde(rename = "B")]
    pub b: i64,
    #[serde(rename = "C")]
    pub c: i64,
}

impl Default for Cadence {
    fn default() -> Self {
        Cadence { a: 7, b: 14, c: 30 }
    }
}

impl Cadence {
    pub fn days(&self, g: Grade) -> i64 {
        match g {
            Grade::A => self.a,
            Grade::B => self.b,
            Grade::C => self.c,
        }
    }
}

pub const CADENCE_SETTING: &str = "cadence.days";

pub fn cadence(conn: &Connection) -> Result<Cadence> {
    Ok(settings::get(conn, CADENCE_SETTING)?.unwrap_or_default())
}

pub fn set_cadence(ws: &mut Workspace, c: Cadence) -> Result<()> {
    for (g, d) in [("A", c.a), ("B", c.b), ("C", c.c)] {
        if !(1..=365).contains(&d) {
            return Err(Error::validation(
                g,
                format!("{g}类客户的跟进周期必须在 1 到 365 天之间"),
                format!("The cadence of grade {g} must be 1 to 365 days"),
            ));
        }
    }
    let origin = ws.origin.clone();
    ws.write(&origin, |w| settings::put(w, CADENCE_SETTING, &c))
}

/// Is a customer with this grade, last contact and plan due at `now`?
/// `last_contact` is the last follow-up, or the creation time without one.
pub fn cadence_due(
    cad: &Cadence,
    grade: Option<Grade>,
    last_contact: Millis,
    has_plan: bool,
    now: Millis,
) -> bool {
    match grade {
        Some(g) => !has_plan && now - last_contact >= cad.days(g) * DAY,
        None => false,
    }
}

/// The suggested time of the next follow-up with a customer, counted from
/// `from` by its grade's cadence (None for a customer without a grade).
pub fn suggest_next_at(conn: &Connection, customer: &str, from: Millis) -> Result<Option<Millis>> {
    let id = crate::customers::resolve_id(conn, customer)?;
    let grade: Option<String> =
        conn.query_row("SELECT grade FROM customers WHERE id = ?1", [&id], |r| {
            r.get(0)
        })?;
    let cad = cadence(conn)?;
    Ok(grade
        .and_then(|g| Grade::parse(&g))
        .map(|g| from + cad.days(g) * DAY))
}

/// A customer due for a follow-up by its grade's cadence.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct DueCustomer {
    pub customer_id: String,
    pub code: String,
    pub name: String,
    pub grade: Grade,
    pub owner_id: Option<String>,
    pub last_followup_at: Option<i64>,
    /// When the cadence ran out.
    pub due_since: i64,
}

/// Customers due by cadence at `now`, longest overdue first, with the total.
pub fn due_customers(
    conn: &Connection,
    now: Millis,
    owner_id: Option<&str>,
    limit: usize,
) -> Result<(i64, Vec<DueCustomer>)> {
    due_customers_capped(conn, now, owner_id, limit, i64::MAX)
}

/// [`due_customers`] with the total counted up to `cap`.
pub fn due_customers_capped(
    conn: &Connection,
    now: Millis,
    owner_id: Option<&str>,
    limit: usize,
    cap: i64,
) -> Result<(i64, Vec<DueCustomer>)> {
    let cad = cadence(conn)?;
    let mut total: i64 = 0;
    let mut rows = vec![];
    for g in Grade::ALL {
        let cutoff = now - cad.days(g) * DAY;
        total = total.saturating_add(
            conn.prepare_cached(
                "SELECT count(*) FROM (SELECT 1 FROM customers INDEXED BY customers_live_cadence
                 WHERE grade = ?1 AND coalesce(last_followup_at, created_at) <= ?2
                   AND deleted_at IS NULL AND status <> 'lost' AND next_followup_at IS NULL
                   AND (?3 IS NULL OR owner_id = ?3) LIMIT ?4)",
            )?
            .query_row(
                params![g.key(), cutoff, owner_id, cap.saturating_sub(total).max(0)],
                |r| r.get::<_, i64>(0),
            )?,
        );
        let mut stmt = conn.prepare_cached(
            "SELECT id, code, name, owner_id, last_followup_at, coalesce(last_followup_at, created_at)
             FROM customers INDEXED BY customers_live_cadence
             WHERE grade = ?1 AND coalesce(last_followup_at, created_at) <= ?2
               AND deleted_at IS NULL AND status <> 'lost' AND next_followup_at IS NULL
               AND (?3 IS NULL OR owner_id = ?3)
             ORDER BY coalesce(last_followup_at, created_at) LIMIT ?4",
        )?;
        let days = cad.days(g);
        let it = stmt.query_map(params![g.key(), cutoff, owner_id, limit as i64], |r| {
            Ok(DueCustomer {
                customer_id: r.get(0)?,
                code: r.get(1)?,
                name: r.get(2)?,
                grade: g,
                owner_id: r.get(3)?,
                last_followup_at: r.get(4)?,
                due_since: r.get::<_, i64>(5)? + days * DAY,
            })
        })?;
        for r in it {
            rows.push(r?);
        }
    }
    rows.sort_by_key(|d| d.due_since);
    rows.truncate(limit);
    Ok((total, rows))
}

// ---------------------------------------------------------------- attachments

#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct Attachment {
    pub id: String,
    pub followup_id: String,
    pub sha256: String,
    pub name: String,
    pub size: i64,
    pub created_at: i64,
}

/// Where attachments of the workspace at `db_path` are stored.
pub fn attachments_dir(db_path: &Path) -> PathBuf {
    db_path
        .parent()
        .unwrap_or(Path::new("."))
        .join("attachments")
}

/// The stored file of an attachment (content-addressed by SHA-256).
pub fn attachment_path(ws: &Workspace, a: &Attachment) -> Result<PathBuf> {
    let db = ws.path().ok_or_else(|| {
        Error::validation(
            "file",
            "内存数据库不能保存附件",
            "An in-memory workspace has no attachment folder",
        )
    })?;
    Ok(attachments_dir(db).join(&a.sha256[..2]).join(&a.sha256))
}

/// Copy `file` into the data dir (once per distinct content) and attach it.
pub fn attach(ws: &mut Workspace, followup: &str, file: &Path) -> Result<Attachment> {
    use sha2::{Digest, Sha256};
    use std::io::Read;
    let fid = resolve_id(ws.conn(), followup)?;
    let db = ws.path().map(Path::to_path_buf).ok_or_else(|| {
        Error::validation(
            "file",
            "内存数据库不能保存附件",
            "An in-memory workspace has no attachment folder",
        )
    })?;
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| "file".into());
    let mut src = std::fs::File::open(file).map_err(|e| {
        Error::validation(
            "file",
            format!("无法打开文件 {}：{e}", file.display()),
            format!("Cannot open {}: {e}", file.display()),
        )
    })?;
    let dir = attachments_dir(&db);
    std::fs::create_dir_all(&dir)?;
    // Hash while copying into a temp file, then rename to the hash name.
    let tmp = dir.join(format!(".incoming-{}", crate::new_id()));
    let mut hasher = Sha256::new();
    let mut size = 0i64;
    {
        use std::io::Write;
        let mut out = std::fs::File::create(&tmp)?;
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = src.read(&mut buf)?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            out.write_all(&buf[..n])?;
            size += n as i64;
        }
        out.sync_all()?;
    }
    let sha: String = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let dest_dir = dir.join(&sha[..2]);
    std::fs::create_dir_all(&dest_dir)?;
    let dest = dest_dir.join(&sha);
    if dest.exists() {
        std::fs::remove_file(&tmp)?;
    } else {
        std::fs::rename(&tmp, &dest)?;
    }
    let origin = ws.origin.clone();
    let id = ws.write(&origin, |w| {
        let id = crate::new_id();
        w.tx().execute(
            "INSERT INTO attachments(id, followup_id, sha256, name, size, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![id, fid, sha, name, size, w.now()],
        )?;
        w.log(
            "attachment",
            &id,
            "*",
            None,
            Some(serde_json::json!({"followup_id": fid, "sha256": sha, "name": name, "size": size})),
        )?;
        Ok(id)
    })?;
    Ok(Attachment {
        id,
        followup_id: fid,
        sha256: sha,
        name,
        size,
        created_at: ws.now_ms(),
    })
}

pub fn attachments(conn: &Connection, followup: &str) -> Result<Vec<Attachment>> {
    let fid = resolve_id(conn, followup)?;
    let mut stmt = conn.prepare_cached(
        "SELECT id, followup_id, sha256, name, size, created_at FROM attachments
         WHERE followup_id = ?1 AND deleted_at IS NULL ORDER BY created_at, id",
    )?;
    let rows = stmt.query_map([&fid], |r| {
        Ok(Attachment {
            id: r.get(0)?,
            followup_id: r.get(1)?,
            sha256: r.get(2)?,
            name: r.get(3)?,
            size: r.get(4)?,
            created_at: r.get(5)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
