//! Reading a spanned tree into validated values while collecting every problem.
//!
//! Each reader takes the node and its path (`services[2].desired_count`), returns `None` after
//! recording a [`Diagnostic`] when the value is wrong, and never stops at the first error.
//! The reading context and its typed helpers are in `cx`; the readers, one file per section of
//! the scenario file, are private to this module.

mod actions;
mod capacity;
mod checks;
mod clusters;
mod cx;
mod failures;
mod jobs;
mod load;
mod machines;
mod names;
mod objectives;
mod prices;
mod pricing;
mod scaling;
mod scenario;
mod services;
mod simulation;
mod task_definitions;
mod values;
mod variants;

pub use cx::{
    Cx, Diagnostic, MAX_NAME_CHARS, NameRule, Tbl, closest_name, escape_controls, quote_list,
    read_document, shown,
};
pub(crate) use cx::{entries, string_array};
pub(in crate::scenario) use scenario::read_scenario;
pub(crate) use variants::read_variant;
pub use variants::variants;

/// What every reader file uses: the context, the tree, the validated types and the other readers.
mod prelude {
    pub(super) use ecsim_placement::{
        BinpackField, Constraint, Expr, HostPort, MAX_CONSTRAINTS, MAX_STRATEGIES, SpreadField,
        Strategy, TieBreak, host_port,
    };

    pub(super) use super::cx::{Cx, NameRule, Tbl, entries, quote_list, read_document, shown};
    pub(super) use super::{
        actions::*, capacity::*, checks::*, clusters::*, failures::*, jobs::*, load::*,
        machines::*, names::*, objectives::*, prices::*, pricing::*, scaling::*, scenario::*,
        services::*, simulation::*, task_definitions::*, values::*,
    };
    pub(super) use crate::autoscaling::{AdjustmentType, Comparison, Step, TreatMissing};
    pub(super) use crate::catalog::{self, InstanceType};
    pub(super) use crate::dist::Dist;
    pub(super) use crate::load::{Component, LoadModel};
    pub(super) use crate::pricing;
    pub(super) use crate::scenario::tree::{self, Kind, Node, Origin};
    pub(super) use crate::scenario::{
        Action, ActionKind, AlarmDef, Arrival, CircuitBreaker, ClusterDef, CpItem, FailureKind,
        FailureSettings, FailureTrace, FargateSettings, FileReader, InstanceGroup, JobDef,
        LaunchSpec, LoadError, ManagedScaling, NetworkMode, OnNoCapacity, OsFamily,
        PricingSettings, ProviderDef, ProviderKind, PurchaseOption, SCHEMA_VERSION, Scenario,
        ScheduledAction, SchedulingStrategy, ScriptedFailure, ServiceDef, ServiceMetric,
        ServiceScaling, Settings, SimulationSettings, Statistic, StepScaling, TargetTracking,
        TaskDefinition, Variant, capacity::fargate_memory_options,
    };
    pub(super) use crate::trace::{DEFAULT_REORDER_ROWS, TasksPerRow, TraceFormat, TraceSpec};
}
