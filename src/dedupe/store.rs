//! Duplicates in the workspace: the live "可能重复" hint for a customer
//! being typed, the full scan, and remembered decisions.

use super::normalize::normalize_name;
use super::score::{prepare, score, Prepared, Reason, Settings};
use super::Record;
use crate::db::Workspace;
use crate::error::{Error, Result};
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use ts_rs::TS;

/// A customer not yet saved (or being edited), as typed so far.
#[derive(Debug, Clone, Default, serde::Deserialize, TS)]
#[serde(default)]
#[ts(export, rename = "DupDraft")]
pub struct Draft {
    pub name: String,
    pub mobiles: Vec<String>,
    pub emails: Vec<String>,
    pub contacts: Vec<String>,
    /// Province / city as typed or picked.
    pub region: String,
    /// The customer being edited, never its own duplicate.
    pub exclude: Option<String>,
}

/// An existing customer that may be the one being typed.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export, rename = "DupCandidate")]
pub struct Candidate {
    pub customer_id: String,
    pub code: String,
    pub name: String,
    pub score: f32,
    pub reasons: Vec<Reason>,
}

/// Two customers of a group and why they match.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct DupPair {
    pub a: String,
    pub b: String,
    pub score: f32,
    pub reasons: Vec<Reason>,
}

/// Customers that are likely one company.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct DupGroup {
    pub members: Vec<String>,
    /// The best pair score in the group.
    pub score: f32,
    /// The pairs that explain the group, best first: each member appears in
    /// at least one (not every pair of a large group).
    pub pairs: Vec<DupPair>,
}

/// What a scan found.
#[derive(Debug, Clone, Default, Serialize, TS)]
#[ts(export, rename = "DupScanResult")]
pub struct ScanResult {
    pub groups: Vec<DupGroup>,
    /// Customers looked at.
    pub customers: usize,
    /// Pairs scored (blocking keeps this near-linear).
    pub compared: usize,
    /// The scan was cancelled; `groups` is empty.
    pub cancelled: bool,
}

/// The duplicate settings of this workspace (`settings` key `dedupe`), or
/// the defaults.
pub fn settings(conn: &Connection) -> Result<Settings> {
    let v: Option<String> = conn
        .query_row("SELECT value FROM settings WHERE key = 'dedupe'", [], |r| {
            r.get(0)
        })
        .optional()?;
    Ok(v.and_then(|v| serde_json::from_str(&v).ok())
        .unwrap_or_default())
}

/// Refresh the blocking keys of one customer's name (called with its
/// search document, inside the write that changed it).
pub fn index_name(conn: &Connection, customer_id: &str, name: &str) -> Result<()> {
    store_name_keys(conn, customer_id, &name_keys_of(name))
}

/// The blocking keys of a name and the text that orders a block's members:
/// pure work, so a bulk write can compute them off the writing thread.
#[derive(Debug, Clone, Default)]
pub struct NameKeys {
    sort: String,
    keys: Vec<String>,
}

pub fn name_keys_of(name: &str) -> NameKeys {
    let p = prepare(&Record {
        name: name.to_string(),
        ..Default::default()
    });
    NameKeys {
        sort: super::block::sort_text(&p.syllables),
        keys: super::block::name_keys(&p),
    }
}

pub fn store_name_keys(conn: &Connection, customer_id: &str, k: &NameKeys) -> Result<()> {
    unindex_name(conn, customer_id)?;
    let mut stmt = conn.prepare_cached(
        "INSERT OR IGNORE INTO dedupe_keys(key, sort, customer_id) VALUES (?1, ?2, ?3)",
    )?;
    for key in &k.keys {
        stmt.execute(params![key, k.sort, customer_id])?;
    }
    Ok(())
}

/// The name keys of many customers (a bulk write, each customer once),
/// written in key order: they arrive in random key order, and inserting them
/// one by one into a keys B-tree larger than the page cache cost more than
/// sorting them first.
#[derive(Default)]
pub struct NameKeyBatch(Vec<(String, String, String)>);

impl NameKeyBatch {
    /// Keys written at once: sorted runs of 50k are as fast as one run, in
    /// bounded memory.
    const RUN: usize = 50_000;

    /// Replace a customer's keys: the old ones go now, the new ones with the
    /// next run, or at [`NameKeyBatch::write`].
    pub fn replace(&mut self, conn: &Connection, customer_id: &str, k: &NameKeys) -> Result<()> {
        unindex_name(conn, customer_id)?;
        for key in &k.keys {
            self.0
                .push((key.clone(), k.sort.clone(), customer_id.to_string()));
        }
        if self.0.len() >= Self::RUN {
            self.write(conn)?;
        }
        Ok(())
    }

    pub fn write(&mut self, conn: &Connection) -> Result<()> {
        self.0.sort_unstable();
        let mut stmt = conn.prepare_cached(
            "INSERT OR IGNORE INTO dedupe_keys(key, sort, customer_id) VALUES (?1, ?2, ?3)",
        )?;
        for (key, sort, customer_id) in self.0.drain(..) {
            stmt.execute(params![key, sort, customer_id])?;
        }
        Ok(())
    }
}

pub fn unindex_name(conn: &Connection, customer_id: &str) -> Result<()> {
    conn.prepare_cached("DELETE FROM dedupe_keys WHERE customer_id = ?1")?
        .execute([customer_id])?;
    Ok(())
}

/// Keys for every customer (a new schema, a rebuilt search index).
pub fn index_all_names(conn: &Connection) -> Result<usize> {
    conn.execute("DELETE FROM dedupe_keys", [])?;
    let rows: Vec<(String, String)> = conn
        .prepare("SELECT id, name FROM customers")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    for (id, name) in &rows {
        index_name(conn, id, name)?;
    }
    Ok(rows.len())
}

/// Save the duplicate settings (one change, synced like any setting). The
/// thresholds are what people tune; the weights are checked too, since a
/// CLI or a synced file can carry any number.
pub fn set_settings(ws: &mut Workspace, s: Settings) -> Result<()> {
    let unit = |v: f32| v.is_finite() && (0.0..=1.0).contains(&v);
    if !(unit(s.threshold) && s.threshold >= 0.5) {
        return Err(Error::validation(
            "threshold",
            "判定重复的分数要在 0.50 到 1.00 之间（默认 0.85，越高越严格）",
            "The duplicate threshold must be between 0.50 and 1.00 (default 0.85; higher is stricter)",
        ));
    }
    if !(unit(s.hint_threshold) && s.hint_threshold >= 0.3 && s.hint_threshold <= s.threshold) {
        return Err(Error::validation(
            "hint_threshold",
            "录入提示的分数要在 0.30 到判定重复的分数之间（默认 0.70）",
            "The hint threshold must be between 0.30 and the duplicate threshold (default 0.70)",
        ));
    }
    let weights = [
        s.phone_bonus,
        s.email_bonus,
        s.contact_bonus,
        s.region_bonus,
        s.region_penalty,
        s.place_penalty,
        s.branch_penalty,
    ];
    if !weights.into_iter().all(unit)
        || !(2..=1000).contains(&s.max_block)
        || !(1..=100).contains(&s.window)
    {
        return Err(Error::validation(
            "dedupe",
            "查重权重要在 0 到 1 之间，分块大小 2–1000，窗口 1–100",
            "Weights must be between 0 and 1, block size 2–1000, window 1–100",
        ));
    }
    let origin = ws.origin.clone();
    ws.write(&origin, |w| crate::settings::put(w, "dedupe", &s))
}

/// The matcher's view of stored customers: id, code, record.
pub(crate) fn load_records(
    conn: &Connection,
    ids: Option<&[String]>,
) -> Result<Vec<(String, String, Record)>> {
    let mut out: Vec<(String, String, Record)> = vec![];
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut add_row =
        |id: String, code: String, name: String, p: Option<String>, c: Option<String>| {
            let region = format!("{}{}", p.unwrap_or_default(), c.unwrap_or_default());
            index.insert(id.clone(), out.len());
            out.push((
                id,
                code,
                Record {
                    name,
                    region,
                    ..Default::default()
                },
            ));
        };
    match ids {
        None => {
            let mut stmt = conn.prepare(
                "SELECT id, code, name, province, city FROM customers WHERE deleted_at IS NULL",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })?;
            for row in rows {
                let (a, b, c, d, e) = row?;
                add_row(a, b, c, d, e);
            }
        }
        Some(ids) => {
            let mut stmt = conn.prepare_cached(
                "SELECT id, code, name, province, city FROM customers WHERE id = ?1 AND deleted_at IS NULL",
            )?;
            for id in ids {
                if let Some((a, b, c, d, e)) = stmt
                    .query_row([id], |r| {
                        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                    })
                    .optional()?
                {
                    add_row(a, b, c, d, e);
                }
            }
        }
    }
    let mut push_contact = |cid: String,
                            name: String,
                            mobile: Option<String>,
                            phone: Option<String>,
                            email: Option<String>| {
        if let Some(&i) = index.get(&cid) {
            let r = &mut out[i].2;
            r.contacts.push(name);
            r.mobiles.extend(mobile);
            r.mobiles.extend(phone);
            r.emails.extend(email);
        }
    };
    match ids {
        None => {
            let mut stmt = conn.prepare(
                "SELECT customer_id, name, mobile, phone, email FROM contacts WHERE deleted_at IS NULL",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })?;
            for row in rows {
                let (a, b, c, d, e) = row?;
                push_contact(a, b, c, d, e);
            }
        }
        Some(ids) => {
            let mut stmt = conn.prepare_cached(
                "SELECT customer_id, name, mobile, phone, email FROM contacts
                 WHERE customer_id = ?1 AND deleted_at IS NULL",
            )?;
            for id in ids {
                let rows = stmt.query_map([id], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                })?;
                for row in rows {
                    let (a, b, c, d, e) = row?;
                    push_contact(a, b, c, d, e);
                }
            }
        }
    }
    Ok(out)
}

/// Customer ids of a scan in one buffer (a million small strings would
/// cost more in allocation overhead than in text).
#[derive(Default)]
struct Ids {
    text: String,
    ends: Vec<u32>,
}

impl Ids {
    fn push(&mut self, id: &str) {
        self.text.push_str(id);
        self.ends.push(self.text.len() as u32);
    }
    fn get(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        &self.text[start..self.ends[i] as usize]
    }
}

fn pair_key(a: &str, b: &str) -> (String, String) {
    if a <= b {
        (a.to_string(), b.to_string())
    } else {
        (b.to_string(), a.to_string())
    }
}

fn decided_pairs(conn: &Connection) -> Result<HashSet<(String, String)>> {
    let mut stmt = conn.prepare("SELECT a, b FROM dedupe_decisions")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

fn fts_phrase(s: &str) -> String {
    format!("\"{}\"", s.replace('"', ""))
}

/// The best existing customers that may be the one being typed, with
/// score and reasons (at least the hint threshold), best first. Uses the
/// phone/email indexes and the pinyin in the search index, so it stays
/// fast on a large base.
pub fn candidates_for(conn: &Connection, draft: &Draft, limit: usize) -> Result<Vec<Candidate>> {
    let trace = std::env::var_os("KEHU_TRACE_CHECK").is_some();
    let t0 = std::time::Instant::now();
    let s = settings(conn)?;
    let record = Record {
        name: draft.name.clone(),
        contacts: draft.contacts.clone(),
        mobiles: draft.mobiles.clone(),
        emails: draft.emails.clone(),
        region: draft.region.clone(),
    };
    let me = prepare(&record);
    let mut ids: Vec<String> = vec![];
    let mut seen = HashSet::new();
    let mut add = |id: String, ids: &mut Vec<String>| {
        if seen.insert(id.clone()) {
            ids.push(id);
        }
    };
    for m in &draft.mobiles {
        let stored = crate::validate::normalize_phone(m).map(|p| p.0).ok();
        if let Some(p) = stored {
            let mut stmt = conn.prepare_cached(
                "SELECT customer_id FROM contacts WHERE (mobile = ?1 OR phone = ?1) AND deleted_at IS NULL LIMIT 50",
            )?;
            for id in stmt.query_map([&p], |r| r.get::<_, String>(0))? {
                add(id?, &mut ids);
            }
        }
    }
    for e in &draft.emails {
        let e = e.trim().to_lowercase();
        let mut stmt = conn.prepare_cached(
            "SELECT customer_id FROM contacts WHERE email = ?1 AND deleted_at IS NULL LIMIT 50",
        )?;
        for id in stmt.query_map([&e], |r| r.get::<_, String>(0))? {
            add(id?, &mut ids);
        }
    }
    // Names: the customers sharing a blocking key with the draft (the
    // scan's candidates: same first two syllables of any reading of the
    // core, same initials), the nearest in syllable order when a block is
    // large; and stored names containing the core as typed (简称 in a full
    // name), through the trigram index, which is selective for Chinese.
    let sort = super::block::sort_text(&me.syllables);
    let around = s.max_block as i64;
    for key in super::block::name_keys(&me) {
        for sql in [
            "SELECT customer_id FROM dedupe_keys WHERE key = ?1 AND sort >= ?2 ORDER BY sort LIMIT ?3",
            "SELECT customer_id FROM dedupe_keys WHERE key = ?1 AND sort < ?2 ORDER BY sort DESC LIMIT ?3",
        ] {
            let mut stmt = conn.prepare_cached(sql)?;
            for id in stmt.query_map(params![key, sort, around], |r| r.get::<_, String>(0))? {
                add(id?, &mut ids);
            }
        }
    }
    if trace {
        eprintln!("check: {} by keys at {:?}", ids.len(), t0.elapsed());
    }
    let norm = normalize_name(&draft.name);
    if norm.core.chars().count() >= 3 && !norm.core.is_ascii() {
        let mut stmt = conn.prepare_cached(
            "SELECT d.customer_id FROM (SELECT rowid FROM customer_fts WHERE customer_fts MATCH ?1 LIMIT 60) h
             JOIN search_docs d ON d.rid = h.rowid",
        )?;
        for id in stmt.query_map([fts_phrase(&norm.core.to_lowercase())], |r| {
            r.get::<_, String>(0)
        })? {
            add(id?, &mut ids);
        }
    }
    if let Some(x) = &draft.exclude {
        ids.retain(|i| i != x);
    }
    let decided = match &draft.exclude {
        Some(_) => decided_pairs(conn)?,
        None => HashSet::new(),
    };
    if trace {
        eprintln!("check: {} with the core at {:?}", ids.len(), t0.elapsed());
    }
    let records = load_records(conn, Some(&ids))?;
    if trace {
        eprintln!("check: loaded at {:?}", t0.elapsed());
    }
    let mut out: Vec<Candidate> = records
        .into_iter()
        .filter(|(id, _, _)| {
            draft
                .exclude
                .as_ref()
                .is_none_or(|x| !decided.contains(&pair_key(x, id)))
        })
        .filter_map(|(id, code, r)| {
            let m = score(&me, &prepare(&r), &s);
            // A shared phone or email is worth showing even under another
            // name: the person typing decides.
            let contact_hit = m
                .reasons
                .iter()
                .any(|r| r.kind == "mobile_same" || r.kind == "email_same");
            (m.score >= s.hint_threshold || contact_hit).then_some(Candidate {
                customer_id: id,
                code,
                name: r.name,
                score: m.score,
                reasons: m.reasons,
            })
        })
        .collect();
    out.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.code.cmp(&b.code)));
    out.truncate(limit);
    Ok(out)
}

/// Find groups of likely duplicates among all live customers, best first.
/// Pairs decided as "not duplicates" are left out. `progress(done, total)`
/// is called now and then; setting `cancel` stops the scan early.
pub fn scan(
    conn: &Connection,
    progress: &mut dyn FnMut(usize, usize),
    cancel: &AtomicBool,
) -> Result<ScanResult> {
    let s = settings(conn)?;
    scan_with(conn, &s, progress, cancel)
}

/// [`scan`] with explicit settings (a threshold from the command line).
pub fn scan_with(
    conn: &Connection,
    s: &Settings,
    progress: &mut dyn FnMut(usize, usize),
    cancel: &AtomicBool,
) -> Result<ScanResult> {
    let trace = std::env::var_os("KEHU_TRACE").is_some();
    let anon = || {
        std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("RssAnon:"))
                    .map(|l| l.to_string())
            })
            .unwrap_or_default()
    };
    let t0 = std::time::Instant::now();
    let cancelled = || ScanResult {
        cancelled: true,
        ..Default::default()
    };
    let n: i64 = conn.query_row(
        "SELECT count(*) FROM customers WHERE deleted_at IS NULL",
        [],
        |r| r.get(0),
    )?;
    let n = n as usize;
    // Customers stream in with their contacts and are prepared a batch at a
    // time, so the raw rows of a million customers are never all in memory.
    let mut ids = Ids::default();
    let mut prepared: Vec<Prepared> = Vec::with_capacity(n);
    let mut batch: Vec<Record> = Vec::with_capacity(8192);
    let mut stmt = conn.prepare(
        "SELECT c.id, c.name, c.province, c.city, t.name, t.mobile, t.phone, t.email
         FROM customers c
         LEFT JOIN contacts t ON t.customer_id = c.id AND t.deleted_at IS NULL
         WHERE c.deleted_at IS NULL ORDER BY c.rowid",
    )?;
    let mut rows = stmt.query([])?;
    let mut last_id = String::new();
    loop {
        let row = rows.next()?;
        let id: Option<String> = row.map(|r| r.get(0)).transpose()?;
        let flush = match &id {
            None => true,
            Some(id) => *id != last_id && batch.len() >= 8192,
        };
        if flush && !batch.is_empty() {
            if cancel.load(Ordering::Relaxed) {
                return Ok(cancelled());
            }
            progress(prepared.len(), 2 * n);
            prepared.extend(super::par_map(&batch, prepare));
            batch.clear();
        }
        let (Some(r), Some(id)) = (row, id) else {
            break;
        };
        if id != last_id {
            ids.push(&id);
            last_id = id;
            let p: Option<String> = r.get(2)?;
            let c: Option<String> = r.get(3)?;
            batch.push(Record {
                name: r.get(1)?,
                region: format!("{}{}", p.unwrap_or_default(), c.unwrap_or_default()),
                ..Default::default()
            });
        }
        let rec = batch.last_mut().expect("a customer row came first");
        if let Some(name) = r.get::<_, Option<String>>(4)? {
            rec.contacts.push(name);
            rec.mobiles.extend(r.get::<_, Option<String>>(5)?);
            rec.mobiles.extend(r.get::<_, Option<String>>(6)?);
            rec.emails.extend(r.get::<_, Option<String>>(7)?);
        }
    }
    drop(rows);
    drop(stmt);
    let n = prepared.len();
    if trace {
        eprintln!("dedupe scan: prepared at {:?} {}", t0.elapsed(), anon());
    }
    let cands = super::block::packed_candidate_pairs(&prepared, s);
    if trace {
        eprintln!(
            "dedupe scan: {} candidate pairs at {:?} {}",
            cands.len(),
            t0.elapsed(),
            anon()
        );
    }
    let decided = decided_pairs(conn)?;
    // Only indexes and scores are kept per pair; the reasons are worked out
    // again for the few pairs shown.
    let mut links: Vec<super::Link> = vec![];
    let mut done = 0;
    for chunk in cands.chunks(65536) {
        if cancel.load(Ordering::Relaxed) {
            return Ok(cancelled());
        }
        progress(n + done * n / cands.len().max(1), 2 * n);
        done += chunk.len();
        links.extend(super::par_filter_map(chunk, |&pair| {
            let (a, b) = super::block::unpack(pair);
            let m = score(&prepared[a as usize], &prepared[b as usize], s);
            (m.score >= s.threshold
                && !decided.contains(&pair_key(ids.get(a as usize), ids.get(b as usize))))
            .then_some(super::Link {
                a,
                b,
                score: m.score,
            })
        }));
    }
    let compared = cands.len();
    drop(cands);
    if trace {
        eprintln!(
            "dedupe scan: scored, {} pairs over threshold at {:?} {}",
            links.len(),
            t0.elapsed(),
            anon()
        );
    }
    // Sorted best first (and by index) by the grouping.
    let groups = super::group(n, &prepared, &mut links, s);
    if trace {
        eprintln!("dedupe scan: grouped at {:?} {}", t0.elapsed(), anon());
    }
    let mut group_of: Vec<u32> = vec![u32::MAX; n];
    for (gi, g) in groups.iter().enumerate() {
        for &i in g {
            group_of[i] = gi as u32;
        }
    }
    // A group of n copies of one name has n² pairs; keep, best first, the
    // pairs that explain a member not yet explained (at most n per group).
    let mut explained = vec![false; n];
    let mut group_links: Vec<Vec<super::Link>> = vec![vec![]; groups.len()];
    for l in &links {
        let (a, b) = (l.a as usize, l.b as usize);
        let g = group_of[a];
        if g != u32::MAX && g == group_of[b] && (!explained[a] || !explained[b]) {
            explained[a] = true;
            explained[b] = true;
            group_links[g as usize].push(*l);
        }
    }
    drop(links);
    let mut out: Vec<DupGroup> = groups
        .into_iter()
        .zip(group_links)
        .map(|(g, gl)| {
            let pairs: Vec<DupPair> = gl
                .iter()
                .map(|l| DupPair {
                    a: ids.get(l.a as usize).to_string(),
                    b: ids.get(l.b as usize).to_string(),
                    score: l.score,
                    reasons: score(&prepared[l.a as usize], &prepared[l.b as usize], s).reasons,
                })
                .collect();
            DupGroup {
                members: g.iter().map(|&i| ids.get(i).to_string()).collect(),
                score: pairs.first().map(|p| p.score).unwrap_or(0.0),
                pairs,
            }
        })
        .collect();
    out.sort_by(|x, y| y.score.total_cmp(&x.score).then(x.members.cmp(&y.members)));
    progress(2 * n, 2 * n);
    Ok(ScanResult {
        groups: out,
        customers: n,
        compared,
        cancelled: false,
    })
}

/// Remember that two customers are not duplicates: the pair is never
/// suggested again.
pub fn ignore(ws: &mut Workspace, a: &str, b: &str) -> Result<()> {
    let a = crate::customers::resolve_id(ws.conn(), a)?;
    let b = crate::customers::resolve_id(ws.conn(), b)?;
    if a == b {
        return Err(Error::validation(
            "b",
            "不能把客户与自己比较",
            "A customer cannot be compared with itself",
        ));
    }
    let (a, b) = pair_key(&a, &b);
    let origin = ws.origin.clone();
    ws.write(&origin, |w| {
        let old: Option<String> = w
            .tx()
            .query_row(
                "SELECT decision FROM dedupe_decisions WHERE a = ?1 AND b = ?2",
                params![a, b],
                |r| r.get(0),
            )
            .optional()?;
        w.tx().execute(
            "INSERT OR REPLACE INTO dedupe_decisions(a, b, decision, merge_id, at) VALUES (?1, ?2, 'distinct', NULL, ?3)",
            params![a, b, w.now()],
        )?;
        w.log(
            "dedupe_decision",
            &format!("{a}:{b}"),
            "decision",
            old.map(serde_json::Value::from),
            Some("distinct".into()),
        )?;
        Ok(())
    })
}

/// What an incoming record (an import row) most likely duplicates.
#[derive(Debug, Clone, PartialEq)]
pub enum IncomingMatch {
    /// An existing customer: (id, code, name).
    Existing {
        customer_id: String,
        code: String,
        name: String,
        score: f32,
        reasons: Vec<Reason>,
    },
    /// An earlier record of the same batch (its index).
    Earlier {
        index: usize,
        score: f32,
        reasons: Vec<Reason>,
    },
}

/// Batches up to this size look each record up through the search index;
/// larger ones prepare every existing customer once and block against them.
pub const LOOKUP_BATCH: usize = 1000;

/// For each incoming record, the existing customer or earlier record of
/// the batch it most likely duplicates (score ≥ the duplicate threshold),
/// preferring an existing customer. Scored exactly like the Duplicates page.
pub fn match_incoming(
    conn: &Connection,
    incoming: &[Record],
) -> Result<Vec<Option<IncomingMatch>>> {
    match_incoming_with(conn, incoming, incoming.len() <= LOOKUP_BATCH)
}

/// [`match_incoming`] with the strategy chosen: `lookup` = per-record search
/// index lookups, else one blocking pass over all existing customers.
pub fn match_incoming_with(
    conn: &Connection,
    incoming: &[Record],
    lookup: bool,
) -> Result<Vec<Option<IncomingMatch>>> {
    let mine: Vec<Prepared> = super::par_map(incoming, prepare);
    if !lookup {
        return match_prepared(conn, &mine);
    }
    let s = settings(conn)?;
    let mut out: Vec<Option<IncomingMatch>> = vec![None; incoming.len()];
    for (i, r) in incoming.iter().enumerate() {
        let draft = Draft {
            name: r.name.clone(),
            mobiles: r.mobiles.clone(),
            emails: r.emails.clone(),
            contacts: r.contacts.clone(),
            region: r.region.clone(),
            exclude: None,
        };
        if let Some(c) = candidates_for(conn, &draft, 1)?
            .into_iter()
            .find(|c| c.score >= s.threshold)
        {
            out[i] = Some(IncomingMatch::Existing {
                customer_id: c.customer_id,
                code: c.code,
                name: c.name,
                score: c.score,
                reasons: c.reasons,
            });
        }
    }
    match_within(&mine, &s, &mut out);
    Ok(out)
}

/// [`match_incoming`] of a large batch already prepared (a big import
/// prepares its rows without first copying them into [`Record`]s): one
/// blocking pass over all existing customers, then within the batch.
pub fn match_prepared(conn: &Connection, mine: &[Prepared]) -> Result<Vec<Option<IncomingMatch>>> {
    let s = settings(conn)?;
    let mut out: Vec<Option<IncomingMatch>> = vec![None; mine.len()];
    let better = |cur: &Option<IncomingMatch>, score: f32| match cur {
        None => true,
        Some(IncomingMatch::Existing { score: s, .. }) => score > *s,
        Some(IncomingMatch::Earlier { .. }) => true,
    };
    // Only existing customers sharing a block key with some incoming
    // record are compared.
    let existing = load_records(conn, None)?;
    // Block keys of the batch, sorted: a flat list, not a map of lists (a
    // 100k-row import has about 600k keys).
    let mut wanted: Vec<(u64, usize)> = vec![];
    if !existing.is_empty() {
        for (i, p) in mine.iter().enumerate() {
            wanted.extend(super::block::keys(p).into_iter().map(|k| (k, i)));
        }
        wanted.sort_unstable();
    }
    let theirs: Vec<Prepared> = super::par_map(&existing, |(_, _, r)| prepare(r));
    let pairs: Vec<(usize, usize)> = theirs
        .iter()
        .enumerate()
        .flat_map(|(e, p)| {
            let mut hits: Vec<(usize, usize)> = super::block::keys(p)
                .iter()
                .flat_map(|&k| {
                    let from = wanted.partition_point(|w| w.0 < k);
                    wanted[from..].iter().take_while(move |w| w.0 == k)
                })
                .map(|&(_, i)| (i, e))
                .collect();
            hits.sort_unstable();
            hits.dedup();
            hits
        })
        .collect();
    drop(wanted);
    let scored = super::par_filter_map(&pairs, |&(i, e)| {
        let m = score(&mine[i], &theirs[e], &s);
        (m.score >= s.threshold).then_some((i, e, m))
    });
    for (i, e, m) in scored {
        if better(&out[i], m.score) {
            let (id, code, r) = &existing[e];
            out[i] = Some(IncomingMatch::Existing {
                customer_id: id.clone(),
                code: code.clone(),
                name: r.name.clone(),
                score: m.score,
                reasons: m.reasons,
            });
        }
    }
    match_within(mine, &s, &mut out);
    Ok(out)
}

/// Within the batch: a record left unmatched that repeats an earlier one.
fn match_within(mine: &[Prepared], s: &Settings, out: &mut [Option<IncomingMatch>]) {
    let found = super::find_prepared(mine, s);
    for p in found.pairs {
        let (earlier, later) = (p.a.min(p.b), p.a.max(p.b));
        let replace = match &out[later] {
            None => true,
            Some(IncomingMatch::Earlier { score, .. }) => p.m.score > *score,
            Some(IncomingMatch::Existing { .. }) => false,
        };
        if replace {
            out[later] = Some(IncomingMatch::Earlier {
                index: earlier,
                score: p.m.score,
                reasons: p.m.reasons,
            });
        }
    }
}
