//! How many CPU threads candle's kernels use.
//!
//! Policy: the engine's workers each run one request step at a time, and each step's kernels
//! (convolutions, matmuls, element-wise ops) may fan out over `kernel_threads` threads. Workers ×
//! kernel threads should not exceed the physical cores, or threads fight over cores (and, inside
//! candle, over its single shared "barrier pool", whose calls are serialised by a lock). The
//! [`crate::engine::EngineConfig`] default is one worker per physical core and one kernel thread
//! each: independent requests never wait on each other's kernels. One worker with all cores as
//! kernel threads gives a single voice the lowest latency instead.
//!
//! candle sizes its pools once, at first use, from `CANDLE_NUM_THREADS` / `RAYON_NUM_THREADS`;
//! so set this before any inference in the process.

/// Physical CPU cores (at least 1).
pub fn physical_cores() -> usize {
    num_cpus::get_physical().max(1)
}

/// Makes candle's CPU kernels use `threads` threads. Call once, before any inference; returns
/// the thread count candle actually uses, which differs when its pools were already built.
pub fn set_kernel_threads(threads: usize) -> usize {
    let threads = threads.max(1);
    // candle reads these when it builds its barrier pool and for every matmul.
    std::env::set_var("CANDLE_NUM_THREADS", threads.to_string());
    std::env::set_var("RAYON_NUM_THREADS", threads.to_string());
    let _ = rayon::ThreadPoolBuilder::new().num_threads(threads).build_global();
    let actual = candle_core::utils::barrier_pool().n_workers() + 1;
    if actual != threads {
        log::warn!("candle's kernel pool already has {actual} threads (wanted {threads}): set threads before any inference");
    }
    actual
}

/// Lowers the calling thread's scheduling priority by `nice` (Linux: the thread's nice value,
/// 0–19; threads it creates inherit it). Synthesis threads run at a higher nice value than the
/// game's so that, when both want every core, the game's frame comes first; synthesis still gets
/// the cores whenever the game does not need them. Returns whether the priority was set (other
/// systems, or a refused call, leave it unchanged).
pub fn lower_this_thread(nice: i32) -> bool {
    if nice <= 0 {
        return false;
    }
    #[cfg(target_os = "linux")]
    {
        // SAFETY: gettid has no preconditions; setpriority on our own thread id only changes its
        // nice value (raising it needs no privilege).
        let tid = unsafe { libc::gettid() };
        unsafe { libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, nice.min(19)) == 0 }
    }
    #[cfg(not(target_os = "linux"))]
    {
        false
    }
}
