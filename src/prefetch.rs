//! A cache hint: start loading what will be read soon, so the read finds it in the cache.

/// Asks the CPU to load the cache lines holding `bytes` bytes from `p` (no effect off x86-64).
#[inline(always)]
pub fn prefetch<T>(p: *const T, bytes: usize) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        let base = p.cast::<i8>();
        let mut off = 0;
        while off < bytes {
            // SAFETY: a prefetch only hints the cache; it never faults, whatever the address,
            // and SSE (which provides it) is part of every x86-64 CPU.
            unsafe { _mm_prefetch::<_MM_HINT_T0>(base.wrapping_add(off)) };
            off += 64;
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (p, bytes);
}
