//! A platform-independent hash for comparing runs by one number.

/// The multiplier of the word step (an odd constant, so the step is a bijection of the state).
const K: u64 = 0x9e37_79b9_7f4a_7c15;

/// A word-at-a-time hash over little-endian encodings: each 64-bit word is folded in with one
/// rotate, xor and multiply, and [`StableHasher::finish`] mixes the state with SplitMix64's
/// finaliser. Unlike `DefaultHasher`, its output is fixed by this code and not by the standard
/// library version or the platform. Not cryptographic.
///
/// Every step is a bijection of the state for a given word, and of the word for a given state,
/// so two sequences of words of the same length that differ in exactly one word always hash
/// differently. Strings are read 8 bytes at a time, without copying.
#[derive(Debug, Clone, Copy)]
pub struct StableHasher(u64);

impl Default for StableHasher {
    fn default() -> Self {
        StableHasher(0xcbf2_9ce4_8422_2325)
    }
}

/// The last `r` (1 to 7) bytes of `b` as a little-endian word, zero-padded, read with at most
/// two loads instead of a byte loop: where `b` is at least 8 bytes long, its last 8 bytes shifted
/// down; else two overlapping 4- or 2-byte reads or-ed together, or the one byte.
#[inline]
fn tail_word(b: &[u8], r: usize) -> u64 {
    let n = b.len();
    if n >= 8 {
        let last = u64::from_le_bytes(b[n - 8..].try_into().expect("8 bytes"));
        last >> (8 * (8 - r))
    } else if r >= 4 {
        let lo = u64::from(u32::from_le_bytes(b[..4].try_into().expect("4 bytes")));
        let hi = u64::from(u32::from_le_bytes(b[r - 4..r].try_into().expect("4 bytes")));
        lo | (hi << (8 * (r - 4)))
    } else if r >= 2 {
        let lo = u64::from(u16::from_le_bytes(b[..2].try_into().expect("2 bytes")));
        let hi = u64::from(u16::from_le_bytes(b[r - 2..r].try_into().expect("2 bytes")));
        lo | (hi << (8 * (r - 2)))
    } else {
        u64::from(b[0])
    }
}

/// The words [`StableHasher::write_str`] folds in for `s` (its length, then its bytes as
/// little-endian words), to be kept beside a string that is hashed often and folded in with
/// [`StableHasher::write_words`].
pub fn str_words(s: &str) -> Vec<u64> {
    let b = s.as_bytes();
    let mut v = Vec::with_capacity(1 + b.len().div_ceil(8));
    v.push(b.len() as u64);
    let mut chunks = b.chunks_exact(8);
    for c in &mut chunks {
        v.push(u64::from_le_bytes(c.try_into().expect("8 bytes")));
    }
    let r = chunks.remainder().len();
    if r > 0 {
        v.push(tail_word(b, r));
    }
    v
}

impl StableHasher {
    /// Fold bytes in: whole little-endian words, then the last 1 to 7 bytes zero-padded.
    #[inline]
    pub fn write(&mut self, bytes: &[u8]) {
        // The state in a local, so that it stays in a register through the loop.
        let mut h = *self;
        let (words, tail) = bytes.as_chunks::<8>();
        for &w in words {
            h.write_u64(u64::from_le_bytes(w));
        }
        if !tail.is_empty() {
            h.write_u64(tail_word(bytes, tail.len()));
        }
        *self = h;
    }
    /// Fold a number in.
    #[inline]
    pub fn write_u64(&mut self, v: u64) {
        self.0 = (self.0.rotate_left(26) ^ v).wrapping_mul(K);
    }
    /// Fold a string in, length first so that ("ab","c") and ("a","bc") differ.
    #[inline]
    pub fn write_str(&mut self, s: &str) {
        self.write_u64(s.len() as u64);
        self.write(s.as_bytes());
    }
    /// Fold in words made by [`str_words`]: the same as `write_str` of those strings, without
    /// reading their bytes again. Up to four words are folded in without a loop.
    #[inline]
    pub fn write_words(&mut self, words: &[u64]) {
        // The state in a local, so that it stays in a register through the loop.
        let mut h = *self;
        match *words {
            [a] => h.write_u64(a),
            [a, b] => h.write_array(&[a, b]),
            [a, b, c] => h.write_array(&[a, b, c]),
            [a, b, c, d] => h.write_array(&[a, b, c, d]),
            _ => {
                for &w in words {
                    h.write_u64(w);
                }
            }
        }
        *self = h;
    }
    /// Fold in a fixed number of words (made by [`str_words`] or [`StableHasher::words_of`]),
    /// unrolled.
    #[inline]
    pub fn write_array<const N: usize>(&mut self, words: &[u64; N]) {
        let mut h = *self;
        for &w in words {
            h.write_u64(w);
        }
        *self = h;
    }
    /// [`str_words`] at compile time, zero-padded to `N` words (a constant string's words, for
    /// [`StableHasher::write_array`] of the first `1 + s.len().div_ceil(8)` of them). Panics
    /// (at compile time in a constant) if `N` is too small.
    pub const fn words_of<const N: usize>(s: &str) -> [u64; N] {
        let b = s.as_bytes();
        assert!(b.len().div_ceil(8) < N, "too few words for the string");
        let mut w = [0u64; N];
        w[0] = b.len() as u64;
        let mut i = 0;
        while i < b.len() {
            w[1 + i / 8] |= (b[i] as u64) << (8 * (i % 8));
            i += 1;
        }
        w
    }
    /// The hash so far.
    pub fn finish(&self) -> u64 {
        crate::mix64(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash(f: impl FnOnce(&mut StableHasher)) -> u64 {
        let mut h = StableHasher::default();
        f(&mut h);
        h.finish()
    }

    #[test]
    fn bytes_are_read_as_little_endian_words_with_the_tail_zero_padded() {
        let bytes: Vec<u8> = (1..=11).collect();
        let words = hash(|h| {
            h.write_u64(u64::from_le_bytes([1, 2, 3, 4, 5, 6, 7, 8]));
            h.write_u64(u64::from_le_bytes([9, 10, 11, 0, 0, 0, 0, 0]));
        });
        assert_eq!(hash(|h| h.write(&bytes)), words);
    }

    #[test]
    fn every_tail_length_reads_as_the_zero_padded_word() {
        let bytes: Vec<u8> = (0xa1..=0xb8).collect();
        for len in 0..bytes.len() {
            let b = &bytes[..len];
            let mut padded = b.to_vec();
            padded.resize(len.div_ceil(8) * 8, 0);
            let words = hash(|h| {
                for c in padded.chunks(8) {
                    h.write_u64(u64::from_le_bytes(c.try_into().unwrap()));
                }
            });
            assert_eq!(hash(|h| h.write(b)), words, "length {len}");
        }
    }

    /// Pre-made words hash as the strings they were made from, whatever the length.
    #[test]
    fn str_words_hash_as_write_str() {
        let text = "i-0123456789abcdef0-PROVISIONING";
        for len in 0..=text.len() {
            let (a, b) = (&text[..len], &text[len / 2..]);
            let direct = hash(|h| {
                h.write_u64(7);
                h.write_str(a);
                h.write_str(b)
            });
            let mut words = str_words(a);
            words.extend(str_words(b));
            assert_eq!(
                hash(|h| {
                    h.write_u64(7);
                    h.write_words(&words)
                }),
                direct,
                "length {len}"
            );
        }
    }

    /// Compile-time words are the words of the string, zero-padded; folded in, they hash as
    /// the string.
    #[test]
    fn words_of_is_str_words_padded() {
        const W: [u64; 4] = StableHasher::words_of("PROVISIONING");
        assert_eq!(W[..3], str_words("PROVISIONING")[..]);
        assert_eq!(W[3], 0);
        let text = "i-0123456789abcdef0-PROVISIONING";
        for len in 0..=text.len() {
            let s = &text[..len];
            let w: [u64; 6] = StableHasher::words_of(s);
            let n = str_words(s).len();
            assert_eq!(w[..n], str_words(s)[..], "length {len}");
            assert!(w[n..].iter().all(|&x| x == 0), "length {len}");
        }
        for n in 1..=6 {
            let words: Vec<u64> = (1..=n).collect();
            let looped = hash(|h| words.iter().for_each(|&w| h.write_u64(w)));
            assert_eq!(hash(|h| h.write_words(&words)), looped, "{n} words");
        }
        assert_eq!(
            hash(|h| h.write_array(&[1, 2, 3])),
            hash(|h| h.write_words(&[1, 2, 3]))
        );
    }

    #[test]
    fn strings_are_delimited_and_one_changed_word_changes_the_hash() {
        assert_ne!(
            hash(|h| {
                h.write_str("ab");
                h.write_str("c")
            }),
            hash(|h| {
                h.write_str("a");
                h.write_str("bc")
            })
        );
        let base = hash(|h| (0..100).for_each(|v| h.write_u64(v)));
        for k in 0..100 {
            let changed =
                hash(|h| (0..100).for_each(|v| h.write_u64(if v == k { v + 1 } else { v })));
            assert_ne!(base, changed, "word {k}");
        }
    }

    #[test]
    fn the_values_are_fixed_by_this_code() {
        // Pinned: a change here changes every golden events hash.
        // (Computed independently from the definition above.)
        assert_eq!(
            format!("{:016x}", hash(|h| h.write_str("ecsim"))),
            "145e2ff2fe3a7cb8"
        );
    }
}
