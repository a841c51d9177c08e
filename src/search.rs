//! Customer search. Each customer has one search document, refreshed in the
//! same transaction as every change to the customer, its contacts or tags.
//!
//! - Queries of 3+ characters match substrings anywhere in the document
//!   through the FTS5 trigram index: names, code, contact names, phone
//!   digits, emails, WeChat, tags, notes.
//! - A term of Latin letters (and digits) is also pinyin: it matches where
//!   the full pinyin or the initials of a name, contact name or tag, read
//!   from one of its syllables on, start with it: 张三丰 is found by
//!   `zhangsan`, `zhangs`, `sanfeng` and `zsf`. Those readings are terms of
//!   the `grams` index, looked up by prefix.
//! - Shorter terms (1–2 Chinese characters, `zs`) match the `grams` index,
//!   which holds every 1- and 2-character gram of names, contact names,
//!   and tags, and of their pinyin initials. Region and industry are list
//!   filters, not search text.
//! - A query made of digits and separators (`138 0013`) is a phone query:
//!   its digits are matched as one term.

use crate::error::Result;
use pinyin::ToPinyin;
use rusqlite::{params, Connection, OptionalExtension};

/// The pinyin of a text in units: one syllable per Chinese character, one
/// lower-cased word per run of other letters or digits. Each unit is its
/// full pinyin and its initials: 深圳3M → (shen, s), (zhen, z), (3m, 3m).
fn pinyin_units(text: &str) -> Vec<(String, String)> {
    let mut units: Vec<(String, String)> = vec![];
    let mut in_word = false;
    for (ch, py) in text.chars().zip(text.to_pinyin()) {
        match py {
            Some(p) => {
                // ü is typed as v on Chinese IMEs (吕 → lv).
                let full = p.plain().chars().map(|c| if c == 'ü' { 'v' } else { c });
                units.push((full.collect(), p.first_letter().to_string()));
                in_word = false;
            }
            None if ch.is_alphanumeric() => {
                if !in_word {
                    units.push(Default::default());
                    in_word = true;
                }
                let (full, initials) = units.last_mut().expect("a word was started");
                for l in ch.to_lowercase() {
                    full.push(l);
                    initials.push(l);
                }
            }
            None => in_word = false,
        }
    }
    units
}

/// Full pinyin without tones or spaces, and the initials: 张三 → (zhangsan, zs).
/// Non-Chinese letters and digits are kept (lower-cased) in both.
pub fn pinyin_forms(text: &str) -> (String, String) {
    pinyin_units(text)
        .into_iter()
        .fold(Default::default(), |(mut full, mut initials), (f, i)| {
            full.push_str(&f);
            initials.push_str(&i);
            (full, initials)
        })
}

/// Shortest pinyin term stored, and the most units of one name it spans.
const MIN_PINYIN_TERM: usize = 3;
const MAX_PINYIN_UNITS: usize = 32;

/// Where a typed pinyin query may start in a name: its full pinyin and its
/// initials from each unit on (张伟明 → zhangweiming, weiming, ming, zwm),
/// at least 3 letters long. A query of letters is looked up as a prefix of
/// these terms (`zhangw`, `weim`, `zw`…): one term range in the grams index
/// instead of a phrase of common trigrams (`zha` `han` `ang` …), which at
/// 1M customers cost 15 ms and more.
fn pinyin_starts(units: &[(String, String)], starts: usize, out: &mut Vec<String>) {
    let units = &units[..units.len().min(MAX_PINYIN_UNITS)];
    for from in 0..units.len().min(starts) {
        let full: String = units[from..].iter().map(|u| u.0.as_str()).collect();
        let initials: String = units[from..].iter().map(|u| u.1.as_str()).collect();
        out.extend(
            [full, initials]
                .into_iter()
                .filter(|t| t.len() >= MIN_PINYIN_TERM),
        );
    }
}

/// The 1- and 2-character grams of a text, repeats included: a document's
/// terms are deduplicated once, sorted, at the end (a sorted set per
/// insertion cost most of a document's building).
fn grams_of(text: &str, out: &mut Vec<String>) {
    let chars: Vec<char> = text
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect();
    for (i, &c) in chars.iter().enumerate() {
        out.push(c.to_string());
        if let Some(&d) = chars.get(i + 1) {
            out.push([c, d].iter().collect());
        }
    }
}

/// What a customer's search document is made of, as read from the tables.
struct Source {
    customer_id: String,
    name: String,
    code: String,
    rest: String,
    contacts: Vec<ContactText>,
    tags: Vec<String>,
}

struct ContactText {
    name: String,
    mobile: Option<String>,
    phone: Option<String>,
    email: Option<String>,
    wechat: Option<String>,
}

/// A search document ready to store: trigram body, short grams and the
/// duplicate-blocking keys of the name.
struct Doc {
    customer_id: String,
    body: String,
    grams: String,
    name_keys: crate::dedupe::NameKeys,
}

fn load(conn: &Connection, customer_id: &str) -> Result<Option<Source>> {
    let head = conn
        .prepare_cached(
            "SELECT name, code, concat_ws(' ', needs, notes)
             FROM customers WHERE id = ?1",
        )?
        .query_row([customer_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    let Some((name, code, rest)) = head else {
        return Ok(None);
    };
    let contacts = conn
        .prepare_cached(
            "SELECT name, mobile, phone, email, wechat FROM contacts WHERE customer_id = ?1 AND deleted_at IS NULL",
        )?
        .query_map([customer_id], |r| {
            Ok(ContactText {
                name: r.get(0)?,
                mobile: r.get(1)?,
                phone: r.get(2)?,
                email: r.get(3)?,
                wechat: r.get(4)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    let tags = conn
        .prepare_cached("SELECT t.name FROM customer_tags ct JOIN tags t ON t.id = ct.tag_id WHERE ct.customer_id = ?1 AND t.deleted_at IS NULL")?
        .query_map([customer_id], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(Some(Source {
        customer_id: customer_id.to_string(),
        name,
        code,
        rest,
        contacts,
        tags,
    }))
}

/// Pure work (pinyin, grams, name keys): no database, so bulk writes run it
/// on another thread.
fn build(src: Source) -> Doc {
    let mut body = Vec::<String>::new();
    let mut grams = Vec::new();
    // `skip_last`: units at the end where no pinyin reading starts.
    let add_named =
        |text: &str, skip_last: usize, body: &mut Vec<String>, grams: &mut Vec<String>| {
            body.push(text.to_lowercase());
            grams_of(text, grams);
            let units = pinyin_units(text);
            let initials: String = units.iter().map(|u| u.1.as_str()).collect();
            grams_of(&initials, grams);
            pinyin_starts(&units, units.len().saturating_sub(skip_last), grams);
        };
    // Readings starting inside 有限公司 and the like (gongsi, yxgs) would
    // match every company: not stored (a tenth of the grams index).
    let legal_form = crate::dedupe::normalize::legal_suffix_chars(&src.name);
    add_named(&src.name, legal_form, &mut body, &mut grams);
    body.push(src.code.to_lowercase());
    for c in &src.contacts {
        add_named(&c.name, 0, &mut body, &mut grams);
        for p in [&c.mobile, &c.phone].into_iter().flatten() {
            body.push(p.chars().filter(char::is_ascii_digit).collect());
        }
        for t in [&c.email, &c.wechat].into_iter().flatten() {
            body.push(t.to_lowercase());
        }
    }
    for t in &src.tags {
        add_named(t, 0, &mut body, &mut grams);
    }
    body.push(src.rest.to_lowercase());
    // A separator keeps trigrams from spanning two fields: a query term
    // never holds whitespace, so no trigram with a newline matches. One
    // character adds 3 such trigrams per field boundary where ` | ` added 5
    // (a document has about ten boundaries).
    let body = body
        .into_iter()
        .filter(|s| !s.trim().is_empty())
        .collect::<Vec<_>>()
        .join("\n");
    grams.sort_unstable();
    grams.dedup();
    let grams = grams.join(" ");
    Doc {
        name_keys: crate::dedupe::name_keys_of(&src.name),
        customer_id: src.customer_id,
        body,
        grams,
    }
}

fn store(conn: &Connection, doc: &Doc) -> Result<()> {
    store_text(conn, doc)?;
    crate::dedupe::store_name_keys(conn, &doc.customer_id, &doc.name_keys)
}

/// The two full-text documents of a customer (not its name keys).
fn store_text(conn: &Connection, doc: &Doc) -> Result<()> {
    let rid: Option<i64> = conn
        .prepare_cached("SELECT rid FROM search_docs WHERE customer_id = ?1")?
        .query_row([&doc.customer_id], |r| r.get(0))
        .optional()?;
    let rid = match rid {
        Some(rid) => {
            conn.prepare_cached("DELETE FROM customer_fts WHERE rowid = ?1")?
                .execute([rid])?;
            conn.prepare_cached("DELETE FROM customer_grams WHERE rowid = ?1")?
                .execute([rid])?;
            rid
        }
        None => {
            conn.prepare_cached("INSERT INTO search_docs(customer_id) VALUES (?1)")?
                .execute([&doc.customer_id])?;
            conn.last_insert_rowid()
        }
    };
    conn.prepare_cached("INSERT INTO customer_fts(rowid, body) VALUES (?1, ?2)")?
        .execute(params![rid, doc.body])?;
    conn.prepare_cached("INSERT INTO customer_grams(rowid, grams) VALUES (?1, ?2)")?
        .execute(params![rid, doc.grams])?;
    Ok(())
}

/// Rebuild the search document of one customer. Call inside the write that
/// changed it (a [`crate::changelog::Writer`] does it at commit for the
/// customers it was told about).
pub fn index_customer(conn: &Connection, customer_id: &str) -> Result<()> {
    match load(conn, customer_id)? {
        Some(src) => store(conn, &build(src)),
        None => unindex_customer(conn, customer_id),
    }
}

/// Rebuild the search documents of many customers (a bulk write). The
/// documents are built on a second thread while this one reads the next
/// customers and stores the previous documents, so the pinyin and gram work
/// overlaps SQLite's.
pub fn index_customers(conn: &Connection, customer_ids: &[String]) -> Result<()> {
    const BATCH: usize = 256;
    if customer_ids.len() <= BATCH {
        for id in customer_ids {
            index_customer(conn, id)?;
        }
        return Ok(());
    }
    let (to_build, sources) = std::sync::mpsc::sync_channel::<Vec<Source>>(2);
    let (to_store, docs) = std::sync::mpsc::sync_channel::<Vec<Doc>>(2);
    // `move`: on an error the receiver is dropped with the closure, so the
    // builder's next send fails and the scope can end.
    std::thread::scope(move |scope| {
        scope.spawn(move || {
            for batch in sources {
                let built = batch.into_iter().map(build).collect();
                if to_store.send(built).is_err() {
                    return;
                }
            }
        });
        let mut in_flight = 0usize;
        let mut keys = crate::dedupe::NameKeyBatch::default();
        let mut store_one = |docs: Vec<Doc>| -> Result<()> {
            for doc in &docs {
                store_text(conn, doc)?;
                keys.replace(conn, &doc.customer_id, &doc.name_keys)?;
            }
            Ok(())
        };
        for ids in customer_ids.chunks(BATCH) {
            let batch = load_batch(conn, ids)?;
            to_build
                .send(batch)
                .expect("the search builder thread stopped");
            in_flight += 1;
            // Keep at most two batches ahead of the stores.
            if in_flight > 2 {
                store_one(docs.recv().expect("the search builder thread stopped"))?;
                in_flight -= 1;
            }
        }
        drop(to_build);
        for built in docs.iter() {
            store_one(built)?;
        }
        keys.write(conn)
    })
}

/// The sources of some customers; those that are gone lose their document.
fn load_batch(conn: &Connection, ids: &[String]) -> Result<Vec<Source>> {
    let mut batch = Vec::with_capacity(ids.len());
    for id in ids {
        match load(conn, id)? {
            Some(src) => batch.push(src),
            None => unindex_customer(conn, id)?,
        }
    }
    Ok(batch)
}

/// The two full-text tables. Their postings are most of the work of a bulk
/// write (a 100k join: 3.6 s of 12).
const FTS_TABLES: [&str; 2] = ["customer_fts", "customer_grams"];

/// Customers from which a write into an empty index builds it on the side.
const SIDE_MIN: usize = 2_000;

/// Bytes of pending postings per full-text table on the side.
const SIDE_HASHSIZE: i64 = 4 << 20;

/// Search documents of a bulk write still being built and indexed on other
/// threads: see [`index_customers_begin`].
#[must_use = "the documents reach the index only through finish"]
pub struct PendingIndex(Option<SideIndex>);

struct SideIndex {
    /// The customers, how many were read, and a batch read that waits for
    /// room.
    ids: Vec<String>,
    read: usize,
    held: Option<Vec<(i64, Source)>>,
    to_builder: std::sync::mpsc::SyncSender<Vec<(i64, Source)>>,
    /// Name keys of the built documents, written on this connection.
    keys: std::sync::mpsc::Receiver<Vec<(String, crate::dedupe::NameKeys)>>,
    names: crate::dedupe::NameKeyBatch,
    builder: std::thread::JoinHandle<()>,
    indexer: std::thread::JoinHandle<Result<Connection>>,
}

/// Batches of 256 customers queued for the builder: enough for the other
/// threads to go on while this connection is busy between two calls to
/// [`PendingIndex::feed`] (an index of the load rebuilt), few enough that
/// what waits stays small (a 100k import peaked at 250 MB with every
/// customer queued, against 200 MB allowed).
const QUEUED_BATCHES: usize = 64;

/// Start rebuilding the search documents of many customers. Into an empty
/// index (a join, a first load), this thread only reads the customers: a
/// second one builds their documents, and a third writes the full-text
/// postings into a database of its own, while this connection goes on with
/// the rest of its write (a load rebuilds its other indexes meanwhile,
/// calling [`PendingIndex::feed`] between them). SQLite lets one connection
/// write a file at a time; two files can be written at once, on two cores.
/// Otherwise this is [`index_customers`] and the result is already finished.
pub fn index_customers_begin(conn: &Connection, customer_ids: &[String]) -> Result<PendingIndex> {
    begin_queued(conn, customer_ids, QUEUED_BATCHES)
}

/// [`index_customers_begin`] with `queued` batches of room for the builder.
fn begin_queued(conn: &Connection, customer_ids: &[String], queued: usize) -> Result<PendingIndex> {
    let empty: bool = conn.query_row("SELECT NOT EXISTS(SELECT 1 FROM search_docs)", [], |r| {
        r.get(0)
    })?;
    if customer_ids.len() < SIDE_MIN || !empty {
        index_customers(conn, customer_ids)?;
        return Ok(PendingIndex(None));
    }
    let side = open_side(conn)?;
    let (to_builder, sources) = std::sync::mpsc::sync_channel::<Vec<(i64, Source)>>(queued);
    let (to_indexer, postings) = std::sync::mpsc::sync_channel::<Vec<(i64, String, String)>>(2);
    let (to_main, keys) = std::sync::mpsc::channel();
    // A send fails only when the receiving thread stopped (on an error that
    // finish reports): the sender stops too.
    let builder = std::thread::spawn(move || {
        for batch in sources {
            let mut built = Vec::with_capacity(batch.len());
            let mut names = Vec::with_capacity(batch.len());
            for (rid, src) in batch {
                let doc = build(src);
                built.push((rid, doc.body, doc.grams));
                names.push((doc.customer_id, doc.name_keys));
            }
            if to_indexer.send(built).is_err() || to_main.send(names).is_err() {
                return;
            }
        }
    });
    let indexer = std::thread::spawn(move || -> Result<Connection> {
        side.execute_batch("BEGIN")?;
        {
            let mut body = side.prepare("INSERT INTO customer_fts(rowid, body) VALUES (?1, ?2)")?;
            let mut grams =
                side.prepare("INSERT INTO customer_grams(rowid, grams) VALUES (?1, ?2)")?;
            for batch in postings {
                for (rid, b, g) in batch {
                    body.execute(params![rid, b])?;
                    grams.execute(params![rid, g])?;
                }
            }
        }
        side.execute_batch("COMMIT")?;
        Ok(side)
    });
    let mut pending = PendingIndex(Some(SideIndex {
        ids: customer_ids.to_vec(),
        read: 0,
        held: None,
        to_builder,
        keys,
        names: Default::default(),
        builder,
        indexer,
    }));
    pending.feed(conn)?;
    Ok(pending)
}

impl PendingIndex {
    /// Whether the postings are being written on the side.
    pub fn on_side(&self) -> bool {
        self.0.is_some()
    }

    /// Hand the builder as many customers as it has room for, and store the
    /// name keys built so far. Call it between the other steps of the write.
    pub fn feed(&mut self, conn: &Connection) -> Result<()> {
        self.feed_with(conn, false)
    }

    fn feed_with(&mut self, conn: &Connection, wait: bool) -> Result<()> {
        use std::sync::mpsc::TrySendError;
        let Some(side) = self.0.as_mut() else {
            return Ok(());
        };
        loop {
            let batch = match side.held.take() {
                Some(batch) => batch,
                None => {
                    let ids = &side.ids[side.read..side.ids.len().min(side.read + 256)];
                    if ids.is_empty() {
                        break;
                    }
                    side.read += ids.len();
                    let mut batch = Vec::with_capacity(ids.len());
                    for src in load_batch(conn, ids)? {
                        conn.prepare_cached("INSERT INTO search_docs(customer_id) VALUES (?1)")?
                            .execute([&src.customer_id])?;
                        batch.push((conn.last_insert_rowid(), src));
                    }
                    batch
                }
            };
            // A closed channel: the builder stopped, on an error that
            // finish reports.
            let sent = if wait {
                side.to_builder.send(batch).is_ok()
            } else {
                match side.to_builder.try_send(batch) {
                    Ok(()) => true,
                    Err(TrySendError::Full(batch)) => {
                        side.held = Some(batch);
                        break;
                    }
                    Err(TrySendError::Disconnected(_)) => false,
                }
            };
            if !sent {
                break;
            }
        }
        while let Ok(built) = side.keys.try_recv() {
            for (customer_id, k) in &built {
                side.names.replace(conn, customer_id, k)?;
            }
        }
        Ok(())
    }

    /// Hand over the customers left, wait for the documents, then store
    /// their name keys and copy their postings into this connection's index
    /// (in its transaction).
    pub fn finish(mut self, conn: &Connection) -> Result<()> {
        self.feed_with(conn, true)?;
        let Some(SideIndex {
            to_builder,
            keys,
            mut names,
            builder,
            indexer,
            ..
        }) = self.0
        else {
            return Ok(());
        };
        drop(to_builder);
        for (customer_id, k) in keys.iter().flatten() {
            names.replace(conn, &customer_id, &k)?;
        }
        names.write(conn)?;
        use std::panic::resume_unwind;
        builder.join().unwrap_or_else(|p| resume_unwind(p));
        let index = indexer.join().unwrap_or_else(|p| resume_unwind(p))?;
        FTS_TABLES
            .into_iter()
            .try_for_each(|table| copy_side(conn, &index, table))
    }
}

/// A database of its own with full-text tables made and configured like
/// this connection's. Beside a plain database it is a temporary file of
/// SQLite's, deleted as soon as it is made (a killed process leaves
/// nothing), so the postings (50 MB at 100k customers) do not add to the
/// memory of a big import. Beside an encrypted one it is in memory: the
/// postings hold customer names.
fn open_side(conn: &Connection) -> Result<Connection> {
    let side = Connection::open_in_memory()?;
    let plain = conn
        .path()
        .is_some_and(|p| !p.is_empty() && crate::atrest::is_plain(std::path::Path::new(p)));
    let schema = if plain {
        side.execute_batch("PRAGMA temp_store = FILE; ATTACH '' AS side")?;
        "side."
    } else {
        side.execute_batch("PRAGMA temp_store = MEMORY")?;
        ""
    };
    for table in FTS_TABLES {
        let sql: String = conn.query_row(
            "SELECT sql FROM sqlite_schema WHERE name = ?1",
            [table],
            |r| r.get(0),
        )?;
        side.execute_batch(&sql.replacen("VIRTUAL TABLE ", &format!("VIRTUAL TABLE {schema}"), 1))?;
        let config: Vec<(String, rusqlite::types::Value)> = conn
            .prepare(&format!(
                "SELECT k, v FROM \"{table}_config\" WHERE k <> 'version'"
            ))?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        for (k, v) in config {
            side.execute(
                &format!("INSERT INTO {table}({table}, rank) VALUES (?1, ?2)"),
                params![k, v],
            )?;
        }
        // Half the workspace's pending postings (migration 0013): as fast,
        // and a 100k import, whose side index works while the write's own
        // connection rebuilds its indexes, peaked at 175–179 MB instead of
        // 193–196 MB (200 allowed).
        side.execute(
            &format!("INSERT INTO {table}({table}, rank) VALUES ('hashsize', ?1)"),
            [SIDE_HASHSIZE],
        )?;
    }
    Ok(side)
}

/// Replace this connection's (empty) full-text index by the side one, row
/// by row of their storage tables: the same definition stores the same
/// rows. Each table is made afresh first: FTS5 keeps a table's segment
/// structure cached per connection, and only a new table has none cached,
/// so what it reads next are the copied rows.
fn copy_side(conn: &Connection, side: &Connection, table: &str) -> Result<()> {
    let sql: String = conn.query_row(
        "SELECT sql FROM sqlite_schema WHERE name = ?1",
        [table],
        |r| r.get(0),
    )?;
    conn.execute_batch(&format!("DROP TABLE {table}; {sql};"))?;
    for part in ["data", "idx", "docsize", "config"] {
        let name = format!("{table}_{part}");
        conn.execute(&format!("DELETE FROM \"{name}\""), [])?;
        let mut read = side.prepare(&format!("SELECT * FROM \"{name}\""))?;
        let n = read.column_count();
        let mut write = conn.prepare(&format!(
            "INSERT INTO \"{name}\" VALUES ({})",
            vec!["?"; n].join(", ")
        ))?;
        let mut rows = read.query([])?;
        while let Some(row) = rows.next()? {
            let values = (0..n)
                .map(|i| row.get_ref(i).map(rusqlite::types::ToSqlOutput::Borrowed))
                .collect::<rusqlite::Result<Vec<_>>>()?;
            write.execute(rusqlite::params_from_iter(values))?;
        }
    }
    Ok(())
}

pub fn unindex_customer(conn: &Connection, customer_id: &str) -> Result<()> {
    let rid: Option<i64> = conn
        .query_row(
            "SELECT rid FROM search_docs WHERE customer_id = ?1",
            [customer_id],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(rid) = rid {
        conn.execute("DELETE FROM customer_fts WHERE rowid = ?1", [rid])?;
        conn.execute("DELETE FROM customer_grams WHERE rowid = ?1", [rid])?;
        conn.execute("DELETE FROM search_docs WHERE rid = ?1", [rid])?;
    }
    crate::dedupe::unindex_name(conn, customer_id)
}

/// Rebuild every search document (after a restore or a schema change).
pub fn reindex_all(conn: &Connection) -> Result<usize> {
    conn.execute_batch(
        "INSERT INTO customer_fts(customer_fts) VALUES ('delete-all');
         INSERT INTO customer_grams(customer_grams) VALUES ('delete-all');
         DELETE FROM search_docs; DELETE FROM dedupe_keys;",
    )?;
    let ids: Vec<String> = conn
        .prepare("SELECT id FROM customers")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    index_customers_begin(conn, &ids)?.finish(conn)?;
    Ok(ids.len())
}

/// How a query is matched: the FTS5 expressions for the two indexes, and
/// the terms that may also be pinyin.
#[derive(Debug, PartialEq, Default)]
pub struct Plan {
    /// Terms of 3+ characters that must all occur in the document.
    pub trigram: Option<String>,
    /// Terms of 1–2 characters that must all be grams of the document.
    pub grams: Option<String>,
    /// Terms of 3+ Latin letters or digits: each must occur in the document
    /// (trigram) or start a pinyin reading of a name (grams, by prefix).
    pub pinyin: Vec<String>,
}

fn quote(term: &str) -> String {
    format!("\"{}\"", term.replace('"', "\"\""))
}

fn all_of(terms: &[String]) -> Option<String> {
    (!terms.is_empty()).then(|| {
        terms
            .iter()
            .map(|t| quote(t))
            .collect::<Vec<_>>()
            .join(" AND ")
    })
}

/// Split a query into terms and route each to the index that can answer it.
/// Returns None when the query has nothing searchable.
pub fn plan(query: &str) -> Option<Plan> {
    let q = query.trim().to_lowercase();
    if q.is_empty() {
        return None;
    }
    let is_phone = q.chars().all(|c| c.is_ascii_digit() || " -+()".contains(c))
        && q.chars().filter(char::is_ascii_digit).count() >= 3;
    let terms: Vec<String> = if is_phone {
        vec![q.chars().filter(char::is_ascii_digit).collect()]
    } else {
        q.split_whitespace()
            .map(|t| {
                t.chars()
                    .filter(|c| !matches!(c, '"' | '*' | '^'))
                    .collect::<String>()
            })
            .filter(|t| !t.is_empty())
            .collect()
    };
    let (long, short): (Vec<_>, Vec<_>) = terms
        .into_iter()
        .partition(|t| t.chars().count() >= MIN_PINYIN_TERM);
    let (pinyin, long): (Vec<_>, Vec<_>) = long.into_iter().partition(|t| {
        t.chars().all(|c| c.is_ascii_alphanumeric()) && t.chars().any(|c| c.is_ascii_alphabetic())
    });
    let short: Vec<String> = short
        .iter()
        .map(|t| {
            t.chars()
                .filter(|c| c.is_alphanumeric())
                .collect::<String>()
        })
        .filter(|t| !t.is_empty())
        .collect();
    let plan = Plan {
        trigram: all_of(&long),
        grams: all_of(&short),
        pinyin,
    };
    (plan.trigram.is_some() || plan.grams.is_some() || !plan.pinyin.is_empty()).then_some(plan)
}

/// Candidate cap: a one-character query can match most of a big base; we
/// rank among the first matches rather than sort the whole base.
pub const MAX_CANDIDATES: usize = 2000;

/// Ids of live customers matching `query`, best first, at most `limit`.
///
/// Ranking: exact code, then name starting with the query, then name
/// containing it, then any other match; ties by most recently updated.
pub fn search_ids(conn: &Connection, query: &str, limit: usize) -> Result<Vec<String>> {
    let Some(plan) = plan(query) else {
        return Ok(vec![]);
    };
    // A code prefix (`C2025031`, `GZ2024`) is answered from the unique code
    // index first, in code order: on a big base its trigrams ("202") are in
    // nearly every document, so the full-text route is the slow one.
    let mut by_code = code_prefix_ids(conn, query, limit)?;
    if by_code.len() >= limit {
        return Ok(by_code);
    }
    let mut parts = vec![];
    let mut args: Vec<String> = vec![];
    let mut arg = |value: String| {
        args.push(value);
        format!("?{}", args.len())
    };
    if let Some(t) = &plan.trigram {
        parts.push(format!(
            "SELECT rowid AS rid FROM customer_fts WHERE customer_fts MATCH {}",
            arg(t.clone())
        ));
    }
    if let Some(g) = &plan.grams {
        parts.push(format!(
            "SELECT rowid AS rid FROM customer_grams WHERE customer_grams MATCH {}",
            arg(g.clone())
        ));
    }
    // Readings of names first, so they lead the candidates. UNION ALL
    // streams under the LIMIT (UNION would gather both sides whole); a
    // customer found both ways is dropped once ranked.
    for term in &plan.pinyin {
        parts.push(format!(
            "SELECT rid FROM (SELECT rowid AS rid FROM customer_grams WHERE customer_grams MATCH {}
             UNION ALL SELECT rowid AS rid FROM customer_fts WHERE customer_fts MATCH {})",
            arg(format!("{}*", quote(term))),
            arg(quote(term))
        ));
    }
    let mut stmt = conn.prepare_cached(&candidates_sql(&parts))?;
    let q = query.trim().to_lowercase();
    let mut rows: Vec<(u8, i64, String)> = stmt
        .query_map(rusqlite::params_from_iter(args), |r| {
            let id: String = r.get(0)?;
            let code: String = r.get(1)?;
            let name: String = r.get::<_, String>(2)?.to_lowercase();
            let rank = if code.eq_ignore_ascii_case(&q) {
                0
            } else if name.starts_with(&q) {
                1
            } else if name.contains(&q) {
                2
            } else {
                3
            };
            Ok((rank, -r.get::<_, i64>(3)?, id))
        })?
        .collect::<rusqlite::Result<_>>()?;
    rows.sort();
    rows.dedup_by(|a, b| a.2 == b.2);
    let rest = rows
        .into_iter()
        .map(|r| r.2)
        .filter(|id| !by_code.contains(id))
        .take(limit - by_code.len())
        .collect::<Vec<_>>();
    by_code.extend(rest);
    Ok(by_code)
}

/// The live customers among the first hits of the `parts` (FTS5 queries
/// of rowids, all of which must match), with what ranking reads. Those
/// columns come from the narrow `customers_search_rank` index, not the
/// rows: at 1M customers reading up to 2,000 rows was most of a query.
fn candidates_sql(parts: &[String]) -> String {
    format!(
        "WITH hits(rid) AS ({} LIMIT {MAX_CANDIDATES})
         SELECT c.id, c.code, c.name, c.updated_at FROM hits
         JOIN search_docs d ON d.rid = hits.rid
         JOIN customers c ON c.id = d.customer_id
         WHERE c.deleted_at IS NULL",
        parts.join(" INTERSECT ")
    )
}

/// Live customers whose code starts with `query`, when the query looks like
/// a code (one token of letters, digits and dashes with a digit in it).
fn code_prefix_ids(conn: &Connection, query: &str, limit: usize) -> Result<Vec<String>> {
    let q = query.trim().to_uppercase();
    let looks_like_code = q.chars().count() >= 3
        && q.chars().any(|c| c.is_ascii_digit())
        && q.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if !looks_like_code {
        return Ok(vec![]);
    }
    // Every code starting with q sorts between q and q + the last code point.
    let upper = format!("{q}{}", char::MAX);
    let ids = conn
        .prepare_cached(
            "SELECT id FROM customers WHERE code >= ?1 AND code < ?2 AND deleted_at IS NULL
             ORDER BY code LIMIT ?3",
        )?
        .query_map(params![q, upper, limit as i64], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a few hundred queries of names, name fragments, pinyin and
    /// phone digits find.
    fn answers(conn: &Connection) -> Vec<(String, Vec<String>)> {
        let probes: Vec<(String, Option<String>)> = conn
            .prepare(
                "SELECT c.name, ct.mobile FROM customers c
                 LEFT JOIN contacts ct ON ct.customer_id = c.id
                 ORDER BY c.id LIMIT 100",
            )
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        let mut queries = vec![];
        for (name, mobile) in probes {
            let (full, initials) = pinyin_forms(&name);
            let chars: Vec<char> = name.chars().collect();
            queries.push(chars[..2].iter().collect::<String>());
            queries.push(chars[chars.len() - 3..].iter().collect());
            queries.push(full[..full.len().min(6)].to_string());
            queries.push(initials);
            queries.extend(mobile.map(|m| m[m.len() - 4..].to_string()));
            queries.push(name);
        }
        queries
            .into_iter()
            .map(|q| {
                let found = search_ids(conn, &q, 1_000).unwrap();
                (q, found)
            })
            .collect()
    }

    fn integrity_check(conn: &Connection) {
        for table in FTS_TABLES {
            conn.execute(
                &format!("INSERT INTO {table}({table}, rank) VALUES ('integrity-check', 0)"),
                [],
            )
            .unwrap();
        }
    }

    #[test]
    fn an_index_built_on_the_side_finds_what_one_built_in_place_finds_and_keeps_working() {
        let clock = std::sync::Arc::new(crate::clock::FixedClock::new(1_700_000_000_000));
        let mut ws = crate::Workspace::open_in_memory(clock).unwrap();
        // One batch of room: the write hands customers over between its
        // other steps, and the batch read last waits for room.
        side_index_answers_as_in_place(&mut ws, 1);
    }

    #[test]
    fn beside_a_plain_database_the_side_index_is_a_temporary_file_and_answers_the_same() {
        let dir = tempfile::tempdir().unwrap();
        let mut ws = crate::Workspace::open(dir.path().join("kehu.db")).unwrap();
        let side = open_side(ws.conn()).unwrap();
        assert_eq!(side_schemas(&side), ["main", "side"]);
        side_index_answers_as_in_place(&mut ws, QUEUED_BATCHES);
    }

    #[test]
    fn beside_an_encrypted_database_the_side_index_stays_in_memory() {
        let dir = tempfile::tempdir().unwrap();
        let ws =
            crate::Workspace::open_encrypted(dir.path().join("kehu.db"), "门前大桥下").unwrap();
        assert!(ws.is_encrypted());
        let side = open_side(ws.conn()).unwrap();
        assert_eq!(side_schemas(&side), ["main"]);
        let file: String = side
            .query_row(
                "SELECT file FROM pragma_database_list WHERE name = 'main'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(file, "", "an in-memory database has no file");
    }

    fn side_schemas(side: &Connection) -> Vec<String> {
        side.prepare("SELECT name FROM pragma_database_list ORDER BY seq")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap()
    }

    /// Demo customers indexed from empty once in place and once on the side
    /// (with `queued` batches of room), as a join or a first load does:
    /// every query answers the same, and the copied index takes later edits.
    fn side_index_answers_as_in_place(ws: &mut crate::Workspace, queued: usize) {
        crate::demo::generate(ws, SIDE_MIN + 500, 7).unwrap();
        let conn = ws.conn();
        let rebuild = |on_side: bool| {
            let tx = conn.unchecked_transaction().unwrap();
            tx.execute_batch(
                "INSERT INTO customer_fts(customer_fts) VALUES ('delete-all');
                 INSERT INTO customer_grams(customer_grams) VALUES ('delete-all');
                 DELETE FROM search_docs; DELETE FROM dedupe_keys;",
            )
            .unwrap();
            let ids: Vec<String> = tx
                .prepare("SELECT id FROM customers")
                .unwrap()
                .query_map([], |r| r.get(0))
                .unwrap()
                .collect::<rusqlite::Result<_>>()
                .unwrap();
            if on_side {
                let mut pending = begin_queued(&tx, &ids, queued).unwrap();
                assert!(pending.on_side());
                for _ in 0..3 {
                    pending.feed(&tx).unwrap();
                }
                pending.finish(&tx).unwrap();
            } else {
                index_customers(&tx, &ids).unwrap();
            }
            tx.commit().unwrap();
            integrity_check(conn);
        };
        rebuild(false);
        let before = answers(conn);
        let keys_before = name_keys(conn);
        assert!(before.iter().all(|(_, found)| !found.is_empty()));
        rebuild(true);
        // Compared query by query: a failure names its query, not 600 lists.
        let after = answers(conn);
        assert_eq!(after.len(), before.len());
        for (a, b) in after.iter().zip(&before) {
            assert_eq!(a, b, "{}", a.0);
        }
        assert_eq!(name_keys(conn), keys_before);

        // The copied index takes the next edits like one built in place.
        let (id, old): (String, String) = conn
            .query_row(
                "SELECT id, name FROM customers ORDER BY id LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        conn.execute(
            "UPDATE customers SET name = '霁月琉璃坊' WHERE id = ?1",
            [&id],
        )
        .unwrap();
        index_customer(conn, &id).unwrap();
        assert_eq!(search_ids(conn, "霁月琉璃", 10).unwrap(), vec![id.clone()]);
        assert_eq!(search_ids(conn, "jyll", 10).unwrap(), vec![id.clone()]);
        assert!(!search_ids(conn, &old, 1_000).unwrap().contains(&id));
        integrity_check(conn);
    }

    fn name_keys(conn: &Connection) -> Vec<(String, String, String)> {
        conn.prepare("SELECT key, sort, customer_id FROM dedupe_keys ORDER BY 1, 2, 3")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap()
    }

    #[test]
    fn candidates_are_ranked_from_the_narrow_index_not_the_rows() {
        let clock = std::sync::Arc::new(crate::clock::FixedClock::new(1_700_000_000_000));
        let ws = crate::Workspace::open_in_memory(clock).unwrap();
        let sql = candidates_sql(&[
            "SELECT rowid AS rid FROM customer_grams WHERE customer_grams MATCH 'zs'".into(),
        ]);
        let plan: Vec<String> = ws
            .conn()
            .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
            .unwrap()
            .query_map([], |r| r.get(3))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert!(
            plan.iter()
                .any(|p| p.contains("USING COVERING INDEX customers_search_rank")),
            "{plan:?}"
        );
    }

    #[test]
    fn pinyin_of_a_name() {
        assert_eq!(pinyin_forms("张三"), ("zhangsan".into(), "zs".into()));
        assert_eq!(
            pinyin_forms("腾云科技A"),
            ("tengyunkejia".into(), "tykja".into())
        );
    }

    #[test]
    fn short_terms_go_to_grams_and_phones_to_digits() {
        assert_eq!(
            plan("zs").unwrap(),
            Plan {
                grams: Some("\"zs\"".into()),
                ..Default::default()
            }
        );
        assert_eq!(
            plan("138 0013").unwrap(),
            Plan {
                trigram: Some("\"1380013\"".into()),
                ..Default::default()
            }
        );
        assert_eq!(
            plan("张三 科技公司").unwrap(),
            Plan {
                trigram: Some("\"科技公司\"".into()),
                grams: Some("\"张三\"".into()),
                pinyin: vec![]
            }
        );
        assert!(plan("  ").is_none());
    }

    #[test]
    fn letter_terms_are_also_pinyin() {
        assert_eq!(
            plan("ZhangWei wang@x.cn 3m").unwrap(),
            Plan {
                trigram: Some("\"wang@x.cn\"".into()),
                grams: Some("\"3m\"".into()),
                pinyin: vec!["zhangwei".into()],
            }
        );
    }

    #[test]
    fn a_name_is_read_in_pinyin_from_each_syllable() {
        let mut terms = vec![];
        pinyin_starts(&pinyin_units("张伟明"), usize::MAX, &mut terms);
        terms.sort();
        assert_eq!(terms, ["ming", "weiming", "zhangweiming", "zwm"]);
        let mut terms = vec![];
        pinyin_starts(&pinyin_units("3M 中国"), usize::MAX, &mut terms);
        assert!(["3mzhongguo", "zhongguo", "3mzg"]
            .iter()
            .all(|t| terms.iter().any(|u| u == t)));
    }

    #[test]
    fn no_pinyin_reading_of_a_company_name_starts_inside_its_legal_form() {
        let doc = build(Source {
            customer_id: "c".into(),
            name: "瑞丰机械有限责任公司".into(),
            code: "C1".into(),
            rest: String::new(),
            contacts: vec![],
            tags: vec!["公司客户".into()],
        });
        let grams: std::collections::BTreeSet<&str> = doc.grams.split(' ').collect();
        for kept in [
            "ruifengjixieyouxianzerengongsi",
            "fengjixieyouxianzerengongsi",
            "xieyouxianzerengongsi",
            "rfjxyxzrgs",
            "xyxzrgs",
        ] {
            assert!(grams.contains(kept), "{kept}");
        }
        for dropped in [
            "youxianzerengongsi",
            "gongsi",
            "zerengongsi",
            "yxzrgs",
            "zrgs",
        ] {
            assert!(!grams.contains(dropped), "{dropped}");
        }
        // A tag is not a company name: read from each syllable.
        assert!(grams.contains("gongsikehu") && grams.contains("sikehu"));
        // Typed characters are still found anywhere.
        assert!(grams.contains("公司") && doc.body.contains("有限责任公司"));
    }
}
