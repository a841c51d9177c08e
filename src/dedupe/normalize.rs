//! Company-name normalisation: the name reduced to what identifies the
//! company (its "core": 字号 + industry), with the parts that vary between
//! the ways people type it set aside.
//!
//! Steps: NFKC (全角→半角, ideographic space), traditional → simplified,
//! lower case; bracketed parts （中国）/(北京) removed (a place in them is
//! kept as place evidence); spaces and punctuation removed; a trailing
//! branch (…北京分公司) split off; legal suffixes (股份有限公司, 有限责任公司,
//! 有限公司, 集团, 公司, Co., Ltd., Inc., LLC …) removed; leading
//! province/city/district names removed and kept as the place.

use super::regions::{province_of, Level, REGIONS};
use unicode_normalization::UnicodeNormalization;

/// A normalised company name.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NormName {
    /// What identifies the company: no place, legal form, brackets, spaces.
    pub core: String,
    /// Provinces named in the name (leading place or bracket), as 2-digit codes.
    pub provinces: Vec<u8>,
    /// Cities/counties named in the name (4- or 6-digit codes).
    pub places: Vec<u32>,
    /// The branch (分公司) part, normalised: `Some("北京")` for …北京分公司,
    /// `Some("")` for a branch whose place is not recognised.
    pub branch: Option<String>,
    /// A second reading of the core when it starts with a county name
    /// written without its suffix (张家港捷新机电 → 捷新机电).
    pub alt_cores: Vec<String>,
    /// Written with a registered legal form (有限公司, 股份有限公司, …).
    pub legal: bool,
}

fn is_admin_suffix(c: char) -> bool {
    matches!(c, '省' | '市' | '县' | '区' | '州' | '旗' | '盟')
}

/// Pack a toneless pinyin syllable (≤ 6 letters a–z) into a u32; other
/// characters are kept as themselves with the top bit set.
fn pack(py: &str) -> u32 {
    let mut v: u32 = 0;
    for b in py.bytes().take(6) {
        let d = if b.is_ascii_lowercase() {
            (b - b'a' + 1) as u32
        } else {
            26
        };
        v = v * 27 + d;
    }
    v
}

/// The first letter of a packed syllable (for initials), or the character.
pub fn initial(s: u32) -> char {
    if s & 0x8000_0000 != 0 {
        return char::from_u32(s & 0x7fff_ffff).unwrap_or('?');
    }
    let mut v = s;
    let mut first = 0;
    while v > 0 {
        first = v % 27;
        v /= 27;
    }
    (b'a' + (first as u8).saturating_sub(1)) as char
}

/// Toneless pinyin of each character (v for ü), packed: homophones get
/// the same sequence (腾云 / 藤云).
pub fn syllables(chars: &[char]) -> Vec<u32> {
    use pinyin::ToPinyin;
    chars
        .iter()
        .map(|c| match c.to_pinyin() {
            Some(p) => {
                let plain: String = p
                    .plain()
                    .chars()
                    .map(|c| if c == 'ü' { 'v' } else { c })
                    .collect();
                pack(&plain)
            }
            None => 0x8000_0000 | (*c as u32),
        })
        .collect()
}

/// Latin legal-form words dropped at the end of an English name.
const LATIN_LEGAL: &[&str] = &[
    "co",
    "ltd",
    "limited",
    "inc",
    "incorporated",
    "llc",
    "corp",
    "corporation",
    "company",
    "gmbh",
    "plc",
    "group",
    "holdings",
    "lp",
    "llp",
    "sa",
    "ag",
    "bv",
];

/// Chinese legal-form endings, longest first.
const LEGAL: &[&str] = &[
    "集团股份有限公司",
    "集团有限责任公司",
    "集团有限公司",
    "股份有限公司",
    "有限责任公司",
    "股份公司",
    "有限公司",
    "集团公司",
    "控股集团",
    "总公司",
    "公司",
    "集团",
];

/// Branch endings: the part before them is the branch's place.
const BRANCH: &[&str] = &[
    "分公司",
    "分店",
    "办事处",
    "分厂",
    "营业部",
    "分部",
    "分行",
    "支行",
    "分院",
];

/// Text-level normalisation: NFKC, traditional → simplified, lower case.
/// Keeps spaces and punctuation (the name parser needs them).
pub fn fold(text: &str) -> String {
    let nfkc: String = text.nfkc().collect();
    fast2s::convert(&nfkc)
        .chars()
        .map(|c| match c {
            // Variants the table keeps but names use in the standard form.
            '谘' => '咨',
            c => c,
        })
        .flat_map(char::to_lowercase)
        .collect()
}

fn is_open(c: char) -> bool {
    matches!(
        c,
        '(' | '[' | '{' | '【' | '〔' | '〖' | '「' | '『' | '《' | '<'
    )
}
fn is_close(c: char) -> bool {
    matches!(
        c,
        ')' | ']' | '}' | '】' | '〕' | '〗' | '」' | '』' | '》' | '>'
    )
}

/// Remove bracketed parts; return the rest and the bracket contents.
fn split_brackets(text: &str) -> (String, Vec<String>) {
    let mut rest = String::new();
    let mut inside: Vec<String> = vec![];
    let mut depth = 0usize;
    for c in text.chars() {
        if is_open(c) {
            depth += 1;
            if depth == 1 {
                inside.push(String::new());
            }
        } else if is_close(c) {
            depth = depth.saturating_sub(1);
        } else if depth > 0 {
            if let Some(s) = inside.last_mut() {
                s.push(c);
            }
        } else {
            rest.push(c);
        }
    }
    // A bracket opened and never closed is a stray character: what follows
    // it is part of the name ("(北京公科" = "北京公科").
    if depth > 0 {
        if let Some(open) = inside.pop() {
            rest.push_str(&open);
        }
    }
    (rest, inside)
}

fn keep_char(c: char) -> bool {
    c.is_alphanumeric()
}

/// Drop Latin legal-form words at the end (`Tencent Technology Co., Ltd.`).
fn strip_latin_legal(text: &str) -> String {
    let mut words: Vec<&str> = text
        .split(|c: char| !keep_char(c))
        .filter(|w| !w.is_empty())
        .collect();
    let latin = words.iter().all(|w| w.is_ascii());
    if latin {
        while words.len() > 1 && LATIN_LEGAL.contains(words.last().unwrap()) {
            words.pop();
        }
        words.concat()
    } else {
        // Mixed: only drop trailing Latin legal words after Chinese text.
        while words.len() > 1
            && words.last().is_some_and(|w| w.is_ascii())
            && LATIN_LEGAL.contains(words.last().unwrap())
        {
            words.pop();
        }
        words.concat()
    }
}

/// How many characters at the end of a company name are its legal form
/// (长沙瑞丰机械有限责任公司 → 6): words every company shares, so search
/// does not start pinyin readings inside them.
pub fn legal_suffix_chars(name: &str) -> usize {
    let chars: Vec<char> = name.trim_end().chars().collect();
    let n = chars.len();
    n - strip_legal(chars).len()
}

fn strip_legal(s: Vec<char>) -> Vec<char> {
    strip_legal_flag(s).0
}

/// Strip legal suffixes; also say whether a registered form was among them.
fn strip_legal_flag(mut s: Vec<char>) -> (Vec<char>, bool) {
    let mut registered = false;
    loop {
        let text: String = s.iter().collect();
        let mut changed = false;
        for l in LEGAL {
            if let Some(stem) = text.strip_suffix(l) {
                if stem.chars().count() >= 2 {
                    s = stem.chars().collect();
                    changed = true;
                    registered |= l.contains("有限") || l.contains("股份");
                }
                break;
            }
        }
        if !changed {
            return (s, registered);
        }
    }
}

/// Split a trailing branch: 腾云科技有限公司北京分公司 → (腾云科技有限公司, 北京).
fn split_branch(s: &[char]) -> (Vec<char>, Option<String>) {
    let text: String = s.iter().collect();
    for b in BRANCH {
        let Some(stem) = text.strip_suffix(b) else {
            continue;
        };
        let stem: Vec<char> = stem.chars().collect();
        if stem.len() < 2 {
            break;
        }
        // The branch part follows the head office's legal suffix when there is one.
        let stem_text: String = stem.iter().collect();
        let mut head_end = None;
        for l in LEGAL.iter().chain(["有限"].iter()) {
            if let Some(i) = stem_text.rfind(l) {
                let end = stem_text[..i + l.len()].chars().count();
                if end >= 2 && head_end.is_none_or(|e| end > e) {
                    head_end = Some(end);
                }
            }
        }
        let (head, place): (Vec<char>, Vec<char>) = match head_end {
            Some(e) => (stem[..e].to_vec(), stem[e..].to_vec()),
            None => {
                // No legal suffix: a trailing place name is the branch.
                let mut split = None;
                for start in 1..stem.len().saturating_sub(1) {
                    let tail: String = stem[start..].iter().collect();
                    if stem.len() - start >= 2 && REGIONS.get(&tail).is_some() {
                        split = Some(start);
                        break;
                    }
                }
                match split {
                    Some(i) if i >= 2 => (stem[..i].to_vec(), stem[i..].to_vec()),
                    _ => (stem.clone(), vec![]),
                }
            }
        };
        let place: String = place.iter().collect();
        return (head, Some(place_key(&place)));
    }
    (s.to_vec(), None)
}

/// A branch's place in one form: 北京市 → 北京.
fn place_key(place: &str) -> String {
    match REGIONS.get(place) {
        Some(p) if p.full => super::regions::short_forms(place)
            .into_iter()
            .next()
            .unwrap_or_else(|| place.to_string()),
        _ => place.to_string(),
    }
}

/// Normalise a company name.
pub fn normalize_name(name: &str) -> NormName {
    let folded = fold(name);
    let (rest, brackets) = split_brackets(&folded);
    let mut out = NormName::default();
    for b in &brackets {
        let b: String = b.chars().filter(|c| keep_char(*c)).collect();
        let provs = super::regions::parse_region(&b);
        out.provinces.extend(provs);
    }
    let cleaned = strip_latin_legal(&rest);
    let chars: Vec<char> = cleaned.chars().filter(|c| keep_char(*c)).collect();
    let (head, branch) = split_branch(&chars);
    out.branch = branch;
    let (mut s, legal) = strip_legal_flag(head);
    out.legal = legal;
    // Leading places: full forms (深圳市, 南山区) at any level; short forms
    // (深圳) of provinces and cities, and of counties inside the place just
    // removed (广西靖西…); places typed with a homophone (香潭市 for 湘潭市).
    // What remains must keep at least 2 (full) or 3 (short) characters, so
    // 杭州银行 keeps its place.
    let mut prev: Vec<u32> = vec![];
    loop {
        let (mut n, p, by_sound) = match REGIONS.longest_prefix(&s) {
            Some((n, p)) => (n, p, false),
            None => {
                let syl = syllables(&s[..s.len().min(8)]);
                match REGIONS.longest_prefix_by_sound(&syl) {
                    Some((n, p)) => (n, p, true),
                    None => break,
                }
            }
        };
        // 沙湾 + 县 (now 沙湾市), 红河 + 州: the place with another suffix.
        // Written out in full (深圳市, 香潭市), not a short form (杭州).
        let mut typed_full = if by_sound {
            is_admin_suffix(s[n - 1])
        } else {
            p.full
        };
        if !typed_full && n < s.len() && is_admin_suffix(s[n]) {
            n += 1;
            typed_full = true;
        }
        let min_rest = if typed_full { 2 } else { 3 };
        if s.len() < n + min_rest {
            break;
        }
        let inside_prev = prev
            .iter()
            .any(|o| p.codes.iter().any(|c| super::regions::within(*c, *o)));
        let allowed = if by_sound {
            // A homophone of a place with its suffix (香潭市) is a typo;
            // without it (信翔 ~ 新乡) it is as likely a 字号.
            typed_full
        } else {
            typed_full || p.level != Level::County || inside_prev
        };
        if !allowed {
            // 张家港捷新机电 / 北经泉江科技: a county without its suffix, or a
            // place by sound, may be a place or part of the 字号; compare
            // both readings.
            out.alt_cores.push(s[n..].iter().collect());
            break;
        }
        if p.level == Level::County && !typed_full {
            // Stripped as a county inside the place before; keep the
            // reading where it is part of the name (北戴河集…).
            out.alt_cores.push(s.iter().collect());
        }
        let mut provs: Vec<u8> = p.codes.iter().map(|c| province_of(*c)).collect();
        provs.sort_unstable();
        provs.dedup();
        if out.provinces.is_empty() {
            out.provinces = provs;
        } else {
            let both: Vec<u8> = out
                .provinces
                .iter()
                .copied()
                .filter(|x| provs.contains(x))
                .collect();
            if !both.is_empty() {
                out.provinces = both;
            }
        }
        if p.level != Level::Province && p.codes.len() == 1 {
            out.places.push(p.codes[0]);
        }
        prev = p.codes.clone();
        s.drain(..n);
        // Township after the county: 五常市山河镇鸿顺物业 → 鸿顺物业.
        for k in 2..=3 {
            if s.len() > k + 3 && matches!(s[k], '镇' | '乡') {
                out.alt_cores.push(s.iter().collect());
                s.drain(..=k);
                break;
            }
        }
        // A legal suffix may sit before the place was removed (…市公司): strip again.
        s = strip_legal(s);
    }
    out.provinces.sort_unstable();
    out.provinces.dedup();
    out.core = s.into_iter().collect();
    if out.core.is_empty() {
        // Nothing left (a name of only punctuation): keep the folded text.
        out.core = folded.chars().filter(|c| keep_char(*c)).collect();
    }
    out
}

/// Normalise a contact's name: no spaces; 张先生/张女士/张总/张经理/张工
/// become the surname alone, flagged as such.
pub fn normalize_contact(name: &str) -> Option<(String, bool)> {
    let s: String = fold(name).chars().filter(|c| keep_char(*c)).collect();
    if s.is_empty() {
        return None;
    }
    for t in [
        "先生",
        "女士",
        "小姐",
        "总",
        "经理",
        "总经理",
        "老板",
        "工",
        "主任",
        "老师",
    ] {
        if let Some(stem) = s.strip_suffix(t) {
            if (1..=2).contains(&stem.chars().count()) {
                return Some((stem.to_string(), true));
            }
        }
    }
    Some((s, false))
}

/// Normalise a phone for matching: a Chinese mobile as its 11 digits, other
/// numbers as their digits; None when too short to mean anything.
pub fn normalize_phone(text: &str) -> Option<String> {
    // Stored numbers are already normalised: 11 digits starting with 1.
    if text.len() == 11 && text.starts_with('1') && text.bytes().all(|b| b.is_ascii_digit()) {
        return Some(text.to_string());
    }
    let d = match crate::validate::normalize_phone(text) {
        Ok((n, _)) => n.chars().filter(|c| c.is_ascii_digit()).collect::<String>(),
        Err(_) => text.chars().filter(|c| c.is_ascii_digit()).collect(),
    };
    (d.len() >= 7).then_some(d)
}

/// Normalise an email for matching.
pub fn normalize_email(text: &str) -> Option<String> {
    let e = fold(text).trim().to_string();
    (e.contains('@') && e.len() >= 5).then_some(e)
}
