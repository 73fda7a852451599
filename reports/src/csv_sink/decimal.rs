//! The text of the tables' numbers without `core::fmt`: unsigned integers as `{}` writes them and
//! `f64` values as `{:.3}` does, byte for byte (checked against the standard formatting below).
//! A metrics row holds a dozen of them or more, once per simulated minute; through `core::fmt`
//! each three-decimal value took about 1,300 instructions (exact decimal expansion).

/// Room for the longest text either function writes: a sign, 16 digits, a point and 3 digits;
/// or the 20 digits of `u64::MAX`.
pub(super) const LEN: usize = 24;

/// `v` in decimal, as `{v}` writes it.
pub(super) fn integer(v: u64, buf: &mut [u8; LEN]) -> &[u8] {
    let start = digits(v, buf, LEN);
    &buf[start..]
}

/// Write `v`'s decimal digits to end at `end`; the index of the first.
fn digits(mut v: u64, buf: &mut [u8; LEN], end: usize) -> usize {
    let mut i = end;
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            return i;
        }
    }
}

/// `v` with three decimals, as `{v:.3}` writes it: the exact binary value rounded to the nearest
/// thousandth, an exact tie to the even one, a minus sign whenever the sign bit is set (so
/// `-0.0` and `-0.0001` give `-0.000`). `None` for what is left to `core::fmt`: NaN, infinities
/// and magnitudes from 2^52 up.
pub(super) fn fixed3(v: f64, buf: &mut [u8; LEN]) -> Option<&[u8]> {
    const LIMIT: f64 = 4_503_599_627_370_496.0; // 2^52
    if v.is_nan() || v.abs() >= LIMIT {
        return None;
    }
    let bits = v.to_bits();
    let exp = ((bits >> 52) & 0x7ff) as u32;
    let frac = bits & ((1 << 52) - 1);
    // |v| = m * 2^-sh with sh >= 1, since |v| < 2^52 and m < 2^53.
    let (m, sh) = if exp == 0 {
        (frac, 1074)
    } else {
        (frac | 1 << 52, 1075 - exp)
    };
    // 1000|v| = n / 2^sh exactly, n < 2^63. From sh = 64 on it is below 0.5: rounds to 0.
    let n = u128::from(m * 1000);
    let thousandths = if sh >= 64 {
        0
    } else {
        let q = n >> sh;
        let rest = n - (q << sh);
        let half = 1u128 << (sh - 1);
        let up = rest > half || (rest == half && q & 1 == 1);
        (q + u128::from(up)) as u64
    };
    let frac = thousandths % 1000;
    buf[LEN - 1] = b'0' + (frac % 10) as u8;
    buf[LEN - 2] = b'0' + (frac / 10 % 10) as u8;
    buf[LEN - 3] = b'0' + (frac / 100) as u8;
    buf[LEN - 4] = b'.';
    let mut start = digits(thousandths / 1000, buf, LEN - 4);
    if bits >> 63 == 1 {
        start -= 1;
        buf[start] = b'-';
    }
    Some(&buf[start..])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(v: f64) {
        let mut buf = [0; LEN];
        let want = format!("{v:.3}");
        match fixed3(v, &mut buf) {
            Some(got) => assert_eq!(std::str::from_utf8(got).unwrap(), want, "{v:e}"),
            None => assert!(
                v.is_nan() || v.abs() >= 4_503_599_627_370_496.0,
                "{v:e} left to fmt"
            ),
        }
    }

    /// SplitMix64, for reproducible random values.
    fn mix(x: &mut u64) -> u64 {
        *x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = *x;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Ties (exact halves of a thousandth round to even), the binary neighbours of every
    /// x.xxx5 boundary, zeros of both signs, tiny and subnormal values, values just below and
    /// at 2^52 (where `core::fmt` takes over), NaN and the infinities.
    #[test]
    fn three_decimals_as_std_writes_them_at_the_edges() {
        let mut cases = vec![
            0.0,
            -0.0,
            0.0005,
            -0.0005,
            0.0015,
            0.0625,
            -0.0625,
            0.1875,
            1.0625,
            0.3125,
            99.9995,
            99.99950000000001,
            100.0,
            -0.0001,
            -0.0004999,
            f64::MIN_POSITIVE,
            -f64::MIN_POSITIVE,
            5e-324,
            -5e-324,
            1e-300,
            0.49999999999999994,
            4_503_599_627_370_495.5,
            4_503_599_627_370_496.0,
            -4_503_599_627_370_495.5,
            2_251_799_813_685_248.0 - 0.25,
            1e15 + 0.0625,
            1e20,
            f64::MAX,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ];
        // Exact halves: k/2000 for odd k is a tie only when exactly representable (k/2^j).
        for j in 1..=30 {
            for k in 0..64u64 {
                let v = (k as f64 + 0.5) / f64::from(1u32 << j.min(30));
                cases.extend([v, -v, v * 1000.0, v + 12_345.0]);
            }
        }
        // The neighbours of every x.xxx5 boundary up to 100, and of larger ones.
        for k in 0..200_000u64 {
            let b = (2 * k + 1) as f64 / 2000.0;
            cases.extend([
                b,
                f64::from_bits(b.to_bits() + 1),
                f64::from_bits(b.to_bits() - 1),
            ]);
        }
        let mut x = 3;
        for _ in 0..100_000 {
            let b = (mix(&mut x) >> 14) as f64 + 0.0005;
            cases.extend([
                b,
                f64::from_bits(b.to_bits() + 1),
                f64::from_bits(b.to_bits() - 1),
            ]);
        }
        for c in cases {
            check(c);
        }
    }

    /// A few million random values: any bit pattern, percentages as the simulation computes
    /// them (a ratio of counts times 100), and values over every scale.
    #[test]
    fn three_decimals_as_std_writes_random_values() {
        let mut x = 11;
        for _ in 0..1_000_000 {
            let r = mix(&mut x);
            check(f64::from_bits(r));
            let (a, b) = (r >> 44, (r & 0xf_ffff) + 1);
            check(100.0 * a.min(b) as f64 / b as f64);
            let scale = f64::from(1u32 << (r >> 59));
            check((r >> 11) as f64 / (1u64 << 53) as f64 * scale);
            check(-((r >> 20) as f64) / 1e6);
        }
    }

    #[test]
    fn integers_as_std_writes_them() {
        let mut buf = [0; LEN];
        let mut x = 5;
        let mut cases = vec![0, 1, 9, 10, 99, 100, u64::MAX, u64::MAX - 1, 1 << 63];
        for _ in 0..100_000 {
            let r = mix(&mut x);
            cases.extend([r, r >> (r % 64), r % 1000]);
        }
        for v in cases {
            assert_eq!(integer(v, &mut buf), v.to_string().as_bytes());
        }
    }
}
