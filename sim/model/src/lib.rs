//! The ECS domain of ecsim.
//!
//! The principal types are [`scenario::Scenario`] (a validated scenario file, loaded by
//! [`scenario::load`]), [`sim::Simulation`] (one run of a scenario with a seed), the records
//! a run emits through a [`record::Sink`], and the [`record::Summary`] it returns.
//!
//! Inside a run, `core` is the only code that changes tasks and instances; one module per ECS
//! concept (`launch`, `job`, `service`, `autoscaling`, `cluster_autoscaling`, `failures`,
//! `metrics`, `billing`) keeps its own state and decides; `sim` routes events and applies the
//! decisions. See ARCHITECTURE.md.
//!
//! Nothing here reads files, prints or exits: the CLI does that. A run is a pure function of the
//! scenario, the seed and the code version.
// No unsafe code here: the workspace denies it, and only `ecsim_prefetch` allows it.
#![forbid(unsafe_code)]

pub mod audit;
pub mod autoscaling;
pub mod billing;
pub mod catalog;
pub(crate) mod cluster_autoscaling;
pub(crate) mod core;
pub mod dist;
pub(crate) mod failures;
pub mod ids;
pub mod input;
pub(crate) mod job;
pub(crate) mod launch;
pub mod load;
pub(crate) mod metrics;
pub mod objectives;
pub mod pricing;
pub mod record;
pub mod scenario;
pub mod search;
pub(crate) mod service;
pub mod sim;
pub mod sweep;
pub mod trace;
