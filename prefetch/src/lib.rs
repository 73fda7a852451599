//! A cache hint: [`prefetch_range`] asks the processor to start loading memory that the program
//! will read soon, so that the read does not wait for memory; [`prefetch`] does it for a value.
//!
//! A simulation's events touch records spread over a large working set (a task, its instance),
//! one after another; a hint issued before the event is handled lets those loads overlap each
//! other and the work before them. The engine (`ecsim_engine::Model::prefetch`) and placement
//! use it. A hint changes nothing a program sees: no value, no order, no result.
//!
//! The prefetch instruction is reached through `std::arch`, which needs `unsafe`: this crate
//! holds the workspace's one `unsafe` block (the workspace denies unsafe code, this function
//! allows it, and every other crate forbids it in its root).

/// Ask the processor to start loading every cache line of `r` (a hint; see [`prefetch_range`]).
#[inline(always)]
pub fn prefetch<T>(r: &T) {
    prefetch_range((r as *const T).cast(), size_of::<T>());
}

/// Ask the processor to start loading the cache lines of `len` bytes from `start` into its
/// caches, so that a read soon after does not wait for memory. A hint: it changes no value the
/// program sees, whatever the address (a prefetch never faults), and does nothing on targets
/// without such an instruction. The one `unsafe` block of the workspace.
#[inline(always)]
#[allow(unsafe_code)]
pub fn prefetch_range(start: *const u8, len: usize) {
    /// Bytes per cache line (x86-64).
    const LINE: usize = 64;
    let offset = start.addr() % LINE;
    // From the start of the line that holds `start`, one step per line (counted, so that
    // addresses that wrap around cannot loop).
    let mut p = start.wrapping_sub(offset);
    for _ in 0..len.saturating_add(offset).div_ceil(LINE) {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: PREFETCHT0 is a hint: it never faults, whatever the address, and writes
        // nothing; `wrapping_*` make addresses without reading through them.
        unsafe {
            std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(p.cast());
        }
        p = p.wrapping_add(LINE);
    }
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
        assert_eq!(v[999], 7);
    }
}
