//! The engine's event loop on its own (a model that reschedules each event), and whole runs of
//! the steady-binpack scenario at small sizes. Reported in events per second.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use ecsim_engine::{Control, Limits, Model, Scheduler, SimTime};
use ecsim_model::record::NullSink;
use ecsim_model::{scenario, sim};

/// Keeps `width` events in flight: each event schedules one more, a pseudo-random delay later.
struct Churn {
    left: u64,
    x: u64,
}

impl Model for Churn {
    type Event = u32;
    fn handle(&mut self, ev: u32, s: &mut Scheduler<u32>) -> Control {
        if self.left > 0 {
            self.left -= 1;
            self.x = ecsim_engine::mix64(self.x);
            s.schedule_in(self.x % 3_600_000, ev);
        }
        Control::Continue
    }
}

fn event_loop(c: &mut Criterion) {
    let mut g = c.benchmark_group("engine/event-loop");
    const EVENTS: u64 = 1_000_000;
    g.throughput(Throughput::Elements(EVENTS));
    for width in [1_000u32, 100_000] {
        g.bench_with_input(BenchmarkId::from_parameter(width), &width, |b, &w| {
            b.iter(|| {
                let mut s = Scheduler::new();
                for i in 0..w {
                    s.schedule_at(SimTime::from_ms(u64::from(i)), i);
                }
                let mut m = Churn {
                    left: EVENTS - u64::from(w),
                    x: 1,
                };
                ecsim_engine::run(&mut m, &mut s, Limits::default()).events_processed
            })
        });
    }
    g.finish();
}

fn whole_run(c: &mut Criterion) {
    let src = include_str!("../../scenarios/bench/steady-binpack.toml");
    let mut g = c.benchmark_group("run/steady-binpack");
    g.sample_size(10);
    for (instances, tasks) in [(100u32, 10_000u64), (1_000, 100_000)] {
        let rate = 8.2963 * f64::from(instances) / 10_000.0;
        let sets = vec![
            format!("clusters[0].count={instances}"),
            format!("jobs[0].arrival.count={tasks}"),
            format!("jobs[0].arrival.rate_per_s={rate}"),
        ];
        let sc = scenario::load("steady-binpack.toml", src, &sets).expect("valid");
        let events = sim::run(
            &sc,
            sim::RunOptions {
                seed: 1,
                check_invariants: false,
            },
            NullSink,
        )
        .0
        .events_processed;
        g.throughput(Throughput::Elements(events));
        g.bench_with_input(BenchmarkId::new("tasks", tasks), &sc, |b, sc| {
            b.iter(|| {
                sim::run(
                    sc,
                    sim::RunOptions {
                        seed: 1,
                        check_invariants: false,
                    },
                    NullSink,
                )
                .0
                .events_processed
            })
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(std::time::Duration::from_secs(3)).warm_up_time(std::time::Duration::from_millis(500));
    targets = event_loop, whole_run
}
criterion_main!(benches);
