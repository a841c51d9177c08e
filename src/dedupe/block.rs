//! Blocking: a record is compared only with records that share a key —
//! the pinyin of the first two syllables of its core name (so homophones
//! and traditional characters meet), the pinyin initials of its first four
//! characters, a phone or an email. Large blocks are compared only between
//! neighbours in name order, so the number of compared pairs grows about
//! linearly with the base.

use super::normalize::initial;
use super::score::{Prepared, Settings};
use std::hash::{Hash, Hasher};

fn key_of(kind: u8, item: impl Hash) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    kind.hash(&mut h);
    item.hash(&mut h);
    h.finish()
}

/// The name keys of a record as text: `n` + the first two syllables of each
/// reading of the core, `i` + the initials of its first four. Stored in
/// `dedupe_keys` (text, since a hash may change between builds) and hashed
/// by [`keys`] for the scan, so both meet the same candidates.
pub fn name_keys(p: &Prepared) -> Vec<String> {
    let mut out = Vec::with_capacity(3);
    for syl in std::iter::once(&p.syllables).chain(p.alt.iter().map(|a| &a.1)) {
        if !syl.is_empty() {
            out.push(format!("n{}", sort_text(&syl[..syl.len().min(2)])));
        }
    }
    if p.syllables.len() >= 3 {
        let init: String = p.syllables.iter().take(4).map(|s| initial(*s)).collect();
        out.push(format!("i{init}"));
    }
    out
}

/// Packed syllables as fixed-width hex: text order = the scan's order of
/// syllable lists (the neighbours in a large block).
pub fn sort_text(syllables: &[u32]) -> String {
    syllables.iter().map(|s| format!("{s:08x}")).collect()
}

/// Blocking keys of one record (hashed).
pub fn keys(p: &Prepared) -> Vec<u64> {
    let mut out = Vec::with_capacity(4);
    for k in name_keys(p) {
        out.push(key_of(b'n', k));
    }
    for m in &p.phones {
        out.push(key_of(b'm', m));
    }
    for e in &p.emails {
        out.push(key_of(b'e', e));
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// Candidate pairs `(i, j)` with `i < j`, each once, in order. Blocks and
/// pairs live in flat sorted vectors (no map of blocks, no set of seen
/// pairs): at a million records that is the difference between a few
/// hundred megabytes and a few gigabytes.
pub fn candidate_pairs(records: &[Prepared], s: &Settings) -> Vec<(u32, u32)> {
    packed_candidate_pairs(records, s)
        .into_iter()
        .map(unpack)
        .collect()
}

/// A candidate pair `a << 32 | b` as `(a, b)`.
pub fn unpack(p: u64) -> (u32, u32) {
    ((p >> 32) as u32, p as u32)
}

/// [`candidate_pairs`] packed in one `u64` each (half the memory of a
/// second vector at ten million pairs).
pub fn packed_candidate_pairs(records: &[Prepared], s: &Settings) -> Vec<u64> {
    let mut entries: Vec<(u64, u32)> = Vec::with_capacity(records.len() * 3);
    for (i, p) in records.iter().enumerate() {
        entries.extend(keys(p).into_iter().map(|k| (k, i as u32)));
    }
    entries.sort_unstable();
    let mut pairs: Vec<u64> = vec![];
    let mut push = |a: u32, b: u32| {
        let (a, b) = if a < b { (a, b) } else { (b, a) };
        if a != b {
            pairs.push(((a as u64) << 32) | b as u64);
        }
    };
    let mut sorted: Vec<u32> = vec![];
    for block in entries.chunk_by(|x, y| x.0 == y.0) {
        if block.len() <= s.max_block {
            for (x, a) in block.iter().enumerate() {
                for b in &block[x + 1..] {
                    push(a.1, b.1);
                }
            }
        } else {
            // Sorted neighbourhood: a short name sorts next to the full
            // names it starts.
            sorted.clear();
            sorted.extend(block.iter().map(|e| e.1));
            sorted.sort_by(|&a, &b| {
                records[a as usize]
                    .syllables
                    .cmp(&records[b as usize].syllables)
                    .then(a.cmp(&b))
            });
            for (x, &a) in sorted.iter().enumerate() {
                for &b in sorted[x + 1..].iter().take(s.window) {
                    push(a, b);
                }
            }
        }
    }
    drop(entries);
    pairs.sort_unstable();
    pairs.dedup();
    pairs.shrink_to_fit();
    pairs
}
