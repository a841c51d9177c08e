//! Column mapping: which column of the file feeds which field. Found
//! automatically from Chinese and English header synonyms, editable in the
//! UI, savable as JSON and reusable from the CLI (`--mapping M.json`).

use super::read::Cell;
use crate::i18n::Lang;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// A field a column can be imported into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export, rename = "ImportField")]
pub enum Field {
    Code,
    Name,
    Kind,
    Industry,
    Size,
    Province,
    City,
    District,
    Address,
    Source,
    Status,
    Grade,
    Owner,
    Tags,
    Needs,
    Budget,
    PurchaseCycle,
    AnnualPurchase,
    FirstContactDate,
    Notes,
    ContactName,
    ContactTitle,
    ContactMobile,
    ContactPhone,
    ContactEmail,
    ContactWechat,
    /// 最后跟进时间: recognised, kept for follow-up import (not a customer field).
    LastFollowupAt,
}

impl Field {
    /// Standard order: template columns and export columns.
    pub const ALL: [Field; 27] = [
        Field::Code,
        Field::Name,
        Field::Kind,
        Field::Industry,
        Field::Size,
        Field::Province,
        Field::City,
        Field::District,
        Field::Address,
        Field::Source,
        Field::Status,
        Field::Grade,
        Field::Owner,
        Field::Tags,
        Field::ContactName,
        Field::ContactTitle,
        Field::ContactMobile,
        Field::ContactPhone,
        Field::ContactEmail,
        Field::ContactWechat,
        Field::Needs,
        Field::Budget,
        Field::PurchaseCycle,
        Field::AnnualPurchase,
        Field::FirstContactDate,
        Field::Notes,
        Field::LastFollowupAt,
    ];

    /// The standard header (template, export), in the given language.
    pub fn header(self, lang: Lang) -> &'static str {
        let (zh, en) = match self {
            Field::Code => ("客户编号", "Customer Code"),
            Field::Name => ("客户名称", "Company"),
            Field::Kind => ("客户类别", "Kind"),
            Field::Industry => ("所属行业", "Industry"),
            Field::Size => ("企业规模", "Size"),
            Field::Province => ("省份", "Province"),
            Field::City => ("城市", "City"),
            Field::District => ("区县", "District"),
            Field::Address => ("详细地址", "Address"),
            Field::Source => ("线索来源", "Source"),
            Field::Status => ("客户状态", "Status"),
            Field::Grade => ("客户分级", "Grade"),
            Field::Owner => ("负责人", "Owner"),
            Field::Tags => ("标签", "Tags"),
            Field::Needs => ("核心需求", "Needs"),
            Field::Budget => ("预算(元)", "Budget"),
            Field::PurchaseCycle => ("采购周期", "Purchase Cycle"),
            Field::AnnualPurchase => ("年采购额(元)", "Annual Purchase"),
            Field::FirstContactDate => ("首次接触时间", "First Contact Date"),
            Field::Notes => ("备注", "Notes"),
            Field::ContactName => ("联系人", "Contact"),
            Field::ContactTitle => ("职务", "Title"),
            Field::ContactMobile => ("手机", "Mobile"),
            Field::ContactPhone => ("座机", "Phone"),
            Field::ContactEmail => ("邮箱", "Email"),
            Field::ContactWechat => ("微信", "WeChat"),
            Field::LastFollowupAt => ("最后跟进时间", "Last Follow-up"),
        };
        lang.pick(zh, en)
    }

    pub fn is_amount(self) -> bool {
        matches!(self, Field::Budget | Field::AnnualPurchase)
    }

    pub fn is_date(self) -> bool {
        matches!(self, Field::FirstContactDate | Field::LastFollowupAt)
    }

    fn synonyms(self) -> &'static [&'static str] {
        match self {
            Field::Code => &[
                "客户编号",
                "客户编码",
                "客户id",
                "客户代码",
                "编号",
                "code",
                "customercode",
                "customerid",
                "accountid",
                "accountnumber",
            ],
            Field::Name => &[
                "客户名称",
                "公司名称",
                "企业名称",
                "客户名",
                "单位名称",
                "公司",
                "客户",
                "名称",
                "company",
                "companyname",
                "accountname",
                "customer",
                "customername",
                "account",
                "organization",
                "organisation",
            ],
            Field::Kind => &["客户类别", "客户性质", "企业/个人", "kind", "customertype"],
            Field::Industry => &[
                "所属行业",
                "行业",
                "行业类别",
                "行业分类",
                "industry",
                "sector",
            ],
            Field::Size => &[
                "企业规模",
                "公司规模",
                "规模",
                "人数",
                "size",
                "companysize",
                "employees",
            ],
            Field::Province => &["省份", "省", "所在省份", "province", "state"],
            Field::City => &["城市", "市", "所在城市", "city"],
            Field::District => &["区县", "区", "县", "区/县", "district", "county"],
            Field::Address => &[
                "详细地址",
                "地址",
                "公司地址",
                "联系地址",
                "通讯地址",
                "address",
                "street",
            ],
            Field::Source => &[
                "线索来源",
                "来源",
                "客户来源",
                "获客渠道",
                "渠道",
                "source",
                "leadsource",
                "channel",
            ],
            Field::Status => &[
                "客户状态",
                "状态",
                "客户类型",
                "当前跟进阶段",
                "跟进阶段",
                "阶段",
                "status",
                "stage",
                "customerstatus",
            ],
            Field::Grade => &[
                "客户分级",
                "客户等级",
                "等级",
                "分级",
                "级别",
                "客户级别",
                "grade",
                "level",
                "rating",
                "tier",
            ],
            Field::Owner => &[
                "负责人",
                "销售负责人",
                "客户负责人",
                "跟进人",
                "业务员",
                "销售",
                "销售代表",
                "所属销售",
                "owner",
                "salesrep",
                "accountowner",
                "assignedto",
            ],
            Field::Tags => &["标签", "客户标签", "tags", "tag", "labels"],
            Field::Needs => &[
                "核心需求",
                "需求",
                "需求偏好",
                "客户需求",
                "needs",
                "requirements",
            ],
            Field::Budget => &["预算", "预算金额", "budget"],
            Field::PurchaseCycle => &["采购周期", "purchasecycle"],
            Field::AnnualPurchase => &[
                "年采购额",
                "年采购金额",
                "年采购量",
                "annualpurchase",
                "annualrevenue",
            ],
            Field::FirstContactDate => &[
                "首次接触时间",
                "首次接触日期",
                "首次接触",
                "首次联系时间",
                "录入日期",
                "创建日期",
                "firstcontact",
                "firstcontactdate",
            ],
            Field::Notes => &[
                "备注",
                "说明",
                "备注信息",
                "notes",
                "note",
                "remarks",
                "comments",
                "description",
            ],
            Field::ContactName => &[
                "联系人",
                "姓名",
                "联系人姓名",
                "主要联系人",
                "contact",
                "contactname",
                "name",
                "fullname",
            ],
            Field::ContactTitle => &[
                "职务",
                "职位",
                "联系人职务",
                "title",
                "jobtitle",
                "position",
            ],
            Field::ContactMobile => &[
                "手机",
                "手机号",
                "手机号码",
                "联系方式",
                "联系电话",
                "移动电话",
                "电话",
                "mobile",
                "phone",
                "cellphone",
                "mobilephone",
                "tel",
            ],
            Field::ContactPhone => &[
                "座机",
                "固定电话",
                "办公电话",
                "landline",
                "officephone",
                "workphone",
            ],
            Field::ContactEmail => &["邮箱", "电子邮箱", "电子邮件", "email", "e-mail", "mail"],
            Field::ContactWechat => &["微信", "微信号", "wechat", "weixin"],
            Field::LastFollowupAt => &[
                "最后跟进时间",
                "最近跟进时间",
                "最后跟进日期",
                "最近跟进",
                "lastfollowup",
                "lastcontact",
                "lastactivity",
            ],
        }
    }
}

/// Normalise a header: drop spaces, `*` markers, bracketed notes such as
/// `(脱敏)` or `（元）`, case.
pub fn norm_header(h: &str) -> String {
    let mut out = String::new();
    let mut depth = 0;
    for ch in h.chars() {
        match ch {
            '(' | '（' | '[' | '【' => depth += 1,
            ')' | '）' | ']' | '】' => depth = (depth - 1).max(0),
            _ if depth > 0 => {}
            c if c.is_whitespace() || c == '*' || c == '_' || c == ':' || c == '：' => {}
            c => out.extend(c.to_lowercase()),
        }
    }
    out
}

/// The field a header names, if any.
pub fn field_for_header(h: &str) -> Option<Field> {
    let n = norm_header(h);
    if n.is_empty() {
        return None;
    }
    Field::ALL
        .into_iter()
        .find(|f| f.synonyms().iter().any(|s| *s == n))
}

/// Amount unit a header announces: `预算（万元）` → 10000.
pub fn header_unit(h: &str) -> f64 {
    if h.contains('万') {
        10_000.0
    } else {
        1.0
    }
}

/// One column of a mapping.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export, rename = "ImportColumn")]
pub struct ColumnMap {
    /// 0-based column index in the sheet.
    pub index: usize,
    /// Header text as in the file.
    pub header: String,
    /// Target field; `null` = not imported.
    pub field: Option<Field>,
}

/// A column mapping, saved as JSON and reused. Columns are matched to a
/// new file by header text first, then by index.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
#[serde(default)]
#[ts(export, rename = "ImportMapping")]
pub struct Mapping {
    /// 1-based row of the header; `null` = detect.
    pub header_row: Option<usize>,
    pub columns: Vec<ColumnMap>,
}

/// How many cells of a row name a known field (distinct fields).
fn score(row: &[Cell]) -> usize {
    let mut seen = std::collections::HashSet::new();
    for c in row {
        if let Cell::Text(t) = c {
            if let Some(f) = field_for_header(t) {
                seen.insert(f);
            }
        }
    }
    seen.len() + usize::from(seen.contains(&Field::Name))
}

/// 0-based index of the header row: the row among the first 30 naming the
/// most known fields (title rows above it name none).
pub fn detect_header_row(rows: &[Vec<Cell>]) -> usize {
    let mut best = (0usize, None::<usize>);
    for (i, r) in rows.iter().take(30).enumerate() {
        let s = score(r);
        if s > best.0 {
            best = (s, Some(i));
        }
    }
    match best.1 {
        Some(i) if best.0 >= 2 => i,
        // No recognisable header: the first row with two or more cells.
        _ => rows
            .iter()
            .position(|r| r.iter().filter(|c| !c.is_empty()).count() >= 2)
            .unwrap_or(0),
    }
}

/// Header texts of row `h`; an empty cell under a merged cell takes the
/// text above it or to its left, so two-row headers still read.
pub fn header_texts(rows: &[Vec<Cell>], h: usize) -> Vec<String> {
    let row = rows.get(h).cloned().unwrap_or_default();
    let above = if h > 0 {
        rows.get(h - 1).cloned().unwrap_or_default()
    } else {
        vec![]
    };
    let width = row.len().max(if h > 0 { above.len() } else { 0 });
    let mut out = Vec::with_capacity(width);
    let mut last_above = String::new();
    for i in 0..width {
        let a = above.get(i).map(Cell::display).unwrap_or_default();
        if !a.trim().is_empty() {
            last_above = a.trim().to_string();
        }
        let t = row.get(i).map(Cell::display).unwrap_or_default();
        let t = t.trim();
        out.push(if !t.is_empty() {
            t.to_string()
        } else if h > 0 && !last_above.is_empty() {
            last_above.clone()
        } else {
            String::new()
        });
    }
    out
}

/// The mapping for a sheet: the saved one applied where it fits, the
/// automatic one elsewhere. Returns it with the 0-based header row.
pub fn resolve(rows: &[Vec<Cell>], saved: Option<&Mapping>) -> (Mapping, usize) {
    let h = saved
        .and_then(|m| m.header_row)
        .map(|r| r.saturating_sub(1))
        .unwrap_or_else(|| detect_header_row(rows));
    let headers = header_texts(rows, h);
    let mut used = std::collections::HashSet::new();
    let mut columns = Vec::with_capacity(headers.len());
    for (i, text) in headers.iter().enumerate() {
        let from_saved = saved.and_then(|m| {
            m.columns
                .iter()
                .find(|c| !c.header.is_empty() && norm_header(&c.header) == norm_header(text))
                .or_else(|| {
                    m.columns
                        .iter()
                        .find(|c| c.index == i && c.header.is_empty())
                })
        });
        let field = match from_saved {
            Some(c) => c.field,
            None => field_for_header(text),
        };
        // One column per field: the first wins (e.g. 电话 and 手机 both present).
        let field = field.filter(|f| used.insert(*f));
        columns.push(ColumnMap {
            index: i,
            header: text.clone(),
            field,
        });
    }
    (
        Mapping {
            header_row: Some(h + 1),
            columns,
        },
        h,
    )
}
