//! A small deterministic discrete-event engine.
//!
//! The principal types are [`SimTime`] (integer milliseconds), [`Scheduler`] (the event queue
//! and the clock), [`Model`] (what handles events), [`run`] with its [`Limits`], and
//! [`Streams`] (named random streams derived from one run seed). [`StableHasher`] folds a
//! sequence of facts into one number that is the same on every platform.
//!
//! # The contract at one instant
//! Events are processed in increasing time; events scheduled for the same millisecond are
//! processed in the order they were scheduled (each gets a sequence number when it is pushed,
//! and the queue orders by `(time, sequence)`). A model that needs "X before Y at the same
//! instant" schedules X first. Nothing else (memory addresses, hash order, wall clock, thread
//! count) can influence the order, so a run is a pure function of its model and seed.
//!
//! A model states a same-instant rule with a rank ([`Scheduler::schedule_ranked_at`]): at one
//! time, lower ranks come first; [`NORMAL`] is the default. An ordering audit
//! ([`Scheduler::shuffled`]) replaces the insertion order within rank [`NORMAL`] by a seeded
//! permutation, to find results that depend on it.
//!
//! The engine knows nothing about what events mean.
// No unsafe code here: the workspace denies it, and only `ecsim_prefetch` allows it.
#![forbid(unsafe_code)]

mod hash;
mod queue;
mod rng;
mod time;

pub use ecsim_prefetch::{prefetch, prefetch_range};
pub use hash::{StableHasher, str_words};
pub use queue::{EventQueue, MAX_RANK, NORMAL, Scheduler};
pub use rng::{Stream, Streams, mix64, seed_for_index};
pub use time::{DurationError, SimTime, format_duration, parse_duration_ms};

/// What the model tells the loop after an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    /// Keep going.
    Continue,
    /// The model is done; stop without processing more events.
    Stop,
}

/// Handles events. The loop owns the clock; the model owns its state.
pub trait Model {
    /// The event type, one closed enum per model.
    type Event;
    /// Handle one event at `sched.now()`.
    fn handle(&mut self, event: Self::Event, sched: &mut Scheduler<Self::Event>) -> Control;
    /// A hint before `event` is handled: a model may start loading what it and the events
    /// after it will read ([`prefetch`]; [`Scheduler::peek`] shows the event due next, unless
    /// handling this one schedules an earlier one). It must not change anything here (it gets
    /// `&self` and a shared scheduler), so that a run gives the same results with or without
    /// hints.
    fn prefetch(&self, _event: &Self::Event, _sched: &Scheduler<Self::Event>) {}
}

/// Bounds on a run; a run that reaches one stops and says so.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest number of events to process.
    pub max_events: u64,
    /// Events after this simulated time are not processed.
    pub max_time: SimTime,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_events: u64::MAX,
            max_time: SimTime::MAX,
        }
    }
}

/// Why a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// No events were left.
    QueueEmpty,
    /// The model returned [`Control::Stop`].
    ModelStopped,
    /// The next event was later than [`Limits::max_time`].
    TimeLimit,
    /// [`Limits::max_events`] events were processed.
    EventLimit,
}

/// What the loop reports.
#[derive(Debug, Clone, Copy)]
pub struct RunStats {
    /// Events handled.
    pub events_processed: u64,
    /// The clock when the run ended.
    pub end: SimTime,
    /// Why it ended.
    pub reason: StopReason,
}

/// Process events until the queue is empty, the model stops, or a limit is reached.
pub fn run<M: Model>(model: &mut M, sched: &mut Scheduler<M::Event>, limits: Limits) -> RunStats {
    let mut processed = 0u64;
    let reason = loop {
        if processed >= limits.max_events {
            break StopReason::EventLimit;
        }
        let Some(ev) = sched.advance_until(limits.max_time) else {
            break if sched.pending() == 0 {
                StopReason::QueueEmpty
            } else {
                StopReason::TimeLimit
            };
        };
        processed += 1;
        model.prefetch(&ev, sched);
        if model.handle(ev, sched) == Control::Stop {
            break StopReason::ModelStopped;
        }
    };
    RunStats {
        events_processed: processed,
        end: sched.now(),
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Recorder(Vec<(u64, u32)>);
    impl Model for Recorder {
        type Event = u32;
        fn handle(&mut self, ev: u32, s: &mut Scheduler<u32>) -> Control {
            self.0.push((s.now().ms(), ev));
            if ev == 1 {
                // Scheduled during the instant: runs after everything already queued for it.
                s.schedule_at(s.now(), 99);
            }
            Control::Continue
        }
    }

    #[test]
    fn same_instant_events_run_in_scheduling_order() {
        let mut s = Scheduler::new();
        s.schedule_at(SimTime::from_ms(5), 3);
        s.schedule_at(SimTime::from_ms(1), 1);
        s.schedule_at(SimTime::from_ms(1), 2);
        s.schedule_at(SimTime::from_ms(5), 4);
        let mut m = Recorder(Vec::new());
        let stats = run(&mut m, &mut s, Limits::default());
        assert_eq!(m.0, vec![(1, 1), (1, 2), (1, 99), (5, 3), (5, 4)]);
        assert_eq!(stats.reason, StopReason::QueueEmpty);
        assert_eq!(stats.events_processed, 5);
    }

    /// A shuffled queue's peek shows what its pop takes, through pushes at and before the
    /// current time, on every level of the wheel.
    #[test]
    fn a_shuffled_queue_peeks_what_it_pops() {
        let mut x = 11u64;
        let mut q = EventQueue::shuffled(5);
        let (mut now, mut popped) = (0u64, 0);
        for round in 0..20_000u32 {
            x = mix64(x);
            if x % 5 < 3 {
                let at = match x % 4 {
                    0 => now,
                    1 => now.saturating_sub((x >> 50) % 100),
                    2 => now + (x >> 40) % 64,
                    _ => now + (x >> 20) % (1 << 30),
                };
                q.push(SimTime::from_ms(at), round);
            } else {
                let seen = q.peek().copied();
                let got = q.pop().map(|(t, e)| {
                    now = t.ms();
                    e
                });
                assert_eq!(seen, got);
                popped += usize::from(got.is_some());
            }
        }
        assert!(popped > 5_000);
    }

    /// The prefetch hint comes before each event is handled, with the event due after it at
    /// that moment: an event the handler then schedules before that one is not foreseen.
    #[test]
    fn the_prefetch_hint_names_the_event_and_the_next_one() {
        struct Hinted {
            // `prefetch` takes `&self` (it cannot change the model); the test records through a cell.
            hints: std::cell::RefCell<Vec<(u32, Option<u32>)>>,
            handled: Vec<u32>,
        }
        impl Model for Hinted {
            type Event = u32;
            fn handle(&mut self, ev: u32, s: &mut Scheduler<u32>) -> Control {
                self.handled.push(ev);
                match ev {
                    1 => s.schedule_at(s.now(), 99),
                    3 => s.schedule_ranked_at(s.now(), 0, 50),
                    _ => {}
                }
                Control::Continue
            }
            fn prefetch(&self, ev: &u32, s: &Scheduler<u32>) {
                self.hints.borrow_mut().push((*ev, s.peek().copied()));
            }
        }
        let mut s = Scheduler::new();
        s.schedule_at(SimTime::from_ms(5), 3);
        s.schedule_at(SimTime::from_ms(1), 1);
        s.schedule_at(SimTime::from_ms(1), 2);
        s.schedule_at(SimTime::from_ms(5), 4);
        let mut m = Hinted {
            hints: Default::default(),
            handled: Vec::new(),
        };
        run(&mut m, &mut s, Limits::default());
        assert_eq!(m.handled, vec![1, 2, 99, 3, 50, 4]);
        assert_eq!(
            m.hints.into_inner(),
            vec![
                (1, Some(2)),
                (2, Some(99)),
                (99, Some(3)),
                (3, Some(4)),
                (50, Some(4)),
                (4, None)
            ]
        );
    }

    /// An ordering audit: a shuffled scheduler keeps time order and rank order, permutes the
    /// events of rank NORMAL at an instant by its salt, and the same salt repeats the order.
    #[test]
    fn a_shuffled_scheduler_permutes_only_same_instant_events() {
        let order = |salt: u64| {
            let mut s = Scheduler::shuffled(salt);
            for ev in 10..30 {
                s.schedule_at(SimTime::from_ms(1), ev);
            }
            s.schedule_at(SimTime::from_ms(0), 5);
            s.schedule_ranked_at(SimTime::from_ms(1), 0, 7);
            s.schedule_ranked_at(SimTime::from_ms(1), 0, 8);
            s.schedule_ranked_at(SimTime::from_ms(1), MAX_RANK, 40);
            s.schedule_ranked_at(SimTime::from_ms(1), 2, 31);
            let mut m = Recorder(Vec::new());
            run(&mut m, &mut s, Limits::default());
            m.0
        };
        let a = order(1);
        assert_eq!(a, order(1), "same salt, same order");
        assert_ne!(a, order(2), "another salt, another order");
        assert_eq!(a[0], (0, 5));
        assert_eq!(&a[1..3], &[(1, 7), (1, 8)], "rank 0 first, in order");
        assert_eq!(
            &a[a.len() - 2..],
            &[(1, 31), (1, 40)],
            "higher ranks last, by rank"
        );
        let mut rest: Vec<u32> = a[3..a.len() - 2].iter().map(|&(_, e)| e).collect();
        assert_ne!(rest, (10..30).collect::<Vec<_>>(), "permuted");
        rest.sort_unstable();
        assert_eq!(rest, (10..30).collect::<Vec<_>>(), "nothing lost");
    }

    /// A deliberately order-dependent toy model (the last writer at an instant wins): a plain
    /// run always gives the same answer, a shuffled one finds the dependence.
    #[test]
    fn an_order_dependent_model_is_found_by_shuffling() {
        struct LastWriter(u32);
        impl Model for LastWriter {
            type Event = u32;
            fn handle(&mut self, ev: u32, _: &mut Scheduler<u32>) -> Control {
                self.0 = ev;
                Control::Continue
            }
        }
        let result = |mut s: Scheduler<u32>| {
            s.schedule_at(SimTime::from_ms(3), 1);
            s.schedule_at(SimTime::from_ms(3), 2);
            let mut m = LastWriter(0);
            run(&mut m, &mut s, Limits::default());
            m.0
        };
        assert_eq!(result(Scheduler::new()), 2);
        let outcomes: std::collections::BTreeSet<u32> = (0..16)
            .map(|salt| result(Scheduler::shuffled(salt)))
            .collect();
        assert_eq!(outcomes.into_iter().collect::<Vec<_>>(), vec![1, 2]);
    }

    /// A fork: a cloned scheduler, run after half the events, processes the rest exactly as
    /// the original does (events scheduled after the fork included); `retain` drops events
    /// and keeps the others' order.
    #[test]
    fn a_cloned_scheduler_continues_as_the_original() {
        let mut s = Scheduler::new();
        for ev in 0..40u32 {
            s.schedule_at(SimTime::from_ms(u64::from(ev % 7)), ev);
        }
        let mut m = Recorder(Vec::new());
        run(
            &mut m,
            &mut s,
            Limits {
                max_time: SimTime::from_ms(2),
                ..Limits::default()
            },
        );
        let prefix = m.0.len();
        let mut fork = s.clone();
        run(&mut m, &mut s, Limits::default());
        let mut f = Recorder(Vec::new());
        run(&mut f, &mut fork, Limits::default());
        assert_eq!(&m.0[prefix..], &f.0[..]);

        let mut s = Scheduler::new();
        for ev in 0..10u32 {
            s.schedule_at(SimTime::from_ms(u64::from(9 - ev)), ev);
        }
        let dropped = s.retain(|ev| ev % 3 != 0);
        let dropped: Vec<(u64, u32)> = dropped.iter().map(|(t, e)| (t.ms(), *e)).collect();
        assert_eq!(dropped, vec![(0, 9), (3, 6), (6, 3), (9, 0)]);
        let mut m = Recorder(Vec::new());
        run(&mut m, &mut s, Limits::default());
        let order: Vec<u32> = m.0.iter().map(|&(_, e)| e).collect();
        assert_eq!(order, vec![8, 7, 5, 4, 2, 1, 99], "event 1 schedules 99");
    }

    /// Ranks order an instant in a plain scheduler too, whatever the insertion order.
    #[test]
    fn ranks_order_an_instant() {
        let mut s = Scheduler::new();
        s.schedule_ranked_at(SimTime::from_ms(2), 3, 5);
        s.schedule_at(SimTime::from_ms(2), 6);
        s.schedule_ranked_at(SimTime::from_ms(2), 0, 7);
        s.schedule_at(SimTime::from_ms(1), 8);
        let mut m = Recorder(Vec::new());
        run(&mut m, &mut s, Limits::default());
        assert_eq!(m.0, vec![(1, 8), (2, 7), (2, 6), (2, 5)]);
    }

    /// The queue against a plain sorted list: random times over many scales (same instant,
    /// milliseconds, hours, far future), every rank, pops stopped by a time limit (after which
    /// events may be pushed before the queue's reference time), clones and `retain`.
    #[test]
    fn the_queue_orders_like_a_sorted_list() {
        let mut x = 7u64;
        let mut next = move || {
            x = mix64(x);
            x
        };
        let mut q = EventQueue::default();
        let mut reference = std::collections::BTreeSet::<(u64, u8, u64, u32)>::new();
        let (mut now, mut seq) = (0u64, 0u64);
        for round in 0..20_000u32 {
            let r = next();
            if r % 5 < 3 {
                let delay = match r % 7 {
                    0 => 0,
                    1 => r >> 60,
                    2 => (r >> 40) % 100_000,
                    3 => (r >> 30) % 10_000_000,
                    4 => (r >> 20) % (1 << 40),
                    5 => u64::MAX - now - (r >> 62),
                    _ => (r >> 50) % 64,
                };
                let rank = ((r >> 8) % 4) as u8;
                // Now and then an event before the last one taken (a raw queue allows it;
                // it waits in the heap that comes before the wheel).
                let at = if (r >> 33) % 16 == 0 {
                    now.saturating_sub((r >> 45) % 1_000)
                } else {
                    now + delay
                };
                q.push_ranked(SimTime::from_ms(at), rank, round);
                reference.insert((at, rank, seq, round));
                seq += 1;
            } else {
                let until = now + (r >> 54);
                let want = reference.first().filter(|e| e.0 <= until).copied();
                let got = q.pop_until(SimTime::from_ms(until));
                assert_eq!(got.map(|(t, e)| (t.ms(), e)), want.map(|w| (w.0, w.3)));
                if let Some(w) = want {
                    reference.remove(&w);
                    now = w.0;
                }
            }
            assert_eq!(q.len(), reference.len());
            assert_eq!(
                q.peek().copied(),
                reference.first().map(|e| e.3),
                "peek shows what pop takes next"
            );
            assert_eq!(
                q.peek_time().map(SimTime::ms),
                reference.first().map(|e| e.0)
            );
            if round % 4_000 == 3_999 {
                let c = q.clone();
                let dropped = q.retain(|e| e % 3 != 0);
                let gone: Vec<(u64, u32)> = reference
                    .iter()
                    .filter(|e| e.3 % 3 == 0)
                    .map(|e| (e.0, e.3))
                    .collect();
                let dropped: Vec<(u64, u32)> = dropped.iter().map(|(t, e)| (t.ms(), *e)).collect();
                assert_eq!(dropped, gone);
                let mut c = c;
                let mut all = Vec::new();
                while let Some((t, e)) = c.pop() {
                    all.push((t.ms(), e));
                }
                let want: Vec<(u64, u32)> = reference.iter().map(|e| (e.0, e.3)).collect();
                assert_eq!(all, want, "a clone pops what the original holds");
                reference.retain(|e| e.3 % 3 != 0);
            }
        }
        for w in reference {
            assert_eq!(q.pop().map(|(t, e)| (t.ms(), e)), Some((w.0, w.3)));
        }
        assert!(q.pop().is_none() && q.is_empty());
    }

    #[test]
    fn limits_stop_the_loop() {
        let mut s = Scheduler::new();
        for t in 0..10 {
            s.schedule_at(SimTime::from_ms(t * 10), 0);
        }
        let mut m = Recorder(Vec::new());
        let stats = run(
            &mut m,
            &mut s,
            Limits {
                max_events: 3,
                max_time: SimTime::MAX,
            },
        );
        assert_eq!(
            (stats.events_processed, stats.reason),
            (3, StopReason::EventLimit)
        );
        let stats = run(
            &mut m,
            &mut s,
            Limits {
                max_events: u64::MAX,
                max_time: SimTime::from_ms(55),
            },
        );
        assert_eq!(
            (stats.events_processed, stats.reason),
            (3, StopReason::TimeLimit)
        );
        assert_eq!(stats.end, SimTime::from_ms(50));
    }
}
