//! The ECS domain of ecsim.
//!
//! The principal types are [`scenario::Scenario`] (a validated scenario file, loaded by
//! [`scenario::load`]), [`sim::Simulation`] (one run of a scenario with a seed), the records
//! a run emits through a [`record::Sink`], and the [`record::Summary`] it returns.
//!
//! Nothing here reads files, prints or exits: the CLI does that. A run is a pure function of the
//! scenario, the seed and the code version.

pub mod autoscaling;
pub mod billing;
pub mod catalog;
pub mod dist;
pub mod load;
pub mod pricing;
pub mod record;
pub mod scenario;
pub mod sim;
pub mod sweep;
