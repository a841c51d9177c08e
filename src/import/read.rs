//! Reading a spreadsheet or CSV file into rows of cells, with guards against
//! hostile files: size limits checked before parsing, xlsx cells streamed
//! (a declared huge range costs nothing), a zip container whose entries
//! would expand beyond a limit refused, and every library error turned into
//! a message a salesperson can act on.

use crate::error::{Error, Result};
use calamine::{Data, DataRef, Reader};
use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};
use std::io::{Read, Seek};
use std::path::Path;
use ts_rs::TS;

/// Largest file accepted (bytes on disk).
pub const MAX_FILE_BYTES: u64 = 256 << 20;
/// Largest total uncompressed size of an xlsx/ods container.
pub const MAX_UNZIPPED_BYTES: u64 = 1 << 30;
/// Most rows read from one sheet (Excel's own limit).
pub const MAX_ROWS: usize = 1_048_576;
/// Columns beyond this are ignored (no customer sheet has more).
pub const MAX_COLS: usize = 256;
/// Most text held in memory for one sheet.
pub const MAX_TEXT_BYTES: usize = 512 << 20;

/// One cell as read from the file.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Cell {
    #[default]
    Empty,
    Text(String),
    Number(f64),
    /// A cell Excel formatted as a date (serials already converted, 1900 or 1904 system).
    Date(NaiveDateTime),
    Bool(bool),
}

impl Cell {
    pub fn is_empty(&self) -> bool {
        match self {
            Cell::Empty => true,
            Cell::Text(s) => s.trim().is_empty(),
            _ => false,
        }
    }

    /// The cell as text, the way a person would read it.
    pub fn display(&self) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Text(s) => s.clone(),
            Cell::Number(n) => fmt_number(*n),
            Cell::Date(d) => {
                if d.time() == chrono::NaiveTime::MIN {
                    d.format("%Y-%m-%d").to_string()
                } else {
                    d.format("%Y-%m-%d %H:%M").to_string()
                }
            }
            Cell::Bool(b) => if *b { "TRUE" } else { "FALSE" }.into(),
        }
    }
}

/// Numbers as people write them: integers without `.0`, no exponent for
/// phone-number-sized integers.
pub fn fmt_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e16 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

/// What kind of file was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum FileFormat {
    Xlsx,
    Xls,
    Ods,
    Csv,
}

/// A sheet read into rows.
#[derive(Debug, Clone)]
pub struct Table {
    pub format: FileFormat,
    /// Visible sheet names in workbook order (one pseudo-sheet for CSV).
    pub sheet_names: Vec<String>,
    pub sheet: String,
    pub rows: Vec<Vec<Cell>>,
    /// The 1904 date system (old Mac Excel): raw serials in date columns use it.
    pub date1904: bool,
    /// The text encoding a CSV was decoded with.
    pub encoding: Option<String>,
}

fn file_error(zh: impl Into<String>, en: impl Into<String>) -> Error {
    Error::validation("file", zh, en)
}

fn unreadable(detail: impl std::fmt::Display) -> Error {
    file_error(
        format!("无法读取这个文件：它不是有效的 Excel/CSV 文件，或者已经损坏（{detail}）。请在 Excel 中打开后另存为 .xlsx 再试。"),
        format!("This file cannot be read: it is not a valid Excel/CSV file or it is damaged ({detail}). Open it in Excel, save it as .xlsx and try again."),
    )
}

fn password_protected() -> Error {
    file_error(
        "这个文件设置了打开密码，无法导入。请在 Excel 中取消密码（文件 → 信息 → 保护工作簿）后另存再导入。",
        "This file is password-protected and cannot be imported. Remove the password in Excel (File → Info → Protect Workbook), save, and import again.",
    )
}

fn too_large(what_zh: &str, what_en: &str) -> Error {
    file_error(
        format!("文件过大，无法导入（{what_zh}）。请拆分成几个较小的文件。"),
        format!("The file is too large to import ({what_en}). Split it into smaller files."),
    )
}

/// Which sheet to read: a name, a 1-based number, or (None) the caller's choice.
pub enum SheetPick<'a> {
    Named(&'a str),
    First,
}

/// Sniff the file's real type from its first bytes (the extension may lie).
fn sniff(path: &Path) -> Result<(Vec<u8>, u64)> {
    let meta = std::fs::metadata(path).map_err(|e| {
        file_error(
            format!("无法打开文件 {}：{e}", path.display()),
            format!("Cannot open {}: {e}", path.display()),
        )
    })?;
    if meta.len() > MAX_FILE_BYTES {
        return Err(too_large(
            &format!("{} MB，上限 {} MB", meta.len() >> 20, MAX_FILE_BYTES >> 20),
            &format!("{} MB, limit {} MB", meta.len() >> 20, MAX_FILE_BYTES >> 20),
        ));
    }
    let mut head = vec![0u8; 8];
    let mut f = std::fs::File::open(path)?;
    let n = f.read(&mut head)?;
    head.truncate(n);
    Ok((head, meta.len()))
}

fn ext(path: &Path) -> String {
    path.extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase()
}

/// A damaged workbook can still trip the reader itself (calamine checks
/// its arithmetic in debug builds: a flipped byte in a cell reference
/// overflows a column number). That is a file that cannot be read, not a
/// crash of the import.
fn without_panics<T>(read: impl FnOnce() -> Result<T>) -> Result<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(read))
        .unwrap_or_else(|_| Err(unreadable("reader failure")))
}

/// All sheet names of a workbook (visible ones), or one name for a CSV.
pub fn sheet_names(path: &Path) -> Result<Vec<String>> {
    without_panics(|| sheet_names_of(path))
}

fn sheet_names_of(path: &Path) -> Result<Vec<String>> {
    let (head, _) = sniff(path)?;
    if head.starts_with(b"PK\x03\x04") {
        check_zip(path)?;
        if is_ods(path)? {
            let wb: calamine::Ods<_> = calamine::open_workbook(path).map_err(unreadable)?;
            return Ok(visible(&wb));
        }
        let wb: calamine::Xlsx<_> = calamine::open_workbook(path).map_err(xlsx_error)?;
        return Ok(visible(&wb));
    }
    if head.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        let wb = open_xls(path)?;
        return Ok(visible(&wb));
    }
    Ok(vec![csv_sheet_name(path)])
}

fn visible<RS: Read + Seek, R: Reader<RS>>(wb: &R) -> Vec<String> {
    wb.sheets_metadata()
        .iter()
        .filter(|s| {
            s.visible == calamine::SheetVisible::Visible && s.typ == calamine::SheetType::WorkSheet
        })
        .map(|s| s.name.clone())
        .collect()
}

fn csv_sheet_name(path: &Path) -> String {
    path.file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("csv")
        .to_string()
}

/// Read one sheet. `encoding` overrides CSV encoding detection (`gbk`, `utf-8`, `utf-16le`, …).
pub fn read(path: &Path, sheet: SheetPick, encoding: Option<&str>) -> Result<Table> {
    without_panics(|| read_any(path, sheet, encoding))
}

fn read_any(path: &Path, sheet: SheetPick, encoding: Option<&str>) -> Result<Table> {
    let (head, _) = sniff(path)?;
    if head.starts_with(b"PK\x03\x04") {
        check_zip(path)?;
        if is_ods(path)? {
            let mut wb: calamine::Ods<_> = calamine::open_workbook(path).map_err(unreadable)?;
            let names = visible(&wb);
            let name = pick(&names, &sheet)?;
            let range = wb.worksheet_range(&name).map_err(unreadable)?;
            return Ok(from_range(FileFormat::Ods, names, name, range, false));
        }
        return read_xlsx(path, sheet);
    }
    if head.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        let mut wb = open_xls(path)?;
        let names = visible(&wb);
        let name = pick(&names, &sheet)?;
        let range = wb.worksheet_range(&name).map_err(xls_error)?;
        return Ok(from_range(FileFormat::Xls, names, name, range, false));
    }
    if matches!(ext(path).as_str(), "xlsx" | "xlsm" | "xls" | "ods") {
        // Named like a workbook but not one: a renamed text file, a PDF, …
        if looks_binary(&head) || std::str::from_utf8(&head).is_err() {
            return Err(file_error(
                format!("“{}”不是 Excel 工作簿（文件内容与扩展名不符）。请确认选择了正确的文件。", file_name(path)),
                format!("“{}” is not an Excel workbook (its content does not match its extension). Check that you picked the right file.", file_name(path)),
            ));
        }
    }
    read_csv(path, encoding)
}

fn looks_binary(head: &[u8]) -> bool {
    head.iter()
        .any(|&b| b == 0 || (b < 0x09) || (0x0E..0x1B).contains(&b))
}

pub fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn pick(names: &[String], sheet: &SheetPick) -> Result<String> {
    match sheet {
        SheetPick::Named(n) => {
            if let Some(s) = names.iter().find(|s| s.as_str() == *n) {
                return Ok(s.clone());
            }
            if let Ok(i) = n.parse::<usize>() {
                if i >= 1 && i <= names.len() {
                    return Ok(names[i - 1].clone());
                }
            }
            Err(Error::validation(
                "sheet",
                format!("找不到工作表“{n}”，文件中的工作表：{}", names.join("、")),
                format!("No sheet named “{n}”; the sheets are: {}", names.join(", ")),
            ))
        }
        SheetPick::First => names.first().cloned().ok_or_else(|| {
            file_error(
                "文件中没有可读取的工作表",
                "The file has no worksheet to read",
            )
        }),
    }
}

fn is_ods(path: &Path) -> Result<bool> {
    let f = std::fs::File::open(path)?;
    let mut z = zip::ZipArchive::new(std::io::BufReader::new(f)).map_err(unreadable)?;
    let mime = match z.by_name("mimetype") {
        Ok(mut m) => {
            let mut s = String::new();
            let _ = m.by_ref().take(200).read_to_string(&mut s);
            s
        }
        Err(_) => String::new(),
    };
    Ok(mime.contains("opendocument.spreadsheet"))
}

/// Refuse a zip container whose entries declare more than the limit, or
/// that is encrypted.
fn check_zip(path: &Path) -> Result<()> {
    let f = std::fs::File::open(path)?;
    let mut z = zip::ZipArchive::new(std::io::BufReader::new(f)).map_err(unreadable)?;
    let mut total: u64 = 0;
    for i in 0..z.len() {
        let e = z.by_index_raw(i).map_err(unreadable)?;
        if e.encrypted() {
            return Err(password_protected());
        }
        total = total.saturating_add(e.size());
        if e.size() > 32 << 20 && e.size() / e.compressed_size().max(1) > 100 {
            return Err(too_large(
                "压缩比异常，疑似压缩炸弹",
                "abnormal compression ratio, likely a zip bomb",
            ));
        }
    }
    if total > MAX_UNZIPPED_BYTES {
        return Err(too_large(
            &format!(
                "解压后 {} MB，上限 {} MB",
                total >> 20,
                MAX_UNZIPPED_BYTES >> 20
            ),
            &format!(
                "{} MB uncompressed, limit {} MB",
                total >> 20,
                MAX_UNZIPPED_BYTES >> 20
            ),
        ));
    }
    Ok(())
}

fn open_xls(path: &Path) -> Result<calamine::Xls<std::io::BufReader<std::fs::File>>> {
    // An encrypted xlsx is a CFB container too, holding EncryptionInfo.
    let raw = std::fs::read(path)?;
    if find(&raw, &utf16("EncryptionInfo")) || find(&raw, &utf16("EncryptedPackage")) {
        return Err(password_protected());
    }
    calamine::open_workbook(path).map_err(xls_error)
}

fn utf16(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(|u| u.to_le_bytes()).collect()
}

fn find(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

fn xls_error(e: calamine::XlsError) -> Error {
    match e {
        calamine::XlsError::Password => password_protected(),
        e => unreadable(e),
    }
}

fn xlsx_error(e: calamine::XlsxError) -> Error {
    match e {
        calamine::XlsxError::Password => password_protected(),
        e => unreadable(e),
    }
}

fn from_range(
    format: FileFormat,
    names: Vec<String>,
    sheet: String,
    range: calamine::Range<Data>,
    date1904: bool,
) -> Table {
    let mut rows = Vec::with_capacity(range.height().min(MAX_ROWS));
    // Rows before the range's start (it may begin at row 3).
    let (r0, c0) = range.start().unwrap_or((0, 0));
    for _ in 0..r0 {
        rows.push(vec![]);
    }
    for row in range.rows().take(MAX_ROWS) {
        let mut out: Vec<Cell> = vec![Cell::Empty; c0 as usize];
        out.extend(row.iter().take(MAX_COLS).map(cell_of_data));
        trim_row(&mut out);
        rows.push(out);
    }
    Table {
        format,
        sheet_names: names,
        sheet,
        rows,
        date1904,
        encoding: None,
    }
}

fn trim_row(r: &mut Vec<Cell>) {
    while r.last().is_some_and(|c| matches!(c, Cell::Empty)) {
        r.pop();
    }
    r.truncate(MAX_COLS);
}

fn dt(d: &calamine::ExcelDateTime) -> Cell {
    let (y, m, day, h, mi, s, _) = d.to_ymd_hms_milli();
    match NaiveDate::from_ymd_opt(y as i32, m as u32, day as u32)
        .and_then(|x| x.and_hms_opt(h as u32, mi as u32, s as u32))
    {
        Some(v) => Cell::Date(v),
        None => Cell::Number(d.as_f64()),
    }
}

fn iso(s: &str) -> Cell {
    if let Ok(v) = NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f") {
        return Cell::Date(v);
    }
    if let Ok(v) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Cell::Date(v.and_hms_opt(0, 0, 0).unwrap_or_default());
    }
    Cell::Text(s.to_string())
}

fn cell_of_data(d: &Data) -> Cell {
    match d {
        Data::Empty => Cell::Empty,
        Data::String(s) => Cell::Text(s.clone()),
        Data::Int(i) => Cell::Number(*i as f64),
        Data::Float(f) => Cell::Number(*f),
        Data::Bool(b) => Cell::Bool(*b),
        Data::DateTime(d) => dt(d),
        Data::DateTimeIso(s) => iso(s),
        Data::DurationIso(s) => Cell::Text(s.clone()),
        Data::Error(_) => Cell::Empty,
    }
}

fn cell_of_ref(d: DataRef) -> Cell {
    match d {
        DataRef::Empty => Cell::Empty,
        DataRef::String(s) => Cell::Text(s),
        DataRef::SharedString(s) => Cell::Text(s.to_string()),
        DataRef::Int(i) => Cell::Number(i as f64),
        DataRef::Float(f) => Cell::Number(f),
        DataRef::Bool(b) => Cell::Bool(b),
        DataRef::DateTime(d) => dt(&d),
        DataRef::DateTimeIso(s) => iso(&s),
        DataRef::DurationIso(s) => Cell::Text(s),
        DataRef::Error(_) => Cell::Empty,
    }
}

/// Stream the cells of an xlsx sheet: memory follows the cells present,
/// never the range the sheet declares.
fn read_xlsx(path: &Path, sheet: SheetPick) -> Result<Table> {
    let mut wb: calamine::Xlsx<_> = calamine::open_workbook(path).map_err(xlsx_error)?;
    let names = visible(&wb);
    let name = pick(&names, &sheet)?;
    let date1904 = wb.has_1904_epoch();
    let mut rows: Vec<Vec<Cell>> = Vec::new();
    let mut text_bytes = 0usize;
    {
        let mut cells = wb.worksheet_cells_reader(&name).map_err(xlsx_error)?;
        while let Some(c) = cells.next_cell().map_err(xlsx_error)? {
            let (r, col) = c.get_position();
            let (r, col) = (r as usize, col as usize);
            if r >= MAX_ROWS {
                return Err(too_large("超过 1048576 行", "more than 1,048,576 rows"));
            }
            if col >= MAX_COLS {
                continue;
            }
            let v = cell_of_ref(c.get_value().clone());
            if matches!(v, Cell::Empty) {
                continue;
            }
            if let Cell::Text(s) = &v {
                text_bytes += s.len();
                if text_bytes > MAX_TEXT_BYTES {
                    return Err(too_large("文字内容超过 512 MB", "more than 512 MB of text"));
                }
            }
            if rows.len() <= r {
                rows.resize_with(r + 1, Vec::new);
            }
            let row = &mut rows[r];
            if row.len() <= col {
                row.resize(col + 1, Cell::Empty);
            }
            row[col] = v;
        }
    }
    Ok(Table {
        format: FileFormat::Xlsx,
        sheet_names: names,
        sheet: name,
        rows,
        date1904,
        encoding: None,
    })
}

/// Decode CSV bytes: a BOM wins, then the override, then valid UTF-8, then
/// UTF-16 without BOM (many NUL bytes), then a guess (GB18030 for Chinese
/// text, which also covers GBK).
pub fn decode(
    bytes: &[u8],
    encoding: Option<&str>,
) -> Result<(String, &'static encoding_rs::Encoding)> {
    use encoding_rs::{Encoding, GB18030, UTF_16BE, UTF_16LE, UTF_8};
    if let Some(label) = encoding.map(str::trim).filter(|l| !l.is_empty()) {
        let enc = match label.to_ascii_lowercase().as_str() {
            "gbk" | "gb2312" | "gb18030" | "cp936" => GB18030,
            "utf16" | "utf-16" => UTF_16LE,
            l => Encoding::for_label(l.as_bytes()).ok_or_else(|| {
                Error::validation(
                    "encoding",
                    format!("不认识的编码“{label}”，可用：utf-8、gbk、gb18030、utf-16le、utf-16be"),
                    format!(
                        "Unknown encoding “{label}”; use utf-8, gbk, gb18030, utf-16le or utf-16be"
                    ),
                )
            })?,
        };
        let (text, _, _) = enc.decode(bytes);
        return Ok((text.into_owned(), enc));
    }
    if let Some((enc, _)) = Encoding::for_bom(bytes) {
        let (text, _, _) = enc.decode(bytes);
        return Ok((text.into_owned(), enc));
    }
    if let Ok(s) = std::str::from_utf8(bytes) {
        return Ok((s.to_string(), UTF_8));
    }
    let sample = &bytes[..bytes.len().min(4096)];
    let even_nul = sample.iter().step_by(2).filter(|&&b| b == 0).count();
    let odd_nul = sample
        .iter()
        .skip(1)
        .step_by(2)
        .filter(|&&b| b == 0)
        .count();
    // GBK and UTF-8 text never hold NUL bytes; UTF-16 does (in every ASCII
    // character, such as the delimiters and line ends).
    if even_nul + odd_nul > 0 {
        let enc = if odd_nul >= even_nul {
            UTF_16LE
        } else {
            UTF_16BE
        };
        return Ok((enc.decode_without_bom_handling(bytes).0.into_owned(), enc));
    }
    let mut det = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
    det.feed(bytes, true);
    let mut enc = det.guess(Some(b"cn"), chardetng::Utf8Detection::Deny);
    if enc == encoding_rs::GBK || enc == UTF_8 {
        enc = GB18030;
    }
    let (text, _, _) = enc.decode(bytes);
    Ok((text.into_owned(), enc))
}

fn read_csv(path: &Path, encoding: Option<&str>) -> Result<Table> {
    let bytes = std::fs::read(path)?;
    let (text, enc) = decode(&bytes, encoding)?;
    drop(bytes);
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let first_line = text.lines().next().unwrap_or("");
    let delim = if ext(path) == "tsv" {
        b'\t'
    } else {
        let counts = [b',', b'\t', b';'].map(|d| (first_line.matches(d as char).count(), d));
        counts
            .iter()
            .max_by_key(|c| c.0)
            .filter(|c| c.0 > 0)
            .map(|c| c.1)
            .unwrap_or(b',')
    };
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delim)
        .from_reader(text.as_bytes());
    let mut rows = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(unreadable)?;
        if rows.len() >= MAX_ROWS {
            return Err(too_large("超过 1048576 行", "more than 1,048,576 rows"));
        }
        let mut row: Vec<Cell> = rec
            .iter()
            .take(MAX_COLS)
            .map(|s| {
                if s.is_empty() {
                    Cell::Empty
                } else {
                    Cell::Text(s.to_string())
                }
            })
            .collect();
        trim_row(&mut row);
        rows.push(row);
    }
    Ok(Table {
        format: FileFormat::Csv,
        sheet_names: vec![csv_sheet_name(path)],
        sheet: csv_sheet_name(path),
        rows,
        date1904: false,
        encoding: Some(enc.name().to_string()),
    })
}

/// A raw number in a date column: an Excel serial in the workbook's system.
pub fn serial_to_date(serial: f64, date1904: bool) -> Option<NaiveDateTime> {
    if !(1.0..2_958_466.0).contains(&serial) {
        return None;
    }
    let epoch = if date1904 {
        NaiveDate::from_ymd_opt(1904, 1, 1)?
    } else if serial < 61.0 {
        // Excel's fictitious 1900-02-29: serials before it are off by one.
        NaiveDate::from_ymd_opt(1899, 12, 31)?
    } else {
        NaiveDate::from_ymd_opt(1899, 12, 30)?
    };
    let days = serial.floor() as i64;
    let secs = ((serial - serial.floor()) * 86400.0).round() as i64;
    epoch
        .and_hms_opt(0, 0, 0)?
        .checked_add_signed(chrono::Duration::days(days) + chrono::Duration::seconds(secs))
}
