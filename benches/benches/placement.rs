//! Placement of one task (find, allocate, release) on clusters of 1k, 10k and 100k instances
//! loaded to 70 % CPU, for each strategy shape. Reported per placement.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use ecsim_benches::{chains, loaded_cluster};
use ecsim_placement::TaskRequest;

fn placement(c: &mut Criterion) {
    for (name, chain) in chains() {
        let mut group = c.benchmark_group(format!("place/{name}"));
        group.throughput(Throughput::Elements(1));
        for n in [1_000u32, 10_000, 100_000] {
            let (mut cluster, groups) = loaded_cluster(n, 0.7);
            let mut k = 0usize;
            group.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
                b.iter(|| {
                    k = (k + 1) % groups.len();
                    let r = TaskRequest {
                        cpu_units: 512,
                        memory_mib: 1024,
                        host_ports: &[],
                        needs_eni: false,
                        group: groups[k],
                        constraints: &[],
                        strategy: &chain,
                        pool: None,
                    };
                    let id = cluster.find(&r).expect("room at 70 %");
                    cluster.allocate(id, &r);
                    cluster.release(id, &r);
                    id
                })
            });
        }
        group.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(std::time::Duration::from_secs(2)).warm_up_time(std::time::Duration::from_millis(500));
    targets = placement
}
criterion_main!(benches);
