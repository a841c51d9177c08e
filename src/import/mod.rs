//! Import customers (with a contact and tags each) from xlsx/xlsm/xls/ods
//! and csv/tsv files.
//!
//! Three steps, each a function the desktop app, the CLI and the tests call:
//! 1. [`preview`]: read the file, find the header row and the column mapping,
//!    convert and validate every row, and say what would happen to it
//!    (create / update / skip / fail) — nothing is written;
//! 2. [`run`]: the same, then write all good rows in ONE transaction whose
//!    change-log entries carry origin `import:<job id>`, and record the job.
//!    Cancel (or a crash, or kill -9) leaves the database as it was;
//! 3. [`undo`]: reverse a whole import from the change log.

pub mod followups;
pub mod mapping;
pub mod opportunities;
mod packed;
pub mod read;
pub mod report;
pub mod side_sheet;

use crate::changelog::Writer;
use crate::contacts::ContactFields;
use crate::customers::{self, CustomerFields, CustomerKind, Grade, NewCustomer, Status};
use crate::db::Workspace;
use crate::error::{Error, Result};
use crate::i18n::Lang;
use crate::validate::{normalize_phone, PhoneKind};
use mapping::{Field, Mapping};
use packed::PackedCustomer;
use read::{Cell, FileFormat, SheetPick, Table};
use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use ts_rs::TS;

/// What to do with a row that matches an existing customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, Default)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum OnDuplicate {
    /// Leave the existing customer alone.
    #[default]
    Skip,
    /// Fill only the existing customer's empty fields.
    Fill,
    /// Overwrite fields with the file's non-empty values.
    Overwrite,
    /// Create a new customer anyway.
    Create,
    /// Merge into the existing customer as the Duplicates page would: fill
    /// its empty fields, add the row's contacts and tags, and keep both
    /// texts of notes and needs.
    Merge,
}

impl OnDuplicate {
    pub fn parse(s: &str) -> Option<OnDuplicate> {
        Some(match s.trim().to_lowercase().as_str() {
            "skip" | "跳过" => OnDuplicate::Skip,
            "fill" | "update-empty" | "补全" => OnDuplicate::Fill,
            "overwrite" | "覆盖" => OnDuplicate::Overwrite,
            "create" | "新建" => OnDuplicate::Create,
            "merge" | "合并" => OnDuplicate::Merge,
            _ => return None,
        })
    }

    pub fn key(self) -> &'static str {
        match self {
            OnDuplicate::Skip => "skip",
            OnDuplicate::Fill => "fill",
            OnDuplicate::Overwrite => "overwrite",
            OnDuplicate::Create => "create",
            OnDuplicate::Merge => "merge",
        }
    }
}

/// Choices for one import.
#[derive(Debug, Clone, Default, Serialize, Deserialize, TS)]
#[serde(default)]
#[ts(export)]
pub struct ImportOptions {
    /// Sheet name or 1-based number; `null` = the first sheet with a customer header.
    pub sheet: Option<String>,
    /// CSV encoding override (`utf-8`, `gbk`, `gb18030`, `utf-16le`, …).
    pub encoding: Option<String>,
    /// A saved mapping; `null` = automatic.
    pub mapping: Option<Mapping>,
    pub on_duplicate: OnDuplicate,
}

/// One problem with one row, in both languages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct RowIssue {
    /// Field key (`name`, `contact_mobile`, …) or `row`.
    pub field: String,
    pub zh: String,
    pub en: String,
    /// The closest allowed value, when the value was not recognised.
    pub suggestion: Option<String>,
}

impl RowIssue {
    pub fn message(&self, lang: Lang) -> &str {
        lang.pick(&self.zh, &self.en)
    }
}

/// What will happen (preview) or happened (import) to a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum RowAction {
    Create,
    Update,
    Skip,
    Fail,
}

/// The customer a row matches: an existing one, or the one an earlier row
/// of the same file creates.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct RowMatch {
    /// Empty when the match is an earlier row (`reason` = `file`).
    pub customer_id: String,
    pub code: String,
    pub name: String,
    /// `code`, `mobile`, `name` (exact), `similar` (the duplicate scorer
    /// against existing customers) or `file` (an earlier row of this file).
    pub reason: String,
    /// Duplicate score 0–1 for `similar` and `file`.
    pub score: Option<f32>,
    /// Why the scorer thinks so (名称相似 0.93, 手机号相同, …).
    pub reasons: Vec<crate::dedupe::Reason>,
    /// The earlier row (as Excel numbers it) for `file`.
    pub row: Option<usize>,
}

#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct PreviewRow {
    /// 1-based row number in the sheet (as Excel shows it).
    pub row: usize,
    pub cells: Vec<String>,
    pub action: RowAction,
    pub issues: Vec<RowIssue>,
    pub matched: Option<RowMatch>,
}

/// Most rows a preview carries (all failed rows are counted; the report file holds them all).
pub const PREVIEW_ROWS: usize = 500;

#[derive(Debug, Clone, Serialize, TS)]
#[ts(export, rename = "ImportPreview")]
pub struct Preview {
    pub file_name: String,
    pub format: FileFormat,
    pub encoding: Option<String>,
    pub sheets: Vec<String>,
    pub sheet: String,
    pub mapping: Mapping,
    pub total: usize,
    pub create: usize,
    pub update: usize,
    pub skip: usize,
    pub fail: usize,
    /// The first rows, failed ones first.
    pub rows: Vec<PreviewRow>,
    /// A follow-up sheet imported along (跟进记录), and its row count.
    pub followup_sheet: Option<String>,
    pub followup_rows: usize,
    /// An opportunity sheet imported along (销售机会), and its row count.
    pub opportunity_sheet: Option<String>,
    pub opportunity_rows: usize,
    /// Rows of those sheets that would fail, checked like the customer rows
    /// (a customer may be one this file creates).
    pub followup_failures: Vec<FailedRow>,
    pub opportunity_failures: Vec<FailedRow>,
}

/// Progress of a running import.
#[derive(Debug, Clone, Copy, Serialize, TS)]
#[ts(export, rename = "ImportProgress")]
pub struct Progress {
    pub done: usize,
    pub total: usize,
}

/// A failed row with its original cells, for the error report.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct FailedRow {
    pub row: usize,
    pub cells: Vec<String>,
    pub issues: Vec<RowIssue>,
    #[serde(skip)]
    #[ts(skip)]
    pub raw: Vec<Cell>,
}

/// The outcome of [`run`].
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct ImportReport {
    /// `null` when nothing was written (dry run, cancel).
    pub job_id: Option<String>,
    pub file_name: String,
    pub total: usize,
    pub imported: usize,
    pub updated: usize,
    pub skipped: usize,
    pub failed: usize,
    pub cancelled: bool,
    pub dry_run: bool,
    pub headers: Vec<String>,
    pub failures: Vec<FailedRow>,
    /// The follow-up sheet of the workbook, if it has one (跟进记录).
    pub followup_sheet: Option<String>,
    pub followups_imported: usize,
    pub followup_headers: Vec<String>,
    pub followup_failures: Vec<FailedRow>,
    /// The opportunity sheet of the workbook, if it has one (销售机会).
    pub opportunity_sheet: Option<String>,
    pub opportunities_imported: usize,
    pub opportunity_headers: Vec<String>,
    pub opportunity_failures: Vec<FailedRow>,
}

/// One recorded import (the import log page).
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct ImportJob {
    pub id: String,
    pub file_name: String,
    pub format: String,
    pub sheet: String,
    pub started_at: i64,
    pub finished_at: i64,
    pub mapping: Mapping,
    pub on_duplicate: OnDuplicate,
    pub total: i64,
    pub imported: i64,
    pub updated: i64,
    pub skipped: i64,
    pub failed: i64,
    pub actor_id: Option<String>,
    pub undone_at: Option<i64>,
}

// ---------------------------------------------------------------- reading

/// Read the sheet to import: the named one, or the first visible sheet
/// whose header names a customer field (an instructions sheet is passed over).
pub fn read_table(path: &Path, opts: &ImportOptions) -> Result<Table> {
    if let Some(s) = opts.sheet.as_deref().filter(|s| !s.trim().is_empty()) {
        return read::read(path, SheetPick::Named(s.trim()), opts.encoding.as_deref());
    }
    let first = read::read(path, SheetPick::First, opts.encoding.as_deref())?;
    if first.format == FileFormat::Csv || has_name_header(&first) {
        return Ok(first);
    }
    for name in first.sheet_names.iter().skip(1).take(8) {
        let t = read::read(path, SheetPick::Named(name), None)?;
        if has_name_header(&t) {
            return Ok(t);
        }
    }
    Ok(first)
}

fn has_name_header(t: &Table) -> bool {
    let (m, _) = mapping::resolve(&t.rows, None);
    m.columns.iter().any(|c| c.field == Some(Field::Name))
}

// ------------------------------------------------------------- converting

/// A set of the customer fields (CustomerFields keys) a row gives a value
/// for: one word per row instead of a list, as a large import holds every
/// converted row until it writes.
#[derive(Debug, Clone, Copy, Default)]
struct Present(u32);

impl Present {
    const KEYS: [&'static str; 17] = [
        "kind",
        "industry",
        "size",
        "province",
        "city",
        "district",
        "address",
        "source",
        "needs",
        "purchase_cycle",
        "notes",
        "status",
        "grade",
        "owner_id",
        "budget",
        "annual_purchase",
        "first_contact_date",
    ];

    fn push(&mut self, key: &'static str) {
        let i = Self::KEYS.iter().position(|k| *k == key);
        debug_assert!(i.is_some(), "{key} is not an importable field");
        if let Some(i) = i {
            self.0 |= 1 << i;
        }
    }

    fn iter(self) -> impl Iterator<Item = &'static str> {
        Self::KEYS
            .into_iter()
            .enumerate()
            .filter(move |(i, _)| self.0 & (1 << i) != 0)
            .map(|(_, k)| k)
    }
}

/// A row converted and checked.
struct Converted {
    row: usize,
    raw: Vec<Cell>,
    // Packed, and `matched` boxed: a large import holds every converted row
    // until it writes.
    new: PackedCustomer,
    code: Option<String>,
    /// Customer fields the row gives a value for.
    present: Present,
    issues: Vec<RowIssue>,
    matched: Option<Box<RowMatch>>,
    action: RowAction,
    /// The row repeats an earlier row's customer (same code or same name)
    /// to add another contact person to it.
    contact_row: bool,
}

/// The customer each row of the file became (created, updated or matched),
/// so a row repeating an earlier one reaches the same customer. Kept only
/// for the rows a later row repeats: a 100k-row import would otherwise hold
/// 100k ids while it writes.
struct RowCustomers {
    wanted: HashSet<usize>,
    ids: HashMap<usize, String>,
}

impl RowCustomers {
    fn for_rows(rows: &[Converted]) -> Self {
        RowCustomers {
            wanted: rows
                .iter()
                .filter_map(|r| r.matched.as_ref()?.row)
                .collect(),
            ids: HashMap::new(),
        }
    }

    fn remember(&mut self, row: usize, customer_id: &str) {
        if self.wanted.contains(&row) {
            self.ids.insert(row, customer_id.to_string());
        }
    }

    fn get(&self, row: usize) -> Option<String> {
        self.ids.get(&row).cloned()
    }
}

fn issue(field: &str, zh: impl Into<String>, en: impl Into<String>) -> RowIssue {
    RowIssue {
        field: field.to_string(),
        zh: zh.into(),
        en: en.into(),
        suggestion: None,
    }
}

fn from_error(e: Error, field: &str) -> RowIssue {
    match e {
        Error::Validation { field: f, zh, en } => RowIssue {
            field: if f.is_empty() { field.into() } else { f },
            zh,
            en,
            suggestion: None,
        },
        e => issue(field, e.message(Lang::Zh), e.message(Lang::En)),
    }
}

/// Text of a cell for a text field; a leading `'` that guarded a formula
/// character on export is removed.
fn text_of(c: &Cell) -> Option<String> {
    let s = match c {
        Cell::Empty => return None,
        c => c.display(),
    };
    let s = s.trim();
    let s = match s.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@', '\t', '\r']) => rest,
        _ => s,
    };
    (!s.is_empty()).then(|| s.to_string())
}

/// An amount as people write it: `50,000`, `5万`, `¥1.2万元`, `3,5 万`.
pub fn parse_amount(text: &str, unit: f64) -> Option<f64> {
    let mut t: String = text
        .chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, ',' | '，' | '¥' | '￥' | '$'))
        .collect();
    let mut mult = unit;
    for (suffix, m) in [
        ("万元", 10_000.0),
        ("万", 10_000.0),
        ("w", 10_000.0),
        ("W", 10_000.0),
        ("元", 1.0),
        ("rmb", 1.0),
        ("RMB", 1.0),
    ] {
        if let Some(rest) = t.strip_suffix(suffix) {
            t = rest.to_string();
            if m != 1.0 {
                mult = m;
            }
            break;
        }
    }
    let v: f64 = t.parse().ok()?;
    v.is_finite().then_some(v * mult)
}

fn is_blank_amount(t: &str) -> bool {
    matches!(t.trim(), "-" | "--" | "—" | "/" | "无" | "n/a" | "N/A")
}

/// Character edit distance.
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut cur = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The allowed value closest to `input` (label shown to people).
fn closest<'a>(input: &str, candidates: &[(&'a str, &'a str)]) -> Option<&'a str> {
    let t = input.trim().to_lowercase();
    candidates
        .iter()
        .map(|(text, label)| {
            let shared = text.chars().filter(|c| t.contains(*c)).count();
            (distance(&t, text), std::cmp::Reverse(shared), *label)
        })
        .filter(|(d, std::cmp::Reverse(shared), _)| *shared > 0 || *d <= 2)
        .min()
        .map(|x| x.2)
}

fn parse_status(text: &str) -> std::result::Result<Status, Option<&'static str>> {
    if let Some(s) = Status::parse(text) {
        return Ok(s);
    }
    // The stages of seed 004's 当前跟进阶段 (线索→意向→商机→报价→成交→流失).
    match text.trim() {
        "商机" | "报价" | "谈判" | "商务谈判" | "方案" => {
            return Ok(Status::Interested)
        }
        "合作中" | "已签约" | "已合作" => return Ok(Status::Won),
        _ => {}
    }
    let cands: Vec<(&str, &str)> = Status::ALL
        .iter()
        .flat_map(|s| {
            [
                (s.label(Lang::Zh), s.label(Lang::Zh)),
                (s.key(), s.label(Lang::Zh)),
            ]
        })
        .collect();
    Err(closest(text, &cands))
}

fn parse_grade(text: &str) -> std::result::Result<Grade, Option<&'static str>> {
    if let Some(g) = Grade::parse(text) {
        return Ok(g);
    }
    let t = text.trim().to_uppercase();
    if let Some(g) = t.chars().find_map(|c| Grade::parse(&c.to_string())) {
        return Err(Some(g.key()));
    }
    Err(None)
}

fn parse_kind(text: &str) -> Option<CustomerKind> {
    match text.trim().to_lowercase().as_str() {
        "企业" | "公司" | "单位" | "企业客户" | "company" | "business" | "b2b" => {
            Some(CustomerKind::Company)
        }
        "个人" | "个人客户" | "individual" | "person" | "b2c" => {
            Some(CustomerKind::Individual)
        }
        _ => None,
    }
}

fn date_of(c: &Cell, date1904: bool) -> std::result::Result<Option<chrono::NaiveDate>, String> {
    match c {
        Cell::Empty => Ok(None),
        Cell::Date(d) => Ok(Some(d.date())),
        Cell::Number(n) => read::serial_to_date(*n, date1904)
            .map(|d| Some(d.date()))
            .ok_or_else(|| read::fmt_number(*n)),
        c => {
            let t = text_of(c).unwrap_or_default();
            if t.is_empty() || is_blank_amount(&t) {
                return Ok(None);
            }
            crate::dates::parse_date(&t).map(Some).ok_or(t)
        }
    }
}

/// Split tags on the separators people use.
pub fn split_tags(text: &str) -> Vec<String> {
    text.split([',', '，', ';', '；', '、', '|', '/', '\n'])
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
        .collect()
}

/// Name normalised for duplicate matching: case, spaces, brackets, legal suffixes.
pub fn normalize_name(name: &str) -> String {
    let mut s: String = name
        .chars()
        .filter(|c| {
            !c.is_whitespace() && !matches!(c, '(' | ')' | '（' | '）' | '.' | ',' | '，' | '·')
        })
        .flat_map(|c| c.to_lowercase())
        .collect();
    for suffix in [
        "股份有限公司",
        "有限责任公司",
        "有限公司",
        "集团",
        "公司",
        "coltd",
        "ltd",
        "inc",
        "co",
    ] {
        if let Some(rest) = s.strip_suffix(suffix) {
            if !rest.is_empty() {
                s = rest.to_string();
            }
        }
    }
    s
}

/// What the database already holds, for matching rows to customers.
struct Existing {
    codes: HashMap<String, (String, String, String, bool)>,
    mobiles: HashMap<String, String>,
    names: HashMap<String, String>,
    members: HashMap<String, String>,
}

/// Team members by employee number, name and id: how a sheet names an owner.
fn members_by_key(conn: &Connection) -> Result<HashMap<String, String>> {
    let mut members = HashMap::new();
    for m in crate::members::list(conn)? {
        if let Some(no) = &m.fields.employee_no {
            members.insert(no.clone(), m.id.clone());
        }
        members.insert(m.fields.name.clone(), m.id.clone());
        members.insert(m.id.clone(), m.id);
    }
    Ok(members)
}

impl Existing {
    fn load(conn: &Connection) -> Result<Self> {
        let mut codes = HashMap::new();
        let mut names = HashMap::new();
        let mut stmt =
            conn.prepare("SELECT id, code, name, deleted_at IS NOT NULL FROM customers")?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let (id, code, name, deleted): (String, String, String, bool) =
                (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?);
            if !deleted {
                names
                    .entry(normalize_name(&name))
                    .or_insert_with(|| id.clone());
            }
            codes.insert(code.clone(), (id, code, name, deleted));
        }
        let mut mobiles = HashMap::new();
        let mut stmt = conn.prepare(
            "SELECT ct.mobile, ct.customer_id FROM contacts ct JOIN customers c ON c.id = ct.customer_id
             WHERE ct.mobile IS NOT NULL AND ct.deleted_at IS NULL AND c.deleted_at IS NULL",
        )?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            mobiles.entry(r.get(0)?).or_insert(r.get(1)?);
        }
        Ok(Existing {
            codes,
            mobiles,
            names,
            members: members_by_key(conn)?,
        })
    }

    fn describe(&self, id: &str, reason: &str, conn: &Connection) -> Result<RowMatch> {
        let (code, name): (String, String) = conn.query_row(
            "SELECT code, name FROM customers WHERE id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        Ok(RowMatch {
            customer_id: id.into(),
            code,
            name,
            reason: reason.into(),
            score: None,
            reasons: vec![],
            row: None,
        })
    }
}

struct Plan {
    cols: Vec<(usize, Field, f64)>,
    header_row: usize,
}

fn plan(table: &Table, saved: Option<&Mapping>) -> (Mapping, Plan) {
    let (m, h) = mapping::resolve(&table.rows, saved);
    let cols = m
        .columns
        .iter()
        .filter_map(|c| {
            c.field
                .map(|f| (c.index, f, mapping::header_unit(&c.header)))
        })
        .collect();
    (
        m,
        Plan {
            cols,
            header_row: h,
        },
    )
}

fn convert_row(
    row_no: usize,
    raw: Vec<Cell>,
    plan: &Plan,
    date1904: bool,
    ex: &Existing,
    conn: &Connection,
) -> Converted {
    let mut f = CustomerFields::default();
    let mut contact = ContactFields::default();
    let mut has_contact = false;
    let mut tags = vec![];
    let mut code = None;
    let mut present = Present::default();
    let mut issues = vec![];
    let empty = Cell::Empty;
    for &(i, field, unit) in &plan.cols {
        let cell = raw.get(i).unwrap_or(&empty);
        let text = text_of(cell);
        let Some(t) = text.clone() else { continue };
        match field {
            Field::Code => code = Some(t.to_uppercase()),
            Field::Name => f.name = t,
            Field::Kind => match parse_kind(&t) {
                Some(k) => {
                    f.kind = k;
                    present.push("kind");
                }
                None => issues.push(RowIssue {
                    field: "kind".into(),
                    zh: format!("客户类别“{t}”无法识别，应为 企业 或 个人"),
                    en: format!("Kind “{t}” is not recognised; use company or individual"),
                    suggestion: None,
                }),
            },
            Field::Industry => { f.industry = Some(t); present.push("industry") }
            Field::Size => { f.size = Some(t); present.push("size") }
            Field::Province => { f.province = Some(t); present.push("province") }
            Field::City => { f.city = Some(t); present.push("city") }
            Field::District => { f.district = Some(t); present.push("district") }
            Field::Address => { f.address = Some(t); present.push("address") }
            Field::Source => { f.source = Some(t); present.push("source") }
            Field::Needs => { f.needs = Some(t); present.push("needs") }
            Field::PurchaseCycle => { f.purchase_cycle = Some(t); present.push("purchase_cycle") }
            Field::Notes => { f.notes = Some(t); present.push("notes") }
            Field::Status => match parse_status(&t) {
                Ok(s) => { f.status = s; present.push("status") }
                Err(sugg) => issues.push(RowIssue {
                    field: "status".into(),
                    zh: match sugg {
                        Some(s) => format!("客户状态“{t}”无法识别，是否应为“{s}”？可选：潜在客户、意向客户、成交客户、流失客户"),
                        None => format!("客户状态“{t}”无法识别，可选：潜在客户、意向客户、成交客户、流失客户"),
                    },
                    en: match sugg {
                        Some(s) => format!("Status “{t}” is not recognised; did you mean “{s}”? Allowed: prospect, interested, won, lost"),
                        None => format!("Status “{t}” is not recognised. Allowed: prospect, interested, won, lost"),
                    },
                    suggestion: sugg.map(str::to_string),
                }),
            },
            Field::Grade => match parse_grade(&t) {
                Ok(g) => { f.grade = Some(g); present.push("grade") }
                Err(sugg) => issues.push(RowIssue {
                    field: "grade".into(),
                    zh: match sugg {
                        Some(s) => format!("客户分级“{t}”无法识别，是否应为“{s}”？可选：A、B、C"),
                        None => format!("客户分级“{t}”无法识别，可选：A、B、C"),
                    },
                    en: match sugg {
                        Some(s) => format!("Grade “{t}” is not recognised; did you mean “{s}”? Allowed: A, B, C"),
                        None => format!("Grade “{t}” is not recognised. Allowed: A, B, C"),
                    },
                    suggestion: sugg.map(str::to_string),
                }),
            },
            Field::Owner => match ex.members.get(t.as_str()) {
                Some(id) => { f.owner_id = Some(id.clone()); present.push("owner_id") }
                None => issues.push(issue(
                    "owner",
                    format!("负责人“{t}”不是团队成员，请先在“团队成员”中添加，或清空此格"),
                    format!("Owner “{t}” is not a team member; add them under Team first, or leave the cell empty"),
                )),
            },
            Field::Tags => {
                tags = split_tags(&t);
                if let Some(long) = tags.iter().find(|t| t.chars().count() > 30) {
                    issues.push(issue(
                        "tags",
                        format!("标签“{long}”超过 30 个字"),
                        format!("Tag “{long}” is longer than 30 characters"),
                    ));
                }
            }
            Field::Budget | Field::AnnualPurchase => {
                let v = match cell {
                    Cell::Number(n) => Some(n * unit),
                    _ if is_blank_amount(&t) => continue,
                    _ => parse_amount(&t, unit),
                };
                let (key, zh, en) = if field == Field::Budget { ("budget", "预算", "Budget") } else { ("annual_purchase", "年采购额", "Annual purchase") };
                match v {
                    Some(v) => {
                        if field == Field::Budget { f.budget = Some(v) } else { f.annual_purchase = Some(v) }
                        present.push(key);
                    }
                    None => issues.push(issue(
                        key,
                        format!("{zh}“{t}”不是金额，请填写数字，如 50000、5万、50,000"),
                        format!("{en} “{t}” is not an amount; write a number such as 50000, 5万 or 50,000"),
                    )),
                }
            }
            Field::FirstContactDate | Field::LastFollowupAt => match date_of(cell, date1904) {
                Ok(Some(d)) => {
                    if field == Field::FirstContactDate {
                        f.first_contact_date = Some(d.format("%Y-%m-%d").to_string());
                        present.push("first_contact_date");
                    }
                }
                Ok(None) => {}
                Err(bad) => issues.push(issue(
                    if field == Field::FirstContactDate { "first_contact_date" } else { "last_followup_at" },
                    format!("无法识别的日期“{bad}”，请用 2024-03-01、2024/3/1 或 2024年3月1日"),
                    format!("“{bad}” is not a date; use 2024-03-01, 2024/3/1 or 2024年3月1日"),
                )),
            },
            Field::ContactName => { contact.name = t; has_contact = true }
            Field::ContactTitle => { contact.title = Some(t); has_contact = true }
            Field::ContactMobile => {
                has_contact = true;
                // A landline in the 手机/电话 column goes to the landline field.
                match normalize_phone(&t) {
                    Ok((n, PhoneKind::CnLandline)) if contact.phone.is_none() => contact.phone = Some(n),
                    _ => contact.mobile = Some(t),
                }
            }
            Field::ContactPhone => { contact.phone = Some(t); has_contact = true }
            Field::ContactEmail => { contact.email = Some(t); has_contact = true }
            Field::ContactWechat => { contact.wechat = Some(t); has_contact = true }
        }
    }
    if has_contact && contact.name.trim().is_empty() {
        contact.name = f.name.clone();
    }
    // The core's own rules (name required, lengths, amounts ≥ 0, owner exists).
    let fields = match f.clone().validated(conn) {
        Ok(v) => v,
        Err(e) => {
            issues.push(from_error(e, "name"));
            f
        }
    };
    let contacts = if has_contact && !contact.name.trim().is_empty() {
        match contact.clone().validated() {
            Ok(c) => vec![c],
            Err(e) => {
                let mut i = from_error(e, "contact");
                if !i.field.starts_with("contact") {
                    i.field = format!("contact_{}", i.field);
                }
                issues.push(i);
                vec![]
            }
        }
    } else {
        vec![]
    };
    let mut matched = None;
    if let Some(c) = &code {
        if let Some((id, _, _, deleted)) = ex.codes.get(c) {
            if *deleted {
                issues.push(issue(
                    "code",
                    format!("客户编号 {c} 已被回收站中的客户使用，请先恢复或彻底删除它"),
                    format!("Customer code {c} belongs to a customer in the trash; restore or purge it first"),
                ));
            } else {
                matched = ex.describe(id, "code", conn).ok();
            }
        }
    }
    if matched.is_none() {
        if let Some(m) = contacts.first().and_then(|c| c.mobile.as_ref()) {
            if let Some(id) = ex.mobiles.get(m) {
                matched = ex.describe(id, "mobile", conn).ok();
            }
        }
    }
    if matched.is_none() && !fields.name.is_empty() {
        if let Some(id) = ex.names.get(&normalize_name(&fields.name)) {
            matched = ex.describe(id, "name", conn).ok();
        }
    }
    Converted {
        row: row_no,
        raw,
        new: PackedCustomer::pack(&NewCustomer {
            fields,
            contacts,
            tags,
        }),
        code,
        present,
        issues,
        matched: matched.map(Box::new),
        action: RowAction::Create,
        contact_row: false,
    }
}

/// What happens to a converted row under the duplicate policy.
fn decide(c: &mut Converted, policy: OnDuplicate) -> RowAction {
    if !c.issues.is_empty() {
        return RowAction::Fail;
    }
    let Some(m) = &c.matched else {
        return RowAction::Create;
    };
    match policy {
        OnDuplicate::Skip => RowAction::Skip,
        OnDuplicate::Fill | OnDuplicate::Overwrite | OnDuplicate::Merge => RowAction::Update,
        OnDuplicate::Create if m.reason == "code" => {
            let code = c.code.clone().unwrap_or_default();
            c.issues.push(issue(
                "code",
                format!("客户编号 {code} 已存在，不能再新建；请清空编号或选择“更新”"),
                format!("Customer code {code} already exists; clear the code or choose update"),
            ));
            RowAction::Fail
        }
        OnDuplicate::Create => RowAction::Create,
    }
}

/// Rows no exact key (code, mobile, name) matched go through the duplicate
/// scorer: against existing customers (深圳市腾云科技有限公司 vs 腾云科技)
/// and against earlier rows of the same file.
fn match_similar(conn: &Connection, rows: &mut [Converted], policy: OnDuplicate) -> Result<()> {
    let open: Vec<usize> = (0..rows.len())
        .filter(|&i| rows[i].matched.is_none() && rows[i].action != RowAction::Fail)
        .collect();
    let record_of = |&i: &usize| {
        let n = rows[i].new.unpack();
        crate::dedupe::Record {
            name: n.fields.name,
            contacts: n.contacts.iter().map(|c| c.name.clone()).collect(),
            mobiles: n
                .contacts
                .iter()
                .flat_map(|c| c.mobile.iter().chain(c.phone.iter()).cloned())
                .collect(),
            emails: n.contacts.iter().filter_map(|c| c.email.clone()).collect(),
            region: format!(
                "{}{}",
                n.fields.province.as_deref().unwrap_or_default(),
                n.fields.city.as_deref().unwrap_or_default()
            ),
        }
    };
    let found = if open.len() <= crate::dedupe::LOOKUP_BATCH {
        let records: Vec<_> = open.iter().map(record_of).collect();
        crate::dedupe::match_incoming(conn, &records)?
    } else {
        // A large file: each row's record is prepared and dropped at once,
        // so the rows are not held twice.
        let mine = crate::dedupe::par_map(&open, |i| crate::dedupe::prepare(&record_of(i)));
        crate::dedupe::match_prepared(conn, &mine)?
    };
    for (k, m) in found.into_iter().enumerate() {
        let i = open[k];
        rows[i].matched = match m {
            None => continue,
            Some(crate::dedupe::IncomingMatch::Existing {
                customer_id,
                code,
                name,
                score,
                reasons,
            }) => Some(Box::new(RowMatch {
                customer_id,
                code,
                name,
                reason: "similar".into(),
                score: Some(score),
                reasons,
                row: None,
            })),
            Some(crate::dedupe::IncomingMatch::Earlier {
                index,
                score,
                reasons,
            }) => {
                let earlier = &rows[open[index]];
                Some(Box::new(RowMatch {
                    customer_id: String::new(),
                    code: earlier.code.clone().unwrap_or_default(),
                    name: earlier.new.name().to_string(),
                    reason: "file".into(),
                    score: Some(score),
                    reasons,
                    row: Some(earlier.row),
                }))
            }
        };
        rows[i].action = decide(&mut rows[i], policy);
    }
    Ok(())
}

/// Convert and check every data row; decide each row's action.
fn convert_all(
    conn: &Connection,
    table: &mut Table,
    opts: &ImportOptions,
) -> Result<(Mapping, Plan, Vec<Converted>)> {
    let (m, plan) = plan(table, opts.mapping.as_ref());
    if !plan.cols.iter().any(|c| c.1 == Field::Name) {
        return Err(Error::validation(
            "mapping",
            "找不到“客户名称”列。请确认表头包含 客户名称/公司名称/企业名称，或在列映射中指定。",
            "No customer name column found. Make sure a header says 客户名称 / Company / Account Name, or choose it in the column mapping.",
        ));
    }
    let ex = Existing::load(conn)?;
    let mut out = Vec::with_capacity(table.rows.len().saturating_sub(plan.header_row + 1));
    let mut codes_in_file: HashMap<String, usize> = HashMap::new();
    // Index in `out` of the first row creating each code / normalised name.
    let mut first_by_code: HashMap<String, usize> = HashMap::new();
    let mut first_by_name: HashMap<String, usize> = HashMap::new();
    for i in plan.header_row + 1..table.rows.len() {
        // Each data row moves into its conversion: the sheet is held once.
        let raw = std::mem::take(&mut table.rows[i]);
        if raw.iter().all(Cell::is_empty) {
            continue;
        }
        let mut c = convert_row(i + 1, raw, &plan, table.date1904, &ex, conn);
        // A sheet listing one row per contact person repeats the customer:
        // such a row adds its contact to the customer of the first row.
        let key = normalize_name(c.new.name());
        let first = match &c.code {
            Some(code) => first_by_code.get(code).copied(),
            None => first_by_name.get(&key).copied(),
        };
        if let Some(k) = first {
            let earlier: &Converted = &out[k];
            let same = normalize_name(earlier.new.name()) == key
                && (c.code.is_none() || c.code == earlier.code);
            if same
                && earlier.action == RowAction::Create
                && c.issues.is_empty()
                && c.matched.is_none()
                && !c.new.unpack().contacts.is_empty()
            {
                c.contact_row = true;
                c.matched = Some(Box::new(RowMatch {
                    customer_id: String::new(),
                    code: earlier.code.clone().unwrap_or_default(),
                    name: earlier.new.name().to_string(),
                    reason: "file".into(),
                    score: None,
                    reasons: vec![],
                    row: Some(earlier.row),
                }));
                c.action = RowAction::Update;
                if c.action != RowAction::Fail && out.len() >= PREVIEW_ROWS {
                    c.raw = Vec::new();
                }
                out.push(c);
                continue;
            }
        }
        if let Some(code) = &c.code {
            if let Some(first) = codes_in_file.get(code) {
                c.issues.push(issue(
                    "code",
                    format!("客户编号 {code} 在文件中重复（第 {first} 行已出现）"),
                    format!(
                        "Customer code {code} appears twice in the file (first on row {first})"
                    ),
                ));
            } else {
                codes_in_file.insert(code.clone(), c.row);
            }
        }
        c.action = decide(&mut c, opts.on_duplicate);
        if c.action == RowAction::Create {
            if let Some(code) = &c.code {
                first_by_code.entry(code.clone()).or_insert(out.len());
            }
            first_by_name.entry(key).or_insert(out.len());
        }
        // Original cells are kept for failed rows (error report) and the
        // rows a preview shows; the rest are dropped to bound memory.
        if c.action != RowAction::Fail && out.len() >= PREVIEW_ROWS {
            c.raw = Vec::new();
        }
        out.push(c);
    }
    // The lookups of exact keys are done with: give their memory back
    // before the duplicate check, the import's largest step.
    drop((ex, codes_in_file, first_by_code, first_by_name));
    crate::memory::release_freed();
    match_similar(conn, &mut out, opts.on_duplicate)?;
    crate::memory::release_freed();
    Ok((m, plan, out))
}

/// Read, map, convert and check a file; write nothing.
pub fn preview(ws: &Workspace, path: &Path, opts: &ImportOptions) -> Result<Preview> {
    let mut table = read_table(path, opts)?;
    let (mapping, _, rows) = convert_all(ws.conn(), &mut table, opts)?;
    let (fu, opp) = if table.format == FileFormat::Csv {
        (None, None)
    } else {
        (
            followups::find(path, &table.sheet, &table.sheet_names)?,
            opportunities::find(path, &table.sheet, &table.sheet_names)?,
        )
    };
    let count = |a| rows.iter().filter(|r| r.action == a).count();
    let mut shown: Vec<&Converted> = rows
        .iter()
        .filter(|r| r.action == RowAction::Fail)
        .take(PREVIEW_ROWS)
        .collect();
    shown.extend(
        rows.iter()
            .filter(|r| r.action != RowAction::Fail)
            .take(PREVIEW_ROWS - shown.len()),
    );
    let (followup_failures, opportunity_failures) =
        check_side_sheets(ws.conn(), &rows, fu.as_ref(), opp.as_ref())?;
    Ok(Preview {
        followup_failures,
        opportunity_failures,
        file_name: read::file_name(path),
        format: table.format,
        encoding: table.encoding.clone(),
        sheets: table.sheet_names.clone(),
        sheet: table.sheet.clone(),
        total: rows.len(),
        create: count(RowAction::Create),
        update: count(RowAction::Update),
        skip: count(RowAction::Skip),
        fail: count(RowAction::Fail),
        rows: shown
            .into_iter()
            .map(|r| PreviewRow {
                row: r.row,
                cells: r.raw.iter().map(Cell::display).collect(),
                action: r.action,
                issues: r.issues.clone(),
                matched: r.matched.as_deref().cloned(),
            })
            .collect(),
        mapping,
        followup_rows: fu.as_ref().map_or(0, |f| f.len()),
        followup_sheet: fu.map(|f| f.name),
        opportunity_rows: opp.as_ref().map_or(0, |f| f.len()),
        opportunity_sheet: opp.map(|f| f.name),
    })
}

/// The failing rows of the follow-up and opportunity sheets, found without
/// writing: customers the customer sheet would create count as present.
fn check_side_sheets(
    conn: &Connection,
    rows: &[Converted],
    fu: Option<&followups::Sheet>,
    opp: Option<&opportunities::Sheet>,
) -> Result<(Vec<FailedRow>, Vec<FailedRow>)> {
    if fu.is_none() && opp.is_none() {
        return Ok((vec![], vec![]));
    }
    let mut file = side_sheet::FileCustomers::default();
    for r in rows.iter().filter(|r| r.action != RowAction::Fail) {
        file.add(r.code.as_deref(), r.new.name());
    }
    let members = members_by_key(conn)?;
    Ok((
        match fu {
            Some(s) => followups::check_all(conn, s, &members, &file)?,
            None => vec![],
        },
        match opp {
            Some(s) => opportunities::check_all(conn, s, &members, &file)?,
            None => vec![],
        },
    ))
}

// ---------------------------------------------------------------- writing

const CANCELLED: &str = "__import_cancelled";

/// Import a file. With `dry_run`, everything but the write happens and the
/// report says what would have been done. `progress` is called every few
/// hundred rows; setting `cancel` aborts and rolls everything back.
pub fn run(
    ws: &mut Workspace,
    path: &Path,
    opts: &ImportOptions,
    dry_run: bool,
    progress: &mut dyn FnMut(Progress),
    cancel: &AtomicBool,
) -> Result<ImportReport> {
    let mut table = read_table(path, opts)?;
    let (mapping, plan, rows) = convert_all(ws.conn(), &mut table, opts)?;
    let headers = mapping::header_texts(&table.rows, plan.header_row);
    let total = rows.len();
    let mut report = ImportReport {
        job_id: None,
        file_name: read::file_name(path),
        total,
        imported: 0,
        updated: 0,
        skipped: 0,
        failed: 0,
        cancelled: false,
        dry_run,
        headers,
        failures: vec![],
        followup_sheet: None,
        followups_imported: 0,
        followup_headers: vec![],
        followup_failures: vec![],
        opportunity_sheet: None,
        opportunities_imported: 0,
        opportunity_headers: vec![],
        opportunity_failures: vec![],
    };
    let (fu_sheet, opp_sheet) = if table.format == FileFormat::Csv {
        (None, None)
    } else {
        (
            followups::find(path, &table.sheet, &table.sheet_names)?,
            opportunities::find(path, &table.sheet, &table.sheet_names)?,
        )
    };
    if let Some(f) = &fu_sheet {
        report.followup_sheet = Some(f.name.clone());
        report.followup_headers = f.headers.clone();
    }
    if let Some(f) = &opp_sheet {
        report.opportunity_sheet = Some(f.name.clone());
        report.opportunity_headers = f.headers.clone();
    }
    if dry_run {
        let (fu_fails, opp_fails) =
            check_side_sheets(ws.conn(), &rows, fu_sheet.as_ref(), opp_sheet.as_ref())?;
        report.followups_imported = fu_sheet.as_ref().map_or(0, |s| s.len()) - fu_fails.len();
        report.opportunities_imported = opp_sheet.as_ref().map_or(0, |s| s.len()) - opp_fails.len();
        report.followup_failures = fu_fails;
        report.opportunity_failures = opp_fails;
        for r in rows {
            match r.action {
                RowAction::Create => report.imported += 1,
                RowAction::Update => report.updated += 1,
                RowAction::Skip => report.skipped += 1,
                RowAction::Fail => push_failure(&mut report, r.row, r.raw, r.issues),
            }
        }
        return Ok(report);
    }
    let job_id = crate::new_id();
    let origin = format!("import:{job_id}");
    let started = ws.now_ms();
    let policy = opts.on_duplicate;
    let creates = rows
        .iter()
        .filter(|r| r.action == RowAction::Create)
        .count();
    let result = ws.bulk_load(creates, |ws| ws.write(&origin, |w| {
        let mut rep = report.clone();
        let mut codes = CodeAllocator::new(w)?;
        // Into an (almost) empty workspace the read-side indexes are built
        // once after the rows, before the side sheets look customers up.
        let deferred = crate::db::DeferredIndexes::for_load(w.tx(), creates)?;
        let mut customer_of_row = RowCustomers::for_rows(&rows);
        progress(Progress { done: 0, total });
        for (n, r) in rows.into_iter().enumerate() {
            if cancel.load(Ordering::Relaxed) {
                return Err(Error::validation(CANCELLED, "导入已取消", "Import cancelled"));
            }
            if n % 256 == 0 && n > 0 {
                progress(Progress { done: n, total });
            }
            let target = r.matched.as_ref().and_then(|m| match m.row {
                Some(earlier) => customer_of_row.get(earlier),
                None => Some(m.customer_id.clone()),
            });
            // An earlier row that failed leaves nothing to update: create.
            let action = match (r.action, &target) {
                (RowAction::Update, None) => RowAction::Create,
                (a, _) => a,
            };
            if let (RowAction::Skip, Some(id)) = (action, &target) {
                customer_of_row.remember(r.row, id);
            }
            match action {
                RowAction::Skip => rep.skipped += 1,
                RowAction::Fail => push_failure(&mut rep, r.row, r.raw, r.issues),
                RowAction::Create | RowAction::Update => {
                    // Every rule was checked in the preview step, so a row
                    // cannot fail half-written here; if one still does, the
                    // whole import rolls back and names the row. (No
                    // savepoint per row: it would make FTS5 flush its index
                    // for every row.)
                    let row_no = r.row;
                    let res = if action == RowAction::Create {
                        let code = match &r.code {
                            Some(c) => c.clone(),
                            None => codes.next(w)?,
                        };
                        customers::insert(w, r.new.unpack(), Some(code)).map(|id| {
                            customer_of_row.remember(row_no, &id);
                            true
                        })
                    } else {
                        let id = target.unwrap_or_default();
                        customer_of_row.remember(row_no, &id);
                        // A contact row completes the customer its file
                        // creates whatever the policy for existing ones.
                        let policy = match (r.contact_row, policy) {
                            (true, OnDuplicate::Skip | OnDuplicate::Create) => OnDuplicate::Fill,
                            (_, p) => p,
                        };
                        update_existing(w, &id, &r, policy)
                    };
                    match res {
                        Ok(wrote) => match (action, wrote) {
                            (RowAction::Create, _) => rep.imported += 1,
                            (_, true) => rep.updated += 1,
                            (_, false) => rep.skipped += 1,
                        },
                        Err(Error::Validation { field, zh, en }) => {
                            return Err(Error::Validation {
                                field,
                                zh: format!("第 {row_no} 行：{zh}（导入已整体取消，数据库未改变）"),
                                en: format!("Row {row_no}: {en} (the import was rolled back; nothing changed)"),
                            })
                        }
                        Err(e) => return Err(e),
                    }
                }
            }
        }
        // Into an empty workspace the search postings are written on other
        // threads while the indexes set aside are rebuilt here and the side
        // sheets are written.
        let mut search = w.begin_reindex()?;
        if let Some(d) = deferred {
            d.rebuild_with(w.tx(), || search.feed(w.tx()))?;
        }
        if fu_sheet.is_some() || opp_sheet.is_some() {
            let members = members_by_key(w.tx())?;
            if let Some(sheet) = &fu_sheet {
                let (n, fails) = followups::write_all(w, sheet, &members)?;
                rep.followups_imported = n;
                rep.followup_failures = fails;
            }
            if let Some(sheet) = &opp_sheet {
                let (n, fails) = opportunities::write_all(w, sheet, &members)?;
                rep.opportunities_imported = n;
                rep.opportunity_failures = fails;
            }
        }
        search.finish(w.tx())?;
        progress(Progress { done: total, total });
        let finished = w.now();
        let actor = w.actor_id().map(str::to_string);
        let errors: Vec<_> = rep.failures.iter().take(10_000).map(|f| (f.row, &f.issues)).collect();
        w.tx().execute(
            "INSERT INTO imports(id, file_name, format, sheet, started_at, finished_at, mapping, on_duplicate,
                total, imported, updated, skipped, failed, errors, actor_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
            params![
                job_id,
                rep.file_name,
                format!("{:?}", table.format).to_lowercase(),
                table.sheet,
                started,
                finished,
                serde_json::to_string(&mapping)?,
                policy.key(),
                rep.total as i64,
                rep.imported as i64,
                rep.updated as i64,
                rep.skipped as i64,
                rep.failed as i64,
                serde_json::to_string(&errors)?,
                actor,
            ],
        )?;
        let record = serde_json::json!({
            "file_name": rep.file_name, "total": rep.total, "imported": rep.imported,
            "updated": rep.updated, "skipped": rep.skipped, "failed": rep.failed,
        });
        w.log("import", &job_id, "*", None, Some(record))?;
        rep.job_id = Some(job_id.clone());
        Ok(rep)
    }));
    // The app runs on after an import: its rows and caches go back to the OS.
    crate::memory::release_freed();
    match result {
        Ok(rep) => Ok(rep),
        Err(Error::Validation { field, .. }) if field == CANCELLED => {
            report.cancelled = true;
            Ok(report)
        }
        Err(e) => Err(e),
    }
}

/// Hands out the codes of new customers without one: `customers::next_code`
/// once, then counting up (asking it per row would rescan every code of the
/// day, quadratic in a large import).
struct CodeAllocator {
    prefix: String,
    n: u64,
}

impl CodeAllocator {
    fn new(w: &Writer) -> Result<Self> {
        let first = customers::next_code(w.tx(), w.now())?;
        let prefix = format!("C{}", crate::clock::local_date_compact(w.now()));
        let n = first
            .strip_prefix(&prefix)
            .and_then(|n| n.parse().ok())
            .unwrap_or(1);
        Ok(CodeAllocator { prefix, n })
    }

    fn next(&mut self, w: &Writer) -> Result<String> {
        loop {
            let code = format!("{}{:03}", self.prefix, self.n);
            self.n += 1;
            let taken: bool = w
                .tx()
                .prepare_cached("SELECT EXISTS(SELECT 1 FROM customers WHERE code = ?1)")?
                .query_row([&code], |r| r.get(0))?;
            if !taken {
                return Ok(code);
            }
        }
    }
}

fn push_failure(rep: &mut ImportReport, row: usize, raw: Vec<Cell>, issues: Vec<RowIssue>) {
    rep.failed += 1;
    rep.failures.push(FailedRow {
        row,
        cells: raw.iter().map(Cell::display).collect(),
        issues,
        raw,
    });
}

/// Update a matched customer from a row; true when anything changed.
fn update_existing(w: &mut Writer, id: &str, r: &Converted, policy: OnDuplicate) -> Result<bool> {
    let current = customers::get(w.tx(), id)?;
    let cur = serde_json::to_value(&current.fields)?;
    let packed = r.new.unpack();
    let new = serde_json::to_value(&packed.fields)?;
    let mut patch = Map::new();
    for key in r.present.iter().chain(["name"]) {
        let nv = new.get(key).cloned().unwrap_or(Value::Null);
        if nv.is_null() {
            continue;
        }
        let cv = cur.get(key).cloned().unwrap_or(Value::Null);
        let fill_ok = cv.is_null() || cv == Value::String(String::new());
        if key == "name" && matches!(policy, OnDuplicate::Fill | OnDuplicate::Merge) {
            continue;
        }
        // A merge keeps both texts of free-text fields.
        if policy == OnDuplicate::Merge && matches!(key, "notes" | "needs") && !fill_ok {
            if let (Some(c), Some(n)) = (cv.as_str(), nv.as_str()) {
                if !c.contains(n) {
                    patch.insert(key.to_string(), Value::String(format!("{c}\n{n}")));
                }
            }
            continue;
        }
        if (policy == OnDuplicate::Overwrite || fill_ok) && cv != nv {
            patch.insert(key.to_string(), nv);
        }
    }
    let mut changed = !customers::update_in(w, id, &patch)?.is_empty();
    for c in &packed.contacts {
        let known = current.contacts.iter().any(|k| {
            (c.mobile.is_some() && k.fields.mobile == c.mobile) || k.fields.name == c.name
        });
        if !known {
            let mut c = c.clone();
            c.is_primary = current.contacts.is_empty();
            crate::contacts::insert(w, id, c)?;
            changed = true;
        }
    }
    for t in &packed.tags {
        let tag = crate::tags::get_or_create(w, t)?;
        changed |= crate::tags::link(w, id, &tag)?;
    }
    if changed {
        crate::contacts::touch_customer(w, id)?;
    }
    Ok(changed)
}

// ------------------------------------------------------------ the import log

pub fn list_jobs(conn: &Connection) -> Result<Vec<ImportJob>> {
    let mut stmt = conn.prepare(
        "SELECT id, file_name, format, sheet, started_at, finished_at, mapping, on_duplicate,
            total, imported, updated, skipped, failed, actor_id, undone_at
         FROM imports ORDER BY started_at DESC, id DESC",
    )?;
    let rows = stmt.query_map([], job_from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

fn job_from_row(r: &rusqlite::Row) -> rusqlite::Result<ImportJob> {
    Ok(ImportJob {
        id: r.get(0)?,
        file_name: r.get(1)?,
        format: r.get(2)?,
        sheet: r.get(3)?,
        started_at: r.get(4)?,
        finished_at: r.get(5)?,
        mapping: serde_json::from_str(&r.get::<_, String>(6)?).unwrap_or_default(),
        on_duplicate: OnDuplicate::parse(&r.get::<_, String>(7)?).unwrap_or_default(),
        total: r.get(8)?,
        imported: r.get(9)?,
        updated: r.get(10)?,
        skipped: r.get(11)?,
        failed: r.get(12)?,
        actor_id: r.get(13)?,
        undone_at: r.get(14)?,
    })
}

pub fn get_job(conn: &Connection, id: &str) -> Result<ImportJob> {
    conn.query_row(
        "SELECT id, file_name, format, sheet, started_at, finished_at, mapping, on_duplicate,
            total, imported, updated, skipped, failed, actor_id, undone_at
         FROM imports WHERE id = ?1 OR id LIKE ?1 || '%' ORDER BY id LIMIT 1",
        [id.trim()],
        job_from_row,
    )
    .optional()?
    .ok_or_else(|| Error::not_found("import", id))
}

/// What [`undo`] did.
#[derive(Debug, Clone, Default, Serialize, TS)]
#[ts(export)]
pub struct UndoReport {
    pub job_id: String,
    /// Customers the import created, now removed.
    pub removed: usize,
    /// Customers the import updated, fields restored.
    pub restored: usize,
    /// Fields changed again after the import, left as they are now.
    pub kept_newer: usize,
    /// Opportunities the import added to customers that stay, now removed.
    pub opportunities_removed: usize,
}

/// The customer a contact, follow-up or opportunity row belongs to; `None`
/// once the row is gone.
fn customer_of(conn: &Connection, table: &str, id: &str) -> Result<Option<String>> {
    Ok(conn
        .query_row(
            &format!("SELECT customer_id FROM {table} WHERE id = ?1"),
            [id],
            |r| r.get(0),
        )
        .optional()?)
}

/// Reverse a whole import, in one transaction, from the change log:
/// customers it created are removed (with their contacts and tags links),
/// fields it changed get their old values back unless changed again since.
pub fn undo(ws: &mut Workspace, job_id: &str) -> Result<UndoReport> {
    let job = get_job(ws.conn(), job_id)?;
    if job.undone_at.is_some() {
        return Err(Error::validation(
            "import",
            "这次导入已经撤销过了",
            "This import has already been undone",
        ));
    }
    let origin = format!("import:{}", job.id);
    // (entity, entity_id, field, old, new)
    type Change = (String, String, String, Option<String>, Option<String>);
    let entries: Vec<Change> = ws
        .conn()
        .prepare("SELECT entity, entity_id, field, old, new FROM changes WHERE origin = ?1 ORDER BY seq DESC")?
        .query_map([&origin], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let parse = |s: &Option<String>| {
        s.as_deref()
            .and_then(|s| serde_json::from_str::<Value>(s).ok())
    };
    let created: std::collections::HashSet<String> = entries
        .iter()
        .filter(|e| e.0 == "customer" && e.2 == "*" && e.3.is_none())
        .map(|e| e.1.clone())
        .collect();
    let mut rep = UndoReport {
        job_id: job.id.clone(),
        ..Default::default()
    };
    ws.write(&format!("undo-import:{}", job.id), |w| {
        let mut touched = std::collections::HashSet::new();
        let mut new_tags = vec![];
        for (entity, eid, field, old, new) in &entries {
            match (entity.as_str(), field.as_str()) {
                ("customer_tag", _) => {
                    let (cid, tid) = eid.split_once(':').unwrap_or((eid, ""));
                    if !created.contains(cid) && crate::tags::unlink(w, cid, tid)? {
                        touched.insert(cid.to_string());
                    }
                }
                ("contact", "*") => {
                    let cid = customer_of(w.tx(), "contacts", eid)?;
                    if let Some(cid) = cid.filter(|c| !created.contains(c)) {
                        w.tx()
                            .execute("DELETE FROM contacts WHERE id = ?1", [eid])?;
                        w.log("contact", eid, "*", parse(new), None)?;
                        touched.insert(cid);
                    }
                }
                ("contact", f) => {
                    let cid = customer_of(w.tx(), "contacts", eid)?;
                    if let (Some(cid), "is_primary") = (cid, f) {
                        let v = parse(old).and_then(|v| v.as_bool()).unwrap_or(false);
                        w.tx().execute(
                            "UPDATE contacts SET is_primary = ?2 WHERE id = ?1",
                            params![eid, v],
                        )?;
                        w.log(
                            "contact",
                            eid,
                            "is_primary",
                            parse(new),
                            Some(Value::Bool(v)),
                        )?;
                        touched.insert(cid);
                    }
                }
                ("customer", "*") if created.contains(eid) => {
                    let exists: bool = w.tx().query_row(
                        "SELECT EXISTS(SELECT 1 FROM customers WHERE id = ?1)",
                        [eid],
                        |r| r.get(0),
                    )?;
                    if exists {
                        let c = customers::get(w.tx(), eid)?;
                        crate::search::unindex_customer(w.tx(), eid)?;
                        w.tx()
                            .execute("DELETE FROM customers WHERE id = ?1", [eid])?;
                        let mut record = serde_json::to_value(&c.fields)?;
                        record["code"] = Value::String(c.code);
                        w.log("customer", eid, "*", Some(record), None)?;
                        rep.removed += 1;
                    }
                }
                ("customer", f) if !created.contains(eid) => {
                    let Ok(current) = customers::get(w.tx(), eid) else {
                        continue;
                    };
                    let now = serde_json::to_value(&current.fields)?
                        .get(f)
                        .cloned()
                        .unwrap_or(Value::Null);
                    let imported = parse(new).unwrap_or(Value::Null);
                    if now == imported {
                        let mut patch = Map::new();
                        patch.insert(f.to_string(), parse(old).unwrap_or(Value::Null));
                        customers::update_in(w, eid, &patch)?;
                        touched.insert(eid.clone());
                    } else {
                        rep.kept_newer += 1;
                    }
                }
                ("tag", "*") => new_tags.push((eid.clone(), parse(new))),
                ("followup", "*") => {
                    let cid = customer_of(w.tx(), "followups", eid)?;
                    if let Some(cid) = cid.filter(|c| !created.contains(c)) {
                        w.tx()
                            .execute("DELETE FROM followups WHERE id = ?1", [eid])?;
                        w.log("followup", eid, "*", parse(new), None)?;
                        crate::followups::refresh_customer(w, &cid)?;
                        touched.insert(cid);
                    }
                }
                ("opportunity", "*") if old.is_none() => {
                    let cid = customer_of(w.tx(), "opportunities", eid)?;
                    // Deals of customers the import created go with them.
                    if let Some(cid) = cid.filter(|c| !created.contains(c)) {
                        let stays: Vec<(String, Value)> = w
                            .tx()
                            .prepare(
                                "SELECT id, stage, entered_at, left_at, reason FROM opportunity_stage_history
                                 WHERE opportunity_id = ?1",
                            )?
                            .query_map([eid], |r| {
                                Ok((
                                    r.get(0)?,
                                    serde_json::json!({
                                        "opportunity_id": eid, "stage": r.get::<_, String>(1)?,
                                        "entered_at": r.get::<_, i64>(2)?,
                                        "left_at": r.get::<_, Option<i64>>(3)?,
                                        "reason": r.get::<_, Option<String>>(4)?,
                                    }),
                                ))
                            })?
                            .collect::<rusqlite::Result<_>>()?;
                        w.tx()
                            .execute("DELETE FROM opportunities WHERE id = ?1", [eid])?;
                        for (h, rec) in stays {
                            w.log("opportunity_stage", &h, "*", Some(rec), None)?;
                        }
                        w.log("opportunity", eid, "*", parse(new), None)?;
                        crate::analysis::segments::recompute(w.tx(), &cid, w.now())?;
                        rep.opportunities_removed += 1;
                    }
                }
                _ => {}
            }
        }
        // Tags the import created go once no customer carries them.
        for (eid, record) in new_tags {
            let used: bool = w.tx().query_row(
                "SELECT EXISTS(SELECT 1 FROM customer_tags WHERE tag_id = ?1)",
                [&eid],
                |r| r.get(0),
            )?;
            if !used && w.tx().execute("DELETE FROM tags WHERE id = ?1", [&eid])? > 0 {
                w.log("tag", &eid, "*", record, None)?;
            }
        }
        rep.restored = touched.iter().filter(|id| !created.contains(*id)).count();
        for id in &touched {
            let exists: bool = w.tx().query_row(
                "SELECT EXISTS(SELECT 1 FROM customers WHERE id = ?1)",
                [id],
                |r| r.get(0),
            )?;
            if exists {
                crate::contacts::touch_customer(w, id)?;
            }
        }
        w.tx().execute(
            "UPDATE imports SET undone_at = ?2 WHERE id = ?1",
            params![job.id, w.now()],
        )?;
        w.log(
            "import",
            &job.id,
            "undone_at",
            None,
            Some(Value::from(w.now())),
        )?;
        Ok(())
    })?;
    Ok(rep)
}
