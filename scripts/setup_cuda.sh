#!/usr/bin/env bash
# The CUDA build toolkit for `cargo build --features cuda` on a machine without a GPU or a system
# CUDA install (run through `bash scripts/setup.sh --cuda`; idempotent).
#
# candle's `cuda` feature compiles its kernels with nvcc at build time (candle-kernels → cudaforge)
# and links libcuda, libcudart, libcublas, libcublasLt, libcurand and libnvrtc (cudarc's
# `dynamic-linking`). Debian has no CUDA toolkit, so this takes NVIDIA's own PyPI wheels, pinned,
# into the git-ignored `.cuda/toolkit/` (nvcc, cicc, ptxas, headers, and the real libraries to link
# against) and makes:
#   .cuda/toolkit/nvidia/cu13/lib/stubs/  link-time names: libX.so → ../libX.so.N, and libcuda.so,
#                                         a stub (no wheel ships one; the GPU's driver provides the
#                                         real libcuda.so.1 at run time)
#   .cuda/cargo-env.toml                  cargo `[env]` for the build scripts, read through the
#                                         optional include in .cargo/config.toml
# CUDA 13.0 on purpose: candle loads its kernels as PTX, which a driver compiles only if it is at
# least as new as the nvcc that wrote it; 13.0 matches driver 580 (our H200 machines run 580.159).
# cudarc 0.19.10 knows CUDA up to 13.4.
#
# These wheels are NVIDIA proprietary software (CUDA Toolkit EULA, each wheel's License.txt). They
# are build-time tools, fetched onto the build machine and never committed or shipped with tvtts.
set -euo pipefail
cd "$(dirname "$0")/.."

wheels=(
    nvidia-cuda-nvcc==13.0.88     # nvcc, ptxas, fatbinary, nvlink, cudafe++
    nvidia-nvvm==13.0.88          # cicc, libdevice (nvcc's front end)
    nvidia-cuda-crt==13.0.88      # include/crt
    nvidia-cuda-runtime==13.0.96  # CUDA runtime headers, cuda.h, libcudart.so.13
    nvidia-cuda-cccl==13.0.85     # include/cccl (libcu++, CUB, Thrust)
    nvidia-cuda-nvrtc==13.0.88    # libnvrtc.so.13
    nvidia-cublas==13.0.2.14      # libcublas.so.13, libcublasLt.so.13
    nvidia-curand==10.4.0.35      # libcurand.so.10
)
root=$PWD/.cuda
tk=$root/toolkit
cu=$tk/nvidia/cu13
stamp=$tk/.wheels

if [ "$(cat "$stamp" 2>/dev/null)" != "${wheels[*]}" ]; then
    echo "setup: fetching the CUDA 13.0 build toolkit from PyPI into .cuda/ (about 700 MB of wheels)" >&2
    rm -rf "$tk.part"
    mkdir -p "$root"
    python3 -m pip install -q --disable-pip-version-check --no-deps --only-binary=:all: --no-compile \
        --target "$tk.part" "${wheels[@]}"
    printf '%s' "${wheels[*]}" >"$tk.part/.wheels"
    rm -rf "$tk"
    mv "$tk.part" "$tk"
fi

# Link-time names. Only the linker searches lib/stubs (cudarc adds $CUDA_ROOT/lib/stubs); at run
# time the loader takes the sonames (libcublas.so.13, …) from lib/ or the system, and libcuda.so.1
# from the driver.
stubs=$cu/lib/stubs
mkdir -p "$stubs"
for lib in cudart cublas cublasLt curand nvrtc; do
    real=$(cd "$cu/lib" && ls "lib$lib.so."* 2>/dev/null | grep -E "^lib$lib\.so\.[0-9]+$" | head -n1)
    [ -n "$real" ] || { echo "setup: no lib$lib.so.N in $cu/lib" >&2; exit 1; }
    ln -sfn "../$real" "$stubs/lib$lib.so"
done
if [ ! -s "$stubs/libcuda.so" ] || [ "$cu/include/cuda.h" -nt "$stubs/libcuda.so" ]; then
    # Every driver entry point cuda.h names, before and after its `#define cuX cuX_v2` renames,
    # as an empty function; soname libcuda.so.1 like the driver's.
    tmp=$(mktemp -d)
    {
        grep -oE '\bcu[A-Z][A-Za-z0-9_]*[[:space:]]*\(' "$cu/include/cuda.h"
        gcc -E -I"$cu/include" -x c "$cu/include/cuda.h" | grep -oE '\bcu[A-Z][A-Za-z0-9_]*[[:space:]]*\('
    } | tr -d '( \t' | sort -u | sed 's/.*/void &(void) {}/' >"$tmp/cuda_stub.c"
    gcc -shared -fPIC -o "$tmp/libcuda.so" -Wl,-soname,libcuda.so.1 "$tmp/cuda_stub.c"
    mv "$tmp/libcuda.so" "$stubs/libcuda.so"
    rm -rf "$tmp"
fi

version=$("$cu/bin/nvcc" --version | sed -n 's/.*release \([0-9.]*\),.*/\1/p')
[ "$version" = "13.0" ] || { echo "setup: $cu/bin/nvcc reports release '$version', expected 13.0" >&2; exit 1; }

# What the CUDA crates' build scripts read (cargo passes [env] to build scripts and rustc; a value
# already in the environment wins, so a system toolkit can still be chosen by exporting these):
#   NVCC                 cudaforge (candle-kernels): the nvcc to run; its includes are nvcc's ../include
#   CUDA_ROOT            cudarc: where to search for the libraries to link (lib, lib/stubs)
#   CUDARC_CUDA_VERSION  cudarc: the CUDA version, instead of running `nvcc --version` from PATH
#   CUDA_COMPUTE_CAP     cudaforge: the GPU to compile for (90: H100/H200), as there is none to ask
# Rewritten on every run so that a moved checkout gets its own paths.
cat >"$root/cargo-env.toml.part" <<EOF
# Written by scripts/setup_cuda.sh; included by .cargo/config.toml. Delete .cuda/ to undo.
[env]
NVCC = "$cu/bin/nvcc"
CUDA_ROOT = "$cu"
CUDARC_CUDA_VERSION = "13000"
CUDA_COMPUTE_CAP = "90"
EOF
mv "$root/cargo-env.toml.part" "$root/cargo-env.toml"
echo "setup: ok (CUDA $version build toolkit in .cuda/, cargo env in .cuda/cargo-env.toml)" >&2
