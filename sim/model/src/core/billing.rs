//! Billing accrual: the core books the used part of each instance's cost whenever its allocation
//! changes (so the used/idle split and the per-owner shares are exact), the fleet's capacity
//! when an instance launches or stops ([`Fleet`]), and each Fargate task's cost when it stops.
//! The money itself is kept in a [`Ledger`]; see [`crate::billing`] for what is charged.

use ecsim_engine::SimTime;

use super::Core;
use super::task::Runs;
use crate::billing::{Ec2Target, Fleet, Ledger, Shares, UsedFraction, has_fargate, hour_rows};
use crate::catalog::InstanceType;
use crate::ids::{InstanceRef, TaskId};
use crate::pricing::{self, FargateRates, spot_price};
use crate::record::Sink;
use crate::scenario::Scenario;

/// The ledger and the rates the core bills with.
#[derive(Clone)]
pub(crate) struct Billing {
    pub(crate) ledger: Ledger,
    /// The live instances' rates: their capacity cost, booked for all at once.
    fleet: Fleet,
    /// Fargate rates by (spot, os, arch): see [`rate_slot`].
    fargate_rates: [Option<FargateRates>; 6],
    /// Capacity provider names across clusters; index 0 is "none".
    pub(crate) provider_names: Vec<String>,
    /// Per cluster, the global index of each of its capacity providers.
    pub(crate) cluster_provider_ids: Vec<Vec<u16>>,
    scratch_owners: Vec<(usize, u128)>,
    /// cost.csv has Fargate rows (some owner can launch on Fargate).
    has_fargate: bool,
    /// The next instant at which [`Core::settle_hours`] closes hours.
    settle_at_ms: u64,
}

const HOUR_MS: u64 = 3_600_000;

/// How often the ledger's finished hours are closed: a day of simulated time, so that it holds
/// about a day of hours (settling bills every instance, which costs a little each time).
const SETTLE_MS: u64 = 24 * HOUR_MS;

/// Index into the Fargate rates: (spot, os, arch).
fn rate_slot(spot: bool, windows: bool, arm: bool) -> usize {
    usize::from(spot) * 3 + if windows { 2 } else { usize::from(arm) }
}

impl Billing {
    pub(super) fn new(sc: &Scenario) -> Billing {
        let mut provider_names = vec!["none".to_string()];
        let mut cluster_provider_ids = Vec::new();
        for c in &sc.clusters {
            let mut ids = Vec::new();
            for p in &c.capacity_providers {
                let k = match provider_names.iter().position(|n| *n == p.name) {
                    Some(k) => k,
                    None => {
                        provider_names.push(p.name.clone());
                        provider_names.len() - 1
                    }
                };
                ids.push(k as u16);
            }
            cluster_provider_ids.push(ids);
        }
        let pr = &sc.pricing;
        let (f, fs) = (&pr.table.fargate, &pr.table.fargate_spot);
        let disc = |r: Option<FargateRates>| r.map(|r| r.discounted(pr.fargate_discount_pct));
        let fargate_rates = [
            disc(f.linux_x86_64),
            disc(f.linux_arm64),
            disc(f.windows_x86_64),
            fs.linux_x86_64,
            fs.linux_arm64,
            None,
        ];
        let n_owners = sc.services.len() + sc.jobs.len();
        Billing {
            ledger: Ledger::new(provider_names.len(), n_owners),
            fleet: Fleet::new(provider_names.len(), &pr.spot_price_changes),
            has_fargate: has_fargate(sc, &provider_names),
            settle_at_ms: SETTLE_MS + 1,
            fargate_rates,
            provider_names,
            cluster_provider_ids,
            scratch_owners: Vec::new(),
        }
    }

    /// An instance's hourly rate in pico-dollars: On-Demand less the discount, or Spot, plus EBS.
    /// The prices come from [`crate::pricing::ec2_prices`]; the scenario reader has checked that
    /// every type a group uses has the price its purchase option needs.
    pub(super) fn instance_rate(&self, sc: &Scenario, ty: &InstanceType, spot: bool) -> u128 {
        let pr = &sc.pricing;
        let prices = pricing::ec2_prices(&pr.table, ty, pr.ec2_spot_discount_pct);
        let base = if spot {
            prices
                .spot
                .expect("the reader checked that Spot groups have a Spot price")
                .0
        } else {
            let od = prices
                .on_demand
                .expect("the reader checked that every type has an On-Demand price")
                .0;
            ((od as f64) * (1.0 - pr.ec2_discount_pct / 100.0)).round() as u128
        };
        let ebs = pr.table.ec2.ebs_gb_month * u128::from(pr.ebs_gb_per_instance)
            / u128::from(pr.table.ec2.hours_per_month);
        base + ebs
    }

    /// An instance launched at `now`: its capacity is billed from then on.
    pub(super) fn instance_up(&mut self, provider: u16, spot: bool, rate: u128, now: SimTime) {
        let p = usize::from(provider);
        self.fleet
            .launched(p, spot, rate, now.ms(), &mut self.ledger);
    }

    /// An instance stopped at `now`: its capacity is billed until then.
    pub(super) fn instance_down(&mut self, provider: u16, spot: bool, rate: u128, now: SimTime) {
        let p = usize::from(provider);
        self.fleet
            .stopped(p, spot, rate, now.ms(), &mut self.ledger);
    }
}

/// Book the used part of an instance's cost over [a, b) piece by piece, cut at hour boundaries
/// and, when its `rate` is `priced` (Spot, with price changes), where Spot prices change.
#[inline(never)]
fn accrue_pieces(
    ledger: &mut Ledger,
    changes: &[(u64, f64)],
    (rate, priced): (u128, bool),
    (mut a, end): (u64, u64),
    used: UsedFraction,
    shares: Shares<'_>,
) {
    while a < end {
        let mut b = ((a / HOUR_MS) + 1) * HOUR_MS;
        let mut r = rate;
        if priced {
            let k = changes.partition_point(|c| c.0 <= a);
            r = spot_price(rate, changes, k);
            if let Some(next) = changes.get(k) {
                b = b.min(next.0);
            }
        }
        let b = b.min(end);
        ledger.book_ec2_used(a, used.of(pricing::instance_charge(r, b - a)), shares);
        a = b;
    }
}

/// Several owners' shares of an instance's used capacity: each in proportion to
/// `cpu / registered cpu + memory / registered memory` of its tasks (scaled by `cpu * mem`
/// to integers), kept in `scratch`.
#[cold]
#[inline(never)]
fn weighted<'a>(
    scratch: &'a mut Vec<(usize, u128)>,
    owners: &[(u32, u32, u32)],
    (ctot, mtot): (u32, u32),
) -> Shares<'a> {
    let (ctot, mtot) = (u64::from(ctot), u64::from(mtot));
    let weight =
        |cpu: u32, mem: u32| u128::from(u64::from(cpu) * mtot) + u128::from(u64::from(mem) * ctot);
    scratch.clear();
    scratch.extend(owners.iter().map(|&(o, c, m)| (o as usize, weight(c, m))));
    match scratch.iter().map(|o| o.1).sum() {
        0 => Shares::Nobody,
        total => Shares::Weighted(scratch, total),
    }
}

impl<S: Sink> Core<'_, S> {
    /// Book the used part of an instance's cost from its last booking to `now` (its capacity
    /// is the fleet's: [`Fleet`]), hour piece by hour piece, cut where Spot prices change.
    ///
    /// Called at every allocation change, so it is kept short: the used fraction and the
    /// owners' shares are worked out once; nothing is booked when nothing is used; an interval
    /// within one hour, at an unchanging price, is one piece booked at once (the general case is
    /// [`accrue_pieces`]).
    pub(super) fn accrue_instance(&mut self, r: InstanceRef, now: SimTime) {
        let cs = &mut self.clusters[r.cluster.index()];
        let inst = &mut cs.insts[r.id.0 as usize];
        let t0 = inst.last_bill;
        if now <= t0 || inst.state == super::InstanceState::Stopped {
            return;
        }
        inst.last_bill = now;
        // Before it registers, nothing is used.
        if inst.state == super::InstanceState::Launching {
            return;
        }
        let (ctot, mtot, _) = cs.pc.registered(r.id);
        let (cav, mav, _) = cs.pc.available(r.id);
        let Some(used) = UsedFraction::new(ctot - cav, ctot, mtot - mav, mtot) else {
            return;
        };
        let billing = &mut self.billing;
        // Something is used, so both registered amounts are positive: one owner has a weight
        // (see `weighted`) when it reserves anything.
        let shares = match inst.owners.as_slice() {
            &[(o, cpu, mem)] if cpu > 0 || mem > 0 => Shares::One(o as usize),
            [] | [_] => Shares::Nobody,
            many => weighted(&mut billing.scratch_owners, many, (ctot, mtot)),
        };
        let (a, b) = (t0.ms(), now.ms());
        let changes = &self.sc.pricing.spot_price_changes;
        let priced = inst.spot && !changes.is_empty();
        if !priced && b <= (a / HOUR_MS + 1) * HOUR_MS {
            let charge = used.of(pricing::instance_charge(inst.rate, b - a));
            billing.ledger.book_ec2_used(a, charge, shares);
        } else {
            let rate = (inst.rate, priced);
            accrue_pieces(&mut billing.ledger, changes, rate, (a, b), used, shares);
        }
    }

    /// Bill a Fargate task from PENDING (or what is billed already) to `end`, rounded up with
    /// the minimum, as stopped then.
    pub(super) fn bill_fargate(&mut self, tid: TaskId, end: SimTime) {
        self.bill_fargate_to(tid, end, true);
    }

    /// Bill a Fargate task's time from what is billed already to `end`, hour piece by hour
    /// piece; when it stops there (`stop`), the rounding up and minimum of its whole life too.
    fn bill_fargate_to(&mut self, tid: TaskId, end: SimTime, stop: bool) {
        let t = self.task(tid);
        let Runs::Fargate { spot, .. } = t.runs else {
            return;
        };
        let (Some(start), Some(from)) = (t.placed(), t.fargate_unbilled_from()) else {
            return;
        };
        let d = &self.sc.task_definitions[t.def.index()];
        let windows = d.os.is_windows();
        let arm = d.architecture.as_deref() == Some("arm64");
        let rates = self.billing.fargate_rates[rate_slot(spot, windows, arm)]
            .expect("validated: rates exist");
        let f = &self.sc.pricing.table.fargate;
        let min_s = if windows {
            f.minimum_seconds_windows
        } else {
            f.minimum_seconds_linux
        };
        let extra_gb = d.ephemeral_storage_gb.saturating_sub(f.storage_included_gb);
        let owner = t.owner.index(self.sc.services.len());
        let provider = t.provider as usize;
        let (cpu, mem, storage) = (
            d.task_cpu.unwrap_or(d.cpu_units),
            d.task_memory.unwrap_or(d.memory_mib),
            f.storage_gb,
        );
        let (start, from, end_ms) = (start.ms(), from.ms(), end.ms());
        let ledger = &mut self.billing.ledger;
        Ledger::split_hours(from, end_ms, |_, a, b| {
            let charge = pricing::fargate_charge(&rates, storage, cpu, mem, extra_gb, b - a);
            ledger.book_fargate(a, charge, spot, provider, owner);
        });
        if !stop {
            self.rec(tid).set_fargate_billed(end);
            return;
        }
        let billed = pricing::billed_ms(end_ms - start, min_s);
        let top_up = billed - (end_ms - start);
        if top_up > 0 {
            let charge = pricing::fargate_charge(&rates, storage, cpu, mem, extra_gb, top_up);
            let at = end_ms.saturating_sub(1).max(start);
            ledger.book_fargate(at, charge, spot, provider, owner);
        }
    }

    /// Once per simulated day ([`SETTLE_MS`]): bill every instance and Fargate task up to the
    /// last hour boundary before `now` (cutting there, as their next booking would: the money is the
    /// same), and close the ledger's hours before it, writing their cost rows. Nothing books
    /// into them any more: later charges start at the boundary, and roundings and minimums
    /// land at `now - 1` or later. Until an instance has launched in a scenario that has
    /// instance groups, whether cost.csv has EC2 rows is not known, so nothing closes.
    #[inline]
    pub(crate) fn settle_hours(&mut self, now: SimTime) {
        if now.ms() >= self.billing.settle_at_ms {
            self.settle_hours_now(now);
        }
    }

    fn settle_hours_now(&mut self, now: SimTime) {
        let h = (now.ms() - 1) / HOUR_MS;
        self.billing.settle_at_ms = (now.ms() - 1) / SETTLE_MS * SETTLE_MS + SETTLE_MS + 1;
        let has_ec2 = self.clusters.iter().any(|c| !c.insts.is_empty());
        if !has_ec2 && self.sc.clusters.iter().any(|c| !c.groups.is_empty()) {
            return;
        }
        let cut = SimTime::from_ms(h * HOUR_MS);
        for c in 0..self.clusters.len() {
            for i in 0..self.clusters[c].insts.len() {
                let r = InstanceRef::new(
                    crate::ids::ClusterId::new(c),
                    ecsim_placement::InstanceId(i as u32),
                );
                self.accrue_instance(r, cut);
            }
        }
        let billing = &mut self.billing;
        billing.fleet.bill_to(cut.ms(), &mut billing.ledger);
        if self.billing.has_fargate {
            for k in 0..self.tasks.len() {
                let t = &self.tasks[k];
                if t.seq != super::FREE && t.state != super::TaskState::Stopped {
                    self.bill_fargate_to(TaskId(t.seq, k as u32), cut, false);
                }
            }
        }
        let (sc, names) = (self.sc, &self.billing.provider_names);
        let layout = (has_ec2, self.billing.has_fargate);
        let sink = &mut self.out.sink;
        self.billing.ledger.close_before(h as usize, |k, row| {
            hour_rows(sc, names, layout, k, row, sink)
        });
    }

    /// The run's end bills like a stop: instances still up get their EC2 minimum top-up, and
    /// Fargate tasks still live are billed to the end.
    pub(crate) fn bill_to_end(&mut self, end: SimTime) {
        let min_ec2 = self.sc.pricing.table.ec2.minimum_seconds;
        for c in 0..self.clusters.len() {
            for i in 0..self.clusters[c].insts.len() {
                if self.clusters[c].insts[i].state == super::InstanceState::Stopped {
                    continue;
                }
                let r = InstanceRef::new(
                    crate::ids::ClusterId::new(c),
                    ecsim_placement::InstanceId(i as u32),
                );
                self.accrue_instance(r, end);
                let inst = &self.clusters[c].insts[i];
                let life = end.since(inst.launched);
                let top_up = pricing::billed_ms(life, min_ec2) - life;
                if top_up > 0 {
                    let target = Ec2Target {
                        provider: inst.provider as usize,
                        spot: inst.spot,
                    };
                    let cost = pricing::instance_charge(inst.rate, top_up);
                    let at = end.ms().saturating_sub(1);
                    self.billing.ledger.book_ec2(at, cost, 0, 1, &[], target);
                }
            }
        }
        let billing = &mut self.billing;
        billing.fleet.bill_to(end.ms(), &mut billing.ledger);
        for k in 0..self.tasks.len() {
            let t = &self.tasks[k];
            if t.state != super::TaskState::Stopped {
                if let Some(p) = t.placed() {
                    self.counters.task_ms += u128::from(end.since(p));
                }
                self.bill_fargate(TaskId(t.seq, k as u32), end);
            }
        }
    }
}
