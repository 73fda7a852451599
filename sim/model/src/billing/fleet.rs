//! The capacity part of EC2 billing, booked for the whole fleet at once.
//!
//! An instance costs its rate times its time up whatever runs on it, so the cost of all
//! instances over an interval is the sum of their rates times its length, exactly (money is an
//! integer, [`crate::pricing`]). [`Fleet`] keeps the sum of the live instances' rates per
//! capacity provider and books it hour by hour when it changes (an instance launches or stops),
//! before hours close, and at the end; so the per-instance accrual at each allocation change
//! books only the used part ([`crate::billing::Ledger::book_ec2_used`]). The money in every hour
//! is what booking each instance's pieces one by one gives, to the unit.
//!
//! Spot prices change at scheduled instants (`pricing.spot_price_changes`): each Spot instance
//! is billed at its rate times the factor in force, rounded to the pico-dollar per instance, so
//! the fleet also keeps its Spot instances' rates (by provider and rate) to sum them anew when
//! the factor changes. Billing is cut at those instants, as the per-instance accrual cuts it.

use std::collections::BTreeMap;

use super::Ledger;
use crate::pricing::{instance_charge, spot_price};

const HOUR_MS: u64 = 3_600_000;

/// The live instances' rates and how far their capacity is billed.
#[derive(Debug, Clone)]
pub(crate) struct Fleet {
    /// Capacity is billed up to this instant (ms).
    billed_to: u64,
    /// Per capacity provider.
    providers: Vec<Rates>,
    /// Live instances, all providers.
    live: u32,
    /// Live Spot instances by (provider, rate before any factor): how many.
    spot: BTreeMap<(usize, u128), u32>,
    /// The Spot price changes (instant, factor), in order.
    changes: Vec<(u64, f64)>,
    /// How many of `changes` the providers' Spot sums are priced at.
    in_force: usize,
}

/// One capacity provider's live instances and the sums of their rates (pico-dollars per hour).
#[derive(Debug, Clone, Copy, Default)]
struct Rates {
    live: u32,
    /// On-Demand instances.
    on_demand: u128,
    /// Spot instances, each at its rate times the factor in force (`Fleet::in_force`).
    spot: u128,
}

impl Fleet {
    /// No instances, for so many providers and these Spot price changes (in order).
    pub(crate) fn new(n_providers: usize, changes: &[(u64, f64)]) -> Fleet {
        Fleet {
            billed_to: 0,
            providers: vec![Rates::default(); n_providers],
            live: 0,
            spot: BTreeMap::new(),
            changes: changes.to_vec(),
            in_force: 0,
        }
    }

    /// An instance is up from `now` on (billed from then).
    pub(crate) fn launched(
        &mut self,
        provider: usize,
        spot: bool,
        rate: u128,
        now: u64,
        ledger: &mut Ledger,
    ) {
        self.bill_to(now, ledger);
        self.price_at(now);
        self.live += 1;
        let p = &mut self.providers[provider];
        p.live += 1;
        if spot {
            *self.spot.entry((provider, rate)).or_insert(0) += 1;
            p.spot += spot_price(rate, &self.changes, self.in_force);
        } else {
            p.on_demand += rate;
        }
    }

    /// An instance is down from `now` on (billed until then).
    pub(crate) fn stopped(
        &mut self,
        provider: usize,
        spot: bool,
        rate: u128,
        now: u64,
        ledger: &mut Ledger,
    ) {
        self.bill_to(now, ledger);
        self.price_at(now);
        self.live -= 1;
        let p = &mut self.providers[provider];
        p.live -= 1;
        if spot {
            let n = self
                .spot
                .get_mut(&(provider, rate))
                .expect("a live Spot instance");
            *n -= 1;
            if *n == 0 {
                self.spot.remove(&(provider, rate));
            }
            p.spot -= spot_price(rate, &self.changes, self.in_force);
        } else {
            p.on_demand -= rate;
        }
    }

    /// Book the live instances' capacity up to `to` (nothing if it is billed that far),
    /// piece by piece: cut at hour boundaries and Spot price changes.
    pub(crate) fn bill_to(&mut self, to: u64, ledger: &mut Ledger) {
        while self.billed_to < to {
            let a = self.billed_to;
            if self.live == 0 {
                self.billed_to = to;
                return;
            }
            self.price_at(a);
            let mut b = (a / HOUR_MS + 1) * HOUR_MS;
            if let Some(next) = self.changes.get(self.in_force) {
                b = b.min(next.0);
            }
            let b = b.min(to);
            for (k, p) in self.providers.iter().enumerate() {
                if p.live > 0 {
                    let spot = instance_charge(p.spot, b - a);
                    let cost = instance_charge(p.on_demand, b - a) + spot;
                    ledger.book_ec2_capacity(a, cost, spot, k);
                }
            }
            self.billed_to = b;
        }
    }

    /// Price the Spot instances at the factor in force at `t` (the last change at or before it).
    fn price_at(&mut self, t: u64) {
        let k = self.changes.partition_point(|c| c.0 <= t);
        if k == self.in_force {
            return;
        }
        self.in_force = k;
        for p in &mut self.providers {
            p.spot = 0;
        }
        for (&(provider, rate), &n) in &self.spot {
            self.providers[provider].spot += spot_price(rate, &self.changes, k) * u128::from(n);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::billing::HourCosts;
    use crate::pricing::Money;

    /// One instance: provider, Spot, rate, up from, down at (`None`: up to the end).
    type Life = (usize, bool, u128, u64, Option<u64>);

    /// What booking each instance on its own gives: its pieces cut at hour boundaries and,
    /// for Spot, at price changes, each at its rate (times the factor in force, rounded).
    fn one_by_one(lives: &[Life], changes: &[(u64, f64)], end: u64) -> Ledger {
        let mut l = Ledger::new(3, 1);
        for &(provider, spot, rate, from, to) in lives {
            let to = to.unwrap_or(end);
            let mut a = from;
            while a < to {
                let k = changes.partition_point(|c| c.0 <= a);
                let mut b = ((a / HOUR_MS) + 1) * HOUR_MS;
                let mut r = rate;
                if spot {
                    r = spot_price(rate, changes, k);
                    if let Some(c) = changes.get(k) {
                        b = b.min(c.0);
                    }
                }
                let b = b.min(to);
                let cost = instance_charge(r, b - a);
                let s = if spot { cost } else { Money::ZERO };
                l.book_ec2_capacity(a, cost, s, provider);
                a = b;
            }
        }
        l
    }

    /// The same lives through the fleet, billed to `cuts` on the way as the core's daily
    /// settling does.
    fn fleet(lives: &[Life], changes: &[(u64, f64)], cuts: &[u64], end: u64) -> Ledger {
        let mut l = Ledger::new(3, 1);
        let mut f = Fleet::new(3, changes);
        // (instant, 0 = cut, 1 = launch, 2 = stop, instance), in order.
        let mut events: Vec<(u64, u8, usize)> = cuts.iter().map(|&t| (t, 0, 0)).collect();
        for (k, &(_, _, _, from, to)) in lives.iter().enumerate() {
            events.push((from, 1, k));
            if let Some(to) = to {
                events.push((to, 2, k));
            }
        }
        events.sort();
        for (t, what, k) in events {
            let (p, spot, rate, _, _) = lives[k];
            match what {
                0 => f.bill_to(t, &mut l),
                1 => f.launched(p, spot, rate, t, &mut l),
                _ => f.stopped(p, spot, rate, t, &mut l),
            }
        }
        f.bill_to(end, &mut l);
        l
    }

    fn hours(mut l: Ledger) -> Vec<(usize, HourCosts)> {
        let mut rows = Vec::new();
        l.close_all(|h, c| rows.push((h, c.clone())));
        rows
    }

    /// The fleet's capacity, hour by hour, is what billing each instance on its own gives, to
    /// the unit: On-Demand and Spot, several providers, Spot price changes (Spot rates rounded
    /// per instance), instances up for no time, a free instance (its hours still exist), and
    /// billing cut on the way.
    #[test]
    fn the_fleet_bills_what_each_instance_would() {
        const H: u64 = HOUR_MS;
        let changes = [(2 * H + 17, 1.3), (2 * H + 5_000, 0.77), (7 * H, 1.0 / 3.0)];
        let mut lives: Vec<Life> = vec![
            (0, false, 0, 0, Some(3 * H + 1)),
            (1, true, 38_400_000_001, 5, None),
            (1, true, 38_400_000_001, 10, Some(2 * H + 3)),
            (2, false, 96_000_000_000, H, Some(H)),
            (2, true, 7, 3 * H, Some(8 * H + 11)),
        ];
        let mut x = 7u64;
        let mut next = |below: u64| {
            x = ecsim_engine::mix64(x);
            x % below
        };
        let end = 10 * H + 1;
        for _ in 0..200 {
            let from = next(9 * H);
            let to = (next(4) > 0).then(|| (from + next(3 * H)).min(end));
            let rate = [
                0,
                1,
                38_400_000_000,
                96_000_000_000,
                6_401_000_000_000_000_000,
            ];
            let life = (
                next(3) as usize,
                next(2) == 0,
                rate[next(5) as usize],
                from,
                to,
            );
            lives.push(life);
        }
        for changes in [&changes[..0], &changes[..]] {
            for cuts in [&[][..], &[H, 2 * H, 5 * H][..]] {
                let want = hours(one_by_one(&lives, changes, end));
                let got = hours(fleet(&lives, changes, cuts, end));
                assert_eq!(got.len(), want.len());
                for (g, w) in got.iter().zip(&want) {
                    assert_eq!(g, w, "hour {} ({} changes)", w.0, changes.len());
                }
            }
        }
    }
}
