//! Distributions of durations, sampled in milliseconds.

use rand::RngExt;
use rand_distr::{Distribution, Exp1, LogNormal};

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
                // `Exp1` is `Exp::new(1.0)` without its multiplication by 1.
                let x: f64 = Exp1.sample(rng);
                round_ms(x * mean_ms)
            }
            Dist::LogNormal { median_ms, sigma } => {
                let x: f64 = LogNormal::new(median_ms.ln(), *sigma)
                    .expect("validated")
                    .sample(rng);
                round_ms(x.min(u64::MAX as f64))
            }
            Dist::Weibull { scale_ms, shape } => {
                let x: f64 = rand_distr::Weibull::new(*scale_ms, *shape)
                    .expect("validated")
                    .sample(rng);
                round_ms(x.min(u64::MAX as f64))
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

/// `x.round() as u64` (to nearest, halves away from zero; negative and NaN give 0, beyond
/// `u64::MAX` gives `u64::MAX`) without the call to the library's `round`: the fraction of a
/// value below 2^53 is exact in `f64`, and every value from 2^52 up is a whole number.
///
/// From 0 to 2^52 (every draw of a duration in practice) through `i64`, whose conversions to
/// and from `f64` are single instructions on x86-64 (those of `u64` are not).
#[inline]
pub(crate) fn round_ms(x: f64) -> u64 {
    if (0.0..4_503_599_627_370_496.0).contains(&x) {
        let whole = x as i64;
        return (whole + i64::from(x - whole as f64 >= 0.5)) as u64;
    }
    let whole = x as u64;
    if whole < 1 << 53 && x - whole as f64 >= 0.5 {
        whole + 1
    } else {
        whole
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

    /// The rounding is `f64::round` then `as u64`, halves, huge, negative and NaN values too.
    #[test]
    fn round_ms_is_round_as_u64() {
        let mut cases = vec![
            0.0,
            -0.0,
            0.49999999999999994,
            0.5,
            1.5,
            2.5,
            -0.5,
            -0.7,
            -3.2,
            4_503_599_627_370_495.5,
            4_503_599_627_370_496.0,
            9_007_199_254_740_993.0,
            1.8e19,
            u64::MAX as f64,
            2e19,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
            f64::MIN_POSITIVE,
        ];
        let mut x = 1u64;
        for _ in 0..100_000 {
            x = ecsim_engine::mix64(x);
            cases.push(f64::from_bits(x));
            cases.push((x >> 11) as f64 / 1024.0);
            cases.push((x >> 40) as f64 + 0.5);
        }
        for c in cases {
            assert_eq!(round_ms(c), c.round() as u64, "{c:e}");
        }
    }

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
