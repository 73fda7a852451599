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

/// The rule that chose the task to stop (`decisions.csv`'s reason).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StopRule {
    /// A task still waiting for capacity, the newest.
    Provisioning,
    /// On Fargate: the newest task in the AZ with the most tasks.
    FargateBusiestAz,
    /// On EC2: the service's placement strategy (placement's `choose_to_stop`).
    Strategy,
}

impl StopRule {
    /// The name in `decisions.csv`.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            StopRule::Provisioning => "provisioning_first",
            StopRule::FargateBusiestAz => "fargate_busiest_az",
            StopRule::Strategy => "strategy",
        }
    }
}

/// The task to stop, the rule that chose it and how many tasks it chose among.
pub(crate) fn choose_stop(v: &ScaleInView<'_>) -> (TaskId, StopRule, usize) {
    let task = |t: TaskId| &v.tasks[t.index()];
    if let Some(&t) = v
        .live
        .iter()
        .rev()
        .find(|&&t| task(t).state == TaskState::Provisioning)
    {
        return (t, StopRule::Provisioning, 1);
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
        let t = *cands
            .iter()
            .rev()
            .find(|&&t| matches!(task(t).runs, Runs::Fargate { az, .. } if v.fargate_az[az as usize] == max))
            .unwrap_or(cands.last().expect("live"));
        return (t, StopRule::FargateBusiestAz, cands.len());
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
    (cands[pick], StopRule::Strategy, cands.len())
}
