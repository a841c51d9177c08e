//! Team members (团队成员) and "me", the member who uses this device. Owners
//! of customers are members; changes are attributed to "me".

use crate::db::Workspace;
use crate::error::{Error, Result};
use crate::fields::{apply_patch, clean, log_create, log_diff};
use crate::i18n::Lang;
use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use ts_rs::TS;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, Default)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Role {
    #[default]
    Rep,
    Manager,
    Analyst,
    Admin,
}

impl Role {
    pub fn key(self) -> &'static str {
        match self {
            Role::Rep => "rep",
            Role::Manager => "manager",
            Role::Analyst => "analyst",
            Role::Admin => "admin",
        }
    }
    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            Role::Rep => lang.pick("销售", "Sales rep"),
            Role::Manager => lang.pick("销售经理", "Manager"),
            Role::Analyst => lang.pick("数据分析", "Analyst"),
            Role::Admin => lang.pick("管理员", "Admin"),
        }
    }
    pub fn parse(s: &str) -> Option<Role> {
        Some(match s.trim().to_lowercase().as_str() {
            "rep" | "销售" | "销售代表" => Role::Rep,
            "manager" | "经理" | "销售经理" | "主管" => Role::Manager,
            "analyst" | "分析" | "数据分析" => Role::Analyst,
            "admin" | "管理员" => Role::Admin,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, Default)]
#[serde(deny_unknown_fields, default)]
#[ts(export)]
pub struct MemberFields {
    pub name: String,
    pub employee_no: Option<String>,
    pub department: Option<String>,
    pub role: Role,
}

impl MemberFields {
    fn validated(mut self) -> Result<Self> {
        self.name = self.name.trim().to_string();
        if self.name.is_empty() {
            return Err(Error::validation(
                "name",
                "成员姓名不能为空",
                "Member name is required",
            ));
        }
        self.employee_no = clean(self.employee_no);
        self.department = clean(self.department);
        Ok(self)
    }
}

#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct Member {
    pub id: String,
    #[serde(flatten)]
    pub fields: MemberFields,
    pub is_me: bool,
}

pub fn list(conn: &Connection) -> Result<Vec<Member>> {
    let me: Option<String> = conn
        .query_row("SELECT value FROM meta WHERE key = 'me'", [], |r| r.get(0))
        .optional()?;
    let mut stmt = conn.prepare_cached(
        "SELECT id, name, employee_no, department, role FROM members WHERE deleted_at IS NULL ORDER BY created_at, id",
    )?;
    let rows = stmt.query_map([], |r| {
        let id: String = r.get(0)?;
        Ok(Member {
            is_me: me.as_deref() == Some(id.as_str()),
            id,
            fields: MemberFields {
                name: r.get(1)?,
                employee_no: r.get(2)?,
                department: r.get(3)?,
                role: Role::parse(&r.get::<_, String>(4)?).unwrap_or_default(),
            },
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// A member by id, name or employee number.
pub fn resolve(conn: &Connection, key: &str) -> Result<Member> {
    let key = key.trim();
    list(conn)?
        .into_iter()
        .find(|m| {
            m.id == key || m.fields.name == key || m.fields.employee_no.as_deref() == Some(key)
        })
        .ok_or_else(|| Error::not_found("member", key))
}

pub fn add(ws: &mut Workspace, fields: MemberFields) -> Result<Member> {
    let f = fields.validated()?;
    let origin = ws.origin.clone();
    let id = ws.write(&origin, |w| {
        let id = crate::new_id();
        w.tx().execute(
            "INSERT INTO members(id, name, employee_no, department, role, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
            params![id, f.name, f.employee_no, f.department, f.role.key(), w.now()],
        )?;
        log_create(w, "member", &id, &f)?;
        Ok(id)
    })?;
    resolve(ws.conn(), &id)
}

pub fn update(ws: &mut Workspace, key: &str, patch: &Map<String, Value>) -> Result<Member> {
    let m = resolve(ws.conn(), key)?;
    let next = apply_patch(&m.fields, patch)?.validated()?;
    let origin = ws.origin.clone();
    ws.write(&origin, |w| {
        if !log_diff(w, "member", &m.id, &m.fields, &next)?.is_empty() {
            w.tx().execute(
                "UPDATE members SET name = ?2, employee_no = ?3, department = ?4, role = ?5, updated_at = ?6 WHERE id = ?1",
                params![m.id, next.name, next.employee_no, next.department, next.role.key(), w.now()],
            )?;
        }
        Ok(())
    })?;
    resolve(ws.conn(), &m.id)
}

/// Remove a member. Their customers keep them as owner until reassigned,
/// so the member is only hidden, never purged.
pub fn remove(ws: &mut Workspace, key: &str) -> Result<()> {
    let m = resolve(ws.conn(), key)?;
    if m.is_me {
        return Err(Error::validation(
            "member",
            "不能删除“我”，请先把“我”设为其他成员",
            "You cannot remove yourself; set another member as “me” first",
        ));
    }
    let origin = ws.origin.clone();
    ws.write(&origin, |w| {
        w.tx().execute(
            "UPDATE members SET deleted_at = ?2 WHERE id = ?1",
            params![m.id, w.now()],
        )?;
        w.log(
            "member",
            &m.id,
            "deleted_at",
            None,
            Some(Value::from(w.now())),
        )
    })
}

/// Make `key` the member who uses this device.
pub fn set_me(ws: &mut Workspace, key: &str) -> Result<Member> {
    let m = resolve(ws.conn(), key)?;
    ws.conn().execute(
        "INSERT INTO meta(key, value) VALUES ('me', ?1) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        [&m.id],
    )?;
    resolve(ws.conn(), &m.id)
}
