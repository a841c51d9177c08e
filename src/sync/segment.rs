//! The file format of team sync. A segment holds change-log entries of one
//! device; a bundle (USB / e-mail) holds sections of several devices. Both:
//!
//! ```text
//! KEHU-SYNC <format>\n         format version, readable before anything else
//! <header JSON>\n              kind, sections (device, prev_hlc, hlc range, count)
//! <zstd of JSON lines>         one entry per line, sections in order;
//!                              `h` is the step from the entry before it
//!                              in its section (format 1: deflate and
//!                              whole stamps; still read)
//! <32 bytes SHA-256>           of everything before it
//! ```
//!
//! Files are written to a temporary name, fsynced and renamed, so a reader
//! sees a whole file or none; a truncated, partly synced or bit-flipped file
//! fails the checksum and is skipped.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::path::Path;

/// The format this build writes and the newest it reads. 2: the body is
/// zstd and stamps are steps (a 7-digit step compresses better than a
/// 18-digit stamp: 5% smaller files); 1: deflate, whole stamps.
pub const FORMAT: u32 = 2;
/// zstd level of the body: measured on 20k demo customers' change log,
/// level 12 gives 73% of deflate's size at about 30 MB/s of JSON per core;
/// higher levels cost 4–30 times the time for a few percent more.
const ZSTD_LEVEL: i32 = 12;
const MAGIC: &str = "KEHU-SYNC";

/// One change-log entry as it travels between devices.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    #[serde(rename = "h")]
    pub hlc: i64,
    #[serde(rename = "a", default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    #[serde(rename = "e")]
    pub entity: String,
    #[serde(rename = "i")]
    pub entity_id: String,
    #[serde(rename = "f")]
    pub field: String,
    #[serde(rename = "o", default, skip_serializing_if = "Option::is_none")]
    pub old: Option<Value>,
    #[serde(rename = "n", default, skip_serializing_if = "Option::is_none")]
    pub new: Option<Value>,
    #[serde(rename = "t")]
    pub at: i64,
    #[serde(rename = "g")]
    pub origin: String,
    #[serde(rename = "bh", default, skip_serializing_if = "Option::is_none")]
    pub base_hlc: Option<i64>,
    #[serde(rename = "bd", default, skip_serializing_if = "Option::is_none")]
    pub base_device: Option<String>,
}

/// An entry as format 2 writes it: `h` is the step from the previous entry
/// of its section.
#[derive(Serialize)]
struct WireEntry<'a> {
    h: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    a: Option<&'a str>,
    e: &'a str,
    i: &'a str,
    f: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    o: Option<&'a Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    n: Option<&'a Value>,
    t: i64,
    g: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    bh: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bd: Option<&'a str>,
}

/// The entries of one device, continuing from `prev_hlc` (the last stamp of
/// the previous segment of that device; 0 = from its first entry).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Section {
    pub device: String,
    pub prev_hlc: i64,
    pub hlc_from: i64,
    pub hlc_to: i64,
    pub count: usize,
    #[serde(skip)]
    pub entries: Vec<Entry>,
    /// The entries still as text, in a file opened by [`decode_lazy`]
    /// (`entries` is empty then).
    #[serde(skip)]
    pub lines: Option<Lines>,
}

impl Section {
    /// How many entries it carries, parsed or not.
    pub fn entry_count(&self) -> usize {
        match self.lines {
            Some(_) => self.count,
            None => self.entries.len(),
        }
    }
}

/// The `count` JSON lines of one section's entries within a decompressed
/// body, parsed on demand.
#[derive(Debug, Clone, PartialEq)]
pub struct Lines {
    text: std::sync::Arc<String>,
    start: usize,
    end: usize,
    /// Stamps are steps from the entry before (format 2).
    steps: bool,
}

impl Lines {
    /// Parse the entries in order and hand them to `take` in batches of up
    /// to `batch`; stops early when `take` returns false.
    pub fn parse(
        &self,
        batch: usize,
        mut take: impl FnMut(Vec<Entry>) -> bool,
    ) -> std::result::Result<(), Bad> {
        let mut prev = 0;
        let mut out = Vec::with_capacity(batch.min(1 << 16));
        for line in self.text[self.start..self.end].split_terminator('\n') {
            let mut e: Entry =
                serde_json::from_str(line).map_err(|e| Bad::Damaged(format!("entry: {e}")))?;
            if self.steps {
                e.hlc += prev;
                prev = e.hlc;
            }
            out.push(e);
            if out.len() >= batch && !take(std::mem::take(&mut out)) {
                return Ok(());
            }
        }
        if !out.is_empty() {
            take(out);
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Header {
    kind: String,
    written_by: String,
    schema_version: i64,
    sections: Vec<Section>,
}

/// Why a file could not be read.
#[derive(Debug, Clone, PartialEq)]
pub enum Bad {
    /// Written by a newer Kehu; not an error of the file.
    NewerFormat(u32),
    /// Not a sync file, truncated or damaged.
    Damaged(String),
}

impl Bad {
    pub fn message(&self) -> String {
        match self {
            Bad::NewerFormat(v) => format!(
                "由更新版本的 Kehu 写入（格式 {v}），请升级 Kehu / written by a newer Kehu (format {v}): update Kehu"
            ),
            Bad::Damaged(why) => format!("文件损坏或不完整 / damaged or incomplete file: {why}"),
        }
    }
}

/// Encode sections into the bytes of one file.
pub fn encode(kind: &str, written_by: &str, sections: &[Section]) -> Result<Vec<u8>> {
    let header = Header {
        kind: kind.into(),
        written_by: written_by.into(),
        schema_version: crate::db::schema_version(),
        sections: sections.to_vec(),
    };
    let mut out = format!("{MAGIC} {FORMAT}\n").into_bytes();
    serde_json::to_writer(&mut out, &header)?;
    out.push(b'\n');
    let mut body = Vec::with_capacity(sections.iter().map(|s| s.entries.len() * 160).sum());
    for s in sections {
        let mut prev = 0;
        for e in &s.entries {
            let wire = WireEntry {
                h: e.hlc - prev,
                a: e.actor.as_deref(),
                e: &e.entity,
                i: &e.entity_id,
                f: &e.field,
                o: e.old.as_ref(),
                n: e.new.as_ref(),
                t: e.at,
                g: &e.origin,
                bh: e.base_hlc,
                bd: e.base_device.as_deref(),
            };
            prev = e.hlc;
            serde_json::to_writer(&mut body, &wire)?;
            body.push(b'\n');
        }
    }
    let mut z = zstd::stream::write::Encoder::new(out, ZSTD_LEVEL)?;
    if body.len() > 4 << 20 {
        // A snapshot or a big first send: both cores.
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        z.multithread(cores.min(4) as u32)?;
    }
    z.write_all(&body)?;
    let mut out = z.finish()?;
    let sum = Sha256::digest(&out);
    out.extend_from_slice(&sum);
    Ok(out)
}

/// Decode a file; the checksum is checked before anything is parsed.
pub fn decode(bytes: &[u8]) -> std::result::Result<(String, Vec<Section>), Bad> {
    let (kind, mut sections) = decode_lazy(bytes)?;
    for s in &mut sections {
        if let Some(lines) = s.lines.take() {
            lines.parse(usize::MAX, |entries| {
                s.entries = entries;
                true
            })?;
        }
    }
    Ok((kind, sections))
}

/// Check and decompress a file, leaving each section's entries as text
/// ([`Section::lines`]): a big file (a snapshot) is then parsed on a second
/// thread while the merge applies what is already parsed. The checksum and
/// the number of lines are checked here; a line that does not parse can
/// only come from a file that passed the checksum yet was not written by
/// Kehu, and fails the merge (nothing is applied).
pub fn decode_lazy(bytes: &[u8]) -> std::result::Result<(String, Vec<Section>), Bad> {
    let nl = bytes
        .iter()
        .position(|&b| b == b'\n')
        .filter(|&n| n < 64)
        .ok_or_else(|| Bad::Damaged("no header".into()))?;
    let first = std::str::from_utf8(&bytes[..nl]).map_err(|_| Bad::Damaged("no header".into()))?;
    let version: u32 = first
        .strip_prefix(MAGIC)
        .map(str::trim)
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| Bad::Damaged("not a Kehu sync file".into()))?;
    if version > FORMAT {
        return Err(Bad::NewerFormat(version));
    }
    if bytes.len() < nl + 1 + 32 {
        return Err(Bad::Damaged("truncated".into()));
    }
    let (content, sum) = bytes.split_at(bytes.len() - 32);
    if Sha256::digest(content).as_slice() != sum {
        return Err(Bad::Damaged("checksum mismatch".into()));
    }
    let rest = &content[nl + 1..];
    let hl = rest
        .iter()
        .position(|&b| b == b'\n')
        .ok_or_else(|| Bad::Damaged("no header".into()))?;
    let header: Header =
        serde_json::from_slice(&rest[..hl]).map_err(|e| Bad::Damaged(format!("header: {e}")))?;
    let mut text = String::with_capacity(rest.len() * 8);
    let body = &rest[hl + 1..];
    let read = if version >= 2 {
        zstd::stream::read::Decoder::new(body).and_then(|mut d| d.read_to_string(&mut text))
    } else {
        flate2::read::DeflateDecoder::new(body).read_to_string(&mut text)
    };
    read.map_err(|e| Bad::Damaged(format!("body: {e}")))?;
    // Where each section's lines are: `count` lines each, in order.
    let mut bounds = Vec::with_capacity(header.sections.len());
    let mut at = 0;
    for s in &header.sections {
        let start = at;
        for _ in 0..s.count {
            if at >= text.len() {
                return Err(Bad::Damaged("fewer entries than the header says".into()));
            }
            at = text[at..].find('\n').map_or(text.len(), |n| at + n + 1);
        }
        bounds.push((start, at));
    }
    let text = std::sync::Arc::new(text);
    let mut sections = header.sections;
    for (s, (start, end)) in sections.iter_mut().zip(bounds) {
        s.lines = Some(Lines {
            text: text.clone(),
            start,
            end,
            steps: version >= 2,
        });
    }
    Ok((header.kind, sections))
}

/// Write `bytes` to `path` atomically: temporary file in the same folder,
/// fsync, rename, fsync the folder.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, path)?;
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Copies made by file-sync engines when two machines wrote one file:
/// Dropbox/OneDrive `(conflicted copy …)`, Syncthing `.sync-conflict-…`,
/// Nextcloud/ownCloud `(conflict …)`, and temporary files.
pub fn is_conflict_copy(name: &str) -> bool {
    let n = name.to_lowercase();
    n.contains("conflicted copy")
        || n.contains(".sync-conflict-")
        || n.contains("(conflict")
        || n.contains("冲突")
        || n.starts_with('.')
        || n.ends_with(".tmp")
        || n.starts_with("~$")
}

impl From<Bad> for Error {
    fn from(b: Bad) -> Self {
        match b {
            Bad::NewerFormat(v) => Error::sync(
                format!("同步文件由更新版本的 Kehu 写入（格式 {v}），请升级 Kehu。"),
                format!(
                    "The sync file was written by a newer Kehu (format {v}). Please update Kehu."
                ),
            ),
            Bad::Damaged(why) => Error::sync(
                format!("同步文件损坏或不完整：{why}"),
                format!("The sync file is damaged or incomplete: {why}"),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn section() -> Section {
        let e = Entry {
            hlc: 5 << 16,
            actor: None,
            entity: "customer".into(),
            entity_id: "x".into(),
            field: "name".into(),
            old: Some(Value::from("甲")),
            new: Some(Value::from("乙")),
            at: 5,
            origin: "ui".into(),
            base_hlc: Some(1),
            base_device: Some("d".into()),
        };
        Section {
            device: "d".into(),
            prev_hlc: 0,
            hlc_from: e.hlc,
            hlc_to: e.hlc,
            count: 1,
            entries: vec![e],
            lines: None,
        }
    }

    #[test]
    fn a_segment_round_trips() {
        let bytes = encode("segment", "d", &[section()]).unwrap();
        let (kind, s) = decode(&bytes).unwrap();
        assert_eq!(kind, "segment");
        assert_eq!(s, vec![section()]);
        assert_eq!(s[0].entries, section().entries);
    }

    #[test]
    fn stamps_written_as_steps_come_back_whole_in_every_section() {
        let mut other = section();
        other.device = "e".into();
        let one = other.entries[0].clone();
        other.entries = [9 << 16, (9 << 16) + 1, 12 << 16]
            .into_iter()
            .map(|hlc| Entry { hlc, ..one.clone() })
            .collect();
        other.count = 3;
        let both = [section(), other];
        let (_, s) = decode(&encode("bundle", "d", &both).unwrap()).unwrap();
        assert_eq!(s[0].entries, both[0].entries);
        assert_eq!(s[1].entries, both[1].entries);
    }

    /// The first two lines of a file: format and header.
    fn head(format: u32, kind: &str, sections: &[Section]) -> Vec<u8> {
        let header = Header {
            kind: kind.into(),
            written_by: "d".into(),
            schema_version: 14,
            sections: sections.to_vec(),
        };
        let mut out = format!("{MAGIC} {format}\n").into_bytes();
        serde_json::to_writer(&mut out, &header).unwrap();
        out.push(b'\n');
        out
    }

    /// A format 2 file around any body text, with a valid checksum.
    fn seal(sections: &[Section], body: &str) -> Vec<u8> {
        let mut out = head(2, "snapshot", sections);
        out.extend(zstd::stream::encode_all(body.as_bytes(), 3).unwrap());
        let sum = Sha256::digest(&out);
        out.extend_from_slice(&sum);
        out
    }

    #[test]
    fn a_lazily_decoded_file_gives_the_same_entries_in_batches() {
        let mut other = section();
        other.device = "e".into();
        let one = other.entries[0].clone();
        other.entries = (0..5)
            .map(|i| Entry {
                hlc: (9 << 16) + i,
                ..one.clone()
            })
            .collect();
        other.count = 5;
        let both = [section(), other];
        let bytes = encode("snapshot", "d", &both).unwrap();
        let (_, lazy) = decode_lazy(&bytes).unwrap();
        for (s, want) in lazy.iter().zip(&both) {
            assert!(s.entries.is_empty());
            assert_eq!(s.entry_count(), want.count);
            let mut got = vec![];
            let mut batches = 0;
            s.lines
                .as_ref()
                .unwrap()
                .parse(2, |b| {
                    assert!(b.len() <= 2);
                    batches += 1;
                    got.extend(b);
                    true
                })
                .unwrap();
            assert_eq!(got, want.entries);
            assert_eq!(batches, want.count.div_ceil(2));
        }
    }

    #[test]
    fn a_lazy_file_with_missing_lines_is_refused_and_a_bad_line_fails_its_parse() {
        let mut two = section();
        two.count = 2;
        let line = serde_json::to_string(&two.entries[0]).unwrap();
        // One line where the header promises two: refused before any merge.
        let short = seal(std::slice::from_ref(&two), &format!("{line}\n"));
        assert!(matches!(decode_lazy(&short), Err(Bad::Damaged(_))));
        // Two lines, the second not an entry: found when parsed, after the
        // first was handed over.
        let bad = seal(std::slice::from_ref(&two), &format!("{line}\nnot json\n"));
        let (_, lazy) = decode_lazy(&bad).unwrap();
        let mut got = 0;
        let parsed = lazy[0].lines.as_ref().unwrap().parse(1, |b| {
            got += b.len();
            true
        });
        assert!(matches!(parsed, Err(Bad::Damaged(_))));
        assert_eq!(got, 1);
        assert!(decode(&bad).is_err(), "the eager decode refuses it at once");
    }

    /// A file as format 1 wrote it: the same layout with a deflate body.
    fn encode_format1(sections: &[Section]) -> Vec<u8> {
        let out = head(1, "segment", sections);
        let mut z = flate2::write::DeflateEncoder::new(out, flate2::Compression::new(6));
        for e in &sections[0].entries {
            serde_json::to_writer(&mut z, e).unwrap();
            z.write_all(b"\n").unwrap();
        }
        let mut out = z.finish().unwrap();
        let sum = Sha256::digest(&out);
        out.extend_from_slice(&sum);
        out
    }

    #[test]
    fn a_file_of_format_1_from_an_earlier_version_is_still_read() {
        let (kind, s) = decode(&encode_format1(&[section()])).unwrap();
        assert_eq!(kind, "segment");
        assert_eq!(s[0].entries, section().entries);
    }

    #[test]
    fn a_large_file_compressed_on_several_threads_round_trips() {
        let mut big = section();
        let one = big.entries[0].clone();
        big.entries = (0..60_000)
            .map(|i| Entry {
                hlc: one.hlc + i,
                entity_id: format!("customer-{i}"),
                new: Some(Value::from(format!("客户 {i} 的名称"))),
                ..one.clone()
            })
            .collect();
        big.count = big.entries.len();
        let bytes = encode("snapshot", "d", std::slice::from_ref(&big)).unwrap();
        assert!(bytes.starts_with(b"KEHU-SYNC 2\n"));
        let (_, s) = decode(&bytes).unwrap();
        assert_eq!(s[0].entries, big.entries);
    }

    #[test]
    fn every_single_bit_flip_and_every_truncation_is_detected() {
        let bytes = encode("segment", "d", &[section()]).unwrap();
        for i in 0..bytes.len() {
            for bit in [0, 3, 7] {
                let mut b = bytes.clone();
                b[i] ^= 1 << bit;
                assert!(decode(&b).is_err(), "flip at byte {i} bit {bit} undetected");
            }
            assert!(decode(&bytes[..i]).is_err(), "truncation to {i} undetected");
        }
    }

    #[test]
    fn a_newer_format_is_named_not_treated_as_damage() {
        let mut bytes = encode("segment", "d", &[section()]).unwrap();
        bytes[10] = b'9';
        assert_eq!(decode(&bytes), Err(Bad::NewerFormat(9)));
    }

    #[test]
    fn conflict_copies_are_recognised() {
        assert!(is_conflict_copy(
            "0001-0002 (conflicted copy 2026-11-26).kseg"
        ));
        assert!(is_conflict_copy(
            "0001-0002.sync-conflict-20261126-101010-ABCDEF.kseg"
        ));
        assert!(!is_conflict_copy("00000000000000a1-00000000000000b2.kseg"));
    }
}
