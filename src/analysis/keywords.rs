//! Keyword cloud (关键词云): the most frequent phrases of the follow-ups'
//! 沟通内容 and 客户反馈 in a period, and the customers' needs (核心需求 and
//! need tags) split by priority.
//!
//! Texts are segmented with jieba, extended with a CRM dictionary so that
//! phrases such as 价格敏感 or 快速交付 stay whole
//! (`assets/keywords/dict.txt`), and filtered by a CRM stop-word list
//! (`assets/keywords/stopwords.txt`). A keyword is a token of at least two
//! characters that is not a stop word and not only digits or punctuation;
//! its `count` is the number of texts (follow-ups, customers) containing
//! it, so one long note cannot dominate the cloud.
//!
//! The result is cached per scope in `keyword_cache` and reused while the
//! follow-ups and customers are unchanged (fingerprint: the newest
//! follow-up row and update time, the newest customer update), so only the
//! first computation after a new follow-up pays for the segmentation.

use super::*;
use jieba_rs::Jieba;
use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

const STOPWORDS: &str = include_str!("../../assets/keywords/stopwords.txt");
const DICT: &str = include_str!("../../assets/keywords/dict.txt");
/// Bump when the segmentation or the word lists change: old caches are
/// then recomputed.
const VERSION: u32 = 2;
/// Scopes kept in the cache.
const CACHE_MAX: i64 = 64;

/// One keyword and how many texts contain it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Keyword {
    pub word: String,
    /// Texts (follow-ups) containing it.
    pub count: i64,
    /// The customers of those follow-ups (each once): what the customer
    /// list shows for this word.
    pub customers: i64,
}

/// A customer need and how many customers have it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Need {
    pub word: String,
    /// Customers whose 核心需求 text or need tags contain it.
    pub customers: i64,
    /// customers / customers with any need.
    pub share: f64,
    /// `high` (≥ 10% of the customers with needs), `medium` (≥ 3%) or `low`.
    pub priority: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct KeywordCloud {
    /// Follow-ups done in the period (owner = the follow-up's) that were read.
    pub followups: i64,
    /// Top phrases of 沟通内容, most frequent first (ties alphabetical).
    pub content: Vec<Keyword>,
    /// Top phrases of 客户反馈.
    pub feedback: Vec<Keyword>,
    /// Live customers (of the owner) with a 核心需求 text or a need tag.
    pub customers_with_needs: i64,
    /// Top needs, with their priority.
    pub needs: Vec<Need>,
    #[ts(type = "number")]
    pub computed_at: i64,
    /// Served from the cache (no new follow-ups since `computed_at`).
    pub cached: bool,
}

fn jieba() -> &'static Jieba {
    static J: OnceLock<Jieba> = OnceLock::new();
    J.get_or_init(|| {
        let mut j = Jieba::new();
        for line in DICT.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut it = line.split_whitespace();
            if let Some(w) = it.next() {
                let freq = it.next().and_then(|f| f.parse().ok());
                j.add_word(w, freq, None);
            }
        }
        j
    })
}

fn stopwords() -> &'static HashSet<&'static str> {
    static S: OnceLock<HashSet<&'static str>> = OnceLock::new();
    S.get_or_init(|| {
        STOPWORDS
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .collect()
    })
}

/// Whether a token is a keyword (see the module docs).
pub fn is_keyword(w: &str) -> bool {
    w.chars().count() >= 2 && w.chars().any(|c| c.is_alphabetic()) && !stopwords().contains(w)
}

/// Characters jieba never puts inside a word (whitespace, punctuation):
/// it cuts each run between them on its own, so a text can be cut clause
/// by clause with the same result, and repeated clauses cut once.
fn is_separator(c: char) -> bool {
    if c.is_ascii() {
        return !(c.is_ascii_alphanumeric()
            || matches!(c, '+' | '#' | '&' | '.' | '_' | '%' | '-'));
    }
    c.is_whitespace()
        || matches!(c as u32,
            0x2000..=0x206F     // general punctuation (—, …, “”)
            | 0x3000..=0x303F   // CJK punctuation (、。「」)
            | 0xFF01..=0xFF0F   // fullwidth ！＂＃…／
            | 0xFF1A..=0xFF20   // ：；＜＝＞？＠
            | 0xFF3B..=0xFF40
            | 0xFF5B..=0xFF65)
}

/// Segments texts, remembering the keywords of each clause it has cut.
#[derive(Default)]
pub struct Segmenter {
    memo: HashMap<String, Vec<String>>,
}

/// Clauses remembered per segmenter; beyond that, clauses are cut anew.
const MEMO_MAX: usize = 500_000;

impl Segmenter {
    /// The distinct keywords of `text`, in order of first appearance,
    /// into `out` (cleared first).
    pub fn keywords(&mut self, text: &str, out: &mut Vec<String>) {
        out.clear();
        for clause in text.split(is_separator).filter(|c| !c.is_empty()) {
            if !self.memo.contains_key(clause) {
                let words = cut_clause(clause);
                if self.memo.len() >= MEMO_MAX {
                    push_distinct(out, words.iter());
                    continue;
                }
                self.memo.insert(clause.to_string(), words);
            }
            push_distinct(out, self.memo[clause].iter());
        }
    }
}

fn push_distinct<'a>(out: &mut Vec<String>, words: impl Iterator<Item = &'a String>) {
    for w in words {
        if !out.contains(w) {
            out.push(w.clone());
        }
    }
}

fn cut_clause(clause: &str) -> Vec<String> {
    let mut out: Vec<String> = vec![];
    for t in jieba().cut(clause, false) {
        let w = t.word.trim();
        let w = if w.is_ascii() {
            w.to_lowercase()
        } else {
            w.to_string()
        };
        if is_keyword(&w) && !out.contains(&w) {
            out.push(w);
        }
    }
    out
}

/// The distinct keywords of one text, in order of first appearance.
pub fn keywords_of(text: &str) -> Vec<String> {
    let mut out = vec![];
    Segmenter::default().keywords(text, &mut out);
    out
}

/// Distinct texts, each with the customers (by number) of the follow-ups
/// holding it, once per follow-up.
type Texts = HashMap<String, Vec<u32>>;

/// Per keyword: the customers (by number) of the texts holding it, once
/// per text.
type Counts = HashMap<String, Vec<u32>>;

/// Count keywords over distinct texts weighted by how often each occurs.
/// Texts are segmented on as many threads as there are cores.
fn count(texts: Texts) -> Counts {
    let texts: Vec<(String, Vec<u32>)> = texts.into_iter().collect();
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 8);
    let chunk = texts.len().div_ceil(threads).max(1);
    let parts: Vec<Counts> = std::thread::scope(|s| {
        let handles: Vec<_> = texts
            .chunks(chunk)
            .map(|part| {
                s.spawn(move || {
                    let mut seg = Segmenter::default();
                    let mut words = vec![];
                    let mut m: Counts = HashMap::new();
                    for (text, custs) in part {
                        seg.keywords(text, &mut words);
                        for w in &words {
                            match m.get_mut(w.as_str()) {
                                Some(c) => c.extend_from_slice(custs),
                                None => {
                                    m.insert(w.clone(), custs.clone());
                                }
                            }
                        }
                    }
                    m
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_default())
            .collect()
    });
    let mut all: Counts = HashMap::new();
    for p in parts {
        for (w, c) in p {
            all.entry(w).or_default().extend(c);
        }
    }
    all
}

/// The top `n` keywords, each with its distinct customers.
fn top_texts(m: Counts, n: usize) -> Vec<Keyword> {
    let mut v: Vec<(String, Vec<u32>)> = m.into_iter().collect();
    v.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.cmp(&b.0)));
    v.truncate(n);
    v.into_iter()
        .map(|(word, mut c)| {
            let count = c.len() as i64;
            c.sort_unstable();
            c.dedup();
            Keyword {
                word,
                count,
                customers: c.len() as i64,
            }
        })
        .collect()
}

fn top(m: HashMap<String, i64>, n: usize) -> Vec<Keyword> {
    let mut v: Vec<Keyword> = m
        .into_iter()
        .map(|(word, count)| Keyword {
            word,
            count,
            customers: count,
        })
        .collect();
    v.sort_by(|a, b| b.count.cmp(&a.count).then(a.word.cmp(&b.word)));
    v.truncate(n);
    v
}

fn scope_key(f: &Filter, n: usize) -> String {
    format!(
        "v{VERSION}|{}|{}|{}|{n}",
        f.from,
        f.to,
        f.owner_id.as_deref().unwrap_or("")
    )
}

/// What the cache depends on: the newest follow-up row, the newest
/// follow-up and customer updates (tagging a customer updates it too), the
/// number of tag assignments, tag renames, the segment rules (need tags).
fn fingerprint(conn: &Connection) -> Result<String> {
    let (rowid, fu, cu): (Option<i64>, Option<i64>, Option<i64>) = conn.query_row(
        "SELECT (SELECT max(rowid) FROM followups), (SELECT max(updated_at) FROM followups),
                (SELECT max(updated_at) FROM customers WHERE deleted_at IS NULL)",
        [],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    let tags: Option<String> = conn
        .query_row(
            "SELECT value FROM settings WHERE key = ?1",
            [super::segments::SETTING],
            |r| r.get(0),
        )
        .optional()?;
    let (ct, cd): (i64, Option<i64>) = conn.query_row(
        "SELECT (SELECT count(*) FROM customer_tags), (SELECT max(updated_at) FROM tags)",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    Ok(format!(
        "{rowid:?}|{fu:?}|{cu:?}|{ct}|{cd:?}|{}",
        tags.map(|t| t.len()).unwrap_or(0)
    ))
}

/// The keyword cloud of the period: top `n` phrases of each kind. Served
/// from the cache when nothing it read has changed; computed (and cached)
/// otherwise.
pub fn cloud(conn: &Connection, f: &Filter, n: usize, now: i64) -> Result<KeywordCloud> {
    let key = scope_key(f, n);
    let fp = fingerprint(conn)?;
    let hit: Option<String> = conn
        .query_row(
            "SELECT body FROM keyword_cache WHERE scope = ?1 AND fingerprint = ?2",
            params![key, fp],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(body) = hit {
        if let Ok(mut c) = serde_json::from_str::<KeywordCloud>(&body) {
            c.cached = true;
            return Ok(c);
        }
    }
    let c = compute(conn, f, n, now)?;
    conn.execute(
        "INSERT INTO keyword_cache(scope, fingerprint, computed_at, body) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT(scope) DO UPDATE SET fingerprint = excluded.fingerprint,
           computed_at = excluded.computed_at, body = excluded.body",
        params![key, fp, now, serde_json::to_string(&c)?],
    )?;
    // Keep the cache small: the most recently computed scopes only.
    conn.execute(
        "DELETE FROM keyword_cache WHERE scope NOT IN
           (SELECT scope FROM keyword_cache ORDER BY computed_at DESC, scope LIMIT ?1)",
        [CACHE_MAX],
    )?;
    Ok(c)
}

/// Compute the cloud without the cache.
pub fn compute(conn: &Connection, f: &Filter, n: usize, now: i64) -> Result<KeywordCloud> {
    // Identical texts are segmented once: notes repeat a lot.
    let mut content: Texts = HashMap::new();
    let mut feedback: Texts = HashMap::new();
    let mut custs: HashMap<String, u32> = HashMap::new();
    let mut followups = 0;
    let mut stmt = conn.prepare_cached(
        "SELECT content, feedback, customer_id FROM followups
         WHERE status = 'done' AND deleted_at IS NULL AND done_at >= ?1 AND done_at < ?2
           AND (?3 IS NULL OR owner_id = ?3)
           AND customer_id NOT IN (SELECT id FROM customers WHERE deleted_at IS NOT NULL)",
    )?;
    let mut rows = stmt.query(params![f.from, f.to, f.owner_id])?;
    while let Some(r) = rows.next()? {
        followups += 1;
        let cid = r.get_ref(2)?.as_str().map_err(rusqlite::Error::from)?;
        let cust = match custs.get(cid) {
            Some(n) => *n,
            None => {
                let n = custs.len() as u32;
                custs.insert(cid.to_string(), n);
                n
            }
        };
        for (i, m) in [(0, &mut content), (1, &mut feedback)] {
            if let Some(t) = r
                .get_ref(i)?
                .as_str_or_null()
                .map_err(rusqlite::Error::from)?
            {
                let t = t.trim();
                if t.is_empty() {
                    continue;
                }
                match m.get_mut(t) {
                    Some(c) => c.push(cust),
                    None => {
                        m.insert(t.to_string(), vec![cust]);
                    }
                }
            }
        }
    }
    let content = top_texts(count(content), n);
    let feedback = top_texts(count(feedback), n);

    // Needs: 核心需求 text and need tags of the owner's live customers.
    let rules = super::segments::rules(conn)?;
    let mut per_customer: HashMap<String, HashSet<String>> = HashMap::new();
    let mut stmt = conn.prepare_cached(
        "SELECT id, needs FROM customers WHERE deleted_at IS NULL AND (?1 IS NULL OR owner_id = ?1)
           AND needs IS NOT NULL AND trim(needs) <> ''",
    )?;
    let mut texts: HashMap<String, Vec<String>> = HashMap::new();
    let mut rows = stmt.query(params![f.owner_id])?;
    while let Some(r) = rows.next()? {
        let id: String = r.get(0)?;
        let t: String = r.get(1)?;
        texts.entry(t).or_default().push(id);
    }
    let mut seg = Segmenter::default();
    let mut words = vec![];
    for (t, ids) in texts {
        seg.keywords(&t, &mut words);
        for id in ids {
            per_customer
                .entry(id)
                .or_default()
                .extend(words.iter().cloned());
        }
    }
    let mut stmt = conn.prepare_cached(
        "SELECT ct.customer_id, t.name FROM customer_tags ct JOIN tags t ON t.id = ct.tag_id
         JOIN customers c ON c.id = ct.customer_id
         WHERE t.deleted_at IS NULL AND c.deleted_at IS NULL AND (?1 IS NULL OR c.owner_id = ?1)",
    )?;
    let mut rows = stmt.query(params![f.owner_id])?;
    while let Some(r) = rows.next()? {
        let name: String = r.get(1)?;
        if rules.need_tags.is_empty() || rules.need_tags.contains(&name) {
            per_customer.entry(r.get(0)?).or_default().insert(name);
        }
    }
    let with_needs = per_customer.len() as i64;
    let mut need_counts: HashMap<String, i64> = HashMap::new();
    for words in per_customer.into_values() {
        for w in words {
            *need_counts.entry(w).or_default() += 1;
        }
    }
    let needs = top(need_counts, n)
        .into_iter()
        .map(|k| {
            let share = k.count as f64 / with_needs as f64;
            Need {
                priority: if share >= 0.10 {
                    "high"
                } else if share >= 0.03 {
                    "medium"
                } else {
                    "low"
                }
                .to_string(),
                word: k.word,
                customers: k.count,
                share,
            }
        })
        .collect();
    Ok(KeywordCloud {
        followups,
        content,
        feedback,
        customers_with_needs: with_needs,
        needs,
        computed_at: now,
        cached: false,
    })
}

/// Which text of a follow-up a keyword was found in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, Default)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum TextField {
    /// 沟通内容.
    #[default]
    Content,
    /// 客户反馈.
    Feedback,
}

/// The customers behind one word of the cloud: those with a follow-up the
/// cloud read (done in the period, owner = the follow-up's, customer not in
/// the trash) whose `field` contains `word` as a keyword, segmented as the
/// cloud segments it. Sorted ids.
pub fn customers_with_word(
    conn: &Connection,
    f: &Filter,
    field: TextField,
    word: &str,
) -> Result<Vec<String>> {
    let col = match field {
        TextField::Content => "content",
        TextField::Feedback => "feedback",
    };
    let word = word.trim();
    // A keyword is a piece of the text (ASCII lowercased): texts without
    // that piece cannot hold it, so only the rest is segmented.
    let (needle, hay) = if word.is_ascii() {
        (word.to_lowercase(), format!("lower({col})"))
    } else {
        (word.to_string(), col.to_string())
    };
    if needle.is_empty() {
        return Ok(vec![]);
    }
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT customer_id, {col} FROM followups
         WHERE status = 'done' AND deleted_at IS NULL AND done_at >= ?1 AND done_at < ?2
           AND (?3 IS NULL OR owner_id = ?3)
           AND customer_id NOT IN (SELECT id FROM customers WHERE deleted_at IS NOT NULL)
           AND instr({hay}, ?4) > 0"
    ))?;
    let mut rows = stmt.query(params![f.from, f.to, f.owner_id, needle])?;
    let mut seg = Segmenter::default();
    let mut words = vec![];
    let mut ids: Vec<String> = vec![];
    while let Some(r) = rows.next()? {
        let text: String = r.get(1)?;
        seg.keywords(text.trim(), &mut words);
        if words.contains(&needle) {
            ids.push(r.get(0)?);
        }
    }
    ids.sort_unstable();
    ids.dedup();
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Cutting clause by clause (with the memo) finds exactly what
        /// cutting the whole text at once finds.
        #[test]
        fn clause_by_clause_equals_the_whole_text(parts in prop::collection::vec(
            prop::sample::select(vec![
                "客户价格敏感", "希望快速交付", "，", "。", " ", "技术方案v2.0", "ERP系统",
                "第12次", "！", "——", "“报价”", "需求不明确", "C++开发", "、", "100%", "\n",
                "售后服务", "合同", "条款", "价格", "敏感",
            ]),
            0..12,
        )) {
            let text: String = parts.concat();
            let mut seg = Segmenter::default();
            let mut a = vec![];
            seg.keywords(&text, &mut a);
            // twice: the second time from the memo
            let mut b = vec![];
            seg.keywords(&text, &mut b);
            prop_assert_eq!(&a, &b);
            prop_assert_eq!(a, cut_clause(&text));
        }
    }
}
