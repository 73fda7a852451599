//! Distributions of durations, sampled in milliseconds.

use rand::RngExt;
use rand_distr::{Distribution, Exp, LogNormal};

use ecsim_engine::Stream;

/// A distribution of durations.
#[derive(Debug, Clone, PartialEq)]
pub enum Dist {
    /// Always the same.
    Fixed(u64),
    /// Exponential with this mean.
    Exponential {
        /// Mean, ms.
        mean_ms: f64,
    },
    /// Log-normal: `ln(X)` is normal with mean `ln(median)` and standard deviation `sigma`.
    LogNormal {
        /// Median, ms.
        median_ms: f64,
        /// Standard deviation of `ln(X)`.
        sigma: f64,
    },
    /// Weibull with scale `scale_ms` and shape `shape` (shape 1 is exponential; above 1, failures
    /// grow more likely with age).
    Weibull {
        /// Scale, ms.
        scale_ms: f64,
        /// Shape.
        shape: f64,
    },
    /// Uniform between two values (inclusive).
    Uniform {
        /// Smallest, ms.
        min_ms: u64,
        /// Largest, ms.
        max_ms: u64,
    },
    /// One of the listed values, with weights.
    Empirical {
        /// Values, ms.
        values_ms: Vec<u64>,
        /// Cumulative weights, last = total.
        cumulative: Vec<f64>,
    },
}

impl Dist {
    /// Draw one value, rounded to the millisecond.
    pub fn sample(&self, rng: &mut Stream) -> u64 {
        match self {
            Dist::Fixed(v) => *v,
            Dist::Exponential { mean_ms } => {
                let x: f64 = Exp::new(1.0).expect("rate 1").sample(rng);
                (x * mean_ms).round() as u64
            }
            Dist::LogNormal { median_ms, sigma } => {
                let x: f64 = LogNormal::new(median_ms.ln(), *sigma)
                    .expect("validated")
                    .sample(rng);
                x.round().min(u64::MAX as f64) as u64
            }
            Dist::Weibull { scale_ms, shape } => {
                let x: f64 = rand_distr::Weibull::new(*scale_ms, *shape)
                    .expect("validated")
                    .sample(rng);
                x.round().min(u64::MAX as f64) as u64
            }
            Dist::Uniform { min_ms, max_ms } => rng.random_range(*min_ms..=*max_ms),
            Dist::Empirical {
                values_ms,
                cumulative,
            } => {
                let total = *cumulative.last().expect("non-empty");
                let u: f64 = rng.random::<f64>() * total;
                let i = cumulative
                    .partition_point(|&c| c <= u)
                    .min(values_ms.len() - 1);
                values_ms[i]
            }
        }
    }

    /// The mean, ms.
    pub fn mean_ms(&self) -> f64 {
        match self {
            Dist::Fixed(v) => *v as f64,
            Dist::Exponential { mean_ms } => *mean_ms,
            Dist::LogNormal { median_ms, sigma } => median_ms * (sigma * sigma / 2.0).exp(),
            Dist::Weibull { scale_ms, shape } => scale_ms * gamma(1.0 + 1.0 / shape),
            Dist::Uniform { min_ms, max_ms } => (*min_ms as f64 + *max_ms as f64) / 2.0,
            Dist::Empirical {
                values_ms,
                cumulative,
            } => {
                let total = cumulative.last().copied().unwrap_or(1.0);
                let mut prev = 0.0;
                let mut m = 0.0;
                for (v, c) in values_ms.iter().zip(cumulative) {
                    m += *v as f64 * (c - prev) / total;
                    prev = *c;
                }
                m
            }
        }
    }

    /// Whether every draw is zero (lets the simulation skip scheduling an event).
    pub fn is_zero(&self) -> bool {
        *self == Dist::Fixed(0)
    }
}

/// The gamma function (Lanczos approximation), for the Weibull mean.
fn gamma(x: f64) -> f64 {
    const G: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        return std::f64::consts::PI / ((std::f64::consts::PI * x).sin() * gamma(1.0 - x));
    }
    let x = x - 1.0;
    let t = x + 7.5;
    let mut a = G[0];
    for (i, g) in G.iter().enumerate().skip(1) {
        a += g / (x + i as f64);
    }
    (2.0 * std::f64::consts::PI).sqrt() * t.powf(x + 0.5) * (-t).exp() * a
}

#[cfg(test)]
mod tests {
    use super::*;
    use ecsim_engine::Streams;

    #[test]
    fn sample_means_match() {
        let mut r = Streams::new(7).stream("t");
        for d in [
            Dist::Exponential {
                mean_ms: 3_600_000.0,
            },
            Dist::LogNormal {
                median_ms: 60_000.0,
                sigma: 0.5,
            },
            Dist::Uniform {
                min_ms: 1000,
                max_ms: 3000,
            },
            Dist::Empirical {
                values_ms: vec![1000, 5000],
                cumulative: vec![3.0, 4.0],
            },
        ] {
            let n = 200_000;
            let mean = (0..n).map(|_| d.sample(&mut r) as f64).sum::<f64>() / n as f64;
            let rel = (mean - d.mean_ms()).abs() / d.mean_ms();
            assert!(rel < 0.01, "{d:?}: sample mean {mean} vs {}", d.mean_ms());
        }
        assert_eq!(Dist::Fixed(5).sample(&mut r), 5);
    }
}
