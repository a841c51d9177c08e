//! The follow-up sheet of a workbook (seed 004's 客户跟进记录表): rows keyed
//! by customer code or name, imported in the same transaction as the
//! customer sheet, so a follow-up can refer to a customer the same file
//! creates. Undo removes them with the rest of the import.

use super::mapping::norm_header;
use super::read::{self, Cell};
use super::side_sheet::{self, FileCustomers, SideSheet};
use super::{issue, text_of, FailedRow, RowIssue};
use crate::changelog::Writer;
use crate::error::{Error, Result};
use crate::followups::{self, FollowupFields, Kind, NewFollowup};
use chrono::TimeZone;
use std::path::Path;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
/// What a column of the follow-up sheet holds.
pub enum Col {
    Code,
    Name,
    At,
    Kind,
    Owner,
    Purpose,
    Content,
    Feedback,
    NextStep,
    Effective,
}

fn col_for(h: &str) -> Option<Col> {
    Some(match norm_header(h).as_str() {
        "客户编号" | "客户编码" | "customercode" => Col::Code,
        "客户名称" | "公司名称" | "客户" | "company" | "customer" => Col::Name,
        "跟进时间" | "跟进日期" | "时间" | "日期" | "date" | "time" => Col::At,
        "跟进方式" | "方式" | "跟进类型" | "kind" | "type" => Col::Kind,
        "跟进人" | "负责人" | "销售" | "owner" => Col::Owner,
        "跟进目的" | "目的" | "purpose" => Col::Purpose,
        "跟进内容摘要" | "跟进内容" | "沟通内容" | "内容" | "跟进结果" | "content" => {
            Col::Content
        }
        "客户反馈" | "反馈" | "feedback" => Col::Feedback,
        "下一步计划" | "下一步" | "nextstep" => Col::NextStep,
        "是否有效跟进" | "有效跟进" | "是否有效" | "effective" => Col::Effective,
        _ => return None,
    })
}

/// A follow-up sheet found in the workbook.
pub type Sheet = SideSheet<Col>;

/// Find the follow-up sheet: another visible sheet whose header names a
/// customer (code or name), a time and a kind or content.
pub fn find(path: &Path, customer_sheet: &str, names: &[String]) -> Result<Option<Sheet>> {
    side_sheet::find(path, customer_sheet, names, col_for, |cols| {
        let has = |k: Col| cols.iter().any(|c| c.1 == k);
        (has(Col::Code) || has(Col::Name)) && has(Col::At) && (has(Col::Kind) || has(Col::Content))
    })
}

fn local_ms(dt: chrono::NaiveDateTime) -> Option<i64> {
    chrono::Local
        .from_local_datetime(&dt)
        .earliest()
        .map(|d| d.timestamp_millis())
}

fn parse_bool(t: &str) -> Option<bool> {
    match t.trim().to_lowercase().as_str() {
        "是" | "有效" | "y" | "yes" | "true" | "1" | "√" => Some(true),
        "否" | "无效" | "n" | "no" | "false" | "0" | "×" => Some(false),
        _ => None,
    }
}

/// One row of the sheet as read: the follow-up and the customer it names.
struct Parsed {
    fields: FollowupFields,
    code: Option<String>,
    name: Option<String>,
    at: Option<i64>,
}

/// Read one row: every rule but whether its customer exists (the write looks
/// in the database, the preview also among the customers the file creates).
fn parse_row(
    sheet: &Sheet,
    members: &std::collections::HashMap<String, String>,
    raw: &[Cell],
) -> (Parsed, Vec<RowIssue>) {
    let mut issues: Vec<RowIssue> = vec![];
    let mut fields = FollowupFields::default();
    let (mut code, mut name, mut at) = (None, None, None);
    let empty = Cell::Empty;
    for &(i, col) in &sheet.cols {
        let cell = raw.get(i).unwrap_or(&empty);
        let Some(t) = text_of(cell) else { continue };
        match col {
            Col::Code => code = Some(t),
            Col::Name => name = Some(t),
            Col::At => {
                at = match cell {
                    Cell::Date(d) => local_ms(*d),
                    Cell::Number(n) => read::serial_to_date(*n, sheet.date1904).and_then(local_ms),
                    _ => crate::dates::parse_local_datetime(&t),
                };
                if at.is_none() {
                    issues.push(issue(
                        "at",
                        format!("无法识别的跟进时间“{t}”，请用 2024-03-05 10:00 这样的格式"),
                        format!("“{t}” is not a time; use the form 2024-03-05 10:00"),
                    ));
                }
            }
            Col::Kind => match Kind::parse(&t) {
                Some(k) => fields.kind = k,
                None => issues.push(issue(
                    "kind",
                    format!("跟进方式“{t}”无法识别，可选：电话、拜访、邮件、线上会议、微信、其他"),
                    format!("Kind “{t}” is not recognised; use call, visit, email, meeting, wechat or other"),
                )),
            },
            Col::Owner => match members.get(t.as_str()) {
                Some(id) => fields.owner_id = Some(id.clone()),
                None => issues.push(issue(
                    "owner",
                    format!("跟进人“{t}”不是团队成员"),
                    format!("“{t}” is not a team member"),
                )),
            },
            Col::Purpose => fields.purpose = Some(t),
            Col::Content => fields.content = Some(t),
            Col::Feedback => fields.feedback = Some(t),
            Col::NextStep => fields.next_step = Some(t),
            Col::Effective => fields.effective = parse_bool(&t),
        }
    }
    if at.is_none() && !issues.iter().any(|i| i.field == "at") {
        issues.push(issue(
            "at",
            "请填写跟进时间",
            "The follow-up time is required",
        ));
    }
    (
        Parsed {
            fields,
            code,
            name,
            at,
        },
        issues,
    )
}

/// The rows that would fail, found without writing (the preview and a dry
/// run): a customer may also be one the customer sheet creates.
pub fn check_all(
    conn: &rusqlite::Connection,
    sheet: &Sheet,
    members: &std::collections::HashMap<String, String>,
    file: &FileCustomers,
) -> Result<Vec<FailedRow>> {
    side_sheet::check_rows(sheet, |raw| {
        let (p, mut issues) = parse_row(sheet, members, raw);
        issues.extend(side_sheet::unknown_customer(conn, file, &p.code, &p.name)?);
        Ok(issues)
    })
}

/// Convert and write every row inside the import's transaction. Returns
/// (imported, failures).
pub fn write_all(
    w: &mut Writer,
    sheet: &Sheet,
    members: &std::collections::HashMap<String, String>,
) -> Result<(usize, Vec<FailedRow>)> {
    let mut ok = 0;
    let mut failures = vec![];
    for (row_no, raw) in &sheet.rows {
        let (p, mut issues) = parse_row(sheet, members, raw);
        let customer = side_sheet::stored_customer(w.tx(), p.code.as_deref(), p.name.as_deref())?;
        if customer.is_none() {
            issues.push(side_sheet::missing_customer(&p.code, &p.name));
        }
        if issues.is_empty() {
            let at = p.at.unwrap_or_default();
            let done = at <= w.now();
            let new = NewFollowup {
                customer: customer.unwrap_or_default(),
                fields: p.fields,
                planned_at: (!done).then_some(at),
                done,
                done_at: done.then_some(at),
                no_reminder: true,
                ..Default::default()
            };
            // insert checks everything before it writes.
            match followups::insert(w, new) {
                Ok(_) => ok += 1,
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
