//! The sales pipeline (销售阶段): an ordered list of stages kept as the
//! setting `pipeline.stages`. The default, from the source documents, is
//! 初步接触 → 需求分析 → 方案提供 → 商务谈判 → 合同签订 → 回款完成, plus
//! 输单 (lost), which always exists, always comes last and needs a reason.
//!
//! Stages are referred to by a stable key; renaming changes only the name.
//! A stage that opportunities are in cannot be deleted unless they are moved
//! to another stage in the same write.

use crate::db::Workspace;
use crate::error::{Error, Result};
use crate::i18n::Lang;
use crate::settings;
use rusqlite::Connection;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

pub const SETTING: &str = "pipeline.stages";
/// The key of the lost stage (输单).
pub const LOST: &str = "lost";
/// The key of the default last won stage (回款完成).
pub const PAID: &str = "paid";

/// Where a stage stands: still open, won (the deal is closed) or lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, Default)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum StageKind {
    #[default]
    Open,
    Won,
    Lost,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Stage {
    pub key: String,
    pub name: String,
    #[serde(default)]
    pub kind: StageKind,
}

const DEFAULTS: &[(&str, &str, &str, StageKind)] = &[
    (
        "initial_contact",
        "初步接触",
        "Initial contact",
        StageKind::Open,
    ),
    (
        "needs_analysis",
        "需求分析",
        "Needs analysis",
        StageKind::Open,
    ),
    ("proposal", "方案提供", "Proposal", StageKind::Open),
    ("negotiation", "商务谈判", "Negotiation", StageKind::Open),
    ("contract", "合同签订", "Contract signed", StageKind::Won),
    (PAID, "回款完成", "Payment received", StageKind::Won),
    (LOST, "输单", "Lost", StageKind::Lost),
];

impl Stage {
    /// The name to show: a default stage that was not renamed has an
    /// English label too; a custom name is shown as typed.
    pub fn label(&self, lang: Lang) -> String {
        if lang == Lang::En {
            if let Some(d) = DEFAULTS
                .iter()
                .find(|d| d.0 == self.key && d.1 == self.name)
            {
                return d.2.to_string();
            }
        }
        self.name.clone()
    }
}

pub fn default_stages() -> Vec<Stage> {
    DEFAULTS
        .iter()
        .map(|(k, zh, _, kind)| Stage {
            key: k.to_string(),
            name: zh.to_string(),
            kind: *kind,
        })
        .collect()
}

/// The pipeline in order, 输单 last.
pub fn stages(conn: &Connection) -> Result<Vec<Stage>> {
    Ok(settings::get::<Vec<Stage>>(conn, SETTING)?
        .filter(|s| s.iter().any(|s| s.key == LOST))
        .unwrap_or_else(default_stages))
}

/// Find a stage by key, name or English label (case-insensitive). An
/// unknown stage is a validation error on `field`.
pub fn resolve(conn: &Connection, text: &str, field: &str) -> Result<Stage> {
    let t = text.trim().to_lowercase();
    let all = stages(conn)?;
    let alias = match t.as_str() {
        "输" | "丢单" | "失败" | "closed lost" => Some(LOST),
        "won" | "赢单" | "成交" => Some(PAID),
        _ => None,
    };
    all.iter()
        .find(|s| {
            s.key == t
                || s.name.to_lowercase() == t
                || s.label(Lang::En).to_lowercase() == t
                || alias == Some(s.key.as_str())
        })
        .cloned()
        .ok_or_else(|| {
            let names: Vec<_> = all.iter().map(|s| s.name.as_str()).collect();
            Error::validation(
                field,
                format!(
                    "没有“{}”这个销售阶段，可选：{}",
                    text.trim(),
                    names.join("、")
                ),
                format!(
                    "Unknown stage “{}”; stages: {}",
                    text.trim(),
                    all.iter()
                        .map(|s| s.label(Lang::En))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
        })
}

fn check_name(all: &[Stage], name: &str, except: Option<&str>) -> Result<String> {
    let name = name.trim().to_string();
    if name.is_empty() {
        return Err(Error::validation(
            "name",
            "阶段名称不能为空",
            "Stage name is required",
        ));
    }
    if name.chars().count() > 20 {
        return Err(Error::validation(
            "name",
            "阶段名称不能超过 20 个字",
            "Stage name is longer than 20 characters",
        ));
    }
    if all
        .iter()
        .any(|s| Some(s.key.as_str()) != except && s.name == name)
    {
        return Err(Error::validation(
            "name",
            format!("已有名为“{name}”的阶段"),
            format!("A stage named “{name}” already exists"),
        ));
    }
    Ok(name)
}

fn save(ws: &mut Workspace, all: &[Stage]) -> Result<()> {
    let origin = ws.origin.clone();
    ws.write(&origin, |w| settings::put(w, SETTING, &all))
}

/// Add an open stage before `before` (a key or name), or before 输单.
pub fn add_stage(ws: &mut Workspace, name: &str, before: Option<&str>) -> Result<Stage> {
    let mut all = stages(ws.conn())?;
    let name = check_name(&all, name, None)?;
    let at = match before {
        Some(b) => {
            let s = resolve(ws.conn(), b, "before")?;
            all.iter().position(|x| x.key == s.key).unwrap_or(all.len())
        }
        None => all.iter().position(|x| x.key == LOST).unwrap_or(all.len()),
    };
    let stage = Stage {
        key: format!("s{}", &crate::new_id().replace('-', "")[20..]),
        name,
        kind: StageKind::Open,
    };
    all.insert(at, stage.clone());
    save(ws, &all)?;
    Ok(stage)
}

/// Rename a stage; opportunities keep referring to it by key.
pub fn rename_stage(ws: &mut Workspace, stage: &str, name: &str) -> Result<Stage> {
    let mut all = stages(ws.conn())?;
    let s = resolve(ws.conn(), stage, "stage")?;
    let name = check_name(&all, name, Some(&s.key))?;
    let target = all.iter_mut().find(|x| x.key == s.key).expect("resolved");
    target.name = name;
    let out = target.clone();
    save(ws, &all)?;
    Ok(out)
}

/// Put the stages in the given order (keys or names of all stages but 输单,
/// which stays last).
pub fn reorder_stages(ws: &mut Workspace, order: &[String]) -> Result<Vec<Stage>> {
    let all = stages(ws.conn())?;
    let mut next = Vec::with_capacity(all.len());
    for o in order {
        let s = resolve(ws.conn(), o, "order")?;
        if s.key == LOST {
            continue;
        }
        if next.iter().any(|x: &Stage| x.key == s.key) {
            return Err(Error::validation(
                "order",
                format!("阶段“{}”重复了", s.name),
                format!("Stage “{}” is listed twice", s.name),
            ));
        }
        next.push(s);
    }
    if next.len() + 1 != all.len() {
        return Err(Error::validation(
            "order",
            "排序必须包含全部阶段",
            "The new order must list every stage",
        ));
    }
    next.extend(all.into_iter().filter(|s| s.key == LOST));
    save(ws, &next)?;
    Ok(next)
}

/// Delete a stage. If opportunities are in it, `move_to` must name another
/// stage; they are moved there (with stage history) in the same write.
pub fn delete_stage(ws: &mut Workspace, stage: &str, move_to: Option<&str>) -> Result<usize> {
    let all = stages(ws.conn())?;
    let s = resolve(ws.conn(), stage, "stage")?;
    if s.key == LOST {
        return Err(Error::validation(
            "stage",
            "“输单”阶段不能删除",
            "The Lost stage cannot be deleted",
        ));
    }
    if all.iter().filter(|x| x.key != LOST).count() <= 1 {
        return Err(Error::validation(
            "stage",
            "至少要保留一个阶段",
            "At least one stage must remain",
        ));
    }
    let ids: Vec<String> = {
        let mut stmt = ws
            .conn()
            .prepare("SELECT id FROM opportunities WHERE stage = ?1 AND deleted_at IS NULL")?;
        let rows = stmt.query_map([&s.key], |r| r.get(0))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    let target = match (ids.is_empty(), move_to) {
        (true, _) => None,
        (false, None) => {
            return Err(Error::validation(
                "move_to",
                format!(
                    "阶段“{}”中还有 {} 个销售机会，请先把它们移到其他阶段",
                    s.name,
                    ids.len()
                ),
                format!(
                    "{} opportunities are in stage “{}”; move them to another stage first",
                    ids.len(),
                    s.name
                ),
            ))
        }
        (false, Some(m)) => {
            let t = resolve(ws.conn(), m, "move_to")?;
            if t.key == s.key || t.key == LOST {
                return Err(Error::validation(
                    "move_to",
                    "请选择另一个未输单的阶段",
                    "Choose another stage that is not Lost",
                ));
            }
            Some(t)
        }
    };
    let rest: Vec<Stage> = all.into_iter().filter(|x| x.key != s.key).collect();
    let origin = ws.origin.clone();
    ws.write(&origin, |w| {
        if let Some(t) = &target {
            for id in &ids {
                crate::opportunities::set_stage_in(w, id, &t.key, None)?;
            }
        }
        settings::put(w, SETTING, &rest)
    })?;
    Ok(ids.len())
}
