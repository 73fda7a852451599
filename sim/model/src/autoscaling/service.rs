//! Service auto scaling: the state Application Auto Scaling and CloudWatch keep per service
//! (load noise, datapoints, alarm states, cooldowns, min and max capacity), sampled and
//! evaluated by the simulation's `Sample` timer.
//!
//! # Sampling and evaluation
//! When a scenario has load or auto scaling, a `Sample` event runs every 10 s (5 s at 20-second
//! resolution), as the ECS agent samples several times a minute (ECS-DG
//! `cloudwatch-metrics.html`). Each sample draws the demand (with noise), splits it over the
//! service's serving tasks and adds to the current datapoint ([`super::datapoints`]). At every
//! minute boundary each alarm is evaluated over its evaluation range (`N + 2` periods, the 5 of
//! CW-UG's N = 3 tables) of the datapoints visible by then (a period is visible
//! `metrics_publish_delay` after it ends). State changes are written to `scaling.csv`.
//! Application Auto Scaling then acts for every policy whose alarm is in ALARM, every minute
//! while it stays there (CW-UG: Auto Scaling actions are re-invoked every minute); the decision
//! is [`super::policy`]'s.
//!
//! Scheduled actions set min and/or max capacity at their times and pull the desired count into
//! the new range at once, regardless of cooldowns.

use ecsim_engine::{Scheduler, SimTime, Stream, Streams};
use rand_distr::{Distribution, StandardNormal};

use super::datapoints::{Series, alarm_reach, eval};
use super::policy::{self, Considered, Cooldown, Decision, PolicyRef, Proposal, Situation};
use super::{AlarmState, Comparison};
use crate::ids::ServiceId;
use crate::load::LoadSample;
use crate::record::{DecisionRecord, LoadRow, ScalingRecord, Sink};
use crate::scenario::{AlarmDef, Scenario, StepScaling, TargetTracking};
use crate::sim::event::*;
use std::fmt::Write as _;

/// One load change and how the service reacted.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Reaction {
    pub(crate) at: u64,
    pub(crate) first_scaling: Option<u64>,
    pub(crate) running: Option<u64>,
    /// Delay from the change to the first sample with every request served.
    pub(crate) served: Option<u64>,
    target: u32,
    up: bool,
}

#[derive(Clone)]
struct Scaled {
    service: ServiceId,
    noise: Stream,
    series: Series,
    last: LoadSample,
    unserved_request_minutes: f64,
    demand_request_minutes: f64,
    min: u32,
    max: u32,
    tt_state: Vec<(AlarmState, AlarmState)>,
    step_state: Vec<AlarmState>,
    tt_cd: Vec<Cooldown>,
    step_cd: Vec<Cooldown>,
    actions: u64,
    reactions: Vec<Reaction>,
}

/// A change of desired count auto scaling asks for.
#[derive(Debug, Clone)]
pub(crate) struct SetDesired {
    pub(crate) service: ServiceId,
    pub(crate) desired: u32,
    /// `service_scaling` or `scheduled`.
    pub(crate) kind: &'static str,
    /// The policy or scheduled action.
    pub(crate) name: String,
    pub(crate) reason: String,
}

/// Auto scaling of every service with load or policies.
#[derive(Clone)]
pub(crate) struct ServiceAutoScaling {
    sample_ms: u64,
    res_ms: u64,
    services: Vec<Scaled>,
    /// Index into `services` by service id.
    index: Vec<Option<usize>>,
    unserved_request_minutes: f64,
    actions: u64,
}

/// Write one scaling record (the columns of scaling.csv, in order).
#[allow(clippy::too_many_arguments)]
pub(crate) fn record<S: Sink>(
    sink: &mut S,
    now: SimTime,
    kind: &str,
    name: &str,
    target: &str,
    from: &str,
    to: &str,
    reason: &str,
) {
    sink.scaling(&ScalingRecord {
        time_ms: now.ms(),
        kind,
        name,
        target,
        from,
        to,
        reason,
    });
}

/// What an evaluation at one minute sees.
struct EvalContext<'a> {
    now: SimTime,
    /// Datapoints published by now.
    visible: usize,
    res_ms: u64,
    service: &'a str,
    x: Situation,
}

/// The policies' proposals at one minute.
struct Proposals {
    out: Vec<Proposal>,
    inn: Vec<Proposal>,
    /// Every target tracking policy with scale-in enabled proposes scale-in.
    tt_agree: bool,
    /// What each policy considered, with `--explain` only.
    explain: Option<Explained>,
}

/// What the policies with an alarm in ALARM considered, for `decisions.csv`.
#[derive(Default)]
struct Explained {
    considered: Vec<Considered>,
    /// `;<policy>=<out|in>:<capacity>[:cooldown]:<M>of<N><op><threshold>:<datapoints, /-separated,
    /// - for none>`.
    text: String,
}

impl Proposals {
    /// Take what a policy considered: its proposal if it goes through, and with `--explain`
    /// the note of it (`note`: the policy's name, its alarm and the datapoints it read).
    fn take(&mut self, c: Considered, desired: u32, note: (&str, &AlarmDef, &[Option<f64>])) {
        match c.direction(desired) {
            Some(true) => self.out.push(c.into_proposal()),
            Some(false) => self.inn.push(c.into_proposal()),
            None => {}
        }
        if let Some(e) = self.explain.as_mut() {
            e.note(note.0, c, note.1, note.2);
        }
    }
}

impl Explained {
    fn note(&mut self, name: &str, c: Considered, alarm: &AlarmDef, values: &[Option<f64>]) {
        let dir = if c.scales_out { "out" } else { "in" };
        let _ = write!(self.text, ";{name}={dir}:{}", c.capacity);
        if c.cooldown {
            self.text.push_str(":cooldown");
        }
        let op = match alarm.comparison {
            Comparison::GreaterThan => ">",
            Comparison::GreaterOrEqual => ">=",
            Comparison::LessThan => "<",
            Comparison::LessOrEqual => "<=",
        };
        let (m, n) = (alarm.datapoints_to_alarm, alarm.evaluation_periods);
        let _ = write!(self.text, ":{m}of{n}{op}{}:", alarm.threshold);
        for (k, v) in values.iter().enumerate() {
            if k > 0 {
                self.text.push('/');
            }
            let _ = match v {
                Some(v) => write!(self.text, "{v:.2}"),
                None => write!(self.text, "-"),
            };
        }
        self.considered.push(c);
    }
}

impl Scaled {
    /// Evaluate each target tracking policy's two alarms (changes go to scaling.csv) and
    /// collect its proposals.
    fn evaluate_target_tracking<S: Sink>(
        &mut self,
        policies: &[TargetTracking],
        cx: &EvalContext<'_>,
        p: &mut Proposals,
        sink: &mut S,
    ) {
        let (visible, res) = (cx.visible, cx.res_ms);
        for (k, tt) in policies.iter().enumerate() {
            let (h0, l0) = self.tt_state[k];
            let (h, hv) = eval(&tt.high, self.series.of(tt.metric), visible, res, h0);
            let (l, lv) = if tt.disable_scale_in {
                (l0, Vec::new())
            } else {
                eval(&tt.low, self.series.of(tt.metric), visible, res, l0)
            };
            for (old, new, which, def) in [(h0, h, "high", &tt.high), (l0, l, "low", &tt.low)] {
                if old != new && !(which == "low" && tt.disable_scale_in) {
                    let reason = format!(
                        "{} of {} datapoints {} {:.3}",
                        def.datapoints_to_alarm,
                        def.evaluation_periods,
                        if which == "high" { ">" } else { "<" },
                        def.threshold
                    );
                    let name = format!("{}-{which}", tt.name);
                    let (o, n) = (old.as_str(), new.as_str());
                    record(sink, cx.now, "alarm", &name, cx.service, o, n, &reason);
                }
            }
            self.tt_state[k] = (h, l);
            let (co, ci) =
                policy::target_tracking_considered(k, tt, (h, &hv), (l, &lv), self.tt_cd[k], cx.x);
            if !tt.disable_scale_in {
                p.tt_agree &= ci.is_some_and(|c| c.direction(cx.x.desired).is_some());
            }
            for (c, alarm, values) in [(co, &tt.high, &hv), (ci, &tt.low, &lv)] {
                if let Some(c) = c {
                    p.take(c, cx.x.desired, (&tt.name, alarm, values));
                }
            }
        }
    }

    /// Evaluate each step policy's alarm (changes go to scaling.csv) and collect its proposal.
    fn evaluate_step_scaling<S: Sink>(
        &mut self,
        policies: &[StepScaling],
        cx: &EvalContext<'_>,
        p: &mut Proposals,
        sink: &mut S,
    ) {
        for (k, step) in policies.iter().enumerate() {
            let old = self.step_state[k];
            let series = self.series.of(step.alarm.metric);
            let (state, vals) = eval(&step.alarm, series, cx.visible, cx.res_ms, old);
            if state != old {
                let a = &step.alarm;
                let reason = format!(
                    "{} of {} datapoints vs {:.3}",
                    a.datapoints_to_alarm, a.evaluation_periods, a.threshold
                );
                let (o, n) = (old.as_str(), state.as_str());
                record(sink, cx.now, "alarm", &step.name, cx.service, o, n, &reason);
            }
            self.step_state[k] = state;
            if state != AlarmState::Alarm {
                continue;
            }
            let Some(c) = policy::step_considered(k, step, &vals, self.step_cd[k], cx.x) else {
                continue;
            };
            p.take(c, cx.x.desired, (&step.name, &step.alarm, &vals));
        }
    }
}

/// How many datapoints a service's alarms can look back from the newest closed one: the
/// longest alarm range, plus the periods closed but not yet published, plus one for the minute
/// boundary. Older datapoints are dropped.
fn series_reach(sc: &Scenario, a: Option<&crate::scenario::ServiceScaling>) -> usize {
    let res = sc.simulation.metrics_resolution_ms;
    let alarms = a.into_iter().flat_map(|a| {
        let tt = a.target_tracking.iter().flat_map(|t| [&t.high, &t.low]);
        tt.chain(a.step_scaling.iter().map(|s| &s.alarm))
    });
    let longest = alarms.map(|d| alarm_reach(d, res)).max().unwrap_or(0);
    longest + sc.simulation.metrics_publish_delay_ms.div_ceil(res) as usize + 2
}

impl ServiceAutoScaling {
    /// Every service with load or auto scaling, with its noise stream and load changes; the
    /// datapoints kept are the longest any of a fork's `branches` reads.
    pub(crate) fn new(sc: &Scenario, streams: &Streams, branches: &[&Scenario]) -> Self {
        let res = sc.simulation.metrics_resolution_ms;
        let mut services = Vec::new();
        let mut index = vec![None; sc.services.len()];
        for (si, s) in sc.services.iter().enumerate() {
            if s.load.is_none() && s.auto_scaling.is_none() {
                continue;
            }
            let a = s.auto_scaling.as_ref();
            let n_tt = a.map_or(0, |a| a.target_tracking.len());
            let n_step = a.map_or(0, |a| a.step_scaling.len());
            let reactions = s.load.iter().flat_map(|l| l.changes()).map(|c| Reaction {
                at: c,
                first_scaling: None,
                running: None,
                served: None,
                target: 0,
                up: false,
            });
            index[si] = Some(services.len());
            services.push(Scaled {
                service: ServiceId::new(si),
                noise: streams.stream(&format!("load-noise/{}", s.load_stream)),
                series: Series::new(
                    branches
                        .iter()
                        .map(|b| series_reach(b, b.services[si].auto_scaling.as_ref()))
                        .fold(series_reach(sc, s.auto_scaling.as_ref()), usize::max),
                ),
                last: LoadSample::default(),
                unserved_request_minutes: 0.0,
                demand_request_minutes: 0.0,
                min: a.map_or(0, |a| a.min_capacity),
                max: a.map_or(u32::MAX, |a| a.max_capacity),
                tt_state: vec![(AlarmState::InsufficientData, AlarmState::InsufficientData); n_tt],
                step_state: vec![AlarmState::InsufficientData; n_step],
                tt_cd: vec![Cooldown::default(); n_tt],
                step_cd: vec![Cooldown::default(); n_step],
                actions: 0,
                reactions: reactions.collect(),
            });
        }
        ServiceAutoScaling {
            sample_ms: if res >= 60_000 { 10_000 } else { 5_000 },
            res_ms: res,
            services,
            index,
            unserved_request_minutes: 0.0,
            actions: 0,
        }
    }

    /// Take a fork's new bounds (the policies themselves are read from the scenario at every
    /// evaluation).
    pub(crate) fn reconfigure(&mut self, sc: &Scenario) {
        for st in &mut self.services {
            let a = sc.services[st.service.index()].auto_scaling.as_ref();
            st.min = a.map_or(0, |a| a.min_capacity);
            st.max = a.map_or(u32::MAX, |a| a.max_capacity);
        }
    }

    /// No service is sampled.
    pub(crate) fn is_empty(&self) -> bool {
        self.services.is_empty()
    }

    /// The sampling period, ms.
    pub(crate) fn sample_ms(&self) -> u64 {
        self.sample_ms
    }

    /// Schedule every scheduled action's first time.
    pub(crate) fn schedule_actions(&self, sc: &Scenario, sched: &mut Scheduler<Ev>) {
        for st in &self.services {
            let Some(a) = &sc.services[st.service.index()].auto_scaling else {
                continue;
            };
            for (k, act) in a.scheduled.iter().enumerate() {
                sched.schedule_at(
                    SimTime::from_ms(act.at_ms),
                    Ev::Scaling(ScalingEv::Scheduled(st.service, k as u32)),
                );
            }
        }
    }

    /// Take one sample of every service's load; `serving` gives each service's serving tasks.
    /// The request-minutes left unserved are also added to `during_failure` when given (a
    /// failure is open).
    pub(crate) fn sample(
        &mut self,
        sc: &Scenario,
        now: SimTime,
        serving: impl Fn(ServiceId) -> u32,
        mut during_failure: Option<&mut f64>,
    ) {
        let dt_s = self.sample_ms as f64 / 1000.0;
        for st in &mut self.services {
            let running = serving(st.service);
            let Some(model) = &sc.services[st.service.index()].load else {
                continue;
            };
            let mut demand = model.demand(now.ms());
            if model.noise_pct > 0.0 {
                let z: f64 = StandardNormal.sample(&mut st.noise);
                demand = (demand * (1.0 + model.noise_pct / 100.0 * z)).max(0.0);
            }
            let smp = model.serve(demand, running);
            st.last = smp;
            st.series.add(&smp, running, dt_s);
            let unserved = smp.unserved_rps * dt_s / 60.0;
            st.unserved_request_minutes += unserved;
            st.demand_request_minutes += smp.demand_rps * dt_s / 60.0;
            self.unserved_request_minutes += unserved;
            if let Some(d) = during_failure.as_deref_mut() {
                *d += unserved;
            }
            // Reactions waiting for their tasks to run, or for every request to be served.
            for r in &mut st.reactions {
                if r.served.is_none() && now.ms() >= r.at && smp.unserved_rps <= 0.0 {
                    r.served = Some(now.ms() - r.at);
                }
                if r.first_scaling.is_some()
                    && r.running.is_none()
                    && ((r.up && running >= r.target) || (!r.up && running <= r.target))
                {
                    r.running = Some(now.ms() - r.at);
                }
            }
        }
        if now.ms().is_multiple_of(self.res_ms) {
            for st in &mut self.services {
                st.series.close();
            }
        }
    }

    /// Services with auto scaling, in order (for the minute's evaluation).
    pub(crate) fn scaled(&self) -> Vec<ServiceId> {
        self.services.iter().map(|s| s.service).collect()
    }

    /// Evaluate a service's alarms at a minute boundary, record their changes, and decide.
    /// `running` is its RUNNING count (what AAS reads), `deploying` whether a deployment is in
    /// progress.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn evaluate<S: Sink>(
        &mut self,
        sc: &Scenario,
        s: ServiceId,
        now: SimTime,
        running: u32,
        desired: u32,
        deploying: bool,
        sink: &mut S,
    ) -> Option<SetDesired> {
        let k = self.index[s.index()]?;
        let a = sc.services[s.index()].auto_scaling.as_ref()?;
        let res = self.res_ms;
        let visible = (now
            .ms()
            .saturating_sub(sc.simulation.metrics_publish_delay_ms)
            / res) as usize;
        let sname = sc.services[s.index()].name.as_str();
        let x = Situation {
            now_ms: now.ms(),
            running,
            desired,
        };
        let st = &mut self.services[k];
        let ctx = EvalContext {
            now,
            visible,
            res_ms: res,
            service: sname,
            x,
        };
        let mut p = Proposals {
            out: Vec::new(),
            inn: Vec::new(),
            tt_agree: true,
            explain: sink.explains().then(Explained::default),
        };
        st.evaluate_target_tracking(&a.target_tracking, &ctx, &mut p, sink);
        st.evaluate_step_scaling(&a.step_scaling, &ctx, &mut p, sink);
        let Proposals {
            out,
            inn,
            tt_agree,
            explain,
        } = p;
        let decision = policy::decide(out, inn, tt_agree, deploying, desired, (st.min, st.max));
        if let Some(e) = explain
            && let Some(reason) = policy::rule(
                decision.as_ref(),
                &e.considered,
                tt_agree,
                deploying,
                desired,
            )
        {
            let chosen = match &decision {
                Some(Decision::Out { capacity, .. } | Decision::In { capacity, .. }) => *capacity,
                None => desired,
            };
            let details = format!(
                "running={running};desired={desired};min={};max={}{}",
                st.min, st.max, e.text
            );
            sink.decision(&DecisionRecord {
                time_ms: now.ms(),
                kind: "service_scaling",
                subject: sname,
                task: None,
                chosen: &chosen.to_string(),
                reason,
                details: &details,
            });
        }
        Some(self.start_cooldowns(k, s, sc, decision?, x))
    }

    /// Apply a decision's cooldowns and say what to set.
    fn start_cooldowns(
        &mut self,
        k: usize,
        s: ServiceId,
        sc: &Scenario,
        d: Decision,
        x: Situation,
    ) -> SetDesired {
        let a = sc.services[s.index()]
            .auto_scaling
            .as_ref()
            .expect("scaled");
        let st = &mut self.services[k];
        let name = |p: PolicyRef| match p {
            PolicyRef::TargetTracking(i) => a.target_tracking[i].name.clone(),
            PolicyRef::Step(i) => a.step_scaling[i].name.clone(),
        };
        let now = x.now_ms;
        let (capacity, proposal) = match d {
            Decision::Out { capacity, proposal } => {
                for cd in st.tt_cd.iter_mut().chain(st.step_cd.iter_mut()) {
                    cd.last_in = None;
                }
                match proposal.policy {
                    PolicyRef::Step(i) => {
                        let cd = &mut st.step_cd[i];
                        if cd
                            .last_out
                            .is_none_or(|(t0, _)| now >= t0 + a.step_scaling[i].cooldown_ms)
                        {
                            cd.last_out_base = x.running;
                        }
                        cd.last_out = Some((now, capacity));
                    }
                    PolicyRef::TargetTracking(i) => st.tt_cd[i].last_out = Some((now, capacity)),
                }
                (capacity, proposal)
            }
            Decision::In {
                capacity,
                proposal,
                policies,
            } => {
                for p in policies {
                    match p {
                        PolicyRef::Step(i) => st.step_cd[i].last_in = Some(now),
                        PolicyRef::TargetTracking(i) => st.tt_cd[i].last_in = Some(now),
                    }
                }
                (capacity, proposal)
            }
        };
        SetDesired {
            service: s,
            desired: capacity,
            kind: "service_scaling",
            name: name(proposal.policy),
            reason: proposal.reason,
        }
    }

    /// A scheduled action: new min and/or max; returns the desired count to set if the current
    /// one is out of the new range, and records the action otherwise.
    pub(crate) fn scheduled<S: Sink>(
        &mut self,
        sc: &Scenario,
        s: ServiceId,
        action: u32,
        desired: u32,
        now: SimTime,
        sink: &mut S,
    ) -> Option<SetDesired> {
        let a = &sc.services[s.index()]
            .auto_scaling
            .as_ref()
            .expect("scheduled actions belong to auto scaling")
            .scheduled[action as usize];
        let st = &mut self.services[self.index[s.index()].expect("scaled service")];
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
        let reason = format!("scheduled action {action}: min {min}, max {max}");
        let name = format!("scheduled-{action}");
        let new = desired.clamp(min, max);
        if new != desired {
            return Some(SetDesired {
                service: s,
                desired: new,
                kind: "scheduled",
                name,
                reason,
            });
        }
        let sname = &sc.services[s.index()].name;
        let d = desired.to_string();
        record(sink, now, "scheduled", &name, sname, &d, &d, &reason);
        None
    }

    /// Record a desired count change made for auto scaling: count it, credit the first
    /// reaction to the latest unanswered load change, write scaling.csv.
    pub(crate) fn desired_changed<S: Sink>(
        &mut self,
        sc: &Scenario,
        c: &SetDesired,
        old: u32,
        now: SimTime,
        sink: &mut S,
    ) {
        self.actions += 1;
        let st = &mut self.services[self.index[c.service.index()].expect("scaled service")];
        st.actions += 1;
        if let Some(r) = st.reactions.iter_mut().rev().find(|r| r.at <= now.ms())
            && r.first_scaling.is_none()
        {
            r.first_scaling = Some(now.ms() - r.at);
            r.target = c.desired;
            r.up = c.desired > old;
        }
        let (from, to) = (old.to_string(), c.desired.to_string());
        let sname = &sc.services[c.service.index()].name;
        record(sink, now, c.kind, &c.name, sname, &from, &to, &c.reason);
    }

    /// The load columns of a metrics row, one per sampled service.
    pub(crate) fn load_rows(&self) -> Vec<LoadRow> {
        self.services
            .iter()
            .map(|st| LoadRow {
                demand_rps: st.last.demand_rps,
                served_rps: st.last.served_rps,
                unserved_rps: st.last.unserved_rps,
                cpu_pct: st.last.cpu_pct,
                memory_pct: st.last.memory_pct,
                requests_per_target: st.series.last_rpt,
            })
            .collect()
    }

    /// Request-minutes left unserved over the run.
    pub(crate) fn unserved_request_minutes(&self) -> f64 {
        self.unserved_request_minutes
    }

    /// Per sampled service with a load model: id and request-minutes demanded.
    pub(crate) fn demand(&self) -> impl Iterator<Item = (ServiceId, f64)> {
        self.services
            .iter()
            .map(|s| (s.service, s.demand_request_minutes))
    }

    /// Desired count changes made.
    pub(crate) fn actions(&self) -> u64 {
        self.actions
    }

    /// Per service: id, unserved request-minutes, actions, reactions to load changes.
    pub(crate) fn per_service(&self) -> impl Iterator<Item = (ServiceId, f64, u64, &[Reaction])> {
        self.services.iter().map(|s| {
            (
                s.service,
                s.unserved_request_minutes,
                s.actions,
                s.reactions.as_slice(),
            )
        })
    }
}
