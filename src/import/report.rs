//! The error report: the failed rows of an import with their original cells
//! and one more column saying what is wrong, in the user's language. The
//! user corrects it in Excel and imports it again.

use super::read::Cell;
use super::ImportReport;
use crate::error::{Error, Result};
use crate::i18n::Lang;
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
use std::path::Path;

pub(crate) fn xlsx_error(e: rust_xlsxwriter::XlsxError) -> Error {
    match e {
        rust_xlsxwriter::XlsxError::IoError(io) => Error::Io(io),
        e => Error::validation(
            "file",
            format!("无法写入 Excel 文件：{e}"),
            format!("Cannot write the Excel file: {e}"),
        ),
    }
}

/// The header of the error column.
pub fn error_header(lang: Lang) -> &'static str {
    lang.pick("错误原因", "Error")
}

/// Write the failed rows of `report` to an xlsx at `path`.
pub fn write_error_report(report: &ImportReport, path: &Path, lang: Lang) -> Result<()> {
    let mut wb = Workbook::new();
    let head = Format::new().set_bold().set_background_color(0xDDEBF7);
    let err = Format::new().set_font_color(0xC00000);
    let date = Format::new().set_num_format("yyyy-mm-dd");
    let ws = wb.add_worksheet();
    ws.set_name(lang.pick("导入失败的行", "Failed rows"))
        .map_err(xlsx_error)?;
    let width = report
        .failures
        .iter()
        .map(|f| f.raw.len())
        .chain([report.headers.len()])
        .max()
        .unwrap_or(0) as u16;
    for (i, h) in report.headers.iter().enumerate() {
        ws.write_string_with_format(0, i as u16, h, &head)
            .map_err(xlsx_error)?;
        ws.set_column_width(i as u16, 14).map_err(xlsx_error)?;
    }
    ws.write_string_with_format(0, width, error_header(lang), &head)
        .map_err(xlsx_error)?;
    ws.write_string_with_format(0, width + 1, lang.pick("原行号", "Row"), &head)
        .map_err(xlsx_error)?;
    ws.set_column_width(width, 60).map_err(xlsx_error)?;
    for (n, f) in report.failures.iter().enumerate() {
        let row = n as u32 + 1;
        for (c, cell) in f.raw.iter().enumerate() {
            let c = c as u16;
            match cell {
                Cell::Empty => {}
                Cell::Text(s) => {
                    ws.write_string(row, c, s).map_err(xlsx_error)?;
                }
                Cell::Number(x) => {
                    ws.write_number(row, c, *x).map_err(xlsx_error)?;
                }
                Cell::Bool(b) => {
                    ws.write_boolean(row, c, *b).map_err(xlsx_error)?;
                }
                Cell::Date(d) => {
                    let s = d.format("%Y-%m-%dT%H:%M:%S").to_string();
                    match ExcelDateTime::parse_from_str(&s) {
                        Ok(dt) => ws
                            .write_datetime_with_format(row, c, &dt, &date)
                            .map_err(xlsx_error)?,
                        Err(_) => ws
                            .write_string(row, c, cell.display())
                            .map_err(xlsx_error)?,
                    };
                }
            }
        }
        let msg = f
            .issues
            .iter()
            .map(|i| i.message(lang).to_string())
            .collect::<Vec<_>>()
            .join(lang.pick("；", "; "));
        ws.write_string_with_format(row, width, msg, &err)
            .map_err(xlsx_error)?;
        ws.write_number(row, width + 1, f.row as f64)
            .map_err(xlsx_error)?;
    }
    ws.set_freeze_panes(1, 0).map_err(xlsx_error)?;
    for (sheet, default, headers, failures) in [
        (
            &report.followup_sheet,
            "跟进记录",
            &report.followup_headers,
            &report.followup_failures,
        ),
        (
            &report.opportunity_sheet,
            "销售机会",
            &report.opportunity_headers,
            &report.opportunity_failures,
        ),
    ] {
        if failures.is_empty() {
            continue;
        }
        let ws = wb.add_worksheet();
        ws.set_name(sheet.as_deref().unwrap_or(default))
            .map_err(xlsx_error)?;
        let width = headers.len() as u16;
        for (i, h) in headers.iter().enumerate() {
            ws.write_string_with_format(0, i as u16, h, &head)
                .map_err(xlsx_error)?;
            ws.set_column_width(i as u16, 14).map_err(xlsx_error)?;
        }
        ws.write_string_with_format(0, width, error_header(lang), &head)
            .map_err(xlsx_error)?;
        for (n, f) in failures.iter().enumerate() {
            for (c, v) in f.cells.iter().enumerate() {
                ws.write_string(n as u32 + 1, c as u16, v)
                    .map_err(xlsx_error)?;
            }
            let msg: Vec<&str> = f.issues.iter().map(|i| i.message(lang)).collect();
            ws.write_string_with_format(n as u32 + 1, width, msg.join(lang.pick("；", "; ")), &err)
                .map_err(xlsx_error)?;
        }
    }
    wb.save(path).map_err(xlsx_error)?;
    Ok(())
}
