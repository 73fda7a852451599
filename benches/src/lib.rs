//! Shared set-up for the criterion benchmarks in `benches/`: clusters preloaded to a given
//! utilisation with a fixed seed, so every run measures the same work.

use ecsim_engine::Streams;
use ecsim_placement::*;
use rand::RngExt;

/// The strategy chains the placement benchmark measures.
pub fn chains() -> Vec<(&'static str, Vec<Strategy>)> {
    let az = || Strategy::Spread(SpreadField::Attribute(AZ_ATTRIBUTE.into()));
    vec![
        ("binpack-cpu", vec![Strategy::Binpack(BinpackField::Cpu)]),
        (
            "spread-az-binpack-memory",
            vec![az(), Strategy::Binpack(BinpackField::Memory)],
        ),
        (
            "spread-az-instance",
            vec![az(), Strategy::Spread(SpreadField::Instance)],
        ),
        ("random", vec![Strategy::Random]),
    ]
}

/// `n` instances of 4,096 CPU units / 16,384 MiB over three AZs, loaded to about `load` of their
/// CPU with tasks of four sizes in 64 groups (fixed seed).
pub fn loaded_cluster(n: u32, load: f64) -> (Cluster, Vec<GroupId>) {
    let cfg = IndexConfig {
        by_memory: true,
        az_counts: true,
        spread_attributes: vec![],
        tie_break: TieBreak::Random,
    };
    let mut c = Cluster::new(cfg, 1);
    let azs = ["us-east-1a", "us-east-1b", "us-east-1c"];
    for i in 0..n {
        let id = c.add_instance(InstanceSpec {
            ec2_instance_id: format!("i-{i:017x}"),
            cpu_units: 4096,
            memory_mib: 16384,
            eni_tasks: 3,
            attributes: vec![(AZ_ATTRIBUTE.into(), azs[i as usize % 3].into())],
            agent_version: "1.90.0".into(),
            pool: 0,
        });
        c.set_status(id, InstanceStatus::Active, 0);
    }
    let groups: Vec<GroupId> = (0..64).map(|g| c.group(&format!("family:g{g}"))).collect();
    let mut rng = Streams::new(7).stream("bench-load");
    let target = (f64::from(n) * 4096.0 * load) as u64;
    let mut placed = 0u64;
    let chain = [Strategy::Random];
    while placed < target {
        let cpu = 256 << rng.random_range(0..4);
        let r = TaskRequest {
            cpu_units: cpu,
            memory_mib: cpu * 2,
            host_ports: &[],
            needs_eni: false,
            group: groups[rng.random_range(0..groups.len())],
            constraints: &[],
            strategy: &chain,
            pool: None,
        };
        match c.find(&r) {
            Some(id) => c.allocate(id, &r),
            None => break,
        }
        placed += u64::from(cpu);
    }
    (c, groups)
}
