//! Which task a service stops on scale-in.
//!
//! Never one already STOPPING. One still PROVISIONING first (newest first); else from the capacity provider furthest above
//! its share ([`crate::launch::provider_strategy::shrink_item`]); then, on EC2, by the service's
//! placement strategy (placement's `choose_to_stop`: binpack frees the least-used instance,
//! spread keeps the spread; ECS-DG task-placement-strategies.html), or on Fargate from the AZ
//! with the most tasks (newest first).

use ecsim_placement::{InstanceId, StopCandidate, Strategy};

use crate::core::{ClusterState, Runs, Task, TaskState};
use crate::ids::TaskId;
use crate::scenario::Scenario;

/// What the choice reads.
pub(crate) struct ScaleInView<'a> {
    pub(crate) sc: &'a Scenario,
    /// The service's live tasks, oldest first.
    pub(crate) live: &'a [TaskId],
    /// Every task of the run.
    pub(crate) tasks: &'a [Task],
    /// The strategy item to take from, when the service uses several providers.
    pub(crate) item: Option<u8>,
    /// Live tasks per Fargate AZ.
    pub(crate) fargate_az: &'a [u32],
    pub(crate) cluster: &'a ClusterState,
    pub(crate) group: ecsim_placement::GroupId,
    pub(crate) strategy: &'a [Strategy],
}

/// The task to stop.
pub(crate) fn choose_stop(v: &ScaleInView<'_>) -> TaskId {
    let task = |t: TaskId| &v.tasks[t.index()];
    if let Some(&t) = v
        .live
        .iter()
        .rev()
        .find(|&&t| task(t).state == TaskState::Provisioning)
    {
        return t;
    }
    let stoppable = |t: &TaskId| task(*t).state != TaskState::Stopping;
    let mut cands: Vec<TaskId> = v
        .live
        .iter()
        .copied()
        .filter(|t| stoppable(t) && v.item.is_none_or(|k| task(*t).item == Some(k)))
        .collect();
    if cands.is_empty() {
        // The item's other tasks are all STOPPING already (they still count for it).
        cands = v.live.iter().copied().filter(stoppable).collect();
    }
    if let Runs::Fargate { .. } = task(cands[0]).runs {
        let max = *v.fargate_az.iter().max().expect("azs");
        return *cands
            .iter()
            .rev()
            .find(|&&t| matches!(task(t).runs, Runs::Fargate { az, .. } if v.fargate_az[az as usize] == max))
            .unwrap_or(cands.last().expect("live"));
    }
    let stop: Vec<StopCandidate> = cands
        .iter()
        .map(|&t| {
            let d = &v.sc.task_definitions[task(t).def.index()];
            StopCandidate {
                instance: task(t).instance.unwrap_or(InstanceId(u32::MAX)),
                cpu_units: d.cpu_units,
                memory_mib: d.memory_mib,
            }
        })
        .collect();
    let pick = v
        .cluster
        .pc
        .choose_to_stop(v.group, v.strategy, &stop)
        .expect("live tasks");
    cands[pick]
}
