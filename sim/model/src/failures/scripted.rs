//! The targets of scripted failures, chosen over read-only views of the instances and tasks.

use crate::core::{Instance, InstanceState, Runs, Task, TaskState};
use crate::ids::{InstanceRef, TaskId};

/// Instances a scripted instance failure or drain takes: ACTIVE ones of the group (or cluster)
/// that have not failed, oldest first, at most `count`.
pub(crate) fn oldest_active<'a>(
    instances: impl Iterator<Item = (InstanceRef, &'a Instance)>,
    group: Option<usize>,
    count: u32,
) -> Vec<InstanceRef> {
    instances
        .filter(|(_, x)| {
            x.state == InstanceState::Active
                && !x.failed
                && group.is_none_or(|g| x.group as usize == g)
        })
        .map(|(r, _)| r)
        .take(count as usize)
        .collect()
}

/// The instance a machine trace's failure row takes: the k-th the cluster launched, if it is
/// ACTIVE and has not failed (otherwise the row takes nothing).
pub(crate) fn kth_active<'a>(
    mut instances: impl Iterator<Item = (InstanceRef, &'a Instance)>,
    k: u32,
) -> Option<InstanceRef> {
    instances
        .nth(k as usize)
        .filter(|(_, x)| x.state == InstanceState::Active && !x.failed)
        .map(|(r, _)| r)
}

/// Spot instances a storm may hit: registered, not failed, without a notice yet.
pub(crate) fn spot_candidates<'a>(
    instances: impl Iterator<Item = (InstanceRef, &'a Instance)>,
    group: Option<usize>,
) -> Vec<InstanceRef> {
    instances
        .filter(|(_, x)| {
            x.spot
                && matches!(x.state, InstanceState::Active | InstanceState::Draining)
                && !x.failed
                && !x.spot_notice
                && group.is_none_or(|g| x.group as usize == g)
        })
        .map(|(r, _)| r)
        .collect()
}

/// RUNNING Fargate Spot tasks without a warning yet, in creation order.
pub(crate) fn fargate_spot_running<'a>(
    tasks: impl Iterator<Item = (TaskId, &'a Task)>,
) -> Vec<TaskId> {
    let mut v: Vec<TaskId> = tasks
        .filter(|(_, x)| {
            x.state == TaskState::Running
                && !x.retiring
                && matches!(x.runs, Runs::Fargate { spot: true, .. })
        })
        .map(|(t, _)| t)
        .collect();
    v.sort_unstable();
    v
}

/// How many of `n` a fraction takes (rounded to nearest).
pub(crate) fn share(n: usize, fraction: f64) -> usize {
    ((n as f64) * fraction).round() as usize
}
