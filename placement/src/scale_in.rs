//! Which task a service stops when it scales in (ECS-DG `task-placement-strategies.html`).
//!
//! * `binpack(F)`: stop the task whose instance will have the most of F available afterwards;
//! * `spread(F)`: stop from the value of F with the most tasks of the group, keeping the spread
//!   balanced (AZ first, then instance, for the default `[spread AZ, spread instanceId]`);
//! * `random`: a uniform choice among the candidates the strategies before it left;
//! * remaining ties: the instance with the smallest tie-break token, and the first candidate
//!   listed on it.

use rand::RngExt;

use crate::cluster::Cluster;
use crate::types::*;

/// A running task that may be stopped.
#[derive(Debug, Clone, Copy)]
pub struct StopCandidate {
    /// Where it runs.
    pub instance: InstanceId,
    /// CPU units it holds.
    pub cpu_units: u32,
    /// Memory it holds, MiB.
    pub memory_mib: u32,
}

impl Cluster {
    /// The index in `cands` of the task to stop first, by the service's strategy chain.
    /// All candidates belong to `group`. `None` only when `cands` is empty.
    pub fn choose_to_stop(
        &self,
        group: GroupId,
        chain: &[Strategy],
        cands: &[StopCandidate],
    ) -> Option<usize> {
        let end = chain
            .iter()
            .position(|s| *s == Strategy::Random)
            .unwrap_or(chain.len());
        let random = end < chain.len();
        let chain = &chain[..end.min(MAX_STRATEGIES)];
        let counts: Vec<_> = chain
            .iter()
            .map(|s| self.value_counts_for(s, group))
            .collect();
        let mut best: Option<([i64; MAX_STRATEGIES], u64, usize)> = None;
        let mut tied: Vec<usize> = Vec::new();
        for (n, c) in cands.iter().enumerate() {
            let inst = &self.insts[c.instance.0 as usize];
            let mut score = [0i64; MAX_STRATEGIES];
            for (k, s) in chain.iter().enumerate() {
                // Smaller is better: negate "most available after" and "most tasks".
                score[k] = -match s {
                    Strategy::Binpack(BinpackField::Cpu) => i64::from(inst.cpu_avail + c.cpu_units),
                    Strategy::Binpack(BinpackField::Memory) => {
                        i64::from(inst.mem_avail + c.memory_mib)
                    }
                    Strategy::Spread(SpreadField::Instance) => i64::from(inst.group_count(group)),
                    Strategy::Spread(SpreadField::Attribute(_)) => {
                        i64::from(self.count_on_value(s, counts[k].as_ref(), c.instance.0, group))
                    }
                    Strategy::Random => 0,
                };
            }
            let key = (score, inst.token, n);
            if random {
                match best.map(|b| score.cmp(&b.0)) {
                    Some(std::cmp::Ordering::Greater) => continue,
                    Some(std::cmp::Ordering::Equal) => tied.push(n),
                    _ => {
                        tied.clear();
                        tied.push(n);
                    }
                }
            }
            if best.is_none_or(|b| key < b) {
                best = Some(key);
            }
        }
        if random && !tied.is_empty() {
            return Some(tied[self.random_rng.borrow_mut().random_range(0..tied.len())]);
        }
        best.map(|b| b.2)
    }
}
