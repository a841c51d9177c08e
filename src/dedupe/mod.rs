//! Duplicate customers: find records that are the same company the way a
//! Chinese salesperson would recognise them, explain why, and merge them
//! safely (one transaction through the change log, undone exactly).
//!
//! The matcher is pure functions over [`Record`]:
//! [`normalize`] (names, phones, contacts), [`score`] (evidence → score +
//! reasons), [`block`] (which pairs are compared at all) and [`find`]
//! (blocking + scoring + grouping). The database side ([`candidates_for`],
//! [`scan`], [`merge`], [`unmerge`], [`ignore`]) is in `store.rs` and
//! `merge.rs`.

pub mod block;
mod merge;
pub mod normalize;
pub mod regions;
pub mod score;
mod store;

pub use merge::{history as merge_history, merge, unmerge, MergeRecord, MergeResult};
pub use score::{prepare, score, Match, Prepared, Reason, Settings};
pub use store::{
    candidates_for, ignore, index_all_names, index_name, match_incoming, match_incoming_with,
    match_prepared, name_keys_of, scan, scan_with, set_settings, settings, store_name_keys,
    unindex_name, Candidate, Draft, DupGroup, DupPair, IncomingMatch, NameKeyBatch, NameKeys,
    ScanResult, LOOKUP_BATCH,
};

/// What the matcher sees of a customer.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Record {
    pub name: String,
    /// Contacts' names.
    pub contacts: Vec<String>,
    /// Mobiles and landlines, as typed.
    pub mobiles: Vec<String>,
    pub emails: Vec<String>,
    /// Province / city as typed (`广东省深圳市`), may be empty.
    pub region: String,
}

/// A pair judged to be duplicates: indexes into the input, `a < b`.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoredPair {
    pub a: usize,
    pub b: usize,
    pub m: Match,
}

/// A link between two records for grouping: indexes and score only, so a
/// scan holds millions of them in little memory.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Link {
    pub a: u32,
    pub b: u32,
    pub score: f32,
}

/// What [`find`] returns.
#[derive(Debug, Clone, Default)]
pub struct Found {
    /// Pairs at or above the threshold.
    pub pairs: Vec<ScoredPair>,
    /// Groups of record indexes (two or more), best score first.
    pub groups: Vec<Vec<usize>>,
    /// How many pairs were scored.
    pub compared: usize,
}

/// Union-find with path halving.
pub struct UnionFind {
    parent: Vec<usize>,
}

impl UnionFind {
    pub fn new(n: usize) -> Self {
        UnionFind {
            parent: (0..n).collect(),
        }
    }
    pub fn find(&mut self, mut x: usize) -> usize {
        while self.parent[x] != x {
            self.parent[x] = self.parent[self.parent[x]];
            x = self.parent[x];
        }
        x
    }
    pub fn union(&mut self, a: usize, b: usize) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra != rb {
            self.parent[ra.max(rb)] = ra.min(rb);
        }
    }
}

/// Group accepted pairs into clusters.
///
/// Pairs are joined strongest first. Two clusters are joined only when the
/// link is backed by the name: a link whose name evidence alone is below
/// the threshold (it needed a shared phone/email to pass) may join two
/// clusters only if no member of one has a clearly different name from a
/// member of the other — so one shared agency phone cannot chain two
/// companies together.
pub fn group(n: usize, prepared: &[Prepared], links: &mut [Link], s: &Settings) -> Vec<Vec<usize>> {
    links.sort_by(|x, y| {
        y.score
            .total_cmp(&x.score)
            .then((x.a, x.b).cmp(&(y.a, y.b)))
    });
    let mut uf = UnionFind::new(n);
    let mut members: std::collections::HashMap<usize, Vec<usize>> =
        std::collections::HashMap::new();
    for p in links.iter() {
        let (ra, rb) = (uf.find(p.a as usize), uf.find(p.b as usize));
        if ra == rb {
            continue;
        }
        {
            let ma = members
                .get(&ra)
                .map(Vec::as_slice)
                .unwrap_or(std::slice::from_ref(&ra));
            let mb = members
                .get(&rb)
                .map(Vec::as_slice)
                .unwrap_or(std::slice::from_ref(&rb));
            if ma.len() + mb.len() > 2 {
                // Average name similarity across the join must stay high.
                let mut total = 0.0;
                let mut count = 0.0;
                for &x in ma.iter().take(8) {
                    for &y in mb.iter().take(8) {
                        total += score::name_similarity(&prepared[x], &prepared[y]).0;
                        count += 1.0;
                    }
                }
                if count > 0.0 && total / count < s.threshold - 0.15 {
                    continue;
                }
            }
        }
        let ma = members.remove(&ra).unwrap_or_else(|| vec![ra]);
        let mb = members.remove(&rb).unwrap_or_else(|| vec![rb]);
        uf.union(ra, rb);
        let root = uf.find(ra);
        let (mut big, small) = if ma.len() >= mb.len() {
            (ma, mb)
        } else {
            (mb, ma)
        };
        big.extend(small);
        members.insert(root, big);
    }
    let mut groups: Vec<Vec<usize>> = members
        .into_values()
        .filter(|m| m.len() >= 2)
        .map(|mut m| {
            m.sort_unstable();
            m
        })
        .collect();
    groups.sort();
    groups
}

/// Run `f` over `items` on the available cores, keeping order.
pub fn par_map<T: Sync, U: Send>(items: &[T], f: impl Fn(&T) -> U + Sync) -> Vec<U> {
    par_chunks(items, |c| c.iter().map(&f).collect())
}

/// [`par_map`] keeping only the `Some` results, dropped inside each worker:
/// scoring a million candidate pairs to keep a few thousand then holds
/// only those few thousand.
pub fn par_filter_map<T: Sync, U: Send>(items: &[T], f: impl Fn(&T) -> Option<U> + Sync) -> Vec<U> {
    par_chunks(items, |c| c.iter().filter_map(&f).collect())
}

/// `work` over one slice of `items` per core, the results joined in order.
fn par_chunks<T: Sync, U: Send>(items: &[T], work: impl Fn(&[T]) -> Vec<U> + Sync) -> Vec<U> {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(8);
    if threads < 2 || items.len() < 2048 {
        return work(items);
    }
    let chunk = items.len().div_ceil(threads);
    let work = &work;
    std::thread::scope(|sc| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|c| sc.spawn(move || work(c)))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("worker"))
            .collect()
    })
}

/// Blocking + scoring + grouping over a set of records.
pub fn find(records: &[Record], s: &Settings) -> Found {
    let prepared: Vec<Prepared> = par_map(records, prepare);
    find_prepared(&prepared, s)
}

/// [`find`] over records already prepared.
pub fn find_prepared(prepared: &[Prepared], s: &Settings) -> Found {
    let cands = block::packed_candidate_pairs(prepared, s);
    let pairs: Vec<ScoredPair> = par_filter_map(&cands, |&pair| {
        let (a, b) = block::unpack(pair);
        let m = score(&prepared[a as usize], &prepared[b as usize], s);
        (m.score >= s.threshold).then_some(ScoredPair {
            a: a as usize,
            b: b as usize,
            m,
        })
    });
    let mut links: Vec<Link> = pairs
        .iter()
        .map(|p| Link {
            a: p.a as u32,
            b: p.b as u32,
            score: p.m.score,
        })
        .collect();
    let groups = group(prepared.len(), prepared, &mut links, s);
    Found {
        pairs,
        groups,
        compared: cands.len(),
    }
}
