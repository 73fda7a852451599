//! The event queue: events ordered by `(time, key)`, where the key is a rank and the sequence
//! number (insertion order) or, in an ordering audit, a seeded permutation of it.
//!
//! The structure is a hierarchical timing wheel over integer time (a radix heap with 64-way
//! digits). The queue keeps a reference time, at or before every event in the wheel, and puts an
//! event in level `l`, slot = the `l`-th 6-bit digit of its time, when the highest digit in which
//! its time differs from the reference is the `l`-th. Level 0 holds one slot per millisecond of
//! the reference's 64-ms block, each a small heap by `(rank, sequence)`. A push is one slot push;
//! a pop takes the first occupied slot of level 0 or, when level 0 is empty, the earliest event of
//! the first occupied slot of the lowest occupied level: the reference moves to its time and the
//! rest of that slot spreads over the levels below (an event moves down a few times in its life,
//! never up; a binary heap moves it about `log2(pending)` times at each push and pop). Events
//! pushed before the reference (only after a look that found nothing due before a time limit)
//! wait in a binary heap that comes first. An emptied slot keeps room for up to [`KEEP`] events
//! and gives back a larger allocation, so memory stays bounded by the events pending.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use crate::SimTime;

/// An event with its `(time, rank, sequence)` packed into one 128-bit key (time in the high half), so
/// that the heaps' comparisons compare one number whose order is the triple's.
#[derive(Clone)]
struct Entry<E> {
    key: u128,
    event: E,
}

impl<E> Entry<E> {
    fn ms(&self) -> u64 {
        (self.key >> 64) as u64
    }
    fn time(&self) -> SimTime {
        SimTime::from_ms(self.ms())
    }
}

impl<E> PartialEq for Entry<E> {
    fn eq(&self, o: &Self) -> bool {
        self.key == o.key
    }
}
impl<E> Eq for Entry<E> {}
impl<E> PartialOrd for Entry<E> {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl<E> Ord for Entry<E> {
    fn cmp(&self, o: &Self) -> Ordering {
        // Reversed: BinaryHeap is a max-heap and we want the earliest (time, seq) first.
        o.key.cmp(&self.key)
    }
}

/// Bits of time per level of the wheel.
const DIGIT: u32 = 6;
/// Slots per level.
const SLOTS: usize = 1 << DIGIT;
/// Levels: enough 6-bit digits for every `u64` time.
const LEVELS: usize = 64_usize.div_ceil(DIGIT as usize);
/// The most entries an empty slot keeps room for: a slot that held more gives its allocation
/// back when it empties, so the queue's memory follows the events pending, not the most each
/// slot ever held (which, summed over the slots a long run passes through, grew with the run).
const KEEP: usize = 64;
/// The level of each bit of a time.
const LEVEL_OF_BIT: [u8; 64] = {
    let mut t = [0; 64];
    let mut b = 0;
    while b < 64 {
        t[b] = (b / DIGIT as usize) as u8;
        b += 1;
    }
    t
};

/// Pending events ordered by `(time, rank, sequence)`: at one time, events come out by rank,
/// and within a rank in insertion order. Rank [`NORMAL`] is the default; the model gives a
/// lower or higher rank to events that a same-instant rule puts first or last.
///
/// A queue made with [`EventQueue::shuffled`] orders the events of rank [`NORMAL`] at one time by
/// a seeded permutation of their sequence numbers instead (an ordering audit); other ranks keep
/// insertion order.
#[derive(Clone)]
pub struct EventQueue<E> {
    /// Events before `base`, all earlier than every event in the wheel.
    before: BinaryHeap<Entry<E>>,
    /// The wheel's reference time (ms): at or before every event it holds.
    base: u64,
    /// Level 0: the events at each millisecond of `base`'s 64-ms block.
    near: Box<[BinaryHeap<Entry<E>>; SLOTS]>,
    /// Levels 1 and up (level `l` at `l - 1`).
    far: Box<[[Vec<Entry<E>>; SLOTS]; LEVELS - 1]>,
    /// Per level, bit `s` set when slot `s` holds events.
    occupied: [u64; LEVELS],
    /// Bit `l` set when level `l` (1 and up) holds events.
    levels: u32,
    len: usize,
    next_seq: u64,
    shuffle: Option<u64>,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        EventQueue {
            before: BinaryHeap::new(),
            base: 0,
            near: Box::new(std::array::from_fn(|_| BinaryHeap::new())),
            far: Box::new(std::array::from_fn(|_| std::array::from_fn(|_| Vec::new()))),
            occupied: [0; LEVELS],
            levels: 0,
            len: 0,
            next_seq: 0,
            shuffle: None,
        }
    }
}

/// The rank of events that no same-instant rule orders.
pub const NORMAL: u8 = 1;
/// The highest rank.
pub const MAX_RANK: u8 = 3;

impl<E> EventQueue<E> {
    /// A queue that orders events of rank [`NORMAL`] at the same time in a random order drawn from
    /// `salt` (the same salt gives the same order).
    pub fn shuffled(salt: u64) -> Self {
        EventQueue {
            shuffle: Some(salt),
            ..Self::default()
        }
    }
    /// Add an event of rank [`NORMAL`].
    pub fn push(&mut self, time: SimTime, event: E) {
        self.push_ranked(time, NORMAL, event);
    }
    /// Add an event with a rank (0 to [`MAX_RANK`]; larger is clamped): at its time it comes
    /// after every event of a lower rank and before every event of a higher one.
    #[inline]
    pub fn push_ranked(&mut self, time: SimTime, rank: u8, event: E) {
        let seq = self.next_seq;
        self.next_seq += 1;
        // The rank in the top two bits, the order within the rank below.
        let within = match self.shuffle {
            Some(salt) if rank == NORMAL => crate::mix64(salt ^ seq) >> 2,
            _ => seq,
        };
        let order = (u64::from(rank.min(MAX_RANK)) << 62) | within;
        let key = (u128::from(time.ms()) << 64) | u128::from(order);
        self.len += 1;
        self.insert(Entry { key, event });
    }
    #[inline(always)]
    fn insert(&mut self, e: Entry<E>) {
        if e.ms() < self.base {
            self.before.push(e);
        } else {
            self.place(e);
        }
    }
    /// Put an event at or after `base` in its slot of the wheel.
    #[inline(always)]
    fn place(&mut self, e: Entry<E>) {
        let t = e.ms();
        let differ = t ^ self.base;
        if differ < SLOTS as u64 {
            let s = (t % SLOTS as u64) as usize;
            self.near[s].push(e);
            self.occupied[0] |= 1 << s;
        } else {
            let level = LEVEL_OF_BIT[(63 - differ.leading_zeros()) as usize] as usize;
            let s = ((t >> (level as u32 * DIGIT)) % SLOTS as u64) as usize;
            self.far[level - 1][s].push(e);
            self.occupied[level] |= 1 << s;
            self.levels |= 1 << level;
        }
    }
    /// Remove the earliest event.
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        self.pop_until(SimTime::MAX)
    }
    /// Remove the earliest event if it is due at or before `until`.
    pub fn pop_until(&mut self, until: SimTime) -> Option<(SimTime, E)> {
        let e = if let Some(first) = self.before.peek() {
            if first.ms() > until.ms() {
                return None;
            }
            self.before.pop().expect("peeked")
        } else if self.occupied[0] != 0 {
            let s = self.occupied[0].trailing_zeros() as usize % SLOTS;
            let t = (self.base & !(SLOTS as u64 - 1)) | s as u64;
            if t > until.ms() {
                return None;
            }
            let slot = &mut self.near[s];
            let e = slot.pop().expect("an occupied slot");
            if slot.is_empty() {
                self.occupied[0] &= !(1 << s);
                if slot.capacity() > KEEP {
                    *slot = BinaryHeap::new();
                }
            }
            e
        } else {
            self.take_far(until)?
        };
        self.len -= 1;
        Some((e.time(), e.event))
    }
    /// With level 0 empty: take the earliest event of the first occupied slot of the lowest
    /// occupied level, if it is due at or before `until`, move the reference to its time and
    /// spread the rest of the slot over the levels below (every event in it shares the digits
    /// above with the new reference, and the digit of its level: they all go lower).
    fn take_far(&mut self, until: SimTime) -> Option<Entry<E>> {
        if self.levels == 0 {
            return None;
        }
        let level = self.levels.trailing_zeros() as usize;
        let s = self.occupied[level].trailing_zeros() as usize % SLOTS;
        let slot = &mut self.far[level - 1][s];
        // Most slots taken from hold one event (low levels, spread thin).
        let (i, first) = match slot.as_slice() {
            [only] => (0, only.ms()),
            _ => slot
                .iter()
                .enumerate()
                .min_by_key(|(_, e)| e.key)
                .map(|(i, e)| (i, e.ms()))
                .expect("an occupied slot"),
        };
        if first > until.ms() {
            return None;
        }
        let e = slot.swap_remove(i);
        self.base = first;
        self.occupied[level] &= !(1 << s);
        if self.occupied[level] == 0 {
            self.levels &= !(1 << level);
        }
        if !slot.is_empty() {
            let mut spread = std::mem::take(slot);
            for e in spread.drain(..) {
                self.place(e);
            }
            // Keep a small allocation for the slot's next events; a large one goes, so that the
            // wheel's 640 slots do not each keep the most events they ever held.
            if spread.capacity() <= KEEP {
                self.far[level - 1][s] = spread;
            }
        } else if slot.capacity() > KEEP {
            *slot = Vec::new();
        }
        Some(e)
    }
    /// The earliest event: the one [`EventQueue::pop`] takes next.
    pub fn peek(&self) -> Option<&E> {
        self.first().map(|e| &e.event)
    }
    /// Time of the earliest event.
    pub fn peek_time(&self) -> Option<SimTime> {
        self.first().map(Entry::time)
    }
    /// The entry `pop` takes next, found as `pop_until` finds it.
    fn first(&self) -> Option<&Entry<E>> {
        if let Some(e) = self.before.peek() {
            return Some(e);
        }
        if self.occupied[0] != 0 {
            let s = self.occupied[0].trailing_zeros() as usize;
            return self.near[s].peek();
        }
        if self.levels == 0 {
            return None;
        }
        let level = self.levels.trailing_zeros() as usize;
        let s = self.occupied[level].trailing_zeros() as usize % SLOTS;
        self.far[level - 1][s].iter().min_by_key(|e| e.key)
    }
    /// Number of pending events.
    pub fn len(&self) -> usize {
        self.len
    }
    /// Whether nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    /// Keep only the pending events for which `keep` is true; the others are dropped and
    /// returned with their times, earliest first. Kept events keep their places in the order.
    pub fn retain(&mut self, mut keep: impl FnMut(&E) -> bool) -> Vec<(SimTime, E)> {
        let mut all: Vec<Entry<E>> = std::mem::take(&mut self.before).into_vec();
        for slot in self.near.iter_mut() {
            all.append(&mut std::mem::take(slot).into_vec());
        }
        for slot in self.far.iter_mut().flatten() {
            all.append(slot);
        }
        all.sort_unstable_by_key(|e| e.key);
        self.occupied = [0; LEVELS];
        self.levels = 0;
        self.len = 0;
        let mut dropped = Vec::new();
        for e in all {
            if keep(&e.event) {
                self.len += 1;
                self.insert(e);
            } else {
                dropped.push((e.time(), e.event));
            }
        }
        dropped
    }
}

/// The clock and the queue, as a model sees them while handling an event.
///
/// A clone continues exactly as the original would: same clock, same pending events, same
/// order among them, same sequence numbers for what is scheduled next (a fork of a run).
#[derive(Clone)]
pub struct Scheduler<E> {
    now: SimTime,
    queue: EventQueue<E>,
}

impl<E> Default for Scheduler<E> {
    fn default() -> Self {
        Scheduler {
            now: SimTime::ZERO,
            queue: EventQueue::default(),
        }
    }
}

impl<E> Scheduler<E> {
    /// A scheduler at time zero with nothing queued.
    pub fn new() -> Self {
        Self::default()
    }
    /// A scheduler whose events of rank [`NORMAL`] at the same time come out in a seeded random
    /// order (see [`EventQueue::shuffled`]): for auditing whether results depend on that order.
    pub fn shuffled(salt: u64) -> Self {
        Scheduler {
            now: SimTime::ZERO,
            queue: EventQueue::shuffled(salt),
        }
    }
    /// The current simulated time.
    pub fn now(&self) -> SimTime {
        self.now
    }
    /// Schedule an event at an absolute time, which must not be in the past.
    pub fn schedule_at(&mut self, at: SimTime, event: E) {
        assert!(
            at >= self.now,
            "event scheduled in the past: {} < {}",
            at.ms(),
            self.now.ms()
        );
        self.queue.push(at, event);
    }
    /// Schedule an event at an absolute time with a rank (see [`EventQueue`]): for same-instant
    /// rules that put an event before or after the others of its instant, in every order.
    pub fn schedule_ranked_at(&mut self, at: SimTime, rank: u8, event: E) {
        assert!(
            at >= self.now,
            "event scheduled in the past: {} < {}",
            at.ms(),
            self.now.ms()
        );
        self.queue.push_ranked(at, rank, event);
    }
    /// Schedule an event `delay_ms` after now.
    pub fn schedule_in(&mut self, delay_ms: u64, event: E) {
        self.queue.push(self.now.plus_ms(delay_ms), event);
    }
    /// Time of the next event.
    pub fn peek_time(&self) -> Option<SimTime> {
        self.queue.peek_time()
    }
    /// Number of pending events.
    pub fn pending(&self) -> usize {
        self.queue.len()
    }
    /// Drop the pending events for which `keep` is false and return them, earliest first (see
    /// [`EventQueue::retain`]).
    pub fn retain(&mut self, keep: impl FnMut(&E) -> bool) -> Vec<(SimTime, E)> {
        self.queue.retain(keep)
    }
    /// The next event (without taking it).
    pub fn peek(&self) -> Option<&E> {
        self.queue.peek()
    }
    /// Pop the next event and move the clock to its time.
    pub fn advance(&mut self) -> Option<E> {
        self.advance_until(SimTime::MAX)
    }
    /// Pop the next event if it is due at or before `until` and move the clock to its time.
    pub fn advance_until(&mut self, until: SimTime) -> Option<E> {
        let (t, e) = self.queue.pop_until(until)?;
        debug_assert!(t >= self.now, "time went backwards");
        self.now = t;
        Some(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    impl<E> EventQueue<E> {
        /// Entries the slots have room for, in all.
        fn room(&self) -> usize {
            let near: usize = self.near.iter().map(BinaryHeap::capacity).sum();
            let far: usize = self.far.iter().flatten().map(Vec::capacity).sum();
            near + far + self.before.capacity()
        }
    }

    /// Memory follows the events pending, not the run's length: a long run whose events pass
    /// through every slot of the wheel, thousands at a time, ends with its slots holding room
    /// for at most [`KEEP`] entries each (it used to keep each slot's largest, which summed to
    /// many times the events ever pending at once: 10k x 10M `steady-binpack` peaked at 87 MB
    /// against 34 MB for 10k x 1M).
    #[test]
    fn emptied_slots_give_back_large_allocations() {
        let mut q = EventQueue::default();
        let mut rng = 0x2545_f491_4f6c_dd1d_u64;
        let mut now = 0;
        let pending = 5_000;
        for _ in 0..pending {
            rng = crate::mix64(rng);
            q.push(SimTime::from_ms(rng % 10_000_000), ());
        }
        // Each pop is replaced by an event up to ~3 hours later: all levels up to 3 see use.
        for _ in 0..400_000 {
            let (t, ()) = q.pop().expect("pending");
            assert!(t.ms() >= now);
            now = t.ms();
            rng = crate::mix64(rng);
            q.push(SimTime::from_ms(now + rng % 10_000_000), ());
        }
        while q.pop().is_some() {}
        assert!(
            q.room() <= (LEVELS * SLOTS) * KEEP,
            "room for {} entries kept after the queue emptied",
            q.room()
        );
    }
}
