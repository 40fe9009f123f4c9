"""Known prosody changes and their measurement, shared by the learning scripts (run in
scripts/.venv-measure).

- `world_transform`: re-synthesize a recording with the WORLD vocoder (pyworld) with log-F0
  shifted and its range scaled around the utterance mean, every frame sequence stretched in
  time, and a gain; the vocoder's own colouring of the spectrum (level, tilt) is undone
  first. F0 comes from Praat (parselmouth): WORLD's own harvest reports about twice this low
  voice's F0.
- `measure`: median F0 (semitones re 100 Hz, Praat), F0 range (5th–95th percentile, st; and
  `range_inner`, 10th–90th, which Praat's octave jumps on this low voice reach less often),
  speech duration (first to last 20 ms frame within 40 dB of the loudest), level (dB, energy
  mean of the louder half of 20 ms frames), spectral tilt (dB, 1–5 kHz over 50 Hz–1 kHz);
  with `two_pass`, also median F0 and range from a second Praat pass looking within 0.75× the
  first pass's 25th percentile and 1.5× its 75th (De Looze & Hirst's two-pass floor and
  ceiling), whose first pass looks down to 35 Hz: this low voice lowered by a style has frames
  under the fixed 60 Hz floor, which Praat then reads an octave or more up.
"""

import numpy as np


def praat_f0(x, sr, step, floor=60.0, ceiling=400.0):
    import parselmouth

    snd = parselmouth.Sound(x.astype(np.float64), sampling_frequency=sr)
    pitch = snd.to_pitch(time_step=step, pitch_floor=floor, pitch_ceiling=ceiling)
    t = np.arange(0, len(x) / sr, step)
    f0 = np.array([pitch.get_value_at_time(tt) for tt in t])
    return t, np.nan_to_num(f0, nan=0.0)


def long_term_spectrum(x, bins):
    """Power spectrum of x averaged over Hann frames of 2·(bins − 1) samples, hop a quarter."""
    n = 2 * (bins - 1)
    x = np.pad(x, (0, max(0, n - len(x))))
    win = np.hanning(n)
    frames = np.array([x[i:i + n] * win for i in range(0, max(len(x) - n, 1), n // 4)])
    return np.mean(np.abs(np.fft.rfft(frames, n, axis=1)) ** 2, axis=0) + 1e-20


def vocoder_colour(x, resynth, bins, sr):
    """Per-bin power gain that undoes what WORLD's analysis and re-synthesis alone do to x's
    long-term spectrum (on this voice about +1.4 dB level and −1 dB tilt), smoothed over a
    third of an octave: multiplied into the spectral envelope, an identity re-synthesis keeps
    x's level and tilt, so a learned vector sees only the change asked for."""
    ratio = np.log(long_term_spectrum(x, bins) / long_term_spectrum(resynth[:len(x)], bins))
    freqs = np.fft.rfftfreq(2 * (bins - 1), 1 / sr)
    centre = np.maximum(freqs, 50.0)
    band = lambda k: (freqs >= centre[k] * 2 ** (-1 / 6)) & (freqs <= centre[k] * 2 ** (1 / 6)) | (freqs == freqs[k])
    smooth = np.array([ratio[band(k)].mean() for k in range(bins)])
    return np.exp(smooth)


def world_transform(x, sr, semitones=0.0, range_scale=1.0, stretch=1.0, gain_db=0.0, tilt_db=0.0):
    """x re-synthesized with log-F0 = mean + range_scale·(lf0 − mean) + semitones, frames
    stretched by `stretch` (> 1 slower), its spectral envelope tilted by a shelf of `tilt_db`
    (a logistic step in log-frequency centred at 1 kHz: 0 dB far below, tilt_db far above),
    gain applied."""
    import pyworld as pw

    x64 = x.astype(np.float64)
    t, f0 = praat_f0(x64, sr, 0.005)
    f0 = pw.stonemask(x64, f0, t, sr)
    sp = pw.cheaptrick(x64, f0, t, sr)
    ap = pw.d4c(x64, f0, t, sr)
    sp = sp * vocoder_colour(x64, pw.synthesize(f0, sp, ap, sr, frame_period=5.0), sp.shape[1], sr)[None, :]
    if tilt_db:
        freqs = np.linspace(0, sr / 2, sp.shape[1])
        shelf = tilt_db / (1 + np.exp(-2.5 * np.log2(np.maximum(freqs, 1.0) / 1000.0)))
        sp = sp * 10 ** (shelf / 10)[None, :]
    voiced = f0 > 0
    lf0 = np.zeros_like(f0)
    if voiced.any():
        mean = np.log(f0[voiced]).mean()
        lf0[voiced] = mean + range_scale * (np.log(f0[voiced]) - mean) + semitones * np.log(2) / 12
    f0 = np.where(voiced, np.exp(lf0), 0.0)
    n = len(f0)
    m = max(2, int(round(n * stretch)))
    src = np.linspace(0, n - 1, m)
    lo = np.floor(src).astype(int)
    hi = np.minimum(lo + 1, n - 1)
    w = (src - lo)[:, None]
    sp = np.exp((1 - w) * np.log(sp[lo] + 1e-12) + w * np.log(sp[hi] + 1e-12))
    ap = (1 - w) * ap[lo] + w * ap[hi]
    f0 = f0[np.clip(np.round(src).astype(int), 0, n - 1)]
    y = pw.synthesize(np.ascontiguousarray(f0), np.ascontiguousarray(sp), np.ascontiguousarray(ap), sr, frame_period=5.0)
    return (y * 10 ** (gain_db / 20)).astype(np.float32)


def add_transform_args(ap):
    """The command-line options of a known change: WORLD (--semitones, --range, --stretch,
    --gain-db, --tilt-db, --world for the identity) or in-model (--style, --length-scale)."""
    ap.add_argument("--semitones", type=float, default=0.0)
    ap.add_argument("--range", type=float, default=1.0)
    ap.add_argument("--stretch", type=float, default=1.0)
    ap.add_argument("--gain-db", type=float, default=0.0)
    ap.add_argument("--tilt-db", type=float, default=0.0, help="spectral-envelope shelf above 1 kHz")
    ap.add_argument("--world", action="store_true", help="re-synthesize with WORLD even at identity")
    ap.add_argument("--style", help="FILE=ALPHA: an in-model change")
    ap.add_argument("--length-scale", type=float)


def uses_world(a):
    """Whether the parsed options ask for a WORLD re-synthesis."""
    return bool(a.world or a.semitones or a.range != 1 or a.stretch != 1 or a.gain_db or a.tilt_db)


def transform(x, sr, a):
    """x with the WORLD change the parsed options give."""
    return world_transform(x, sr, a.semitones, a.range, a.stretch, a.gain_db, a.tilt_db)


def two_pass_st(x, sr):
    """Voiced F0 of x in semitones re 100 Hz from Praat in two passes (see the module's doc)."""
    _, f0 = praat_f0(x, sr, 0.01, floor=35.0)
    f0 = f0[f0 > 0]
    if f0.size >= 10:
        floor = max(35.0, 0.75 * np.percentile(f0, 25))
        _, f0 = praat_f0(x, sr, 0.01, floor=floor, ceiling=max(1.5 * np.percentile(f0, 75), 2 * floor))
        f0 = f0[f0 > 0]
    return 12 * np.log2(f0 / 100.0) if f0.size else np.array([0.0])


def measure(x, sr, two_pass=False):
    """Prosody of x: f0, range (st), dur (s), level, tilt (dB); with `two_pass` also f0_2p and
    range_2p (two-pass Praat)."""
    _, f0 = praat_f0(x, sr, 0.01)
    f0 = f0[f0 > 0]
    st = 12 * np.log2(f0 / 100.0) if f0.size else np.array([0.0])
    fr = int(0.02 * sr)
    e = np.array([np.mean(x[i:i + fr] ** 2) for i in range(0, len(x) - fr, fr)]) + 1e-12
    db = 10 * np.log10(e)
    loud = db[db >= np.percentile(db, 50)]
    active = np.where(db > db.max() - 40)[0]
    dur = (active[-1] - active[0] + 1) * fr / sr if active.size else len(x) / sr
    spec = np.abs(np.fft.rfft(x * np.hanning(len(x)))) ** 2
    freqs = np.fft.rfftfreq(len(x), 1 / sr)
    tilt = 10 * np.log10((spec[(freqs >= 1000) & (freqs < 5000)].sum() + 1e-12) / (spec[(freqs > 50) & (freqs < 1000)].sum() + 1e-12))
    out = dict(f0=float(np.median(st)), range=float(np.percentile(st, 95) - np.percentile(st, 5)),
               range_inner=float(np.percentile(st, 90) - np.percentile(st, 10)), dur=float(dur),
               level=float(10 * np.log10(np.mean(10 ** (loud / 10)))), tilt=float(tilt))
    if two_pass:
        st2 = two_pass_st(x, sr)
        out.update(f0_2p=float(np.median(st2)), range_2p=float(np.percentile(st2, 95) - np.percentile(st2, 5)))
    return out


def change(after, before):
    """Per-cue change of `after` against `before` (lists of measure() dicts, same sentences):
    differences of f0, level, tilt; ratios of range and duration (geometric means)."""
    diff = lambda k: float(np.mean([a[k] - b[k] for a, b in zip(after, before)]))
    ratio = lambda k: float(np.exp(np.mean([np.log(max(a[k], 1e-3) / max(b[k], 1e-3)) for a, b in zip(after, before)])))
    out = dict(f0=diff("f0"), range=ratio("range"), range_inner=ratio("range_inner"), dur=ratio("dur"), level=diff("level"), tilt=diff("tilt"))
    if all("f0_2p" in m for m in [*after, *before]):
        out.update(f0_2p=diff("f0_2p"), range_2p=ratio("range_2p"))
    return out
