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
//! # Tie-breaking (not documented by AWS; ecsim's conventions)
//! * `binpack(F)` ranks by what would remain of F and, on equal F, by what would remain of the
//!   other resource (CPU for memory and memory for CPU): ties in the field pack the second
//!   resource too.
//! * Candidates that every strategy ranks equal go to the smallest random token. Every instance
//!   carries a 64-bit token drawn from the cluster's seeded generator, redrawn whenever its
//!   allocation changes. This costs nothing per placement and is a random choice wherever the
//!   chosen instance leaves the tie group (its free resources or task counts change), which is
//!   the case after `binpack` and `spread`. With [`TieBreak::LowestIndex`] the token is the
//!   instance index instead, which makes choices easy to follow by hand.
//! * Where the choice is among instances that stay equal after a placement (`random`, no
//!   strategy, and `spread(instanceId)` among instances without a task of the group), it is an
//!   exact uniform draw from the cluster's seeded stream: rejection sampling over the ACTIVE
//!   instances, then reservoir sampling over those with room when most are infeasible. Tokens
//!   would favour the instance chosen last there.
//! * A [`Cluster::find`] that finds nothing leaves the stream as it was (a uniform draw's
//!   tries are taken back), so every later choice is the same as if it had not run: a caller
//!   that knows a search would fail (the cluster has not changed since it failed) may skip it.
//!
//! # Indexes
//! Instances are partitioned by their `ecs.availability-zone` attribute. Each partition keeps a
//! list of its `ACTIVE` instances (for uniform draws) and buckets them by free CPU (and, when
//! [`IndexConfig::by_memory`], by free memory), each bucket ordered by the other resource, then
//! by token. A bucket is a list of short sorted vectors (chunks of at most 64 entries, kept in
//! descending order so that binpack's choice is the last entry and leaves without a move): an
//! update is a binary search over the chunks' smallest entries, one in the chunk and a short
//! move, cheaper than an ordered set's at every size, and walks see the same ascending order.
//! An instance remembers the slots of its buckets, so leaving one needs no lookup by amount, and
//! joining one looks the amount up in a small cache, then a hash table (the ordered map of
//! amounts changes only when an amount gets its first instance or loses its last). An entry
//! that leaves a bucket from the middle is not taken out at once: it stays, stale, skipped by
//! walks (its instance's free amounts or token no longer match it), until it reaches the small
//! end or the bucket is compacted, once stale entries outnumber current ones.
//! So `binpack` walks up from the smallest bucket that can hold the task (looking first, in the
//! cache, for the bucket of exactly the task's need) and skips, within a bucket, the instances short of
//! the other resource; `spread(attribute:ecs.availability-zone)`
//! ranks the few partitions before looking inside them; `random` and `spread(instanceId)` draw.
//! Anything the indexes cannot answer falls back to a scan of the candidates, which gives an
//! equally good answer ([`Cluster::find_by_scan`] is the oracle the tests compare with).
// No unsafe code here: the workspace denies it, and only `ecsim_prefetch` allows it.
#![forbid(unsafe_code)]

mod bucket;
mod cluster;
mod explain;
pub mod query;
mod scale_in;
mod select;
mod types;

pub use cluster::{Cluster, IndexConfig, InstanceSpec, InstanceStatus, TieBreak};
pub use explain::{Explanation, STAGES};
pub use query::{Expr, QueryError};
pub use scale_in::StopCandidate;
pub use types::*;
