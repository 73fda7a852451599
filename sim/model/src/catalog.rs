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
    /// On-Demand Linux price, us-east-1, USD per hour: the catalog's, or a custom type's
    /// `price_per_hour_usd` (`None`: not given). A pricing table's price for the same name is
    /// the one billed (see `docs/scenario.md`, "Which price is billed").
    pub price_per_hour_usd: Option<f64>,
    /// Spot price, USD per hour, for a custom type the pricing table has no Spot price for.
    pub spot_price_per_hour_usd: Option<f64>,
    /// awsvpc tasks with ENI trunking (`awsvpcTrunking`, ECS-DG `container-instance-eni.html`);
    /// `None`: the type does not support trunking and keeps [`InstanceType::eni_tasks`].
    pub trunk_eni_tasks: Option<u32>,
}

/// Registered memory AWS documents, (type, Linux MiB, Windows MiB) before `ECS_RESERVED_MEMORY`
/// (ecs-semantics 2.3): ECS-DG `memory-management.html` gives the m4.large (8 GiB) as 8,373,026,816
/// bytes = 7,985 MiB on Linux and 8,589,524,992 bytes = 8,191 MiB on Windows; ECS-DG
/// `cloudwatch-metrics.html` gives the c4.large as 3,768 MiB (Linux).
pub const DOCUMENTED_REGISTERED_MEMORY: &[(&str, u32, Option<u32>)] =
    &[("m4.large", 7985, Some(8191)), ("c4.large", 3768, None)];

/// The Linux OS overhead in MiB for `nominal_mib` of memory: the straight line through AWS's two
/// documented Linux figures (m4.large: 8,192 - 7,985 = 207 MiB; c4.large: 3,840 - 3,768 = 72 MiB),
/// `(135 x nominal - 205,056) / 4,352`, rounded up, and never negative. It reproduces both
/// figures exactly (207 and 72 are whole); elsewhere it is ecsim's convention (AWS documents no
/// other type): 80 MiB on 4 GiB, 207 on 8 GiB, 462 on 16 GiB, 4,019 (3.1 %) on 128 GiB.
pub fn linux_overhead_mib(nominal_mib: u32) -> u32 {
    let num = 135 * i64::from(nominal_mib) - 205_056;
    if num <= 0 {
        0
    } else {
        (num as u64).div_ceil(4352) as u32
    }
}

/// The Windows OS overhead in MiB: Windows on an m4.large reports 8,589,524,992 of 8,589,934,592
/// bytes (ECS-DG `memory-management.html`), 400 KiB less, which the agent's whole-MiB figure
/// turns into 1 MiB. ecsim keeps those 400 KiB on every Windows instance (the one documented case).
pub fn windows_overhead_mib(nominal_mib: u32) -> u32 {
    let bytes = u64::from(nominal_mib) * 1024 * 1024 - 400 * 1024;
    nominal_mib - (bytes / (1024 * 1024)) as u32
}

impl InstanceType {
    /// Memory the agent registers, in this order of precedence: the type's exact
    /// `registered_memory_mib` (custom types); AWS's documented figure for the type and OS
    /// ([`DOCUMENTED_REGISTERED_MEMORY`]); nominal less `os_overhead_pct` percent (rounded down)
    /// when the scenario sets one; else nominal less [`linux_overhead_mib`] or
    /// [`windows_overhead_mib`]. In every case less `reserved_memory_mib` (`ECS_RESERVED_MEMORY`).
    pub fn registered_memory_mib(
        &self,
        windows: bool,
        os_overhead_pct: Option<f64>,
        reserved_memory_mib: u32,
    ) -> u32 {
        let documented = || {
            DOCUMENTED_REGISTERED_MEMORY
                .iter()
                .find(|d| d.0 == self.name)
                .and_then(|d| if windows { d.2 } else { Some(d.1) })
        };
        let base = self
            .registered_memory_mib
            .or_else(documented)
            .unwrap_or_else(|| match os_overhead_pct {
                Some(pct) => (f64::from(self.memory_mib) * (1.0 - pct / 100.0)).floor() as u32,
                None if windows => self.memory_mib - windows_overhead_mib(self.memory_mib),
                None => self.memory_mib - linux_overhead_mib(self.memory_mib),
            });
        base.saturating_sub(reserved_memory_mib)
    }

    /// awsvpc tasks the type can hold without ENI trunking.
    pub fn eni_tasks(&self) -> u32 {
        self.max_enis.saturating_sub(1)
    }

    /// The awsvpc task limit of an instance of this type launched at `launched_ms`, and whether
    /// it has a trunk ENI. `trunking_since_ms` is when `awsvpcTrunking` was switched on for the
    /// instance's cluster (`None`: off). ECS-DG `container-instance-eni.html` (ecs-semantics
    /// 2.5): the setting applies to instances launched after it is switched on, and only on
    /// types that support trunking; every other instance holds `max_enis - 1` awsvpc tasks.
    pub fn awsvpc_task_limit(
        &self,
        trunking_since_ms: Option<u64>,
        launched_ms: u64,
    ) -> AwsvpcLimit {
        match (trunking_since_ms, self.trunk_eni_tasks) {
            (Some(since), Some(tasks)) if launched_ms >= since => {
                AwsvpcLimit { tasks, trunk: true }
            }
            _ => AwsvpcLimit {
                tasks: self.eni_tasks(),
                trunk: false,
            },
        }
    }
}

/// An instance's awsvpc task limit ([`InstanceType::awsvpc_task_limit`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AwsvpcLimit {
    /// awsvpc tasks it can hold at once.
    pub tasks: u32,
    /// It has a trunk ENI (and registers only once the trunk ENI exists).
    pub trunk: bool,
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
        "instance_type,vcpu,memory_gib,architecture,max_enis,price_per_hour_usd,trunk_eni_tasks"
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
                price_per_hour_usd: Some(f[5].parse().expect("price")),
                spot_price_per_hour_usd: None,
                trunk_eni_tasks: match f[6] {
                    "" => None,
                    n => Some(n.parse().expect("trunk_eni_tasks")),
                },
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

    /// ecs-semantics 2.3, ECS-DG `memory-management.html`: an m4.large (8 GiB) registers exactly
    /// 7,985 MiB on Linux and 8,191 MiB on Windows; with `ECS_RESERVED_MEMORY=256` it registers
    /// 256 MiB less. (ecsim registered 7,987 with its rounded 2.5 % overhead.)
    #[test]
    fn registered_memory_matches_the_documented_m4_large() {
        let m4 = get("m4.large");
        assert_eq!(m4.registered_memory_mib(false, None, 0), 7985);
        assert_eq!(m4.registered_memory_mib(false, None, 256), 7985 - 256);
        assert_eq!(m4.registered_memory_mib(true, None, 0), 8191);
        assert_eq!(m4.cpu_units, 2048);
    }

    /// ecs-semantics 2.3, ECS-DG `cloudwatch-metrics.html`: a c4.large registers 2,048 CPU units
    /// and exactly 3,768 MiB (ecsim registered 3,744).
    #[test]
    fn c4_large_registers_the_documented_3768_mib() {
        let c4 = get("c4.large");
        assert_eq!(c4.cpu_units, 2048);
        assert_eq!(c4.memory_mib, 3840);
        assert_eq!(c4.registered_memory_mib(false, None, 0), 3768);
    }

    /// ecs-semantics 2.3: the overhead formulas reproduce AWS's documented figures from the
    /// nominal memory alone (m4.large and m5.large have 8 GiB, c4.large 3.75 GiB), so types AWS
    /// gives no figure for follow the same rule; Windows keeps its own (400 KiB, 1 MiB).
    #[test]
    fn overhead_formulas_reproduce_the_documented_figures() {
        assert_eq!(8192 - linux_overhead_mib(8192), 7985);
        assert_eq!(3840 - linux_overhead_mib(3840), 3768);
        assert_eq!(8192 - windows_overhead_mib(8192), 8191);
        assert_eq!(get("m5.large").registered_memory_mib(false, None, 0), 7985);
        assert_eq!(get("m5.large").registered_memory_mib(true, None, 0), 8191);
        assert_eq!(linux_overhead_mib(1024), 0, "never negative");
        // A scenario's explicit percentage still applies to undocumented types only.
        assert_eq!(
            get("m5.large").registered_memory_mib(false, Some(2.5), 0),
            7987
        );
        assert_eq!(
            get("m4.large").registered_memory_mib(false, Some(2.5), 0),
            7985
        );
        for t in builtin() {
            let reg = t.registered_memory_mib(false, None, 0);
            assert!(
                reg < t.memory_mib && reg > t.memory_mib / 100 * 96,
                "{t:?}: {reg}"
            );
        }
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

    /// ecs-semantics 2.5 (ECS-DG `container-instance-eni.html`, the trunking table): with
    /// `awsvpcTrunking`, .large types of the listed families hold 10 awsvpc tasks (2 without),
    /// .xlarge 20 (3), .2xlarge 40 (3), .4xlarge 60 (7); t3, m4, c4 and r7g are not in the list
    /// and keep `max_enis - 1`.
    #[test]
    fn trunking_limits_per_type() {
        let limit = |name: &str, on: bool| get(name).awsvpc_task_limit(on.then_some(0), 0);
        for (name, without, with) in [
            ("m5.large", 2, 10),
            ("c5.large", 2, 10),
            ("r5.large", 2, 10),
            ("m6i.large", 2, 10),
            ("c6i.large", 2, 10),
            ("r6i.large", 2, 10),
            ("m6g.large", 2, 10),
            ("c6g.large", 2, 10),
            ("r6g.large", 2, 10),
            ("m7g.large", 2, 10),
            ("c7g.large", 2, 10),
            ("m5.xlarge", 3, 20),
            ("c6g.xlarge", 3, 20),
            ("m5.2xlarge", 3, 40),
            ("r6g.2xlarge", 3, 40),
            ("m5.4xlarge", 7, 60),
            ("c7g.4xlarge", 7, 60),
        ] {
            assert_eq!(
                limit(name, false),
                AwsvpcLimit {
                    tasks: without,
                    trunk: false
                },
                "{name} without trunking"
            );
            assert_eq!(
                limit(name, true),
                AwsvpcLimit {
                    tasks: with,
                    trunk: true
                },
                "{name} with trunking"
            );
        }
        for name in [
            "t3.medium",
            "t3.large",
            "t3.xlarge",
            "m4.large",
            "c4.large",
            "r7g.large",
        ] {
            let ty = get(name);
            assert_eq!(ty.trunk_eni_tasks, None, "{name}: not supported");
            assert_eq!(limit(name, true), limit(name, false), "{name}");
            assert!(!limit(name, true).trunk);
        }
        // Every type of a listed family supports it, at the table's figure for its size.
        for t in builtin() {
            let (family, size) = t.name.split_once('.').unwrap();
            let listed = [
                "c5", "m5", "r5", "m6i", "c6i", "r6i", "m6g", "c6g", "r6g", "m7g", "c7g",
            ]
            .contains(&family);
            let want = match size {
                "large" => 10,
                "xlarge" => 20,
                "2xlarge" => 40,
                "4xlarge" => 60,
                _ => 4,
            };
            assert_eq!(t.trunk_eni_tasks, listed.then_some(want), "{}", t.name);
        }
    }

    /// ECS-DG `container-instance-eni.html` (ecs-semantics 2.5): `awsvpcTrunking` applies to
    /// instances launched after it is switched on; an instance launched before keeps
    /// `max_enis - 1` awsvpc tasks and has no trunk ENI.
    #[test]
    fn trunking_applies_to_instances_launched_after_it_is_on() {
        let m5 = get("m5.large");
        let before = m5.awsvpc_task_limit(Some(60_000), 59_999);
        assert_eq!(
            before,
            AwsvpcLimit {
                tasks: 2,
                trunk: false
            }
        );
        let after = m5.awsvpc_task_limit(Some(60_000), 60_000);
        assert_eq!(
            after,
            AwsvpcLimit {
                tasks: 10,
                trunk: true
            }
        );
    }

    #[test]
    fn catalog_is_complete_and_priced() {
        let all = builtin();
        assert!(all.len() >= 40);
        for t in &all {
            assert!(
                t.price_per_hour_usd.is_some_and(|p| p > 0.0)
                    && t.cpu_units >= 2048
                    && t.memory_mib >= 3840,
                "{t:?}"
            );
            assert!(t.architecture == "x86_64" || t.architecture == "arm64");
        }
        assert_eq!(get("m7g.large").price_per_hour_usd, Some(0.0816));
    }
}
