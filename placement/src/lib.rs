//! ECS task placement as a pure library.
//!
//! The principal types are [`Cluster`] (the container instances of one ECS cluster, their free
//! resources and the indexes over them), [`TaskRequest`] (what one task needs and how it wants to
//! be placed), [`Strategy`] and [`Constraint`] (ECS's placement strategies and constraints), and
//! [`PlacementFailure`] (why nothing fit).
//!
//! # The pipeline
//! [`Cluster::find`] follows the order of the ECS developer guide (`task-placement.html`):
//! 1. **resource filter**: the instance is `ACTIVE`, its agent is connected, and it has the CPU
//!    units, memory, static host ports and (for `awsvpc`) the free ENI attachment the task needs;
//! 2. **constraint filter**: every constraint holds (`distinctInstance`, `memberOf` with the
//!    cluster query language, see [`query`]); constraints are binding;
//! 3. **strategy ranking**: the strategies, in order, rank the candidates lexicographically (rank by
//!    the first, keep the best group, rank that group by the second, ...). Strategies are best
//!    effort: any candidate that passed 1 and 2 can be chosen;
//! 4. **selection**: remaining ties are broken by a per-instance random token (see below).
//!
//! # Tie-breaking (not documented by AWS)
//! Every instance carries a 64-bit token drawn from the cluster's seeded generator when it is
//! added and redrawn every time its allocation changes. Among candidates that every strategy
//! ranks equal, the one with the smallest token wins. Tokens are independent uniform draws, so
//! this is a random choice among the tied instances that costs nothing per placement. With
//! [`TieBreak::LowestIndex`] the token is the instance index instead, which makes choices easy to
//! follow by hand.
//!
//! An explicit `random` strategy is different: it is an exact uniform choice among the
//! candidates the strategies before it left, drawn from the cluster's own seeded stream
//! (rejection sampling over the ACTIVE instances, then reservoir sampling if most are
//! infeasible). Tokens would not do here: the chosen instance stays a candidate with a fresh
//! token while the others keep tokens that lost the draw, which would favour it.
//!
//! # Indexes
//! Instances are partitioned by their `ecs.availability-zone` attribute. Each partition keeps
//! ordered sets of its `ACTIVE` instances by free CPU, by free memory and by token, so that
//! `binpack` walks from the smallest instance that can hold the task, `random` and
//! `spread(instanceId)` walk in token order, and `spread(attribute:ecs.availability-zone)` ranks
//! the few partitions before looking inside them. Only the sets that [`IndexConfig`] asks for are
//! maintained. Anything the indexes cannot answer falls back to a scan of the candidates, which
//! gives the same answer.

mod cluster;
pub mod query;
mod scale_in;
mod select;
mod types;

pub use cluster::{Cluster, IndexConfig, InstanceSpec, InstanceStatus, TieBreak};
pub use query::{Expr, QueryError};
pub use scale_in::StopCandidate;
pub use types::*;
