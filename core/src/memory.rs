//! How the process keeps memory it frees.
//!
//! Synthesis allocates and frees buffers of megabytes at every layer (candle tensors own their
//! storage). glibc's allocator hands the top of its heap back to the kernel once more than a
//! trim threshold is free, and serves the largest blocks with fresh `mmap`s, so the next buffer
//! faults its pages in again and the kernel zeroes each one: 12 % of the time of a sentence
//! measured on the 2-core VM. [`keep_freed_memory`] asks glibc to keep freed memory for reuse.
//! Resident memory then stays at its high-water mark instead of shrinking between sentences.

/// Makes glibc keep freed memory in the process (no trimming of the heap, blocks up to 32 MB from
/// the heap rather than `mmap`). Process-wide; idempotent; does nothing on other C libraries.
/// The `tvtts` CLI and [`crate::engine::Engine::new`] call it.
pub fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        use std::sync::Once;
        static ONCE: Once = Once::new();
        ONCE.call_once(|| {
            // glibc's <malloc.h>.
            const M_TRIM_THRESHOLD: i32 = -1;
            const M_TOP_PAD: i32 = -2;
            const M_MMAP_THRESHOLD: i32 = -3;
            extern "C" {
                fn mallopt(param: i32, value: i32) -> i32;
            }
            // SAFETY: mallopt only changes allocator parameters; any value is accepted or refused.
            unsafe {
                mallopt(M_TRIM_THRESHOLD, i32::MAX);
                mallopt(M_TOP_PAD, 16 << 20);
                mallopt(M_MMAP_THRESHOLD, 32 << 20);
            }
        });
    }
}

/// Bytes of heap each engine worker maps in when it starts ([`warm_thread_heap`]).
pub const WORKER_HEAP_WARMUP: usize = 16 << 20;

/// Writes `bytes` of fresh heap on this thread and frees them, so that the first synthesis on
/// a new thread finds memory already mapped. glibc gives each thread an arena of its own that
/// grows on first use, a page fault per new page; with [`keep_freed_memory`] in force the
/// arena keeps what this frees. On an engine worker the first request paid ≈ 1.4 ms of its
/// time to first audio for that (M, 2-core Xeon VM: 21.6 → 20.3 ms median with 8 MB warmed;
/// 16 MB leaves room for longer sentences).
pub fn warm_thread_heap(bytes: usize) {
    const BLOCK: usize = 1 << 20;
    let blocks: Vec<Vec<u8>> = (0..bytes.div_ceil(BLOCK)).map(|_| vec![1u8; BLOCK]).collect();
    std::hint::black_box(&blocks);
}
