//! Billing accrual on its own: the ledger booking of one instance's cost over one interval
//! between allocation changes (used/idle split, provider and owner shares), as the core does at
//! every allocation change. Reported in bookings per second.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use ecsim_model::billing::{Ec2Target, Ledger};
use ecsim_model::pricing::instance_charge;

/// 0.192 USD per hour in pico-dollars, the steady-binpack instance's rate.
const RATE: u128 = 192_000_000_000;

fn book(c: &mut Criterion) {
    const BOOKINGS: u64 = 100_000;
    let mut g = c.benchmark_group("billing/book-ec2");
    g.throughput(Throughput::Elements(BOOKINGS));
    for owners in [1usize, 4] {
        g.bench_with_input(BenchmarkId::new("owners", owners), &owners, |b, &n| {
            b.iter(|| {
                let mut ledger = Ledger::new(1, n);
                let (ctot, mtot) = (4096u128, 16384u128);
                let mut weights: Vec<(usize, u128)> = Vec::with_capacity(n);
                let (mut t, mut x) = (0u64, 1u64);
                for _ in 0..BOOKINGS {
                    x = ecsim_engine::mix64(x);
                    // Intervals of up to 2 minutes, used CPU in steps of 256 units.
                    let dt = x % 120_000;
                    let cpu_used = u128::from(x >> 60) * 256;
                    weights.clear();
                    for k in 0..n {
                        weights.push((k, (cpu_used + 256) * mtot + (k as u128 + 1) * 512 * ctot));
                    }
                    ledger.book_ec2(
                        t,
                        instance_charge(RATE, dt),
                        cpu_used * mtot,
                        ctot * mtot,
                        &weights,
                        Ec2Target {
                            provider: 0,
                            spot: false,
                        },
                    );
                    t += dt;
                }
                ledger.totals().total()
            })
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(std::time::Duration::from_secs(2)).warm_up_time(std::time::Duration::from_millis(500));
    targets = book
}
criterion_main!(benches);
