//! The cost ledger: exact money per simulated hour, by category, capacity provider and owner.
//!
//! # What is charged
//! * **EC2**: every instance from launch to the end of the run (or its stop), at its rate: On-Demand
//!   less the Savings Plan/RI discount, or the Spot price (times any scheduled Spot price factor),
//!   plus EBS when configured. The run's end bills like a stop: per second rounded up, with the
//!   60-second minimum (EC2-UG). Each instance's cost is split into **used** and **idle**
//!   capacity: the used fraction is the larger of its CPU and memory reservation fractions (a task
//!   that reserves half the memory blocks half the instance, whatever its CPU); before the
//!   instance registers it is all idle. The used part is shared among the services and jobs on the
//!   instance in proportion to `cpu/registered cpu + memory/registered memory` of their tasks.
//! * **Fargate and Fargate Spot**: each task from PENDING (the start of the image pull) to its stop
//!   (or the end of the run), rounded up to the second with a 1-minute minimum (5 on Windows), on
//!   requested vCPU, memory, ephemeral storage above the included amount, and the Windows OS
//!   licence (FG-PRICE). Fargate (not Spot) gets the Compute Savings Plan discount.
//!
//! Rounding-up and minimum charges land in the hour the instance or task stops.
//!
//! # Hours closed as the run goes
//! The ledger holds only the hours that may still receive charges: once every instance and
//! Fargate task is billed past an hour boundary (the core settles them once per simulated day,
//! cutting at the boundary exactly where a later booking would cut), the hours before it are
//! closed ([`Ledger::close_before`]): their cost rows are written and they are folded into the
//! run's totals. So a month-long run keeps about a day of hours, not one per hour simulated.

mod cost_rows;
mod fleet;

pub(crate) use cost_rows::{cost_rows, has_fargate, hour_rows};
pub(crate) use fleet::Fleet;

use crate::pricing::{FargateCharge, Money};

/// One hour of costs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HourCosts {
    /// All EC2 capacity (used and idle; [`HourCosts::ec2_idle`] is the difference).
    pub ec2: Money,
    /// EC2 capacity reserved by tasks.
    pub ec2_used: Money,
    /// The part of EC2 on Spot instances.
    pub ec2_spot: Money,
    /// Fargate, by dimension.
    pub fargate: FargateCharge,
    /// Fargate Spot, by dimension.
    pub fargate_spot: FargateCharge,
    /// By capacity provider (index into the ledger's provider names).
    pub providers: Vec<Money>,
    /// By owner: services, then jobs.
    pub owners: Vec<Money>,
}

impl HourCosts {
    /// Nothing, for so many providers and owners.
    fn zero(n_providers: usize, n_owners: usize) -> HourCosts {
        HourCosts {
            providers: vec![Money::ZERO; n_providers],
            owners: vec![Money::ZERO; n_owners],
            ..HourCosts::default()
        }
    }

    /// EC2 capacity nobody reserved. Only once every charge of the hour is booked (its used
    /// parts are booked with each allocation change, its capacity as the fleet is billed).
    pub fn ec2_idle(&self) -> Money {
        self.ec2 - self.ec2_used
    }

    /// Add another hour's costs (exact).
    fn add(&mut self, h: &HourCosts) {
        self.ec2 += h.ec2;
        self.ec2_used += h.ec2_used;
        self.ec2_spot += h.ec2_spot;
        self.fargate += h.fargate;
        self.fargate_spot += h.fargate_spot;
        for (a, b) in self.providers.iter_mut().zip(&h.providers) {
            *a += *b;
        }
        for (a, b) in self.owners.iter_mut().zip(&h.owners) {
            *a += *b;
        }
    }

    /// Everything.
    pub fn total(&self) -> Money {
        self.ec2 + self.fargate.total() + self.fargate_spot.total()
    }
}

/// Costs per hour of simulated time.
#[derive(Debug, Clone, Default)]
pub struct Ledger {
    /// The open hours: `hours[k]` covers [(first + k) h, (first + k + 1) h).
    hours: Vec<HourCosts>,
    /// The first open hour (every hour before it is closed).
    first: usize,
    /// The sum of the closed hours.
    closed: HourCosts,
    n_providers: usize,
    n_owners: usize,
}

/// Where an EC2 charge goes besides used/idle.
#[derive(Debug, Clone, Copy)]
pub struct Ec2Target {
    /// Provider index.
    pub provider: usize,
    /// Spot instance.
    pub spot: bool,
}

/// How the used part of an EC2 charge is shared among the owners of the tasks on the instance.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Shares<'a> {
    /// No owner has weight: the used part is booked to nobody (none is used then, in practice).
    Nobody,
    /// One owner with a positive weight takes all of it.
    One(usize),
    /// Several (owner, weight), with the sum of the weights (positive): each but the last gets
    /// its share rounded down, the last the rest.
    Weighted(&'a [(usize, u128)], u128),
}

const HOUR_MS: u64 = 3_600_000;

/// The used fraction of an instance: the larger of its CPU and memory reservation fractions,
/// kept as the larger one itself (`used / registered` of one resource, both 32-bit), which is
/// the same number as the product form `max(cpu_used * mem, mem_used * cpu) / (cpu * mem)`:
/// so [`UsedFraction::of`] rounds a cost down exactly as that form does, with a 32-bit
/// numerator (the product with a real EC2 charge fits in 128 bits; the most the scenario reader
/// allows, a Spot price factor of 100 on the highest rate and huge instances, may not, and then
/// the used part is worked out in two steps, with the same result).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct UsedFraction {
    num: u32,
    den: u32,
}

impl UsedFraction {
    /// The fraction of an instance with `cpu` units and `mem` MiB registered, of which
    /// `cpu_used` and `mem_used` are reserved; `None` when it is 0 (nothing reserved, or
    /// nothing registered).
    #[inline(always)]
    pub(crate) fn new(cpu_used: u32, cpu: u32, mem_used: u32, mem: u32) -> Option<UsedFraction> {
        let by_cpu = u64::from(cpu_used) * u64::from(mem);
        let by_mem = u64::from(mem_used) * u64::from(cpu);
        let f = if by_cpu >= by_mem {
            UsedFraction {
                num: cpu_used,
                den: cpu,
            }
        } else {
            UsedFraction {
                num: mem_used,
                den: mem,
            }
        };
        (by_cpu.max(by_mem) > 0).then_some(f)
    }

    /// The used part of `cost`: `cost * num / den` rounded down, exactly.
    #[inline(always)]
    pub(crate) fn of(self, cost: Money) -> Money {
        let (num, den) = (u128::from(self.num), u128::from(self.den));
        if self.num == self.den {
            cost
        } else if let Some(p) = cost.0.checked_mul(num) {
            Money(p / den)
        } else {
            // cost = q * den + r, so floor(cost * num / den) = q * num + floor(r * num / den),
            // where r * num < den * den fits.
            Money((cost.0 / den) * num + (cost.0 % den) * num / den)
        }
    }
}

impl Ledger {
    /// A ledger for so many providers and owners.
    pub fn new(n_providers: usize, n_owners: usize) -> Ledger {
        Ledger {
            hours: Vec::new(),
            first: 0,
            closed: HourCosts::zero(n_providers, n_owners),
            n_providers,
            n_owners,
        }
    }

    /// The open hour `h`, made (with any before it) when it is new.
    #[inline(always)]
    fn hour(&mut self, h: usize) -> &mut HourCosts {
        let k = h
            .checked_sub(self.first)
            .expect("no charge lands in a closed hour");
        if k < self.hours.len() {
            &mut self.hours[k]
        } else {
            self.open_to(k)
        }
    }

    /// Open the hours up to `hours[k]`, which it returns.
    #[cold]
    #[inline(never)]
    fn open_to(&mut self, k: usize) -> &mut HourCosts {
        while self.hours.len() <= k {
            self.hours
                .push(HourCosts::zero(self.n_providers, self.n_owners));
        }
        &mut self.hours[k]
    }

    /// Close the hours before hour `h` that hold charges (an hour after the last one charged
    /// is not made up): `f(hour, costs)` sees each in order, then it is folded into the totals.
    pub fn close_before(&mut self, h: usize, mut f: impl FnMut(usize, &HourCosts)) {
        let n = h.saturating_sub(self.first).min(self.hours.len());
        for (k, row) in self.hours.drain(..n).enumerate() {
            f(self.first + k, &row);
            self.closed.add(&row);
        }
        self.first += n;
    }

    /// Close every hour.
    pub fn close_all(&mut self, f: impl FnMut(usize, &HourCosts)) {
        self.close_before(usize::MAX, f);
    }

    /// Calls `f(hour, start, end)` for each piece of [t0, t1) inside one hour.
    pub fn split_hours(t0: u64, t1: u64, mut f: impl FnMut(usize, u64, u64)) {
        let mut a = t0;
        while a < t1 {
            let b = ((a / HOUR_MS + 1) * HOUR_MS).min(t1);
            f((a / HOUR_MS) as usize, a, b);
            a = b;
        }
    }

    /// Book an EC2 charge for an instance over one piece of an hour: `used_num / den` of it is
    /// used, shared among `owners` (index, weight) in proportion to the weights. The core books
    /// the same two parts separately: the capacity with [`Ledger::book_ec2_capacity`] (for the
    /// whole fleet at once) and the used part at each allocation change.
    pub fn book_ec2(
        &mut self,
        at_ms: u64,
        cost: Money,
        used_num: u128,
        den: u128,
        owners: &[(usize, u128)],
        target: Ec2Target,
    ) {
        let total_w: u128 = owners.iter().map(|o| o.1).sum();
        let shares = match owners {
            _ if total_w == 0 => Shares::Nobody,
            [(o, _)] => Shares::One(*o),
            _ => Shares::Weighted(owners, total_w),
        };
        let used = Money((cost.0 * used_num).checked_div(den).unwrap_or(0));
        let spot = if target.spot { cost } else { Money::ZERO };
        self.book_ec2_capacity(at_ms, cost, spot, target.provider);
        self.book_ec2_used(at_ms, used, shares);
    }

    /// Book EC2 capacity (one instance's or several's), all of it idle until its used part is
    /// booked: `cost`, of which `spot` on Spot instances, of capacity provider `provider`.
    pub fn book_ec2_capacity(&mut self, at_ms: u64, cost: Money, spot: Money, provider: usize) {
        let h = self.hour((at_ms / HOUR_MS) as usize);
        h.ec2 += cost;
        h.ec2_spot += spot;
        h.providers[provider] += cost;
    }

    /// Book the used part of an instance's EC2 capacity over one piece of an hour (whose cost
    /// [`Ledger::book_ec2_capacity`] books), shared as `shares` says.
    /// Inlined into the core's accrual loop: called at every allocation change.
    #[inline(always)]
    pub(crate) fn book_ec2_used(&mut self, at_ms: u64, used: Money, shares: Shares<'_>) {
        let h = self.hour((at_ms / HOUR_MS) as usize);
        h.ec2_used += used;
        if used.0 == 0 {
            return;
        }
        match shares {
            Shares::Nobody => {}
            Shares::One(o) => h.owners[o] += used,
            Shares::Weighted(owners, total_w) => {
                let mut given = Money::ZERO;
                let (last, rest) = owners.split_last().expect("weights");
                for &(o, w) in rest {
                    let share = Money(used.0 * w / total_w);
                    h.owners[o] += share;
                    given += share;
                }
                h.owners[last.0] += used - given;
            }
        }
    }

    /// Book a Fargate charge.
    pub fn book_fargate(
        &mut self,
        at_ms: u64,
        c: FargateCharge,
        spot: bool,
        provider: usize,
        owner: usize,
    ) {
        let h = self.hour((at_ms / HOUR_MS) as usize);
        if spot {
            h.fargate_spot += c;
        } else {
            h.fargate += c;
        }
        h.providers[provider] += c.total();
        h.owners[owner] += c.total();
    }

    /// Sum over all hours, closed and open.
    pub fn totals(&self) -> HourCosts {
        let mut t = self.closed.clone();
        for h in &self.hours {
            t.add(h);
        }
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hours_split_exactly() {
        let mut pieces = Vec::new();
        Ledger::split_hours(3_000_000, 7_300_000, |h, a, b| pieces.push((h, a, b)));
        assert_eq!(
            pieces,
            vec![
                (0, 3_000_000, 3_600_000),
                (1, 3_600_000, 7_200_000),
                (2, 7_200_000, 7_300_000)
            ]
        );
    }

    /// Closing hours hands each out once, in order, skips none and makes none up; the totals
    /// still count them.
    #[test]
    fn closed_hours_are_handed_out_once_and_still_counted() {
        let mut l = Ledger::new(1, 1);
        let target = Ec2Target {
            provider: 0,
            spot: false,
        };
        for h in [0u64, 2, 3] {
            l.book_ec2(h * HOUR_MS, Money(10 + h as u128), 0, 1, &[], target);
        }
        let mut seen = Vec::new();
        l.close_before(3, |h, c| seen.push((h, c.total())));
        assert_eq!(seen, [(0, Money(10)), (1, Money::ZERO), (2, Money(12))]);
        l.book_ec2(5 * HOUR_MS, Money(15), 0, 1, &[], target);
        // Only hours that exist are closed: none is made up beyond the last charged.
        seen.clear();
        l.close_before(9, |h, c| seen.push((h, c.total())));
        assert_eq!(seen, [(3, Money(13)), (4, Money::ZERO), (5, Money(15))]);
        assert_eq!(l.totals().total(), Money(10 + 12 + 13 + 15));
        l.book_ec2(7 * HOUR_MS, Money(1), 0, 1, &[], target);
        seen.clear();
        l.close_all(|h, c| seen.push((h, c.total())));
        assert_eq!(seen, [(6, Money::ZERO), (7, Money(1))]);
        assert_eq!(l.totals().total(), Money(51));
    }

    /// The core's two bookings (capacity, then the used part with shares worked out once per
    /// instance) give exactly what the general booking gives: `cost * num / den` rounded down
    /// for the used part, each owner but the last its weight's share rounded down, the last the
    /// rest; fractions 0 and 1 and one owner included.
    #[test]
    fn split_booking_matches_the_exact_formula() {
        let target = Ec2Target {
            provider: 1,
            spot: true,
        };
        let owners = [(0usize, 3u128), (2, 5), (1, 1)];
        let cost = Money(368_640_000_000_000_000_007);
        for (num, den) in [
            (0u64, 0u64),
            (0, 7),
            (7, 7),
            (1, 3),
            (2, 3),
            (67_108_863, 67_108_864),
        ] {
            let used = cost.0 * u128::from(num) / u128::from(den.max(1));
            let used = if den == 0 { 0 } else { used };
            for (ws, shares) in [
                (&owners[..0], Shares::Nobody),
                (&owners[..1], Shares::One(0)),
                (&owners[..], Shares::Weighted(&owners, 9)),
            ] {
                let mut split = Ledger::new(2, 3);
                split.book_ec2_capacity(7_200_001, cost, cost, 1);
                split.book_ec2_used(7_200_001, Money(used), shares);
                let mut general = Ledger::new(2, 3);
                general.book_ec2(7_200_001, cost, num.into(), den.into(), ws, target);
                let (s, g) = (split.totals(), general.totals());
                assert_eq!(s, g, "{num}/{den}, {} owners", ws.len());
                assert_eq!(
                    (s.ec2_used, s.ec2_idle()),
                    (Money(used), cost - Money(used))
                );
                let mut want = [0u128; 3];
                if used > 0 && !ws.is_empty() {
                    let total: u128 = ws.iter().map(|w| w.1).sum();
                    for &(o, w) in &ws[..ws.len() - 1] {
                        want[o] = used * w / total;
                    }
                    want[ws[ws.len() - 1].0] = used - want.iter().sum::<u128>();
                }
                assert_eq!(
                    s.owners,
                    want.map(Money),
                    "{num}/{den}, {} owners",
                    ws.len()
                );
                assert_eq!((s.ec2_spot, s.providers[1]), (cost, cost));
            }
        }
    }

    /// The used part the core books, `cost * used / registered` of the resource with the
    /// larger fraction, is exactly the product formula's `cost * max(cpu_used * mem,
    /// mem_used * cpu) / (cpu * mem)` rounded down, over edge values (nothing and everything
    /// used, equal fractions, 1 and `u32::MAX` amounts, the largest charges an hour can hold)
    /// and random ones.
    #[test]
    fn the_used_fraction_rounds_as_the_product_formula() {
        let formula = |cost: u128, (cu, c, mu, m): (u32, u32, u32, u32)| {
            let (cu, c, mu, m) = (u128::from(cu), u128::from(c), u128::from(mu), u128::from(m));
            let (num, den) = ((cu * m).max(mu * c), c * m);
            // Where `cost * num` would not fit, the same number as (q den + r) num / den.
            (num > 0).then(|| match cost.checked_mul(num) {
                Some(p) => p / den,
                None => cost / den * num + cost % den * num / den,
            })
        };
        // The largest rate the scenario reader allows (1,000 USD/h plus 64,000 GB of EBS at
        // 100 USD per GB-month over a 1-hour month) for one hour.
        let max_hour =
            (1_000 * 1_000_000_000_000 + 6_400_000 * 1_000_000_000_000) * 3_600_000 * 1024;
        let costs = [
            0u128,
            1,
            7,
            196_608_000_000_000_000,
            u128::from(u64::MAX),
            max_hour,
            // A Spot price factor of 100 on it (the most the reader allows): `cost * num`
            // no longer fits in 128 bits for the largest amounts.
            max_hour * 100,
        ];
        let mut amounts = vec![
            (0u32, 0u32, 0u32, 0u32),
            (0, 4096, 0, 16384),
            (4096, 4096, 16384, 16384),
            (1024, 4096, 0, 16384),
            (0, 4096, 16383, 16384),
            (1024, 4096, 4096, 16384),
            (1, 1, 0, 0),
            (0, 0, 5, 7),
            (1, u32::MAX, 1, u32::MAX),
            (u32::MAX - 1, u32::MAX, 3, 4),
            (u32::MAX, u32::MAX, u32::MAX, u32::MAX),
        ];
        let mut x = 1u64;
        let mut next = |below: u64| {
            x = ecsim_engine::mix64(x);
            x % below
        };
        for _ in 0..2000 {
            // Amounts of any size from 1 to 32 bits.
            let (bits_c, bits_m) = (1 + next(32), 1 + next(32));
            let c = (next(1 << bits_c) as u32).max(1);
            let m = (next(1 << bits_m) as u32).max(1);
            let (cu, mu) = (next(u64::from(c) + 1) as u32, next(u64::from(m) + 1) as u32);
            amounts.push((cu, c, mu, m));
        }
        for &(cu, c, mu, m) in &amounts {
            let mut cs = costs.to_vec();
            cs.push(u128::from(next(u64::MAX)) * u128::from(next(1 << 31)));
            for cost in cs {
                let want = formula(cost, (cu, c, mu, m));
                let got = UsedFraction::new(cu, c, mu, m).map(|f| f.of(Money(cost)).0);
                assert_eq!(got, want, "{cost} x ({cu}/{c} cpu, {mu}/{m} mem)");
            }
        }
    }

    #[test]
    fn used_idle_and_owner_shares_conserve_money() {
        let mut l = Ledger::new(1, 3);
        let cost = Money(1_000_000_007);
        l.book_ec2(
            10,
            cost,
            2,
            3,
            &[(0, 1), (2, 2)],
            Ec2Target {
                provider: 0,
                spot: true,
            },
        );
        let t = l.totals();
        assert_eq!(t.ec2_used + t.ec2_idle(), cost);
        assert_eq!(t.owners.iter().copied().sum::<Money>(), t.ec2_used);
        assert_eq!(
            (t.ec2_spot, t.providers[0], t.owners[1]),
            (cost, cost, Money::ZERO)
        );
    }
}
