//! The bare lower bound of `scenarios/bench/steady-binpack.toml`: the same workload with nothing
//! but a binary heap of `(time, sequence)` events and one ordered index of instances by free CPU.
//!
//! Instances of 4,096 CPU units; tasks of 256, 512, 1,024 or 2,048 units (equally likely) arrive
//! as a Poisson process and run for an exponential time (mean 1 h); each goes to the instance
//! with the least free CPU that still fits it (binpack on CPU, lowest id on ties) or fails at
//! once when none does (RunTask). Memory is left out: the scenario gives every task twice its
//! CPU in MiB and every instance four times, so CPU always runs out first. The run ends when the
//! last task ends.
//!
//! `bound INSTANCES TASKS [RATE_PER_S] [SEED]`; the rate defaults to the scenario's 8.2963 tasks/s
//! per 10,000 instances (70 % offered CPU load). Prints what it did on one line, so that the
//! work cannot be optimised away and the results can be compared with ecsim's summary.

use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap};

const CPU: u32 = 4096;
const MEAN_RUN_MS: f64 = 3_600_000.0;

/// SplitMix64: a small, good-enough generator of its own, so the bound depends on no crate.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform in (0, 1].
    fn unit(&mut self) -> f64 {
        ((self.next() >> 11) + 1) as f64 / (1u64 << 53) as f64
    }
    /// Exponential with the given mean, in whole milliseconds.
    fn exp_ms(&mut self, mean_ms: f64) -> u64 {
        (-self.unit().ln() * mean_ms).round() as u64
    }
}

/// An arrival (`u32::MAX`) or the end of a task on an instance, with its CPU in the top bits.
type Event = u64;
const ARRIVAL: Event = u64::MAX;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let num = |i: usize, default: f64| -> f64 {
        args.get(i)
            .map(|s| s.parse().expect("a number"))
            .unwrap_or(default)
    };
    let instances = num(0, 10_000.0) as u32;
    let tasks = num(1, 1_000_000.0) as u64;
    let rate = num(2, 8.2963 * f64::from(instances) / 10_000.0);
    let mut rng = Rng(num(3, 1.0) as u64);
    let mean_gap_ms = 1000.0 / rate;

    let mut free = vec![CPU; instances as usize];
    let mut index: BTreeSet<(u32, u32)> = (0..instances).map(|i| (CPU, i)).collect();
    let mut heap: BinaryHeap<Reverse<(u64, u64, Event)>> = BinaryHeap::new();
    let mut seq = 0u64;
    let mut push = |heap: &mut BinaryHeap<_>, t: u64, e: Event| {
        heap.push(Reverse((t, seq, e)));
        seq += 1;
    };
    push(&mut heap, rng.exp_ms(mean_gap_ms), ARRIVAL);
    let (mut arrived, mut placed, mut failed, mut events, mut end) = (0u64, 0u64, 0u64, 0u64, 0);
    let mut cpu_ms = 0u128;
    while let Some(Reverse((now, _, ev))) = heap.pop() {
        events += 1;
        end = now;
        if ev == ARRIVAL {
            arrived += 1;
            if arrived < tasks {
                push(&mut heap, now + rng.exp_ms(mean_gap_ms), ARRIVAL);
            }
            let cpu = 256u32 << (rng.next() % 4);
            let run = rng.exp_ms(MEAN_RUN_MS);
            match index.range((cpu, 0)..).next().copied() {
                Some((f, i)) => {
                    index.remove(&(f, i));
                    index.insert((f - cpu, i));
                    free[i as usize] = f - cpu;
                    placed += 1;
                    cpu_ms += u128::from(cpu) * u128::from(run);
                    push(&mut heap, now + run, (u64::from(cpu) << 32) | u64::from(i));
                }
                None => failed += 1,
            }
        } else {
            let (cpu, i) = ((ev >> 32) as u32, ev as u32);
            let f = free[i as usize];
            index.remove(&(f, i));
            index.insert((f + cpu, i));
            free[i as usize] = f + cpu;
        }
    }
    println!(
        "instances={instances} tasks={tasks} placed={placed} failed={failed} events={events} \
         end_ms={end} mean_cpu_load={:.4}",
        cpu_ms as f64 / (f64::from(instances) * f64::from(CPU) * end.max(1) as f64)
    );
}
