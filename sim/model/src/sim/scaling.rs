//! Load, CloudWatch-style metrics and alarms, service auto scaling and cluster auto scaling,
//! run by the simulation.
//!
//! # Sampling and datapoints
//! When a scenario has load or auto scaling, a `Sample` event runs every 10 s (5 s at 20-second
//! resolution), as the ECS agent samples several times a minute (ECS-DG `cloudwatch-metrics.html`).
//! Each sample draws the demand (with noise), splits it over the service's RUNNING tasks and adds
//! to the current datapoint; at each resolution boundary the datapoint is closed: the average CPU
//! and memory utilisation over the samples that had running tasks (missing when none did:
//! ECS publishes nothing for a service without tasks), `RequestCountPerTarget` (requests served in
//! the period per average running task) and the average `RunningTaskCount`.
//!
//! # Alarms and actions, every minute
//! At every minute boundary each alarm is evaluated over its evaluation range (`N + 2` periods,
//! the 5 of CW-UG's N = 3 tables) of the datapoints visible by then (a period is visible
//! `metrics_publish_delay` after it ends), with [`evaluate_alarm`]. State changes are written to
//! `scaling.csv`. Application Auto Scaling then acts for every policy whose alarm is in ALARM,
//! every minute while it stays there (CW-UG: Auto Scaling actions are re-invoked every minute):
//! * target tracking proposes `ceil(running x metric / target)` from the RUNNING count (AAS starts
//!   from the actual running count, ECS-DG service-auto-scaling.html);
//! * step scaling aggregates its alarm's evaluated datapoints (Average, Minimum or Maximum), finds
//!   the step by the distance to the threshold, and applies its adjustment to the running count;
//! * the service scales out if any policy says so, to the largest capacity proposed; it scales in
//!   only if every target tracking policy with scale-in enabled says so, to the largest capacity
//!   proposed (AAS-UG); results are clamped to min and max capacity;
//! * cooldowns: during a policy's scale-out cooldown it scales out again only to a capacity larger
//!   than its last one; during its scale-in cooldown it does not scale in; a scale-out ends every
//!   scale-in cooldown (AAS-UG).
//!
//! Scheduled actions set min and/or max capacity at their times and pull the desired count into
//! the new range at once, regardless of cooldowns.
//!
//! # Cluster auto scaling, every minute
//! For each Auto Scaling group capacity provider with managed scaling: `CapacityProviderReservation`
//! ([`capacity_provider_reservation`]); above `target_capacity` for `scale_out_datapoints` minutes
//! (default 1) and with no launch inside `instance_warmup_period`, launch
//! `max(estimate, ceil(N x CPR / target) - N)` instances clamped to the step sizes and `max_size`;
//! below it for `scale_in_datapoints` (15) fresh minutes, remove down to `ceil(N x CPR / target)`,
//! at most `max_scale_in_pct` (50 %) of the group per step, never below `min_size`, and only
//! instances without service or job tasks (managed termination protection; daemon-only counts as
//! empty): from the AZ with the most instances, oldest first. After a scale-in the low alarm needs
//! 15 new datapoints before the next step (ecsim's convention).

use ecsim_engine::Scheduler;
use rand_distr::{Distribution, StandardNormal};

use super::*;
use crate::autoscaling::{
    AlarmState, capacity_provider_reservation, evaluate_alarm, instances_needed, matching_step,
    step_adjustment, target_tracking_capacity,
};
use crate::load::LoadSample;
use crate::scenario::{AlarmDef, ServiceMetric, Statistic};

#[derive(Default, Clone, Copy)]
struct Acc {
    samples: u32,
    cpu_sum: f64,
    cpu_n: u32,
    mem_sum: f64,
    served_req: f64,
    running_sum: f64,
}

#[derive(Default, Clone, Copy)]
struct Cooldown {
    /// Last scale-out: when, to what capacity, and from what running count.
    last_out: Option<(u64, u32)>,
    last_out_base: u32,
    last_in: Option<u64>,
}

/// One load change and how the service reacted.
#[derive(Debug, Clone, Copy)]
pub(super) struct Reaction {
    pub(super) at: u64,
    pub(super) first_scaling: Option<u64>,
    pub(super) running: Option<u64>,
    target: u32,
    up: bool,
}

pub(super) struct SvcScale {
    pub(super) service: u32,
    noise: Stream,
    acc: Acc,
    cpu: Vec<Option<f64>>,
    mem: Vec<Option<f64>>,
    rpt: Vec<Option<f64>>,
    running: Vec<Option<f64>>,
    pub(super) last: LoadSample,
    pub(super) last_rpt: Option<f64>,
    pub(super) unserved_request_minutes: f64,
    pub(super) min: u32,
    pub(super) max: u32,
    tt_state: Vec<(AlarmState, AlarmState)>,
    step_state: Vec<AlarmState>,
    tt_cd: Vec<Cooldown>,
    step_cd: Vec<Cooldown>,
    pub(super) actions: u64,
    pub(super) reactions: Vec<Reaction>,
}

pub(super) struct CasRt {
    pub(super) cluster: usize,
    pub(super) group: usize,
    pool: u32,
    pub(super) name: String,
    cpr: Vec<Option<f64>>,
    high: AlarmState,
    low: AlarmState,
    low_since: usize,
    last_launch: Option<u64>,
    pub(super) last_cpr: Option<f64>,
    pub(super) instances: u32,
}

#[derive(Default)]
pub(super) struct ScalingRt {
    pub(super) on: bool,
    sample_ms: u64,
    res_ms: u64,
    pub(super) services: Vec<SvcScale>,
    pub(super) providers: Vec<CasRt>,
    pub(super) unserved_request_minutes: f64,
    pub(super) idle_ms: u128,
    pub(super) idle_after_drop_ms: u128,
    pub(super) first_drop: Option<u64>,
    pub(super) actions: u64,
    pub(super) launched: u64,
    pub(super) terminated: u64,
}

fn aggregate(stat: Statistic, vals: &[f64]) -> Option<f64> {
    if vals.is_empty() {
        return None;
    }
    Some(match stat {
        Statistic::Average => vals.iter().sum::<f64>() / vals.len() as f64,
        Statistic::Sum => vals.iter().sum(),
        Statistic::Maximum => vals.iter().copied().fold(f64::MIN, f64::max),
        Statistic::Minimum => vals.iter().copied().fold(f64::MAX, f64::min),
        Statistic::SampleCount => vals.len() as f64,
    })
}

/// Evaluate an alarm on a datapoint series; returns the new state and the period values of the
/// evaluation range, oldest first.
fn eval(
    def: &AlarmDef,
    series: &[Option<f64>],
    visible: usize,
    res_ms: u64,
    current: AlarmState,
) -> (AlarmState, Vec<Option<f64>>) {
    let k = (def.period_ms / res_ms).max(1) as usize;
    let range = def.evaluation_periods + 2;
    let mut values = Vec::with_capacity(range);
    for j in 0..range {
        let back = (range - j) * k;
        let Some(start) = visible.checked_sub(back) else {
            values.push(None);
            continue;
        };
        let slice: Vec<f64> = series
            .get(start..start + k)
            .map(|s| s.iter().flatten().copied().collect())
            .unwrap_or_default();
        values.push(aggregate(def.statistic, &slice));
    }
    let slots: Vec<Option<bool>> = values
        .iter()
        .map(|v| v.map(|x| def.comparison.breaches(x, def.threshold)))
        .collect();
    (
        evaluate_alarm(
            &slots,
            def.datapoints_to_alarm,
            def.evaluation_periods,
            def.treat_missing,
            current,
        ),
        values,
    )
}

impl<S: Sink> Simulation<'_, S> {
    /// Set up sampling, scaling and the first events; called at the end of `new`.
    pub(super) fn setup_scaling(&mut self, streams: &Streams, sched: &mut Scheduler<Ev>) {
        let sc = self.sc;
        let res = sc.simulation.metrics_resolution_ms;
        let mut rt = ScalingRt {
            res_ms: res,
            sample_ms: if res >= 60_000 { 10_000 } else { 5_000 },
            ..ScalingRt::default()
        };
        for (si, s) in sc.services.iter().enumerate() {
            if s.load.is_none() && s.auto_scaling.is_none() {
                continue;
            }
            let a = s.auto_scaling.as_ref();
            let mut reactions = Vec::new();
            if let Some(l) = &s.load {
                for c in l.changes() {
                    reactions.push(Reaction {
                        at: c,
                        first_scaling: None,
                        running: None,
                        target: 0,
                        up: false,
                    });
                    if l.demand(c) < l.demand(c.saturating_sub(1)) {
                        rt.first_drop = Some(rt.first_drop.map_or(c, |d| d.min(c)));
                    }
                }
            }
            rt.services.push(SvcScale {
                service: si as u32,
                noise: streams.stream(&format!("load-noise/{}", s.load_stream)),
                acc: Acc::default(),
                cpu: Vec::new(),
                mem: Vec::new(),
                rpt: Vec::new(),
                running: Vec::new(),
                last: LoadSample::default(),
                last_rpt: None,
                unserved_request_minutes: 0.0,
                min: a.map_or(0, |a| a.min_capacity),
                max: a.map_or(u32::MAX, |a| a.max_capacity),
                tt_state: vec![
                    (AlarmState::InsufficientData, AlarmState::InsufficientData);
                    a.map_or(0, |a| a.target_tracking.len())
                ],
                step_state: vec![
                    AlarmState::InsufficientData;
                    a.map_or(0, |a| a.step_scaling.len())
                ],
                tt_cd: vec![Cooldown::default(); a.map_or(0, |a| a.target_tracking.len())],
                step_cd: vec![Cooldown::default(); a.map_or(0, |a| a.step_scaling.len())],
                actions: 0,
                reactions,
            });
            if let Some(a) = a {
                for (k, act) in a.scheduled.iter().enumerate() {
                    sched.schedule_at(
                        SimTime::from_ms(act.at_ms),
                        Ev::Scheduled {
                            service: si as u32,
                            action: k as u32,
                        },
                    );
                }
            }
        }
        for (c, cdef) in sc.clusters.iter().enumerate() {
            for (g, gdef) in cdef.groups.iter().enumerate() {
                if gdef.managed_scaling.is_none() {
                    continue;
                }
                let k = cdef
                    .capacity_providers
                    .iter()
                    .position(|p| p.kind == crate::scenario::ProviderKind::Asg { group: g })
                    .expect("validated");
                rt.providers.push(CasRt {
                    cluster: c,
                    group: g,
                    pool: k as u32 + 1,
                    name: cdef.capacity_providers[k].name.clone(),
                    cpr: Vec::new(),
                    high: AlarmState::InsufficientData,
                    low: AlarmState::InsufficientData,
                    low_since: 0,
                    last_launch: None,
                    last_cpr: None,
                    instances: gdef.count,
                });
            }
        }
        rt.on = !rt.services.is_empty() || !rt.providers.is_empty();
        if rt.on {
            sched.schedule_at(SimTime::from_ms(rt.sample_ms), Ev::Sample);
        }
        self.scaling = rt;
    }

    /// Integrate idle instance time (called from `advance`).
    pub(super) fn integrate_idle(&mut self, from: u64, to: u64) {
        let busy: u32 = self.clusters.iter().map(|c| c.busy).sum();
        let idle = u128::from(self.n_active.saturating_sub(busy));
        self.scaling.idle_ms += idle * u128::from(to - from);
        if let Some(d) = self.scaling.first_drop {
            let a = from.max(d);
            if to > a {
                self.scaling.idle_after_drop_ms += idle * u128::from(to - a);
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn scaling_record(
        &mut self,
        now: u64,
        kind: &str,
        name: &str,
        target: &str,
        from: &str,
        to: &str,
        reason: &str,
    ) {
        self.sink.scaling(&ScalingRecord {
            time_ms: now,
            kind,
            name,
            target,
            from,
            to,
            reason,
        });
    }

    pub(super) fn sample(&mut self, now: u64, sched: &mut Scheduler<Ev>) {
        let sc = self.sc;
        let (sample_ms, res) = (self.scaling.sample_ms, self.scaling.res_ms);
        let dt_s = sample_ms as f64 / 1000.0;
        for k in 0..self.scaling.services.len() {
            let s = self.scaling.services[k].service as usize;
            // Tasks on a dead host still count as RUNNING for ECS until it notices, but serve nothing.
            let running = self.services[s].running.saturating_sub(self.health[s].lost);
            let st = &mut self.scaling.services[k];
            let Some(model) = &sc.services[s].load else {
                continue;
            };
            let mut demand = model.demand(now);
            if model.noise_pct > 0.0 {
                let z: f64 = StandardNormal.sample(&mut st.noise);
                demand = (demand * (1.0 + model.noise_pct / 100.0 * z)).max(0.0);
            }
            let smp = model.serve(demand, running);
            st.last = smp;
            st.acc.samples += 1;
            if let (Some(c), Some(m)) = (smp.cpu_pct, smp.memory_pct) {
                st.acc.cpu_sum += c;
                st.acc.mem_sum += m;
                st.acc.cpu_n += 1;
            }
            st.acc.served_req += smp.served_rps * dt_s;
            st.acc.running_sum += f64::from(running);
            let unserved = smp.unserved_rps * dt_s / 60.0;
            st.unserved_request_minutes += unserved;
            self.scaling.unserved_request_minutes += unserved;
            if self.recovery.failures.iter().any(|f| f.recovered.is_none()) {
                self.recovery.unserved_during_failures += unserved;
            }
            // Reactions waiting for their tasks to run.
            for r in &mut st.reactions {
                if r.first_scaling.is_some()
                    && r.running.is_none()
                    && ((r.up && running >= r.target) || (!r.up && running <= r.target))
                {
                    r.running = Some(now - r.at);
                }
            }
        }
        if now.is_multiple_of(res) {
            for st in &mut self.scaling.services {
                let a = std::mem::take(&mut st.acc);
                let avg_running = if a.samples > 0 {
                    a.running_sum / f64::from(a.samples)
                } else {
                    0.0
                };
                st.cpu
                    .push((a.cpu_n > 0).then(|| a.cpu_sum / f64::from(a.cpu_n)));
                st.mem
                    .push((a.cpu_n > 0).then(|| a.mem_sum / f64::from(a.cpu_n)));
                st.last_rpt = (avg_running > 0.0).then(|| a.served_req / avg_running);
                st.rpt.push(st.last_rpt);
                st.running.push(Some(avg_running));
            }
        }
        if now.is_multiple_of(60_000) {
            self.evaluate_services(now, sched);
            self.evaluate_clusters(now, sched);
        }
        sched.schedule_in(sample_ms, Ev::Sample);
    }

    fn series(&self, k: usize, m: ServiceMetric) -> &[Option<f64>] {
        let st = &self.scaling.services[k];
        match m {
            ServiceMetric::CpuUtilization => &st.cpu,
            ServiceMetric::MemoryUtilization => &st.mem,
            ServiceMetric::RequestCountPerTarget => &st.rpt,
            ServiceMetric::RunningTaskCount => &st.running,
        }
    }

    fn evaluate_services(&mut self, now: u64, sched: &mut Scheduler<Ev>) {
        let sc = self.sc;
        let res = self.scaling.res_ms;
        let visible = (now.saturating_sub(sc.simulation.metrics_publish_delay_ms) / res) as usize;
        for k in 0..self.scaling.services.len() {
            let s = self.scaling.services[k].service as usize;
            let Some(a) = &sc.services[s].auto_scaling else {
                continue;
            };
            let sname = sc.services[s].name.as_str();
            let running = self.services[s].running;
            let desired = self.services[s].desired;
            let mut out: Vec<(u32, &str, String, usize)> = Vec::new(); // (capacity, policy, reason, policy index: tt k or 1000+step k)
            let mut inn: Vec<(u32, &str, String, usize)> = Vec::new();
            let mut tt_all_in = true;
            for (p, tt) in a.target_tracking.iter().enumerate() {
                let (h0, l0) = self.scaling.services[k].tt_state[p];
                let (h, hv) = eval(&tt.high, self.series(k, tt.metric), visible, res, h0);
                let (l, lv) = if tt.disable_scale_in {
                    (l0, Vec::new())
                } else {
                    eval(&tt.low, self.series(k, tt.metric), visible, res, l0)
                };
                for (old, new, which, def) in [(h0, h, "high", &tt.high), (l0, l, "low", &tt.low)] {
                    if old != new && !(which == "low" && tt.disable_scale_in) {
                        let name = format!("{}-{which}", tt.name);
                        let reason = format!(
                            "{} of {} datapoints {} {:.3}",
                            def.datapoints_to_alarm,
                            def.evaluation_periods,
                            if which == "high" { ">" } else { "<" },
                            def.threshold
                        );
                        self.scaling_record(
                            now,
                            "alarm",
                            &name,
                            sname,
                            old.as_str(),
                            new.as_str(),
                            &reason,
                        );
                    }
                }
                self.scaling.services[k].tt_state[p] = (h, l);
                let cd = self.scaling.services[k].tt_cd[p];
                let latest = |v: &[Option<f64>]| v.iter().rev().flatten().next().copied();
                if h == AlarmState::Alarm
                    && let Some(m) = latest(&hv)
                {
                    let cap = target_tracking_capacity(running, m, tt.target);
                    let blocked = cd
                        .last_out
                        .is_some_and(|(t0, c0)| now < t0 + tt.scale_out_cooldown_ms && cap <= c0);
                    if cap > desired && !blocked {
                        out.push((
                            cap,
                            &tt.name,
                            format!(
                                "target tracking: {} = {m:.2} > target {} ({running} running)",
                                metric_label(tt.metric),
                                tt.target
                            ),
                            p,
                        ));
                    }
                }
                if tt.disable_scale_in {
                    continue;
                }
                let mut proposes_in = false;
                if l == AlarmState::Alarm
                    && let Some(m) = latest(&lv)
                {
                    let cap = target_tracking_capacity(running, m, tt.target);
                    let blocked = cd
                        .last_in
                        .is_some_and(|t0| now < t0 + tt.scale_in_cooldown_ms);
                    if cap < desired && !blocked {
                        proposes_in = true;
                        inn.push((
                            cap,
                            &tt.name,
                            format!(
                                "target tracking: {} = {m:.2} < {:.2} ({running} running)",
                                metric_label(tt.metric),
                                tt.low.threshold
                            ),
                            p,
                        ));
                    }
                }
                tt_all_in &= proposes_in;
            }
            for (p, step) in a.step_scaling.iter().enumerate() {
                let old = self.scaling.services[k].step_state[p];
                let (st, vals) = eval(
                    &step.alarm,
                    self.series(k, step.alarm.metric),
                    visible,
                    res,
                    old,
                );
                if st != old {
                    let reason = format!(
                        "{} of {} datapoints vs {:.3}",
                        step.alarm.datapoints_to_alarm,
                        step.alarm.evaluation_periods,
                        step.alarm.threshold
                    );
                    self.scaling_record(
                        now,
                        "alarm",
                        &step.name,
                        sname,
                        old.as_str(),
                        st.as_str(),
                        &reason,
                    );
                }
                self.scaling.services[k].step_state[p] = st;
                if st != AlarmState::Alarm {
                    continue;
                }
                let recent: Vec<f64> = vals
                    .iter()
                    .rev()
                    .take(step.alarm.evaluation_periods)
                    .flatten()
                    .copied()
                    .collect();
                let Some(agg) = aggregate(step.aggregation, &recent) else {
                    continue;
                };
                let Some(adj) = matching_step(&step.steps, agg - step.alarm.threshold) else {
                    continue;
                };
                let cd = self.scaling.services[k].step_cd[p];
                // During the cooldown a further breach adds only the difference between its step
                // and the one in progress: both apply to the capacity the cooldown started from
                // (AAS-UG step scaling, cooldown).
                let in_cooldown = cd
                    .last_out
                    .is_some_and(|(t0, _)| now < t0 + step.cooldown_ms);
                let base = if in_cooldown {
                    cd.last_out_base
                } else {
                    running
                };
                let cap = step_adjustment(
                    base,
                    step.adjustment_type,
                    adj.adjustment,
                    step.min_adjustment_magnitude,
                );
                let reason = format!(
                    "step scaling: {} {agg:.2} vs threshold {}: adjustment {} ({running} running)",
                    metric_label(step.alarm.metric),
                    step.alarm.threshold,
                    adj.adjustment
                );
                if cap > desired
                    && !cd
                        .last_out
                        .is_some_and(|(t0, c0)| now < t0 + step.cooldown_ms && cap <= c0)
                {
                    out.push((cap, &step.name, reason, 1000 + p));
                } else if cap < desired && cd.last_in.is_none_or(|t0| now >= t0 + step.cooldown_ms)
                {
                    inn.push((cap, &step.name, reason, 1000 + p));
                }
            }
            let (min, max) = (self.scaling.services[k].min, self.scaling.services[k].max);
            if let Some(best) = out.iter().max_by_key(|o| o.0) {
                let new = best.0.clamp(min, max);
                if new != desired {
                    let (name, reason, idx) = (best.1.to_string(), best.2.clone(), best.3);
                    let st = &mut self.scaling.services[k];
                    for cd in st.tt_cd.iter_mut().chain(st.step_cd.iter_mut()) {
                        cd.last_in = None;
                    }
                    if idx >= 1000 {
                        let cd = &mut st.step_cd[idx - 1000];
                        if !cd.last_out.is_some_and(|(t0, _)| {
                            now < t0 + a.step_scaling[idx - 1000].cooldown_ms
                        }) {
                            cd.last_out_base = running;
                        }
                        cd.last_out = Some((now, new));
                    } else {
                        st.tt_cd[idx].last_out = Some((now, new));
                    }
                    self.set_desired(k, new, now, "service_scaling", &name, &reason, sched);
                }
            } else if !inn.is_empty()
                // Application Auto Scaling suspends scale-in during deployments (ECS-DG service-auto-scaling.html).
                && self.health[s].deploy.is_none()
                && (tt_all_in || a.target_tracking.iter().all(|t| t.disable_scale_in))
            {
                let best = inn.iter().max_by_key(|o| o.0).expect("non-empty");
                let new = best.0.clamp(min, max);
                if new != desired {
                    let (name, reason) = (best.1.to_string(), best.2.clone());
                    let idxs: Vec<usize> = inn.iter().map(|i| i.3).collect();
                    let st = &mut self.scaling.services[k];
                    for idx in idxs {
                        if idx >= 1000 {
                            st.step_cd[idx - 1000].last_in = Some(now);
                        } else {
                            st.tt_cd[idx].last_in = Some(now);
                        }
                    }
                    self.set_desired(k, new, now, "service_scaling", &name, &reason, sched);
                }
            }
        }
    }

    /// Change a scaled service's desired count and record it.
    #[allow(clippy::too_many_arguments)]
    fn set_desired(
        &mut self,
        k: usize,
        new: u32,
        now: u64,
        kind: &str,
        name: &str,
        reason: &str,
        sched: &mut Scheduler<Ev>,
    ) {
        let s = self.scaling.services[k].service;
        let old = self.services[s as usize].desired;
        self.services[s as usize].desired = new;
        self.scaling.actions += 1;
        let st = &mut self.scaling.services[k];
        st.actions += 1;
        // The latest load change not yet answered gets this action as its first reaction.
        if let Some(r) = st.reactions.iter_mut().rev().find(|r| r.at <= now)
            && r.first_scaling.is_none()
        {
            r.first_scaling = Some(now - r.at);
            r.target = new;
            r.up = new > old;
        }
        let (from, to) = (old.to_string(), new.to_string());
        let sname = &self.sc.services[s as usize].name;
        self.scaling_record(now, kind, name, sname, &from, &to, reason);
        self.service_event(s, now, &from, &to, "DesiredCountChanged");
        self.reconcile(s, now, sched);
    }

    /// A scheduled action: new min and/or max, desired pulled into range at once (AAS-UG).
    pub(super) fn scheduled_action(
        &mut self,
        service: u32,
        action: u32,
        now: u64,
        sched: &mut Scheduler<Ev>,
    ) {
        let sc = self.sc;
        let a = &sc.services[service as usize]
            .auto_scaling
            .as_ref()
            .expect("scheduled actions belong to auto scaling")
            .scheduled[action as usize];
        if let Some(every) = a.every_ms {
            sched.schedule_in(every, Ev::Scheduled { service, action });
        }
        let k = self
            .scaling
            .services
            .iter()
            .position(|s| s.service == service)
            .expect("scaled service");
        let st = &mut self.scaling.services[k];
        if let Some(m) = a.min_capacity {
            st.min = m;
        }
        if let Some(m) = a.max_capacity {
            st.max = m;
        }
        if st.min > st.max {
            st.max = st.min;
        }
        let (min, max) = (st.min, st.max);
        let desired = self.services[service as usize].desired;
        let reason = format!("scheduled action {action}: min {min}, max {max}");
        let new = desired.clamp(min, max);
        if new != desired {
            self.set_desired(
                k,
                new,
                now,
                "scheduled",
                &format!("scheduled-{action}"),
                &reason,
                sched,
            );
        } else {
            let sname = &sc.services[service as usize].name;
            self.scaling_record(
                now,
                "scheduled",
                &format!("scheduled-{action}"),
                sname,
                &desired.to_string(),
                &desired.to_string(),
                &reason,
            );
        }
    }

    fn evaluate_clusters(&mut self, now: u64, sched: &mut Scheduler<Ev>) {
        let sc = self.sc;
        for p in 0..self.scaling.providers.len() {
            let (c, g, pool) = (
                self.scaling.providers[p].cluster,
                self.scaling.providers[p].group,
                self.scaling.providers[p].pool,
            );
            let gdef = &sc.clusters[c].groups[g];
            let ms = gdef.managed_scaling.as_ref().expect("managed");
            let cl = &self.clusters[c];
            let members: Vec<u32> = (0..cl.insts.len() as u32)
                .filter(|&i| {
                    cl.insts[i as usize].group as usize == g
                        && cl.insts[i as usize].state != IState::Stopped
                })
                .collect();
            let n = members.len() as u32;
            let non_empty = members
                .iter()
                .filter(|&&i| cl.insts[i as usize].busy_tasks > 0)
                .count() as u32;
            // Tasks waiting for this provider, grouped by identical needs.
            let mut needs: Vec<(u32, u32, u32)> = Vec::new();
            for &t in &cl.waiting {
                let task = &self.tasks[t as usize];
                if task.runs != (Runs::Ec2 { pool }) {
                    continue;
                }
                let d = &sc.task_definitions[task.def as usize];
                match needs
                    .iter_mut()
                    .find(|x| x.0 == d.cpu_units && x.1 == d.memory_mib)
                {
                    Some(x) => x.2 += 1,
                    None => needs.push((d.cpu_units, d.memory_mib, 1)),
                }
            }
            let ty = &sc.instance_types[*gdef
                .instance_types
                .iter()
                .max_by_key(|&&t| sc.instance_types[t].cpu_units)
                .expect("a type")];
            let needed = instances_needed(
                &needs,
                ty.cpu_units,
                ty.registered_memory_mib(
                    sc.settings.os_memory_overhead_pct,
                    gdef.reserved_memory_mib,
                ),
            );
            let cpr = capacity_provider_reservation(n, non_empty, needed);
            let target = ms.target_capacity;
            let st = &mut self.scaling.providers[p];
            st.cpr.push(Some(cpr));
            st.last_cpr = Some(cpr);
            st.instances = n;
            let len = st.cpr.len();
            let window = |from: usize, m: usize, above: bool| -> AlarmState {
                if len < m || len - m < from {
                    return AlarmState::InsufficientData;
                }
                let all = st.cpr[len - m..]
                    .iter()
                    .flatten()
                    .all(|&v| if above { v > target } else { v < target });
                if all {
                    AlarmState::Alarm
                } else {
                    AlarmState::Ok
                }
            };
            let (h, l) = (
                window(0, ms.scale_out_datapoints, true),
                window(st.low_since, ms.scale_in_datapoints, false),
            );
            let (h0, l0, name) = (st.high, st.low, st.name.clone());
            st.high = h;
            st.low = l;
            if h != h0 {
                self.scaling_record(
                    now,
                    "alarm",
                    &format!("{name}-high"),
                    &name,
                    h0.as_str(),
                    h.as_str(),
                    &format!("CapacityProviderReservation {cpr:.1} vs target {target}"),
                );
            }
            if l != l0 {
                self.scaling_record(
                    now,
                    "alarm",
                    &format!("{name}-low"),
                    &name,
                    l0.as_str(),
                    l.as_str(),
                    &format!("CapacityProviderReservation {cpr:.1} vs target {target}"),
                );
            }
            let warm = self.scaling.providers[p]
                .last_launch
                .is_none_or(|t| now >= t + ms.instance_warmup_ms);
            if h == AlarmState::Alarm && warm && n < gdef.max_size {
                let proportional = ((f64::from(n) * cpr / target) - 1e-9).ceil() as u32;
                let want = needed.max(proportional.saturating_sub(n));
                let add = want
                    .clamp(ms.minimum_scaling_step_size, ms.maximum_scaling_step_size)
                    .min(gdef.max_size - n);
                if add > 0 {
                    self.scaling.providers[p].last_launch = Some(now);
                    self.scaling.launched += u64::from(add);
                    let reason = format!(
                        "CapacityProviderReservation {cpr:.1} > target {target}; {needed} instance(s) needed for waiting tasks"
                    );
                    self.scaling_record(
                        now,
                        "cluster_scaling",
                        &name,
                        &name,
                        &n.to_string(),
                        &(n + add).to_string(),
                        &reason,
                    );
                    for _ in 0..add {
                        self.launch_instance(c, g, now, sched);
                    }
                }
            } else if l == AlarmState::Alarm && n > gdef.min_size {
                let keep =
                    (((f64::from(n) * cpr / target) - 1e-9).ceil() as u32).max(gdef.min_size);
                let cap = (n * ms.max_scale_in_pct / 100).max(1);
                let remove = n.saturating_sub(keep).min(cap);
                // Managed termination protection: only instances without service or job tasks.
                let cl = &self.clusters[c];
                let mut empty: Vec<u32> = members
                    .iter()
                    .copied()
                    .filter(|&i| {
                        cl.insts[i as usize].state == IState::Active
                            && cl.insts[i as usize].busy_tasks == 0
                    })
                    .collect();
                let per_az = |az: &str| {
                    members
                        .iter()
                        .filter(|&&i| cl.insts[i as usize].az == az)
                        .count()
                };
                empty.sort_by_key(|&i| {
                    (
                        std::cmp::Reverse(per_az(&cl.insts[i as usize].az)),
                        cl.insts[i as usize].launched,
                        i,
                    )
                });
                let chosen: Vec<u32> = empty.into_iter().take(remove as usize).collect();
                if !chosen.is_empty() {
                    let reason = format!(
                        "CapacityProviderReservation {cpr:.1} < target {target} for {} minutes",
                        ms.scale_in_datapoints
                    );
                    let k = chosen.len() as u32;
                    self.scaling_record(
                        now,
                        "cluster_scaling",
                        &name,
                        &name,
                        &n.to_string(),
                        &(n - k).to_string(),
                        &reason,
                    );
                    for i in chosen {
                        self.terminate_instance(c, i, "ScaleIn", now, sched);
                    }
                    self.scaling.terminated += u64::from(k);
                    let st = &mut self.scaling.providers[p];
                    st.low_since = st.cpr.len();
                    st.low = AlarmState::InsufficientData;
                }
            }
        }
    }

    /// Terminate an instance that runs no service or job task: its daemon tasks stop, it is
    /// billed to now with the 60-second minimum, and it leaves the cluster.
    pub(super) fn terminate_instance(
        &mut self,
        c: usize,
        i: u32,
        reason: &'static str,
        now: u64,
        sched: &mut Scheduler<Ev>,
    ) {
        for k in 0..self.clusters[c].daemons.len() {
            let s = self.clusters[c].daemons[k];
            if self.clusters[c].daemon_missing.remove(&(s, i)) {
                self.services[s as usize].desired -= 1;
            }
            let on_it: Vec<u32> = self.services[s as usize]
                .live
                .iter()
                .copied()
                .filter(|&t| {
                    self.tasks[t as usize].instance == i
                        && self.tasks[t as usize].cluster as usize == c
                })
                .collect();
            for t in on_it {
                self.services[s as usize].desired -= 1;
                self.stop_task(
                    t,
                    Outcome::StoppedByScheduler,
                    "InstanceTerminated",
                    now,
                    sched,
                );
            }
        }
        self.accrue_instance(c, i, now);
        let inst = &self.clusters[c].insts[i as usize];
        let life = now - inst.launched;
        let top_up = pricing::billed_ms(life, self.sc.pricing.table.ec2.minimum_seconds) - life;
        if top_up > 0 {
            let target = Ec2Target {
                provider: inst.provider as usize,
                spot: inst.spot,
            };
            let cost = pricing::instance_charge(inst.rate, top_up);
            self.ledger.book_ec2(
                now.saturating_sub(1).max(inst.launched),
                cost,
                0,
                1,
                &[],
                target,
            );
        }
        let was = inst.state;
        self.clusters[c]
            .pc
            .set_status(InstanceId(i), InstanceStatus::Deregistered, now);
        let inst = &mut self.clusters[c].insts[i as usize];
        inst.state = IState::Stopped;
        inst.stopped_at = now;
        match was {
            IState::Active if self.clusters[c].insts[i as usize].draining => self.n_draining -= 1,
            IState::Active => self.n_active -= 1,
            IState::Launching => self.n_launching -= 1,
            IState::Stopped => unreachable!("terminated twice"),
        }
        self.n_stopped += 1;
        let from = if was == IState::Active {
            "ACTIVE"
        } else {
            "LAUNCHING"
        };
        self.emit_instance(now, c, i, from, "STOPPED", reason);
    }
}

fn metric_label(m: ServiceMetric) -> &'static str {
    match m {
        ServiceMetric::CpuUtilization => "CPUUtilization",
        ServiceMetric::MemoryUtilization => "MemoryUtilization",
        ServiceMetric::RequestCountPerTarget => "RequestCountPerTarget",
        ServiceMetric::RunningTaskCount => "RunningTaskCount",
    }
}
