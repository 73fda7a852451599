//! One bucket of the free-capacity index: the ACTIVE instances of a partition with the same free
//! amount of one resource, as an ordered set of packed entries.
//!
//! A bucket holds from one instance to all of them (100,000 instances sharing a free amount is
//! normal in a large cluster), and is updated twice per allocation change (the instance leaves
//! its old bucket and joins its new one with a new token, at a random place in the order). A
//! `BTreeSet` costs about 430 instructions per update at a bucket of 1,500 instances and 660 at
//! 100,000 (node search with 128-bit compares, rebalancing, node allocation); these chunks about
//! 320 and 460 (callgrind over a loop of random removes and inserts, issue 12). Here a bucket is
//! a list of chunks, each a short sorted vector: an update is a binary search over the chunks'
//! smallest entries, a binary search in one chunk and a memory move of at most [`CHUNK`]
//! entries; a chunk that overflows is split, one that runs low is merged with a neighbour.
//! Chunks and entries are kept in descending order, so the smallest entry, the one `binpack`
//! takes, is the last of the last chunk and leaves without a search or a move. Every walk
//! visits the entries in ascending order, the order of the ordered set this replaces: results
//! are unchanged.

use std::iter::Rev;
use std::slice;

/// A bucket entry: (free amount of the other resource, token, instance) packed into one 128-bit
/// number whose order is the tuple's, so that the ordered set compares one number, not three.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Entry(u128);

impl Entry {
    pub(crate) fn new(other: u32, token: u64, inst: u32) -> Entry {
        Entry((u128::from(other) << 96) | (u128::from(token) << 32) | u128::from(inst))
    }
    /// The first entry with at least `other` free of the other resource.
    pub(crate) fn at_least(other: u32) -> Entry {
        Entry::new(other, 0, 0)
    }
    /// The last entry with exactly `other` free of the other resource.
    pub(crate) fn last_of(other: u32) -> Entry {
        Entry::new(other, u64::MAX, u32::MAX)
    }
    pub(crate) fn other(self) -> u32 {
        (self.0 >> 96) as u32
    }
    pub(crate) fn token(self) -> u64 {
        (self.0 >> 32) as u64
    }
    pub(crate) fn inst(self) -> u32 {
        self.0 as u32
    }
}

/// Most entries a chunk holds; a chunk that grows past it is split in two halves.
pub(crate) const CHUNK: usize = 64;
/// A chunk that shrinks below this many entries is merged into a neighbour when the two fit in
/// one chunk, so that chunks stay few (a few per `CHUNK` entries, not one per entry).
const MERGE_BELOW: usize = CHUNK / 4;

/// A set of distinct entries, iterated in ascending order: a list of chunks, each a vector
/// sorted in descending order, every entry of a chunk above every entry of the next one (so the
/// smallest entry is the last of the last chunk). No chunk is empty.
#[derive(Clone, Debug, Default)]
pub(crate) struct Bucket {
    chunks: Vec<Vec<Entry>>,
    /// The smallest (last) entry of each chunk, side by side so that finding a chunk is one
    /// binary search over contiguous numbers.
    mins: Vec<Entry>,
}

impl Bucket {
    /// The chunk that holds `e` if any chunk does: the first whose smallest entry is not above it
    /// (or the last chunk when every chunk's smallest entry is).
    #[inline]
    fn chunk_of(&self, e: Entry) -> usize {
        let k = self.mins.partition_point(|&m| m > e);
        k.min(self.mins.len().saturating_sub(1))
    }

    /// Add an entry that is not in the bucket.
    pub(crate) fn insert(&mut self, e: Entry) {
        if self.chunks.is_empty() {
            self.chunks.push(vec![e]);
            self.mins.push(e);
            return;
        }
        let k = self.chunk_of(e);
        let c = &mut self.chunks[k];
        let at = c.partition_point(|&x| x > e);
        debug_assert!(c.get(at) != Some(&e), "entry already in its bucket");
        c.insert(at, e);
        if at + 1 == c.len() {
            self.mins[k] = e;
        }
        if c.len() > CHUNK {
            let lower = c.split_off(c.len() / 2);
            let upper_min = *c.last().expect("half a full chunk");
            self.mins[k] = upper_min;
            self.mins
                .insert(k + 1, *lower.last().expect("half a full chunk"));
            self.chunks.insert(k + 1, lower);
        }
    }

    /// Take an entry out; nothing happens when it is not there.
    pub(crate) fn remove(&mut self, e: Entry) {
        let Some(last) = self.chunks.last_mut() else {
            return;
        };
        // The smallest entry (binpack's choice) is the very last one: no search, no move.
        let k = if last.last() == Some(&e) {
            last.pop();
            self.chunks.len() - 1
        } else {
            let k = self.chunk_of(e);
            let c = &mut self.chunks[k];
            match c.binary_search_by(|x| e.cmp(x)) {
                Ok(at) => {
                    c.remove(at);
                }
                Err(_) => return,
            }
            k
        };
        match self.chunks[k].last() {
            None => {
                self.chunks.remove(k);
                self.mins.remove(k);
            }
            Some(&m) => {
                self.mins[k] = m;
                if self.chunks[k].len() < MERGE_BELOW {
                    self.merge(k);
                }
            }
        }
    }

    /// Merge a small chunk into a neighbour when the two fit in one chunk.
    fn merge(&mut self, k: usize) {
        let len = self.chunks[k].len();
        let into = if k + 1 < self.chunks.len() && len + self.chunks[k + 1].len() <= CHUNK {
            k
        } else if k > 0 && len + self.chunks[k - 1].len() <= CHUNK {
            k - 1
        } else {
            return;
        };
        let next = self.chunks.remove(into + 1);
        self.chunks[into].extend_from_slice(&next);
        self.mins.remove(into);
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.chunks.is_empty()
    }

    /// The entries from `lo` on, in ascending order.
    pub(crate) fn from(&self, lo: Entry) -> Iter<'_> {
        if self.chunks.is_empty() {
            return Iter {
                cur: [].iter().rev(),
                rest: [].iter().rev(),
            };
        }
        // Usually every entry is at least `lo` (binpack asks for the other resource it needs,
        // which most instances with room in the field have): then no search at all.
        if Some(&lo) <= self.mins.last() {
            return Iter {
                cur: self.chunks[self.chunks.len() - 1].iter().rev(),
                rest: self.chunks[..self.chunks.len() - 1].iter().rev(),
            };
        }
        let k = self.chunk_of(lo);
        let c = &self.chunks[k];
        Iter {
            cur: c[..c.partition_point(|&x| x >= lo)].iter().rev(),
            rest: self.chunks[..k].iter().rev(),
        }
    }

    /// The entries from `lo` to `hi`, both included, in ascending order.
    pub(crate) fn between(&self, lo: Entry, hi: Entry) -> impl Iterator<Item = Entry> + '_ {
        self.from(lo).take_while(move |&e| e <= hi)
    }

    #[cfg(test)]
    fn chunk_lens(&self) -> Vec<usize> {
        self.chunks.iter().map(Vec::len).collect()
    }
}

/// Entries of a bucket in ascending order.
pub(crate) struct Iter<'a> {
    /// What is left of the current chunk, smallest first.
    cur: Rev<slice::Iter<'a, Entry>>,
    /// The chunks after it (of larger entries), nearest first.
    rest: Rev<slice::Iter<'a, Vec<Entry>>>,
}

impl Iterator for Iter<'_> {
    type Item = Entry;
    #[inline]
    fn next(&mut self) -> Option<Entry> {
        loop {
            if let Some(&e) = self.cur.next() {
                return Some(e);
            }
            self.cur = self.rest.next()?.iter().rev();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    /// A bucket against a `BTreeSet` through random inserts and removes that grow it to many
    /// chunks and shrink it to none, several times: the same entries, in the same order, from
    /// every walk; chunks never empty, never above [`CHUNK`], and not many more than needed.
    #[test]
    fn agrees_with_an_ordered_set_across_both_representations() {
        let mut b = Bucket::default();
        let mut set: BTreeSet<Entry> = BTreeSet::new();
        let mut x: u64 = 7;
        let mut next = || {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            x >> 16
        };
        let mut most_chunks = 0;
        let mut emptied = 0;
        for step in 0..40_000u32 {
            // Grow for a while, then shrink, so that the size sweeps over both thresholds.
            let phase = (step / 1_000) % 2 == 0;
            let r = next();
            let grow = if phase { r % 10 < 7 } else { r % 10 < 1 };
            if grow || set.is_empty() {
                let e = Entry::new((r % 5) as u32 * 100, next(), step);
                b.insert(e);
                set.insert(e);
            } else {
                // Sometimes the smallest (binpack's case), sometimes any, sometimes absent.
                let e = match next() % 4 {
                    0 => *set.first().unwrap(),
                    1 => *set.iter().nth((next() as usize) % set.len()).unwrap(),
                    2 => Entry::new(7, next(), u32::MAX),
                    _ => *set.last().unwrap(),
                };
                b.remove(e);
                set.remove(&e);
            }
            let lens = b.chunk_lens();
            let mins: Vec<Entry> = b.chunks.iter().map(|c| *c.last().unwrap()).collect();
            assert_eq!(b.mins, mins);
            assert!(lens.iter().all(|&n| n > 0 && n <= CHUNK), "{lens:?}");
            assert!(lens.len() <= 8 * set.len() / CHUNK + 2, "{lens:?}");
            most_chunks = most_chunks.max(lens.len());
            emptied += usize::from(set.is_empty());
            assert_eq!(b.is_empty(), set.is_empty());
            if step % 97 == 0 {
                let all: Vec<Entry> = b.from(Entry(0)).collect();
                assert_eq!(all, set.iter().copied().collect::<Vec<_>>());
                for other in [0, 50, 100, 200, 400, 500] {
                    let lo = Entry::at_least(other);
                    let from: Vec<Entry> = b.from(lo).collect();
                    assert_eq!(from, set.range(lo..).copied().collect::<Vec<_>>());
                    let hi = Entry::last_of(other);
                    let eq: Vec<Entry> = b.between(lo, hi).collect();
                    assert_eq!(eq, set.range(lo..=hi).copied().collect::<Vec<_>>());
                }
                let empty: Vec<Entry> = b.between(Entry::last_of(1), Entry::at_least(1)).collect();
                assert!(empty.is_empty());
            }
        }
        assert!(most_chunks >= 4, "many chunks ({most_chunks})");
        assert!(emptied >= 2, "emptied ({emptied})");
    }
}
