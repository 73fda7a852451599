//! Prices and exact money.
//!
//! # Money
//! [`Money`] counts units of 1 / (10^12 x 3,686,400,000) USD. In that unit every charge ecsim
//! computes is an exact integer without any division: a rate in pico-dollars per hour times CPU
//! units (1/1024 vCPU) or MiB (1/1024 GB) times milliseconds (1/3,600,000 h) is exactly
//! `rate x amount x ms`, because 3,686,400,000 = 1024 x 3,600,000. Costs therefore add up
//! exactly: per-hour rows sum to the totals to the last unit, and dollars appear only when a
//! total is printed. (The EBS per-month rate, divided by the hours in a month, and the split of
//! an instance's cost into used and idle, are the only divisions; both keep their remainders so
//! the parts still sum to the whole.)
//!
//! # Tables
//! A pricing table (TOML, `scenarios/pricing/aws-us-east-1.toml` is the shipped one) holds
//! Fargate and Fargate Spot rates per OS and architecture, the Fargate minimums and ephemeral
//! storage rate, and EC2 On-Demand and Spot prices per instance type. Rates are read from the
//! table as per-second or per-hour USD and kept as pico-dollars per hour.

use std::collections::BTreeMap;

use crate::scenario::read::{Cx, Diagnostic, Tbl, read_document, string_array};
use crate::scenario::tree::{self, Node};

/// Units of money per pico-dollar.
pub const UNITS_PER_PICO: u128 = 3_686_400_000;
/// Units of money per US dollar.
pub const UNITS_PER_USD: u128 = UNITS_PER_PICO * 1_000_000_000_000;

/// An exact amount of money (see the module docs for the unit).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Money(pub u128);

impl Money {
    /// Zero.
    pub const ZERO: Money = Money(0);
    /// In dollars (rounded to the nearest f64).
    pub fn usd(self) -> f64 {
        let whole = self.0 / UNITS_PER_USD;
        let frac = self.0 % UNITS_PER_USD;
        whole as f64 + frac as f64 / UNITS_PER_USD as f64
    }
    /// Rounded to whole cents, half up, as AWS rounds each line of a bill.
    pub fn cents(self) -> u128 {
        let per_cent = UNITS_PER_USD / 100;
        (self.0 + per_cent / 2) / per_cent
    }
}

impl std::ops::Add for Money {
    type Output = Money;
    fn add(self, o: Money) -> Money {
        Money(self.0 + o.0)
    }
}

impl std::ops::AddAssign for Money {
    fn add_assign(&mut self, o: Money) {
        self.0 += o.0;
    }
}

impl std::ops::Sub for Money {
    type Output = Money;
    fn sub(self, o: Money) -> Money {
        Money(self.0.checked_sub(o.0).expect("money never goes negative"))
    }
}

impl std::iter::Sum for Money {
    fn sum<I: Iterator<Item = Money>>(it: I) -> Money {
        it.fold(Money::ZERO, |a, b| a + b)
    }
}

/// Pico-dollars per hour from USD per hour.
pub fn pico_per_hour(usd_per_hour: f64) -> u128 {
    (usd_per_hour * 1e12).round() as u128
}

/// Pico-dollars per hour from USD per second.
pub fn pico_per_hour_from_second(usd_per_second: f64) -> u128 {
    (usd_per_second * 1e12 * 3600.0).round() as u128
}

/// Fargate rates for one OS and architecture, pico-dollars per hour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FargateRates {
    /// Per vCPU-hour.
    pub vcpu: u128,
    /// Per GB-hour.
    pub gb: u128,
    /// OS licence per vCPU-hour (Windows).
    pub os_license_vcpu: u128,
}

impl FargateRates {
    /// The same rates less a discount in percent, rounded to the pico-dollar.
    pub fn discounted(self, pct: f64) -> FargateRates {
        let f = |r: u128| ((r as f64) * (1.0 - pct / 100.0)).round() as u128;
        FargateRates {
            vcpu: f(self.vcpu),
            gb: f(self.gb),
            os_license_vcpu: f(self.os_license_vcpu),
        }
    }
}

/// Fargate's billing dimensions for one charge.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FargateCharge {
    /// vCPU.
    pub vcpu: Money,
    /// Memory.
    pub memory: Money,
    /// Ephemeral storage above the included amount.
    pub storage: Money,
    /// Windows OS licence.
    pub os_license: Money,
}

impl FargateCharge {
    /// All dimensions.
    pub fn total(&self) -> Money {
        self.vcpu + self.memory + self.storage + self.os_license
    }
}

impl std::ops::AddAssign for FargateCharge {
    fn add_assign(&mut self, o: FargateCharge) {
        self.vcpu += o.vcpu;
        self.memory += o.memory;
        self.storage += o.storage;
        self.os_license += o.os_license;
    }
}

/// What a Fargate task costs for `ms` milliseconds of billed time.
pub fn fargate_charge(
    r: &FargateRates,
    storage_pico_h: u128,
    cpu_units: u32,
    memory_mib: u32,
    extra_storage_gb: u32,
    ms: u64,
) -> FargateCharge {
    let ms = u128::from(ms);
    FargateCharge {
        vcpu: Money(r.vcpu * u128::from(cpu_units) * ms),
        memory: Money(r.gb * u128::from(memory_mib) * ms),
        storage: Money(storage_pico_h * u128::from(extra_storage_gb) * ms * 1024),
        os_license: Money(r.os_license_vcpu * u128::from(cpu_units) * ms),
    }
}

/// What an instance costs for `ms` milliseconds at `pico_per_hour`.
#[inline]
pub fn instance_charge(pico_per_hour: u128, ms: u64) -> Money {
    // One 64 x 64 -> 128-bit multiplication when the rate and the time fit in 64 bits, as
    // they do for any real price (the same product, which cannot overflow then).
    match (u64::try_from(pico_per_hour), ms.checked_mul(1024)) {
        (Ok(rate), Some(units)) => Money(u128::from(rate) * u128::from(units)),
        _ => Money(pico_per_hour * u128::from(ms) * 1024),
    }
}

/// A Spot rate times a scheduled price factor (`pricing.spot_price_changes`), rounded to the
/// pico-dollar. Out of line, so that the compiler does not convert every instance's rate to
/// floating point ahead of a loop that needs it only for Spot instances.
#[inline(never)]
pub fn spot_rate(rate: u128, factor: f64) -> u128 {
    ((rate as f64) * factor).round() as u128
}

/// A Spot instance's rate with the first `in_force` of the scheduled price `changes`
/// ((instant, factor), in order) in force: the last one's factor, or none.
pub fn spot_price(rate: u128, changes: &[(u64, f64)], in_force: usize) -> u128 {
    match in_force {
        0 => rate,
        k => spot_rate(rate, changes[k - 1].1),
    }
}

/// Billed milliseconds for a duration: rounded up to the whole second, at least `minimum_s`.
pub fn billed_ms(duration_ms: u64, minimum_s: u64) -> u64 {
    duration_ms.div_ceil(1000).max(minimum_s) * 1000
}

/// Fargate section of a pricing table.
#[derive(Debug, Clone, PartialEq)]
pub struct FargatePricing {
    /// Minimum billed seconds, Linux.
    pub minimum_seconds_linux: u64,
    /// Minimum billed seconds, Windows.
    pub minimum_seconds_windows: u64,
    /// Ephemeral storage included, GB.
    pub storage_included_gb: u32,
    /// Ephemeral storage above the included amount, pico-dollars per GB-hour.
    pub storage_gb: u128,
    /// Linux on x86_64.
    pub linux_x86_64: Option<FargateRates>,
    /// Linux on arm64.
    pub linux_arm64: Option<FargateRates>,
    /// Windows on x86_64.
    pub windows_x86_64: Option<FargateRates>,
}

/// Fargate Spot section of a pricing table.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FargateSpotPricing {
    /// Linux on x86_64.
    pub linux_x86_64: Option<FargateRates>,
    /// Linux on arm64.
    pub linux_arm64: Option<FargateRates>,
}

/// EC2 section of a pricing table.
#[derive(Debug, Clone, PartialEq)]
pub struct Ec2Pricing {
    /// Minimum billed seconds per instance.
    pub minimum_seconds: u64,
    /// EBS gp3, pico-dollars per GB-month.
    pub ebs_gb_month: u128,
    /// Hours in a billing month.
    pub hours_per_month: u64,
    /// On-Demand, pico-dollars per hour, by type.
    pub on_demand: BTreeMap<String, u128>,
    /// Spot, pico-dollars per hour, by type.
    pub spot: BTreeMap<String, u128>,
}

/// A pricing table.
#[derive(Debug, Clone, PartialEq)]
pub struct PricingTable {
    /// Table name.
    pub name: String,
    /// AWS Region.
    pub region: String,
    /// Date of the prices.
    pub date: String,
    /// Where the prices come from.
    pub sources: Vec<String>,
    /// Fargate.
    pub fargate: FargatePricing,
    /// Fargate Spot.
    pub fargate_spot: FargateSpotPricing,
    /// EC2.
    pub ec2: Ec2Pricing,
}

/// Where an EC2 price comes from (see [`ec2_prices`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PriceSource {
    /// The pricing table's `[ec2.on_demand_per_hour_usd]` or `[ec2.spot_per_hour_usd]`.
    Table,
    /// The instance type: the catalog's price, or a custom type's `price_per_hour_usd` /
    /// `spot_price_per_hour_usd`.
    InstanceType,
    /// `pricing.ec2_spot_discount_pct` off the On-Demand price.
    SpotDiscount,
}

/// An instance type's EC2 prices, pico-dollars per hour, each with its source; `None`: no price.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ec2Prices {
    /// On-Demand.
    pub on_demand: Option<(u128, PriceSource)>,
    /// Spot (before `spot_price_changes`).
    pub spot: Option<(u128, PriceSource)>,
}

/// The prices billed for an instance type, in this order of precedence:
/// * On-Demand: the table's price for the name, else the type's own `price_per_hour_usd`
///   (the catalog's, or a custom `[[instance_types]]` entry's). The scenario reader rejects a
///   custom entry whose price differs from the table's for the same name, so the table never
///   silently overrides what a scenario wrote.
/// * Spot: `spot_discount_pct` off On-Demand when the scenario sets
///   `pricing.ec2_spot_discount_pct`, else the table's Spot price, else the type's
///   `spot_price_per_hour_usd`. There is no fallback to On-Demand: a Spot group without a Spot
///   price is a scenario error.
pub fn ec2_prices(
    table: &PricingTable,
    ty: &crate::catalog::InstanceType,
    spot_discount_pct: Option<f64>,
) -> Ec2Prices {
    let on_demand = match table.ec2.on_demand.get(&ty.name) {
        Some(&p) => Some((p, PriceSource::Table)),
        None => ty
            .price_per_hour_usd
            .map(|p| (pico_per_hour(p), PriceSource::InstanceType)),
    };
    let spot = match spot_discount_pct {
        Some(d) => on_demand.map(|(od, _)| {
            (
                ((od as f64) * (1.0 - d / 100.0)).round() as u128,
                PriceSource::SpotDiscount,
            )
        }),
        None => match table.ec2.spot.get(&ty.name) {
            Some(&p) => Some((p, PriceSource::Table)),
            None => ty
                .spot_price_per_hour_usd
                .map(|p| (pico_per_hour(p), PriceSource::InstanceType)),
        },
    };
    Ec2Prices { on_demand, spot }
}

/// The name of the table built into the binary.
pub const BUILTIN_TABLE: &str = "aws-us-east-1";
const BUILTIN_SRC: &str = include_str!("../../../scenarios/pricing/aws-us-east-1.toml");

/// The built-in table.
pub fn builtin() -> PricingTable {
    load_table("aws-us-east-1.toml", BUILTIN_SRC).expect("the shipped pricing table is valid")
}

/// Read a pricing table, reporting every problem with its position.
pub fn load_table(file: &str, src: &str) -> Result<PricingTable, Vec<Diagnostic>> {
    read_document(file, src, read_table)
}

fn rate_fields(cx: &mut Cx<'_>, n: &Node, path: &str, license: bool) -> Option<FargateRates> {
    let mut t = cx.table(n, path)?;
    let mut r = FargateRates::default();
    let read = |t: &mut Tbl<'_>,
                cx: &mut Cx<'_>,
                sec: &'static str,
                hour: &'static str,
                what: &str|
     -> Option<u128> {
        match (t.has(sec), t.has(hour)) {
            (true, true) => {
                cx.error(
                    &t.origin.clone(),
                    &t.child(hour),
                    format!("give {sec} or {hour}, not both"),
                );
                None
            }
            (true, false) => t
                .opt(cx, sec, |cx, n, p| cx.number(n, p, 0.0, 1.0))
                .map(pico_per_hour_from_second),
            (false, true) => t
                .opt(cx, hour, |cx, n, p| cx.number(n, p, 0.0, 1000.0))
                .map(pico_per_hour),
            (false, false) if what.is_empty() => Some(0),
            (false, false) => {
                cx.error(
                    &t.origin.clone(),
                    &t.child(sec),
                    format!("missing; expected {what}"),
                );
                None
            }
        }
    };
    let vcpu = read(
        &mut t,
        cx,
        "vcpu_per_second_usd",
        "vcpu_per_hour_usd",
        "the vCPU rate",
    );
    let gb = read(
        &mut t,
        cx,
        "gb_per_second_usd",
        "gb_per_hour_usd",
        "the memory rate per GB",
    );
    let license = if license {
        read(
            &mut t,
            cx,
            "os_license_vcpu_per_second_usd",
            "os_license_vcpu_per_hour_usd",
            "",
        )
    } else {
        Some(0)
    };
    t.finish(cx);
    r.vcpu = vcpu?;
    r.gb = gb?;
    r.os_license_vcpu = license?;
    Some(r)
}

fn price_map(cx: &mut Cx<'_>, n: &Node, path: &str) -> Option<BTreeMap<String, u128>> {
    let tree::Kind::Table(entries) = &n.kind else {
        cx.error(
            &n.origin,
            path,
            "expected a table of \"instance-type\" = USD per hour",
        );
        return None;
    };
    let mut m = BTreeMap::new();
    for (k, _, v) in entries {
        if let Some(p) = cx.number(v, &format!("{path}.\"{k}\""), 0.0, 1000.0) {
            m.insert(k.clone(), pico_per_hour(p));
        }
    }
    Some(m)
}

fn read_table(cx: &mut Cx<'_>, root: &Node) -> Option<PricingTable> {
    let mut t = cx.table(root, "")?;
    t.req(cx, "schema_version", "schema_version = 1", |cx, n, p| {
        cx.int(n, p, 1, 1)
    });
    let name = t.req(cx, "name", "a table name", |cx, n, p| cx.string(n, p));
    let region = t.req(
        cx,
        "region",
        "an AWS Region such as \"us-east-1\"",
        |cx, n, p| cx.string(n, p),
    );
    let date = t.req(
        cx,
        "date",
        "the date of the prices, e.g. \"2026-06\"",
        |cx, n, p| cx.string(n, p),
    );
    let sources = t.opt(cx, "sources", string_array).unwrap_or_default();
    let fargate = t.req(cx, "fargate", "a [fargate] table", read_fargate);
    let fargate_spot = t
        .opt(cx, "fargate_spot", read_fargate_spot)
        .unwrap_or_default();
    let ec2 = t.req(cx, "ec2", "an [ec2] table", read_ec2);
    t.finish(cx);
    Some(PricingTable {
        name: name?,
        region: region?,
        date: date?,
        sources,
        fargate: fargate?,
        fargate_spot,
        ec2: ec2?,
    })
}

/// `[fargate]`: minimum billed seconds, ephemeral storage and the rates by platform.
fn read_fargate(cx: &mut Cx<'_>, n: &Node, p: &str) -> Option<FargatePricing> {
    let mut f = cx.table(n, p)?;
    let min_l = f
        .opt(cx, "minimum_seconds_linux", |cx, n, p| {
            cx.int(n, p, 0, 86_400)
        })
        .unwrap_or(60) as u64;
    let min_w = f
        .opt(cx, "minimum_seconds_windows", |cx, n, p| {
            cx.int(n, p, 0, 86_400)
        })
        .unwrap_or(300) as u64;
    let incl = f
        .opt(cx, "ephemeral_storage_included_gb", |cx, n, p| {
            cx.u32(n, p, 0, 200)
        })
        .unwrap_or(20);
    let storage = f
        .opt(cx, "ephemeral_storage_gb_per_second_usd", |cx, n, p| {
            cx.number(n, p, 0.0, 1.0)
        })
        .map_or(0, pico_per_hour_from_second);
    let lx = f.opt(cx, "linux_x86_64", |cx, n, p| rate_fields(cx, n, p, false));
    let la = f.opt(cx, "linux_arm64", |cx, n, p| rate_fields(cx, n, p, false));
    let wx = f.opt(cx, "windows_x86_64", |cx, n, p| rate_fields(cx, n, p, true));
    f.finish(cx);
    Some(FargatePricing {
        minimum_seconds_linux: min_l,
        minimum_seconds_windows: min_w,
        storage_included_gb: incl,
        storage_gb: storage,
        linux_x86_64: lx,
        linux_arm64: la,
        windows_x86_64: wx,
    })
}

/// `[fargate_spot]`: the rates by platform.
fn read_fargate_spot(cx: &mut Cx<'_>, n: &Node, p: &str) -> Option<FargateSpotPricing> {
    let mut f = cx.table(n, p)?;
    let lx = f.opt(cx, "linux_x86_64", |cx, n, p| rate_fields(cx, n, p, false));
    let la = f.opt(cx, "linux_arm64", |cx, n, p| rate_fields(cx, n, p, false));
    f.finish(cx);
    Some(FargateSpotPricing {
        linux_x86_64: lx,
        linux_arm64: la,
    })
}

/// `[ec2]`: minimum billed seconds, EBS, and the hourly prices by instance type.
fn read_ec2(cx: &mut Cx<'_>, n: &Node, p: &str) -> Option<Ec2Pricing> {
    let mut e = cx.table(n, p)?;
    let min = e
        .opt(cx, "minimum_seconds", |cx, n, p| cx.int(n, p, 0, 86_400))
        .unwrap_or(60) as u64;
    let ebs = e
        .opt(cx, "ebs_gp3_gb_month_usd", |cx, n, p| {
            cx.number(n, p, 0.0, 100.0)
        })
        .map_or(0, pico_per_hour);
    let hpm = e
        .opt(cx, "hours_per_month", |cx, n, p| cx.int(n, p, 1, 1000))
        .unwrap_or(730) as u64;
    let od = e
        .opt(cx, "on_demand_per_hour_usd", price_map)
        .unwrap_or_default();
    let spot = e
        .opt(cx, "spot_per_hour_usd", price_map)
        .unwrap_or_default();
    e.finish(cx);
    Some(Ec2Pricing {
        minimum_seconds: min,
        ebs_gb_month: ebs,
        hours_per_month: hpm,
        on_demand: od,
        spot,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The 64-bit fast path of [`instance_charge`] is the same exact product as the 128-bit
    /// one, and rates or times too large for it still charge exactly.
    #[test]
    fn instance_charge_is_rate_times_ms_times_1024_at_any_size() {
        let cases = [
            (192_000_000_000u128, 0u64),
            (192_000_000_000, 1),
            (192_000_000_000, 3_600_000),
            (u128::from(u64::MAX), 3_600_000),
            (u128::from(u64::MAX) + 1, 7),
            (5, u64::MAX / 1024),
            (5, u64::MAX / 1024 + 1),
        ];
        for (rate, ms) in cases {
            assert_eq!(
                instance_charge(rate, ms),
                Money(rate * u128::from(ms) * 1024),
                "{rate} x {ms}"
            );
        }
    }

    #[test]
    fn builtin_table_loads_with_exact_rates() {
        let t = builtin();
        assert_eq!(
            t.fargate.linux_x86_64.unwrap().vcpu,
            40_478_400_000,
            "0.000011244 USD/s x 3600 in pico-dollars"
        );
        assert_eq!(
            t.fargate.windows_x86_64.unwrap().os_license_vcpu,
            46_000_080_000
        );
        assert_eq!(t.ec2.on_demand["m5.large"], 96_000_000_000);
        assert_eq!(t.ec2.spot["m5.large"], 38_400_000_000);
        assert_eq!(
            (
                t.fargate.minimum_seconds_linux,
                t.fargate.minimum_seconds_windows,
                t.ec2.minimum_seconds
            ),
            (60, 300, 60)
        );
    }

    #[test]
    fn money_is_exact_and_rounds_once() {
        // 1 vCPU for one hour at 0.04048 USD/h is exactly 0.04048 USD.
        let r = FargateRates {
            vcpu: pico_per_hour(0.04048),
            gb: 0,
            os_license_vcpu: 0,
        };
        let c = fargate_charge(&r, 0, 1024, 0, 0, 3_600_000);
        assert_eq!(c.vcpu.0, 4_048 * UNITS_PER_USD / 100_000);
        // Splitting a charge in two parts adds up exactly.
        let a = fargate_charge(&r, 0, 256, 512, 0, 1_234_567);
        let b = fargate_charge(&r, 0, 256, 512, 0, 3_600_000 - 1_234_567);
        assert_eq!(
            (a.total() + b.total()).0,
            fargate_charge(&r, 0, 256, 512, 0, 3_600_000).total().0
        );
        assert_eq!(
            Money(UNITS_PER_USD / 200).cents(),
            1,
            "half a cent rounds up"
        );
        assert_eq!(
            instance_charge(pico_per_hour(0.096), 3_600_000).usd(),
            0.096
        );
    }

    /// FG-PRICE: per second, rounded up, with a 1-minute minimum (5 minutes on Windows);
    /// EC2-UG: per second with a 60-second minimum.
    #[test]
    fn billed_time_rounds_up_with_a_minimum() {
        assert_eq!(billed_ms(1, 60), 60_000);
        assert_eq!(billed_ms(59_999, 60), 60_000);
        assert_eq!(billed_ms(60_001, 60), 61_000);
        assert_eq!(billed_ms(90_000, 60), 90_000);
        assert_eq!(billed_ms(120_000, 300), 300_000);
        assert_eq!(billed_ms(0, 60), 60_000);
    }

    #[test]
    fn bad_tables_are_reported() {
        let errs = load_table("p.toml", "schema_version = 1\nname = \"x\"\nregion = \"r\"\ndate = \"d\"\n[fargate]\nlinux_x86_64 = { vcpu_per_hour_usd = -1 }\n[ec2]\nbogus = 1\n").unwrap_err();
        let text: Vec<String> = errs.iter().map(|d| d.to_string()).collect();
        assert!(
            text.iter().any(|e| e.contains(
                "p.toml:6:38: fargate.linux_x86_64.vcpu_per_hour_usd: got the integer -1"
            )),
            "{text:#?}"
        );
        assert!(
            text.iter()
                .any(|e| e.contains("gb_per_second_usd: missing")),
            "{text:#?}"
        );
        assert!(
            text.iter().any(|e| e.contains("ec2.bogus: unknown field")),
            "{text:#?}"
        );
    }
}
