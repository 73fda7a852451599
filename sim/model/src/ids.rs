//! Typed ids of the simulation's entities: indexes into the scenario's lists or the run's arenas,
//! each its own type so that a task id cannot be passed where a service id is meant.

pub use ecsim_placement::InstanceId;

macro_rules! id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub u32);

        impl $name {
            /// From an index (panics beyond `u32`: a scenario that large is rejected earlier).
            pub fn new(index: usize) -> Self {
                Self(u32::try_from(index).expect("ids fit in 32 bits"))
            }
            /// The index into its list.
            pub const fn index(self) -> usize {
                self.0 as usize
            }
        }
    };
}

/// A task of the run: its number in creation order (`.0`, the id written in the outputs; ids
/// order by it) and the slot its record occupies while it is live (`.1`). A finished task's
/// record is freed and its slot reused, so a `TaskId` held after its task stopped (a timer
/// still in the queue) no longer names a record: the core reads it as a STOPPED task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TaskId(pub u32, pub u32);

impl TaskId {
    /// The slot of its record in the core's arena.
    pub const fn index(self) -> usize {
        self.1 as usize
    }
}

id!(
    /// A service of the scenario.
    ServiceId
);
id!(
    /// A job (stream of standalone tasks) of the scenario.
    JobId
);
id!(
    /// A cluster of the scenario.
    ClusterId
);
id!(
    /// A task definition of the scenario.
    DefId
);

/// One container instance: its cluster and its id in that cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct InstanceRef {
    /// The cluster.
    pub cluster: ClusterId,
    /// The instance within it.
    pub id: InstanceId,
}

impl InstanceRef {
    /// An instance of a cluster.
    pub fn new(cluster: ClusterId, id: InstanceId) -> Self {
        InstanceRef { cluster, id }
    }
}

/// Who launched a task: a service, or a job with the index of its task-mix entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Owner {
    /// A service's task.
    Service(ServiceId),
    /// A standalone task of a job (mix entry).
    Job(JobId, u32),
}

impl Owner {
    /// Index over all owners: services first, then jobs (used by billing).
    pub fn index(self, n_services: usize) -> usize {
        match self {
            Owner::Service(s) => s.index(),
            Owner::Job(j, _) => n_services + j.index(),
        }
    }

    /// The service, if it is one.
    pub fn service(self) -> Option<ServiceId> {
        match self {
            Owner::Service(s) => Some(s),
            Owner::Job(..) => None,
        }
    }
}
