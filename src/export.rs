//! Export customers and contacts to xlsx (real dates and numbers, frozen
//! header, autofilter, column widths, constant memory) and csv (UTF-8 with
//! BOM so Excel opens Chinese correctly, or GBK). Headers are the import
//! template's, so an export imports back unchanged.
//!
//! Formula injection: text starting with `=`, `+`, `-`, `@`, tab or CR is
//! written as a string cell in xlsx (never a formula) and prefixed with `'`
//! in csv; the importer removes that prefix again.

use crate::customer_list::CustomerQuery;
use crate::customers::{Grade, Status};
use crate::error::{Error, Result};
use crate::i18n::Lang;
use crate::import::mapping::Field;
use crate::import::report::xlsx_error;
use chrono::{Datelike, NaiveDate, NaiveDateTime, TimeZone};
use rusqlite::Connection;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::Path;
use ts_rs::TS;

/// Text encoding of an exported csv.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, Default)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum CsvEncoding {
    /// UTF-8 with a BOM (Excel then reads Chinese correctly).
    #[default]
    Utf8Bom,
    /// GBK/GB18030, for old tools that expect it.
    Gbk,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, TS)]
#[serde(default)]
#[ts(export)]
pub struct ExportOptions {
    /// Which customers; `null` = all live customers.
    pub query: Option<CustomerQuery>,
    /// Which columns, in order; empty = all standard columns.
    pub columns: Vec<Field>,
    pub lang: Lang,
    pub csv_encoding: CsvEncoding,
}

/// One exported value.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    Empty,
    Text(String),
    Num(f64),
    Date(NaiveDate),
    DateTime(NaiveDateTime),
}

impl Val {
    /// A date or date-time as text: its csv cell, and its xlsx cell when
    /// Excel cannot hold it as a date.
    fn date_text(&self) -> String {
        match self {
            Val::Date(d) => d.format("%Y-%m-%d").to_string(),
            Val::DateTime(d) => d.format("%Y-%m-%d %H:%M").to_string(),
            _ => String::new(),
        }
    }

    /// A date or date-time as an Excel date; `None` before 1900, which
    /// Excel cannot hold.
    fn excel_datetime(&self) -> Option<rust_xlsxwriter::ExcelDateTime> {
        use rust_xlsxwriter::ExcelDateTime;
        match self {
            Val::Date(d) if d.year() >= 1900 => {
                ExcelDateTime::from_ymd(d.year() as u16, d.month() as u8, d.day() as u8).ok()
            }
            Val::DateTime(d) if d.year() >= 1900 => {
                ExcelDateTime::parse_from_str(&d.format("%Y-%m-%dT%H:%M:%S").to_string()).ok()
            }
            _ => None,
        }
    }
}

/// Does this text need the formula guard?
pub fn is_risky(s: &str) -> bool {
    s.starts_with(['=', '+', '-', '@', '\t', '\r'])
}

/// csv form of a text cell: risky text gets a leading `'`.
pub fn guard_csv(s: &str) -> std::borrow::Cow<'_, str> {
    if is_risky(s) {
        format!("'{s}").into()
    } else {
        s.into()
    }
}

enum Format_ {
    Xlsx,
    Csv,
}

fn format_of(path: &Path) -> Result<Format_> {
    match path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("xlsx") => Ok(Format_::Xlsx),
        Some("csv") | Some("txt") => Ok(Format_::Csv),
        _ => Err(Error::validation(
            "out",
            "导出文件名应以 .xlsx 或 .csv 结尾",
            "The export file name must end in .xlsx or .csv",
        )),
    }
}

/// A table to write: headers, column widths, rows.
pub struct Sheet<'a> {
    pub name: &'a str,
    pub headers: Vec<String>,
    pub widths: Vec<f64>,
}

/// Where a writer sends one row of cells.
type RowSink<'a> = &'a mut dyn FnMut(&[Val]) -> Result<()>;

/// Write rows streamed from `rows` to `path` (xlsx or csv by extension).
/// Returns the number of rows written.
pub fn write_table(
    path: &Path,
    sheet: &Sheet,
    enc: CsvEncoding,
    rows: &mut dyn FnMut(RowSink<'_>) -> Result<()>,
) -> Result<usize> {
    let mut n = 0usize;
    match format_of(path)? {
        Format_::Xlsx => {
            // Reading rows (SQLite, this thread) and writing the workbook
            // (a second thread) overlap: each takes about as long as the
            // other, so an export costs little more than the writing alone.
            let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<Vec<Val>>>(8);
            std::thread::scope(|sc| {
                let writer = sc.spawn(move || write_xlsx(path, sheet, rx));
                let mut batch = Vec::with_capacity(ROWS_PER_BATCH);
                let mut writer_stopped = false;
                let read = rows(&mut |vals: &[Val]| {
                    batch.push(vals.to_vec());
                    if batch.len() == ROWS_PER_BATCH {
                        let full =
                            std::mem::replace(&mut batch, Vec::with_capacity(ROWS_PER_BATCH));
                        if tx.send(full).is_err() {
                            // The writer failed; its error is the one to report.
                            writer_stopped = true;
                            return Err(Error::Io(std::io::Error::other("xlsx writer stopped")));
                        }
                    }
                    Ok(())
                });
                if read.is_ok() {
                    // The last rows, then an empty batch: the end, so save.
                    if !batch.is_empty() {
                        let _ = tx.send(batch);
                    }
                    let _ = tx.send(Vec::new());
                }
                drop(tx);
                let written = writer.join().expect("xlsx writer thread");
                match (read, written) {
                    (Ok(()), Ok(count)) => {
                        n = count;
                        Ok(())
                    }
                    (Err(e), _) if !writer_stopped => Err(e),
                    (_, Err(e)) | (Err(e), Ok(_)) => Err(e),
                }
            })?;
        }
        Format_::Csv => {
            let tmp = path.with_extension("csv.part");
            let file = std::fs::File::create(&tmp)?;
            let mut out = std::io::BufWriter::new(file);
            if enc == CsvEncoding::Utf8Bom {
                out.write_all(b"\xEF\xBB\xBF")?;
            }
            let put = |out: &mut std::io::BufWriter<std::fs::File>, rec: &[String]| -> Result<()> {
                let mut line = csv::Writer::from_writer(Vec::with_capacity(256));
                line.write_record(rec).map_err(csv_error)?;
                let buf = line
                    .into_inner()
                    .map_err(|e| Error::Io(std::io::Error::other(e.to_string())))?;
                match enc {
                    CsvEncoding::Utf8Bom => out.write_all(&buf)?,
                    CsvEncoding::Gbk => {
                        let text = String::from_utf8_lossy(&buf);
                        let (bytes, _, _) = encoding_rs::GB18030.encode(&text);
                        out.write_all(&bytes)?;
                    }
                }
                Ok(())
            };
            put(&mut out, &sheet.headers)?;
            rows(&mut |vals: &[Val]| {
                n += 1;
                let rec: Vec<String> = vals
                    .iter()
                    .map(|v| match v {
                        Val::Empty => String::new(),
                        Val::Text(s) => guard_csv(s).into_owned(),
                        Val::Num(x) => crate::import::read::fmt_number(*x),
                        Val::Date(_) | Val::DateTime(_) => v.date_text(),
                    })
                    .collect();
                put(&mut out, &rec)
            })?;
            out.flush()?;
            out.get_ref().sync_all()?;
            drop(out);
            std::fs::rename(&tmp, path)?;
        }
    }
    Ok(n)
}

/// Rows sent to the workbook writer at a time.
const ROWS_PER_BATCH: usize = 512;

/// Write the rows arriving on `rx` as an xlsx sheet at `path`; the number
/// of rows written. An empty batch ends the rows; without it (the reading
/// failed) nothing is saved.
fn write_xlsx(
    path: &Path,
    sheet: &Sheet,
    rx: std::sync::mpsc::Receiver<Vec<Vec<Val>>>,
) -> Result<usize> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut wb = Workbook::new();
    let head = Format::new().set_bold().set_background_color(0xDDEBF7);
    let date = Format::new().set_num_format("yyyy-mm-dd");
    let datetime = Format::new().set_num_format("yyyy-mm-dd hh:mm");
    let money = Format::new().set_num_format("#,##0.00");
    let ws = wb
        .add_worksheet_with_constant_memory()
        .map_err(xlsx_error)?;
    ws.set_name(sheet.name).map_err(xlsx_error)?;
    for (i, w) in sheet.widths.iter().enumerate() {
        ws.set_column_width(i as u16, *w).map_err(xlsx_error)?;
    }
    for (i, h) in sheet.headers.iter().enumerate() {
        ws.write_string_with_format(0, i as u16, h, &head)
            .map_err(xlsx_error)?;
    }
    let mut n = 0usize;
    let mut complete = false;
    for vals in rx
        .into_iter()
        .take_while(|b| {
            complete = b.is_empty();
            !complete
        })
        .flatten()
    {
        n += 1;
        let r = n as u32;
        for (c, v) in vals.iter().enumerate() {
            let c = c as u16;
            match v {
                Val::Empty => {}
                // Always a string cell: never interpreted as a formula.
                Val::Text(s) => {
                    ws.write_string(r, c, s).map_err(xlsx_error)?;
                }
                Val::Num(x) => {
                    ws.write_number_with_format(r, c, *x, &money)
                        .map_err(xlsx_error)?;
                }
                // Dates Excel cannot hold (before 1900) are written as text.
                Val::Date(_) | Val::DateTime(_) => {
                    let format = if matches!(v, Val::Date(_)) {
                        &date
                    } else {
                        &datetime
                    };
                    match v.excel_datetime() {
                        Some(dt) => ws.write_datetime_with_format(r, c, &dt, format),
                        None => ws.write_string(r, c, v.date_text()),
                    }
                    .map_err(xlsx_error)?;
                }
            }
        }
    }
    if !complete {
        return Err(Error::Io(std::io::Error::other("export cancelled")));
    }
    ws.set_freeze_panes(1, 0).map_err(xlsx_error)?;
    if !sheet.headers.is_empty() {
        ws.autofilter(0, 0, n as u32, sheet.headers.len() as u16 - 1)
            .map_err(xlsx_error)?;
    }
    wb.save(path).map_err(xlsx_error)?;
    Ok(n)
}

fn csv_error(e: csv::Error) -> Error {
    Error::Io(std::io::Error::other(e.to_string()))
}

fn width(f: Field) -> f64 {
    match f {
        Field::Name | Field::Address | Field::Notes | Field::Needs => 30.0,
        Field::Code | Field::ContactMobile | Field::ContactPhone | Field::ContactEmail => 16.0,
        Field::FirstContactDate | Field::LastFollowupAt | Field::Budget | Field::AnnualPurchase => {
            14.0
        }
        _ => 10.0,
    }
}

fn local_dt(ms: i64) -> Option<NaiveDateTime> {
    chrono::Local
        .timestamp_millis_opt(ms)
        .single()
        .map(|d| d.naive_local())
}

/// Ids of the customers a query selects (all pages).
fn query_ids(conn: &Connection, q: &CustomerQuery) -> Result<Vec<String>> {
    let mut q = q.clone();
    q.limit = 1000;
    q.offset = 0;
    let mut ids = vec![];
    loop {
        let page = crate::customer_list::list(conn, &q)?;
        let got = page.rows.len();
        ids.extend(page.rows.into_iter().map(|r| r.id));
        if got < 1000 || ids.len() >= page.total as usize {
            break;
        }
        q.offset += 1000;
    }
    Ok(ids)
}

/// Export customers (one row each, with the primary contact and tags).
/// Returns the number of customers written.
pub fn export_customers(conn: &Connection, path: &Path, opts: &ExportOptions) -> Result<usize> {
    let columns: Vec<Field> = if opts.columns.is_empty() {
        Field::ALL.to_vec()
    } else {
        opts.columns.clone()
    };
    let lang = opts.lang;
    let ids = match &opts.query {
        Some(q) => Some(serde_json::to_string(&query_ids(conn, q)?)?),
        None => None,
    };
    let sql = format!(
        "SELECT c.code, c.name, c.kind, c.industry, c.size, c.province, c.city, c.district, c.address,
            c.source, c.status, c.grade, m.name,
            (SELECT group_concat(name, ',') FROM (SELECT t.name FROM customer_tags ct JOIN tags t ON t.id = ct.tag_id
                WHERE ct.customer_id = c.id AND t.deleted_at IS NULL ORDER BY t.name)),
            p.name, p.title, p.mobile, p.phone, p.email, p.wechat,
            c.needs, c.budget, c.purchase_cycle, c.annual_purchase, c.first_contact_date, c.notes, c.last_followup_at
         FROM customers c LEFT JOIN members m ON m.id = c.owner_id
         LEFT JOIN contacts p ON p.id = (SELECT id FROM contacts WHERE customer_id = c.id AND deleted_at IS NULL
                                          ORDER BY is_primary DESC, created_at, id LIMIT 1)
         WHERE c.deleted_at IS NULL {}
         ORDER BY c.code",
        if ids.is_some() { "AND c.id IN (SELECT value FROM json_each(?1))" } else { "" }
    );
    let mut stmt = conn.prepare(&sql)?;
    let sheet = Sheet {
        name: lang.pick("客户", "Customers"),
        headers: columns.iter().map(|f| f.header(lang).to_string()).collect(),
        widths: columns.iter().map(|f| width(*f)).collect(),
    };
    let mut rows_fn = |emit: &mut dyn FnMut(&[Val]) -> Result<()>| -> Result<()> {
        let mut rows = match &ids {
            Some(j) => stmt.query([j])?,
            None => stmt.query([])?,
        };
        let mut vals = Vec::with_capacity(columns.len());
        while let Some(r) = rows.next()? {
            let text = |i: usize| -> Result<Val> {
                Ok(match r.get::<_, Option<String>>(i)? {
                    Some(s) if !s.is_empty() => Val::Text(s),
                    _ => Val::Empty,
                })
            };
            vals.clear();
            for f in &columns {
                vals.push(match f {
                    Field::Code => text(0)?,
                    Field::Name => text(1)?,
                    Field::Kind => Val::Text(
                        if r.get::<_, String>(2)? == "individual" {
                            lang.pick("个人", "individual")
                        } else {
                            lang.pick("企业", "company")
                        }
                        .into(),
                    ),
                    Field::Industry => text(3)?,
                    Field::Size => text(4)?,
                    Field::Province => text(5)?,
                    Field::City => text(6)?,
                    Field::District => text(7)?,
                    Field::Address => text(8)?,
                    Field::Source => text(9)?,
                    Field::Status => Val::Text(
                        Status::from_key(&r.get::<_, String>(10)?)
                            .label(lang)
                            .into(),
                    ),
                    Field::Grade => r
                        .get::<_, Option<String>>(11)?
                        .and_then(|g| Grade::parse(&g))
                        .map(|g| Val::Text(g.key().into()))
                        .unwrap_or(Val::Empty),
                    Field::Owner => text(12)?,
                    Field::Tags => text(13)?,
                    Field::ContactName => text(14)?,
                    Field::ContactTitle => text(15)?,
                    Field::ContactMobile => text(16)?,
                    Field::ContactPhone => text(17)?,
                    Field::ContactEmail => text(18)?,
                    Field::ContactWechat => text(19)?,
                    Field::Needs => text(20)?,
                    Field::Budget => r
                        .get::<_, Option<f64>>(21)?
                        .map(Val::Num)
                        .unwrap_or(Val::Empty),
                    Field::PurchaseCycle => text(22)?,
                    Field::AnnualPurchase => r
                        .get::<_, Option<f64>>(23)?
                        .map(Val::Num)
                        .unwrap_or(Val::Empty),
                    Field::FirstContactDate => r
                        .get::<_, Option<String>>(24)?
                        .and_then(|d| NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok())
                        .map(Val::Date)
                        .unwrap_or(Val::Empty),
                    Field::Notes => text(25)?,
                    Field::LastFollowupAt => r
                        .get::<_, Option<i64>>(26)?
                        .and_then(local_dt)
                        .map(Val::DateTime)
                        .unwrap_or(Val::Empty),
                });
            }
            emit(&vals)?;
        }
        Ok(())
    };
    write_table(path, &sheet, opts.csv_encoding, &mut rows_fn)
}

/// Export all contacts of live customers (one row per contact).
pub fn export_contacts(conn: &Connection, path: &Path, opts: &ExportOptions) -> Result<usize> {
    let lang = opts.lang;
    let ids = match &opts.query {
        Some(q) => Some(serde_json::to_string(&query_ids(conn, q)?)?),
        None => None,
    };
    let sql = format!(
        "SELECT c.code, c.name, p.name, p.title, p.mobile, p.phone, p.email, p.wechat, p.is_primary, p.notes
         FROM contacts p JOIN customers c ON c.id = p.customer_id
         WHERE p.deleted_at IS NULL AND c.deleted_at IS NULL {}
         ORDER BY c.code, p.is_primary DESC, p.created_at, p.id",
        if ids.is_some() { "AND c.id IN (SELECT value FROM json_each(?1))" } else { "" }
    );
    let headers: Vec<String> = [
        ("客户编号", "Customer Code"),
        ("客户名称", "Company"),
        ("联系人", "Contact"),
        ("职务", "Title"),
        ("手机", "Mobile"),
        ("座机", "Phone"),
        ("邮箱", "Email"),
        ("微信", "WeChat"),
        ("主联系人", "Primary"),
        ("备注", "Notes"),
    ]
    .iter()
    .map(|(z, e)| lang.pick(z, e).to_string())
    .collect();
    let sheet = Sheet {
        name: lang.pick("联系人", "Contacts"),
        widths: vec![16.0, 30.0, 12.0, 12.0, 16.0, 16.0, 24.0, 14.0, 8.0, 30.0],
        headers,
    };
    let mut stmt = conn.prepare(&sql)?;
    let mut rows_fn = |emit: &mut dyn FnMut(&[Val]) -> Result<()>| -> Result<()> {
        let mut rows = match &ids {
            Some(j) => stmt.query([j])?,
            None => stmt.query([])?,
        };
        while let Some(r) = rows.next()? {
            let mut vals = Vec::with_capacity(10);
            for i in 0..10 {
                vals.push(if i == 8 {
                    Val::Text(
                        if r.get::<_, bool>(8)? {
                            lang.pick("是", "yes")
                        } else {
                            lang.pick("否", "no")
                        }
                        .into(),
                    )
                } else {
                    match r.get::<_, Option<String>>(i)? {
                        Some(s) if !s.is_empty() => Val::Text(s),
                        _ => Val::Empty,
                    }
                });
            }
            emit(&vals)?;
        }
        Ok(())
    };
    write_table(path, &sheet, opts.csv_encoding, &mut rows_fn)
}

/// Kinds of column in a simple entity export.
#[derive(Clone, Copy)]
enum K {
    Text,
    Num,
    Date,
    /// UTC ms shown as local date-time.
    Ms,
    /// 0/1 shown as 是/否.
    YesNo,
}

fn export_sql(
    conn: &Connection,
    path: &Path,
    opts: &ExportOptions,
    sheet_name: &str,
    cols: &[(&str, &str, K, f64)],
    sql: &str,
    map_text: &dyn Fn(usize, String) -> String,
) -> Result<usize> {
    let lang = opts.lang;
    let ids = match &opts.query {
        Some(q) => Some(serde_json::to_string(&query_ids(conn, q)?)?),
        None => None,
    };
    let sql = sql.replace(
        "{filter}",
        if ids.is_some() {
            "AND c.id IN (SELECT value FROM json_each(?1))"
        } else {
            ""
        },
    );
    let sheet = Sheet {
        name: sheet_name,
        headers: cols
            .iter()
            .map(|(z, e, _, _)| lang.pick(z, e).to_string())
            .collect(),
        widths: cols.iter().map(|c| c.3).collect(),
    };
    let mut stmt = conn.prepare(&sql)?;
    let mut rows_fn = |emit: &mut dyn FnMut(&[Val]) -> Result<()>| -> Result<()> {
        let mut rows = match &ids {
            Some(j) => stmt.query([j])?,
            None => stmt.query([])?,
        };
        let mut vals = Vec::with_capacity(cols.len());
        while let Some(r) = rows.next()? {
            vals.clear();
            for (i, (_, _, k, _)) in cols.iter().enumerate() {
                vals.push(match k {
                    K::Text => match r.get::<_, Option<String>>(i)? {
                        Some(s) if !s.is_empty() => Val::Text(map_text(i, s)),
                        _ => Val::Empty,
                    },
                    K::Num => r
                        .get::<_, Option<f64>>(i)?
                        .map(Val::Num)
                        .unwrap_or(Val::Empty),
                    K::Date => r
                        .get::<_, Option<String>>(i)?
                        .and_then(|d| NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok())
                        .map(Val::Date)
                        .unwrap_or(Val::Empty),
                    K::Ms => r
                        .get::<_, Option<i64>>(i)?
                        .and_then(local_dt)
                        .map(Val::DateTime)
                        .unwrap_or(Val::Empty),
                    K::YesNo => match r.get::<_, Option<bool>>(i)? {
                        Some(b) => Val::Text(
                            if b {
                                lang.pick("是", "yes")
                            } else {
                                lang.pick("否", "no")
                            }
                            .into(),
                        ),
                        None => Val::Empty,
                    },
                });
            }
            emit(&vals)?;
        }
        Ok(())
    };
    write_table(path, &sheet, opts.csv_encoding, &mut rows_fn)
}

/// Export follow-ups of live customers, with the headers the importer's
/// follow-up sheet reads (客户跟进记录表).
pub fn export_followups(conn: &Connection, path: &Path, opts: &ExportOptions) -> Result<usize> {
    let lang = opts.lang;
    let cols = [
        ("客户编号", "Customer Code", K::Text, 16.0),
        ("客户名称", "Company", K::Text, 28.0),
        ("跟进时间", "Time", K::Ms, 17.0),
        ("跟进方式", "Kind", K::Text, 10.0),
        ("跟进人", "Owner", K::Text, 10.0),
        ("跟进目的", "Purpose", K::Text, 20.0),
        ("跟进内容", "Content", K::Text, 36.0),
        ("客户反馈", "Feedback", K::Text, 24.0),
        ("下一步计划", "Next Step", K::Text, 24.0),
        ("是否有效跟进", "Effective", K::YesNo, 10.0),
        ("状态", "Status", K::Text, 8.0),
    ];
    let sql = "SELECT c.code, c.name, coalesce(f.done_at, f.planned_at), f.kind, m.name, f.purpose, f.content,
            f.feedback, f.next_step, f.effective, f.status
         FROM followups f JOIN customers c ON c.id = f.customer_id LEFT JOIN members m ON m.id = f.owner_id
         WHERE f.deleted_at IS NULL AND c.deleted_at IS NULL {filter}
         ORDER BY c.code, coalesce(f.done_at, f.planned_at), f.id";
    let map = |i: usize, s: String| match i {
        3 => crate::followups::Kind::from_key(&s).label(lang).to_string(),
        10 => match s.as_str() {
            "done" => lang.pick("已完成", "done").into(),
            "planned" => lang.pick("计划中", "planned").into(),
            "cancelled" => lang.pick("已取消", "cancelled").into(),
            _ => s,
        },
        _ => s,
    };
    export_sql(
        conn,
        path,
        opts,
        lang.pick("跟进记录", "Follow-ups"),
        &cols,
        sql,
        &map,
    )
}

/// Export opportunities of live customers.
pub fn export_opportunities(conn: &Connection, path: &Path, opts: &ExportOptions) -> Result<usize> {
    let lang = opts.lang;
    let stages = crate::pipeline::stages(conn)?;
    let cols = [
        ("客户编号", "Customer Code", K::Text, 16.0),
        ("客户名称", "Company", K::Text, 28.0),
        ("机会名称", "Opportunity", K::Text, 28.0),
        ("阶段", "Stage", K::Text, 10.0),
        ("预计成交金额(元)", "Expected Amount", K::Num, 16.0),
        ("成交金额(元)", "Won Amount", K::Num, 14.0),
        ("回款金额(元)", "Received", K::Num, 14.0),
        ("预计成交日期", "Expected Close", K::Date, 14.0),
        ("负责人", "Owner", K::Text, 10.0),
        ("输单原因", "Loss Reason", K::Text, 20.0),
        ("备注", "Notes", K::Text, 30.0),
    ];
    let sql = "SELECT c.code, c.name, o.name, o.stage, o.expected_amount, o.won_amount, o.received_amount,
            o.expected_close_date, m.name, o.loss_reason, o.notes
         FROM opportunities o JOIN customers c ON c.id = o.customer_id LEFT JOIN members m ON m.id = o.owner_id
         WHERE o.deleted_at IS NULL AND c.deleted_at IS NULL {filter}
         ORDER BY c.code, o.created_at, o.id";
    let map = |i: usize, s: String| {
        if i == 3 {
            stages
                .iter()
                .find(|st| st.key == s)
                .map(|st| st.name.clone())
                .unwrap_or(s)
        } else {
            s
        }
    };
    export_sql(
        conn,
        path,
        opts,
        lang.pick("销售机会", "Opportunities"),
        &cols,
        sql,
        &map,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use calamine::Reader;

    fn sheet() -> Sheet<'static> {
        Sheet {
            name: "客户",
            headers: vec!["名称".into(), "预算".into()],
            widths: vec![20.0, 10.0],
        }
    }

    /// `n` rows, then `end` (an error stops the reading half-way).
    fn rows_then(n: usize, end: Result<()>) -> impl FnMut(RowSink<'_>) -> Result<()> {
        let mut end = Some(end);
        move |emit: RowSink<'_>| {
            for i in 0..n {
                emit(&[Val::Text(format!("客户{i}")), Val::Num(i as f64)])?;
            }
            end.take().unwrap_or(Ok(()))
        }
    }

    #[test]
    fn rows_of_several_batches_reach_the_workbook_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.xlsx");
        let n = ROWS_PER_BATCH * 2 + 7;
        let written = write_table(
            &path,
            &sheet(),
            CsvEncoding::Utf8Bom,
            &mut rows_then(n, Ok(())),
        )
        .unwrap();
        assert_eq!(written, n);
        let mut wb: calamine::Xlsx<_> = calamine::open_workbook(&path).unwrap();
        let range = wb.worksheet_range("客户").unwrap();
        assert_eq!(range.height(), n + 1);
        let last = range.rows().next_back().unwrap();
        assert_eq!(last[0].to_string(), format!("客户{}", n - 1));
        assert_eq!(last[1], calamine::Data::Float((n - 1) as f64));
    }

    #[test]
    fn a_read_that_fails_half_way_saves_no_workbook_and_names_its_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.xlsx");
        let failure = Err(Error::validation("query", "读取失败", "read failed"));
        let err = write_table(
            &path,
            &sheet(),
            CsvEncoding::Utf8Bom,
            &mut rows_then(ROWS_PER_BATCH + 3, failure),
        )
        .unwrap_err();
        assert!(err.message(Lang::En).contains("read failed"), "{err:?}");
        assert!(!path.exists(), "a partial workbook was saved");
    }

    #[test]
    fn dates_are_excel_dates_from_1900_and_text_before() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dates.xlsx");
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        let rows = [
            [
                Val::Date(day(2024, 3, 1)),
                Val::DateTime(day(2024, 3, 1).and_hms_opt(9, 30, 0).unwrap()),
            ],
            [
                Val::Date(day(1899, 12, 31)),
                Val::DateTime(day(1888, 1, 2).and_hms_opt(8, 0, 0).unwrap()),
            ],
        ];
        let mut emit_all = |emit: RowSink<'_>| rows.iter().try_for_each(|r| emit(r));
        write_table(&path, &sheet(), CsvEncoding::Utf8Bom, &mut emit_all).unwrap();
        let mut wb: calamine::Xlsx<_> = calamine::open_workbook(&path).unwrap();
        let range = wb.worksheet_range("客户").unwrap();
        let cell = |r: u32, c: u32| range.get_value((r, c)).unwrap().clone();
        // Excel's serials: 2024-03-01 is day 45352; 09:30 is 0.3958 of a day.
        let serial = |d: calamine::Data| match d {
            calamine::Data::DateTime(t) => Some((t.as_f64() * 1e4).round() / 1e4),
            _ => None,
        };
        assert_eq!(serial(cell(1, 0)), Some(45352.0));
        assert_eq!(serial(cell(1, 1)), Some(45352.3958));
        assert_eq!(cell(2, 0), calamine::Data::String("1899-12-31".into()));
        assert_eq!(
            cell(2, 1),
            calamine::Data::String("1888-01-02 08:00".into())
        );
    }
}
