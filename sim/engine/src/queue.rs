//! The event queue: a binary heap ordered by `(time, key)`, where the key is a rank and the
//! sequence number (insertion order) or, in an ordering audit, a seeded permutation of it.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use crate::SimTime;

/// An event with its `(time, rank, sequence)` packed into one 128-bit key (time in the high half), so
/// that the heap's many comparisons compare one number whose order is the pair's.
#[derive(Clone)]
struct Entry<E> {
    key: u128,
    event: E,
}

impl<E> Entry<E> {
    fn time(&self) -> SimTime {
        SimTime::from_ms((self.key >> 64) as u64)
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

/// Pending events ordered by `(time, rank, sequence)`: at one time, events come out by rank,
/// and within a rank in insertion order. Rank [`NORMAL`] is the default; the model gives a
/// lower or higher rank to events that a same-instant rule puts first or last.
///
/// A queue made with [`EventQueue::shuffled`] orders the events of rank [`NORMAL`] at one time by
/// a seeded permutation of their sequence numbers instead (an ordering audit); other ranks keep
/// insertion order.
#[derive(Clone)]
pub struct EventQueue<E> {
    heap: BinaryHeap<Entry<E>>,
    next_seq: u64,
    shuffle: Option<u64>,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        EventQueue {
            heap: BinaryHeap::new(),
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
        self.heap.push(Entry { key, event });
    }
    /// Remove the earliest event.
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        self.heap.pop().map(|e| (e.time(), e.event))
    }
    /// Time of the earliest event.
    pub fn peek_time(&self) -> Option<SimTime> {
        self.heap.peek().map(Entry::time)
    }
    /// Number of pending events.
    pub fn len(&self) -> usize {
        self.heap.len()
    }
    /// Whether nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
    /// Keep only the pending events for which `keep` is true; the others are dropped and
    /// returned with their times, earliest first. Kept events keep their places in the order.
    pub fn retain(&mut self, mut keep: impl FnMut(&E) -> bool) -> Vec<(SimTime, E)> {
        let mut dropped = Vec::new();
        let mut kept = Vec::with_capacity(self.heap.len());
        for e in std::mem::take(&mut self.heap)
            .into_sorted_vec()
            .into_iter()
            .rev()
        {
            if keep(&e.event) {
                kept.push(e);
            } else {
                dropped.push((e.time(), e.event));
            }
        }
        self.heap = BinaryHeap::from(kept);
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
    /// Pop the next event and move the clock to its time.
    pub fn advance(&mut self) -> Option<E> {
        let (t, e) = self.queue.pop()?;
        debug_assert!(t >= self.now, "time went backwards");
        self.now = t;
        Some(e)
    }
}
