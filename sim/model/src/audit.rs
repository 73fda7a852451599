//! The ordering audit: does a run's result depend on the order of events at the same instant?
//!
//! The engine processes events at one instant in the order they were scheduled. Where that order
//! is one of the documented same-instant rules (see `sim::event`) it is fixed; everywhere else it
//! is an accident of the code, and a result that changes with it is an artefact. An audit runs
//! the scenario once plainly and K more times with each instant's events in a seeded random
//! order ([`crate::sim::run_shuffled`]), then reports
//! * which summary metrics change, their plain value and the range over the shuffles;
//! * the first instant at which the event logs differ, comparing each instant's events as a set
//!   (a different order of the same rows is not a divergence; task ids are left out, since two
//!   tasks created at one instant may swap ids without anything else changing).
//!
//! Pure computation: the CLI chooses the threads and prints.

use ecsim_engine::{StableHasher, mix64};

use crate::record::{EventRecord, Sink, Summary, SummaryValue};
use crate::scenario::Scenario;
use crate::sim::{self, RunOptions};

/// Summary fields that differ between runs by construction, not compared: the events hash
/// (which hashes rows in order) and the wall time.
const NOT_COMPARED: [&str; 2] = ["events_hash", "wall_ms"];

/// One instant's events as an order-independent hash.
#[derive(Default)]
struct Instant {
    time_ms: u64,
    hash: u64,
    rows: u64,
}

impl Instant {
    fn add(&mut self, e: &EventRecord<'_>) {
        let mut h = StableHasher::default();
        h.write_u64(e.kind as u64);
        for s in [e.service, e.job, e.instance, e.from, e.to, e.reason] {
            h.write_str(s);
        }
        // A wrapping sum of mixed row hashes does not depend on the rows' order.
        self.hash = self.hash.wrapping_add(mix64(h.finish()));
        self.rows += 1;
    }
    fn key(&self) -> (u64, u64) {
        (self.time_ms, self.hash ^ self.rows.rotate_left(32))
    }
}

/// Records each instant's hash of a plain run.
#[derive(Default)]
pub struct Recorder {
    cur: Instant,
    instants: Vec<(u64, u64)>,
}

impl Recorder {
    fn close(&mut self) {
        if self.cur.rows > 0 {
            self.instants.push(self.cur.key());
        }
        self.cur = Instant::default();
    }
    /// Every instant with events, in time order: `(time_ms, hash)`.
    pub fn finish(mut self) -> Vec<(u64, u64)> {
        self.close();
        self.instants
    }
}

impl Sink for Recorder {
    fn event(&mut self, e: &EventRecord<'_>) {
        if e.time_ms != self.cur.time_ms {
            self.close();
            self.cur.time_ms = e.time_ms;
        }
        self.cur.add(e);
    }
}

/// Compares a shuffled run's instants with the plain run's as they come; keeps only the first
/// difference (memory bounded by one instant).
pub struct Comparer<'a> {
    plain: &'a [(u64, u64)],
    next: usize,
    cur: Instant,
    /// The first instant, ms, whose events differ from the plain run's.
    pub first_divergence: Option<u64>,
}

impl<'a> Comparer<'a> {
    /// Compare against the instants of a plain run ([`Recorder::finish`]).
    pub fn new(plain: &'a [(u64, u64)]) -> Self {
        Comparer {
            plain,
            next: 0,
            cur: Instant::default(),
            first_divergence: None,
        }
    }
    fn close(&mut self) {
        if self.cur.rows == 0 || self.first_divergence.is_some() {
            self.cur = Instant::default();
            return;
        }
        let (t, h) = self.cur.key();
        match self.plain.get(self.next) {
            Some(&(pt, ph)) if (pt, ph) == (t, h) => self.next += 1,
            // The plain run had an instant this one lacks, or this one's events differ.
            Some(&(pt, _)) => self.first_divergence = Some(pt.min(t)),
            None => self.first_divergence = Some(t),
        }
        self.cur = Instant::default();
    }
    /// The first divergence, including instants of the plain run that this run never reached.
    pub fn finish(mut self) -> Option<u64> {
        self.close();
        if self.first_divergence.is_none()
            && let Some(&(pt, _)) = self.plain.get(self.next)
        {
            self.first_divergence = Some(pt);
        }
        self.first_divergence
    }
}

impl Sink for Comparer<'_> {
    fn event(&mut self, e: &EventRecord<'_>) {
        if self.first_divergence.is_some() {
            return;
        }
        if e.time_ms != self.cur.time_ms {
            self.close();
            self.cur.time_ms = e.time_ms;
        }
        self.cur.add(e);
    }
}

/// The salt of shuffle `k` (0-based) of a run with `seed`.
pub fn salt(seed: u64, k: u32) -> u64 {
    ecsim_engine::seed_for_index(mix64(seed ^ 0x6f72_6465_7269_6e67), u64::from(k))
}

/// The plain run: its summary and its instants.
pub fn plain_run(sc: &Scenario, seed: u64) -> (Summary, Vec<(u64, u64)>) {
    let opts = RunOptions {
        seed,
        check_invariants: false,
    };
    let (s, rec) = sim::run(sc, opts, Recorder::default());
    (s, rec.finish())
}

/// One shuffled run: its summary and the first instant whose events differ from the plain run.
pub fn shuffled_run(
    sc: &Scenario,
    seed: u64,
    k: u32,
    plain: &[(u64, u64)],
) -> (Summary, Option<u64>) {
    let opts = RunOptions {
        seed,
        check_invariants: false,
    };
    let (s, cmp) = sim::run_shuffled(
        sc,
        opts,
        salt(seed, k),
        Comparer::new(plain),
        &mut sim::NoProgress,
    );
    (s, cmp.finish())
}

/// A summary metric that changed under some shuffle.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricChange {
    /// The summary field.
    pub metric: String,
    /// Its value in the plain run.
    pub plain: SummaryValue,
    /// The smallest and largest value over the plain run and the shuffles (numbers only).
    pub range: Option<(f64, f64)>,
    /// How many shuffles changed it.
    pub changed_in: u32,
}

/// How many of a summary's metrics an audit compares (all but the events hash and wall time).
pub fn compared_metrics(plain: &Summary) -> usize {
    plain
        .fields()
        .iter()
        .filter(|(k, _)| !NOT_COMPARED.contains(&k.as_str()))
        .count()
}

/// The summary metrics whose value in some shuffled run differs from the plain run's, in the
/// summary's field order. Floats count as changed beyond a relative 1e-9 (summation order).
pub fn metric_changes(plain: &Summary, shuffled: &[Summary]) -> Vec<MetricChange> {
    let base = plain.fields();
    let fields: Vec<Vec<(String, SummaryValue)>> = shuffled.iter().map(|s| s.fields()).collect();
    // By name: a run with one field more or less (another failure recorded) must not shift the
    // rest.
    let others: Vec<std::collections::BTreeMap<&str, &SummaryValue>> = fields
        .iter()
        .map(|f| f.iter().map(|(k, v)| (k.as_str(), v)).collect())
        .collect();
    let mut out = Vec::new();
    for (key, v) in &base {
        if NOT_COMPARED.contains(&key.as_str()) {
            continue;
        }
        let mut changed_in = 0;
        let mut range = number(v).map(|x| (x, x));
        for o in &others {
            let ov = o.get(key.as_str()).copied();
            if ov.is_none_or(|ov| !same(v, ov)) {
                changed_in += 1;
            }
            if let (Some((lo, hi)), Some(x)) = (range.as_mut(), ov.and_then(number)) {
                *lo = lo.min(x);
                *hi = hi.max(x);
            }
        }
        if changed_in > 0 {
            out.push(MetricChange {
                metric: key.clone(),
                plain: v.clone(),
                range,
                changed_in,
            });
        }
    }
    out
}

fn number(v: &SummaryValue) -> Option<f64> {
    match v {
        SummaryValue::Int(i) => Some(*i as f64),
        SummaryValue::Float(f) => Some(*f),
        SummaryValue::Str(_) => None,
    }
}

fn same(a: &SummaryValue, b: &SummaryValue) -> bool {
    match (a, b) {
        (SummaryValue::Float(x), SummaryValue::Float(y)) => {
            x == y || (x - y).abs() <= 1e-9 * x.abs().max(y.abs())
        }
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::EventKind;

    fn ev(t: u64, to: &'static str) -> EventRecord<'static> {
        EventRecord {
            time_ms: t,
            kind: EventKind::Task,
            task: Some(t),
            service: "s",
            job: "",
            instance: "i-1",
            from: "PENDING",
            to,
            reason: "",
        }
    }

    #[test]
    fn the_same_rows_in_another_order_do_not_diverge() {
        let mut r = Recorder::default();
        for e in [ev(1, "A"), ev(1, "B"), ev(5, "C")] {
            r.event(&e);
        }
        let plain = r.finish();
        let mut c = Comparer::new(&plain);
        for e in [ev(1, "B"), ev(1, "A"), ev(5, "C")] {
            c.event(&e);
        }
        assert_eq!(c.finish(), None);
    }

    #[test]
    fn the_first_different_instant_is_found() {
        let mut r = Recorder::default();
        for e in [ev(1, "A"), ev(5, "C"), ev(9, "D")] {
            r.event(&e);
        }
        let plain = r.finish();
        let mut c = Comparer::new(&plain);
        for e in [ev(1, "A"), ev(5, "X"), ev(9, "D")] {
            c.event(&e);
        }
        assert_eq!(c.finish(), Some(5));
        // A run that stops early diverges where the plain run went on.
        let mut c = Comparer::new(&plain);
        c.event(&ev(1, "A"));
        assert_eq!(c.finish(), Some(5));
        // A row more at an instant is a divergence there.
        let mut c = Comparer::new(&plain);
        for e in [ev(1, "A"), ev(1, "A"), ev(5, "C")] {
            c.event(&e);
        }
        assert_eq!(c.finish(), Some(1));
    }
}
