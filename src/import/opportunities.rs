//! The opportunity sheet of a workbook (seed 004's 销售数据基础录入表, the
//! template's 销售机会 sheet): rows keyed by customer code or name, imported
//! in the same transaction as the customer sheet, so a deal can belong to a
//! customer the same file creates. Each deal goes through the core's
//! [`crate::opportunities::insert`] (change log and stage history as for a
//! deal made by hand); undo removes them with the rest of the import.

use super::mapping::norm_header;
use super::read::Cell;
use super::side_sheet::{self, FileCustomers, SideSheet};
use super::{closest, date_of, is_blank_amount, issue, parse_amount, text_of, FailedRow, RowIssue};
use crate::changelog::Writer;
use crate::error::{Error, Result};
use crate::i18n::Lang;
use crate::opportunities::{self, NewOpportunity, OpportunityFields};
use crate::pipeline::{self, LOST};
use std::collections::HashMap;
use std::path::Path;

#[derive(Clone, Copy, PartialEq, Debug)]
/// What a column of the opportunity sheet holds.
pub enum Col {
    Code,
    Customer,
    Name,
    /// Amount columns carry their unit (1 or 10 000 when the header says 万).
    Expected(f64),
    Won(f64),
    Received(f64),
    CloseDate,
    Stage,
    Owner,
    LossReason,
    Notes,
}

fn unit_of(h: &str) -> f64 {
    if h.contains('万') || h.contains("10k") {
        10_000.0
    } else {
        1.0
    }
}

fn col_for(h: &str) -> Option<Col> {
    let n = norm_header(h);
    // Amount headers come with units in brackets: 预计成交金额(元), 金额（万元）.
    let bare: String = n
        .split(['(', '（', '[', '【'])
        .next()
        .unwrap_or("")
        .to_string();
    let unit = unit_of(h);
    Some(match bare.as_str() {
        "客户编号" | "客户编码" | "customercode" => Col::Code,
        "客户名称" | "公司名称" | "客户" | "company" | "customer" | "account" | "accountname" => {
            Col::Customer
        }
        "机会名称" | "商机名称" | "项目名称" | "销售机会" | "商机" | "项目" | "opportunity"
        | "opportunityname" | "dealname" | "deal" => Col::Name,
        "预计成交金额" | "预计金额" | "预估金额" | "机会金额" | "商机金额" | "项目金额"
        | "金额" | "expectedamount" | "amount" => Col::Expected(unit),
        "成交金额" | "合同金额" | "签约金额" | "wonamount" | "contractamount" => {
            Col::Won(unit)
        }
        "回款金额" | "已回款" | "回款" | "receivedamount" => Col::Received(unit),
        "预计成交日期" | "预计成交时间" | "预计签约日期" | "成交日期" | "closedate"
        | "expectedclosedate" => Col::CloseDate,
        "阶段" | "销售阶段" | "机会阶段" | "商机阶段" | "stage" | "salesstage" => {
            Col::Stage
        }
        "负责人" | "销售" | "跟进人" | "owner" => Col::Owner,
        "输单原因" | "丢单原因" | "lossreason" | "lostreason" => Col::LossReason,
        "备注" | "说明" | "notes" | "note" | "remark" => Col::Notes,
        _ => return None,
    })
}

/// An opportunity sheet found in the workbook.
pub type Sheet = SideSheet<Col>;

/// Find the opportunity sheet: another visible sheet whose header names a
/// customer (code or name), an opportunity name and a stage or an amount.
pub fn find(path: &Path, customer_sheet: &str, names: &[String]) -> Result<Option<Sheet>> {
    side_sheet::find(path, customer_sheet, names, col_for, |cols| {
        let has = |f: &dyn Fn(Col) -> bool| cols.iter().any(|c| f(c.1));
        has(&|k| matches!(k, Col::Code | Col::Customer))
            && has(&|k| k == Col::Name)
            && has(&|k| matches!(k, Col::Stage | Col::Expected(_)))
    })
}

fn amount(
    cell: &Cell,
    unit: f64,
    field: &str,
    zh: &str,
    en: &str,
) -> std::result::Result<Option<f64>, RowIssue> {
    match cell {
        Cell::Empty => Ok(None),
        Cell::Number(n) => Ok(Some(n * unit)),
        c => {
            let t = text_of(c).unwrap_or_default();
            if t.is_empty() || is_blank_amount(&t) {
                return Ok(None);
            }
            parse_amount(&t, unit).map(Some).ok_or_else(|| {
                issue(
                    field,
                    format!("{zh}“{t}”不是金额，请填数字，如 50000、5万、50,000元"),
                    format!("{en} “{t}” is not an amount; write e.g. 50000, 5万 or 50,000元"),
                )
            })
        }
    }
}

/// The pipeline stage a cell names, or an issue with the closest stage.
fn stage_of(
    stages: &[pipeline::Stage],
    t: &str,
    conn: &rusqlite::Connection,
) -> std::result::Result<String, RowIssue> {
    if let Ok(s) = pipeline::resolve(conn, t, "stage") {
        return Ok(s.key);
    }
    let labels: Vec<(String, String)> = stages
        .iter()
        .flat_map(|s| {
            [
                (s.name.to_lowercase(), s.name.clone()),
                (s.label(Lang::En).to_lowercase(), s.name.clone()),
            ]
        })
        .collect();
    let cands: Vec<(&str, &str)> = labels
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let sugg = closest(t, &cands).map(str::to_string);
    let zh_all = stages
        .iter()
        .map(|s| s.name.as_str())
        .collect::<Vec<_>>()
        .join("、");
    let en_all = stages
        .iter()
        .map(|s| s.label(Lang::En))
        .collect::<Vec<_>>()
        .join(", ");
    let (zh, en) = match &sugg {
        Some(s) => (
            format!("没有“{t}”这个销售阶段，是否是“{s}”？可选：{zh_all}"),
            format!("Unknown stage “{t}”; did you mean “{s}”? Stages: {en_all}"),
        ),
        None => (
            format!("没有“{t}”这个销售阶段，可选：{zh_all}"),
            format!("Unknown stage “{t}”; stages: {en_all}"),
        ),
    };
    let mut i = issue("stage", zh, en);
    i.suggestion = sugg;
    Err(i)
}

/// One row of the sheet as read: the deal and the customer it names.
struct Parsed {
    fields: OpportunityFields,
    code: Option<String>,
    customer_name: Option<String>,
    stage: Option<String>,
    reason: Option<String>,
}

/// Read one row: every rule but whether its customer exists (the write looks
/// in the database, the preview also among the customers the file creates).
fn parse_row(
    conn: &rusqlite::Connection,
    sheet: &Sheet,
    stages: &[pipeline::Stage],
    members: &HashMap<String, String>,
    raw: &[Cell],
) -> (Parsed, Vec<RowIssue>) {
    let mut issues: Vec<RowIssue> = vec![];
    let mut p = Parsed {
        fields: OpportunityFields::default(),
        code: None,
        customer_name: None,
        stage: None,
        reason: None,
    };
    let fields = &mut p.fields;
    let empty = Cell::Empty;
    for &(i, col) in &sheet.cols {
        let cell = raw.get(i).unwrap_or(&empty);
        let push =
            |issues: &mut Vec<RowIssue>, r: std::result::Result<Option<f64>, RowIssue>| match r {
                Ok(v) => v,
                Err(e) => {
                    issues.push(e);
                    None
                }
            };
        match col {
            Col::Expected(u) => {
                fields.expected_amount = push(
                    &mut issues,
                    amount(
                        cell,
                        u,
                        "expected_amount",
                        "预计成交金额",
                        "Expected amount",
                    ),
                )
            }
            Col::Won(u) => {
                fields.won_amount = push(
                    &mut issues,
                    amount(cell, u, "won_amount", "成交金额", "Won amount"),
                )
            }
            Col::Received(u) => {
                fields.received_amount = push(
                    &mut issues,
                    amount(cell, u, "received_amount", "回款金额", "Received amount"),
                )
            }
            Col::CloseDate => match date_of(cell, sheet.date1904) {
                Ok(d) => fields.expected_close_date = d.map(|d| d.format("%Y-%m-%d").to_string()),
                Err(t) => issues.push(issue(
                    "expected_close_date",
                    format!("无法识别的预计成交日期“{t}”，请用 2024-06-30 这样的格式"),
                    format!("“{t}” is not a date; use the form 2024-06-30"),
                )),
            },
            _ => {
                let Some(t) = text_of(cell) else { continue };
                match col {
                    Col::Code => p.code = Some(t),
                    Col::Customer => p.customer_name = Some(t),
                    Col::Name => fields.name = t,
                    Col::Stage => match stage_of(stages, &t, conn) {
                        Ok(k) => p.stage = Some(k),
                        Err(e) => issues.push(e),
                    },
                    Col::Owner => match members.get(t.as_str()) {
                        Some(id) => fields.owner_id = Some(id.clone()),
                        None => issues.push(issue(
                            "owner",
                            format!("负责人“{t}”不是团队成员"),
                            format!("“{t}” is not a team member"),
                        )),
                    },
                    Col::LossReason => p.reason = Some(t),
                    Col::Notes => fields.notes = Some(t),
                    _ => {}
                }
            }
        }
    }
    if p.fields.name.is_empty() {
        issues.push(issue(
            "name",
            "请填写机会名称",
            "The opportunity name is required",
        ));
    }
    if p.stage.as_deref() == Some(LOST) && p.reason.is_none() {
        issues.push(issue(
            "reason",
            "阶段为“输单”时请填写输单原因",
            "A loss reason is required when the stage is Lost",
        ));
    }
    (p, issues)
}

/// The rows that would fail, found without writing (the preview and a dry
/// run): a customer may also be one the customer sheet creates.
pub fn check_all(
    conn: &rusqlite::Connection,
    sheet: &Sheet,
    members: &HashMap<String, String>,
    file: &FileCustomers,
) -> Result<Vec<FailedRow>> {
    let stages = pipeline::stages(conn)?;
    side_sheet::check_rows(sheet, |raw| {
        let (p, mut issues) = parse_row(conn, sheet, &stages, members, raw);
        issues.extend(side_sheet::unknown_customer(
            conn,
            file,
            &p.code,
            &p.customer_name,
        )?);
        if issues.is_empty() {
            if let Err(e @ Error::Validation { .. }) = p.fields.validated(conn) {
                issues.push(super::from_error(e, "row"));
            }
        }
        Ok(issues)
    })
}

/// Convert and write every row inside the import's transaction. Returns
/// (imported, failures).
pub fn write_all(
    w: &mut Writer,
    sheet: &Sheet,
    members: &HashMap<String, String>,
) -> Result<(usize, Vec<FailedRow>)> {
    let stages = pipeline::stages(w.tx())?;
    let mut ok = 0;
    let mut failures = vec![];
    for (row_no, raw) in &sheet.rows {
        let (p, mut issues) = parse_row(w.tx(), sheet, &stages, members, raw);
        let customer =
            side_sheet::stored_customer(w.tx(), p.code.as_deref(), p.customer_name.as_deref())?;
        if customer.is_none() {
            issues.push(side_sheet::missing_customer(&p.code, &p.customer_name));
        }
        if issues.is_empty() {
            let lost = p.stage.as_deref() == Some(LOST);
            let new = NewOpportunity {
                customer: customer.unwrap_or_default(),
                fields: p.fields,
                // A lost deal is created at the first stage and then marked
                // lost with its reason, as a salesperson would do by hand.
                stage: if lost { None } else { p.stage },
            };
            // insert checks everything before it writes.
            match opportunities::insert(w, new) {
                Ok(id) => {
                    if lost {
                        opportunities::set_stage_in(w, &id, LOST, p.reason.as_deref())?;
                    }
                    ok += 1
                }
                Err(e @ Error::Validation { .. }) => issues.push(super::from_error(e, "row")),
                Err(e) => return Err(e),
            }
        }
        if !issues.is_empty() {
            failures.push(side_sheet::failed(*row_no, raw, issues));
        }
    }
    Ok((ok, failures))
}
