//! Task launch: which capacity provider a new task goes to, and how it gets there.
//!
//! * **Launch type EC2.** If an instance can take the task it is placed at once (PENDING). If
//!   nothing fits the launch fails and the caller decides: a standalone task fails at once
//!   (`on_no_capacity = "fail"`, RunTask semantics) or waits in PROVISIONING (`"wait"`); a
//!   service records `UNABLE_TO_PLACE` and retries when capacity changes, creating no task
//!   (ECS-DG `service-event-messages.html`).
//! * **Auto Scaling group capacity provider.** Placement is restricted to the group's instances;
//!   a task that does not fit is accepted and waits in PROVISIONING in its cluster's wait queue
//!   until capacity frees or arrives (ECS-DG `asg-capacity-providers.html`).
//! * **Fargate** (launch type, `FARGATE`, `FARGATE_SPOT`). The task is PROVISIONING while the
//!   account's launch-rate token bucket lets it through and `fargate.provisioning_delay` passes,
//!   then PENDING while the image is pulled (`fargate.image_pull_delay`; billing starts here),
//!   then RUNNING. Its AZ: see [`fargate`].
//!
//! A capacity provider strategy chooses the provider first: see [`provider_strategy`].
//!
//! Standalone tasks are launched by RunTask calls, which the API rate-limits (ecs-semantics 3.3:
//! 20 calls per second, up to 10 tasks per call: a job's tasks arriving at the same instant share
//! calls); a throttled call is retried as soon as the bucket allows, in order
//! ([`Launcher::run_task_call`]; `settings.run_task_rate_limit`).
//!
//! The launcher owns the launch specs, the token bucket, its random streams (`fargate-delays`,
//! `fargate-az`) and the wait queues; the tasks themselves are created and placed by the core.

pub(crate) mod fargate;
pub(crate) mod provider_strategy;
pub(crate) mod wait;

use ecsim_engine::{Scheduler, SimTime, Stream, Streams};
use ecsim_placement::{Constraint, GroupId, InstanceId, PlacementFailure, Strategy};
use rand::RngExt;

use crate::core::{Attempt, Core, NewTask, Runs, owner_name, sized, task_request};
use crate::ids::{ClusterId, DefId, JobId, Owner, TaskId};
use crate::record::{DecisionRecord, Sink};
use crate::scenario::{LaunchSpec, ProviderKind, Scenario};
use crate::sim::event::*;
use fargate::TokenBucket;
use provider_strategy::{Share, choose_item, shrink_item};
use std::fmt::Write as _;
use wait::{Needs, WaitQueue};

/// The constraints plus `memberOf(attribute:ecs.availability-zone == AZ)`.
fn az_constraint(constraints: &[Constraint], az: &str) -> Vec<Constraint> {
    let expr = ecsim_placement::Expr::parse(&format!(
        "attribute:{} == {az}",
        ecsim_placement::AZ_ATTRIBUTE
    ))
    .expect("an AZ name is a valid value");
    let mut v = constraints.to_vec();
    v.push(Constraint::MemberOf(expr));
    v
}

/// The request's constraints, plus one keeping it in `req.az` when it names an AZ.
#[inline]
fn constraints_in<'a>(req: &Request<'a>) -> std::borrow::Cow<'a, [Constraint]> {
    match req.az {
        None => std::borrow::Cow::Borrowed(req.constraints),
        Some(az) => std::borrow::Cow::Owned(az_constraint(req.constraints, az)),
    }
}

/// Tasks one RunTask call may launch (ECS-API RunTask `count`: at most 10).
const TASKS_PER_RUN_TASK_CALL: u32 = 10;

/// Where a strategy item sends tasks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    /// A placement pool (an Auto Scaling group provider), or `None`: any instance.
    Pool(Option<u32>),
    Fargate {
        spot: bool,
    },
}

/// One item of an owner's capacity provider strategy, resolved.
#[derive(Debug, Clone, Copy)]
struct Item {
    /// Global capacity provider index.
    provider: u16,
    /// Index in the cluster's capacity providers (for its name).
    local: u16,
    share: Share,
    target: Target,
}

/// How an owner launches tasks.
#[derive(Debug, Clone)]
enum LaunchKind {
    Ec2,
    Fargate,
    /// The items, and their shares (kept apart for the choice).
    Strategy(Vec<Item>, Vec<Share>),
}

/// A task to launch.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Request<'a> {
    pub(crate) owner: Owner,
    pub(crate) cluster: ClusterId,
    pub(crate) def: DefId,
    pub(crate) group: GroupId,
    pub(crate) constraints: &'a [Constraint],
    pub(crate) strategy: &'a [Strategy],
    pub(crate) run_ms: u64,
    /// CPU units and MiB when not the definition's (a trace row's size).
    pub(crate) size: Option<(u32, u32)>,
    /// Only in this Availability Zone (Availability Zone rebalancing): on EC2 an extra
    /// `memberOf(attribute:ecs.availability-zone == AZ)` constraint, and the task never waits
    /// for capacity; on Fargate the task's AZ.
    pub(crate) az: Option<&'a str>,
    /// AZs that are down (an outage): Fargate launches no task there.
    pub(crate) azs_down: &'a [String],
}

/// What a launch did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Launched {
    /// Created; the caller places it on the instance.
    Placed(TaskId, InstanceId),
    /// Waits in PROVISIONING for capacity of its provider.
    Queued(TaskId),
    /// On its way to Fargate (`FargateProvisioned` is scheduled).
    Fargate(TaskId),
}

/// The owner, pool, size (CPU units, MiB) and reason of the last task queued in a cluster.
type LastQueued = (Owner, Option<u32>, (u32, u32), PlacementFailure);

/// What decides a launch's placement request when it names no AZ: owner (constraints,
/// strategy), task definition, group, pool and size.
type RequestKey = (Owner, DefId, GroupId, Option<u32>, (u32, u32));

/// The last launch in a cluster that found no instance: its request, the cluster's change count
/// then ([`ecsim_placement::Cluster::changes`]) and the reason. A launch with the same request
/// before anything changes fails the same way: a row of thousands of trace tasks arriving at
/// once while the cluster is full searches and diagnoses once, not once per task.
type LastFailed = (RequestKey, u64, PlacementFailure);

/// The launcher: launch specs, Fargate's token bucket and delays, and the wait queues.
#[derive(Clone)]
pub(crate) struct Launcher {
    /// Per owner: services, then jobs.
    kinds: Vec<LaunchKind>,
    bucket: TokenBucket,
    /// The RunTask API's rate limit for standalone tasks (`None`: not applied).
    run_task: Option<TokenBucket>,
    /// The last RunTask call: its job, instant, tasks and wait (a call takes up to 10 tasks).
    last_call: Option<(JobId, SimTime, u32, u64)>,
    fargate_delays: Stream,
    fargate_az: Stream,
    /// Per cluster: tasks waiting in PROVISIONING for an instance, first come first served.
    waiting: Vec<WaitQueue>,
    /// Per cluster: the owner, pool, size and reason of the last task queued (a task with the same
    /// needs queued while others still wait gets the same reason, without a new diagnosis).
    last_queued: Vec<Option<LastQueued>>,
    /// Per cluster: the last launch that found no instance.
    last_failed: Vec<Option<LastFailed>>,
}

fn resolve(
    sc: &Scenario,
    provider_ids: &[Vec<u16>],
    cluster: usize,
    spec: &LaunchSpec,
) -> LaunchKind {
    let c = &sc.clusters[cluster];
    match spec {
        LaunchSpec::Ec2 => LaunchKind::Ec2,
        LaunchSpec::Fargate => LaunchKind::Fargate,
        LaunchSpec::Strategy(items) => {
            let items: Vec<Item> = items
                .iter()
                .map(|it| Item {
                    provider: provider_ids[cluster][it.provider],
                    local: it.provider as u16,
                    share: Share {
                        base: it.base,
                        weight: it.weight,
                    },
                    target: match c.capacity_providers[it.provider].kind {
                        ProviderKind::Asg { .. } => Target::Pool(Some(it.provider as u32 + 1)),
                        ProviderKind::Fargate => Target::Fargate { spot: false },
                        ProviderKind::FargateSpot => Target::Fargate { spot: true },
                    },
                })
                .collect();
            let shares = items.iter().map(|i| i.share).collect();
            LaunchKind::Strategy(items, shares)
        }
    }
}

impl Launcher {
    /// The launch specs of every service and job.
    pub(crate) fn new(sc: &Scenario, provider_ids: &[Vec<u16>], streams: &Streams) -> Self {
        let kinds = sc
            .services
            .iter()
            .map(|s| resolve(sc, provider_ids, s.cluster, &s.launch))
            .chain(
                sc.jobs
                    .iter()
                    .map(|j| resolve(sc, provider_ids, j.cluster, &j.launch)),
            )
            .collect();
        let fg = &sc.fargate;
        Launcher {
            kinds,
            bucket: TokenBucket::new(
                fg.launch_rate_limit,
                fg.launch_burst,
                fg.launch_refill_per_s,
            ),
            run_task: sc
                .settings
                .run_task_rate
                .map(|r| TokenBucket::new(true, r.burst, r.calls_per_s)),
            last_call: None,
            fargate_delays: streams.stream("fargate-delays"),
            fargate_az: streams.stream("fargate-az"),
            waiting: vec![WaitQueue::default(); sc.clusters.len()],
            last_queued: vec![None; sc.clusters.len()],
            last_failed: vec![None; sc.clusters.len()],
        }
    }

    /// Take a fork's capacity provider strategies (the same providers, other bases and weights).
    pub(crate) fn reconfigure(&mut self, sc: &Scenario, provider_ids: &[Vec<u16>]) {
        let fresh = Self::new(sc, provider_ids, &Streams::new(0));
        self.kinds = fresh.kinds;
    }

    /// Whether a task of this request would be placed (or sent to Fargate) now, without
    /// launching it: the provider the strategy would choose, then placement's answer.
    pub(crate) fn would_place<S: Sink>(&self, core: &Core<'_, S>, req: &Request<'_>) -> bool {
        let Target::Pool(pool) = self.choose(core, req.owner).0 else {
            return true;
        };
        let constraints = constraints_in(req);
        let preq = sized(
            task_request(
                core.sc,
                req.def,
                req.group,
                &constraints,
                req.strategy,
                pool,
            ),
            req.size,
        );
        core.cluster(req.cluster).pc.can_place(&preq)
    }

    /// The strategy item a new task of `owner` goes to: its target, global provider index and
    /// item index.
    #[inline]
    fn choose<S: Sink>(&self, core: &Core<'_, S>, owner: Owner) -> (Target, u16, Option<u8>) {
        let counts = &core.owner_counts(owner).items;
        match &self.kinds[owner.index(core.sc.services.len())] {
            LaunchKind::Ec2 => (Target::Pool(None), 0, None),
            LaunchKind::Fargate => (Target::Fargate { spot: false }, 0, None),
            LaunchKind::Strategy(items, shares) => {
                let k = choose_item(shares, counts);
                (items[k].target, items[k].provider, Some(k as u8))
            }
        }
    }

    /// Launch one task: choose the provider, then place it, send it to Fargate, or queue it.
    /// `Err` only for launch type EC2 when nothing fits (the caller decides what follows).
    pub(crate) fn launch<S: Sink>(
        &mut self,
        core: &mut Core<'_, S>,
        req: &Request<'_>,
        now: SimTime,
        sched: &mut Scheduler<Ev>,
    ) -> Result<Launched, PlacementFailure> {
        let (target, provider, item) = self.choose(core, req.owner);
        // Explained before the launch: the counts the choice read.
        let why = match item {
            Some(k) if core.out.sink.explains() => Some(self.provider_why(core, req, k)),
            _ => None,
        };
        let launched = self.launch_to(core, req, (target, provider, item), now, sched);
        if let Some((reason, chosen, details)) = why {
            let task = match launched {
                Ok(Launched::Placed(t, _) | Launched::Queued(t) | Launched::Fargate(t)) => {
                    Some(t.index() as u64)
                }
                Err(_) => None,
            };
            core.out.sink.decision(&DecisionRecord {
                time_ms: now.ms(),
                kind: "capacity_provider",
                subject: owner_name(core.sc, req.owner),
                task,
                chosen,
                reason,
                details: &details,
            });
        }
        launched
    }

    /// Why a new task of the request's owner goes to strategy item `k`: `base` (an item below
    /// its base, the first listed) or `weight` (the item furthest below its weighted share of
    /// the tasks beyond the bases); the item's provider; and the counts the choice read:
    /// `provider:live/base/weight` per item, `|`-separated.
    fn provider_why<'sc, S: Sink>(
        &self,
        core: &Core<'sc, S>,
        req: &Request<'_>,
        k: u8,
    ) -> (&'static str, &'sc str, String) {
        let sc = core.sc;
        let counts = &core.owner_counts(req.owner).items;
        let LaunchKind::Strategy(items, shares) = &self.kinds[req.owner.index(sc.services.len())]
        else {
            unreachable!("an item comes from a strategy")
        };
        let k = k as usize;
        let reason = if counts[k] < shares[k].base {
            "base"
        } else {
            "weight"
        };
        let cdef = &sc.clusters[req.cluster.index()];
        let mut details = String::from("items=");
        for (j, it) in items.iter().enumerate() {
            if j > 0 {
                details.push('|');
            }
            let name = &cdef.capacity_providers[it.local as usize].name;
            let (base, weight) = (it.share.base, it.share.weight);
            let _ = write!(details, "{name}:{}/{base}/{weight}", counts[j]);
        }
        let chosen = &cdef.capacity_providers[items[k].local as usize].name;
        (reason, chosen, details)
    }

    /// Launch one task on the chosen target (see [`Launcher::launch`]).
    #[inline]
    fn launch_to<S: Sink>(
        &mut self,
        core: &mut Core<'_, S>,
        req: &Request<'_>,
        (target, provider, item): (Target, u16, Option<u8>),
        now: SimTime,
        sched: &mut Scheduler<Ev>,
    ) -> Result<Launched, PlacementFailure> {
        let new = |runs| NewTask {
            def: req.def,
            owner: req.owner,
            cluster: req.cluster,
            group: req.group,
            run_ms: req.run_ms,
            size: req.size,
            runs,
            provider,
            item,
        };
        match target {
            Target::Pool(pool) => {
                let constraints = constraints_in(req);
                let preq = sized(
                    task_request(
                        core.sc,
                        req.def,
                        req.group,
                        &constraints,
                        req.strategy,
                        pool,
                    ),
                    req.size,
                );
                let size = (preq.cpu_units, preq.memory_mib);
                let cl = &core.cluster(req.cluster).pc;
                let key = (req.owner, req.def, req.group, pool, size);
                let explains = core.out.sink.explains();
                // A search known to fail is skipped only where it would change nothing: no
                // explanation written, no AZ named (a failed search draws nothing).
                let known = match self.last_failed[req.cluster.index()] {
                    Some((k, changes, why))
                        if k == key && changes == cl.changes() && req.az.is_none() && !explains =>
                    {
                        Some(why)
                    }
                    _ => None,
                };
                let found = if known.is_some() {
                    None
                } else {
                    cl.find(&preq)
                };
                match found {
                    Some(inst) => {
                        let tid = core.new_task(new(Runs::Ec2 { pool }), now);
                        if explains {
                            let why = Attempt::Placed(inst);
                            core.explain_placement(
                                now,
                                req.cluster,
                                req.owner,
                                Some(tid),
                                &preq,
                                why,
                                None,
                            );
                        }
                        Ok(Launched::Placed(tid, inst))
                    }
                    None if pool.is_none() || req.az.is_some() => {
                        let why = known.unwrap_or_else(|| cl.diagnose(&preq));
                        self.remember_failure(req.cluster, key, cl.changes(), why, req.az);
                        let a = Attempt::Failed(why);
                        core.explain_placement(now, req.cluster, req.owner, None, &preq, a, None);
                        Err(why)
                    }
                    None => {
                        // A capacity provider accepts the task; it waits in PROVISIONING, with
                        // the reason the closest instance gave (ecs-semantics 1.7).
                        let why = match self.last_queued[req.cluster.index()] {
                            Some((o, p, s, why))
                                if o == req.owner
                                    && p == pool
                                    && s == size
                                    && !self.waiting[req.cluster.index()].is_empty() =>
                            {
                                why
                            }
                            _ => {
                                let why = known.unwrap_or_else(|| cl.diagnose(&preq));
                                self.remember_failure(req.cluster, key, cl.changes(), why, req.az);
                                why
                            }
                        };
                        let tid = core.new_task(new(Runs::Ec2 { pool }), now);
                        let a = Attempt::Failed(why);
                        core.explain_placement(
                            now,
                            req.cluster,
                            req.owner,
                            Some(tid),
                            &preq,
                            a,
                            None,
                        );
                        core.provision(tid, now, Some(why));
                        self.enqueue(core, tid, why);
                        Ok(Launched::Queued(tid))
                    }
                }
            }
            Target::Fargate { spot } => {
                let az = self.fargate_az(core, req);
                let tid = core.new_task(new(Runs::Fargate { spot, az }), now);
                core.provision(tid, now, None);
                let wait = self.bucket.take(now.ms());
                if wait > 0 {
                    core.counters.tasks_waited += 1;
                }
                let delay = wait
                    + core
                        .sc
                        .fargate
                        .provisioning_delay
                        .sample(&mut self.fargate_delays);
                core.work_added();
                sched.schedule_in(delay, Ev::Lifecycle(LifecycleEv::FargateProvisioned(tid)));
                Ok(Launched::Fargate(tid))
            }
        }
    }

    /// Keep a failed launch's answer while the cluster does not change (not for a launch in one
    /// AZ: its request has one more constraint).
    fn remember_failure(
        &mut self,
        c: ClusterId,
        key: RequestKey,
        changes: u64,
        why: PlacementFailure,
        az: Option<&str>,
    ) {
        if az.is_none() {
            self.last_failed[c.index()] = Some((key, changes, why));
        }
    }

    /// RunTask for a task of job `j` at `now`: how long the caller must wait before the call
    /// goes through (0: at once), and whether this task made a new call (a job's tasks at the
    /// same instant share a call, up to 10 per call). Calls go through in the order made.
    pub(crate) fn run_task_call(&mut self, j: JobId, now: SimTime) -> (u64, bool) {
        let Some(bucket) = self.run_task.as_mut() else {
            return (0, false);
        };
        if let Some((j0, t0, n, wait)) = &mut self.last_call
            && *j0 == j
            && *t0 == now
            && *n < TASKS_PER_RUN_TASK_CALL
        {
            *n += 1;
            return (*wait, false);
        }
        let wait = bucket.take(now.ms());
        self.last_call = Some((j, now, 1, wait));
        (wait, true)
    }

    /// The AZ of a new Fargate task: the least loaded of the owner's AZs that are up (or the one
    /// the request names), ties drawn at random.
    fn fargate_az<S: Sink>(&mut self, core: &Core<'_, S>, req: &Request<'_>) -> u16 {
        let sc = core.sc;
        let azs = match req.owner {
            Owner::Service(s) => &sc.services[s.index()].availability_zones,
            Owner::Job(j, _) => &sc.jobs[j.index()].availability_zones,
        };
        let open: Vec<bool> = azs
            .iter()
            .map(|a| match req.az {
                Some(only) => a == only,
                None => !req.azs_down.contains(a),
            })
            .collect();
        let ties = fargate::least_loaded_azs(&core.owner_counts(req.owner).fargate_az, &open);
        (if ties.len() == 1 {
            ties[0]
        } else {
            ties[self.fargate_az.random_range(0..ties.len())]
        }) as u16
    }

    /// Queue a PROVISIONING EC2 task for capacity; `why` nothing can hold it now.
    pub(crate) fn enqueue<S: Sink>(
        &mut self,
        core: &mut Core<'_, S>,
        tid: TaskId,
        why: PlacementFailure,
    ) {
        let t = core.task(tid);
        let Runs::Ec2 { pool } = t.runs else {
            unreachable!("only EC2 tasks wait for instances")
        };
        let c = t.cluster.index();
        self.last_queued[c] = Some((t.owner, pool, (t.cpu_units, t.memory_mib), why));
        let needs = Needs {
            owner: t.owner,
            pool,
            cpu_units: t.cpu_units,
            memory_mib: t.memory_mib,
        };
        self.waiting[c].push(needs, tid);
        core.counters.waited_for_capacity(why);
    }

    /// A queued task stopped: it no longer waits.
    pub(crate) fn forget(&mut self, c: ClusterId, tid: TaskId) {
        self.waiting[c.index()].remove(tid);
    }

    /// The tasks waiting in a cluster, first come first served.
    pub(crate) fn waiting(&self, c: ClusterId) -> &WaitQueue {
        &self.waiting[c.index()]
    }

    /// The tasks waiting in a cluster, for a retry pass to take the ones it places.
    pub(crate) fn waiting_mut(&mut self, c: ClusterId) -> &mut WaitQueue {
        &mut self.waiting[c.index()]
    }

    /// The image pull time of a Fargate task that just got its ENI.
    pub(crate) fn image_pull_delay(&mut self, sc: &Scenario) -> u64 {
        sc.fargate.image_pull_delay.sample(&mut self.fargate_delays)
    }

    /// The strategy item a service should give a task back from on scale-in, when it spreads
    /// over more than one provider.
    pub(crate) fn shrink_item(&self, owner_index: usize, counts: &[u32]) -> Option<u8> {
        match &self.kinds[owner_index] {
            LaunchKind::Strategy(items, shares) if items.len() > 1 => {
                Some(shrink_item(shares, counts) as u8)
            }
            _ => None,
        }
    }
}
