//! ECS JSON: task definitions, services, clusters, capacity providers, container instances and
//! Application Auto Scaling targets and policies as AWS writes them (API inputs and outputs,
//! CloudFormation templates, Terraform's `container_definitions`), mapped onto the scenario's
//! fields. `docs/ecs-json.md` in the repository lists what is read, what is ignored and what is
//! warned about.
//!
//! Two ways in, one mapping: a scenario entry with `file = "td.json"` (`expand`, run on the
//! spanned tree before it is read, so the scenario's own checks see the JSON values with their
//! JSON positions), and `ecsim import` ([`import()`]), which writes the same values as TOML.
//! The model does no I/O: the CLI reads the files and hands their text in.

mod cloudformation;
pub mod cluster;
pub mod document;
mod expand;
pub mod import;
pub mod json;
pub mod obj;
pub mod scaling;
mod service;
mod task_definition;

pub use document::{Document, Item, read};
pub(crate) use expand::expand;
pub use import::{Imported, import};
