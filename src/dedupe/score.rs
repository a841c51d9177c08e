//! Evidence that two records are the same company, combined into one score
//! in 0..=1 with the reasons a person can check.

use super::normalize::{
    normalize_contact, normalize_email, normalize_name, normalize_phone, syllables,
};
use super::regions::parse_region;
use super::Record;
use serde::Serialize;
use std::borrow::Cow;
use ts_rs::TS;

/// One piece of evidence for (positive weight) or against (negative) a match.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export, rename = "DupReason")]
pub struct Reason {
    /// Stable key: `name_same`, `name_similar`, `short_name`, `pinyin_same`,
    /// `mobile_same`, `email_same`, `contact_same`, `region_same`,
    /// `region_different`, `place_different`, `branch_different`, `number_different`.
    #[ts(type = "string")]
    pub kind: Cow<'static, str>,
    /// What it added to (or took from) the score.
    pub weight: f32,
    /// For people: `名称相似 0.93`, `手机号相同`.
    #[ts(type = "string")]
    pub zh: Cow<'static, str>,
    #[ts(type = "string")]
    pub en: Cow<'static, str>,
}

impl Reason {
    fn new(
        kind: &'static str,
        weight: f32,
        zh: impl Into<Cow<'static, str>>,
        en: impl Into<Cow<'static, str>>,
    ) -> Reason {
        Reason {
            kind: Cow::Borrowed(kind),
            weight,
            zh: zh.into(),
            en: en.into(),
        }
    }
}

/// A scored pair.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export, rename = "DupMatch")]
pub struct Match {
    pub score: f32,
    pub reasons: Vec<Reason>,
}

/// Weights and thresholds. The defaults favour precision: a wrong merge
/// costs more than a missed one.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, serde::Deserialize, TS)]
#[serde(default)]
#[ts(export, rename = "DedupeSettings")]
pub struct Settings {
    /// Pairs scoring at least this are duplicates (scan, grouping).
    pub threshold: f32,
    /// Candidates shown while typing a new customer score at least this.
    pub hint_threshold: f32,
    /// Same normalised mobile/landline on any contact.
    pub phone_bonus: f32,
    /// Same email on any contact.
    pub email_bonus: f32,
    /// Same contact name (full name, not 张先生).
    pub contact_bonus: f32,
    /// Regions agree.
    pub region_bonus: f32,
    /// Regions are known on both sides and disjoint.
    pub region_penalty: f32,
    /// The names carry places in different provinces (杭州银行 / 长沙银行).
    pub place_penalty: f32,
    /// Different branches, or a branch and its head office.
    pub branch_penalty: f32,
    /// Blocks larger than this are compared only between near neighbours.
    pub max_block: usize,
    /// Neighbour window inside a large block.
    pub window: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            threshold: 0.85,
            hint_threshold: 0.7,
            phone_bonus: 0.2,
            email_bonus: 0.2,
            contact_bonus: 0.05,
            region_bonus: 0.02,
            region_penalty: 0.05,
            place_penalty: 0.3,
            branch_penalty: 0.5,
            max_block: 20,
            window: 10,
        }
    }
}

/// Another reading of a name core and its packed pinyin.
pub type AltReading = (Box<[char]>, Box<[u32]>);

/// A record ready for comparison: everything normalised once, in boxed
/// slices (a million of these are held by a full scan, so every word
/// counts: about 350 bytes each).
#[derive(Debug, Clone)]
pub struct Prepared {
    /// Written with a registered legal form (有限公司, …).
    pub legal: bool,
    /// Provinces named in the name (see [`super::normalize::NormName::provinces`]).
    pub name_provinces: Box<[u8]>,
    /// The branch (分公司) part, if any (see [`super::normalize::NormName::branch`]).
    pub branch: Option<Box<str>>,
    pub core: Box<[char]>,
    /// Other readings of the core (see [`super::normalize::NormName::alt_cores`]) and their pinyin.
    pub alt: Box<[AltReading]>,
    /// Toneless pinyin syllables of the core, packed (see [`syllables`]).
    pub syllables: Box<[u32]>,
    /// Provinces from the region field, else from the name.
    pub provinces: Box<[u8]>,
    /// Phones, e-mails and full contact names (not 张先生) are only ever
    /// compared for equality: hashes of the normalised values, sorted.
    pub phones: Box<[u64]>,
    pub emails: Box<[u64]>,
    pub contacts: Box<[u64]>,
}

fn hash_of(text: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut h);
    h.finish()
}

fn hashes(values: impl Iterator<Item = String>) -> Box<[u64]> {
    let mut v: Vec<u64> = values.map(|x| hash_of(&x)).collect();
    v.sort_unstable();
    v.dedup();
    v.into_boxed_slice()
}

pub fn prepare(r: &Record) -> Prepared {
    let name = normalize_name(&r.name);
    let core: Box<[char]> = name.core.chars().collect();
    let syl = syllables(&core).into_boxed_slice();
    let alt = name
        .alt_cores
        .iter()
        .map(|a| {
            let c: Box<[char]> = a.chars().collect();
            let s = syllables(&c).into_boxed_slice();
            (c, s)
        })
        .collect();
    let region_provinces = parse_region(&r.region);
    let provinces = if region_provinces.is_empty() {
        name.provinces.clone()
    } else {
        region_provinces
    };
    let phones = hashes(r.mobiles.iter().filter_map(|m| normalize_phone(m)));
    let emails = hashes(r.emails.iter().filter_map(|e| normalize_email(e)));
    let contacts = hashes(
        r.contacts
            .iter()
            .filter_map(|c| normalize_contact(c))
            .filter(|(n, only_surname)| !only_surname && n.chars().count() >= 2)
            .map(|(n, _)| n),
    );
    Prepared {
        legal: name.legal,
        name_provinces: name.provinces.into_boxed_slice(),
        branch: name.branch.map(String::into_boxed_str),
        core,
        alt,
        syllables: syl,
        provinces: provinces.into_boxed_slice(),
        phones,
        emails,
        contacts,
    }
}

fn disjoint<T: PartialEq>(a: &[T], b: &[T]) -> bool {
    !a.is_empty() && !b.is_empty() && !a.iter().any(|x| b.contains(x))
}

fn shares<T: PartialEq>(a: &[T], b: &[T]) -> bool {
    a.iter().any(|x| b.contains(x))
}

fn starts_with<T: PartialEq>(long: &[T], short: &[T]) -> bool {
    long.len() >= short.len() && &long[..short.len()] == short
}

/// The runs of digits in a name, in order.
fn numbers(chars: &[char]) -> Vec<String> {
    let mut out: Vec<String> = vec![];
    let mut cur = String::new();
    for c in chars {
        if c.is_ascii_digit() {
            cur.push(*c);
        } else if !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// One reading of a core name: characters and their pinyin.
struct Form<'a> {
    chars: &'a [char],
    syl: &'a [u32],
    legal: bool,
    main: bool,
}

fn forms(p: &Prepared) -> Vec<Form<'_>> {
    let mut v = vec![Form {
        chars: &p.core,
        syl: &p.syllables,
        legal: p.legal,
        main: true,
    }];
    for (c, s) in p.alt.iter() {
        v.push(Form {
            chars: c,
            syl: s,
            legal: p.legal,
            main: false,
        });
    }
    v
}

fn levenshtein<T: PartialEq>(a: &[T], b: &[T]) -> usize {
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, x) in a.iter().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, y) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = if x == y {
                prev
            } else {
                1 + prev.min(cur).min(row[j])
            };
            prev = cur;
        }
    }
    row[b.len()]
}

/// 1 − edit distance / longer length.
fn edit_similarity<T: PartialEq + Clone>(a: &[T], b: &[T]) -> f32 {
    let n = a.len().max(b.len());
    if n == 0 {
        return 1.0;
    }
    1.0 - levenshtein(a, b) as f32 / n as f32
}

fn compare_forms(a: &Form, b: &Form) -> (f32, Vec<Reason>) {
    if a.chars.is_empty() || b.chars.is_empty() {
        return (0.0, vec![]);
    }
    if a.chars == b.chars {
        return (
            1.0,
            vec![Reason::new("name_same", 1.0, "名称相同", "same name")],
        );
    }
    // Different numbers name different entities (第3分店 / 第13分店,
    // 公司12 / 公司120), however alike the rest is.
    let (na, nb) = (numbers(a.chars), numbers(b.chars));
    if !na.is_empty() && !nb.is_empty() && na != nb {
        return (
            0.3,
            vec![Reason::new(
                "number_different",
                -0.5,
                "名称中的编号不同",
                "different numbers in the name",
            )],
        );
    }
    if a.syl == b.syl {
        return (
            0.96,
            vec![Reason::new("pinyin_same", 0.96, "拼音相同", "same pinyin")],
        );
    }
    let (s, l) = if a.chars.len() <= b.chars.len() {
        (a, b)
    } else {
        (b, a)
    };
    let short_len = s.chars.len();
    if short_len >= 4 || (short_len == 3 && l.chars.len() <= 5) {
        // Two registered names where one extends the other are two
        // companies more often than one (同创建筑 / 同创建筑装饰工程).
        let base = if s.legal && l.legal { 0.8 } else { 0.9 };
        let extra = 0.01 * (short_len.min(7) as f32 - 3.0);
        if starts_with(l.chars, s.chars) {
            let v = base + extra;
            return (
                v,
                vec![Reason::new(
                    "short_name",
                    v,
                    "简称包含",
                    "short name contained",
                )],
            );
        }
        if starts_with(l.syl, s.syl) {
            let v = base - 0.02 + extra;
            return (
                v,
                vec![
                    Reason::new("short_name", v, "简称包含", "short name contained"),
                    Reason::new("pinyin_same", 0.0, "拼音相同", "same pinyin"),
                ],
            );
        }
    }
    let by_chars = edit_similarity(a.chars, b.chars);
    let by_sound = edit_similarity(a.syl, b.syl) - 0.02;
    let v = by_chars.max(by_sound).clamp(0.0, 1.0);
    let v = (v * 100.0).round() / 100.0;
    let mut reasons = vec![Reason::new(
        "name_similar",
        v,
        format!("名称相似 {v:.2}"),
        format!("similar name {v:.2}"),
    )];
    if by_sound > by_chars + 0.02 {
        reasons.push(Reason::new(
            "pinyin_similar",
            0.0,
            "拼音相近",
            "similar pinyin",
        ));
    }
    (v, reasons)
}

/// Name similarity in 0..=1 with its reasons: the best over the readings
/// of both names. Symmetric.
pub fn name_similarity(a: &Prepared, b: &Prepared) -> (f32, Vec<Reason>) {
    let mut best: Option<(f32, Vec<Reason>)> = None;
    for fa in forms(a) {
        for fb in forms(b) {
            if !fa.main && !fb.main {
                continue;
            }
            let (v, r) = compare_forms(&fa, &fb);
            if best.as_ref().is_none_or(|(bv, _)| v > *bv) {
                best = Some((v, r));
            }
        }
    }
    best.unwrap_or((0.0, vec![]))
}

/// Score a pair. Symmetric: `score(a, b) == score(b, a)`.
pub fn score(a: &Prepared, b: &Prepared, s: &Settings) -> Match {
    let (name, mut reasons) = name_similarity(a, b);
    let mut total = name;
    if shares(&a.phones, &b.phones) {
        total += s.phone_bonus;
        reasons.push(Reason::new(
            "mobile_same",
            s.phone_bonus,
            "手机号相同",
            "same phone",
        ));
    }
    if shares(&a.emails, &b.emails) {
        total += s.email_bonus;
        reasons.push(Reason::new(
            "email_same",
            s.email_bonus,
            "邮箱相同",
            "same email",
        ));
    }
    if shares(&a.contacts, &b.contacts) {
        total += s.contact_bonus;
        reasons.push(Reason::new(
            "contact_same",
            s.contact_bonus,
            "联系人相同",
            "same contact",
        ));
    }
    if disjoint(&a.name_provinces, &b.name_provinces) {
        total -= s.place_penalty;
        reasons.push(Reason::new(
            "place_different",
            -s.place_penalty,
            "名称中地名不同",
            "different place in the name",
        ));
    } else if disjoint(&a.provinces, &b.provinces) {
        total -= s.region_penalty;
        reasons.push(Reason::new(
            "region_different",
            -s.region_penalty,
            "地区不同",
            "different region",
        ));
    } else if shares(&a.provinces, &b.provinces) {
        total += s.region_bonus;
        reasons.push(Reason::new(
            "region_same",
            s.region_bonus,
            "同一地区",
            "same region",
        ));
    }
    if a.branch != b.branch {
        total -= s.branch_penalty;
        let (zh, en) = if a.branch.is_some() && b.branch.is_some() {
            ("分公司不同", "different branches")
        } else {
            ("分公司与总公司", "a branch and its head office")
        };
        reasons.push(Reason::new("branch_different", -s.branch_penalty, zh, en));
    }
    let total = (total.clamp(0.0, 1.0) * 1000.0).round() / 1000.0;
    Match {
        score: total,
        reasons,
    }
}
