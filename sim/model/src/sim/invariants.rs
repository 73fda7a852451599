//! Whole-run invariants, checked after every event when `check_invariants` is on (tests).

use std::collections::BTreeMap;

use ecsim_placement::{InstanceId, InstanceStatus};

use super::Simulation;
use crate::core::{InstanceState, Outcome, Runs, TaskState};
use crate::ids::ServiceId;
use crate::record::Sink;
use crate::scenario::NetworkMode;
use crate::service::deployment::max_total;

#[derive(Clone, Default)]
struct Used {
    cpu: u64,
    mem: u64,
    eni: u32,
    ports: Vec<u32>,
}

impl<S: Sink> Simulation<'_, S> {
    /// No instance over-committed on CPU, memory, ports or ENIs; every task in exactly one
    /// state with the counters agreeing; instance states, their counts and placement's status
    /// agree; no service above its maximum; capacity provider counters agree with the tasks.
    pub fn check_invariants(&self) {
        let used = self.check_tasks();
        self.check_instances(&used);
        self.check_services();
    }

    /// Task states against the counters; what each instance should have reserved.
    fn check_tasks(&self) -> Vec<Vec<Used>> {
        let core = &self.core;
        let sc = core.sc;
        let mut per_inst: Vec<Vec<Used>> = core
            .clusters()
            .iter()
            .map(|c| vec![Used::default(); c.insts.len()])
            .collect();
        let mut counts = [0u64; 4];
        let n_owners = sc.services.len() + sc.jobs.len();
        let mut item_counts: Vec<BTreeMap<u8, u32>> = vec![BTreeMap::new(); n_owners];
        for (_, t) in core.live_tasks() {
            match t.state {
                TaskState::Provisioning => counts[0] += 1,
                TaskState::Pending => counts[1] += 1,
                TaskState::Running => counts[2] += 1,
                TaskState::Stopping => counts[3] += 1,
                TaskState::Stopped => {}
            }
            // Only the scheduler's stops of RUNNING tasks go through STOPPING.
            assert!(
                t.state != TaskState::Stopping
                    || (t.running().is_some() && t.outcome == Outcome::Open),
                "a STOPPING task that never ran or has ended: {t:?}"
            );
            // A STOPPING task keeps its resources until it is STOPPED.
            let on_instance = matches!(
                t.state,
                TaskState::Pending | TaskState::Running | TaskState::Stopping
            ) && matches!(t.runs, Runs::Ec2 { .. });
            assert_eq!(
                on_instance,
                t.instance.is_some() && t.stopped().is_none(),
                "task placement and state disagree: {t:?}"
            );
            if on_instance {
                let d = &sc.task_definitions[t.def.index()];
                let i = t.instance.expect("placed");
                let e = &mut per_inst[t.cluster.index()][i.0 as usize];
                e.cpu += u64::from(t.cpu_units);
                e.mem += u64::from(t.memory_mib);
                e.eni += u32::from(d.network_mode == NetworkMode::Awsvpc);
                e.ports.extend(d.instance_ports().iter().copied());
            }
            if t.state != TaskState::Stopped
                && let Some(k) = t.item
            {
                *item_counts[t.owner.index(sc.services.len())]
                    .entry(k)
                    .or_insert(0) += 1;
            }
        }
        assert_eq!(counts, core.task_counts(), "task state counters");
        for (o, l) in core.all_owner_counts().iter().enumerate() {
            for (k, &c) in l.items.iter().enumerate() {
                let want = item_counts[o].get(&(k as u8)).copied().unwrap_or(0);
                assert_eq!(c, want, "owner {o}: provider item {k} count");
            }
        }
        per_inst
    }

    /// Reservations, ports, per-owner shares, and states of every instance.
    fn check_instances(&self, per_inst: &[Vec<Used>]) {
        let mut counts = [0u32; 4];
        for (c, cl) in self.core.clusters().iter().enumerate() {
            for (i, u) in per_inst[c].iter().enumerate() {
                let id = InstanceId(i as u32);
                let (tc, tm, te) = cl.pc.registered(id);
                let (ac, am, ae) = cl.pc.available(id);
                assert!(
                    u.cpu <= u64::from(tc) && u.mem <= u64::from(tm) && u.eni <= te,
                    "instance {i} over-committed"
                );
                assert_eq!(
                    (u64::from(tc - ac), u64::from(tm - am), te - ae),
                    (u.cpu, u.mem, u.eni),
                    "instance {i} accounting"
                );
                let inst = &cl.insts[i];
                assert_eq!(
                    inst.reserved_cpu(),
                    u.cpu,
                    "instance {i}: per-owner CPU disagrees"
                );
                let mut p = u.ports.clone();
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
                let status = match inst.state {
                    InstanceState::Launching => InstanceStatus::Registering,
                    InstanceState::Active => InstanceStatus::Active,
                    InstanceState::Draining => InstanceStatus::Draining,
                    InstanceState::Stopped => InstanceStatus::Deregistered,
                };
                assert_eq!(
                    cl.pc.status(id),
                    status,
                    "instance {i} ({}): placement status",
                    inst.state.as_str()
                );
                counts[inst.state as usize] += 1;
            }
        }
        let states = [
            InstanceState::Launching,
            InstanceState::Active,
            InstanceState::Draining,
            InstanceState::Stopped,
        ];
        for s in states {
            assert_eq!(
                self.core.instances_in(s),
                counts[s as usize],
                "instance count {s:?}"
            );
        }
    }

    /// No service above its maximum; per-service counters agree with its live tasks.
    fn check_services(&self) {
        let sc = self.core.sc;
        for (s, def) in sc.services.iter().enumerate() {
            let rt = self.core.service(ServiceId::new(s));
            let lost = rt
                .live
                .iter()
                .filter(|&&t| {
                    let x = self.core.task(t);
                    x.lost && x.state == TaskState::Running
                })
                .count() as u32;
            assert_eq!(rt.lost, lost, "service {}: lost RUNNING tasks", def.name);
            if def.scheduling == crate::scenario::SchedulingStrategy::Daemon {
                // One task per instance (ecs-semantics 4.7); a STOPPING one may overlap.
                let mut on: Vec<_> = rt
                    .live
                    .iter()
                    .map(|&t| self.core.task(t))
                    .filter(|x| x.state != TaskState::Stopping)
                    .filter_map(|x| x.instance_ref())
                    .collect();
                let n = on.len();
                on.sort_unstable();
                on.dedup();
                assert_eq!(
                    n,
                    on.len(),
                    "daemon {} runs two tasks on one instance",
                    def.name
                );
            }
            let max = max_total(rt.desired, def.maximum_percent);
            // STOPPING tasks count towards maximumPercent when tasks start (ecs-semantics
            // 4.4; `service::reconcile::plan`), but a lower desired count can leave more of
            // them than the new maximum while they stop.
            let not_stopping = rt.live.len() as u32 - rt.stopping();
            assert!(
                not_stopping <= max,
                "service {} runs {not_stopping} tasks besides STOPPING ones, above its maximum {max}",
                def.name
            );
            assert_eq!(
                rt.running() + rt.pending() + rt.provisioning() + rt.stopping(),
                rt.live.len() as u32,
                "service {} counters",
                def.name
            );
        }
    }
}
