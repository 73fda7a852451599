//! Where state changes go: the run's sink and the stable events hash, updated together so that
//! the hash covers exactly the records `events.csv` gets.

use ecsim_engine::{SimTime, StableHasher, str_words};

use crate::record::{EventKind, EventRecord, Sink};

/// The sink, the events hash and the count of state changes.
pub(crate) struct Out<S: Sink> {
    pub(crate) sink: S,
    hash: StableHasher,
    state_changes: u64,
}

impl<S: Sink> Out<S> {
    pub(crate) fn new(sink: S) -> Self {
        Out {
            sink,
            hash: StableHasher::default(),
            state_changes: 0,
        }
    }

    /// The same hash and count going on into another sink (a fork of the run).
    pub(crate) fn fork<S2: Sink>(&self, sink: S2) -> Out<S2> {
        Out {
            sink,
            hash: self.hash,
            state_changes: self.state_changes,
        }
    }

    /// Record one state change: hash it, count it, and hand it to the sink.
    pub(crate) fn emit(&mut self, e: EventRecord<'_>) {
        self.state_changes += 1;
        let h = &mut self.hash;
        h.write_u64(e.time_ms);
        h.write_u64(e.kind as u64);
        h.write_u64(e.task.unwrap_or(u64::MAX));
        h.write_str(e.service);
        h.write_str(e.job);
        h.write_str(e.instance);
        h.write_str(e.from);
        h.write_str(e.to);
        h.write_str(e.reason);
        self.sink.event(&e);
    }

    /// Record a task's state change: as [`Out::emit`], with its service and job names
    /// (`owner`: the service's words, then the job's) and its instance id given as the words
    /// the hash folds in for them ([`ecsim_engine::str_words`]), made once per owner and
    /// instance instead of read from the strings at every change. Same hash.
    #[inline]
    pub(crate) fn emit_task(&mut self, e: EventRecord<'_>, owner: &[u64], instance: &[u64]) {
        debug_assert_eq!(
            owner,
            [str_words(e.service), str_words(e.job)].concat(),
            "owner words"
        );
        debug_assert_eq!(instance, str_words(e.instance), "instance words");
        self.state_changes += 1;
        // A copy of the state, kept in a register for the whole record, stored back once.
        let mut h = self.hash;
        h.write_u64(e.time_ms);
        h.write_u64(e.kind as u64);
        h.write_u64(e.task.unwrap_or(u64::MAX));
        h.write_words(owner);
        h.write_words(instance);
        h.write_str(e.from);
        h.write_str(e.to);
        h.write_str(e.reason);
        self.hash = h;
        self.sink.event(&e);
    }

    /// A service event (placement failures, desired count changes, deployments).
    pub(crate) fn service_event(
        &mut self,
        service: &str,
        now: SimTime,
        from: &str,
        to: &str,
        reason: &str,
    ) {
        self.emit(EventRecord {
            time_ms: now.ms(),
            kind: EventKind::Service,
            task: None,
            service,
            job: "",
            instance: "",
            from,
            to,
            reason,
        });
    }

    /// State changes so far.
    pub(crate) fn state_changes(&self) -> u64 {
        self.state_changes
    }

    /// The events hash as 16 hex digits.
    pub(crate) fn hash_hex(&self) -> String {
        format!("{:016x}", self.hash.finish())
    }
}
