//! Explaining one placement: how many instances entered each stage of the pipeline, how many
//! each stage removed and why, and how the strategy chain narrowed the rest.
//!
//! [`Cluster::explain`] scans every instance (and computes each strategy's score for every
//! feasible one), so it is for `--explain` runs only; the placement itself never calls it.

use crate::cluster::{Cluster, InstanceStatus};
use crate::select::effective;
use crate::types::*;

/// The stages an instance can fail, in pipeline order (as [`PlacementFailure`] orders them).
pub const STAGES: [PlacementFailure; 7] = [
    PlacementFailure::Agent,
    PlacementFailure::Cpu,
    PlacementFailure::Memory,
    PlacementFailure::Ports,
    PlacementFailure::Eni,
    PlacementFailure::DistinctInstance,
    PlacementFailure::MemberOf,
];

/// One placement attempt, stage by stage. The counts add up:
/// `candidates = not_active + removed.sum() + feasible`, and each strategy tier keeps at most
/// what the one before it kept.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Explanation {
    /// Instances of the pool the task may use (every status).
    pub candidates: u32,
    /// Of those, not ACTIVE (registering, draining or stopped).
    pub not_active: u32,
    /// ACTIVE instances removed by each stage of [`STAGES`] (the first check each one failed).
    pub removed: [u32; 7],
    /// Instances that pass every check.
    pub feasible: u32,
    /// After each strategy of the chain before any `random`: how many instances share the best
    /// score so far.
    pub tiers: Vec<u32>,
    /// The instances the final choice is made among (the last tier, or every feasible one).
    pub tie: u32,
}

impl Cluster {
    /// Explain the placement of `req` as it stands now (see [`Explanation`]).
    pub fn explain(&self, req: &TaskRequest<'_>) -> Explanation {
        let mut e = Explanation::default();
        let mut alive: Vec<u32> = Vec::new();
        for i in 0..self.insts.len() as u32 {
            let inst = &self.insts[i as usize];
            if req.pool.is_some_and(|p| p != inst.pool) {
                continue;
            }
            if self.stage(i, req, &mut e) {
                alive.push(i);
            }
        }
        e.feasible = alive.len() as u32;
        let chain = effective(req.strategy);
        let chain = chain.strip_suffix(&[Strategy::Random]).unwrap_or(chain);
        for s in chain {
            let local = self.value_counts_for(s, req.group);
            let scored: Vec<(u64, u32)> = alive
                .iter()
                .map(|&i| (self.score(s, local.as_ref(), i, req), i))
                .collect();
            let best = scored.iter().map(|x| x.0).min();
            alive = scored
                .into_iter()
                .filter(|x| Some(x.0) == best)
                .map(|x| x.1)
                .collect();
            e.tiers.push(alive.len() as u32);
        }
        e.tie = alive.len() as u32;
        e
    }

    /// Explain the placement of `req` on instance `id` alone, as a daemon's task is placed: one
    /// candidate, the stage that removed it or one feasible instance; no strategy.
    pub fn explain_on(&self, id: InstanceId, req: &TaskRequest<'_>) -> Explanation {
        let mut e = Explanation::default();
        if self.stage(id.0, req, &mut e) {
            e.feasible = 1;
            e.tie = 1;
        }
        e
    }

    /// Count instance `i` as a candidate in `e` and put it through the checks: whether it is
    /// feasible, else the count of the stage that removed it is raised.
    fn stage(&self, i: u32, req: &TaskRequest<'_>, e: &mut Explanation) -> bool {
        let inst = &self.insts[i as usize];
        e.candidates += 1;
        if inst.status != InstanceStatus::Active {
            e.not_active += 1;
            return false;
        }
        let verdict = if inst.agent_connected {
            self.feasible(i, req)
        } else {
            Err(PlacementFailure::Agent)
        };
        match verdict {
            Ok(()) => true,
            Err(f) => {
                if let Some(k) = STAGES.iter().position(|&s| s == f) {
                    e.removed[k] += 1;
                }
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::{IndexConfig, InstanceSpec};

    fn spec(cpu: u32, az: &str) -> InstanceSpec {
        InstanceSpec {
            ec2_instance_id: format!("i-{az}{cpu}"),
            cpu_units: cpu,
            memory_mib: 8192,
            eni_tasks: 3,
            attributes: vec![(AZ_ATTRIBUTE.into(), az.into())],
            agent_version: "1.0".into(),
            pool: 0,
        }
    }

    /// The counts add up to the candidates, and the chosen instance is in the final tie.
    #[test]
    fn an_explanation_accounts_for_every_instance() {
        let mut c = Cluster::new(IndexConfig::default(), 1);
        let a = c.add_instance(spec(4096, "a"));
        let b = c.add_instance(spec(4096, "b"));
        let small = c.add_instance(spec(512, "a"));
        let draining = c.add_instance(spec(4096, "b"));
        for id in [a, b, small] {
            c.set_status(id, InstanceStatus::Active, 0);
        }
        c.set_status(draining, InstanceStatus::Draining, 0);
        let g = c.group("svc");
        let strategy = [
            Strategy::Spread(SpreadField::Attribute(AZ_ATTRIBUTE.into())),
            Strategy::Binpack(BinpackField::Cpu),
        ];
        let req = TaskRequest {
            cpu_units: 1024,
            memory_mib: 512,
            host_ports: &[],
            needs_eni: false,
            group: g,
            constraints: &[],
            strategy: &strategy,
            pool: None,
        };
        c.allocate(a, &req);
        let e = c.explain(&req);
        assert_eq!(e.candidates, 4);
        assert_eq!(e.not_active, 1);
        assert_eq!(e.removed[1], 1, "the small instance lacks CPU");
        assert_eq!(e.feasible, 2);
        assert_eq!(
            e.candidates,
            e.not_active + e.removed.iter().sum::<u32>() + e.feasible
        );
        // Spread over AZs keeps b (AZ b has no task of the group); binpack keeps it.
        assert_eq!(e.tiers, vec![1, 1]);
        assert_eq!(e.tie, 1);
        assert_eq!(c.find(&req), Some(b));
    }
}
