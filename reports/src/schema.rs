//! The column schema of every output table: one module per file, used both by the writers
//! ([`crate::csv_sink`], [`crate::sweep`], [`crate::compare`]) and by the readers
//! ([`crate::report`], `ecsim sweep`), so a column cannot be renamed on one side only.
//!
//! Each table module has `FILE` (its name in an output folder), one constant per column, and
//! `SCHEMA` (the file name and every column in file order). Tables whose columns depend on the
//! scenario (`metrics.csv`, sweep runs, `aggregate.csv`) also have the suffixes and prefixes of
//! their per-entity columns and the functions that build and recognise them.

/// A table's file name and fixed columns, in file order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schema {
    /// The file's name in an output folder.
    pub file: &'static str,
    /// Column names, in file order (for `metrics.csv`, only the fixed leading ones).
    pub columns: &'static [&'static str],
}

impl Schema {
    /// Index of a column in this schema.
    pub fn index(&self, column: &str) -> Option<usize> {
        self.columns.iter().position(|c| *c == column)
    }
}

/// Declares a table module: `FILE`, one `&str` constant per column and `SCHEMA`.
macro_rules! table {
    ($(#[$doc:meta])* $module:ident, $file:literal, [$($col:ident = $name:literal),* $(,)?]) => {
        $(#[$doc])*
        pub mod $module {
            /// The file's name in an output folder.
            pub const FILE: &str = $file;
            $(
                #[doc = concat!("Column `", $name, "`.")]
                pub const $col: &str = $name;
            )*
            /// File name and columns, in file order.
            pub const SCHEMA: super::Schema = super::Schema {
                file: FILE,
                columns: &[$($col),*],
            };
        }
    };
}

table!(
    /// `events.csv`: one row per state change.
    events, "events.csv", [
        TIME_MS = "time_ms",
        KIND = "kind",
        ENTITY = "entity",
        SERVICE = "service",
        JOB = "job",
        INSTANCE = "instance",
        FROM = "from",
        TO = "to",
        REASON = "reason",
    ]
);

table!(
    /// `tasks.csv`: one row per task, its whole life.
    tasks, "tasks.csv", [
        TASK_ID = "task_id",
        TASK_DEFINITION = "task_definition",
        SERVICE = "service",
        JOB = "job",
        GROUP = "group",
        CLUSTER = "cluster",
        INSTANCE = "instance",
        AVAILABILITY_ZONE = "availability_zone",
        CREATED_MS = "created_ms",
        PENDING_MS = "pending_ms",
        RUNNING_MS = "running_ms",
        STOPPED_MS = "stopped_ms",
        WAIT_MS = "wait_ms",
        OUTCOME = "outcome",
        REASON = "reason",
    ]
);

table!(
    /// `cost.csv` (long format: one row per hour, scope and name).
    cost, "cost.csv", [
        HOUR_START_MS = "hour_start_ms",
        SCOPE = "scope",
        NAME = "name",
        COST_USD = "cost_usd",
    ]
);

table!(
    /// `scaling.csv`: alarm state changes and scaling actions.
    scaling, "scaling.csv", [
        TIME_MS = "time_ms",
        KIND = "kind",
        NAME = "name",
        TARGET = "target",
        FROM = "from",
        TO = "to",
        REASON = "reason",
    ]
);

table!(
    /// `failures.csv`: one row per failure.
    failures, "failures.csv", [
        TIME_MS = "time_ms",
        KIND = "kind",
        TARGET = "target",
        TASKS_LOST = "tasks_lost",
        SERVICES = "services",
        RECOVERED_AFTER_MS = "recovered_after_ms",
    ]
);

table!(
    /// `deployments.csv`: one row per deployment.
    deployments, "deployments.csv", [
        SERVICE = "service",
        DEPLOYMENT_ID = "deployment_id",
        TASK_DEFINITION = "task_definition",
        FROM_TASK_DEFINITION = "from_task_definition",
        STARTED_MS = "started_ms",
        ENDED_MS = "ended_ms",
        DURATION_MS = "duration_ms",
        STATE = "state",
        FAILED_TASKS = "failed_tasks",
        REASON = "reason",
    ]
);

table!(
    /// `placements.csv` (`ecsim run --explain`): one row per placement attempt. The counts add
    /// up: `candidates = not_active + removed_* + feasible`; `tiers` gives how many instances
    /// share the best score after each strategy of the chain (`>`-separated), `tie` how many the
    /// final choice is made among.
    placements, "placements.csv", [
        TIME_MS = "time_ms",
        TASK = "task",
        SERVICE = "service",
        JOB = "job",
        CLUSTER = "cluster",
        CANDIDATES = "candidates",
        NOT_ACTIVE = "not_active",
        REMOVED_AGENT = "removed_agent",
        REMOVED_CPU = "removed_cpu",
        REMOVED_MEMORY = "removed_memory",
        REMOVED_PORTS = "removed_ports",
        REMOVED_ENI = "removed_eni",
        REMOVED_DISTINCT_INSTANCE = "removed_distinct_instance",
        REMOVED_MEMBER_OF = "removed_member_of",
        FEASIBLE = "feasible",
        STRATEGY = "strategy",
        TIERS = "tiers",
        TIE = "tie",
        CHOSEN = "chosen",
        FAILURE = "failure",
    ]
);

table!(
    /// `decisions.csv` (`ecsim run --explain`): one row per scheduler decision other than a
    /// placement. `kind` says what was decided, `subject` whose decision it was, `chosen` what
    /// was chosen, `reason` the rule that decided (a short code) and `details` the numbers it
    /// read, as `key=value` pairs separated by `;` (README "Outputs" lists them per kind).
    decisions, "decisions.csv", [
        TIME_MS = "time_ms",
        KIND = "kind",
        SUBJECT = "subject",
        TASK = "task",
        CHOSEN = "chosen",
        REASON = "reason",
        DETAILS = "details",
    ]
);

table!(
    /// `compare.csv` (`ecsim compare`): one row per variant.
    compare, "compare.csv", [
        VARIANT = "variant",
        DESCRIPTION = "description",
        COST_TOTAL_USD = "cost_total_usd",
        COST_EC2_USD = "cost_ec2_usd",
        COST_EC2_IDLE_USD = "cost_ec2_idle_usd",
        COST_EC2_SPOT_USD = "cost_ec2_spot_usd",
        COST_FARGATE_USD = "cost_fargate_usd",
        COST_FARGATE_SPOT_USD = "cost_fargate_spot_usd",
        COST_PER_TASK_HOUR_USD = "cost_per_task_hour_usd",
        PAID_CAPACITY_USED_PCT = "paid_capacity_used_pct",
        MEAN_CPU_RESERVED_PCT = "mean_cpu_reserved_pct",
        MEAN_MEMORY_RESERVED_PCT = "mean_memory_reserved_pct",
        TASKS_CREATED = "tasks_created",
        TASKS_STARTED = "tasks_started",
        TASKS_WAITED_FOR_CAPACITY = "tasks_waited_for_capacity",
        TASKS_FAILED_TO_PLACE = "tasks_failed_to_place",
        TASKS_NEVER_PLACED = "tasks_never_placed",
        MEAN_WAIT_MS = "mean_wait_ms",
        MAX_WAIT_MS = "max_wait_ms",
        PEAK_INSTANCES = "peak_instances",
        INSTANCE_HOURS = "instance_hours",
        EVENTS_HASH = "events_hash",
    ]
);

/// `metrics.csv`: the fixed columns, then per cluster, service, loaded service and managed
/// capacity provider (in scenario order) one `NAME.SUFFIX` column per suffix of [`metrics::cluster`],
/// [`metrics::service`], [`metrics::load`] and [`metrics::provider`].
pub mod metrics {
    /// The file's name in an output folder.
    pub const FILE: &str = "metrics.csv";
    /// Column `time_ms`.
    pub const TIME_MS: &str = "time_ms";
    /// Column `instances_launching`.
    pub const INSTANCES_LAUNCHING: &str = "instances_launching";
    /// Column `instances_active`.
    pub const INSTANCES_ACTIVE: &str = "instances_active";
    /// Column `instances_draining`.
    pub const INSTANCES_DRAINING: &str = "instances_draining";
    /// Column `instances_stopped`.
    pub const INSTANCES_STOPPED: &str = "instances_stopped";
    /// Column `tasks_provisioning`.
    pub const TASKS_PROVISIONING: &str = "tasks_provisioning";
    /// Column `tasks_pending`.
    pub const TASKS_PENDING: &str = "tasks_pending";
    /// Column `tasks_running`.
    pub const TASKS_RUNNING: &str = "tasks_running";
    /// Column `tasks_stopping`.
    pub const TASKS_STOPPING: &str = "tasks_stopping";
    /// Column `cpu_reserved_pct`.
    pub const CPU_RESERVED_PCT: &str = "cpu_reserved_pct";
    /// Column `memory_reserved_pct`.
    pub const MEMORY_RESERVED_PCT: &str = "memory_reserved_pct";
    /// File name and the fixed leading columns.
    pub const SCHEMA: super::Schema = super::Schema {
        file: FILE,
        columns: &[
            TIME_MS,
            INSTANCES_LAUNCHING,
            INSTANCES_ACTIVE,
            INSTANCES_DRAINING,
            INSTANCES_STOPPED,
            TASKS_PROVISIONING,
            TASKS_PENDING,
            TASKS_RUNNING,
            TASKS_STOPPING,
            CPU_RESERVED_PCT,
            MEMORY_RESERVED_PCT,
        ],
    };

    /// Suffixes of the per-cluster columns.
    pub mod cluster {
        /// Instances running at least one task.
        pub const INSTANCES_IN_USE: &str = "instances_in_use";
        /// `CPUReservation`, percent.
        pub const CPU_RESERVED_PCT: &str = "cpu_reserved_pct";
        /// `MemoryReservation`, percent.
        pub const MEMORY_RESERVED_PCT: &str = "memory_reserved_pct";
        /// In file order.
        pub const SUFFIXES: [&str; 3] = [INSTANCES_IN_USE, CPU_RESERVED_PCT, MEMORY_RESERVED_PCT];
    }

    /// Suffixes of the per-service columns.
    pub mod service {
        /// Desired count.
        pub const DESIRED: &str = "desired";
        /// Tasks RUNNING.
        pub const RUNNING: &str = "running";
        /// Tasks PENDING.
        pub const PENDING: &str = "pending";
        /// Tasks PROVISIONING.
        pub const PROVISIONING: &str = "provisioning";
        /// Tasks STOPPING.
        pub const STOPPING: &str = "stopping";
        /// In file order.
        pub const SUFFIXES: [&str; 5] = [DESIRED, RUNNING, PENDING, PROVISIONING, STOPPING];
    }

    /// Suffixes of the per loaded service columns.
    pub mod load {
        /// Offered requests per second.
        pub const DEMAND_RPS: &str = "demand_rps";
        /// Served requests per second.
        pub const SERVED_RPS: &str = "served_rps";
        /// Unserved requests per second.
        pub const UNSERVED_RPS: &str = "unserved_rps";
        /// Service `CPUUtilization`, percent.
        pub const CPU_UTILIZATION_PCT: &str = "cpu_utilization_pct";
        /// Service `MemoryUtilization`, percent.
        pub const MEMORY_UTILIZATION_PCT: &str = "memory_utilization_pct";
        /// `RequestCountPerTarget`.
        pub const REQUESTS_PER_TARGET: &str = "requests_per_target";
        /// In file order.
        pub const SUFFIXES: [&str; 6] = [
            DEMAND_RPS,
            SERVED_RPS,
            UNSERVED_RPS,
            CPU_UTILIZATION_PCT,
            MEMORY_UTILIZATION_PCT,
            REQUESTS_PER_TARGET,
        ];
    }

    /// Suffixes of the per managed capacity provider columns.
    pub mod provider {
        /// Instances in the group.
        pub const INSTANCES: &str = "instances";
        /// `CapacityProviderReservation`, percent.
        pub const CAPACITY_PROVIDER_RESERVATION_PCT: &str = "capacity_provider_reservation_pct";
        /// In file order.
        pub const SUFFIXES: [&str; 2] = [INSTANCES, CAPACITY_PROVIDER_RESERVATION_PCT];
    }

    /// The column of one entity's value: `NAME.SUFFIX`.
    pub fn column(entity: &str, suffix: &str) -> String {
        format!("{entity}.{suffix}")
    }

    /// The entity a `NAME.SUFFIX` column is about, if it has this suffix.
    pub fn entity<'a>(column: &'a str, suffix: &str) -> Option<&'a str> {
        column.strip_suffix(suffix)?.strip_suffix('.')
    }

    /// Every column of a run with these entities, in file order.
    pub fn columns(h: &ecsim_model::record::RunHeader<'_>) -> Vec<String> {
        let mut cols: Vec<String> = SCHEMA.columns.iter().map(|s| s.to_string()).collect();
        let groups: [(&[&str], &[&str]); 4] = [
            (h.clusters, &cluster::SUFFIXES),
            (h.services, &service::SUFFIXES),
            (h.load_services, &load::SUFFIXES),
            (h.providers, &provider::SUFFIXES),
        ];
        for (entities, suffixes) in groups {
            for e in entities {
                cols.extend(suffixes.iter().map(|s| column(e, s)));
            }
        }
        cols
    }
}

/// A sweep run's file (`runs/pNNNNN-rNNNNN.csv`) and `runs.csv`: `point`, `replicate`, `seed`,
/// one `param.NAME` column per parameter, then every summary field but `wall_ms`.
pub mod runs {
    /// The combined file's name in a sweep output folder.
    pub const FILE: &str = "runs.csv";
    /// Column `point`.
    pub const POINT: &str = "point";
    /// Column `replicate`.
    pub const REPLICATE: &str = "replicate";
    /// Column `seed`.
    pub const SEED: &str = "seed";
    /// The leading columns, in file order.
    pub const SCHEMA: super::Schema = super::Schema {
        file: FILE,
        columns: &[POINT, REPLICATE, SEED],
    };
    /// Prefix of a parameter's column.
    pub const PARAM_PREFIX: &str = "param.";
    /// Summary fields that identify a run rather than measure it.
    pub const NOT_MEASURED: [&str; 4] = [POINT, REPLICATE, SEED, "events_hash"];

    /// A parameter's column.
    pub fn param_column(name: &str) -> String {
        format!("{PARAM_PREFIX}{name}")
    }

    /// The parameter a column holds, if it is a parameter column.
    pub fn param_name(column: &str) -> Option<&str> {
        column.strip_prefix(PARAM_PREFIX)
    }

    /// Summary fields whose values are text (every other summary field is a number).
    pub const TEXT: [&str; 3] = ["scenario", "stop_reason", "events_hash"];

    /// Whether a column holds text rather than a number: parameters (their labels), the fields
    /// in [`TEXT`], and failures' `.kind` and deployments' `.state`.
    pub fn is_text(column: &str) -> bool {
        param_name(column).is_some()
            || TEXT.contains(&column)
            || column.ends_with(".kind")
            || column.ends_with(".state")
    }
}

/// `aggregate.csv`: `point`, the parameter columns of [`runs`], `runs`, then per measured column
/// `NAME.mean`, `NAME.std`, `NAME.ci95_low` and `NAME.ci95_high`.
pub mod aggregate {
    /// The file's name in a sweep output folder.
    pub const FILE: &str = "aggregate.csv";
    /// Column `point`.
    pub const POINT: &str = "point";
    /// Column `runs` (runs at the point).
    pub const RUNS: &str = "runs";
    /// Suffix of a measure's mean.
    pub const MEAN: &str = "mean";
    /// Suffix of a measure's standard deviation.
    pub const STD: &str = "std";
    /// Suffix of the low end of a measure's 95 % confidence interval.
    pub const CI95_LOW: &str = "ci95_low";
    /// Suffix of the high end of a measure's 95 % confidence interval.
    pub const CI95_HIGH: &str = "ci95_high";
    /// The statistics of a measure, in file order.
    pub const STATS: [&str; 4] = [MEAN, STD, CI95_LOW, CI95_HIGH];

    /// The column of a statistic of a measure.
    pub fn stat_column(measure: &str, stat: &str) -> String {
        format!("{measure}.{stat}")
    }

    /// The measure a column holds a statistic of, if it is that statistic's column.
    pub fn measure<'a>(column: &'a str, stat: &str) -> Option<&'a str> {
        column.strip_suffix(stat)?.strip_suffix('.')
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The column lists are what the files have always had.
    #[test]
    fn fixed_columns() {
        assert_eq!(
            events::SCHEMA.columns.join(","),
            "time_ms,kind,entity,service,job,instance,from,to,reason"
        );
        assert_eq!(
            cost::SCHEMA.columns.join(","),
            "hour_start_ms,scope,name,cost_usd"
        );
        assert_eq!(deployments::SCHEMA.columns.len(), 10);
        assert_eq!(tasks::SCHEMA.columns.len(), 15);
        assert_eq!(compare::SCHEMA.columns.len(), 22);
        assert_eq!(
            metrics::entity("web.desired", metrics::service::DESIRED),
            Some("web")
        );
        assert_eq!(
            metrics::entity("webdesired", metrics::service::DESIRED),
            None
        );
        assert_eq!(aggregate::measure("x.y.mean", aggregate::MEAN), Some("x.y"));
        assert_eq!(runs::param_name("param.a"), Some("a"));
    }
}
