//! Container instances: their record, their states, and the core's instance mutators (launch,
//! register, drain, fail, terminate), which keep placement's view of each instance in step.
//!
//! An instance moves LAUNCHING → ACTIVE → (DRAINING →) STOPPED; it may stop from any state.
//! Placement's status is set here and nowhere else, from the same transition.

use ecsim_engine::{Scheduler, SimTime};
use ecsim_placement::{AZ_ATTRIBUTE, InstanceId, InstanceSpec, InstanceStatus, TaskRequest};

use super::Core;
use crate::billing::Ec2Target;
use crate::ids::{ClusterId, InstanceRef};
use crate::pricing;
use crate::record::{EventKind, EventRecord, Sink};
use crate::scenario::{ProviderKind, PurchaseOption};
use crate::sim::event::*;

/// An instance's state (ECS container instance status; LAUNCHING before it registers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum InstanceState {
    Launching,
    Active,
    Draining,
    Stopped,
}

impl InstanceState {
    /// The name written in events.csv.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            InstanceState::Launching => "LAUNCHING",
            InstanceState::Active => "ACTIVE",
            InstanceState::Draining => "DRAINING",
            InstanceState::Stopped => "STOPPED",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// One container instance.
#[derive(Debug, Clone)]
pub(crate) struct Instance {
    pub(crate) ec2_id: String,
    /// `ec2_id` as the events hash folds it in ([`ecsim_engine::str_words`]): an id is always
    /// "i-" and 17 hex digits, 19 bytes, so four words, kept in the record (no pointer to
    /// follow at every task event).
    pub(crate) ec2_id_words: [u64; 4],
    pub(crate) az: String,
    pub(crate) state: InstanceState,
    pub(crate) launched: SimTime,
    pub(crate) stopped_at: Option<SimTime>,
    /// Index of its group in the cluster.
    pub(crate) group: u16,
    /// Tasks of REPLICA services and jobs on it (daemon tasks do not make it busy).
    pub(crate) busy_tasks: u32,
    /// Failed: its agent is gone, and ECS has not noticed yet.
    pub(crate) failed: bool,
    /// Has an EC2 Spot interruption notice.
    pub(crate) spot_notice: bool,
    /// To be terminated (with this reason) once its STOPPING tasks are STOPPED.
    pub(crate) terminating: Option<&'static str>,
    /// Global capacity provider index (0: none).
    pub(crate) provider: u16,
    pub(crate) spot: bool,
    /// Pico-dollars per hour (before any Spot price factor), EBS included.
    pub(super) rate: u128,
    pub(super) last_bill: SimTime,
    /// (owner index, cpu units, memory MiB) reserved on it.
    /// Inline up to two owners (the usual case), so that the accrual and `reserve`/`release`
    /// find them in the record itself.
    pub(super) owners: smallvec::SmallVec<[(u32, u32, u32); 2]>,
}

impl Instance {
    /// CPU units reserved on it, summed over its owners.
    pub(crate) fn reserved_cpu(&self) -> u64 {
        self.owners.iter().map(|o| u64::from(o.1)).sum()
    }

    /// No task holds resources on it (STOPPING tasks do).
    pub(crate) fn owners_empty(&self) -> bool {
        self.owners.is_empty()
    }

    /// ACTIVE or DRAINING, and not failed.
    pub(crate) fn usable(&self) -> bool {
        matches!(self.state, InstanceState::Active | InstanceState::Draining) && !self.failed
    }
}

/// A cluster's instances and placement state.
#[derive(Clone)]
pub(crate) struct ClusterState {
    /// Placement's view: free resources, indexes, groups.
    pub(crate) pc: ecsim_placement::Cluster,
    pub(crate) insts: Vec<Instance>,
    /// Instances launched so far per group (round-robin position for AZ and type).
    group_launched: Vec<u32>,
    /// Instances with at least one non-daemon task.
    pub(crate) busy: u32,
    /// Most instances in use at once.
    pub(crate) peak_in_use: u32,
}

impl ClusterState {
    pub(super) fn new(pc: ecsim_placement::Cluster, groups: usize) -> Self {
        ClusterState {
            pc,
            insts: Vec::new(),
            group_launched: vec![0; groups],
            busy: 0,
            peak_in_use: 0,
        }
    }
}

impl<S: Sink> Core<'_, S> {
    /// One instance.
    pub(crate) fn instance(&self, r: InstanceRef) -> &Instance {
        &self.clusters[r.cluster.index()].insts[r.id.0 as usize]
    }

    fn instance_mut(&mut self, r: InstanceRef) -> &mut Instance {
        &mut self.clusters[r.cluster.index()].insts[r.id.0 as usize]
    }

    /// Instances by state.
    pub(crate) fn instances_in(&self, s: InstanceState) -> u32 {
        self.inst_counts[s.index()]
    }

    fn set_instance_state(&mut self, r: InstanceRef, to: InstanceState, now: SimTime) {
        let from = self.instance(r).state;
        self.inst_counts[from.index()] -= 1;
        self.inst_counts[to.index()] += 1;
        self.instance_mut(r).state = to;
        let status = match to {
            InstanceState::Launching => InstanceStatus::Registering,
            InstanceState::Active => InstanceStatus::Active,
            InstanceState::Draining => InstanceStatus::Draining,
            InstanceState::Stopped => InstanceStatus::Deregistered,
        };
        self.clusters[r.cluster.index()]
            .pc
            .set_status(r.id, status, now.ms());
    }

    /// Record an instance's state change (the instance is named by its EC2 id).
    fn instance_event(&mut self, now: SimTime, r: InstanceRef, from: &str, to: &str, reason: &str) {
        let id = self.clusters[r.cluster.index()].insts[r.id.0 as usize]
            .ec2_id
            .as_str();
        self.out.emit(EventRecord {
            time_ms: now.ms(),
            kind: EventKind::Instance,
            task: None,
            service: "",
            job: "",
            instance: id,
            from,
            to,
            reason,
        });
    }

    /// Launch one instance of a group: it is LAUNCHING, billed from now, and registers after the
    /// group's launch delay (plus `settings.trunk_eni_delay` when it gets a trunk ENI: ENI
    /// trunking on for its cluster since before now, on a type that supports it). Instance k of a group goes to AZ `k mod n` and type `k mod m`,
    /// skipping AZs in `az_down` (an Auto Scaling group launches into its AZs in turn).
    pub(crate) fn launch_instance(
        &mut self,
        c: ClusterId,
        g: usize,
        az_down: &[String],
        now: SimTime,
        sched: &mut Scheduler<Ev>,
    ) -> InstanceRef {
        let sc = self.sc;
        let cdef = &sc.clusters[c.index()];
        let gdef = &cdef.groups[g];
        let azs = &gdef.availability_zones;
        let launched = &mut self.clusters[c.index()].group_launched[g];
        let mut k = *launched as usize;
        for _ in 0..azs.len() {
            if !az_down.contains(&azs[k % azs.len()]) {
                break;
            }
            k += 1;
            *launched += 1;
        }
        *launched += 1;
        self.next_instance += 1;
        let ty = &sc.instance_types[gdef.instance_types[k % gdef.instance_types.len()]];
        let az = azs[k % azs.len()].clone();
        let ec2_id = format!("i-{:017x}", self.next_instance);
        let provider_k = cdef
            .capacity_providers
            .iter()
            .position(|p| p.kind == ProviderKind::Asg { group: g });
        let pool = provider_k.map_or(0, |k| k as u32 + 1);
        let provider = provider_k.map_or(0, |k| self.billing.cluster_provider_ids[c.index()][k]);
        let mut attributes = vec![
            (AZ_ATTRIBUTE.to_string(), az.clone()),
            ("ecs.instance-type".to_string(), ty.name.clone()),
            ("ecs.os-type".to_string(), gdef.os.os_type().to_string()),
            ("ecs.os-family".to_string(), gdef.os.as_str().to_string()),
            ("ecs.cpu-architecture".to_string(), ty.architecture.clone()),
            ("ecs.ami-id".to_string(), "ami-ecsim".to_string()),
        ];
        let awsvpc = ty.awsvpc_task_limit(sc.settings.awsvpc_trunking_since(cdef), now.ms());
        if awsvpc.trunk {
            // The agent reports the trunk ENI's id (ECS-DG container-instance-eni.html).
            attributes.push((
                "ecs.awsvpc-trunk-id".to_string(),
                format!("eni-{:017x}", self.next_instance),
            ));
        }
        attributes.extend(gdef.attributes.iter().cloned());
        let id = self.clusters[c.index()].pc.add_instance(InstanceSpec {
            ec2_instance_id: ec2_id.clone(),
            cpu_units: ty.cpu_units,
            memory_mib: sc.registered_memory_mib(gdef, ty),
            eni_tasks: awsvpc.tasks,
            attributes,
            agent_version: sc.settings.agent_version.clone(),
            pool,
        });
        let spot = gdef.purchase_option == PurchaseOption::Spot;
        let rate = self.billing.instance_rate(sc, ty, spot);
        self.billing.instance_up(provider, spot, rate, now);
        self.clusters[c.index()].insts.push(Instance {
            ec2_id_words: ecsim_engine::str_words(&ec2_id)
                .try_into()
                .expect("an instance id is 19 bytes: four words"),
            ec2_id,
            az,
            state: InstanceState::Launching,
            launched: now,
            stopped_at: None,
            group: g as u16,
            busy_tasks: 0,
            failed: false,
            spot_notice: false,
            terminating: None,
            provider,
            spot,
            rate,
            last_bill: now,
            owners: smallvec::SmallVec::new(),
        });
        self.inst_counts[InstanceState::Launching.index()] += 1;
        let mut delay = gdef.launch_delay.sample(&mut self.launch_delays);
        if awsvpc.trunk {
            // REGISTERING until the trunk ENI exists (ECS-DG container-instance-eni.html); how
            // long that takes AWS does not document (`settings.trunk_eni_delay`).
            delay += sc.settings.trunk_eni_delay.sample(&mut self.trunk_delays);
        }
        let live = u64::from(
            self.instances_in(InstanceState::Launching) + self.instances_in(InstanceState::Active),
        );
        self.counters.peak_instances = self.counters.peak_instances.max(live);
        let r = InstanceRef::new(c, id);
        self.instance_event(now, r, "", "LAUNCHING", "");
        self.open_work += 1;
        sched.schedule_in(delay, Ev::Lifecycle(LifecycleEv::InstanceRegistered(r)));
        r
    }

    /// A launching instance registers and becomes ACTIVE. False if it stopped meanwhile.
    pub(crate) fn register(&mut self, r: InstanceRef, now: SimTime) -> bool {
        if self.instance(r).state == InstanceState::Stopped {
            return false;
        }
        self.accrue_instance(r, now);
        self.set_instance_state(r, InstanceState::Active, now);
        self.instance_event(now, r, "LAUNCHING", "ACTIVE", "");
        true
    }

    /// Set an ACTIVE instance DRAINING. False if it is not ACTIVE.
    pub(crate) fn drain(&mut self, r: InstanceRef, reason: &str, now: SimTime) -> bool {
        if self.clusters[r.cluster.index()].pc.status(r.id) != InstanceStatus::Active {
            return false;
        }
        self.accrue_instance(r, now);
        self.set_instance_state(r, InstanceState::Draining, now);
        self.instance_event(now, r, "ACTIVE", "DRAINING", reason);
        true
    }

    /// The instance dies: its agent is gone and nothing more is placed on it.
    pub(crate) fn fail_instance(&mut self, r: InstanceRef) {
        self.instance_mut(r).failed = true;
        self.clusters[r.cluster.index()]
            .pc
            .set_agent_connected(r.id, false);
    }

    /// An EC2 Spot interruption notice reached the instance.
    pub(crate) fn notice_spot(&mut self, r: InstanceRef) {
        self.instance_mut(r).spot_notice = true;
    }

    /// An instance to terminate still has STOPPING tasks: it is DRAINING (nothing more is placed
    /// on it) and is terminated when the last of them is STOPPED.
    pub(crate) fn terminate_when_empty(
        &mut self,
        r: InstanceRef,
        reason: &'static str,
        now: SimTime,
    ) {
        self.drain(r, reason, now);
        self.instance_mut(r).terminating = Some(reason);
    }

    /// Terminate an instance that runs no service or job task (the caller has stopped its
    /// daemon tasks): it is billed to now with the EC2 minimum, and it leaves the cluster.
    pub(crate) fn terminate(&mut self, r: InstanceRef, reason: &str, now: SimTime) {
        self.accrue_instance(r, now);
        let inst = &self.clusters[r.cluster.index()].insts[r.id.0 as usize];
        let life = now.since(inst.launched);
        let top_up = pricing::billed_ms(life, self.sc.pricing.table.ec2.minimum_seconds) - life;
        if top_up > 0 {
            let target = Ec2Target {
                provider: inst.provider as usize,
                spot: inst.spot,
            };
            let cost = pricing::instance_charge(inst.rate, top_up);
            let at = now.ms().saturating_sub(1).max(inst.launched.ms());
            self.billing.ledger.book_ec2(at, cost, 0, 1, &[], target);
        }
        let was = inst.state;
        assert_ne!(was, InstanceState::Stopped, "terminated twice");
        self.billing
            .instance_down(inst.provider, inst.spot, inst.rate, now);
        self.set_instance_state(r, InstanceState::Stopped, now);
        self.instance_mut(r).stopped_at = Some(now);
        self.instance_event(now, r, was.as_str(), "STOPPED", reason);
    }

    /// Reserve a task's resources on an instance for an owner.
    pub(super) fn reserve(
        &mut self,
        r: InstanceRef,
        req: &TaskRequest<'_>,
        owner: u32,
        busy: bool,
    ) {
        let cl = &mut self.clusters[r.cluster.index()];
        cl.pc.allocate(r.id, req);
        cl.peak_in_use = cl.peak_in_use.max(cl.pc.instances_in_use());
        let inst = &mut cl.insts[r.id.0 as usize];
        match inst.owners.iter().position(|o| o.0 == owner) {
            Some(k) => {
                inst.owners[k].1 += req.cpu_units;
                inst.owners[k].2 += req.memory_mib;
            }
            None => inst.owners.push((owner, req.cpu_units, req.memory_mib)),
        }
        if busy {
            inst.busy_tasks += 1;
            if inst.busy_tasks == 1 {
                cl.busy += 1;
            }
        }
    }

    /// Release what `reserve` reserved.
    pub(super) fn release(
        &mut self,
        r: InstanceRef,
        req: &TaskRequest<'_>,
        owner: u32,
        busy: bool,
    ) {
        let cl = &mut self.clusters[r.cluster.index()];
        cl.pc.release(r.id, req);
        let inst = &mut cl.insts[r.id.0 as usize];
        let k = inst
            .owners
            .iter()
            .position(|o| o.0 == owner)
            .expect("releasing an owner that holds nothing");
        let o = &mut inst.owners[k];
        o.1 -= req.cpu_units;
        o.2 -= req.memory_mib;
        if o.1 == 0 && o.2 == 0 {
            inst.owners.swap_remove(k);
        }
        if busy {
            inst.busy_tasks -= 1;
            if inst.busy_tasks == 0 {
                cl.busy -= 1;
            }
        }
    }

    /// Every instance of a cluster with its id, in launch order.
    pub(crate) fn instances(&self, c: ClusterId) -> impl Iterator<Item = (InstanceRef, &Instance)> {
        self.clusters[c.index()]
            .insts
            .iter()
            .enumerate()
            .map(move |(i, x)| (InstanceRef::new(c, InstanceId(i as u32)), x))
    }
}
