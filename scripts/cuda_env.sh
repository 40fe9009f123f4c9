# Source it (`source scripts/cuda_env.sh`) after `bash scripts/setup.sh --cuda`: puts the CUDA
# toolkit from .cuda/ into this shell, for running what `--features cuda` builds and for using nvcc
# by hand.
#
# `cargo build --features cuda` does not need it: .cargo/config.toml includes .cuda/cargo-env.toml,
# which gives the build scripts the same toolkit. What this adds is for the processes you run:
#   PATH             nvcc (and ptxas, fatbinary, …)
#   CUDA_ROOT        the toolkit's root (cudarc searches its lib/ and lib/stubs/ at link time)
#   CUDA_COMPUTE_CAP 90 (H100/H200) unless already set: the GPU the kernels are built for
#   LD_LIBRARY_PATH  the toolkit's lib/: libcublas.so.13, libcublasLt.so.13, libcurand.so.10,
#                    libnvrtc.so.13 and libcudart.so.13 for a binary built with `--features cuda`
#                    (libcuda.so.1 comes from the GPU's driver; the stub in lib/stubs/ is never put
#                    on this path)
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    echo "cuda_env.sh: source it (source scripts/cuda_env.sh), do not run it" >&2
    exit 1
fi
__tvtts_cu="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.cuda/toolkit/nvidia/cu13"
if [ ! -x "$__tvtts_cu/bin/nvcc" ]; then
    echo "cuda_env.sh: no toolkit in ${__tvtts_cu%/toolkit/nvidia/cu13} (run: bash scripts/setup.sh --cuda)" >&2
    unset __tvtts_cu
    return 1
fi
case ":$PATH:" in *":$__tvtts_cu/bin:"*) ;; *) export PATH="$__tvtts_cu/bin:$PATH" ;; esac
case ":${LD_LIBRARY_PATH:-}:" in
    *":$__tvtts_cu/lib:"*) ;;
    *) export LD_LIBRARY_PATH="$__tvtts_cu/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" ;;
esac
export CUDA_ROOT="$__tvtts_cu"
export CUDA_COMPUTE_CAP="${CUDA_COMPUTE_CAP:-90}"
unset __tvtts_cu
