//! Machine failures from a trace: Alibaba cluster-trace-v2017 `server_event`.
//!
//! Format `alibaba-v2017-server-event`: no header, seven columns `timestamp, machine_id,
//! event_type, event_detail, cpu, memory, disk`. `timestamp` is whole seconds from the start of
//! the trace (0 = the machine was there before the trace began) and becomes simulated time
//! `timestamp x 1000` ms. `event_type` is `add` (a machine joins: it only numbers the machine),
//! `softerror` or `harderror` (the machine fails: an instance failure). The other columns are
//! not used (they must be present).
//!
//! Machines are numbered in order of first appearance in the file (any event type): the k-th
//! distinct `machine_id` (from 0) stands for the cluster's instance k, the k-th instance the
//! cluster launched (its groups' initial instances first, in group order). Failure rows of
//! machines numbered at or beyond the cluster's initial instance count are skipped and counted.
//! Only the first `instances` machine ids are kept, so memory is bounded by the cluster's size.

use std::collections::BTreeMap;

use super::requests::RowProblem;

/// Problems reported in full; the rest are counted in one last problem.
const MAX_PROBLEMS: usize = 20;

/// One failure: simulated time (ms) and the instance (k-th launched by the cluster).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MachineFailure {
    /// When, ms from the trace's start.
    pub at_ms: u64,
    /// The instance: the k-th the cluster launched.
    pub instance: u32,
}

/// What a `server_event` trace gave.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServerEvents {
    /// The failures, in file order.
    pub failures: Vec<MachineFailure>,
    /// `add` rows (they only number machines).
    pub add_rows: u64,
    /// Failure rows of machines beyond the cluster (skipped).
    pub beyond_cluster: u64,
    /// Distinct machines mapped onto instances (at most the cluster's size).
    pub machines_mapped: u32,
}

/// Read a `server_event` trace for a cluster of `instances` initial instances: every failure
/// row, or every malformed row (1-based line and column, what was given, what is allowed; at
/// most 20, then a count).
pub fn alibaba_v2017(text: &str, instances: u32) -> Result<ServerEvents, Vec<RowProblem>> {
    let mut out = ServerEvents::default();
    let mut ids: BTreeMap<&str, u32> = BTreeMap::new();
    let mut problems = Vec::new();
    let mut bad = 0usize;
    for (i, line) in text.lines().enumerate() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.trim().is_empty() {
            continue;
        }
        match row(line) {
            Err((col, msg)) => {
                bad += 1;
                if problems.len() < MAX_PROBLEMS {
                    problems.push((i + 1, col, msg));
                }
            }
            Ok((at_s, machine, fails)) => {
                let k = match ids.get(machine) {
                    Some(&k) => Some(k),
                    None if ids.len() < instances as usize => {
                        let k = ids.len() as u32;
                        ids.insert(machine, k);
                        Some(k)
                    }
                    None => None,
                };
                match (fails, k) {
                    (false, _) => out.add_rows += 1,
                    (true, Some(instance)) => out.failures.push(MachineFailure {
                        at_ms: at_s * 1000,
                        instance,
                    }),
                    (true, None) => out.beyond_cluster += 1,
                }
            }
        }
    }
    if bad > MAX_PROBLEMS {
        let last = problems.last().map_or(0, |p| p.0);
        problems.push((
            last,
            1,
            format!("and {} more malformed rows", bad - MAX_PROBLEMS),
        ));
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    out.machines_mapped = ids.len() as u32;
    Ok(out)
}

/// One row: (timestamp s, machine id, whether it is a failure), or (1-based column, message).
fn row(line: &str) -> Result<(u64, &str, bool), (usize, String)> {
    let fields = super::split_row(
        line,
        "timestamp,machine_id,event_type,event_detail,cpu,memory,disk",
    )?;
    let col = |f: usize| super::field_column(&fields, f);
    let shown = |s: &str| crate::scenario::read::escape_controls(s);
    let ts = fields[0].trim();
    let at_s: u64 = match ts.parse() {
        Ok(v) if v <= 100 * 365 * 86_400 => v,
        _ => {
            return Err((
                col(0),
                format!(
                    "timestamp: got \"{}\"; expected whole seconds from the trace's start, 0 to 3153600000",
                    shown(ts)
                ),
            ));
        }
    };
    let machine = fields[1].trim();
    if machine.is_empty() {
        return Err((col(1), "machine_id: empty; expected a machine id".into()));
    }
    let fails = match fields[2].trim() {
        "add" => false,
        "softerror" | "harderror" => true,
        other => {
            return Err((
                col(2),
                format!(
                    "event_type: got \"{}\"; expected \"add\", \"softerror\" or \"harderror\"",
                    shown(other)
                ),
            ));
        }
    };
    Ok((at_s, machine, fails))
}

#[cfg(test)]
mod tests {
    use super::*;

    // Rows in the layout of Alibaba cluster-trace-v2017 server_event.csv (schema: alibaba/
    // clusterdata cluster-trace-v2017 trace_201708.md), written for this test.
    const ROWS: &str = "0,17,add,,64,0.69,1\n0,5,add,,64,0.69,1\n0,9,add,,64,0.69,1\n\
        1351,5,softerror,agent_check,0,0,0\n777,9,harderror,machine_fail,0,0,0\n\
        900,17,softerror,disk_full,0,0,0\n";

    #[test]
    fn machines_are_numbered_in_order_of_first_appearance() {
        let e = alibaba_v2017(ROWS, 3).unwrap();
        assert_eq!(e.add_rows, 3);
        assert_eq!(e.beyond_cluster, 0);
        assert_eq!(e.machines_mapped, 3);
        let got: Vec<(u64, u32)> = e.failures.iter().map(|f| (f.at_ms, f.instance)).collect();
        assert_eq!(got, vec![(1_351_000, 1), (777_000, 2), (900_000, 0)]);
    }

    #[test]
    fn failures_of_machines_beyond_the_cluster_are_skipped_and_counted() {
        let e = alibaba_v2017(ROWS, 1).unwrap();
        assert_eq!(e.machines_mapped, 1);
        assert_eq!(e.beyond_cluster, 2);
        assert_eq!(
            e.failures,
            vec![MachineFailure {
                at_ms: 900_000,
                instance: 0
            }]
        );
    }

    #[test]
    fn a_failure_row_may_name_a_machine_never_added() {
        let e = alibaba_v2017("60,3,softerror,x,0,0,0\n", 4).unwrap();
        assert_eq!(
            e.failures,
            vec![MachineFailure {
                at_ms: 60_000,
                instance: 0
            }]
        );
    }

    #[test]
    fn malformed_rows_are_located_every_one() {
        let text = "0,1,add,,64,0.69,1\n-5,1,softerror,x,0,0,0\n0,1,remove,,0,0,0\n1,2,add\n0,,add,,1,1,1\n";
        let p = alibaba_v2017(text, 10).unwrap_err();
        let at: Vec<(usize, usize)> = p.iter().map(|x| (x.0, x.1)).collect();
        assert_eq!(at, vec![(2, 1), (3, 5), (4, 1), (5, 3)]);
        assert!(p[0].2.contains("got \"-5\""), "{}", p[0].2);
        assert!(
            p[1].2.contains("\"softerror\" or \"harderror\""),
            "{}",
            p[1].2
        );
        assert!(p[2].2.contains("got 3"), "{}", p[2].2);
    }

    #[test]
    fn problems_beyond_the_limit_are_counted() {
        let text = "x,1,add,,0,0,0\n".repeat(25);
        let p = alibaba_v2017(&text, 10).unwrap_err();
        assert_eq!(p.len(), MAX_PROBLEMS + 1);
        assert!(
            p[MAX_PROBLEMS].2.contains("5 more"),
            "{}",
            p[MAX_PROBLEMS].2
        );
    }
}
