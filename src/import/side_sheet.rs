//! A second sheet of a workbook that carries rows keyed by customer (the
//! follow-up and opportunity sheets of seed 004), found by its header row.

use super::mapping::header_texts;
use super::read::{self, Cell, SheetPick, Table};
use super::{issue, RowIssue};
use crate::error::Result;
use std::path::Path;

/// The found sheet: its header, its non-empty rows (1-based row numbers as
/// the spreadsheet shows them) and which column holds what.
pub struct SideSheet<C> {
    pub name: String,
    pub headers: Vec<String>,
    pub(super) rows: Vec<(usize, Vec<Cell>)>,
    pub(super) cols: Vec<(usize, C)>,
    pub(super) date1904: bool,
}

impl<C> SideSheet<C> {
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

/// The first of up to 8 sheets other than the customer sheet with a header
/// row (among its first 30 rows) whose recognised columns `fits` accepts.
pub(super) fn find<C>(
    path: &Path,
    customer_sheet: &str,
    names: &[String],
    col_for: fn(&str) -> Option<C>,
    fits: impl Fn(&[(usize, C)]) -> bool,
) -> Result<Option<SideSheet<C>>> {
    for name in names
        .iter()
        .filter(|n| n.as_str() != customer_sheet)
        .take(8)
    {
        let t: Table = read::read(path, SheetPick::Named(name), None)?;
        for (h, row) in t.rows.iter().enumerate().take(30) {
            let cols: Vec<(usize, C)> = row
                .iter()
                .enumerate()
                .filter_map(|(i, c)| col_for(&c.display()).map(|k| (i, k)))
                .collect();
            if fits(&cols) {
                let headers = header_texts(&t.rows, h);
                let rows = t
                    .rows
                    .into_iter()
                    .enumerate()
                    .skip(h + 1)
                    .filter(|(_, r)| !r.iter().all(Cell::is_empty))
                    .map(|(i, r)| (i + 1, r))
                    .collect();
                return Ok(Some(SideSheet {
                    name: name.clone(),
                    headers,
                    rows,
                    cols,
                    date1904: t.date1904,
                }));
            }
        }
    }
    Ok(None)
}

/// A row that cannot be imported, with its cells as the sheet shows them.
pub(super) fn failed(row: usize, raw: &[Cell], issues: Vec<RowIssue>) -> super::FailedRow {
    super::FailedRow {
        row,
        cells: raw.iter().map(Cell::display).collect(),
        issues,
        raw: raw.to_vec(),
    }
}

/// The rows of a side sheet that would fail, found without writing (the
/// preview and a dry run); `issues_of` checks one row.
pub(super) fn check_rows<C>(
    sheet: &SideSheet<C>,
    mut issues_of: impl FnMut(&[Cell]) -> Result<Vec<RowIssue>>,
) -> Result<Vec<super::FailedRow>> {
    let mut failures = vec![];
    for (row_no, raw) in &sheet.rows {
        let issues = issues_of(raw)?;
        if !issues.is_empty() {
            failures.push(failed(*row_no, raw, issues));
        }
    }
    Ok(failures)
}

/// Before writing: the issue of a row whose customer is neither stored nor
/// one the customer sheet of the same file creates.
pub(super) fn unknown_customer(
    conn: &rusqlite::Connection,
    file: &FileCustomers,
    code: &Option<String>,
    name: &Option<String>,
) -> Result<Option<RowIssue>> {
    let stored = stored_customer(conn, code.as_deref(), name.as_deref())?;
    let known = stored.is_some() || file.has(code.as_deref(), name.as_deref());
    Ok((!known).then(|| missing_customer(code, name)))
}

/// The issue of a row whose customer (by code, else by name) is not found.
pub(super) fn missing_customer(code: &Option<String>, name: &Option<String>) -> RowIssue {
    let key = code.clone().or(name.clone()).unwrap_or_default();
    if key.is_empty() {
        issue(
            "customer",
            "请填写客户编号或客户名称",
            "The customer code or name is required",
        )
    } else {
        issue(
            "customer",
            format!("找不到客户“{key}”（按客户编号或客户名称，在数据库或本文件的客户表中）"),
            format!("No customer “{key}” (by code or name, in the database or this file's customer sheet)"),
        )
    }
}

/// The customer a side-sheet row names, among the stored ones: by code (or
/// id), else by exact name (the oldest live one of that name).
pub(super) fn stored_customer(
    conn: &rusqlite::Connection,
    code: Option<&str>,
    name: Option<&str>,
) -> Result<Option<String>> {
    use rusqlite::OptionalExtension;
    Ok(match (code, name) {
        (Some(c), _) => crate::customers::resolve_id(conn, c).ok(),
        (None, Some(n)) => conn
            .prepare_cached(
                "SELECT id FROM customers WHERE name = ?1 AND deleted_at IS NULL ORDER BY created_at LIMIT 1",
            )?
            .query_row([n], |r| r.get(0))
            .optional()?,
        _ => None,
    })
}

/// The customers the customer sheet of the same file would create, so the
/// preview does not call a deal's customer missing when it is on sheet one.
#[derive(Default)]
pub struct FileCustomers {
    codes: std::collections::HashSet<String>,
    names: std::collections::HashSet<String>,
}

impl FileCustomers {
    pub(super) fn add(&mut self, code: Option<&str>, name: &str) {
        if let Some(c) = code {
            self.codes.insert(c.trim().to_uppercase());
        }
        self.names.insert(name.to_string());
    }

    pub(super) fn has(&self, code: Option<&str>, name: Option<&str>) -> bool {
        match (code, name) {
            (Some(c), _) => self.codes.contains(&c.trim().to_uppercase()),
            (None, Some(n)) => self.names.contains(n),
            _ => false,
        }
    }
}
