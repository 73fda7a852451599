//! A platform-independent hash for comparing runs by one number.

/// A word-at-a-time hash (each 64-bit word folded in with SplitMix64's mixer) over
/// little-endian encodings. Unlike `DefaultHasher`, its output is fixed by this code and not by
/// the standard library version or the platform. Not cryptographic.
#[derive(Debug, Clone, Copy)]
pub struct StableHasher(u64);

impl Default for StableHasher {
    fn default() -> Self {
        StableHasher(0xcbf2_9ce4_8422_2325)
    }
}

impl StableHasher {
    /// Fold bytes in.
    pub fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut w = [0u8; 8];
            w[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(w));
        }
    }
    /// Fold a number in.
    pub fn write_u64(&mut self, v: u64) {
        self.0 = crate::mix64(self.0.rotate_left(23) ^ v);
    }
    /// Fold a string in, length first so that ("ab","c") and ("a","bc") differ.
    pub fn write_str(&mut self, s: &str) {
        self.write_u64(s.len() as u64);
        self.write(s.as_bytes());
    }
    /// The hash so far.
    pub fn finish(&self) -> u64 {
        self.0
    }
}
