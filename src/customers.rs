//! Customers (客户): the central record. Every write here runs in one
//! transaction with its change-log entries and refreshes the customer's
//! search document.

use crate::changelog::Writer;
use crate::contacts::{self, Contact, ContactFields};
use crate::db::Workspace;
use crate::error::{Error, Result};
use crate::fields::{apply_patch, clean, log_create, log_diff};
use crate::i18n::Lang;
use crate::search;
use crate::tags::{self, Tag};
use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use ts_rs::TS;

/// Customer status (客户状态), stored as a stable English key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS, Default)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Status {
    #[default]
    Prospect,
    Interested,
    Won,
    Lost,
}

impl Status {
    pub const ALL: [Status; 4] = [
        Status::Prospect,
        Status::Interested,
        Status::Won,
        Status::Lost,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Status::Prospect => "prospect",
            Status::Interested => "interested",
            Status::Won => "won",
            Status::Lost => "lost",
        }
    }

    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            Status::Prospect => lang.pick("潜在客户", "Prospect"),
            Status::Interested => lang.pick("意向客户", "Interested"),
            Status::Won => lang.pick("成交客户", "Won"),
            Status::Lost => lang.pick("流失客户", "Lost"),
        }
    }

    /// From a key, an English or a Chinese label (潜在/潜在客户/线索, …).
    pub fn parse(text: &str) -> Option<Status> {
        let t = text.trim().to_lowercase();
        Some(match t.as_str() {
            "prospect" | "潜在" | "潜在客户" | "线索" | "新客户" | "lead" => {
                Status::Prospect
            }
            "interested" | "意向" | "意向客户" | "有意向" | "跟进中" => {
                Status::Interested
            }
            "won" | "成交" | "成交客户" | "已成交" | "签约" | "老客户" | "customer" => {
                Status::Won
            }
            "lost" | "流失" | "流失客户" | "已流失" | "churned" => Status::Lost,
            _ => return None,
        })
    }

    pub fn from_key(key: &str) -> Status {
        Status::parse(key).unwrap_or_default()
    }
}

/// Customer grade (客户分级) A/B/C.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[ts(export)]
pub enum Grade {
    A,
    B,
    C,
}

impl Grade {
    pub const ALL: [Grade; 3] = [Grade::A, Grade::B, Grade::C];

    pub fn key(self) -> &'static str {
        match self {
            Grade::A => "A",
            Grade::B => "B",
            Grade::C => "C",
        }
    }

    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            Grade::A => lang.pick("A类（重点）", "A (key)"),
            Grade::B => lang.pick("B类（普通）", "B (regular)"),
            Grade::C => lang.pick("C类（潜在）", "C (potential)"),
        }
    }

    pub fn parse(text: &str) -> Option<Grade> {
        let t = text.trim().to_uppercase();
        let t = t
            .trim_end_matches("类客户")
            .trim_end_matches('类')
            .trim_end_matches("级");
        match t {
            "A" | "重点" | "重要" => Some(Grade::A),
            "B" | "普通" => Some(Grade::B),
            "C" | "一般" => Some(Grade::C),
            _ => None,
        }
    }
}

/// Company or individual (企业/个人).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, Default)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum CustomerKind {
    #[default]
    Company,
    Individual,
}

impl CustomerKind {
    pub fn key(self) -> &'static str {
        match self {
            CustomerKind::Company => "company",
            CustomerKind::Individual => "individual",
        }
    }
}

/// Industries offered in pickers; any other text is accepted too.
pub const INDUSTRIES: &[&str] = &[
    "制造业",
    "信息技术",
    "互联网",
    "软件",
    "电子",
    "机械设备",
    "汽车",
    "化工",
    "医疗健康",
    "医药",
    "教育培训",
    "金融",
    "保险",
    "房地产",
    "建筑工程",
    "物流运输",
    "批发零售",
    "电子商务",
    "餐饮",
    "酒店旅游",
    "农林牧渔",
    "能源电力",
    "环保",
    "文化传媒",
    "广告营销",
    "咨询服务",
    "法律服务",
    "人力资源",
    "政府机构",
    "通信",
    "纺织服装",
    "食品饮料",
    "家居建材",
    "其他",
];

/// Lead sources offered in pickers (线索来源); free text is accepted too.
pub const SOURCES: &[&str] = &[
    "展会",
    "官网表单",
    "转介绍",
    "代理商",
    "陌拜",
    "线上推广",
    "电话营销",
    "社交媒体",
    "老客户",
    "其他",
];

/// Company sizes offered in pickers.
pub const SIZES: &[&str] = &[
    "1-20人",
    "21-100人",
    "101-500人",
    "501-1000人",
    "1000人以上",
];

/// The editable fields of a customer. Used to create, and as the shape a
/// patch is applied onto (see [`update`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, Default)]
#[serde(deny_unknown_fields, default)]
#[ts(export)]
pub struct CustomerFields {
    pub name: String,
    pub kind: CustomerKind,
    pub industry: Option<String>,
    pub size: Option<String>,
    pub province: Option<String>,
    pub city: Option<String>,
    pub district: Option<String>,
    pub address: Option<String>,
    pub source: Option<String>,
    pub status: Status,
    pub grade: Option<Grade>,
    pub owner_id: Option<String>,
    /// 核心需求 / 需求偏好.
    pub needs: Option<String>,
    /// 预算 (yuan).
    pub budget: Option<f64>,
    /// 采购周期, e.g. 季度 / 每年 3 月.
    pub purchase_cycle: Option<String>,
    /// 年采购额 (yuan).
    pub annual_purchase: Option<f64>,
    /// 首次接触日期, YYYY-MM-DD.
    pub first_contact_date: Option<String>,
    pub notes: Option<String>,
}

impl CustomerFields {
    pub fn named(name: &str) -> Self {
        CustomerFields {
            name: name.to_string(),
            ..Default::default()
        }
    }

    /// Trim text, turn empty text into None, and check every rule. The
    /// error names the first offending field.
    pub fn validated(mut self, conn: &Connection) -> Result<Self> {
        self.name = self.name.trim().to_string();
        if self.name.is_empty() {
            return Err(Error::validation(
                "name",
                "客户名称不能为空",
                "Customer name is required",
            ));
        }
        if self.name.chars().count() > 200 {
            return Err(Error::validation(
                "name",
                "客户名称不能超过 200 个字",
                "Customer name is longer than 200 characters",
            ));
        }
        for f in [
            &mut self.industry,
            &mut self.size,
            &mut self.province,
            &mut self.city,
            &mut self.district,
            &mut self.address,
            &mut self.source,
            &mut self.owner_id,
            &mut self.needs,
            &mut self.purchase_cycle,
            &mut self.first_contact_date,
            &mut self.notes,
        ] {
            *f = clean(f.take());
        }
        for (field, v, zh, en) in [
            ("budget", self.budget, "预算", "Budget"),
            (
                "annual_purchase",
                self.annual_purchase,
                "年采购额",
                "Annual purchase",
            ),
        ] {
            crate::fields::check_amount(field, v, zh, en)?;
        }
        if let Some(d) = &self.first_contact_date {
            self.first_contact_date = Some(crate::fields::normalize_date("first_contact_date", d)?);
        }
        if let Some(owner) = &self.owner_id {
            crate::fields::check_owner(conn, owner)?;
        }
        Ok(self)
    }
}

/// A customer as shown on its detail page.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct Customer {
    pub id: String,
    pub code: String,
    #[serde(flatten)]
    pub fields: CustomerFields,
    pub owner_name: Option<String>,
    pub last_followup_at: Option<i64>,
    pub next_followup_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub deleted_at: Option<i64>,
    pub contacts: Vec<Contact>,
    pub tags: Vec<Tag>,
}

/// What a new customer starts with.
#[derive(Debug, Clone, Serialize, Deserialize, TS, Default)]
#[serde(default)]
#[ts(export)]
pub struct NewCustomer {
    #[serde(flatten)]
    pub fields: CustomerFields,
    pub contacts: Vec<ContactFields>,
    /// Tag names; missing tags are created.
    pub tags: Vec<String>,
}

const COLUMNS: &str =
    "c.id, c.code, c.name, c.kind, c.industry, c.size, c.province, c.city, c.district,
    c.address, c.source, c.status, c.grade, c.owner_id, c.needs, c.budget, c.purchase_cycle,
    c.annual_purchase, c.first_contact_date, c.notes, c.last_followup_at, c.next_followup_at,
    c.created_at, c.updated_at, c.deleted_at, m.name";

fn fields_from_row(r: &Row) -> rusqlite::Result<CustomerFields> {
    Ok(CustomerFields {
        name: r.get(2)?,
        kind: if r.get::<_, String>(3)? == "individual" {
            CustomerKind::Individual
        } else {
            CustomerKind::Company
        },
        industry: r.get(4)?,
        size: r.get(5)?,
        province: r.get(6)?,
        city: r.get(7)?,
        district: r.get(8)?,
        address: r.get(9)?,
        source: r.get(10)?,
        status: Status::from_key(&r.get::<_, String>(11)?),
        grade: r
            .get::<_, Option<String>>(12)?
            .and_then(|g| Grade::parse(&g)),
        owner_id: r.get(13)?,
        needs: r.get(14)?,
        budget: r.get(15)?,
        purchase_cycle: r.get(16)?,
        annual_purchase: r.get(17)?,
        first_contact_date: r.get(18)?,
        notes: r.get(19)?,
    })
}

fn customer_from_row(r: &Row) -> rusqlite::Result<Customer> {
    Ok(Customer {
        id: r.get(0)?,
        code: r.get(1)?,
        fields: fields_from_row(r)?,
        last_followup_at: r.get(20)?,
        next_followup_at: r.get(21)?,
        created_at: r.get(22)?,
        updated_at: r.get(23)?,
        deleted_at: r.get(24)?,
        owner_name: r.get(25)?,
        contacts: vec![],
        tags: vec![],
    })
}

/// Find a customer by id or code (trash included); not-found is an error.
pub fn get(conn: &Connection, id_or_code: &str) -> Result<Customer> {
    let key = id_or_code.trim();
    let sql = format!(
        "SELECT {COLUMNS} FROM customers c LEFT JOIN members m ON m.id = c.owner_id
         WHERE c.id = ?1 OR c.code = ?2"
    );
    let mut c = conn
        .query_row(&sql, params![key, key.to_uppercase()], customer_from_row)
        .optional()?
        .ok_or_else(|| Error::not_found("customer", key))?;
    c.contacts = contacts::list_for_customer(conn, &c.id)?;
    c.tags = tags::for_customer(conn, &c.id)?;
    Ok(c)
}

/// Resolve an id or code to the id.
pub fn resolve_id(conn: &Connection, id_or_code: &str) -> Result<String> {
    let key = id_or_code.trim();
    conn.query_row(
        "SELECT id FROM customers WHERE id = ?1 OR code = ?2",
        params![key, key.to_uppercase()],
        |r| r.get(0),
    )
    .optional()?
    .ok_or_else(|| Error::not_found("customer", key))
}

/// Next free code `C` + local date + sequence of at least 3 digits.
pub fn next_code(conn: &Connection, now_ms: i64) -> Result<String> {
    let prefix = format!("C{}", crate::clock::local_date_compact(now_ms));
    let last: Option<String> = conn
        .query_row(
            "SELECT code FROM customers WHERE code > ?1 AND code < ?1 || ':'
                AND substr(code, length(?1) + 1) NOT GLOB '*[^0-9]*'
             ORDER BY length(code) DESC, code DESC LIMIT 1",
            [&prefix],
            |r| r.get(0),
        )
        .optional()?;
    let next = last
        .and_then(|c| c[prefix.len()..].parse::<u64>().ok())
        .unwrap_or(0)
        + 1;
    Ok(format!("{prefix}{next:03}"))
}

/// Create a customer with its contacts and tags.
pub fn create(ws: &mut Workspace, new: NewCustomer) -> Result<Customer> {
    let origin = ws.origin.clone();
    let id = ws.write(&origin, |w| insert(w, new, None))?;
    get(ws.conn(), &id)
}

/// Insert inside an open write. `code` may be given (import); otherwise the
/// next free one is taken. Returns the new id.
pub fn insert(w: &mut Writer, new: NewCustomer, code: Option<String>) -> Result<String> {
    let now = w.now();
    insert_created_at(w, new, code, now)
}

/// [`insert`] for a customer first recorded at `created_at`, last updated
/// now (demo data spread over two years; records carried over from a
/// spreadsheet keep their own age).
pub fn insert_created_at(
    w: &mut Writer,
    new: NewCustomer,
    code: Option<String>,
    created_at: i64,
) -> Result<String> {
    let fields = new.fields.validated(w.tx())?;
    let contacts = new
        .contacts
        .into_iter()
        .enumerate()
        .map(|(i, c)| c.validated().map_err(|e| contacts::prefix_field(e, i)))
        .collect::<Result<Vec<_>>>()?;
    let now = w.now();
    let code = match code {
        Some(c) => {
            let c = c.trim().to_uppercase();
            let taken: bool = w
                .tx()
                .prepare_cached("SELECT EXISTS(SELECT 1 FROM customers WHERE code = ?1)")?
                .query_row([&c], |r| r.get(0))?;
            if taken {
                return Err(Error::validation(
                    "code",
                    format!("客户编号 {c} 已存在"),
                    format!("Customer code {c} already exists"),
                ));
            }
            c
        }
        None => next_code(w.tx(), now)?,
    };
    let id = crate::new_id();
    write_row(w, &id, &code, &fields, now, Some(created_at))?;
    let mut record = serde_json::to_value(&fields)?;
    record["code"] = Value::String(code);
    if created_at != now {
        // Other devices take the creation time from the record.
        record["created_at"] = Value::from(created_at);
    }
    log_create(w, "customer", &id, &record)?;
    let has_primary = contacts.iter().any(|c| c.is_primary);
    for (i, mut c) in contacts.into_iter().enumerate() {
        if !has_primary && i == 0 {
            c.is_primary = true;
        }
        contacts::insert(w, &id, c)?;
    }
    for name in new.tags {
        if name.trim().is_empty() {
            continue;
        }
        let tag_id = tags::get_or_create(w, &name)?;
        tags::link(w, &id, &tag_id)?;
    }
    w.reindex(&id);
    Ok(id)
}

/// The key customers are sorted by when sorted by name: the pinyin of the
/// name, syllable by syllable (北京 → "bei jing"), so Chinese names sort the
/// way Chinese users expect rather than by code point.
pub fn sort_key(name: &str) -> String {
    use pinyin::ToPinyin;
    let mut out = String::with_capacity(name.len() * 2);
    for (ch, py) in name.chars().zip(name.to_pinyin()) {
        match py {
            Some(p) => {
                if !out.is_empty() && !out.ends_with(' ') {
                    out.push(' ');
                }
                out.push_str(p.plain());
                out.push(' ');
            }
            None => out.extend(ch.to_lowercase()),
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn write_row(
    w: &Writer,
    id: &str,
    code: &str,
    f: &CustomerFields,
    now: i64,
    created_at: Option<i64>,
) -> Result<()> {
    let sql = if created_at.is_some() {
        "INSERT INTO customers(id, code, name, kind, industry, size, province, city, district, address,
            source, status, grade, owner_id, needs, budget, purchase_cycle, annual_purchase,
            first_contact_date, notes, created_at, updated_at, name_sort)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?23, ?21, ?22)"
    } else {
        "UPDATE customers SET code = ?2, name = ?3, kind = ?4, industry = ?5, size = ?6, province = ?7,
            city = ?8, district = ?9, address = ?10, source = ?11, status = ?12, grade = ?13, owner_id = ?14,
            needs = ?15, budget = ?16, purchase_cycle = ?17, annual_purchase = ?18, first_contact_date = ?19,
            notes = ?20, updated_at = ?21, name_sort = ?22
         WHERE id = ?1"
    };
    let (kind, status) = (f.kind.key(), f.status.key());
    let grade = f.grade.map(Grade::key);
    let sort = sort_key(&f.name);
    let created = created_at.unwrap_or(now);
    let mut values: Vec<&dyn rusqlite::ToSql> = vec![
        &id,
        &code,
        &f.name,
        &kind,
        &f.industry,
        &f.size,
        &f.province,
        &f.city,
        &f.district,
        &f.address,
        &f.source,
        &status,
        &grade,
        &f.owner_id,
        &f.needs,
        &f.budget,
        &f.purchase_cycle,
        &f.annual_purchase,
        &f.first_contact_date,
        &f.notes,
        &now,
        &sort,
    ];
    if created_at.is_some() {
        values.push(&created);
    }
    w.tx().prepare_cached(sql)?.execute(values.as_slice())?;
    Ok(())
}

/// Change some fields of a customer: `patch` maps field names of
/// [`CustomerFields`] to new values (`null` or `""` clears). Returns the
/// customer after the change; a patch that changes nothing writes nothing.
pub fn update(
    ws: &mut Workspace,
    id_or_code: &str,
    patch: &Map<String, Value>,
) -> Result<Customer> {
    let id = resolve_id(ws.conn(), id_or_code)?;
    let origin = ws.origin.clone();
    ws.write(&origin, |w| update_in(w, &id, patch))?;
    get(ws.conn(), &id)
}

/// [`update`] inside an open write; returns the names of changed fields.
pub fn update_in(w: &mut Writer, id: &str, patch: &Map<String, Value>) -> Result<Vec<String>> {
    let current = get(w.tx(), id)?;
    if current.deleted_at.is_some() {
        return Err(Error::validation(
            "id",
            "客户在回收站中，请先恢复再修改",
            "The customer is in the trash; restore it first",
        ));
    }
    let next = apply_patch(&current.fields, patch)?.validated(w.tx())?;
    let changed = log_diff(w, "customer", id, &current.fields, &next)?;
    if !changed.is_empty() {
        write_row(w, id, &current.code, &next, w.now(), None)?;
        w.reindex(id);
        crate::analysis::segments::recompute(w.tx(), id, w.now())?;
    }
    Ok(changed)
}

/// Move customers to the trash (soft delete).
pub fn delete(ws: &mut Workspace, ids_or_codes: &[String]) -> Result<usize> {
    set_deleted(ws, ids_or_codes, true)
}

/// Bring customers back from the trash.
pub fn restore(ws: &mut Workspace, ids_or_codes: &[String]) -> Result<usize> {
    set_deleted(ws, ids_or_codes, false)
}

fn set_deleted(ws: &mut Workspace, keys: &[String], delete: bool) -> Result<usize> {
    let ids = keys
        .iter()
        .map(|k| resolve_id(ws.conn(), k))
        .collect::<Result<Vec<_>>>()?;
    let origin = ws.origin.clone();
    ws.write(&origin, |w| {
        let mut n = 0;
        for id in &ids {
            let old: Option<i64> = w.tx().query_row(
                "SELECT deleted_at FROM customers WHERE id = ?1",
                [id],
                |r| r.get(0),
            )?;
            let new = if delete { old.or(Some(w.now())) } else { None };
            if old == new {
                continue;
            }
            w.tx().execute(
                "UPDATE customers SET deleted_at = ?2, updated_at = ?3 WHERE id = ?1",
                params![id, new, w.now()],
            )?;
            w.log(
                "customer",
                id,
                "deleted_at",
                old.map(Value::from),
                new.map(Value::from),
            )?;
            n += 1;
        }
        Ok(n)
    })
}

/// Delete for good. Only customers already in the trash can be purged.
pub fn purge(ws: &mut Workspace, ids_or_codes: &[String]) -> Result<usize> {
    let ids = ids_or_codes
        .iter()
        .map(|k| resolve_id(ws.conn(), k))
        .collect::<Result<Vec<_>>>()?;
    let origin = ws.origin.clone();
    ws.write(&origin, |w| {
        for id in &ids {
            let c = get(w.tx(), id)?;
            if c.deleted_at.is_none() {
                return Err(Error::validation(
                    "id",
                    format!("{} 不在回收站中，不能彻底删除", c.code),
                    format!("{} is not in the trash and cannot be purged", c.code),
                ));
            }
            search::unindex_customer(w.tx(), id)?;
            w.tx()
                .execute("DELETE FROM customers WHERE id = ?1", [id])?;
            w.log(
                "customer",
                id,
                "*",
                Some(serde_json::to_value(&c.fields)?),
                None,
            )?;
        }
        Ok(ids.len())
    })
}

/// Assign an owner to many customers at once (`None` = unassigned).
pub fn assign_owner(
    ws: &mut Workspace,
    ids_or_codes: &[String],
    owner_id: Option<&str>,
) -> Result<usize> {
    let mut patch = Map::new();
    patch.insert(
        "owner_id".into(),
        owner_id.map(Value::from).unwrap_or(Value::Null),
    );
    let ids = ids_or_codes
        .iter()
        .map(|k| resolve_id(ws.conn(), k))
        .collect::<Result<Vec<_>>>()?;
    let origin = ws.origin.clone();
    ws.write(&origin, |w| {
        let mut n = 0;
        for id in &ids {
            if !update_in(w, id, &patch)?.is_empty() {
                n += 1;
            }
        }
        Ok(n)
    })
}

/// The customer's change history, newest first.
pub fn history(conn: &Connection, id_or_code: &str) -> Result<Vec<crate::changelog::HistoryEntry>> {
    let id = resolve_id(conn, id_or_code)?;
    crate::changelog::customer_history(conn, &id, 500)
}
