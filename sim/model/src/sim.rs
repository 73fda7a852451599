//! One run of a scenario.
//!
//! # Events and their order
//! The model's events are [`Ev`]. At one instant the engine processes them in the order they were
//! scheduled; the simulation relies on that for three rules:
//! * instances that become ACTIVE at an instant get their daemon tasks at once, before any other
//!   task is retried on them (daemon tasks start first, ECS-DG `ecs_services.html`);
//! * work that waits for capacity is retried by one `Retry` event per cluster and instant,
//!   scheduled after the event that freed or added capacity: daemons first, then services in
//!   scenario order, then waiting standalone tasks first come first served;
//! * `End` is scheduled before anything else, so nothing at the end instant is processed.
//!
//! # Task lifecycle
//! A standalone task is created at its arrival. If an instance can take it, it is PENDING at once
//! (RunTask on EC2 without a capacity provider), RUNNING after `settings.task_start_delay`, and
//! STOPPED when its run time is over. If nothing fits it either fails at once (`on_no_capacity =
//! "fail"`, RunTask semantics: outcome `failed_to_place` with the reason code) or waits in
//! PROVISIONING (`"wait"`). A service creates a task when it can place one; when it cannot, it
//! records a service event and retries when capacity changes (ECS-DG `service-event-messages.html`).
//!
//! # Metrics
//! A metrics row at time T shows the state after every event at or before T; rows are written
//! for every multiple of the period up to the end, and one at the end itself.

use std::collections::{BTreeSet, VecDeque};

use ecsim_engine::{
    Control, Limits, Model, Scheduler, SimTime, StableHasher, StopReason, Stream, Streams,
};
use ecsim_placement::{
    AZ_ATTRIBUTE, Cluster, Constraint, GroupId, IndexConfig, InstanceId, InstanceSpec,
    InstanceStatus, PlacementFailure, SpreadField, StopCandidate, Strategy, TaskRequest,
};
use rand::RngExt;

use crate::record::*;
use crate::scenario::{
    ActionKind, Arrival, NetworkMode, OnNoCapacity, Scenario, SchedulingStrategy,
};

const NONE: u64 = u64::MAX;
const NO_INSTANCE: u32 = u32::MAX;

/// The simulation's events.
#[derive(Debug, Clone, Copy)]
pub enum Ev {
    /// A launching instance registers and becomes ACTIVE.
    InstanceRegistered {
        /// Cluster.
        cluster: u32,
        /// Instance.
        instance: u32,
    },
    /// The next task of a job arrives.
    Arrival {
        /// Job.
        job: u32,
    },
    /// A PENDING task reaches RUNNING.
    TaskRunning {
        /// Task.
        task: u32,
    },
    /// A standalone task's run time is over.
    TaskExited {
        /// Task.
        task: u32,
    },
    /// Retry whatever waits for capacity in a cluster.
    Retry {
        /// Cluster.
        cluster: u32,
    },
    /// A scripted action.
    Action {
        /// Index into the scenario's actions.
        action: u32,
    },
    /// `simulation.duration` reached.
    End,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TState {
    Provisioning,
    Pending,
    Running,
    Stopped,
}

impl TState {
    fn as_str(self) -> &'static str {
        match self {
            TState::Provisioning => "PROVISIONING",
            TState::Pending => "PENDING",
            TState::Running => "RUNNING",
            TState::Stopped => "STOPPED",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Owner {
    Service(u32),
    Job(u32, u32),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Open,
    Completed,
    FailedToPlace(PlacementFailure),
    StoppedByScheduler,
}

#[derive(Debug, Clone)]
struct Task {
    def: u32,
    owner: Owner,
    cluster: u32,
    instance: u32,
    group: GroupId,
    state: TState,
    created: u64,
    placed: u64,
    running: u64,
    stopped: u64,
    run_ms: u64,
    outcome: Outcome,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum IState {
    Launching,
    Active,
}

struct InstRt {
    ec2_id: String,
    az: String,
    state: IState,
    launched: u64,
}

#[derive(Default)]
struct ClusterAcc {
    cpu_reserved: u128,
    cpu_registered: u128,
    mem_reserved: u128,
    mem_registered: u128,
    in_use: u128,
    peak_in_use: u32,
}

struct ClusterRt {
    acc: ClusterAcc,
    pc: Cluster,
    insts: Vec<InstRt>,
    waiting: VecDeque<u32>,
    retry_scheduled: bool,
    svc_deficit: BTreeSet<u32>,
    daemon_missing: BTreeSet<(u32, u32)>,
    daemons: Vec<u32>,
}

struct ServiceRt {
    desired: u32,
    live: Vec<u32>,
    running: u32,
    pending: u32,
    group: GroupId,
    failing: Option<PlacementFailure>,
}

struct JobRt {
    arrivals: Stream,
    mix: Stream,
    run_times: Stream,
    emitted: u64,
    next_ms: f64,
    /// Per mix entry: (definition, group, constraints: job's then definition's).
    entries: Vec<(u32, GroupId, Vec<Constraint>)>,
    cumulative: Vec<f64>,
}

/// Options of one run that are not part of the scenario.
#[derive(Debug, Clone, Copy)]
pub struct RunOptions {
    /// The run seed.
    pub seed: u64,
    /// Check the whole-run invariants after every event (slow; on in tests).
    pub check_invariants: bool,
}

/// One run of a scenario, pushing its records into a sink.
pub struct Simulation<'s, S: Sink> {
    sc: &'s Scenario,
    sink: S,
    clusters: Vec<ClusterRt>,
    services: Vec<ServiceRt>,
    jobs: Vec<JobRt>,
    tasks: Vec<Task>,
    start_delays: Stream,
    hash: StableHasher,
    state_changes: u64,
    open_work: u64,
    n_prov: u64,
    n_pending: u64,
    n_running: u64,
    n_launching: u32,
    n_active: u32,
    peak_instances: u64,
    next_metrics_ms: u64,
    last_t: u64,
    cpu_reserved_int: u128,
    cpu_registered_int: u128,
    mem_reserved_int: u128,
    mem_registered_int: u128,
    samples: Vec<ServiceSample>,
    cluster_samples: Vec<ClusterSample>,
    tasks_started: u64,
    tasks_completed: u64,
    tasks_failed: u64,
    tasks_scaled_in: u64,
    service_failures: u64,
    wait_sum: u128,
    wait_max: u64,
    waits: u64,
    check: bool,
    stop_reason: &'static str,
}

fn task_request<'a>(
    sc: &'a Scenario,
    def: u32,
    group: GroupId,
    constraints: &'a [Constraint],
    strategy: &'a [Strategy],
) -> TaskRequest<'a> {
    let d = &sc.task_definitions[def as usize];
    TaskRequest {
        cpu_units: d.cpu_units,
        memory_mib: d.memory_mib,
        host_ports: &d.host_ports,
        needs_eni: d.network_mode == NetworkMode::Awsvpc,
        group,
        constraints,
        strategy,
    }
}

fn index_config(sc: &Scenario, cluster: usize) -> IndexConfig {
    let mut cfg = IndexConfig {
        tie_break: sc.settings.tie_break,
        ..IndexConfig::default()
    };
    let chains = sc
        .services
        .iter()
        .filter(|s| s.cluster == cluster)
        .map(|s| &s.strategy)
        .chain(
            sc.jobs
                .iter()
                .filter(|j| j.cluster == cluster)
                .map(|j| &j.strategy),
        );
    for chain in chains {
        let end = chain
            .iter()
            .position(|s| *s == Strategy::Random)
            .unwrap_or(chain.len());
        for s in &chain[..end] {
            match s {
                Strategy::Binpack(ecsim_placement::BinpackField::Memory) => cfg.by_memory = true,
                Strategy::Spread(SpreadField::Attribute(a)) if a == AZ_ATTRIBUTE => {
                    cfg.az_counts = true
                }
                Strategy::Spread(SpreadField::Attribute(a))
                    if !cfg.spread_attributes.contains(a) =>
                {
                    cfg.spread_attributes.push(a.clone())
                }
                _ => {}
            }
        }
    }
    cfg
}

impl<'s, S: Sink> Simulation<'s, S> {
    /// Set up a run: instances, services, jobs and actions, all scheduled on `sched`.
    pub fn new(sc: &'s Scenario, opts: RunOptions, mut sink: S, sched: &mut Scheduler<Ev>) -> Self {
        let streams = Streams::new(opts.seed);
        let names: Vec<&str> = sc.services.iter().map(|s| s.name.as_str()).collect();
        let cluster_names: Vec<&str> = sc.clusters.iter().map(|c| c.name.as_str()).collect();
        sink.begin(&RunHeader {
            clusters: &cluster_names,
            services: &names,
        });
        if let Some(d) = sc.simulation.duration_ms {
            sched.schedule_at(SimTime::from_ms(d), Ev::End);
        }
        let mut launch = streams.stream("launch-delay");
        let mut next_instance = 0u64;
        let mut clusters = Vec::new();
        let mut deferred_instances = Vec::new();
        for (ci, c) in sc.clusters.iter().enumerate() {
            let pc = Cluster::new(
                index_config(sc, ci),
                streams.seed_of(&format!("placement/{}", c.name)),
            );
            let mut rt = ClusterRt {
                acc: ClusterAcc::default(),
                pc,
                insts: Vec::new(),
                waiting: VecDeque::new(),
                retry_scheduled: false,
                svc_deficit: BTreeSet::new(),
                daemon_missing: BTreeSet::new(),
                daemons: Vec::new(),
            };
            for g in &c.groups {
                let ty = &sc.instance_types[g.instance_type];
                for k in 0..g.count {
                    next_instance += 1;
                    let az = g.availability_zones[k as usize % g.availability_zones.len()].clone();
                    let ec2_id = format!("i-{next_instance:017x}");
                    let mut attributes = vec![
                        (AZ_ATTRIBUTE.to_string(), az.clone()),
                        ("ecs.instance-type".to_string(), ty.name.clone()),
                        ("ecs.os-type".to_string(), "linux".to_string()),
                        ("ecs.os-family".to_string(), "LINUX".to_string()),
                        ("ecs.cpu-architecture".to_string(), ty.architecture.clone()),
                        ("ecs.ami-id".to_string(), "ami-ecsim".to_string()),
                    ];
                    attributes.extend(g.attributes.iter().cloned());
                    let id = rt.pc.add_instance(InstanceSpec {
                        ec2_instance_id: ec2_id.clone(),
                        cpu_units: ty.cpu_units,
                        memory_mib: ty.registered_memory_mib(
                            sc.settings.os_memory_overhead_pct,
                            g.reserved_memory_mib,
                        ),
                        eni_tasks: ty.eni_tasks(),
                        attributes,
                        agent_version: sc.settings.agent_version.clone(),
                    });
                    rt.insts.push(InstRt {
                        ec2_id,
                        az,
                        state: IState::Launching,
                        launched: 0,
                    });
                    deferred_instances.push((ci as u32, id.0, g.launch_delay.sample(&mut launch)));
                }
            }
            clusters.push(rt);
        }
        let mut services = Vec::new();
        for (si, s) in sc.services.iter().enumerate() {
            let cl = &mut clusters[s.cluster];
            let group = cl.pc.group(&format!("service:{}", s.name));
            match s.scheduling {
                SchedulingStrategy::Daemon => cl.daemons.push(si as u32),
                SchedulingStrategy::Replica if s.desired_count > 0 => {
                    cl.svc_deficit.insert(si as u32);
                }
                SchedulingStrategy::Replica => {}
            }
            let desired = if s.scheduling == SchedulingStrategy::Daemon {
                0
            } else {
                s.desired_count
            };
            services.push(ServiceRt {
                desired,
                live: Vec::new(),
                running: 0,
                pending: 0,
                group,
                failing: None,
            });
        }
        let mut jobs = Vec::new();
        for j in &sc.jobs {
            let cl = &mut clusters[j.cluster];
            let mut entries = Vec::new();
            let mut cumulative = Vec::new();
            let mut acc = 0.0;
            for &(d, w) in &j.mix {
                let def = &sc.task_definitions[d];
                let group = match &j.group {
                    Some(g) => cl.pc.group(g),
                    None => cl.pc.group(&format!("family:{}", def.family)),
                };
                let mut cons = j.constraints.clone();
                cons.extend(def.constraints.iter().map(|c| c.1.clone()));
                entries.push((d as u32, group, cons));
                acc += w;
                cumulative.push(acc);
            }
            jobs.push(JobRt {
                arrivals: streams.stream(&format!("arrivals/{}", j.stream)),
                mix: streams.stream(&format!("task-mix/{}", j.stream)),
                run_times: streams.stream(&format!("run-times/{}", j.stream)),
                emitted: 0,
                next_ms: 0.0,
                entries,
                cumulative,
            });
        }
        let mut sim = Simulation {
            sc,
            sink,
            clusters,
            services,
            jobs,
            tasks: Vec::new(),
            start_delays: streams.stream("start-delay"),
            hash: StableHasher::default(),
            state_changes: 0,
            open_work: 0,
            n_prov: 0,
            n_pending: 0,
            n_running: 0,
            n_launching: 0,
            n_active: 0,
            peak_instances: 0,
            next_metrics_ms: 0,
            last_t: 0,
            cpu_reserved_int: 0,
            cpu_registered_int: 0,
            mem_reserved_int: 0,
            mem_registered_int: 0,
            samples: vec![ServiceSample::default(); sc.services.len()],
            cluster_samples: vec![ClusterSample::default(); sc.clusters.len()],
            tasks_started: 0,
            tasks_completed: 0,
            tasks_failed: 0,
            tasks_scaled_in: 0,
            service_failures: 0,
            wait_sum: 0,
            wait_max: 0,
            waits: 0,
            check: opts.check_invariants,
            stop_reason: "no_work_left",
        };
        for (c, i, delay) in deferred_instances {
            sim.n_launching += 1;
            let id = sim.clusters[c as usize].insts[i as usize].ec2_id.as_str();
            emit(
                &mut sim.sink,
                &mut sim.hash,
                &mut sim.state_changes,
                EventRecord {
                    time_ms: 0,
                    kind: EventKind::Instance,
                    task: None,
                    service: "",
                    job: "",
                    instance: id,
                    from: "",
                    to: "LAUNCHING",
                    reason: "",
                },
            );
            sim.open_work += 1;
            sched.schedule_in(
                delay,
                Ev::InstanceRegistered {
                    cluster: c,
                    instance: i,
                },
            );
        }
        sim.peak_instances = u64::from(sim.n_launching);
        for j in 0..sim.jobs.len() {
            sim.schedule_arrival(j as u32, sched);
        }
        for (a, act) in sc.actions.iter().enumerate() {
            sim.open_work += 1;
            sched.schedule_at(SimTime::from_ms(act.at_ms), Ev::Action { action: a as u32 });
        }
        sim
    }

    fn schedule_arrival(&mut self, j: u32, sched: &mut Scheduler<Ev>) {
        let job = &self.sc.jobs[j as usize];
        let rt = &mut self.jobs[j as usize];
        let at = match &job.arrival {
            Arrival::List(times) => times.get(rt.emitted as usize).copied(),
            Arrival::Poisson {
                rate_per_s,
                start_ms,
                count,
                end_ms,
            } => {
                if count.is_some_and(|c| rt.emitted >= c) {
                    None
                } else {
                    if rt.emitted == 0 {
                        rt.next_ms = *start_ms as f64;
                    }
                    let gap: f64 =
                        rand_distr::Distribution::sample(&rand_distr::Exp1, &mut rt.arrivals);
                    rt.next_ms += gap * 1000.0 / rate_per_s;
                    let t = rt.next_ms.round() as u64;
                    (!end_ms.is_some_and(|e| t > e)).then_some(t)
                }
            }
        };
        if let Some(t) = at {
            let t = t.max(sched.now().ms());
            if self.sc.simulation.duration_ms.is_some_and(|d| t >= d) {
                return;
            }
            self.open_work += 1;
            sched.schedule_at(SimTime::from_ms(t), Ev::Arrival { job: j });
        }
    }

    fn advance(&mut self, now: u64) {
        while self.next_metrics_ms < now {
            let t = self.next_metrics_ms;
            self.write_metrics(t);
            self.next_metrics_ms += self.sc.simulation.metrics_period_ms;
        }
        if now > self.last_t {
            let dt = u128::from(now - self.last_t);
            for c in &mut self.clusters {
                let (a, b, x, y) = c.pc.reservation_totals();
                c.acc.cpu_registered += u128::from(a) * dt;
                c.acc.mem_registered += u128::from(b) * dt;
                c.acc.cpu_reserved += u128::from(x) * dt;
                c.acc.mem_reserved += u128::from(y) * dt;
                c.acc.in_use += u128::from(c.pc.instances_in_use()) * dt;
                self.cpu_registered_int += u128::from(a) * dt;
                self.mem_registered_int += u128::from(b) * dt;
                self.cpu_reserved_int += u128::from(x) * dt;
                self.mem_reserved_int += u128::from(y) * dt;
            }
            self.last_t = now;
        }
    }

    fn write_metrics(&mut self, t: u64) {
        let pct = |a: u64, b: u64| {
            if b == 0 {
                0.0
            } else {
                100.0 * a as f64 / b as f64
            }
        };
        let (mut rc, mut rm, mut uc, mut um) = (0u64, 0u64, 0u64, 0u64);
        for (c, sample) in self.clusters.iter().zip(self.cluster_samples.iter_mut()) {
            let (a, b, x, y) = c.pc.reservation_totals();
            rc += a;
            rm += b;
            uc += x;
            um += y;
            *sample = ClusterSample {
                instances_in_use: c.pc.instances_in_use(),
                cpu_reserved_pct: pct(x, a),
                memory_reserved_pct: pct(y, b),
            };
        }
        for (s, rt) in self.samples.iter_mut().zip(&self.services) {
            *s = ServiceSample {
                desired: rt.desired,
                running: rt.running,
                pending: rt.pending,
            };
        }
        self.sink.metrics(&MetricsRow {
            time_ms: t,
            instances_launching: self.n_launching,
            instances_active: self.n_active,
            instances_draining: 0,
            instances_stopped: 0,
            tasks_provisioning: self.n_prov,
            tasks_pending: self.n_pending,
            tasks_running: self.n_running,
            cpu_reserved_pct: pct(uc, rc),
            memory_reserved_pct: pct(um, rm),
            clusters: &self.cluster_samples,
            services: &self.samples,
        });
    }

    fn task_event(&mut self, tid: u32, now: u64, from: TState, to: TState, reason: &str) {
        let t = &self.tasks[tid as usize];
        let (service, job) = match t.owner {
            Owner::Service(s) => (self.sc.services[s as usize].name.as_str(), ""),
            Owner::Job(j, _) => ("", self.sc.jobs[j as usize].name.as_str()),
        };
        let instance = if t.instance == NO_INSTANCE {
            ""
        } else {
            self.clusters[t.cluster as usize].insts[t.instance as usize]
                .ec2_id
                .as_str()
        };
        emit(
            &mut self.sink,
            &mut self.hash,
            &mut self.state_changes,
            EventRecord {
                time_ms: now,
                kind: EventKind::Task,
                task: Some(u64::from(tid)),
                service,
                job,
                instance,
                from: if from == to { "" } else { from.as_str() },
                to: to.as_str(),
                reason,
            },
        );
    }

    fn count_state(&mut self, s: TState, delta: i64) {
        let c = match s {
            TState::Provisioning => &mut self.n_prov,
            TState::Pending => &mut self.n_pending,
            TState::Running => &mut self.n_running,
            TState::Stopped => return,
        };
        *c = c
            .checked_add_signed(delta)
            .expect("task state counts never go negative");
    }

    fn set_state(&mut self, tid: u32, to: TState, now: u64, reason: &str) {
        let from = self.tasks[tid as usize].state;
        self.count_state(from, -1);
        self.count_state(to, 1);
        self.tasks[tid as usize].state = to;
        if let Owner::Service(s) = self.tasks[tid as usize].owner {
            let svc = &mut self.services[s as usize];
            match from {
                TState::Pending => svc.pending -= 1,
                TState::Running => svc.running -= 1,
                _ => {}
            }
            match to {
                TState::Pending => svc.pending += 1,
                TState::Running => svc.running += 1,
                _ => {}
            }
        }
        self.task_event(tid, now, from, to, reason);
    }

    fn new_task(
        &mut self,
        def: u32,
        owner: Owner,
        cluster: u32,
        group: GroupId,
        now: u64,
        run_ms: u64,
    ) -> u32 {
        let tid = u32::try_from(self.tasks.len()).expect("fewer than 4 billion tasks");
        self.tasks.push(Task {
            def,
            owner,
            cluster,
            instance: NO_INSTANCE,
            group,
            state: TState::Stopped,
            created: now,
            placed: NONE,
            running: NONE,
            stopped: NONE,
            run_ms,
            outcome: Outcome::Open,
        });
        tid
    }

    /// Reserve resources and move a task to PENDING (and RUNNING if the start delay is zero).
    fn start_task(&mut self, tid: u32, inst: InstanceId, now: u64, sched: &mut Scheduler<Ev>) {
        let t = &self.tasks[tid as usize];
        let (c, def, group, owner) = (t.cluster as usize, t.def, t.group, t.owner);
        let req = task_request(self.sc, def, group, &[], &[]);
        let cl = &mut self.clusters[c];
        cl.pc.allocate(inst, &req);
        cl.acc.peak_in_use = cl.acc.peak_in_use.max(cl.pc.instances_in_use());
        let t = &mut self.tasks[tid as usize];
        t.instance = inst.0;
        t.placed = now;
        let wait = now - t.created;
        self.wait_sum += u128::from(wait);
        self.wait_max = self.wait_max.max(wait);
        self.waits += 1;
        if let Owner::Service(s) = owner {
            self.services[s as usize].live.push(tid);
        }
        self.set_state(tid, TState::Pending, now, "");
        let delay = if self.sc.settings.task_start_delay.is_zero() {
            0
        } else {
            self.sc
                .settings
                .task_start_delay
                .sample(&mut self.start_delays)
        };
        if delay == 0 {
            self.task_running(tid, now, sched);
        } else {
            self.open_work += 1;
            sched.schedule_in(delay, Ev::TaskRunning { task: tid });
        }
    }

    fn task_running(&mut self, tid: u32, now: u64, sched: &mut Scheduler<Ev>) {
        self.set_state(tid, TState::Running, now, "");
        self.tasks_started += 1;
        let t = &mut self.tasks[tid as usize];
        t.running = now;
        if let Owner::Job(..) = t.owner {
            let run = t.run_ms;
            self.open_work += 1;
            sched.schedule_in(run, Ev::TaskExited { task: tid });
        }
    }

    fn stop_task(
        &mut self,
        tid: u32,
        outcome: Outcome,
        reason: &str,
        now: u64,
        sched: &mut Scheduler<Ev>,
    ) {
        let t = &self.tasks[tid as usize];
        let (c, def, group, inst, owner) =
            (t.cluster as usize, t.def, t.group, t.instance, t.owner);
        if inst != NO_INSTANCE {
            let req = task_request(self.sc, def, group, &[], &[]);
            self.clusters[c].pc.release(InstanceId(inst), &req);
        }
        let t = &mut self.tasks[tid as usize];
        t.stopped = now;
        t.outcome = outcome;
        if let Owner::Service(s) = owner {
            self.services[s as usize].live.retain(|&x| x != tid);
        }
        self.set_state(tid, TState::Stopped, now, reason);
        if inst != NO_INSTANCE {
            self.request_retry(c as u32, sched);
        }
    }

    fn request_retry(&mut self, c: u32, sched: &mut Scheduler<Ev>) {
        let cl = &mut self.clusters[c as usize];
        if cl.retry_scheduled
            || (cl.waiting.is_empty() && cl.svc_deficit.is_empty() && cl.daemon_missing.is_empty())
        {
            return;
        }
        cl.retry_scheduled = true;
        self.open_work += 1;
        sched.schedule_at(sched.now(), Ev::Retry { cluster: c });
    }

    fn arrival(&mut self, j: u32, now: u64, sched: &mut Scheduler<Ev>) {
        let job = &self.sc.jobs[j as usize];
        let rt = &mut self.jobs[j as usize];
        rt.emitted += 1;
        let k = if rt.entries.len() == 1 {
            0
        } else {
            let total = *rt.cumulative.last().expect("mix");
            let u = rt.mix.random::<f64>() * total;
            rt.cumulative
                .partition_point(|&c| c <= u)
                .min(rt.entries.len() - 1)
        };
        let run_ms = job.run_time.sample(&mut rt.run_times);
        let (def, group) = (rt.entries[k].0, rt.entries[k].1);
        let c = job.cluster as u32;
        let tid = self.new_task(def, Owner::Job(j, k as u32), c, group, now, run_ms);
        let req = task_request(
            self.sc,
            def,
            group,
            &self.jobs[j as usize].entries[k].2,
            &job.strategy,
        );
        let found = self.clusters[c as usize].pc.find(&req);
        match found {
            Some(inst) => self.start_task(tid, inst, now, sched),
            None => match job.on_no_capacity {
                OnNoCapacity::Fail => {
                    let why = self.clusters[c as usize].pc.diagnose(&req);
                    let t = &mut self.tasks[tid as usize];
                    t.outcome = Outcome::FailedToPlace(why);
                    t.stopped = now;
                    self.tasks_failed += 1;
                    self.task_event(tid, now, TState::Stopped, TState::Stopped, why.code());
                }
                OnNoCapacity::Wait => {
                    self.set_state(tid, TState::Provisioning, now, "");
                    self.clusters[c as usize].waiting.push_back(tid);
                }
            },
        }
        self.schedule_arrival(j, sched);
    }

    fn service_event(&mut self, s: u32, now: u64, from: &str, to: &str, reason: &str) {
        emit(
            &mut self.sink,
            &mut self.hash,
            &mut self.state_changes,
            EventRecord {
                time_ms: now,
                kind: EventKind::Service,
                task: None,
                service: &self.sc.services[s as usize].name,
                job: "",
                instance: "",
                from,
                to,
                reason,
            },
        );
    }

    /// Bring a REPLICA service towards its desired count.
    fn reconcile(&mut self, s: u32, now: u64, sched: &mut Scheduler<Ev>) {
        let def = &self.sc.services[s as usize];
        let c = def.cluster;
        loop {
            let svc = &self.services[s as usize];
            let live = svc.live.len() as u32;
            if live >= svc.desired {
                break;
            }
            let req = task_request(
                self.sc,
                def.task_definition as u32,
                svc.group,
                &def.constraints,
                &def.strategy,
            );
            match self.clusters[c].pc.find(&req) {
                Some(inst) => {
                    let tid = self.new_task(
                        def.task_definition as u32,
                        Owner::Service(s),
                        c as u32,
                        svc.group,
                        now,
                        0,
                    );
                    self.start_task(tid, inst, now, sched);
                }
                None => {
                    self.service_failures += 1;
                    let why = self.clusters[c].pc.diagnose(&req);
                    if self.services[s as usize].failing != Some(why) {
                        // ECS suppresses identical service events until the cause changes (ECS-DG service-event-messages.html).
                        self.services[s as usize].failing = Some(why);
                        self.service_event(s, now, "", "UNABLE_TO_PLACE", why.code());
                    }
                    self.clusters[c].svc_deficit.insert(s);
                    return;
                }
            }
        }
        if self.services[s as usize].failing.take().is_some() {
            self.service_event(s, now, "UNABLE_TO_PLACE", "STEADY", "");
        }
        self.clusters[c].svc_deficit.remove(&s);
        // Scale in: one task at a time, each chosen by the strategy over the tasks left.
        while self.services[s as usize].live.len() as u32 > self.services[s as usize].desired {
            let svc = &self.services[s as usize];
            let cands: Vec<StopCandidate> = svc
                .live
                .iter()
                .map(|&t| {
                    let d = &self.sc.task_definitions[self.tasks[t as usize].def as usize];
                    StopCandidate {
                        instance: InstanceId(self.tasks[t as usize].instance),
                        cpu_units: d.cpu_units,
                        memory_mib: d.memory_mib,
                    }
                })
                .collect();
            let pick = self.clusters[c]
                .pc
                .choose_to_stop(svc.group, &def.strategy, &cands)
                .expect("live tasks");
            let tid = svc.live[pick];
            self.tasks_scaled_in += 1;
            self.stop_task(
                tid,
                Outcome::StoppedByScheduler,
                "ServiceSchedulerInitiated",
                now,
                sched,
            );
        }
    }

    /// Try to place every daemon of a cluster on one instance.
    fn place_daemons(&mut self, c: u32, inst: u32, now: u64, sched: &mut Scheduler<Ev>) {
        for k in 0..self.clusters[c as usize].daemons.len() {
            let s = self.clusters[c as usize].daemons[k];
            self.place_daemon(c, s, inst, now, sched, true);
        }
    }

    fn place_daemon(
        &mut self,
        c: u32,
        s: u32,
        inst: u32,
        now: u64,
        sched: &mut Scheduler<Ev>,
        first_time: bool,
    ) {
        let def = &self.sc.services[s as usize];
        let group = self.services[s as usize].group;
        let req = task_request(
            self.sc,
            def.task_definition as u32,
            group,
            &def.constraints,
            &[],
        );
        let cl = &mut self.clusters[c as usize];
        match cl.pc.check(InstanceId(inst), &req) {
            Ok(()) => {
                cl.daemon_missing.remove(&(s, inst));
                let tid = self.new_task(
                    def.task_definition as u32,
                    Owner::Service(s),
                    c,
                    group,
                    now,
                    0,
                );
                self.start_task(tid, InstanceId(inst), now, sched);
            }
            Err(PlacementFailure::DistinctInstance | PlacementFailure::MemberOf) => {
                if !first_time {
                    cl.daemon_missing.remove(&(s, inst));
                    self.services[s as usize].desired -= 1;
                }
            }
            Err(why) => {
                cl.daemon_missing.insert((s, inst));
                if first_time {
                    self.service_failures += 1;
                    self.service_event(s, now, "", "UNABLE_TO_PLACE", why.code());
                }
            }
        }
        if first_time
            && !matches!(
                self.clusters[c as usize].pc.check(InstanceId(inst), &req),
                Err(PlacementFailure::MemberOf)
            )
        {
            // Eligible instance (placed now or waiting for room): it counts towards the daemon's desired count.
            self.services[s as usize].desired += 1;
        }
    }

    fn retry(&mut self, c: u32, now: u64, sched: &mut Scheduler<Ev>) {
        self.clusters[c as usize].retry_scheduled = false;
        let missing: Vec<(u32, u32)> = self.clusters[c as usize]
            .daemon_missing
            .iter()
            .copied()
            .collect();
        for (s, inst) in missing {
            self.place_daemon(c, s, inst, now, sched, false);
        }
        let deficit: Vec<u32> = self.clusters[c as usize]
            .svc_deficit
            .iter()
            .copied()
            .collect();
        for s in deficit {
            self.reconcile(s, now, sched);
        }
        let n = self.clusters[c as usize].waiting.len();
        let mut failed: Vec<Owner> = Vec::new();
        for _ in 0..n {
            let tid = self.clusters[c as usize]
                .waiting
                .pop_front()
                .expect("n waiting");
            let t = &self.tasks[tid as usize];
            let owner = t.owner;
            if !failed.contains(&owner) {
                let Owner::Job(j, k) = owner else {
                    unreachable!("only standalone tasks wait")
                };
                let job = &self.sc.jobs[j as usize];
                let req = task_request(
                    self.sc,
                    t.def,
                    t.group,
                    &self.jobs[j as usize].entries[k as usize].2,
                    &job.strategy,
                );
                if let Some(inst) = self.clusters[c as usize].pc.find(&req) {
                    self.start_task(tid, inst, now, sched);
                    continue;
                }
                // Same job and definition means same needs: none of them fits in this pass.
                failed.push(owner);
            }
            self.clusters[c as usize].waiting.push_back(tid);
        }
    }

    fn instance_registered(&mut self, c: u32, i: u32, now: u64, sched: &mut Scheduler<Ev>) {
        let cl = &mut self.clusters[c as usize];
        cl.pc.set_status(InstanceId(i), InstanceStatus::Active, now);
        cl.insts[i as usize].state = IState::Active;
        self.n_launching -= 1;
        self.n_active += 1;
        let id = self.clusters[c as usize].insts[i as usize].ec2_id.as_str();
        emit(
            &mut self.sink,
            &mut self.hash,
            &mut self.state_changes,
            EventRecord {
                time_ms: now,
                kind: EventKind::Instance,
                task: None,
                service: "",
                job: "",
                instance: id,
                from: "LAUNCHING",
                to: "ACTIVE",
                reason: "",
            },
        );
        self.place_daemons(c, i, now, sched);
        self.request_retry(c, sched);
    }

    /// Whole-run invariants: no instance over-committed on CPU, memory, ports or ENIs; every
    /// task in exactly one state with the counters agreeing; no service above its maximum.
    pub fn check_invariants(&self) {
        #[derive(Clone, Default)]
        struct Used {
            cpu: u64,
            mem: u64,
            eni: u32,
            ports: Vec<u32>,
        }
        let mut per_inst: Vec<Vec<Used>> = self
            .clusters
            .iter()
            .map(|c| vec![Used::default(); c.insts.len()])
            .collect();
        let (mut prov, mut pend, mut run) = (0, 0, 0);
        for t in &self.tasks {
            match t.state {
                TState::Provisioning => prov += 1,
                TState::Pending => pend += 1,
                TState::Running => run += 1,
                TState::Stopped => {}
            }
            let placed = matches!(t.state, TState::Pending | TState::Running);
            assert_eq!(
                placed,
                t.instance != NO_INSTANCE && t.stopped == NONE,
                "task placement and state disagree: {t:?}"
            );
            if placed {
                let d = &self.sc.task_definitions[t.def as usize];
                let e = &mut per_inst[t.cluster as usize][t.instance as usize];
                e.cpu += u64::from(d.cpu_units);
                e.mem += u64::from(d.memory_mib);
                e.eni += u32::from(d.network_mode == NetworkMode::Awsvpc);
                e.ports.extend(d.host_ports.iter().copied());
            }
        }
        assert_eq!(
            (prov, pend, run),
            (self.n_prov, self.n_pending, self.n_running),
            "task state counters"
        );
        for (c, cl) in self.clusters.iter().enumerate() {
            for (
                i,
                Used {
                    cpu,
                    mem,
                    eni,
                    ports,
                },
            ) in per_inst[c].iter().enumerate()
            {
                let id = InstanceId(i as u32);
                let (tc, tm, te) = cl.pc.registered(id);
                let (ac, am, ae) = cl.pc.available(id);
                assert!(
                    *cpu <= u64::from(tc) && *mem <= u64::from(tm) && *eni <= te,
                    "instance {i} over-committed"
                );
                assert_eq!(
                    (u64::from(tc - ac), u64::from(tm - am), te - ae),
                    (*cpu, *mem, *eni),
                    "instance {i} accounting"
                );
                let mut p = ports.clone();
                p.sort_unstable();
                let n = p.len();
                p.dedup();
                assert_eq!(n, p.len(), "instance {i}: a host port is used twice");
                for port in &p {
                    assert!(
                        cl.pc.ports(id).contains(port),
                        "instance {i}: port {port} not reserved"
                    );
                }
            }
        }
        for (s, rt) in self.services.iter().enumerate() {
            let def = &self.sc.services[s];
            let max = (u64::from(rt.desired) * u64::from(def.maximum_percent) / 100)
                .max(u64::from(rt.desired));
            assert!(
                rt.live.len() as u64 <= max,
                "service {} runs {} tasks, above its maximum {max}",
                def.name,
                rt.live.len()
            );
            assert_eq!(
                rt.running + rt.pending,
                rt.live.len() as u32,
                "service {} counters",
                def.name
            );
        }
    }

    /// Write the final rows and task table, and return the summary.
    pub fn finish(mut self, stats: ecsim_engine::RunStats) -> (Summary, S) {
        let end = stats.end.ms();
        self.advance(end);
        while self.next_metrics_ms <= end {
            let t = self.next_metrics_ms;
            self.write_metrics(t);
            self.next_metrics_ms += self.sc.simulation.metrics_period_ms;
        }
        if !end.is_multiple_of(self.sc.simulation.metrics_period_ms) {
            self.write_metrics(end);
        }
        let stop_reason = match stats.reason {
            StopReason::EventLimit => "max_events",
            StopReason::TimeLimit => "max_time",
            StopReason::QueueEmpty => "no_work_left",
            StopReason::ModelStopped => self.stop_reason,
        };
        let mut never_placed = 0;
        let mut instance_ms: u128 = 0;
        for c in &self.clusters {
            for i in &c.insts {
                instance_ms += u128::from(end.saturating_sub(i.launched));
            }
        }
        for (tid, t) in self.tasks.iter().enumerate() {
            let c = &self.clusters[t.cluster as usize];
            let (service, job) = match t.owner {
                Owner::Service(s) => (self.sc.services[s as usize].name.as_str(), ""),
                Owner::Job(j, _) => ("", self.sc.jobs[j as usize].name.as_str()),
            };
            let (outcome, reason) = match (t.outcome, t.state) {
                (Outcome::Completed, _) => ("completed", "EssentialContainerExited"),
                (Outcome::FailedToPlace(w), _) => ("failed_to_place", w.code()),
                (Outcome::StoppedByScheduler, _) => {
                    ("stopped_by_scheduler", "ServiceSchedulerInitiated")
                }
                (Outcome::Open, TState::Provisioning) => {
                    never_placed += 1;
                    ("never_placed", "")
                }
                (Outcome::Open, TState::Running) => ("running_at_end", ""),
                (Outcome::Open, _) => ("pending_at_end", ""),
            };
            let opt = |v: u64| (v != NONE).then_some(v);
            let (instance, az) = if t.instance == NO_INSTANCE {
                ("", "")
            } else {
                let i = &c.insts[t.instance as usize];
                (i.ec2_id.as_str(), i.az.as_str())
            };
            let wait = if t.placed != NONE {
                t.placed - t.created
            } else if t.stopped != NONE {
                t.stopped - t.created
            } else {
                end - t.created
            };
            self.sink.task(&TaskRow {
                task_id: tid as u64,
                task_definition: &self.sc.task_definitions[t.def as usize].family,
                service,
                job,
                group: c.pc.group_name(t.group),
                cluster: &self.sc.clusters[t.cluster as usize].name,
                instance,
                availability_zone: az,
                created_ms: t.created,
                pending_ms: opt(t.placed),
                running_ms: opt(t.running),
                stopped_ms: opt(t.stopped),
                wait_ms: wait,
                outcome,
                reason,
            });
        }
        let pct = |a: u128, b: u128| {
            if b == 0 {
                0.0
            } else {
                100.0 * a as f64 / b as f64
            }
        };
        let summary = Summary {
            scenario: self.sc.name.clone(),
            seed: 0,
            sim_end_ms: end,
            stop_reason: stop_reason.to_string(),
            events_processed: stats.events_processed,
            state_changes: self.state_changes,
            tasks_created: self.tasks.len() as u64,
            tasks_started: self.tasks_started,
            tasks_completed: self.tasks_completed,
            tasks_failed_to_place: self.tasks_failed,
            tasks_never_placed: never_placed,
            tasks_stopped_by_scheduler: self.tasks_scaled_in,
            service_placement_failures: self.service_failures,
            mean_wait_ms: if self.waits == 0 {
                0.0
            } else {
                self.wait_sum as f64 / self.waits as f64
            },
            max_wait_ms: self.wait_max,
            mean_cpu_reserved_pct: pct(self.cpu_reserved_int, self.cpu_registered_int),
            mean_memory_reserved_pct: pct(self.mem_reserved_int, self.mem_registered_int),
            peak_instances: self.peak_instances,
            instance_hours: instance_ms as f64 / 3_600_000.0,
            events_hash: format!("{:016x}", self.hash.finish()),
            clusters: self
                .clusters
                .iter()
                .zip(&self.sc.clusters)
                .map(|(c, def)| ClusterSummary {
                    name: def.name.clone(),
                    mean_instances_in_use: if end == 0 {
                        0.0
                    } else {
                        c.acc.in_use as f64 / end as f64
                    },
                    peak_instances_in_use: u64::from(c.acc.peak_in_use),
                    mean_cpu_reserved_pct: pct(c.acc.cpu_reserved, c.acc.cpu_registered),
                    mean_memory_reserved_pct: pct(c.acc.mem_reserved, c.acc.mem_registered),
                })
                .collect(),
            wall_ms: 0,
        };
        (summary, self.sink)
    }
}

fn emit<S: Sink>(sink: &mut S, hash: &mut StableHasher, n: &mut u64, e: EventRecord<'_>) {
    *n += 1;
    hash.write_u64(e.time_ms);
    hash.write_u64(e.kind as u64);
    hash.write_u64(e.task.unwrap_or(NONE));
    hash.write_str(e.service);
    hash.write_str(e.job);
    hash.write_str(e.instance);
    hash.write_str(e.from);
    hash.write_str(e.to);
    hash.write_str(e.reason);
    sink.event(&e);
}

impl<S: Sink> Model for Simulation<'_, S> {
    type Event = Ev;

    fn handle(&mut self, ev: Ev, sched: &mut Scheduler<Ev>) -> Control {
        let now = sched.now().ms();
        self.advance(now);
        match ev {
            Ev::End => {
                self.stop_reason = "duration";
                return Control::Stop;
            }
            Ev::InstanceRegistered { cluster, instance } => {
                self.open_work -= 1;
                self.instance_registered(cluster, instance, now, sched);
            }
            Ev::Arrival { job } => {
                self.open_work -= 1;
                self.arrival(job, now, sched);
            }
            Ev::TaskRunning { task } => {
                self.open_work -= 1;
                self.task_running(task, now, sched);
            }
            Ev::TaskExited { task } => {
                self.open_work -= 1;
                self.tasks_completed += 1;
                self.stop_task(
                    task,
                    Outcome::Completed,
                    "EssentialContainerExited",
                    now,
                    sched,
                );
            }
            Ev::Retry { cluster } => {
                self.open_work -= 1;
                self.retry(cluster, now, sched);
            }
            Ev::Action { action } => {
                self.open_work -= 1;
                match self.sc.actions[action as usize].kind {
                    ActionKind::SetDesiredCount {
                        service,
                        desired_count,
                    } => {
                        let old = self.services[service].desired;
                        self.services[service].desired = desired_count;
                        let (from, to) = (old.to_string(), desired_count.to_string());
                        self.service_event(service as u32, now, &from, &to, "DesiredCountChanged");
                        self.reconcile(service as u32, now, sched);
                    }
                }
            }
        }
        if self.check {
            self.check_invariants();
        }
        if self.sc.simulation.duration_ms.is_none() && self.open_work == 0 {
            return Control::Stop;
        }
        Control::Continue
    }
}

/// Run a scenario to the end and return its summary (with `wall_ms` left at 0) and the sink.
pub fn run<S: Sink>(sc: &Scenario, opts: RunOptions, sink: S) -> (Summary, S) {
    let mut sched = Scheduler::new();
    let mut sim = Simulation::new(sc, opts, sink, &mut sched);
    let limits = Limits {
        max_events: sc.simulation.max_events,
        max_time: SimTime::from_ms(sc.simulation.max_time_ms),
    };
    let stats = ecsim_engine::run(&mut sim, &mut sched, limits);
    let (mut summary, sink) = sim.finish(stats);
    summary.seed = opts.seed;
    (summary, sink)
}
