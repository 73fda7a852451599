//! The core's mechanisms on a one-instance cluster: each mutator keeps the counters, placement's
//! view and the records in step.

use ecsim_engine::{Scheduler, SimTime, Streams};

use super::*;
use crate::ids::{InstanceRef, ServiceId};
use crate::record::EventRecord;
use crate::sim::Ev;

#[derive(Default)]
struct Events(Vec<String>);

impl Sink for Events {
    fn event(&mut self, e: &EventRecord<'_>) {
        self.0.push(format!(
            "{} {} {}>{} {}",
            e.time_ms, e.instance, e.from, e.to, e.reason
        ));
    }
}

fn scenario() -> Scenario {
    crate::scenario::load(
        "core.toml",
        r#"schema_version = 1
name = "core"
[simulation]
duration = "1h"
[[clusters]]
name = "c"
instance_type = "m5.large"
count = 1
[[task_definitions]]
family = "web"
cpu = 512
memory = 1024
[[services]]
name = "s"
task_definition = "web"
desired_count = 1
"#,
        &[],
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

fn at(ms: u64) -> SimTime {
    SimTime::from_ms(ms)
}

/// A core with its one instance launched and registered at t = 0.
fn world(sc: &Scenario) -> (Core<'_, Events>, InstanceRef) {
    let mut core = Core::new(sc, Events::default(), &Streams::new(1), &[]);
    let mut sched: Scheduler<Ev> = Scheduler::new();
    let r = core.launch_instance(ClusterId::new(0), 0, &[], at(0), &mut sched);
    assert_eq!(core.instances_in(InstanceState::Launching), 1);
    assert!(core.register(r, at(0)));
    (core, r)
}

fn service_task(core: &mut Core<'_, Events>) -> TaskId {
    let group = core.group(ClusterId::new(0), "service:s");
    core.new_task(
        NewTask {
            def: DefId::new(0),
            owner: Owner::Service(ServiceId::new(0)),
            cluster: ClusterId::new(0),
            group,
            run_ms: 0,
            size: None,
            runs: Runs::Ec2 { pool: None },
            provider: 0,
            item: None,
        },
        at(0),
    )
}

#[test]
fn placing_and_stopping_a_task_keeps_counts_and_resources_in_step() {
    let sc = scenario();
    let (mut core, r) = world(&sc);
    let free = core.cluster(r.cluster).pc.available(r.id);
    let tid = service_task(&mut core);
    core.place(tid, r.id, at(1000));
    assert_eq!(core.task_counts(), [0, 1, 0, 0]);
    assert_eq!(core.service(ServiceId::new(0)).pending(), 1);
    assert_eq!(core.instance(r).busy_tasks, 1);
    let held = core.cluster(r.cluster).pc.available(r.id);
    assert_eq!((free.0 - held.0, free.1 - held.1), (512, 1024));
    core.run(tid, at(2000));
    assert_eq!(core.task_counts(), [0, 0, 1, 0]);
    assert_eq!(core.service(ServiceId::new(0)).running(), 1);
    let stopped = core.stop(
        tid,
        Outcome::StoppedByScheduler,
        "ServiceSchedulerInitiated",
        at(3000),
    );
    assert_eq!(stopped.freed, Some(r));
    assert!(!stopped.never_ran);
    assert_eq!(core.task_counts(), [0, 0, 0, 0]);
    assert!(core.service(ServiceId::new(0)).live.is_empty());
    assert_eq!(core.instance(r).busy_tasks, 0);
    assert_eq!(core.cluster(r.cluster).pc.available(r.id), free);
    assert_eq!(core.counters.task_ms, 2000, "placed at 1 s, stopped at 3 s");
    let tail: Vec<&str> = core.out.sink.0.iter().map(String::as_str).skip(2).collect();
    assert_eq!(
        tail,
        vec![
            "1000 i-00000000000000001 >PENDING ",
            "2000 i-00000000000000001 PENDING>RUNNING ",
            "3000 i-00000000000000001 RUNNING>STOPPED ServiceSchedulerInitiated",
        ]
    );
}

#[test]
fn a_stopping_task_holds_its_resources_and_bills_until_stopped() {
    // ecs-semantics 3.1, 3.2: RUNNING -> STOPPING (SIGTERM) -> STOPPED; the task keeps its
    // reservation until STOPPED and counts as live (towards maximumPercent).
    let sc = scenario();
    let (mut core, r) = world(&sc);
    let free = core.cluster(r.cluster).pc.available(r.id);
    let tid = service_task(&mut core);
    core.place(tid, r.id, at(1000));
    core.run(tid, at(2000));
    core.begin_stop(tid, "ServiceSchedulerInitiated", at(3000));
    assert_eq!(core.task_counts(), [0, 0, 0, 1]);
    let svc = core.service(ServiceId::new(0));
    assert_eq!((svc.running(), svc.stopping(), svc.live.len()), (0, 1, 1));
    assert_eq!(core.instance(r).busy_tasks, 1, "still on the instance");
    assert_ne!(core.cluster(r.cluster).pc.available(r.id), free);
    assert!(!core.task(tid).healthy(at(3000)));
    let stopped = core.stop(tid, Outcome::StoppedByScheduler, "", at(33_000));
    assert_eq!(stopped.freed, Some(r));
    assert_eq!(core.task_counts(), [0, 0, 0, 0]);
    assert_eq!(core.cluster(r.cluster).pc.available(r.id), free);
    assert_eq!(
        core.counters.task_ms, 32_000,
        "placed at 1 s, STOPPED at 33 s"
    );
    let tail: Vec<&str> = core.out.sink.0.iter().map(String::as_str).skip(4).collect();
    assert_eq!(
        tail,
        vec![
            "3000 i-00000000000000001 RUNNING>STOPPING ServiceSchedulerInitiated",
            "33000 i-00000000000000001 STOPPING>STOPPED ",
        ]
    );
}

#[test]
fn an_instance_has_one_state_and_placement_follows_it() {
    let sc = scenario();
    let (mut core, r) = world(&sc);
    assert!(core.drain(r, "DrainInstances", at(10)));
    assert!(
        !core.drain(r, "DrainInstances", at(11)),
        "only an ACTIVE instance drains"
    );
    assert_eq!(
        core.cluster(r.cluster).pc.status(r.id),
        ecsim_placement::InstanceStatus::Draining
    );
    assert_eq!(core.instances_in(InstanceState::Draining), 1);
    assert_eq!(core.instances_in(InstanceState::Active), 0);
    core.terminate(r, "ScaleIn", at(20));
    assert_eq!(core.instances_in(InstanceState::Stopped), 1);
    assert_eq!(core.instances_in(InstanceState::Draining), 0);
    assert_eq!(core.instance(r).stopped_at, Some(at(20)));
    let last = core.out.sink.0.last().unwrap();
    assert_eq!(last, "20 i-00000000000000001 DRAINING>STOPPED ScaleIn");
}

#[test]
fn a_stopped_instance_is_billed_its_minimum_and_no_more() {
    // EC2-UG: per-second billing with a 60-second minimum. Stopped after 20 ms, the instance
    // is billed 60 s; billing to a later end adds nothing.
    let sc = scenario();
    let (mut core, r) = world(&sc);
    core.terminate(r, "ScaleIn", at(20));
    let billed = core.billing.ledger.totals().total();
    core.bill_to_end(at(3_600_000));
    assert_eq!(core.billing.ledger.totals().total(), billed);
    let rate = core.instance(r).rate;
    assert_eq!(billed, crate::pricing::instance_charge(rate, 60_000));
}

#[test]
#[should_panic(expected = "terminated twice")]
fn terminating_twice_is_a_bug() {
    let sc = scenario();
    let (mut core, r) = world(&sc);
    core.terminate(r, "ScaleIn", at(20));
    core.terminate(r, "ScaleIn", at(30));
}

/// Memory follows the work in flight (issue 12): a finished task's record stays readable until
/// its event is handled, then its row is written and its slot reused; its id keeps reading as a
/// STOPPED task, and ids keep counting in creation order.
#[test]
fn a_finished_task_frees_its_record_and_its_id_reads_as_stopped() {
    #[derive(Default)]
    struct Rows(Vec<(u64, String)>);
    impl Sink for Rows {
        fn task(&mut self, t: &crate::record::TaskRow<'_>) {
            self.0.push((t.task_id, t.outcome.to_string()));
        }
    }
    let sc = scenario();
    let mut core = Core::new(&sc, Rows::default(), &Streams::new(1), &[]);
    let mut sched: Scheduler<Ev> = Scheduler::new();
    let r = core.launch_instance(ClusterId::new(0), 0, &[], at(0), &mut sched);
    assert!(core.register(r, at(0)));
    let group = core.group(ClusterId::new(0), "service:s");
    let new = |core: &mut Core<'_, Rows>| {
        core.new_task(
            NewTask {
                def: DefId::new(0),
                owner: Owner::Service(ServiceId::new(0)),
                cluster: ClusterId::new(0),
                group,
                run_ms: 0,
                size: None,
                runs: Runs::Ec2 { pool: None },
                provider: 0,
                item: None,
            },
            at(0),
        )
    };
    let first = new(&mut core);
    core.place(first, r.id, at(1000));
    let second = new(&mut core);
    core.place(second, r.id, at(1000));
    core.stop(first, Outcome::Failed("TaskFailedToStart"), "x", at(2000));
    // Until the event is handled, the stopped task is still there to read.
    assert_eq!(
        core.task(first).outcome,
        Outcome::Failed("TaskFailedToStart")
    );
    assert!(core.out.sink.0.is_empty());
    core.reclaim();
    assert_eq!(core.out.sink.0, vec![(0, "failed".to_string())]);
    // The next task takes the freed slot under a new id; the old id reads as STOPPED.
    let third = new(&mut core);
    assert_eq!((third.0, third.index()), (2, first.index()));
    assert!(third > second && second > first);
    assert_eq!(core.task(first).state, TaskState::Stopped);
    assert_eq!(core.task(first).instance, None);
    assert_eq!(core.task(third).state, TaskState::Stopped, "not placed yet");
    core.provision(third, at(3000), None);
    assert_eq!(core.task(third).state, TaskState::Provisioning);
    assert_eq!(core.task(first).state, TaskState::Stopped);
    assert_eq!(core.tasks_created(), 3);
    assert_eq!(core.live_tasks().count(), 2);
    // At the end, the live tasks' rows follow, in id order.
    assert_eq!(
        core.write_task_rows(at(4000)),
        1,
        "the third was never placed"
    );
    assert_eq!(
        core.out.sink.0,
        vec![
            (0, "failed".to_string()),
            (1, "pending_at_end".to_string()),
            (2, "never_placed".to_string())
        ]
    );
}
