//! Where state changes go: the run's sink and the stable events hash, updated together so that
//! the hash covers exactly the records `events.csv` gets.

use ecsim_engine::{SimTime, StableHasher};

use super::TaskState;
use crate::record::{EventKind, EventRecord, Sink};

/// The sink, the events hash and the count of state changes.
pub(crate) struct Out<S: Sink> {
    pub(crate) sink: S,
    hash: StableHasher,
    state_changes: u64,
    /// The sink wants event records ([`Sink::wants_events`], asked once): when not, a task's
    /// change is hashed from its words and no record is built.
    events: bool,
}

impl<S: Sink> Out<S> {
    pub(crate) fn new(sink: S) -> Self {
        Out {
            events: sink.wants_events(),
            sink,
            hash: StableHasher::default(),
            state_changes: 0,
        }
    }

    /// The same hash and count going on into another sink (a fork of the run).
    pub(crate) fn fork<S2: Sink>(&self, sink: S2) -> Out<S2> {
        Out {
            events: sink.wants_events(),
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
        if self.events {
            self.sink.event(&e);
        }
    }

    /// Whether the sink wants event records: when it does not, a task's change is only hashed
    /// ([`Out::hash_task`]) and its record is never built.
    #[inline]
    pub(crate) fn wants_events(&self) -> bool {
        self.events
    }

    /// Hash and count a task's state change: the fields [`Out::emit`] folds in for its record
    /// (time, kind, task id, service, job, instance, from, to, reason), with the service and job
    /// names (`owner`: the service's words, then the job's) and the instance id given as the
    /// words the hash folds in for them ([`ecsim_engine::str_words`]), made once per owner and
    /// instance instead of read from the strings at every change. Same hash. The caller hands
    /// the record to the sink with [`Out::task_record`] when [`Out::wants_events`].
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn hash_task(
        &mut self,
        time_ms: u64,
        task: u32,
        owner: &[u64],
        instance: &[u64],
        from: Option<TaskState>,
        to: TaskState,
        reason: &str,
    ) {
        self.state_changes += 1;
        // A copy of the state, kept in a register for the whole record, stored back once.
        let mut h = self.hash;
        h.write_array(&[time_ms, EventKind::Task as u64, u64::from(task)]);
        h.write_words(owner);
        h.write_words(instance);
        match from {
            // The empty string: its length alone.
            None => h.write_u64(0),
            Some(f) => f.hash_name(&mut h),
        }
        to.hash_name(&mut h);
        if reason.is_empty() {
            // Most changes have no reason: its length alone, as `write_str` folds it in.
            h.write_u64(0);
        } else {
            h.write_str(reason);
        }
        self.hash = h;
    }

    /// Hand a task's record, already hashed by [`Out::hash_task`], to the sink.
    pub(crate) fn task_record(&mut self, e: &EventRecord<'_>) {
        debug_assert!(self.events && e.kind == EventKind::Task);
        self.sink.event(e);
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

#[cfg(test)]
mod tests {
    use ecsim_engine::StableHasher;

    use crate::record::{EventRecord, NullSink, Sink};
    use crate::sim::{self, RunOptions};

    /// Hashes the records it gets as [`super::Out::emit`] does, from their strings.
    struct Rehash(StableHasher, u64);

    impl Sink for Rehash {
        fn event(&mut self, e: &EventRecord<'_>) {
            let h = &mut self.0;
            h.write_u64(e.time_ms);
            h.write_u64(e.kind as u64);
            h.write_u64(e.task.unwrap_or(u64::MAX));
            for s in [e.service, e.job, e.instance, e.from, e.to, e.reason] {
                h.write_str(s);
            }
            self.1 += 1;
        }
    }

    /// The events hash is the hash of the records `events.csv` gets, field by field from their
    /// strings, and the same when the sink wants no records (`--no-events`: task changes are
    /// hashed from pre-made words and no record is built).
    #[test]
    fn the_hash_covers_the_records_and_does_not_depend_on_the_sink() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios");
        for f in [
            "spot-mix.toml",
            "az-outage.toml",
            "fargate-vs-ec2.toml",
            "deploy-full-cluster.toml",
            "flash-sale.toml",
        ] {
            let src = std::fs::read_to_string(dir.join(f)).unwrap();
            let sc = crate::scenario::load(f, &src, &[]).unwrap_or_else(|e| panic!("{e:?}"));
            let opts = || RunOptions {
                seed: sc.seed,
                check_invariants: false,
            };
            assert!(!NullSink.wants_events());
            let (quiet, _) = sim::run(&sc, opts(), NullSink);
            let (loud, rehash) = sim::run(&sc, opts(), Rehash(StableHasher::default(), 0));
            assert!(rehash.1 > 50, "{f}: {} records", rehash.1);
            assert_eq!(quiet.events_hash, loud.events_hash, "{f}");
            assert_eq!(quiet.state_changes, rehash.1, "{f}");
            assert_eq!(loud.state_changes, rehash.1, "{f}");
            assert_eq!(
                loud.events_hash,
                format!("{:016x}", rehash.0.finish()),
                "{f}"
            );
        }
    }
}
