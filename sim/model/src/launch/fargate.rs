//! Fargate's launch machinery: the account-wide launch-rate token bucket and the choice of an
//! Availability Zone for a new task.
//!
//! The bucket holds `launch_burst` tokens and refills at `launch_refill_per_s` (ECS service
//! quotas: a burst of 100 and 20 per second for Fargate tasks launched by RunTask/services). A
//! task takes one token; without one it waits until the bucket has refilled enough. Tokens may
//! go negative, so later launches queue behind earlier ones.
//!
//! A task goes to the AZ, of those given, with the fewest live tasks of its service or job; ties
//! are drawn at random (AWS documents none of this, ECS-DG `task-placement.html`).

/// Fargate's launch-rate token bucket, in millionths of a token.
#[derive(Debug, Clone)]
pub(crate) struct TokenBucket {
    on: bool,
    tokens: i64,
    cap: i64,
    per_ms: i64,
    last_ms: u64,
}

impl TokenBucket {
    /// A full bucket of `burst` tokens refilled at `refill_per_s`; `on = false` never waits.
    pub(crate) fn new(on: bool, burst: u32, refill_per_s: f64) -> Self {
        let cap = i64::from(burst) * 1_000_000;
        TokenBucket {
            on,
            tokens: cap,
            cap,
            per_ms: ((refill_per_s * 1000.0).round() as i64).max(1),
            last_ms: 0,
        }
    }

    /// Take a token at `now_ms`; returns how long the launch must wait for it, ms.
    pub(crate) fn take(&mut self, now_ms: u64) -> u64 {
        if !self.on {
            return 0;
        }
        let refill = (now_ms - self.last_ms) as i64 * self.per_ms;
        self.tokens = (self.tokens + refill).min(self.cap);
        self.last_ms = now_ms;
        self.tokens -= 1_000_000;
        if self.tokens >= 0 {
            0
        } else {
            ((-self.tokens) as u64).div_ceil(self.per_ms as u64)
        }
    }
}

/// Of the AZs that are `open` (all of them if none is), those with the fewest live tasks
/// (indexes, in order): the candidates for a new task. An AZ that is down takes no task.
pub(crate) fn least_loaded_azs(counts: &[u32], open: &[bool]) -> Vec<usize> {
    let any_open = open.iter().any(|&o| o);
    let ok = |k: usize| !any_open || open[k];
    let min = (0..counts.len())
        .filter(|&k| ok(k))
        .map(|k| counts[k])
        .min()
        .expect("at least one AZ");
    (0..counts.len())
        .filter(|&k| ok(k) && counts[k] == min)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_launches_at_once_then_the_refill_rate_paces_launches() {
        // ECS service quotas: Fargate task launch rate, burst 100, sustained 20 per second.
        let mut b = TokenBucket::new(true, 100, 20.0);
        for _ in 0..100 {
            assert_eq!(b.take(0), 0);
        }
        // The 101st waits for one token: 1/20 s = 50 ms; the 102nd queues behind it.
        assert_eq!(b.take(0), 50);
        assert_eq!(b.take(0), 100);
        // After a quiet second the bucket has refilled 20 tokens, less the 2 owed.
        for _ in 0..18 {
            assert_eq!(b.take(1000), 0);
        }
        assert_eq!(b.take(1000), 50);
    }

    #[test]
    fn the_bucket_never_holds_more_than_its_burst() {
        let mut b = TokenBucket::new(true, 2, 20.0);
        assert_eq!(b.take(3_600_000), 0);
        assert_eq!(b.take(3_600_000), 0);
        assert_eq!(b.take(3_600_000), 50);
    }

    #[test]
    fn switched_off_it_never_waits() {
        let mut b = TokenBucket::new(false, 1, 1.0);
        for _ in 0..1000 {
            assert_eq!(b.take(0), 0);
        }
    }

    #[test]
    fn new_tasks_go_to_the_least_loaded_azs() {
        let all = [true; 3];
        assert_eq!(least_loaded_azs(&[2, 1, 1], &all), vec![1, 2]);
        assert_eq!(least_loaded_azs(&[0, 3, 1], &all), vec![0]);
        // An AZ that is down takes no task, however empty (ecs-semantics 7: AZ outage).
        assert_eq!(least_loaded_azs(&[0, 3, 1], &[false, true, true]), vec![2]);
        assert_eq!(least_loaded_azs(&[0, 3, 1], &[false; 3]), vec![0]);
    }
}
