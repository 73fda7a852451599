//! A cluster's wait queue: tasks waiting in PROVISIONING for an instance, first come first
//! served, kept as runs of consecutive tasks with the same needs.
//!
//! A retry pass tries the queue in order and, once a task fails to place, skips every later
//! task with the same needs (owner, pool, size: same constraints, strategy and request, so the
//! same answer). Kept one task per slot, a pass walked every waiting task even when only a few
//! could be tried: a trace job expanded by `instance_num` queues millions of tasks, and a pass
//! at every task stop made the run quadratic. As runs, a pass visits each run once and each task
//! it places or tries: tasks of a run the pass skips are not touched. The order of attempts, and
//! so every result, is the same as one task at a time.
//!
//! A pass also skips a run that cannot fit because a smaller task could not ([`Frontier`]): for
//! tasks of the same task definition and pool without constraints, whether an instance can take
//! one depends only on its CPU and memory, so once a task of (c, m) found no instance, none of
//! (c' >= c, m' >= m) will while nothing is freed. The caller skips only where the attempt would
//! have had no effect (no explanation being written; a failed search never draws a random
//! number), so results stay the same; it stops the pass from trying, at every task stop,
//! each of thousands of queued trace rows too large for what is free.

use std::collections::VecDeque;

use crate::ids::{DefId, Owner, TaskId};

/// What waiting tasks must share to get the same placement answer: the owner (its constraints,
/// strategy and task definition), the pool and the size (CPU units, MiB).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Needs {
    pub(crate) owner: Owner,
    pub(crate) pool: Option<u32>,
    pub(crate) cpu_units: u32,
    pub(crate) memory_mib: u32,
}

/// Consecutive waiting tasks with the same needs, oldest first.
#[derive(Debug, Clone)]
struct Run {
    needs: Needs,
    tasks: VecDeque<TaskId>,
}

/// One cluster's waiting tasks, in the order they queued.
#[derive(Debug, Clone, Default)]
pub(crate) struct WaitQueue {
    runs: VecDeque<Run>,
    len: usize,
}

impl WaitQueue {
    /// Tasks waiting.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Queue a task at the end.
    pub(crate) fn push(&mut self, needs: Needs, tid: TaskId) {
        match self.runs.back_mut() {
            Some(r) if r.needs == needs => r.tasks.push_back(tid),
            _ => self.runs.push_back(Run {
                needs,
                tasks: VecDeque::from([tid]),
            }),
        }
        self.len += 1;
    }

    /// Take a task out wherever it is (it stopped while waiting); `false` if it was not queued.
    /// Its run stays, maybe empty, until [`WaitQueue::compact`] (this may happen during a pass).
    pub(crate) fn remove(&mut self, tid: TaskId) -> bool {
        for k in 0..self.runs.len() {
            let run = &mut self.runs[k];
            if let Some(p) = run.tasks.iter().position(|&w| w == tid) {
                run.tasks.remove(p);
                self.len -= 1;
                return true;
            }
        }
        false
    }

    /// Runs in the queue (a retry pass walks `0..runs()`).
    pub(crate) fn runs(&self) -> usize {
        self.runs.len()
    }

    /// The needs of run `k`.
    pub(crate) fn needs(&self, k: usize) -> Needs {
        self.runs[k].needs
    }

    /// The oldest task of run `k`, if the pass has not taken them all.
    pub(crate) fn head(&self, k: usize) -> Option<TaskId> {
        self.runs[k].tasks.front().copied()
    }

    /// Take the oldest task of run `k` (it was placed). The run stays, maybe empty, until
    /// [`WaitQueue::compact`], so that run indexes hold for the rest of a pass.
    pub(crate) fn take_head(&mut self, k: usize) -> Option<TaskId> {
        let t = self.runs[k].tasks.pop_front();
        self.len -= usize::from(t.is_some());
        t
    }

    /// After a pass: drop emptied runs and join neighbours the removal left with the same needs.
    pub(crate) fn compact(&mut self) {
        let mut kept: VecDeque<Run> = VecDeque::with_capacity(self.runs.len());
        for run in self.runs.drain(..) {
            if run.tasks.is_empty() {
                continue;
            }
            match kept.back_mut() {
                Some(last) if last.needs == run.needs => join(last, run),
                _ => kept.push_back(run),
            }
        }
        self.runs = kept;
    }

    /// Every waiting task in order, with its needs.
    #[cfg(test)]
    pub(crate) fn iter(&self) -> impl Iterator<Item = (Needs, TaskId)> + '_ {
        self.runs
            .iter()
            .flat_map(|r| r.tasks.iter().map(move |&t| (r.needs, t)))
    }

    /// Each run's needs and number of tasks, in order.
    pub(crate) fn run_counts(&self) -> impl Iterator<Item = (Needs, usize)> + '_ {
        self.runs.iter().map(|r| (r.needs, r.tasks.len()))
    }
}

/// Sizes that found no instance in a pass, per task definition and pool, for tasks without
/// constraints: only the smallest (no failed size at most as large in both resources is kept).
#[derive(Debug, Default)]
pub(crate) struct Frontier {
    failed: Vec<(Option<u32>, DefId, u32, u32)>,
}

impl Frontier {
    /// Whether a task of this definition, pool and size cannot fit: one no larger failed.
    pub(crate) fn covers(&self, pool: Option<u32>, def: DefId, cpu: u32, mem: u32) -> bool {
        self.failed
            .iter()
            .any(|&(p, d, c, m)| p == pool && d == def && cpu >= c && mem >= m)
    }

    /// A task of this size found no instance.
    pub(crate) fn add(&mut self, pool: Option<u32>, def: DefId, cpu: u32, mem: u32) {
        if self.covers(pool, def, cpu, mem) {
            return;
        }
        self.failed
            .retain(|&(p, d, c, m)| !(p == pool && d == def && c >= cpu && m >= mem));
        self.failed.push((pool, def, cpu, mem));
    }

    /// Capacity was freed: what failed may fit now.
    pub(crate) fn clear(&mut self) {
        self.failed.clear();
    }
}

/// Append `b` to `a` (same needs), moving the shorter of the two.
fn join(a: &mut Run, mut b: Run) {
    if a.tasks.len() >= b.tasks.len() {
        a.tasks.append(&mut b.tasks);
    } else {
        for &t in a.tasks.iter().rev() {
            b.tasks.push_front(t);
        }
        a.tasks = b.tasks;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{JobId, ServiceId};

    fn needs(owner: Owner, cpu: u32) -> Needs {
        Needs {
            owner,
            pool: Some(1),
            cpu_units: cpu,
            memory_mib: 512,
        }
    }

    fn order(q: &WaitQueue) -> Vec<usize> {
        q.iter().map(|(_, t)| t.index()).collect()
    }

    #[test]
    fn consecutive_tasks_with_the_same_needs_share_a_run() {
        let a = needs(Owner::Job(JobId::new(0), 0), 256);
        let b = needs(Owner::Job(JobId::new(0), 0), 512);
        let mut q = WaitQueue::default();
        for (n, t) in [(a, 0), (a, 1), (b, 2), (a, 3)] {
            q.push(n, TaskId(t, t));
        }
        assert_eq!((q.len(), q.runs()), (4, 3));
        assert_eq!(order(&q), [0, 1, 2, 3]);
        assert_eq!(q.run_counts().map(|r| r.1).collect::<Vec<_>>(), [2, 1, 1]);
    }

    #[test]
    fn a_pass_takes_heads_and_compaction_joins_neighbours_in_order() {
        let a = needs(Owner::Service(ServiceId::new(0)), 256);
        let b = needs(Owner::Service(ServiceId::new(1)), 256);
        let mut q = WaitQueue::default();
        for (n, t) in [(a, 0), (a, 1), (b, 2), (a, 3), (a, 4), (a, 5)] {
            q.push(n, TaskId(t, t));
        }
        // The pass places task 0 and run b's only task: the a runs meet.
        assert_eq!(q.take_head(0).map(|t| t.index()), Some(0));
        assert_eq!(q.take_head(1).map(|t| t.index()), Some(2));
        assert_eq!(q.head(1), None);
        q.compact();
        assert_eq!((q.len(), q.runs()), (4, 1));
        assert_eq!(order(&q), [1, 3, 4, 5]);
        // Joining moves the shorter side and keeps the order either way.
        let mut q = WaitQueue::default();
        for (n, t) in [(a, 0), (a, 1), (a, 2), (b, 3), (a, 4)] {
            q.push(n, TaskId(t, t));
        }
        q.take_head(1);
        q.compact();
        assert_eq!(order(&q), [0, 1, 2, 4]);
    }

    #[test]
    fn a_failed_size_covers_larger_tasks_of_its_definition_and_pool_only() {
        let (d0, d1) = (DefId::new(0), DefId::new(1));
        let mut f = Frontier::default();
        f.add(Some(1), d0, 1024, 2048);
        assert!(f.covers(Some(1), d0, 1024, 2048));
        assert!(f.covers(Some(1), d0, 2048, 4096));
        // Smaller in either resource may still fit; another definition or pool may too.
        assert!(!f.covers(Some(1), d0, 512, 4096));
        assert!(!f.covers(Some(1), d0, 4096, 1024));
        assert!(!f.covers(Some(1), d1, 2048, 4096));
        assert!(!f.covers(None, d0, 2048, 4096));
        // A smaller failure replaces the ones it covers.
        f.add(Some(1), d0, 512, 1024);
        assert_eq!(f.failed.len(), 1);
        f.add(Some(1), d0, 256, 8192);
        assert!(f.covers(Some(1), d0, 300, 9000) && !f.covers(Some(1), d0, 300, 1000));
        f.clear();
        assert!(!f.covers(Some(1), d0, 4096, 8192));
    }

    #[test]
    fn a_stopped_task_leaves_the_queue_wherever_it_is() {
        let a = needs(Owner::Job(JobId::new(0), 0), 256);
        let b = needs(Owner::Job(JobId::new(1), 0), 256);
        let mut q = WaitQueue::default();
        for (n, t) in [(a, 0), (b, 1), (a, 2)] {
            q.push(n, TaskId(t, t));
        }
        assert!(q.remove(TaskId(1, 1)));
        assert!(!q.remove(TaskId(1, 1)));
        assert_eq!(q.len(), 2);
        assert_eq!(order(&q), [0, 2]);
        q.compact();
        assert_eq!((q.len(), q.runs()), (2, 1));
    }
}
