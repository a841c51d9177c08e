//! China's administrative divisions (assets/regions.tsv, see assets/regions.md):
//! recognise place names at the start of a company name or in a region field,
//! in their full (`广东省`, `深圳市`, `南山区`) and short (`广东`, `深圳`) forms.

use std::collections::HashMap;
use std::sync::LazyLock;

/// Administrative level of a division.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Province,
    City,
    County,
}

/// One way of writing a division: which divisions it can name (a short
/// form such as 朝阳 can name several) and whether it is the full form.
#[derive(Debug, Clone)]
pub struct PlaceName {
    /// Division codes (2, 4 or 6 digits) this text can name.
    pub codes: Vec<u32>,
    pub level: Level,
    /// Written with its administrative suffix (省, 市, 区, 县, 自治州, …).
    pub full: bool,
}

pub struct Regions {
    names: HashMap<String, PlaceName>,
    /// The same names by their toneless pinyin, for homophone typos (香潭市 → 湘潭市).
    by_sound: HashMap<Vec<u32>, PlaceName>,
    max_chars: usize,
}

/// Ethnic names that sit between a place and 自治州/自治县/自治旗.
const MINORITIES: &[&str] = &[
    "朝鲜",
    "土家",
    "苗",
    "藏",
    "羌",
    "彝",
    "布依",
    "侗",
    "哈尼",
    "傣",
    "白",
    "景颇",
    "傈僳",
    "回",
    "蒙古",
    "哈萨克",
    "柯尔克孜",
    "壮",
    "维吾尔",
    "瑶",
    "畲",
    "黎",
    "满",
    "达斡尔",
    "鄂温克",
    "仡佬",
    "水",
    "仫佬",
    "毛南",
    "纳西",
    "拉祜",
    "佤",
    "普米",
    "怒",
    "独龙",
    "土",
    "撒拉",
    "保安",
    "东乡",
    "裕固",
    "锡伯",
    "塔吉克",
    "鄂伦春",
    "各",
];

fn level_of(code: &str) -> Level {
    match code.len() {
        2 => Level::Province,
        4 => Level::City,
        _ => Level::County,
    }
}

/// Short forms of a division name: 广西壮族自治区 → 广西, 深圳市 → 深圳,
/// 延边朝鲜族自治州 → 延边. Forms shorter than two characters are not used.
pub fn short_forms(name: &str) -> Vec<String> {
    let mut out = vec![];
    for auto in ["自治区", "自治州", "自治县", "自治旗", "特别行政区"] {
        if let Some(stem) = name.strip_suffix(auto) {
            // Cut before the first ethnic name: 延边朝鲜族 → 延边.
            let stem_chars: Vec<char> = stem.chars().collect();
            let mut cut = stem_chars.len();
            for i in 2..stem_chars.len() {
                let rest: String = stem_chars[i..].iter().collect();
                if MINORITIES
                    .iter()
                    .any(|m| rest.starts_with(m) && (rest.ends_with('族') || rest == *m))
                {
                    cut = i;
                    break;
                }
            }
            let short: String = stem_chars[..cut].iter().collect();
            if short.chars().count() >= 2 {
                out.push(short);
            }
            return out;
        }
    }
    for suffix in [
        "林区", "特区", "新区", "地区", "省", "市", "区", "县", "旗", "盟",
    ] {
        if let Some(stem) = name.strip_suffix(suffix) {
            if stem.chars().count() >= 2 {
                out.push(stem.to_string());
            }
            break;
        }
    }
    out
}

impl Regions {
    fn load() -> Regions {
        let mut names: HashMap<String, PlaceName> = HashMap::new();
        let mut add = |text: String, code: u32, level: Level, full: bool| {
            let e = names.entry(text).or_insert(PlaceName {
                codes: vec![],
                level,
                full,
            });
            if !e.codes.contains(&code) {
                e.codes.push(code);
            }
            // The most important reading wins (朝阳市 over 朝阳区 for 朝阳).
            if level < e.level {
                e.level = level;
            }
            e.full |= full;
        };
        for line in include_str!("../../assets/regions.tsv").lines() {
            let Some((code, name)) = line.split_once('\t') else {
                continue;
            };
            let Ok(n) = code.parse::<u32>() else { continue };
            let level = level_of(code);
            add(name.to_string(), n, level, true);
            for s in short_forms(name) {
                add(s, n, level, false);
            }
        }
        let max_chars = names.keys().map(|k| k.chars().count()).max().unwrap_or(0);
        let mut by_sound: HashMap<Vec<u32>, PlaceName> = HashMap::new();
        for (text, p) in &names {
            let chars: Vec<char> = text.chars().collect();
            let key = super::normalize::syllables(&chars);
            match by_sound.get_mut(&key) {
                Some(e) => {
                    for c in &p.codes {
                        if !e.codes.contains(c) {
                            e.codes.push(*c);
                        }
                    }
                    e.level = e.level.min(p.level);
                    e.full |= p.full;
                }
                None => {
                    by_sound.insert(key, p.clone());
                }
            }
        }
        Regions {
            names,
            by_sound,
            max_chars,
        }
    }

    pub fn get(&self, text: &str) -> Option<&PlaceName> {
        self.names.get(text)
    }

    /// The longest place name at the start of `chars`, with its length.
    pub fn longest_prefix(&self, chars: &[char]) -> Option<(usize, &PlaceName)> {
        let mut buf = String::new();
        let mut best = None;
        for (i, c) in chars.iter().take(self.max_chars).enumerate() {
            buf.push(*c);
            if i >= 1 {
                if let Some(p) = self.names.get(&buf) {
                    best = Some((i + 1, p));
                }
            }
        }
        best
    }

    /// Like [`Regions::longest_prefix`], by pinyin (`syllables` of `chars`).
    pub fn longest_prefix_by_sound(&self, syllables: &[u32]) -> Option<(usize, &PlaceName)> {
        let mut best = None;
        for n in 2..=syllables.len().min(self.max_chars) {
            if let Some(p) = self.by_sound.get(&syllables[..n]) {
                best = Some((n, p));
            }
        }
        best
    }
}

/// Is `code` inside the division `outer` (same code prefix)?
pub fn within(code: u32, outer: u32) -> bool {
    let (c, o) = (code.to_string(), outer.to_string());
    c.len() > o.len() && c.starts_with(&o)
}

pub static REGIONS: LazyLock<Regions> = LazyLock::new(Regions::load);

/// The province (2-digit code) of a division code.
pub fn province_of(code: u32) -> u8 {
    let mut c = code;
    while c >= 100 {
        c /= 100;
    }
    c as u8
}

/// Parse a region as typed (`广东`, `广东省深圳市`, `深圳`, `广东 深圳`) into
/// the set of provinces it can mean. Empty when nothing is recognised.
pub fn parse_region(text: &str) -> Vec<u8> {
    let chars: Vec<char> = text
        .chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '/' | '-' | ',' | '，' | '、' | '·'))
        .collect();
    let mut provs: Vec<u8> = vec![];
    let mut i = 0;
    while i < chars.len() {
        match REGIONS.longest_prefix(&chars[i..]) {
            Some((n, p)) => {
                let mut here: Vec<u8> = p.codes.iter().map(|c| province_of(*c)).collect();
                here.sort_unstable();
                here.dedup();
                provs = if provs.is_empty() {
                    here
                } else {
                    let both: Vec<u8> =
                        provs.iter().copied().filter(|p| here.contains(p)).collect();
                    if both.is_empty() {
                        provs
                    } else {
                        both
                    }
                };
                i += n;
            }
            None => break,
        }
    }
    provs
}
