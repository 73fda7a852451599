//! Scenario files: the schema (see `docs/scenario.md` in the repository) and its validation.
//!
//! Loading goes in three stages: TOML text to a spanned tree ([`tree`]), `--set` overrides applied
//! to the tree, then the tree read into a validated [`Scenario`] by [`read`], which collects every
//! problem with its line, column and field path instead of stopping at the first.
//!
//! The validated types live in one module per section of the file ([`capacity`], [`failures`],
//! [`scaling`] and the private `settings`, `cluster`, `task_definition`, `service` and `job`,
//! all re-exported here); the readers live in `read`, one file per section.

pub mod capacity;
mod cluster;
pub mod ecs_json;
pub mod failures;
mod job;
pub mod read;
pub mod rewrite;
pub mod scaling;
mod service;
mod settings;
mod task_definition;
pub mod tree;
pub mod warnings;

pub use failures::{CircuitBreaker, FailureKind, FailureSettings, FailureTrace, ScriptedFailure};
pub use scaling::{
    AlarmDef, ManagedScaling, ScheduledAction, ServiceMetric, ServiceScaling, Statistic,
    StepScaling, TargetTracking,
};

pub use capacity::{
    CpItem, FargateSettings, LaunchSpec, PricingSettings, ProviderDef, ProviderKind,
    PurchaseOption, Variant, variants,
};
pub use cluster::{ClusterDef, InstanceGroup, MachinesTrace};
pub use job::{Arrival, JobDef, OnNoCapacity};
pub use service::{SchedulingStrategy, ServiceDef};
pub use settings::{RunTaskRate, Settings, SimulationSettings};
pub use task_definition::{NetworkMode, OsFamily, TaskDefinition};

use crate::catalog::InstanceType;
use read::{Cx, Diagnostic};
use tree::Origin;

/// The schema version this build reads.
pub const SCHEMA_VERSION: i64 = 1;

/// A validated scenario: everything the simulation needs, with names resolved to indexes.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// `name`, used for the output folder.
    pub name: String,
    /// The run seed (`seed`, default 1; `--seed` overrides).
    pub seed: u64,
    /// `[simulation]`.
    pub simulation: SimulationSettings,
    /// `[settings]`.
    pub settings: Settings,
    /// Instance types in use (catalog entries and `[[instance_types]]`).
    pub instance_types: Vec<InstanceType>,
    /// `[[clusters]]`.
    pub clusters: Vec<ClusterDef>,
    /// `[[task_definitions]]`.
    pub task_definitions: Vec<TaskDefinition>,
    /// `[[services]]`.
    pub services: Vec<ServiceDef>,
    /// `[[jobs]]`.
    pub jobs: Vec<JobDef>,
    /// `[[actions]]`, sorted by time.
    pub actions: Vec<Action>,
    /// `[fargate]`.
    pub fargate: FargateSettings,
    /// `[pricing]`.
    pub pricing: PricingSettings,
    /// `[failures]`.
    pub failures: FailureSettings,
    /// `[[objectives]]`: what a run must achieve (`ecsim compare` and `ecsim size` judge by
    /// them; `ecsim run` reports them).
    pub objectives: Vec<crate::objectives::Objective>,
    /// Warnings about ECS JSON files the scenario names (`file = "..."`): fields that would
    /// change a simulation but are not modelled, template expressions, unknown fields.
    pub warnings: Vec<Diagnostic>,
}

impl Scenario {
    /// The memory an instance of type `ty` in group `g` registers (see
    /// [`InstanceType::registered_memory_mib`]).
    pub fn registered_memory_mib(&self, g: &InstanceGroup, ty: &InstanceType) -> u32 {
        ty.registered_memory_mib(
            g.os.is_windows(),
            self.settings.os_memory_overhead_pct,
            g.reserved_memory_mib,
        )
    }
}

/// A scripted change.
#[derive(Debug, Clone)]
pub struct Action {
    /// When.
    pub at_ms: u64,
    /// What.
    pub kind: ActionKind,
}

/// What a scripted action does.
#[derive(Debug, Clone)]
pub enum ActionKind {
    /// UpdateService with a new task definition: a rolling deployment.
    Deploy {
        /// Index into [`Scenario::services`].
        service: usize,
        /// Index into [`Scenario::task_definitions`].
        task_definition: usize,
    },
    /// UpdateService with a new desired count.
    SetDesiredCount {
        /// Index into [`Scenario::services`].
        service: usize,
        /// The new desired count.
        desired_count: u32,
    },
}

/// Why a scenario could not be loaded.
#[derive(Debug, Clone)]
pub struct LoadError {
    /// Every problem, in file order.
    pub diagnostics: Vec<Diagnostic>,
    /// Warnings found on the way (ECS JSON fields not modelled, ...): they may explain a
    /// problem, so they are shown with it.
    pub warnings: Vec<Diagnostic>,
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for d in &self.warnings {
            writeln!(f, "warning: {d}")?;
        }
        for d in &self.diagnostics {
            writeln!(f, "error: {d}")?;
        }
        write!(
            f,
            "{} problem{} found",
            self.diagnostics.len(),
            if self.diagnostics.len() == 1 { "" } else { "s" }
        )
    }
}

impl std::error::Error for LoadError {}

/// Load a scenario from its text. `file` names it in messages; `sets` are `path=value`
/// overrides applied before validation.
pub fn load(file: &str, src: &str, sets: &[String]) -> Result<Scenario, LoadError> {
    load_with(
        file,
        src,
        &LoadOptions {
            sets,
            ..LoadOptions::default()
        },
    )
}

/// Reads a file a scenario names (`pricing.file`), given its name as written; the CLI resolves
/// it relative to the scenario. The model itself does no I/O.
pub type FileReader<'a> = &'a dyn Fn(&str) -> Result<String, String>;

/// How to load a scenario beyond its text.
#[derive(Default, Clone, Copy)]
pub struct LoadOptions<'a> {
    /// `PATH=VALUE` overrides, applied after the variant's.
    pub sets: &'a [String],
    /// A variant whose overrides apply first.
    pub variant: Option<&'a Variant>,
    /// Reads a file named in the scenario (`pricing.file`), relative to the scenario.
    pub read_file: Option<FileReader<'a>>,
    /// The file the variant's values were written in (its name and text), when it is not the
    /// scenario: a sweep file. Problems with those values are then reported at their line
    /// there, instead of as overrides.
    pub variant_file: Option<(&'a str, &'a str)>,
}

/// Load a scenario with a variant, overrides and access to the files it names.
pub fn load_with(file: &str, src: &str, opts: &LoadOptions<'_>) -> Result<Scenario, LoadError> {
    // Messages about overridden values name the override: variant ones first, then --set.
    let mut labels: Vec<String> = Vec::new();
    if let Some(v) = opts.variant {
        for (path, _, _) in &v.overrides {
            labels.push(format!("variant {}: {path}", v.name));
        }
    }
    let first_set = labels.len();
    labels.extend(opts.sets.iter().cloned());
    let mut cx = Cx::new(file, src, &labels);
    if let Some((vfile, vsrc)) = opts.variant_file {
        cx = cx.with_other(vfile, vsrc);
    }
    let mut root = cx.parse_source().map_err(|diagnostics| LoadError {
        diagnostics,
        warnings: Vec::new(),
    })?;
    if let Some(v) = opts.variant {
        for (i, (path, steps, value)) in v.overrides.iter().enumerate() {
            let mut value = value.clone();
            if opts.variant_file.is_some() {
                tree::mark_other(&mut value);
            } else {
                tree::relabel(&mut value, i);
            }
            if let Err(e) = tree::apply_set(&mut root, steps, value) {
                cx.error(&Origin::Set(i), path, e);
            }
        }
    }
    for (k, set) in opts.sets.iter().enumerate() {
        let i = first_set + k;
        let Some((path, value)) = set.split_once('=') else {
            cx.error(
                &Origin::Set(i),
                "",
                "expected PATH=VALUE, e.g. clusters[0].count=200",
            );
            continue;
        };
        let applied = tree::parse_path(path.trim()).and_then(|steps| {
            tree::apply_set(&mut root, &steps, tree::parse_set_value(value.trim(), i))
        });
        if let Err(e) = applied {
            cx.error(&Origin::Set(i), path.trim(), e);
        }
    }
    let before = cx.diags.len();
    ecs_json::expand(&mut cx, &mut root, file, opts.read_file);
    // An ECS JSON file that cannot be read leaves its entry incomplete: reading on would only
    // add problems that follow from it (a missing family, an unknown task definition).
    let scenario = if cx.diags.len() > before {
        None
    } else {
        read::read_scenario(&mut cx, &root, opts.read_file)
    };
    let mut diags = cx.diags;
    let warnings = std::mem::take(&mut cx.warnings);
    if diags.is_empty()
        && let Some(mut s) = scenario
    {
        s.warnings = warnings;
        return Ok(s);
    }
    diags.sort_by_key(|d| (d.from_set.is_some(), d.file != file, d.line, d.column));
    diags.dedup();
    Err(LoadError {
        diagnostics: diags,
        warnings,
    })
}
