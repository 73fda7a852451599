//! Launch types, capacity providers, Fargate and pricing settings, and variants: the validated
//! types (read by `read::capacity`, `read::simulation`, `read::pricing` and `read::variants`).

use ecsim_placement::host_port;

pub use super::read::variants;
use super::tree::{self, Node};
use crate::dist::Dist;
use crate::pricing::PricingTable;

/// What a capacity provider is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProviderKind {
    /// An EC2 Auto Scaling group: index into the cluster's groups.
    Asg {
        /// The instance group that is the Auto Scaling group.
        group: usize,
    },
    /// `FARGATE`.
    Fargate,
    /// `FARGATE_SPOT`.
    FargateSpot,
}

/// A capacity provider associated with a cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderDef {
    /// Name (`FARGATE`, `FARGATE_SPOT`, or the Auto Scaling group provider's name).
    pub name: String,
    /// Kind.
    pub kind: ProviderKind,
}

/// One item of a capacity provider strategy (ECS-API `CapacityProviderStrategyItem`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CpItem {
    /// Index into the cluster's `capacity_providers`.
    pub provider: usize,
    /// Minimum number of tasks on this provider.
    pub base: u32,
    /// Share of the tasks beyond the bases.
    pub weight: u32,
}

/// Where a service's or job's tasks run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LaunchSpec {
    /// Launch type EC2: any container instance of the cluster.
    Ec2,
    /// Launch type FARGATE.
    Fargate,
    /// A capacity provider strategy.
    Strategy(Vec<CpItem>),
}

/// Whether an instance group runs On-Demand or Spot instances.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PurchaseOption {
    /// On-Demand.
    OnDemand,
    /// Spot.
    Spot,
}

/// `[fargate]`: Fargate's timing and launch-rate limit.
#[derive(Debug, Clone)]
pub struct FargateSettings {
    /// PROVISIONING to PENDING (ENI attachment). Default 5 s: AWS says ENI provisioning adds
    /// "several seconds" (ECS-DG task-recommendations.html).
    pub provisioning_delay: Dist,
    /// PENDING to RUNNING (image pull and start; billing starts at PENDING). Default log-normal,
    /// median 20 s, sigma 0.5 (mean about 23 s): AWS publishes no figure; community
    /// measurements of Fargate start-up put the total at roughly 20 to 60 seconds.
    pub image_pull_delay: Dist,
    /// Apply the account's launch-rate token bucket (ECS-DG throttling.html).
    pub launch_rate_limit: bool,
    /// Bucket size (burst), tasks.
    pub launch_burst: u32,
    /// Refill rate, tasks per second.
    pub launch_refill_per_s: f64,
}

impl Default for FargateSettings {
    fn default() -> Self {
        FargateSettings {
            provisioning_delay: Dist::Fixed(5_000),
            image_pull_delay: Dist::LogNormal {
                median_ms: 20_000.0,
                sigma: 0.5,
            },
            launch_rate_limit: true,
            launch_burst: 100,
            launch_refill_per_s: 20.0,
        }
    }
}

/// `[pricing]`: which table, and the discounts that apply.
#[derive(Debug, Clone)]
pub struct PricingSettings {
    /// The table.
    pub table: PricingTable,
    /// Savings Plan or Reserved Instance discount on On-Demand EC2, percent.
    pub ec2_discount_pct: f64,
    /// Compute Savings Plan discount on Fargate (not Fargate Spot), percent.
    pub fargate_discount_pct: f64,
    /// Spot price as a discount from On-Demand, percent, instead of the table's Spot prices.
    pub ec2_spot_discount_pct: Option<f64>,
    /// Spot prices multiplied by `factor` from time `at` (piecewise constant), sorted.
    pub spot_price_changes: Vec<(u64, f64)>,
    /// EBS gp3 volume per instance, GB.
    pub ebs_gb_per_instance: u32,
}

/// A named set of overrides, for `ecsim compare`.
#[derive(Debug, Clone)]
pub struct Variant {
    /// Name (a column of compare.csv).
    pub name: String,
    /// What it shows.
    pub description: String,
    /// (path as written, parsed path, value).
    pub overrides: Vec<(String, Vec<tree::Step>, Node)>,
}

/// Valid Fargate memory sizes (MiB) for a CPU size (ECS-DG AWS_Fargate.html, task-cpu-memory-error.html;
/// FG-PRICE for 32 vCPU). Windows takes only 1, 2 and 4 vCPU.
pub fn fargate_memory_options(cpu: u32, windows: bool) -> Option<Vec<u32>> {
    let gb = |a: u32, b: u32, step: u32| {
        (a..=b)
            .step_by(step as usize)
            .map(|g| g * 1024)
            .collect::<Vec<u32>>()
    };
    if windows && !matches!(cpu, 1024 | 2048 | 4096) {
        return None;
    }
    Some(match cpu {
        256 => vec![512, 1024, 2048],
        512 => gb(1, 4, 1),
        1024 => gb(2, 8, 1),
        2048 => gb(4, 16, 1),
        4096 => gb(8, 30, 1),
        8192 => gb(16, 60, 4),
        16384 => gb(32, 120, 8),
        32768 => vec![60 * 1024, 120 * 1024, 244 * 1024],
        _ => return None,
    })
}

/// Static host port helper re-exported for tests.
pub fn tcp(port: u16) -> ecsim_placement::HostPort {
    host_port(port, false)
}
