//! A cache hint: [`prefetch_range`] asks the processor to start loading memory that the program
//! will read soon, so that the read does not wait for memory; [`prefetch`] does it for a value.
//!
//! A simulation's events touch records spread over a large working set (a task, its instance),
//! one after another; a hint issued before the event is handled lets those loads overlap each
//! other and the work before them. The engine (`ecsim_engine::Model::prefetch`) and placement
//! use it. A hint changes nothing a program sees: no value, no order, no result.
//!
//! The prefetch instruction is reached through `std::arch`, which needs `unsafe`: this crate
//! holds the workspace's one `unsafe` block (the workspace denies unsafe code, `prefetch_range`
//! allows it, and every other crate forbids it in its root).

/// Ask the processor to start loading every cache line of `r` (a hint; see [`prefetch_range`]).
#[inline(always)]
pub fn prefetch<T>(r: &T) {
    prefetch_range((r as *const T).cast(), size_of::<T>());
}

/// Bytes per cache line (x86-64).
const LINE: usize = 64;

/// Most lines one call asks for (4 KiB): a hint for more is no use, the caches would drop the
/// first lines before the last arrive.
pub const MAX_LINES: usize = 64;

/// Ask the processor to start loading the cache lines that hold the `len` bytes from `start`
/// (at most [`MAX_LINES`] of them, from the first) into its caches, so that a read soon after
/// does not wait for memory. A hint: it changes no value the program sees, whatever the address
/// (a prefetch never faults); on targets other than x86-64 it does nothing.
#[inline(always)]
#[allow(unsafe_code)]
pub fn prefetch_range(start: *const u8, len: usize) {
    let (first, n) = lines(start.addr(), len);
    let mut p = start.wrapping_sub(start.addr() - first);
    for _ in 0..n {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `_mm_prefetch` needs the `sse` target feature, part of every x86-64 target's
        // baseline. PREFETCHT0 is a hint: it never faults, whatever the address, and writes
        // nothing; `wrapping_*` make addresses without reading through them.
        unsafe {
            std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(p.cast());
        }
        p = p.wrapping_add(LINE);
    }
}

/// The lines to load for `len` bytes from address `addr`: the address of the first line and how
/// many lines (none for no bytes; at most [`MAX_LINES`]). Counted, not compared with an end
/// address, so that a range that wraps around the address space cannot loop.
fn lines(addr: usize, len: usize) -> (usize, usize) {
    if len == 0 {
        return (addr, 0);
    }
    let offset = addr % LINE;
    let n = len.saturating_add(offset).div_ceil(LINE);
    (addr - offset, n.min(MAX_LINES))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Prefetching is a hint that reads nothing: any address will do, even one that is not
    /// mapped.
    #[test]
    fn a_prefetch_of_any_address_is_harmless() {
        prefetch_range(std::ptr::null(), 4096);
        prefetch_range(usize::MAX as *const u8, 0);
        prefetch_range((usize::MAX - 10) as *const u8, 300);
        prefetch_range(std::ptr::dangling::<u8>().wrapping_add(1 << 40), 256);
        let v = vec![7u8; 1000];
        prefetch_range(v.as_ptr().wrapping_add(3), 997);
        prefetch(&v);
        prefetch_range(v.as_ptr(), usize::MAX);
        assert_eq!(v[999], 7);
    }

    /// The lines of a range: every line that holds one of its bytes, none for no bytes, at
    /// most [`MAX_LINES`].
    #[test]
    fn a_range_covers_the_lines_of_its_bytes() {
        assert_eq!(lines(64, 0), (64, 0));
        assert_eq!(lines(63, 0), (63, 0));
        assert_eq!(lines(64, 1), (64, 1));
        assert_eq!(lines(64, 64), (64, 1));
        assert_eq!(lines(64, 65), (64, 2));
        assert_eq!(lines(63, 2), (0, 2), "one byte in each of two lines");
        assert_eq!(
            lines(100, 144),
            (64, 3),
            "a 144-byte record from 100: lines 64, 128, 192"
        );
        assert_eq!(lines(127, 145), (64, 4));
        assert_eq!(
            lines(usize::MAX - 10, 300),
            (usize::MAX - 63, 6),
            "wraps, counted"
        );
        assert_eq!(lines(0, usize::MAX), (0, MAX_LINES));
    }
}
