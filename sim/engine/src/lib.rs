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
//! The engine knows nothing about what events mean.

mod hash;
mod queue;
mod rng;
mod time;

pub use hash::StableHasher;
pub use queue::{EventQueue, Scheduler};
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
        match sched.peek_time() {
            None => break StopReason::QueueEmpty,
            Some(t) if t > limits.max_time => break StopReason::TimeLimit,
            Some(_) => {}
        }
        let ev = sched.advance().expect("peeked");
        processed += 1;
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
