//! Opportunities (销售机会): a possible deal with a customer, moving through
//! the pipeline (see [`crate::pipeline`]). Each stay in a stage is kept in
//! `opportunity_stage_history`, so the time spent in every stage is known.

use crate::changelog::Writer;
use crate::db::Workspace;
use crate::error::{Error, Result};
use crate::fields::{apply_patch, clean, log_create, log_diff};
use crate::i18n::Lang;
use crate::pipeline::{self, StageKind, LOST};
use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use ts_rs::TS;

/// The editable fields of an opportunity (the stage changes through
/// [`set_stage`] only, because it needs history and maybe a reason).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, Default)]
#[serde(deny_unknown_fields, default)]
#[ts(export)]
pub struct OpportunityFields {
    /// 机会名称, e.g. 办公设备采购项目.
    pub name: String,
    pub owner_id: Option<String>,
    /// 预计成交金额 (yuan).
    pub expected_amount: Option<f64>,
    /// 成交金额 (yuan).
    pub won_amount: Option<f64>,
    /// 回款金额 (yuan).
    pub received_amount: Option<f64>,
    /// 预计成交日期, YYYY-MM-DD.
    pub expected_close_date: Option<String>,
    pub notes: Option<String>,
}

impl OpportunityFields {
    pub fn validated(mut self, conn: &Connection) -> Result<Self> {
        self.name = self.name.trim().to_string();
        if self.name.is_empty() {
            return Err(Error::validation(
                "name",
                "机会名称不能为空",
                "Opportunity name is required",
            ));
        }
        if self.name.chars().count() > 200 {
            return Err(Error::validation(
                "name",
                "机会名称不能超过 200 个字",
                "Opportunity name is longer than 200 characters",
            ));
        }
        self.owner_id = clean(self.owner_id.take());
        self.notes = clean(self.notes.take());
        self.expected_close_date = clean(self.expected_close_date.take());
        for (field, v, zh, en) in [
            (
                "expected_amount",
                self.expected_amount,
                "预计金额",
                "Expected amount",
            ),
            ("won_amount", self.won_amount, "成交金额", "Won amount"),
            (
                "received_amount",
                self.received_amount,
                "回款金额",
                "Received amount",
            ),
        ] {
            crate::fields::check_amount(field, v, zh, en)?;
        }
        if let Some(d) = &self.expected_close_date {
            self.expected_close_date =
                Some(crate::fields::normalize_date("expected_close_date", d)?);
        }
        if let Some(owner) = &self.owner_id {
            crate::fields::check_owner(conn, owner)?;
        }
        Ok(self)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, Default)]
#[serde(default)]
#[ts(export)]
pub struct NewOpportunity {
    /// Customer id or code.
    pub customer: String,
    #[serde(flatten)]
    pub fields: OpportunityFields,
    /// Stage key or name; the first stage when absent.
    pub stage: Option<String>,
}

#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct Opportunity {
    pub id: String,
    pub customer_id: String,
    pub customer_code: String,
    pub customer_name: String,
    #[serde(flatten)]
    pub fields: OpportunityFields,
    pub owner_name: Option<String>,
    pub stage: String,
    pub stage_name: String,
    pub stage_kind: StageKind,
    pub stage_entered_at: i64,
    pub loss_reason: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub deleted_at: Option<i64>,
}

/// One stay of an opportunity in a stage.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct StageStay {
    pub stage: String,
    pub stage_name: String,
    pub entered_at: i64,
    /// None while it is the current stage.
    pub left_at: Option<i64>,
    /// Time spent so far (until `left_at`, or until now for the current stage).
    pub duration_ms: i64,
    pub reason: Option<String>,
}

const COLUMNS: &str = "o.id, o.customer_id, c.code, c.name, o.name, o.owner_id, o.expected_amount,
    o.won_amount, o.received_amount, o.expected_close_date, o.notes, m.name, o.stage,
    o.stage_entered_at, o.loss_reason, o.created_at, o.updated_at, o.deleted_at";
const FROM: &str = "FROM opportunities o JOIN customers c ON c.id = o.customer_id
    LEFT JOIN members m ON m.id = o.owner_id";

fn from_row(r: &Row, stages: &[pipeline::Stage], lang: Lang) -> rusqlite::Result<Opportunity> {
    let stage: String = r.get(12)?;
    let st = stages.iter().find(|s| s.key == stage);
    Ok(Opportunity {
        id: r.get(0)?,
        customer_id: r.get(1)?,
        customer_code: r.get(2)?,
        customer_name: r.get(3)?,
        fields: OpportunityFields {
            name: r.get(4)?,
            owner_id: r.get(5)?,
            expected_amount: r.get(6)?,
            won_amount: r.get(7)?,
            received_amount: r.get(8)?,
            expected_close_date: r.get(9)?,
            notes: r.get(10)?,
        },
        owner_name: r.get(11)?,
        stage_name: st.map(|s| s.label(lang)).unwrap_or_else(|| stage.clone()),
        stage_kind: st.map(|s| s.kind).unwrap_or_default(),
        stage,
        stage_entered_at: r.get(13)?,
        loss_reason: r.get(14)?,
        created_at: r.get(15)?,
        updated_at: r.get(16)?,
        deleted_at: r.get(17)?,
    })
}

/// Resolve a full id or an unambiguous id prefix (≥ 4 characters).
pub fn resolve_id(conn: &Connection, key: &str) -> Result<String> {
    crate::fields::resolve_id_prefix(conn, "opportunities", "opportunity", key)
}

pub fn get(conn: &Connection, id: &str) -> Result<Opportunity> {
    get_lang(conn, id, Lang::Zh)
}

pub fn get_lang(conn: &Connection, id: &str, lang: Lang) -> Result<Opportunity> {
    let id = resolve_id(conn, id)?;
    let stages = pipeline::stages(conn)?;
    let sql = format!("SELECT {COLUMNS} {FROM} WHERE o.id = ?1");
    Ok(conn.query_row(&sql, [&id], |r| from_row(r, &stages, lang))?)
}

/// Create an opportunity on a live customer.
pub fn create(ws: &mut Workspace, new: NewOpportunity) -> Result<Opportunity> {
    create_at(ws, new, None)
}

/// [`create`], back-dated to `at` (salespeople log deals after the fact);
/// `at` may not be in the future.
pub fn create_at(ws: &mut Workspace, new: NewOpportunity, at: Option<i64>) -> Result<Opportunity> {
    let origin = ws.origin.clone();
    let id = ws.write(&origin, |w| {
        if let Some(at) = at {
            check_not_future(w, at)?;
            w.set_now(at);
        }
        insert(w, new)
    })?;
    get_lang(ws.conn(), &id, ws.lang)
}

fn check_not_future(w: &Writer, at: i64) -> Result<()> {
    if at > w.now() + 60_000 {
        return Err(Error::validation(
            "at",
            "时间不能晚于现在",
            "The time cannot be in the future",
        ));
    }
    Ok(())
}

pub fn insert(w: &mut Writer, new: NewOpportunity) -> Result<String> {
    let customer_id = live_customer(w.tx(), &new.customer)?;
    let mut fields = new.fields;
    if fields.owner_id.is_none() {
        fields.owner_id = w.tx().query_row(
            "SELECT owner_id FROM customers WHERE id = ?1",
            [&customer_id],
            |r| r.get(0),
        )?;
    }
    let fields = fields.validated(w.tx())?;
    let stage = match &new.stage {
        Some(s) if !s.trim().is_empty() => pipeline::resolve(w.tx(), s, "stage")?,
        _ => pipeline::stages(w.tx())?
            .into_iter()
            .next()
            .expect("a pipeline has stages"),
    };
    if stage.key == LOST {
        return Err(Error::validation(
            "stage",
            "新建的销售机会不能直接是“输单”",
            "A new opportunity cannot start as Lost",
        ));
    }
    let id = crate::new_id();
    let now = w.now();
    w.tx().execute(
        "INSERT INTO opportunities(id, customer_id, name, owner_id, stage, stage_entered_at,
            expected_amount, won_amount, received_amount, expected_close_date, notes, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?6, ?6)",
        params![
            id,
            customer_id,
            fields.name,
            fields.owner_id,
            stage.key,
            now,
            fields.expected_amount,
            fields.won_amount,
            fields.received_amount,
            fields.expected_close_date,
            fields.notes
        ],
    )?;
    let mut record = serde_json::to_value(&fields)?;
    record["customer_id"] = Value::from(customer_id.clone());
    record["stage"] = Value::from(stage.key.clone());
    record["stage_entered_at"] = Value::from(now);
    log_create(w, "opportunity", &id, &record)?;
    enter_stage(w, &id, &stage.key, now, None)?;
    Ok(id)
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

fn enter_stage(
    w: &mut Writer,
    opp: &str,
    stage: &str,
    at: i64,
    reason: Option<&str>,
) -> Result<()> {
    let hid = crate::new_id();
    w.tx().execute(
        "INSERT INTO opportunity_stage_history(id, opportunity_id, stage, entered_at, reason)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![hid, opp, stage, at, reason],
    )?;
    let mut rec = serde_json::json!({"opportunity_id": opp, "stage": stage, "entered_at": at});
    if let Some(r) = reason {
        rec["reason"] = Value::from(r);
    }
    w.log("opportunity_stage", &hid, "*", None, Some(rec))
}

/// Change some fields (see [`OpportunityFields`]); returns the opportunity after.
pub fn update(ws: &mut Workspace, id: &str, patch: &Map<String, Value>) -> Result<Opportunity> {
    let id = resolve_id(ws.conn(), id)?;
    let origin = ws.origin.clone();
    ws.write(&origin, |w| {
        let cur = get(w.tx(), &id)?;
        let next = apply_patch(&cur.fields, patch)?.validated(w.tx())?;
        if !log_diff(w, "opportunity", &id, &cur.fields, &next)?.is_empty() {
            w.tx().execute(
                "UPDATE opportunities SET name = ?2, owner_id = ?3, expected_amount = ?4, won_amount = ?5,
                    received_amount = ?6, expected_close_date = ?7, notes = ?8, updated_at = ?9 WHERE id = ?1",
                params![
                    id,
                    next.name,
                    next.owner_id,
                    next.expected_amount,
                    next.won_amount,
                    next.received_amount,
                    next.expected_close_date,
                    next.notes,
                    w.now()
                ],
            )?;
        }
        Ok(())
    })?;
    get_lang(ws.conn(), &id, ws.lang)
}

/// Move an opportunity to `stage` (key or name). Moving to 输单 needs a
/// reason; an unknown stage or a missing reason writes nothing.
pub fn set_stage(
    ws: &mut Workspace,
    id: &str,
    stage: &str,
    reason: Option<&str>,
) -> Result<Opportunity> {
    set_stage_at(ws, id, stage, reason, None)
}

/// [`set_stage`], back-dated to `at`: not in the future and not before the
/// current stage was entered (the stage history stays in time order).
pub fn set_stage_at(
    ws: &mut Workspace,
    id: &str,
    stage: &str,
    reason: Option<&str>,
    at: Option<i64>,
) -> Result<Opportunity> {
    let id = resolve_id(ws.conn(), id)?;
    let st = pipeline::resolve(ws.conn(), stage, "stage")?;
    let origin = ws.origin.clone();
    ws.write(&origin, |w| {
        if let Some(at) = at {
            check_not_future(w, at)?;
            let entered: i64 = w.tx().query_row(
                "SELECT stage_entered_at FROM opportunities WHERE id = ?1",
                [&id],
                |r| r.get(0),
            )?;
            if at < entered {
                return Err(Error::validation(
                    "at",
                    "时间不能早于进入当前阶段的时间",
                    "The time cannot be before the current stage was entered",
                ));
            }
            w.set_now(at);
        }
        set_stage_in(w, &id, &st.key, reason)
    })?;
    get_lang(ws.conn(), &id, ws.lang)
}

/// One payment (回款) of an opportunity.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct Payment {
    pub id: String,
    pub opportunity_id: String,
    pub amount: f64,
    pub at: i64,
    pub note: Option<String>,
}

/// Record a payment (回款) of `amount` yuan received at `at` (default now);
/// a deal may be paid in several payments. `received_amount` becomes the
/// previous received amount plus this payment.
pub fn receive(
    ws: &mut Workspace,
    id: &str,
    amount: f64,
    at: Option<i64>,
    note: Option<&str>,
) -> Result<Opportunity> {
    let id = resolve_id(ws.conn(), id)?;
    let origin = ws.origin.clone();
    ws.write(&origin, |w| {
        receive_in(w, &id, amount, at, note).map(|_| ())
    })?;
    get_lang(ws.conn(), &id, ws.lang)
}

pub fn receive_in(
    w: &mut Writer,
    id: &str,
    amount: f64,
    at: Option<i64>,
    note: Option<&str>,
) -> Result<String> {
    if !amount.is_finite() || amount <= 0.0 {
        return Err(Error::validation(
            "amount",
            "回款金额必须大于 0",
            "The payment amount must be greater than 0",
        ));
    }
    let at = at.unwrap_or(w.now());
    check_not_future(w, at)?;
    let (received, deleted): (Option<f64>, Option<i64>) = w
        .tx()
        .query_row(
            "SELECT received_amount, deleted_at FROM opportunities WHERE id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?
        .ok_or_else(|| Error::not_found("opportunity", id))?;
    if deleted.is_some() {
        return Err(Error::validation(
            "id",
            "销售机会在回收站中，请先恢复",
            "The opportunity is in the trash; restore it first",
        ));
    }
    let note = note.map(str::trim).filter(|n| !n.is_empty());
    let pid = crate::new_id();
    w.tx().execute(
        "INSERT INTO opportunity_payments(id, opportunity_id, amount, at, note, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![pid, id, amount, at, note, w.now()],
    )?;
    let mut rec = serde_json::json!({"opportunity_id": id, "amount": amount, "at": at});
    if let Some(n) = note {
        rec["note"] = Value::from(n);
    }
    w.log("opportunity_payment", &pid, "*", None, Some(rec))?;
    let total = received.unwrap_or(0.0) + amount;
    w.tx().execute(
        "UPDATE opportunities SET received_amount = ?2, updated_at = ?3 WHERE id = ?1",
        params![id, total, w.now()],
    )?;
    w.log(
        "opportunity",
        id,
        "received_amount",
        received.map(Value::from),
        Some(total.into()),
    )?;
    Ok(pid)
}

/// The payments of an opportunity, oldest first.
pub fn payments(conn: &Connection, id: &str) -> Result<Vec<Payment>> {
    let id = resolve_id(conn, id)?;
    let mut stmt = conn.prepare_cached(
        "SELECT id, opportunity_id, amount, at, note FROM opportunity_payments
         WHERE opportunity_id = ?1 AND deleted_at IS NULL ORDER BY at, id",
    )?;
    let rows = stmt.query_map([&id], |r| {
        Ok(Payment {
            id: r.get(0)?,
            opportunity_id: r.get(1)?,
            amount: r.get(2)?,
            at: r.get(3)?,
            note: r.get(4)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// [`set_stage`] inside an open write; `stage` is a key. Returns whether
/// anything changed (moving to the current stage changes nothing).
pub fn set_stage_in(w: &mut Writer, id: &str, stage: &str, reason: Option<&str>) -> Result<bool> {
    let st = pipeline::resolve(w.tx(), stage, "stage")?;
    let reason = reason.map(str::trim).filter(|r| !r.is_empty());
    if st.key == LOST && reason.is_none() {
        return Err(Error::validation(
            "reason",
            "改为“输单”时必须填写输单原因",
            "A reason is required when marking an opportunity as lost",
        ));
    }
    let (cur, entered, loss, deleted): (String, i64, Option<String>, Option<i64>) =
        w.tx().query_row(
            "SELECT stage, stage_entered_at, loss_reason, deleted_at FROM opportunities WHERE id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .optional()?
        .ok_or_else(|| Error::not_found("opportunity", id))?;
    if deleted.is_some() {
        return Err(Error::validation(
            "id",
            "销售机会在回收站中，请先恢复",
            "The opportunity is in the trash; restore it first",
        ));
    }
    if cur == st.key {
        return Ok(false);
    }
    let now = w.now();
    let new_loss = if st.key == LOST {
        reason.map(str::to_string)
    } else {
        None
    };
    w.tx().execute(
        "UPDATE opportunities SET stage = ?2, stage_entered_at = ?3, loss_reason = ?4, updated_at = ?3 WHERE id = ?1",
        params![id, st.key, now, new_loss],
    )?;
    w.log(
        "opportunity",
        id,
        "stage",
        Some(cur.into()),
        Some(st.key.clone().into()),
    )?;
    w.log(
        "opportunity",
        id,
        "stage_entered_at",
        Some(entered.into()),
        Some(now.into()),
    )?;
    w.log(
        "opportunity",
        id,
        "loss_reason",
        loss.map(Value::from),
        new_loss.clone().map(Value::from),
    )?;
    let open: Option<String> = w
        .tx()
        .query_row(
            "SELECT id FROM opportunity_stage_history WHERE opportunity_id = ?1 AND left_at IS NULL
             ORDER BY entered_at DESC LIMIT 1",
            [id],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(h) = open {
        w.tx().execute(
            "UPDATE opportunity_stage_history SET left_at = ?2 WHERE id = ?1",
            params![h, now],
        )?;
        w.log("opportunity_stage", &h, "left_at", None, Some(now.into()))?;
    }
    enter_stage(w, id, &st.key, now, reason)?;
    let customer: String = w.tx().query_row(
        "SELECT customer_id FROM opportunities WHERE id = ?1",
        [id],
        |r| r.get(0),
    )?;
    crate::analysis::segments::recompute(w.tx(), &customer, now)?;
    Ok(true)
}

/// Move to the trash / back.
pub fn set_deleted(ws: &mut Workspace, id: &str, delete: bool) -> Result<()> {
    let id = resolve_id(ws.conn(), id)?;
    let origin = ws.origin.clone();
    ws.write(&origin, |w| {
        let old: Option<i64> = w.tx().query_row(
            "SELECT deleted_at FROM opportunities WHERE id = ?1",
            [&id],
            |r| r.get(0),
        )?;
        let new = if delete { old.or(Some(w.now())) } else { None };
        if old != new {
            w.tx().execute(
                "UPDATE opportunities SET deleted_at = ?2, updated_at = ?3 WHERE id = ?1",
                params![id, new, w.now()],
            )?;
            w.log(
                "opportunity",
                &id,
                "deleted_at",
                old.map(Value::from),
                new.map(Value::from),
            )?;
        }
        Ok(())
    })
}

/// The stays of an opportunity in each stage, oldest first.
pub fn stage_history(conn: &Connection, id: &str, now: i64, lang: Lang) -> Result<Vec<StageStay>> {
    let id = resolve_id(conn, id)?;
    let stages = pipeline::stages(conn)?;
    let mut stmt = conn.prepare_cached(
        "SELECT stage, entered_at, left_at, reason FROM opportunity_stage_history
         WHERE opportunity_id = ?1 ORDER BY entered_at, rowid",
    )?;
    let rows = stmt.query_map([&id], |r| {
        let stage: String = r.get(0)?;
        let entered_at: i64 = r.get(1)?;
        let left_at: Option<i64> = r.get(2)?;
        Ok(StageStay {
            stage_name: stages
                .iter()
                .find(|s| s.key == stage)
                .map(|s| s.label(lang))
                .unwrap_or_else(|| stage.clone()),
            stage,
            entered_at,
            left_at,
            duration_ms: left_at.unwrap_or(now).max(entered_at) - entered_at,
            reason: r.get(3)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, TS)]
#[serde(default)]
#[ts(export)]
pub struct OpportunityQuery {
    /// Customer id or code.
    pub customer: Option<String>,
    pub owner_id: Option<String>,
    /// Stage key or name.
    pub stage: Option<String>,
    pub include_deleted: bool,
    pub limit: Option<usize>,
}

/// Opportunities, newest first.
pub fn list(conn: &Connection, q: &OpportunityQuery, lang: Lang) -> Result<Vec<Opportunity>> {
    let stages = pipeline::stages(conn)?;
    let mut sql = format!("SELECT {COLUMNS} {FROM} WHERE 1 = 1");
    let mut args: Vec<Value> = vec![];
    if let Some(c) = &q.customer {
        args.push(crate::customers::resolve_id(conn, c)?.into());
        sql += &format!(" AND o.customer_id = ?{}", args.len());
    }
    if let Some(o) = &q.owner_id {
        args.push(o.clone().into());
        sql += &format!(" AND o.owner_id = ?{}", args.len());
    }
    if let Some(s) = &q.stage {
        args.push(pipeline::resolve(conn, s, "stage")?.key.into());
        sql += &format!(" AND o.stage = ?{}", args.len());
    }
    if !q.include_deleted {
        sql += " AND o.deleted_at IS NULL AND c.deleted_at IS NULL";
    }
    sql += &format!(
        " ORDER BY o.created_at DESC, o.id DESC LIMIT {}",
        q.limit.unwrap_or(10_000)
    );
    let mut stmt = conn.prepare(&sql)?;
    let params: Vec<rusqlite::types::Value> = args
        .into_iter()
        .map(|v| match v {
            Value::String(s) => rusqlite::types::Value::Text(s),
            _ => rusqlite::types::Value::Null,
        })
        .collect();
    let rows = stmt.query_map(rusqlite::params_from_iter(params), |r| {
        from_row(r, &stages, lang)
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// One kanban column of the pipeline page.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct BoardColumn {
    pub stage: pipeline::Stage,
    pub label: String,
    pub count: i64,
    /// Sum of expected amounts (won amount where set).
    pub amount: f64,
    pub cards: Vec<Opportunity>,
}

/// The pipeline as kanban columns, optionally for one owner. At most
/// `cards_per_column` cards per column (longest in stage first).
pub fn board(
    conn: &Connection,
    owner_id: Option<&str>,
    cards_per_column: usize,
    lang: Lang,
) -> Result<Vec<BoardColumn>> {
    let stages = pipeline::stages(conn)?;
    let mut out = vec![];
    for st in &stages {
        let (count, amount): (i64, f64) = conn.query_row(
            "SELECT count(*), coalesce(sum(coalesce(o.won_amount, o.expected_amount, 0)), 0)
             FROM opportunities o JOIN customers c ON c.id = o.customer_id
             WHERE o.stage = ?1 AND o.deleted_at IS NULL AND c.deleted_at IS NULL
               AND (?2 IS NULL OR o.owner_id = ?2)",
            params![st.key, owner_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let sql = format!(
            "SELECT {COLUMNS} {FROM} WHERE o.stage = ?1 AND o.deleted_at IS NULL AND c.deleted_at IS NULL
               AND (?2 IS NULL OR o.owner_id = ?2) ORDER BY o.stage_entered_at LIMIT ?3"
        );
        let mut stmt = conn.prepare_cached(&sql)?;
        let cards = stmt
            .query_map(params![st.key, owner_id, cards_per_column as i64], |r| {
                from_row(r, &stages, lang)
            })?
            .collect::<rusqlite::Result<_>>()?;
        out.push(BoardColumn {
            label: st.label(lang),
            stage: st.clone(),
            count,
            amount,
            cards,
        });
    }
    Ok(out)
}
