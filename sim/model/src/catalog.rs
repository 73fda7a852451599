//! The EC2 instance-type catalog shipped as data (`data/ec2-instance-types.csv`), and how an
//! instance type turns into registered resources.

/// One instance type.
#[derive(Debug, Clone, PartialEq)]
pub struct InstanceType {
    /// `m5.large`.
    pub name: String,
    /// CPU units the agent registers: vCPU x 1024 (ECS-DG `task_definition_parameters.html`).
    pub cpu_units: u32,
    /// Nominal memory, MiB (GiB x 1024).
    pub memory_mib: u32,
    /// Memory the agent registers before `reserved_memory_mib`, when known exactly (custom
    /// types); otherwise nominal less the OS overhead.
    pub registered_memory_mib: Option<u32>,
    /// `x86_64` or `arm64` (the `ecs.cpu-architecture` attribute).
    pub architecture: String,
    /// Network interfaces; awsvpc tasks without trunking = `max_enis - 1` (ECS-DG `container-instance-eni.html`).
    pub max_enis: u32,
    /// On-Demand Linux price, us-east-1, USD per hour.
    pub price_per_hour_usd: f64,
}

impl InstanceType {
    /// Memory the agent registers: the exact value if known, else nominal less `os_overhead_pct`
    /// percent (rounded down), in both cases less `reserved_memory_mib` (`ECS_RESERVED_MEMORY`).
    ///
    /// AWS documents the registered memory of only two types (ECS-DG `memory-management.html`:
    /// m4.large 8 GiB registers 7,985 MiB; `cloudwatch-metrics.html`: c4.large registers 3,768
    /// MiB); the m4.large case loses 2.5 %, which is ecsim's default overhead.
    pub fn registered_memory_mib(&self, os_overhead_pct: f64, reserved_memory_mib: u32) -> u32 {
        let base = self.registered_memory_mib.unwrap_or_else(|| {
            (f64::from(self.memory_mib) * (1.0 - os_overhead_pct / 100.0)).floor() as u32
        });
        base.saturating_sub(reserved_memory_mib)
    }

    /// awsvpc tasks the type can hold without ENI trunking.
    pub fn eni_tasks(&self) -> u32 {
        self.max_enis.saturating_sub(1)
    }
}

/// The catalog's date (`catalog_date` in the data file).
pub const CATALOG_DATE: &str = "2026-06";

const DATA: &str = include_str!("../data/ec2-instance-types.csv");

/// The shipped catalog, in file order.
pub fn builtin() -> Vec<InstanceType> {
    let mut lines = DATA
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty());
    let header = lines.next().expect("catalog header");
    assert_eq!(
        header,
        "instance_type,vcpu,memory_gib,architecture,max_enis,price_per_hour_usd"
    );
    lines
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            let gib: f64 = f[2].parse().expect("memory_gib");
            InstanceType {
                name: f[0].to_string(),
                cpu_units: f[1].parse::<u32>().expect("vcpu") * 1024,
                memory_mib: (gib * 1024.0).round() as u32,
                registered_memory_mib: None,
                architecture: f[3].to_string(),
                max_enis: f[4].parse().expect("max_enis"),
                price_per_hour_usd: f[5].parse().expect("price"),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(name: &str) -> InstanceType {
        builtin().into_iter().find(|t| t.name == name).unwrap()
    }

    /// ECS-DG `memory-management.html`: an m4.large (8 GiB) registers 7,985 MiB on Linux; with
    /// `ECS_RESERVED_MEMORY=256` it registers 256 MiB less. Our 2.5 % default lands within 0.05 %.
    #[test]
    fn registered_memory_matches_the_documented_m4_large() {
        let m4 = get("m4.large");
        let reg = m4.registered_memory_mib(2.5, 0);
        assert!(reg.abs_diff(7985) <= 4, "{reg}");
        assert_eq!(m4.registered_memory_mib(2.5, 256), reg - 256);
        assert_eq!(m4.cpu_units, 2048);
    }

    /// ECS-DG `cloudwatch-metrics.html`: a c4.large registers 2,048 CPU units (and 3,768 MiB, which
    /// a custom type can state exactly with `registered_memory_mib`).
    #[test]
    fn c4_large_registers_2048_cpu_units() {
        let c4 = get("c4.large");
        assert_eq!(c4.cpu_units, 2048);
        assert_eq!(c4.memory_mib, 3840);
    }

    /// ECS-DG `container-instance-eni.html`: without trunking, awsvpc tasks = max ENIs - 1
    /// (m5.large 2, m5.xlarge 3, m5.4xlarge 7).
    #[test]
    fn eni_task_limits() {
        assert_eq!(get("m5.large").eni_tasks(), 2);
        assert_eq!(get("m5.xlarge").eni_tasks(), 3);
        assert_eq!(get("m5.4xlarge").eni_tasks(), 7);
        assert_eq!(get("t3.medium").eni_tasks(), 2);
    }

    #[test]
    fn catalog_is_complete_and_priced() {
        let all = builtin();
        assert!(all.len() >= 40);
        for t in &all {
            assert!(
                t.price_per_hour_usd > 0.0 && t.cpu_units >= 2048 && t.memory_mib >= 3840,
                "{t:?}"
            );
            assert!(t.architecture == "x86_64" || t.architecture == "arm64");
        }
        assert_eq!(get("m7g.large").price_per_hour_usd, 0.0816);
    }
}
