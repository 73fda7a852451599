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
//! are unchanged. An entry that leaves from the middle stays, stale, until a tidy-up (see
//! [`Bucket`]): leaving costs no search and no move; walks skip stale entries.

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
    /// The high 64 bits, whose order is the entries' wherever they differ.
    #[inline]
    fn high(self) -> u64 {
        (self.0 >> 64) as u64
    }
}

/// Most entries a chunk holds; a chunk that grows past it is split in two halves.
pub(crate) const CHUNK: usize = 64;
/// A chunk that shrinks below this many entries is merged into a neighbour when the two fit in
/// one chunk, so that chunks stay few (a few per `CHUNK` entries, not one per entry).
const MERGE_BELOW: usize = CHUNK / 4;

/// How many more stale entries than current ones a bucket keeps before it is compacted: so a
/// bucket stores at most twice its current entries and this many (a few kilobytes at most per
/// bucket even where nearly every instance has its own free amount), and compacting, which
/// costs one pass over the bucket, comes at most once per as many leaves as the bucket has
/// current entries.
const STALE_SLACK: u32 = 16;

/// A set of distinct entries, iterated in ascending order: a list of chunks, each a vector
/// sorted in descending order, every entry of a chunk above every entry of the next one (so the
/// smallest entry is the last of the last chunk). No chunk is empty.
///
/// An entry that leaves the bucket is taken out at once only when it is the smallest one (the
/// `binpack` case) or the bucket empties; otherwise it stays, stale, until a tidy-up: the
/// caller says which entries are current (an entry is its instance's current one exactly when
/// the instance's free amounts and token are those of the entry), walks skip the stale ones,
/// stale entries at the small end are taken out as soon as they get there, and the whole bucket
/// is compacted once stale entries outnumber current ones. Leaving then costs no search and no
/// move, where taking an entry out of the middle costs two binary searches and a move; an entry
/// that comes back while its stale copy is still there is simply current again.
#[derive(Debug, Default)]
pub(crate) struct Bucket {
    chunks: Vec<Vec<Entry>>,
    /// The smallest (last) entry of each chunk, side by side so that finding a chunk is one
    /// binary search over contiguous numbers.
    mins: Vec<Entry>,
    /// Current entries.
    live: u32,
    /// Entries stored, current and stale.
    stored: u32,
    /// Emptied chunks' allocations (at most [`SPARE_CHUNKS`], each room for `CHUNK + 1`
    /// entries), for the next chunk the bucket needs: a bucket that empties and fills again, or
    /// splits and merges, allocates nothing.
    spare: Vec<Vec<Entry>>,
}

/// Chunks above which an insert prefetches the chunk it found (see [`Bucket::insert`]).
const PREFETCH_ABOVE: usize = 64;

/// Most emptied chunks a bucket keeps for reuse (a few kilobytes).
const SPARE_CHUNKS: usize = 2;

/// A copy (as a fork of a running cluster makes) whose chunks have their full room, as
/// [`Vec::clone`] would not give them; spare chunks are not copied.
impl Clone for Bucket {
    fn clone(&self) -> Bucket {
        let chunks = self
            .chunks
            .iter()
            .map(|c| {
                let mut v = Vec::with_capacity(CHUNK + 1);
                v.extend_from_slice(c);
                v
            })
            .collect();
        Bucket {
            chunks,
            mins: self.mins.clone(),
            live: self.live,
            stored: self.stored,
            spare: Vec::new(),
        }
    }
}

impl Bucket {
    /// The chunk that holds `e` if any chunk does: the first whose smallest entry is not above it
    /// (or the last chunk when every chunk's smallest entry is).
    #[inline]
    fn chunk_of(&self, e: Entry) -> usize {
        let n = self.mins.len();
        if n <= 1 {
            return 0;
        }
        position(&self.mins[..n - 1], e)
    }

    /// An empty chunk with room for `CHUNK + 1` entries, so that it never grows: a spare one
    /// when there is one.
    fn new_chunk(&mut self) -> Vec<Entry> {
        self.spare
            .pop()
            .unwrap_or_else(|| Vec::with_capacity(CHUNK + 1))
    }

    /// Keep an emptied chunk's allocation for reuse, up to [`SPARE_CHUNKS`].
    fn free_chunk(&mut self, mut c: Vec<Entry>) {
        if self.spare.len() < SPARE_CHUNKS && c.capacity() > CHUNK {
            c.clear();
            self.spare.push(c);
        }
    }

    /// Add an entry that is not current in the bucket (a stale copy of it may be there).
    pub(crate) fn insert(&mut self, e: Entry) {
        self.live += 1;
        if self.chunks.is_empty() {
            let mut c = self.new_chunk();
            c.push(e);
            self.chunks.push(c);
            self.mins.push(e);
            self.stored += 1;
            return;
        }
        let k = self.chunk_of(e);
        let c = &mut self.chunks[k];
        // The search below reads a few of the chunk's lines one after the other, and the move
        // the rest: ask for all of them at once. Only in a large bucket, where a chunk is
        // usually cold (one of more than 64 KiB of chunks); a small one stays in the caches.
        if self.mins.len() > PREFETCH_ABOVE {
            ecsim_prefetch::prefetch_range(c.as_ptr().cast(), size_of_val(c.as_slice()));
        }
        let at = position(c, e);
        if c.get(at) == Some(&e) {
            // Its stale copy, current again.
            return;
        }
        c.insert(at, e);
        self.stored += 1;
        if at + 1 == c.len() {
            self.mins[k] = e;
        }
        if c.len() > CHUNK {
            self.split(k);
        }
    }

    /// Split a chunk that has grown past [`CHUNK`] into two halves.
    fn split(&mut self, k: usize) {
        let mut lower = self.new_chunk();
        let c = &mut self.chunks[k];
        let half = c.len() / 2;
        lower.extend_from_slice(&c[half..]);
        c.truncate(half);
        let upper_min = *c.last().expect("half a full chunk");
        self.mins[k] = upper_min;
        self.mins
            .insert(k + 1, *lower.last().expect("half a full chunk"));
        self.chunks.insert(k + 1, lower);
    }

    /// A current entry leaves: taken out when it is the smallest or the last current one, else
    /// left stale. `current` tells the entries that are still current (it may still say so of
    /// `e`, whose instance has not changed yet). Stale entries then at the small end are taken
    /// out, and when stale entries outnumber current ones by more than [`STALE_SLACK`], all of
    /// them.
    pub(crate) fn leave(&mut self, e: Entry, current: impl Fn(Entry) -> bool) {
        debug_assert!(self.live > 0, "leaving an empty bucket");
        self.live -= 1;
        if self.live == 0 {
            while let Some(c) = self.chunks.pop() {
                self.free_chunk(c);
            }
            self.mins.clear();
            self.stored = 0;
            return;
        }
        if self.mins.last() == Some(&e) {
            self.pop();
        }
        while let Some(&m) = self.mins.last() {
            if current(m) {
                break;
            }
            self.pop();
        }
        if self.stored > 2 * self.live + STALE_SLACK {
            self.compact(&current);
        }
    }

    /// Take out the smallest entry.
    fn pop(&mut self) {
        let k = self.chunks.len() - 1;
        let c = &mut self.chunks[k];
        c.pop();
        self.stored -= 1;
        match c.last() {
            None => {
                let c = self.chunks.pop().expect("the last chunk");
                self.free_chunk(c);
                self.mins.pop();
            }
            Some(&m) => {
                self.mins[k] = m;
                if c.len() < MERGE_BELOW {
                    self.merge(k);
                }
            }
        }
    }

    /// Keep only the current entries; merge chunks left small.
    fn compact(&mut self, current: &impl Fn(Entry) -> bool) {
        for c in &mut self.chunks {
            c.retain(|&e| current(e));
        }
        let mut k = 0;
        while k < self.chunks.len() {
            if self.chunks[k].is_empty() {
                let c = self.chunks.remove(k);
                self.free_chunk(c);
            } else {
                k += 1;
            }
        }
        let mut k = 0;
        while k + 1 < self.chunks.len() {
            if self.chunks[k].len() + self.chunks[k + 1].len() <= CHUNK
                && (self.chunks[k].len() < MERGE_BELOW || self.chunks[k + 1].len() < MERGE_BELOW)
            {
                let next = self.chunks.remove(k + 1);
                self.chunks[k].extend_from_slice(&next);
                self.free_chunk(next);
            } else {
                k += 1;
            }
        }
        self.mins.clear();
        self.mins.extend(
            self.chunks
                .iter()
                .map(|c| *c.last().expect("no empty chunk")),
        );
        self.stored = self.chunks.iter().map(|c| c.len() as u32).sum();
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
        self.free_chunk(next);
        self.mins.remove(into);
    }

    /// Whether no entry is current.
    pub(crate) fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// The stored entries from `lo` on, in ascending order, current and stale.
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

    /// The stored entries from `lo` to `hi`, both included, in ascending order, current and stale.
    pub(crate) fn between(&self, lo: Entry, hi: Entry) -> impl Iterator<Item = Entry> + '_ {
        self.from(lo).take_while(move |&e| e <= hi)
    }

    #[cfg(test)]
    fn chunk_lens(&self) -> Vec<usize> {
        self.chunks.iter().map(Vec::len).collect()
    }
}

/// Where `e` goes in a chunk (sorted in descending order): the number of entries above it.
/// Searches on the entries' high 64 bits (the other resource and the token's high half), which
/// decide nearly every comparison, then on the whole entries among those with the same high
/// bits (none or one, unless tokens are small, as with [`crate::TieBreak::LowestIndex`]).
#[inline]
fn position(c: &[Entry], e: Entry) -> usize {
    let hi = e.high();
    let above = c.partition_point(|&x| x.high() > hi);
    match c.get(above) {
        Some(x) if x.high() == hi => above + c[above..].partition_point(|&x| x > e),
        _ => above,
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

    /// A bucket against a `BTreeSet` of its current entries through random inserts and leaves
    /// that grow it to many chunks and shrink it to none, several times, with entries that come
    /// back while their stale copy is still stored: the same current entries, in the same order,
    /// from every walk once stale ones are skipped; chunks never empty, never above [`CHUNK`], not
    /// many more than needed; stale entries bounded by the current ones and kept off the small end.
    #[test]
    fn agrees_with_an_ordered_set_across_both_representations() {
        let mut b = Bucket::default();
        let mut set: BTreeSet<Entry> = BTreeSet::new();
        let mut left: Vec<Entry> = Vec::new();
        let mut x: u64 = 7;
        let mut next = || {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            x >> 16
        };
        let mut most_chunks = 0;
        let mut emptied = 0;
        let mut came_back = 0;
        let mut most_stale = 0;
        let mut compacted_small = false;
        let mut copied = 0;
        for step in 0..40_000u32 {
            // Grow for a while, then shrink, so that the size sweeps over both thresholds.
            let phase = (step / 1_000) % 2 == 0;
            let r = next();
            let grow = if phase { r % 10 < 7 } else { r % 10 < 1 };
            if grow || set.is_empty() {
                // Sometimes an entry that left (as with a fixed token when an instance's free
                // amounts come back to what they were).
                let e = match left.pop() {
                    Some(e) if next() % 3 == 0 && !set.contains(&e) => e,
                    _ => Entry::new((r % 5) as u32 * 100, next(), step),
                };
                let stale_copy = b.from(Entry(0)).any(|x| x == e);
                came_back += usize::from(stale_copy);
                b.insert(e);
                set.insert(e);
            } else {
                // Sometimes the smallest (binpack's case), sometimes any.
                let e = match next() % 3 {
                    0 => *set.first().unwrap(),
                    1 => *set.iter().nth((next() as usize) % set.len()).unwrap(),
                    _ => *set.last().unwrap(),
                };
                let before = b.stored;
                // The instance changes after it leaves (as in the cluster) or before.
                if next() % 2 == 0 {
                    b.leave(e, |x| set.contains(&x));
                    set.remove(&e);
                } else {
                    set.remove(&e);
                    b.leave(e, |x| set.contains(&x));
                }
                compacted_small |= before > b.stored + 3 && !set.is_empty() && set.len() < CHUNK;
                left.push(e);
                if left.len() > 50 {
                    left.remove(0);
                }
            }
            let lens = b.chunk_lens();
            let mins: Vec<Entry> = b.chunks.iter().map(|c| *c.last().unwrap()).collect();
            assert_eq!(b.mins, mins);
            assert!(lens.iter().all(|&n| n > 0 && n <= CHUNK), "{lens:?}");
            let stored: usize = lens.iter().sum();
            assert_eq!(stored, b.stored as usize);
            assert_eq!(set.len(), b.live as usize);
            assert!(
                stored <= 2 * set.len() + STALE_SLACK as usize,
                "{stored} stored, {} current",
                set.len()
            );
            assert!(lens.len() <= 8 * stored / CHUNK + 2, "{lens:?}");
            // At most the one that just left, if its instance had not changed yet.
            let bottom = b.from(Entry(0)).take_while(|e| !set.contains(e)).count();
            assert!(bottom <= 1, "{bottom} stale entries at the small end");
            most_stale = most_stale.max(stored - set.len());
            most_chunks = most_chunks.max(lens.len());
            emptied += usize::from(set.is_empty());
            assert_eq!(b.is_empty(), set.is_empty());
            if step % 997 == 0 {
                // A copy (a fork) has the same entries, chunks with their full room and no
                // spares.
                let copy = b.clone();
                assert_eq!((&copy.chunks, &copy.mins), (&b.chunks, &b.mins));
                assert_eq!((copy.live, copy.stored), (b.live, b.stored));
                assert!(copy.chunks.iter().all(|c| c.capacity() == CHUNK + 1));
                assert!(copy.spare.is_empty());
                copied += copy.chunks.len();
            }
            if step % 7 == 0 {
                let all: Vec<Entry> = b.from(Entry(0)).collect();
                let stale = all.iter().filter(|e| !set.contains(e)).count();
                assert_eq!(stale, stored - set.len());
                let cur = |v: Vec<Entry>| -> Vec<Entry> {
                    v.into_iter().filter(|e| set.contains(e)).collect()
                };
                assert_eq!(cur(all), set.iter().copied().collect::<Vec<_>>());
                for other in [0, 50, 100, 200, 400, 500] {
                    let lo = Entry::at_least(other);
                    let from = cur(b.from(lo).collect());
                    assert_eq!(from, set.range(lo..).copied().collect::<Vec<_>>());
                    let hi = Entry::last_of(other);
                    let eq = cur(b.between(lo, hi).collect());
                    assert_eq!(eq, set.range(lo..=hi).copied().collect::<Vec<_>>());
                }
                let empty: Vec<Entry> = b.between(Entry::last_of(1), Entry::at_least(1)).collect();
                assert!(empty.is_empty());
            }
        }
        assert!(b.spare.len() <= SPARE_CHUNKS);
        assert!(
            b.chunks
                .iter()
                .chain(&b.spare)
                .all(|c| c.capacity() == CHUNK + 1),
            "chunks allocated once, never grown"
        );
        assert!(most_chunks >= 4, "many chunks ({most_chunks})");
        assert!(emptied >= 2, "emptied ({emptied})");
        assert!(came_back >= 10, "came back over a stale copy ({came_back})");
        assert!(most_stale >= CHUNK, "stale entries kept ({most_stale})");
        assert!(compacted_small, "a small bucket compacted");
        assert!(copied >= 20, "copies of many chunks ({copied})");
    }

    /// `position` (high 64 bits first, then whole entries) against a plain binary search over
    /// whole entries, on descending chunks whose entries often share their high bits (small
    /// tokens, as with `TieBreak::LowestIndex`, and equal amounts of the other resource) and
    /// often do not.
    #[test]
    fn position_agrees_with_a_whole_entry_search() {
        let mut x: u64 = 3;
        let mut next = || {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            x
        };
        let mut shared = 0;
        for round in 0..2_000 {
            let small = round % 2 == 0;
            let entry = |next: &mut dyn FnMut() -> u64| {
                let r = next();
                let token = if small { r % 50 } else { r };
                Entry::new((r >> 60) as u32 % 3 * 256, token, (r >> 40) as u32 % 8)
            };
            let mut c: Vec<Entry> = (0..(round % CHUNK) + 1).map(|_| entry(&mut next)).collect();
            c.sort_unstable_by(|a, b| b.cmp(a));
            c.dedup();
            for _ in 0..8 {
                let e = entry(&mut next);
                let want = c.partition_point(|&y| y > e);
                assert_eq!(position(&c, e), want, "{e:?} in {c:?}");
                shared += usize::from(c.get(want).is_some_and(|y| y.high() == e.high()));
            }
        }
        assert!(shared > 1_000, "entries sharing their high bits ({shared})");
    }
}
