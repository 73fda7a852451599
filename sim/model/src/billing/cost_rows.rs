//! cost.csv: the ledger's hours as long-format rows (scope, name, cost), written as hours close,
//! and their totals for the summary.

use super::{HourCosts, Ledger};
use crate::pricing::Money;
use crate::record::{CostRow, CostSummary, Sink};
use crate::scenario::{LaunchSpec, Scenario};

/// Whether cost.csv has Fargate rows: some owner can launch on Fargate.
pub(crate) fn has_fargate(sc: &Scenario, provider_names: &[String]) -> bool {
    let has_fargate_provider = provider_names
        .iter()
        .any(|n| n == "FARGATE" || n == "FARGATE_SPOT");
    sc.services
        .iter()
        .map(|s| &s.launch)
        .chain(sc.jobs.iter().map(|j| &j.launch))
        .any(|l| match l {
            LaunchSpec::Fargate => true,
            LaunchSpec::Strategy(items) => !items.is_empty() && has_fargate_provider,
            LaunchSpec::Ec2 => false,
        })
}

/// Send one hour's rows to the sink. EC2 rows appear when the run had instances, Fargate rows
/// when some owner could launch on Fargate.
pub(crate) fn hour_rows<S: Sink>(
    sc: &Scenario,
    provider_names: &[String],
    (has_ec2, has_fargate): (bool, bool),
    h: usize,
    row: &HourCosts,
    sink: &mut S,
) {
    let at = h as u64 * 3_600_000;
    let mut put = |scope: &str, name: &str, cost: Money| {
        sink.cost(&CostRow {
            hour_start_ms: at,
            scope,
            name,
            cost,
        })
    };
    put("total", "all", row.total());
    if has_ec2 {
        put("ec2", "used", row.ec2_used);
        put("ec2", "idle", row.ec2_idle());
        put("ec2", "spot", row.ec2_spot);
    }
    if has_fargate {
        for (scope, c) in [
            ("fargate", &row.fargate),
            ("fargate_spot", &row.fargate_spot),
        ] {
            put(scope, "vcpu", c.vcpu);
            put(scope, "memory", c.memory);
            put(scope, "ephemeral_storage", c.storage);
            put(scope, "os_license", c.os_license);
        }
    }
    for (k, name) in provider_names.iter().enumerate() {
        put("capacity_provider", name, row.providers[k]);
    }
    let owners = sc
        .services
        .iter()
        .map(|s| ("service", s.name.as_str()))
        .chain(sc.jobs.iter().map(|j| ("job", j.name.as_str())));
    for (k, (scope, name)) in owners.enumerate() {
        put(scope, name, row.owners[k]);
    }
}

/// Send the ledger's open hours to the sink (the closed ones were sent as they closed) and
/// return the summary's costs.
pub(crate) fn cost_rows<S: Sink>(
    sc: &Scenario,
    ledger: &mut Ledger,
    provider_names: &[String],
    has_ec2: bool,
    task_hours: f64,
    sink: &mut S,
) -> CostSummary {
    let layout = (has_ec2, has_fargate(sc, provider_names));
    ledger.close_all(|h, row| hour_rows(sc, provider_names, layout, h, row, sink));
    let t = ledger.totals();
    let mut fargate_charge = t.fargate;
    fargate_charge += t.fargate_spot;
    let n_services = sc.services.len();
    CostSummary {
        total: t.total(),
        ec2: t.ec2,
        ec2_idle: t.ec2_idle(),
        ec2_spot: t.ec2_spot,
        fargate: t.fargate.total() + t.fargate_spot.total(),
        fargate_spot: t.fargate_spot.total(),
        fargate_charge,
        task_hours,
        providers: provider_names
            .iter()
            .cloned()
            .zip(t.providers.iter().copied())
            .collect(),
        services: sc
            .services
            .iter()
            .map(|s| s.name.clone())
            .zip(t.owners[..n_services].iter().copied())
            .collect(),
        jobs: sc
            .jobs
            .iter()
            .map(|j| j.name.clone())
            .zip(t.owners[n_services..].iter().copied())
            .collect(),
    }
}
