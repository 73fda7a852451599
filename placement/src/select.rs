//! Choosing an instance: the fast paths over the indexes and the scan they must agree with.
//!
//! Every path returns an instance whose strategy scores ([`Cluster::strategy_scores`]) are the
//! best of all feasible instances; they differ only in how they break ties, as documented in
//! the crate docs.

use std::collections::BTreeMap;
use std::ops::Bound;

use rand::RngExt;

use crate::bucket::{Bucket, Entry};
use crate::cluster::{Buckets, Cluster, InstanceStatus, NO_VALUE, TieBreak};
use crate::types::*;

/// A strategy chain cut just after its first `random`: a uniform choice among the group left so
/// far, after which nothing can matter.
pub(crate) fn effective(chain: &[Strategy]) -> &[Strategy] {
    let end = chain
        .iter()
        .position(|s| *s == Strategy::Random)
        .map_or(chain.len(), |p| p + 1);
    &chain[..end.min(MAX_STRATEGIES)]
}

/// Both free amounts into one score: the binpacked field first, the other resource second.
fn pack(primary: u32, secondary: u32) -> u64 {
    (u64::from(primary) << 32) | u64::from(secondary)
}

impl Cluster {
    /// Run the placement pipeline for one task and return the chosen instance, or `None` when no
    /// instance passes the resource and constraint filters. [`Cluster::diagnose`] says why.
    pub fn find(&self, req: &TaskRequest<'_>) -> Option<InstanceId> {
        let parts = match req.pool {
            None => PartList {
                n: self.parts.len() as u32,
                list: None,
            },
            Some(pool) => PartList {
                n: 0,
                list: Some(
                    (0..self.parts.len() as u32)
                        .filter(|&p| self.parts[p as usize].pool == pool)
                        .collect(),
                ),
            },
        };
        self.select(&parts, effective(req.strategy), req)
            .map(InstanceId)
    }

    /// Whether [`Cluster::find`] would find an instance now, without drawing from the random
    /// stream: a probe (such as AZ rebalancing's "would a task be placed?") leaves every later
    /// choice as it was, whether it finds one or not.
    pub fn can_place(&self, req: &TaskRequest<'_>) -> bool {
        let before = self.random_rng.borrow().clone();
        let found = self.find(req).is_some();
        *self.random_rng.borrow_mut() = before;
        found
    }

    /// The same choice by scanning every ACTIVE instance: the oracle the indexed paths are
    /// tested against. It agrees with [`Cluster::find`] on the strategy scores of the chosen
    /// instance; where the final choice is random the two draw separately.
    pub fn find_by_scan(&self, req: &TaskRequest<'_>) -> Option<InstanceId> {
        let chain = effective(req.strategy);
        let chain = if chain.is_empty() {
            &[Strategy::Random][..]
        } else {
            chain
        };
        let all = (0..self.insts.len() as u32).filter(|&i| {
            let inst = &self.insts[i as usize];
            inst.status == InstanceStatus::Active && req.pool.is_none_or(|p| p == inst.pool)
        });
        self.best_by_scores(all, chain, req).map(InstanceId)
    }

    fn select(&self, parts: &PartList, chain: &[Strategy], req: &TaskRequest<'_>) -> Option<u32> {
        let lowest = self.cfg.tie_break == TieBreak::LowestIndex;
        match chain.first() {
            None if lowest => self.scan(parts, chain, req),
            None | Some(Strategy::Random) => self.random_in(parts, req, false),
            Some(Strategy::Binpack(f)) if *f == BinpackField::Cpu || self.cfg.by_memory => {
                self.binpack(parts, *f, &chain[1..], req)
            }
            Some(Strategy::Spread(SpreadField::Attribute(a)))
                if self.cfg.az_counts && a == AZ_ATTRIBUTE =>
            {
                let mut order: Vec<(u32, u32)> = parts
                    .iter()
                    .map(|p| {
                        (
                            self.part_counts
                                .get(&(req.group, self.parts[p as usize].az))
                                .copied()
                                .unwrap_or(0),
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
                    let tier = PartList {
                        n: 0,
                        list: Some(order[k..tier_end].iter().map(|o| o.1).collect()),
                    };
                    if let Some(i) = self.select(&tier, &chain[1..], req) {
                        return Some(i);
                    }
                    k = tier_end;
                }
                None
            }
            Some(Strategy::Spread(SpreadField::Instance)) if chain.len() == 1 && !lowest => {
                // Best possible is an instance with no task of the group; draw one uniformly.
                self.random_in(parts, req, true)
                    .or_else(|| self.scan(parts, chain, req))
            }
            _ => self.scan(parts, chain, req),
        }
    }

    /// Every ACTIVE instance of the partitions with enough CPU and memory, best by the chain.
    fn scan(&self, parts: &PartList, chain: &[Strategy], req: &TaskRequest<'_>) -> Option<u32> {
        let cands = parts
            .iter()
            .flat_map(|p| self.walk(p, req.cpu_units, req.memory_mib));
        self.best_by_scores(cands, chain, req)
    }

    fn binpack(
        &self,
        parts: &PartList,
        field: BinpackField,
        rest: &[Strategy],
        req: &TaskRequest<'_>,
    ) -> Option<u32> {
        let (need, other) = match field {
            BinpackField::Cpu => (req.cpu_units, req.memory_mib),
            BinpackField::Memory => (req.memory_mib, req.cpu_units),
        };
        let buckets = |p: u32| match field {
            BinpackField::Cpu => &self.parts[p as usize].by_cpu,
            BinpackField::Memory => &self.parts[p as usize].by_mem,
        };
        // The first feasible entry of each partition, walking up from the smallest free amount
        // that can hold the task: least remaining of the field, then of the other resource.
        let mut best: Option<(u32, u32, u64, u32)> = None;
        for p in parts.iter() {
            let first = self.first_feasible(buckets(p), field, need, other, req);
            if let Some(e) = first
                && best.is_none_or(|b| e < b)
            {
                best = Some(e);
            }
        }
        let (bf, bo, _, bi) = best?;
        if rest.is_empty() {
            return Some(bi);
        }
        // Ties on both free amounts go on to the rest of the chain.
        let mut group = Vec::new();
        for p in parts.iter() {
            if let Some(b) = buckets(p).get(bf) {
                group.extend(
                    b.between(Entry::at_least(bo), Entry::last_of(bo))
                        .filter(|&e| self.is_current(field, bf, e))
                        .map(|e| e.inst())
                        .filter(|&i| self.feasible(i, req).is_ok()),
                );
            }
        }
        self.best_by_scores(group.into_iter(), rest, req)
    }

    /// The first feasible entry of `buckets` walking up from the bucket of `need` and, in each
    /// bucket, from `other` of the other resource: (amount, other, token, instance).
    fn first_feasible(
        &self,
        buckets: &Buckets,
        field: BinpackField,
        need: u32,
        other: u32,
        req: &TaskRequest<'_>,
    ) -> Option<(u32, u32, u64, u32)> {
        let lo = Entry::at_least(other);
        // The bucket of exactly `need` first when the cache of recently joined amounts has it
        // (in a packed cluster it is there most of the time), without the ordered map's search:
        // no smaller amount can hold the task.
        let from = match buckets.recent(need) {
            Some(b) => {
                if let Some(hit) = self.first_in(b, need, lo, field, req) {
                    return Some(hit);
                }
                Bound::Excluded(need)
            }
            None => Bound::Included(need),
        };
        for (f, b) in buckets.range_from(from) {
            if let Some(hit) = self.first_in(b, f, lo, field, req) {
                return Some(hit);
            }
        }
        None
    }

    /// The first feasible current entry of the bucket of `f` from `lo` on: (amount, other,
    /// token, instance).
    #[inline]
    fn first_in(
        &self,
        b: &Bucket,
        f: u32,
        lo: Entry,
        field: BinpackField,
        req: &TaskRequest<'_>,
    ) -> Option<(u32, u32, u64, u32)> {
        for e in b.from(lo) {
            let i = e.inst();
            if self.is_current(field, f, e) && self.feasible(i, req).is_ok() {
                return Some((f, e.other(), e.token(), i));
            }
        }
        None
    }

    /// The ACTIVE instances of a partition with at least `cpu` CPU units and `mem` MiB free, by
    /// free CPU, then free memory, then token (the CPU index's current entries).
    fn walk(&self, p: u32, cpu: u32, mem: u32) -> impl Iterator<Item = u32> + '_ {
        self.parts[p as usize]
            .by_cpu
            .range(cpu)
            .flat_map(move |(f, set)| {
                set.from(Entry::at_least(mem))
                    .filter(move |&e| self.is_current(BinpackField::Cpu, f, e))
                    .map(|e| e.inst())
            })
    }

    /// Lexicographic best of the feasible candidates by the chain's scores; remaining ties go to
    /// the smallest token, or, when the chain ends in `random`, to a uniform draw among them.
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
            let mut score = [0u64; MAX_STRATEGIES];
            for (k, s) in chain.iter().enumerate() {
                score[k] = self.score(s, counts[k].as_ref(), i, req);
            }
            let key = (score, self.insts[i as usize].token, i);
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

    pub(crate) fn score(
        &self,
        s: &Strategy,
        local: Option<&BTreeMap<u32, u32>>,
        i: u32,
        req: &TaskRequest<'_>,
    ) -> u64 {
        let inst = &self.insts[i as usize];
        match s {
            Strategy::Binpack(BinpackField::Cpu) => pack(
                inst.cpu_avail.saturating_sub(req.cpu_units),
                inst.mem_avail.saturating_sub(req.memory_mib),
            ),
            Strategy::Binpack(BinpackField::Memory) => pack(
                inst.mem_avail.saturating_sub(req.memory_mib),
                inst.cpu_avail.saturating_sub(req.cpu_units),
            ),
            Strategy::Spread(SpreadField::Instance) => u64::from(inst.group_count(req.group)),
            Strategy::Spread(SpreadField::Attribute(_)) => {
                u64::from(self.count_on_value(s, local, i, req.group))
            }
            Strategy::Random => 0,
        }
    }

    /// A uniformly random feasible instance of the partitions (optionally only among those with
    /// no task of the group): draw among their ACTIVE members and redraw on a miss (rejection
    /// sampling, exact); after 32 misses, one pass of reservoir sampling (also exact) over the
    /// instances with room for the task's CPU and memory, listed by the free-capacity index.
    /// A search that finds nothing leaves the random stream as it was: the tries' draws are
    /// taken back (and nothing is drawn at all when every instance already runs a task of the
    /// group and only those without one count).
    fn random_in(
        &self,
        parts: &PartList,
        req: &TaskRequest<'_>,
        empty_of_group: bool,
    ) -> Option<u32> {
        let total: usize = parts
            .iter()
            .map(|p| self.parts[p as usize].members.len())
            .sum();
        if total == 0 {
            return None;
        }
        if empty_of_group
            && parts
                .iter()
                .all(|p| self.every_member_has_group(p, req.group))
        {
            return None;
        }
        let roomy = |p: u32| self.walk(p, req.cpu_units, req.memory_mib);
        let ok = |i: u32| {
            (!empty_of_group || self.insts[i as usize].group_count(req.group) == 0)
                && self.feasible(i, req).is_ok()
        };
        let mut rng = self.random_rng.borrow_mut();
        // The stream as it was: a search that finds nothing puts it back, so it draws nothing.
        let before = rng.clone();
        for _ in 0..32 {
            let mut k = rng.random_range(0..total);
            for p in parts.iter() {
                let m = &self.parts[p as usize].members;
                if k < m.len() {
                    if ok(m[k]) {
                        return Some(m[k]);
                    }
                    break;
                }
                k -= m.len();
            }
        }
        let mut chosen = None;
        let mut seen = 0usize;
        for i in parts.iter().flat_map(roomy) {
            if ok(i) {
                seen += 1;
                if rng.random_range(0..seen) == 0 {
                    chosen = Some(i);
                }
            }
        }
        if chosen.is_none() {
            *rng = before;
        }
        chosen
    }

    /// The scores the strategies before any `random` give an instance for a task, lower is
    /// better (binpack: what would remain of the field, then of the other resource, packed as
    /// `field << 32 | other`; spread: tasks of the group on the same value). For explaining and
    /// testing choices.
    pub fn strategy_scores(&self, id: InstanceId, req: &TaskRequest<'_>) -> Vec<u64> {
        let chain = effective(req.strategy);
        let chain = chain.strip_suffix(&[Strategy::Random]).unwrap_or(chain);
        chain
            .iter()
            .map(|s| {
                let local = self.value_counts_for(s, req.group);
                self.score(s, local.as_ref(), id.0, req)
            })
            .collect()
    }

    /// Per-value task counts of a group for a spread attribute that no index keeps (computed by
    /// one pass over the instances); `None` when an index has them or the strategy needs none.
    pub(crate) fn value_counts_for(&self, s: &Strategy, g: GroupId) -> Option<BTreeMap<u32, u32>> {
        let Strategy::Spread(SpreadField::Attribute(a)) = s else {
            return None;
        };
        if a == AZ_ATTRIBUTE && self.cfg.az_counts {
            return None;
        }
        if self.cfg.spread_attributes.iter().any(|x| x == a) {
            return None;
        }
        let key = self.keys.get(a);
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
            return self.part_counts.get(&(g, inst.az)).copied().unwrap_or(0);
        }
        let v = self.keys.get(a).map_or(NO_VALUE, |k| inst.attr(k));
        match local {
            Some(m) => m.get(&v).copied().unwrap_or(0),
            None => self
                .keys
                .get(a)
                .and_then(|k| self.value_counts.get(&(g, k, v)))
                .copied()
                .unwrap_or(0),
        }
    }

    /// Why no instance could take the task: the failing check of the closest matching instance,
    /// the one that got furthest through the pipeline (agent, CPU, memory, ports, ENI,
    /// distinctInstance, memberOf). Scans every instance; call it only when a reason is needed.
    pub fn diagnose(&self, req: &TaskRequest<'_>) -> PlacementFailure {
        let mut closest = None;
        for i in 0..self.insts.len() as u32 {
            let inst = &self.insts[i as usize];
            if inst.status != InstanceStatus::Active || req.pool.is_some_and(|p| p != inst.pool) {
                continue;
            }
            if let Err(f) = self.feasible(i, req) {
                closest = closest.max(Some(f));
            }
        }
        closest.unwrap_or(PlacementFailure::NoContainerInstances)
    }
}

/// A set of partitions: all of them (no allocation), or a list.
struct PartList {
    n: u32,
    list: Option<Vec<u32>>,
}

impl PartList {
    fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        let all = if self.list.is_none() { 0..self.n } else { 0..0 };
        all.chain(self.list.iter().flatten().copied())
    }
}
