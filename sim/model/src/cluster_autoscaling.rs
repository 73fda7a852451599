//! Cluster auto scaling: managed scaling of Auto Scaling group capacity providers, evaluated
//! every minute.
//!
//! For each provider with managed scaling: `CapacityProviderReservation`
//! ([`capacity_provider_reservation`]); above `target_capacity` for `scale_out_datapoints`
//! minutes (default 1) and with no launch inside `instance_warmup_period`, launch
//! `max(estimate, K - N)` instances clamped to the step sizes and `max_size`, where
//! `K = ceil(M x 100 / target)` ([`instances_wanted`], M the instances needed); below it for
//! `scale_in_datapoints` (15) fresh minutes, remove down to `K`, at most `max_scale_in_pct` (50 %) of the group per step, never below
//! `min_size`, and only instances without service or job tasks (managed termination protection;
//! daemon-only counts as empty): from the AZ with the most instances, oldest first. After a
//! scale-in the low alarm needs 15 new datapoints before the next step (ecsim's convention).
//! ECS-DG cluster-auto-scaling.html, managed-termination-protection.html.

use ecsim_engine::SimTime;

use crate::autoscaling::service::record;
use crate::autoscaling::{
    AlarmState, capacity_provider_reservation, instances_needed, instances_wanted,
};
use crate::core::{Core, InstanceState};
use crate::ids::{ClusterId, InstanceRef};
use crate::launch::wait::WaitQueue;
use crate::record::{DecisionRecord, ProviderRow, Sink};
use crate::scenario::{ManagedScaling, ProviderKind, Scenario};
use std::fmt::Write as _;

#[derive(Clone)]
struct Provider {
    cluster: ClusterId,
    group: usize,
    pool: u32,
    name: String,
    /// The newest CPR datapoints, as many as the two alarms read (older ones are dropped).
    cpr: Vec<Option<f64>>,
    /// Datapoints dropped from the front of `cpr`.
    cpr_first: usize,
    high: AlarmState,
    low: AlarmState,
    low_since: usize,
    last_launch: Option<SimTime>,
    last_cpr: Option<f64>,
    instances: u32,
    /// CPR datapoints kept at least: the most any of a fork's branches reads (older ones are
    /// never read, so keeping more changes nothing).
    keep_at_least: usize,
}

/// A managed group as one evaluation sees it.
struct Group<'a> {
    c: ClusterId,
    g: usize,
    /// Instances in the group (not stopped).
    n: u32,
    /// Instances the target wants (`K`).
    wanted: u32,
    /// Instances with service or job tasks, and instances the waiting tasks need.
    non_empty: u32,
    needed: u32,
    cpr: f64,
    name: &'a str,
}

impl Group<'_> {
    /// Explain this minute's decision to `decisions.csv` (`--explain`): the group size chosen,
    /// the rule, and what it read (`M = non_empty + needed`, `K = wanted`). Callers format
    /// `step` only when the sink explains.
    fn explain<S: Sink>(&self, sink: &mut S, now: SimTime, chosen: u32, reason: &str, step: &str) {
        if !sink.explains() {
            return;
        }
        let details = format!(
            "cpr={:.1};n={};m={};non_empty={};needed={};wanted={};{step}",
            self.cpr,
            self.n,
            self.non_empty + self.needed,
            self.non_empty,
            self.needed,
            self.wanted
        );
        sink.decision(&DecisionRecord {
            time_ms: now.ms(),
            kind: "cluster_scaling",
            subject: self.name,
            task: None,
            chosen: &chosen.to_string(),
            reason,
            details: &details,
        });
    }
}

/// What managed scaling does to a group this minute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Scale {
    /// Launch this many instances.
    Out {
        cluster: ClusterId,
        group: usize,
        add: u32,
    },
    /// Terminate these (empty) instances.
    In(Vec<InstanceRef>),
}

/// The state of every managed capacity provider.
#[derive(Clone)]
pub(crate) struct ClusterAutoScaling {
    providers: Vec<Provider>,
    launched: u64,
    terminated: u64,
}

/// The alarm state of the last `m` CPR datapoints (from index `from` on) against the target.
pub(crate) fn window(
    cpr: &[Option<f64>],
    from: usize,
    m: usize,
    target: f64,
    above: bool,
) -> AlarmState {
    let len = cpr.len();
    if len < m || len - m < from {
        return AlarmState::InsufficientData;
    }
    let all = cpr[len - m..]
        .iter()
        .flatten()
        .all(|&v| if above { v > target } else { v < target });
    if all {
        AlarmState::Alarm
    } else {
        AlarmState::Ok
    }
}

/// Instances to launch on scale-out: `max(estimate, wanted - N)`, clamped to the step sizes and
/// to the room below `max_size`.
pub(crate) fn scale_out_by(
    n: u32,
    wanted: u32,
    needed: u32,
    ms: &ManagedScaling,
    max_size: u32,
) -> u32 {
    let want = needed.max(wanted.saturating_sub(n));
    want.clamp(ms.minimum_scaling_step_size, ms.maximum_scaling_step_size)
        .min(max_size.saturating_sub(n))
}

/// Instances to remove on scale-in: down to the instances the target wants (not below
/// `min_size`), at most `max_scale_in_pct` of the group (at least one).
pub(crate) fn scale_in_by(n: u32, wanted: u32, ms: &ManagedScaling, min_size: u32) -> u32 {
    let keep = wanted.max(min_size);
    let cap = (n * ms.max_scale_in_pct / 100).max(1);
    n.saturating_sub(keep).min(cap)
}

impl ClusterAutoScaling {
    /// Every group with managed scaling; the datapoints kept are the most any of a fork's
    /// `branches` reads.
    pub(crate) fn new(sc: &Scenario, branches: &[&Scenario]) -> Self {
        let mut providers = Vec::new();
        for (c, cdef) in sc.clusters.iter().enumerate() {
            for (g, gdef) in cdef.groups.iter().enumerate() {
                if gdef.managed_scaling.is_none() {
                    continue;
                }
                let k = cdef
                    .capacity_providers
                    .iter()
                    .position(|p| p.kind == ProviderKind::Asg { group: g })
                    .expect("validated");
                providers.push(Provider {
                    cluster: ClusterId::new(c),
                    group: g,
                    pool: k as u32 + 1,
                    name: cdef.capacity_providers[k].name.clone(),
                    cpr: Vec::new(),
                    cpr_first: 0,
                    high: AlarmState::InsufficientData,
                    low: AlarmState::InsufficientData,
                    low_since: 0,
                    last_launch: None,
                    last_cpr: None,
                    instances: gdef.count,
                    keep_at_least: branches
                        .iter()
                        .filter_map(|b| b.clusters.get(c)?.groups.get(g)?.managed_scaling.as_ref())
                        .map(|ms| ms.scale_out_datapoints.max(ms.scale_in_datapoints))
                        .max()
                        .unwrap_or(0),
                });
            }
        }
        ClusterAutoScaling {
            providers,
            launched: 0,
            terminated: 0,
        }
    }

    /// No provider has managed scaling.
    pub(crate) fn is_empty(&self) -> bool {
        self.providers.is_empty()
    }

    /// The cluster of provider `p`.
    pub(crate) fn cluster_of(&self, p: usize) -> ClusterId {
        self.providers[p].cluster
    }

    /// Number of managed providers.
    pub(crate) fn len(&self) -> usize {
        self.providers.len()
    }

    /// Evaluate provider `p` at a minute boundary: publish its CPR, update its alarms (recorded
    /// in scaling.csv) and decide. `waiting` are the tasks queued in its cluster.
    pub(crate) fn evaluate<S: Sink>(
        &mut self,
        p: usize,
        core: &mut Core<'_, S>,
        waiting: &WaitQueue,
        now: SimTime,
    ) -> Option<Scale> {
        let sc = core.sc;
        let (c, g, pool) = {
            let pr = &self.providers[p];
            (pr.cluster, pr.group, pr.pool)
        };
        let gdef = &sc.clusters[c.index()].groups[g];
        let ms = gdef.managed_scaling.as_ref().expect("managed");
        let members = group_members(core, c, g);
        let n = members.len() as u32;
        let non_empty = members
            .iter()
            .filter(|&&r| core.instance(r).busy_tasks > 0)
            .count() as u32;
        let needed = needed_for_waiting(sc, waiting, pool, g, c);
        let target = ms.target_capacity;
        let cpr = capacity_provider_reservation(n, non_empty, needed, target);
        let wanted = instances_wanted(non_empty + needed, target);
        let st = &mut self.providers[p];
        st.cpr.push(Some(cpr));
        // Keep only what the alarms read, dropping in batches (amortised constant work).
        let keep = ms
            .scale_out_datapoints
            .max(ms.scale_in_datapoints)
            .max(st.keep_at_least)
            .max(1);
        if st.cpr.len() >= 2 * keep {
            let drop = st.cpr.len() - keep;
            st.cpr.drain(..drop);
            st.cpr_first += drop;
        }
        st.last_cpr = Some(cpr);
        st.instances = n;
        let h = window(&st.cpr, 0, ms.scale_out_datapoints, target, true);
        // `low_since` counts every datapoint; the window sees only the kept ones (when it is
        // older than them, it no longer restricts the window).
        let since = st.low_since.saturating_sub(st.cpr_first);
        let l = window(&st.cpr, since, ms.scale_in_datapoints, target, false);
        let (h0, l0) = (st.high, st.low);
        st.high = h;
        st.low = l;
        let name = st.name.clone();
        let why = format!("CapacityProviderReservation {cpr:.1} vs target {target}");
        let sink = &mut core.out.sink;
        for (which, old, new) in [("high", h0, h), ("low", l0, l)] {
            if old != new {
                let alarm = format!("{name}-{which}");
                record(
                    sink,
                    now,
                    "alarm",
                    &alarm,
                    &name,
                    old.as_str(),
                    new.as_str(),
                    &why,
                );
            }
        }
        let warm = st
            .last_launch
            .is_none_or(|t| now >= t.plus_ms(ms.instance_warmup_ms));
        let group = Group {
            c,
            g,
            n,
            wanted,
            non_empty,
            needed,
            cpr,
            name: &name,
        };
        if h == AlarmState::Alarm && !(warm && n < gdef.max_size) && sink.explains() {
            let (why, step) = if warm {
                ("at_max_size", format!("max_size={}", gdef.max_size))
            } else {
                (
                    "instance_warmup",
                    format!("warmup_ms={}", ms.instance_warmup_ms),
                )
            };
            group.explain(sink, now, n, why, &step);
        }
        if h == AlarmState::Alarm && warm && n < gdef.max_size {
            let add = scale_out_by(n, wanted, needed, ms, gdef.max_size);
            if sink.explains() {
                let why = if add == 0 { "no_change" } else { "scale_out" };
                let (lo, hi) = (ms.minimum_scaling_step_size, ms.maximum_scaling_step_size);
                let step = format!(
                    "step={add};step_sizes={lo}..{hi};max_size={}",
                    gdef.max_size
                );
                group.explain(sink, now, n + add, why, &step);
            }
            if add == 0 {
                return None;
            }
            self.providers[p].last_launch = Some(now);
            self.launched += u64::from(add);
            let reason = format!(
                "CapacityProviderReservation {cpr:.1} > target {target}; {needed} instance(s) needed for waiting tasks"
            );
            let (from, to) = (n.to_string(), (n + add).to_string());
            record(
                sink,
                now,
                "cluster_scaling",
                &name,
                &name,
                &from,
                &to,
                &reason,
            );
            return Some(Scale::Out {
                cluster: c,
                group: g,
                add,
            });
        }
        if l != AlarmState::Alarm {
            return None;
        }
        if n <= gdef.min_size {
            if core.out.sink.explains() {
                let step = format!("min_size={}", gdef.min_size);
                group.explain(&mut core.out.sink, now, n, "at_min_size", &step);
            }
            return None;
        }
        self.scale_in(p, core, &group, &members, now)
    }

    /// Scale-in of provider `p`: the empty instances to terminate (none may be empty).
    fn scale_in<S: Sink>(
        &mut self,
        p: usize,
        core: &mut Core<'_, S>,
        group: &Group<'_>,
        members: &[InstanceRef],
        now: SimTime,
    ) -> Option<Scale> {
        let gdef = &core.sc.clusters[group.c.index()].groups[group.g];
        let ms = gdef.managed_scaling.as_ref().expect("managed");
        let (n, cpr, name) = (group.n, group.cpr, group.name);
        let remove = scale_in_by(n, group.wanted, ms, gdef.min_size);
        let chosen = choose_scale_in(core, members, remove as usize);
        if core.out.sink.explains() {
            // Managed termination protection: only empty instances, from the AZ with the most
            // instances, oldest first.
            let mut step = format!("step={remove};min_size={};terminate=", gdef.min_size);
            for (k, &r) in chosen.iter().enumerate() {
                let sep = if k > 0 { "|" } else { "" };
                let _ = write!(step, "{sep}{}", core.instance(r).ec2_id);
            }
            let (why, to) = if chosen.is_empty() {
                ("no_empty_instance", n)
            } else {
                ("scale_in", n - chosen.len() as u32)
            };
            group.explain(&mut core.out.sink, now, to, why, &step);
        }
        if chosen.is_empty() {
            return None;
        }
        let reason = format!(
            "CapacityProviderReservation {cpr:.1} < target {} for {} minutes",
            ms.target_capacity, ms.scale_in_datapoints
        );
        let k = chosen.len() as u32;
        let (from, to) = (n.to_string(), (n - k).to_string());
        let sink = &mut core.out.sink;
        record(
            sink,
            now,
            "cluster_scaling",
            name,
            name,
            &from,
            &to,
            &reason,
        );
        self.terminated += u64::from(k);
        let st = &mut self.providers[p];
        st.low_since = st.cpr_first + st.cpr.len();
        st.low = AlarmState::InsufficientData;
        Some(Scale::In(chosen))
    }

    /// The provider columns of a metrics row.
    pub(crate) fn rows(&self) -> Vec<ProviderRow> {
        self.providers
            .iter()
            .map(|p| ProviderRow {
                instances: p.instances,
                reservation_pct: p.last_cpr,
            })
            .collect()
    }

    /// Instances launched and terminated by managed scaling.
    pub(crate) fn totals(&self) -> (u64, u64) {
        (self.launched, self.terminated)
    }
}

/// The group's instances that are not stopped, in launch order (a scan of the cluster: one per
/// provider and minute).
fn group_members<S: Sink>(core: &Core<'_, S>, c: ClusterId, g: usize) -> Vec<InstanceRef> {
    core.instances(c)
        .filter(|(_, x)| x.group as usize == g && x.state != InstanceState::Stopped)
        .map(|(r, _)| r)
        .collect()
}

/// Instances the provider's waiting tasks need, grouped by identical needs, on its largest type.
fn needed_for_waiting(
    sc: &Scenario,
    waiting: &WaitQueue,
    pool: u32,
    g: usize,
    c: ClusterId,
) -> u32 {
    let mut needs: Vec<(u32, u32, u32)> = Vec::new();
    for (n, count) in waiting.run_counts() {
        if n.pool != Some(pool) || count == 0 {
            continue;
        }
        let (cpu, mem, count) = (n.cpu_units, n.memory_mib, count as u32);
        match needs.iter_mut().find(|x| x.0 == cpu && x.1 == mem) {
            Some(x) => x.2 += count,
            None => needs.push((cpu, mem, count)),
        }
    }
    let gdef = &sc.clusters[c.index()].groups[g];
    let ty = &sc.instance_types[*gdef
        .instance_types
        .iter()
        .max_by_key(|&&t| sc.instance_types[t].cpu_units)
        .expect("a type")];
    let mem = sc.registered_memory_mib(gdef, ty);
    instances_needed(&needs, ty.cpu_units, mem)
}

/// Managed termination protection: only registered instances (ACTIVE or DRAINING) without
/// service or job tasks, from the AZ with the most instances, oldest first.
fn choose_scale_in<S: Sink>(
    core: &Core<'_, S>,
    members: &[InstanceRef],
    remove: usize,
) -> Vec<InstanceRef> {
    let per_az = |az: &str| {
        members
            .iter()
            .filter(|&&r| core.instance(r).az == az)
            .count()
    };
    let mut empty: Vec<InstanceRef> = members
        .iter()
        .copied()
        .filter(|&r| {
            let x = core.instance(r);
            matches!(x.state, InstanceState::Active | InstanceState::Draining)
                && x.busy_tasks == 0
                && x.terminating.is_none()
        })
        .collect();
    empty.sort_by_key(|&r| {
        let x = core.instance(r);
        (std::cmp::Reverse(per_az(&x.az)), x.launched, r.id.0)
    });
    empty.truncate(remove);
    empty
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms() -> ManagedScaling {
        ManagedScaling {
            target_capacity: 100.0,
            minimum_scaling_step_size: 1,
            maximum_scaling_step_size: 10_000,
            instance_warmup_ms: 300_000,
            scale_out_datapoints: 1,
            scale_in_datapoints: 15,
            max_scale_in_pct: 50,
        }
    }

    #[test]
    fn scale_out_takes_the_larger_of_the_estimate_and_the_proportional_step() {
        // ECS-DG cluster-auto-scaling.html: with no instances and tasks waiting, CPR is 200 and
        // the estimate of instances needed decides.
        assert_eq!(scale_out_by(0, 3, 3, &ms(), 10), 3);
        // 4 instances wanting 6 (e.g. target 50 % with 3 needed): 6 - 4 = 2 beats an estimate
        // of 1.
        assert_eq!(scale_out_by(4, instances_wanted(3, 50.0), 1, &ms(), 10), 2);
        // Never past max_size.
        assert_eq!(scale_out_by(9, 27, 5, &ms(), 10), 1);
        // The minimum step size applies.
        let mut m = ms();
        m.minimum_scaling_step_size = 2;
        assert_eq!(scale_out_by(4, 5, 0, &m, 10), 2);
    }

    #[test]
    fn scale_in_removes_at_most_half_the_group_and_keeps_min_size() {
        // 10 instances, 2 wanted: remove 8 but at most 50 % = 5.
        assert_eq!(scale_in_by(10, 2, &ms(), 0), 5);
        assert_eq!(scale_in_by(10, 2, &ms(), 8), 2);
        // One empty instance: it may go (at least one per step).
        assert_eq!(scale_in_by(1, 0, &ms(), 0), 1);
        // As many as wanted: nothing to remove, whatever the metric says.
        assert_eq!(scale_in_by(10, 10, &ms(), 0), 0);
    }

    #[test]
    fn the_low_alarm_needs_its_datapoints_after_the_last_scale_in() {
        let low: Vec<Option<f64>> = vec![Some(50.0); 20];
        assert_eq!(window(&low, 0, 15, 100.0, false), AlarmState::Alarm);
        assert_eq!(
            window(&low, 10, 15, 100.0, false),
            AlarmState::InsufficientData
        );
        assert_eq!(window(&low, 5, 15, 100.0, false), AlarmState::Alarm);
        assert_eq!(window(&low[..1], 0, 1, 100.0, true), AlarmState::Ok);
    }
}
