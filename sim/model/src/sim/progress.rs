//! Progress of a run, for a front end that wants to show it: the model never prints, it calls
//! a [`Progress`] the caller gives ([`super::run_with_progress`]) every [`EVERY`] events, with
//! the simulated time and the count so far. Nothing it does changes the run.

use ecsim_engine::{Control, Model, Scheduler};

/// Events between two progress reports.
pub const EVERY: u64 = 1 << 14;

/// Told how far a run has come.
pub trait Progress {
    /// `now_ms` simulated so far, of `end_ms` (the scenario's duration, if it has one), after
    /// `events` events.
    fn update(&mut self, now_ms: u64, end_ms: Option<u64>, events: u64);
}

/// No progress reports.
pub struct NoProgress;

impl Progress for NoProgress {
    fn update(&mut self, _: u64, _: Option<u64>, _: u64) {}
}

/// A model that reports progress every [`EVERY`] events, then hands each event on.
pub(super) struct Reporting<'a, M> {
    pub(super) inner: &'a mut M,
    pub(super) progress: &'a mut dyn Progress,
    pub(super) end_ms: Option<u64>,
    pub(super) events: u64,
}

impl<M: Model> Model for Reporting<'_, M> {
    type Event = M::Event;

    fn handle(&mut self, event: M::Event, sched: &mut Scheduler<M::Event>) -> Control {
        self.events += 1;
        if self.events.is_multiple_of(EVERY) {
            self.progress
                .update(sched.now().ms(), self.end_ms, self.events);
        }
        self.inner.handle(event, sched)
    }

    fn prefetch(&self, event: &M::Event, sched: &Scheduler<M::Event>) {
        self.inner.prefetch(event, sched);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ecsim_engine::{Limits, SimTime};
    use std::cell::Cell;

    /// Counts the hints it gets.
    struct Counting {
        hints: Cell<u32>,
        handled: u32,
    }

    impl Model for Counting {
        type Event = u32;
        fn handle(&mut self, _: u32, _: &mut Scheduler<u32>) -> Control {
            self.handled += 1;
            Control::Continue
        }
        fn prefetch(&self, _: &u32, _: &Scheduler<u32>) {
            self.hints.set(self.hints.get() + 1);
        }
    }

    /// A run reports progress through this wrapper: it must hand the cache hints on too, or a
    /// real run would go without them.
    #[test]
    fn the_progress_wrapper_hands_the_hints_on() {
        let mut sched = Scheduler::new();
        for t in 0..10 {
            sched.schedule_at(SimTime::from_ms(t), 0u32);
        }
        let mut inner = Counting {
            hints: Cell::new(0),
            handled: 0,
        };
        let mut wrapped = Reporting {
            inner: &mut inner,
            progress: &mut NoProgress,
            end_ms: None,
            events: 0,
        };
        ecsim_engine::run(&mut wrapped, &mut sched, Limits::default());
        assert_eq!((inner.handled, inner.hints.get()), (10, 10));
    }
}
