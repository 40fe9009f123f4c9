//! How long two CPUs take to hand a cache line back and forth: one thread pinned to each of
//! CPUs A and B bounces a counter, and the mean round trip is printed (ns). On a cloud VM the
//! host may place the two vCPUs on one core complex (≈ 60 ns) or on two (≈ 350 ns), and move
//! them within seconds; every kernel that splits over threads pays it at each barrier and on
//! every activation one thread writes and the other reads. Run it beside a benchmark to know
//! which placement the benchmark saw (see "Streaming" in the README).
//!
//! `cargo run --release -p tvtts-core --example core_roundtrip [A B] [round trips]` (Linux;
//! defaults: CPUs 0 and 1, 200 000 round trips).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// Pins the calling thread to `cpu` (false where the system refused).
fn pin(cpu: usize) -> bool {
    // SAFETY: a zeroed cpu_set_t is an empty set; the call only changes this thread's affinity.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) == 0
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<usize> = std::env::args().skip(1).map(|a| a.parse()).collect::<Result<_, _>>()?;
    let (a, b) = (args.first().copied().unwrap_or(0), args.get(1).copied().unwrap_or(1));
    let n = args.get(2).copied().unwrap_or(200_000) as u64;
    let flag = Arc::new(AtomicU64::new(0));
    let other = {
        let flag = flag.clone();
        std::thread::spawn(move || {
            let pinned = pin(b);
            for i in 0..n {
                while flag.load(Ordering::Acquire) != 2 * i + 1 {
                    std::hint::spin_loop();
                }
                flag.store(2 * i + 2, Ordering::Release);
            }
            pinned
        })
    };
    let pinned = pin(a);
    let start = Instant::now();
    for i in 0..n {
        flag.store(2 * i + 1, Ordering::Release);
        while flag.load(Ordering::Acquire) != 2 * i + 2 {
            std::hint::spin_loop();
        }
    }
    let ns = start.elapsed().as_secs_f64() * 1e9 / n as f64;
    let pinned = pinned && other.join().map_err(|_| "the other thread panicked")?;
    println!("CPU {a} ↔ CPU {b}: {ns:.0} ns per round trip{}", if pinned { "" } else { " (not pinned: the system refused)" });
    Ok(())
}
