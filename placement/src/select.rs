//! Choosing an instance: the fast paths over the indexes and the scan they must agree with.

use std::collections::BTreeMap;
use std::ops::Bound;

use rand::RngExt;

use crate::cluster::{Cluster, InstanceStatus, NO_VALUE};
use crate::types::*;

/// A strategy chain cut just after its first `random`: a uniform choice among the group left so
/// far, after which nothing can matter.
fn effective(chain: &[Strategy]) -> &[Strategy] {
    let end = chain
        .iter()
        .position(|s| *s == Strategy::Random)
        .map_or(chain.len(), |p| p + 1);
    &chain[..end.min(MAX_STRATEGIES)]
}

impl Cluster {
    /// Run the placement pipeline for one task and return the chosen instance, or `None` when no
    /// instance passes the resource and constraint filters. [`Cluster::diagnose`] says why.
    pub fn find(&self, req: &TaskRequest<'_>) -> Option<InstanceId> {
        let parts: Vec<u32> = (0..self.parts.len() as u32).collect();
        self.select(&parts, effective(req.strategy), req)
            .map(InstanceId)
    }

    /// The same choice as [`Cluster::find`], by scanning every instance: the oracle the indexed
    /// paths are tested against. With a `random` strategy both draw from the cluster's random
    /// stream, so they agree on the group drawn from, not on the draw.
    pub fn find_by_scan(&self, req: &TaskRequest<'_>) -> Option<InstanceId> {
        let all = (0..self.insts.len() as u32)
            .filter(|&i| self.insts[i as usize].status == InstanceStatus::Active);
        self.best_by_scores(all, effective(req.strategy), req)
            .map(InstanceId)
    }

    fn select(&self, parts: &[u32], chain: &[Strategy], req: &TaskRequest<'_>) -> Option<u32> {
        match chain.first() {
            None if self.cfg.by_token => self.first_by_token(parts, req, false),
            Some(Strategy::Random) => self.random_in(parts, req),
            Some(Strategy::Binpack(f)) if *f == BinpackField::Cpu || self.cfg.by_memory => {
                self.binpack(parts, *f, &chain[1..], req)
            }
            Some(Strategy::Spread(SpreadField::Attribute(a)))
                if self.cfg.az_counts && a == AZ_ATTRIBUTE =>
            {
                let mut order: Vec<(u32, u32)> = parts
                    .iter()
                    .map(|&p| {
                        (
                            self.part_counts.get(&(req.group, p)).copied().unwrap_or(0),
                            p,
                        )
                    })
                    .collect();
                order.sort_unstable();
                let mut k = 0;
                while k < order.len() {
                    let tier_end = order[k..]
                        .iter()
                        .position(|o| o.0 != order[k].0)
                        .map_or(order.len(), |n| k + n);
                    let tier: Vec<u32> = order[k..tier_end].iter().map(|o| o.1).collect();
                    if let Some(i) = self.select(&tier, &chain[1..], req) {
                        return Some(i);
                    }
                    k = tier_end;
                }
                None
            }
            Some(Strategy::Spread(SpreadField::Instance))
                if chain.len() == 1 && self.cfg.by_token =>
            {
                self.first_by_token(parts, req, true)
                    .or_else(|| self.scan(parts, chain, req))
            }
            _ => self.scan(parts, chain, req),
        }
    }

    /// Every ACTIVE instance of the partitions with enough CPU, best by the chain.
    fn scan(&self, parts: &[u32], chain: &[Strategy], req: &TaskRequest<'_>) -> Option<u32> {
        let cands = parts.iter().flat_map(|&p| {
            self.parts[p as usize]
                .by_cpu
                .range((req.cpu_units, 0, 0)..)
                .map(|&(_, _, i)| i)
        });
        self.best_by_scores(cands, chain, req)
    }

    /// Smallest token among feasible instances (optionally only those without a task of the
    /// group), walking each partition's token order.
    fn first_by_token(
        &self,
        parts: &[u32],
        req: &TaskRequest<'_>,
        empty_of_group: bool,
    ) -> Option<u32> {
        let mut best: Option<(u64, u32)> = None;
        for &p in parts {
            for &(tok, i) in &self.parts[p as usize].by_token {
                if best.is_some_and(|b| b.0 < tok) {
                    break;
                }
                if empty_of_group && self.insts[i as usize].group_count(req.group) > 0 {
                    continue;
                }
                if self.feasible(i, req).is_ok() {
                    best = Some((tok, i));
                    break;
                }
            }
        }
        best.map(|b| b.1)
    }

    fn binpack(
        &self,
        parts: &[u32],
        field: BinpackField,
        rest: &[Strategy],
        req: &TaskRequest<'_>,
    ) -> Option<u32> {
        let need = match field {
            BinpackField::Cpu => req.cpu_units,
            BinpackField::Memory => req.memory_mib,
        };
        let set = |p: u32| match field {
            BinpackField::Cpu => &self.parts[p as usize].by_cpu,
            BinpackField::Memory => &self.parts[p as usize].by_mem,
        };
        // First feasible entry of each partition, walking up from the smallest that can hold the task.
        let mut firsts: Vec<(u32, u64, u32, u32)> = Vec::new();
        for &p in parts {
            if let Some(&(a, t, i)) = set(p)
                .range((need, 0, 0)..)
                .find(|&&(_, _, i)| self.feasible(i, req).is_ok())
            {
                firsts.push((a, t, i, p));
            }
        }
        let &(best_avail, best_token, best_i, _) = firsts.iter().min()?;
        if rest.is_empty() {
            return Some(best_i);
        }
        let _ = best_token;
        let mut group: Vec<u32> = Vec::new();
        for &(a, t, i, p) in &firsts {
            if a != best_avail {
                continue;
            }
            group.push(i);
            let after = (
                Bound::Excluded((a, t, i)),
                Bound::Included((a, u64::MAX, u32::MAX)),
            );
            group.extend(
                set(p)
                    .range(after)
                    .map(|e| e.2)
                    .filter(|&j| self.feasible(j, req).is_ok()),
            );
        }
        self.best_by_scores(group.into_iter(), rest, req)
    }

    /// Lexicographic best of the feasible candidates by the chain's scores, then by token.
    pub(crate) fn best_by_scores(
        &self,
        cands: impl Iterator<Item = u32>,
        chain: &[Strategy],
        req: &TaskRequest<'_>,
    ) -> Option<u32> {
        let (chain, random) = match chain.last() {
            Some(Strategy::Random) => (&chain[..chain.len() - 1], true),
            _ => (chain, false),
        };
        let mut counts: [Option<BTreeMap<u32, u32>>; MAX_STRATEGIES] = Default::default();
        for (k, s) in chain.iter().enumerate() {
            counts[k] = self.value_counts_for(s, req.group);
        }
        let mut best: Option<([u64; MAX_STRATEGIES], u64, u32)> = None;
        let mut group: Vec<u32> = Vec::new();
        for i in cands {
            if self.feasible(i, req).is_err() {
                continue;
            }
            let inst = &self.insts[i as usize];
            let mut score = [0u64; MAX_STRATEGIES];
            for (k, s) in chain.iter().take(MAX_STRATEGIES).enumerate() {
                score[k] = match s {
                    Strategy::Binpack(BinpackField::Cpu) => {
                        u64::from(inst.cpu_avail - req.cpu_units)
                    }
                    Strategy::Binpack(BinpackField::Memory) => {
                        u64::from(inst.mem_avail - req.memory_mib)
                    }
                    Strategy::Spread(SpreadField::Instance) => {
                        u64::from(inst.group_count(req.group))
                    }
                    Strategy::Spread(SpreadField::Attribute(_)) => {
                        u64::from(self.count_on_value(s, counts[k].as_ref(), i, req.group))
                    }
                    Strategy::Random => 0,
                };
            }
            let key = (score, inst.token, i);
            if random {
                match best.map(|b| score.cmp(&b.0)) {
                    Some(std::cmp::Ordering::Greater) => continue,
                    Some(std::cmp::Ordering::Equal) => group.push(i),
                    _ => {
                        group.clear();
                        group.push(i);
                    }
                }
            }
            if best.is_none_or(|b| key < b) {
                best = Some(key);
            }
        }
        if random && !group.is_empty() {
            let k = self.random_rng.borrow_mut().random_range(0..group.len());
            return Some(group[k]);
        }
        best.map(|b| b.2)
    }

    /// A uniformly random feasible instance of the partitions: draw among their ACTIVE members
    /// and redraw on an infeasible one (rejection sampling, exact); after 32 misses, one pass of
    /// reservoir sampling over all of them (also exact).
    fn random_in(&self, parts: &[u32], req: &TaskRequest<'_>) -> Option<u32> {
        let total: usize = parts
            .iter()
            .map(|&p| self.parts[p as usize].members.len())
            .sum();
        if total == 0 {
            return None;
        }
        let mut rng = self.random_rng.borrow_mut();
        for _ in 0..32 {
            let mut k = rng.random_range(0..total);
            for &p in parts {
                let m = &self.parts[p as usize].members;
                if k < m.len() {
                    if self.feasible(m[k], req).is_ok() {
                        return Some(m[k]);
                    }
                    break;
                }
                k -= m.len();
            }
        }
        let mut chosen = None;
        let mut seen = 0usize;
        for &p in parts {
            for &i in &self.parts[p as usize].members {
                if self.feasible(i, req).is_ok() {
                    seen += 1;
                    if rng.random_range(0..seen) == 0 {
                        chosen = Some(i);
                    }
                }
            }
        }
        chosen
    }

    /// The scores the strategies before any `random` give an instance for a task, lower is
    /// better (binpack: what would remain; spread: tasks of the group on the same value). For
    /// explaining and testing choices.
    pub fn strategy_scores(&self, id: InstanceId, req: &TaskRequest<'_>) -> Vec<u64> {
        let chain = effective(req.strategy);
        let chain = chain.strip_suffix(&[Strategy::Random]).unwrap_or(chain);
        let inst = &self.insts[id.0 as usize];
        chain
            .iter()
            .map(|s| match s {
                Strategy::Binpack(BinpackField::Cpu) => {
                    u64::from(inst.cpu_avail.saturating_sub(req.cpu_units))
                }
                Strategy::Binpack(BinpackField::Memory) => {
                    u64::from(inst.mem_avail.saturating_sub(req.memory_mib))
                }
                Strategy::Spread(SpreadField::Instance) => u64::from(inst.group_count(req.group)),
                Strategy::Spread(SpreadField::Attribute(_)) => {
                    let local = self.value_counts_for(s, req.group);
                    u64::from(self.count_on_value(s, local.as_ref(), id.0, req.group))
                }
                Strategy::Random => 0,
            })
            .collect()
    }

    /// Per-value task counts of a group for a spread attribute that no index keeps (computed by
    /// one pass over the instances); `None` when an index has them or the strategy needs none.
    pub(crate) fn value_counts_for(&self, s: &Strategy, g: GroupId) -> Option<BTreeMap<u32, u32>> {
        let Strategy::Spread(SpreadField::Attribute(a)) = s else {
            return None;
        };
        let key = self.keys.get(a);
        if a == AZ_ATTRIBUTE && self.cfg.az_counts {
            return None;
        }
        if key.is_some_and(|k| {
            self.value_counts
                .range((g, k, 0)..=(g, k, NO_VALUE))
                .next()
                .is_some()
        }) || self.cfg.spread_attributes.iter().any(|x| x == a)
        {
            return None;
        }
        let mut m = BTreeMap::new();
        for inst in &self.insts {
            let c = inst.group_count(g);
            if c > 0 {
                let v = key.map_or(NO_VALUE, |k| inst.attr(k));
                *m.entry(v).or_insert(0) += c;
            }
        }
        Some(m)
    }

    pub(crate) fn count_on_value(
        &self,
        s: &Strategy,
        local: Option<&BTreeMap<u32, u32>>,
        i: u32,
        g: GroupId,
    ) -> u32 {
        let Strategy::Spread(SpreadField::Attribute(a)) = s else {
            return 0;
        };
        let inst = &self.insts[i as usize];
        if a == AZ_ATTRIBUTE && self.cfg.az_counts {
            return self.part_counts.get(&(g, inst.part)).copied().unwrap_or(0);
        }
        let Some(k) = self.keys.get(a) else {
            return local.and_then(|m| m.get(&NO_VALUE)).copied().unwrap_or(0);
        };
        let v = inst.attr(k);
        match local {
            Some(m) => m.get(&v).copied().unwrap_or(0),
            None => self.value_counts.get(&(g, k, v)).copied().unwrap_or(0),
        }
    }

    /// Why no instance could take the task: the failing check of the closest matching instance,
    /// the one that got furthest through the pipeline (agent, CPU, memory, ports, ENI,
    /// distinctInstance, memberOf). Scans every instance; call it only when a reason is needed.
    pub fn diagnose(&self, req: &TaskRequest<'_>) -> PlacementFailure {
        let mut closest = None;
        for i in 0..self.insts.len() as u32 {
            if self.insts[i as usize].status != InstanceStatus::Active {
                continue;
            }
            if let Err(f) = self.feasible(i, req) {
                closest = closest.max(Some(f));
            }
        }
        closest.unwrap_or(PlacementFailure::NoContainerInstances)
    }
}
