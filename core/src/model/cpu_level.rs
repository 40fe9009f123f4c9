//! Which instruction set the CPU kernels use, chosen at run time.
//!
//! One binary, built for baseline x86-64, carries three versions of each hand-written kernel
//! (`cpu_microkernel`): AVX-512 (16 floats per register), AVX2 + FMA (8) and portable, and runs
//! the convolutions on AMX tiles (`cpu_amx`) where the CPU has them (4th-generation Xeon and
//! later) and Linux grants them. [`level`] picks the best one the CPU has, once per process. `TVTTS_CPU_LEVEL=amx|avx512|avx2|portable`
//! caps it (to measure or test another machine's path here); asking for more than the CPU has
//! falls back to what it has, with a warning. candle's own matmuls (the text encoder's attention,
//! < 2 % of the work) use the `gemm` crate's detection, AVX-512 included (its `x86-v4` feature).

use std::sync::OnceLock;

/// A CPU instruction-set level for the kernels, from the least to the most capable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum CpuLevel {
    /// No SIMD assumptions (any x86-64, or another architecture).
    Portable,
    /// AVX2 with FMA (x86-64-v3).
    Avx2,
    /// AVX-512 F with FMA (the x86-64-v4 machines).
    Avx512,
    /// AVX-512 plus AMX tiles with bf16 (4th-generation Xeon and later): the convolutions run on
    /// the tiles ([`super::cpu_amx`]), everything else as at [`CpuLevel::Avx512`].
    Amx,
}

impl CpuLevel {
    /// The name `TVTTS_CPU_LEVEL` takes and `tvtts bench` prints.
    pub fn name(self) -> &'static str {
        match self {
            CpuLevel::Portable => "portable",
            CpuLevel::Avx2 => "avx2",
            CpuLevel::Avx512 => "avx512",
            CpuLevel::Amx => "amx",
        }
    }

    /// Parses a [`Self::name`].
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "portable" | "scalar" | "generic" => Some(CpuLevel::Portable),
            "avx2" | "fma" | "x86-v3" => Some(CpuLevel::Avx2),
            "avx512" | "avx-512" | "x86-v4" => Some(CpuLevel::Avx512),
            "amx" | "avx512-amx" => Some(CpuLevel::Amx),
            _ => None,
        }
    }

    /// The best level this CPU supports.
    pub fn detect() -> Self {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f") && std::arch::is_x86_feature_detected!("fma") {
                return if super::cpu_amx::available() { CpuLevel::Amx } else { CpuLevel::Avx512 };
            }
            if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
                return CpuLevel::Avx2;
            }
        }
        CpuLevel::Portable
    }

    /// Every level this CPU can run, best first (what tests compare).
    pub fn supported() -> Vec<Self> {
        let best = Self::detect();
        [CpuLevel::Amx, CpuLevel::Avx512, CpuLevel::Avx2, CpuLevel::Portable].into_iter().filter(|l| *l <= best).collect()
    }
}

/// The level the kernels use in this process: [`CpuLevel::detect`], capped by
/// `TVTTS_CPU_LEVEL` (read once, at the first kernel call).
pub fn level() -> CpuLevel {
    static LEVEL: OnceLock<CpuLevel> = OnceLock::new();
    *LEVEL.get_or_init(|| {
        let best = CpuLevel::detect();
        match std::env::var("TVTTS_CPU_LEVEL") {
            Err(_) => best,
            Ok(v) => match CpuLevel::parse(&v) {
                Some(want) if want <= best => want,
                Some(want) => {
                    log::warn!("TVTTS_CPU_LEVEL={v}: this CPU lacks {}, using {}", want.name(), best.name());
                    best
                }
                None => {
                    log::warn!("TVTTS_CPU_LEVEL={v} is not one of amx, avx512, avx2, portable; using {}", best.name());
                    best
                }
            },
        }
    })
}

/// Defines `fn NAME(args)` that runs the portable function `BODY(args)` compiled for the widest
/// vectors [`level`] allows: the same source, so the same bits at every level (nothing is
/// fused), only wider loops.
///
/// `at_cpu_level!(/// doc\n pub fn exp_in_place(xs: &mut [f32]) => exp_portable);`
macro_rules! at_cpu_level {
    ($(#[$meta:meta])* $vis:vis fn $name:ident($($arg:ident: $ty:ty),* $(,)?) => $body:ident) => {
        $(#[$meta])*
        $vis fn $name($($arg: $ty),*) {
            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx512f")]
            unsafe fn avx512($($arg: $ty),*) {
                $body($($arg),*)
            }
            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx2")]
            unsafe fn avx2($($arg: $ty),*) {
                $body($($arg),*)
            }
            match $crate::model::cpu_level::level() {
                // SAFETY: the level says the CPU has these instructions.
                #[cfg(target_arch = "x86_64")]
                $crate::model::cpu_level::CpuLevel::Avx512 | $crate::model::cpu_level::CpuLevel::Amx => unsafe { avx512($($arg),*) },
                #[cfg(target_arch = "x86_64")]
                $crate::model::cpu_level::CpuLevel::Avx2 => unsafe { avx2($($arg),*) },
                _ => $body($($arg),*),
            }
        }
    };
}
pub(crate) use at_cpu_level;
