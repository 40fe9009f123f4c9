"""Generates nfd_tables.rs from Python's `unicodedata`, the tables behind piper-tts's
`unicodedata.normalize("NFD", ..)`. Run it with the Python that runs piper-tts:

    python3 gen_nfd_tables.py > nfd_tables.rs
"""
import unicodedata as u

def esc(s):
    return "".join(f"\\u{{{ord(c):X}}}" for c in s)

decomp = []
for cp in range(0x110000):
    if 0xAC00 <= cp <= 0xD7A3:  # Hangul syllables: decomposed algorithmically
        continue
    c = chr(cp)
    if 0xD800 <= cp <= 0xDFFF:
        continue
    d = u.normalize("NFD", c)
    if d != c:
        decomp.append((cp, d))

ccc = []  # ranges (start, end, class)
for cp in range(0x110000):
    k = u.combining(chr(cp))
    if k == 0:
        continue
    if ccc and ccc[-1][1] == cp - 1 and ccc[-1][2] == k:
        ccc[-1][1] = cp
    else:
        ccc.append([cp, cp, k])

out = []
out.append("//! Unicode tables for [`super::nfd`] (Unicode " + u.unidata_version + "), generated from the")
out.append("//! `unicodedata` module of the Python 3.11 that runs piper-tts 1.8.0. Do not edit by hand.")
out.append("//!")
out.append("//! - `DECOMPOSITIONS`: every code point `c` (Hangul syllables excepted) for which")
out.append("//!   `unicodedata.normalize(\"NFD\", c) != c`, with that full decomposition.")
out.append("//! - `COMBINING_CLASSES`: runs of code points with equal `unicodedata.combining(c) != 0`.")
out.append("")
out.append("/// Full canonical decompositions (already applied recursively), sorted by code point.")
out.append("/// Hangul syllables are not listed: they decompose algorithmically.")
out.append("#[rustfmt::skip]")
out.append("pub(super) const DECOMPOSITIONS: &[(char, &str)] = &[")
line = "   "
for cp, d in decomp:
    item = f" ('{esc(chr(cp))}', \"{esc(d)}\"),"
    if len(line) + len(item) > 100:
        out.append(line)
        line = "   "
    line += item
out.append(line)
out.append("];")
out.append("")
out.append("/// Canonical combining classes other than 0, as sorted inclusive ranges `(first, last, class)`.")
out.append("#[rustfmt::skip]")
out.append("pub(super) const COMBINING_CLASSES: &[(u32, u32, u8)] = &[")
line = "   "
for a, b, k in ccc:
    item = f" (0x{a:X}, 0x{b:X}, {k}),"
    if len(line) + len(item) > 100:
        out.append(line)
        line = "   "
    line += item
out.append(line)
out.append("];")
print("\n".join(out))
