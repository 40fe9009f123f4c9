//! Writing synthesized audio to WAV files.

use std::path::Path;

/// Writes mono `samples` (model output in [−1, 1]) at `sample_rate` to `path`: 32-bit float when
/// `float`, else 16-bit PCM (scaled by 32767 and clipped). No loudness normalisation is applied,
/// so lines of one voice keep their relative levels. Written through `<path>.part` and renamed,
/// so an interrupted write never leaves a half file at `path`.
pub fn write_wav(path: &Path, samples: &[f32], sample_rate: u32, float: bool) -> anyhow::Result<()> {
    use anyhow::Context;
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate,
        bits_per_sample: if float { 32 } else { 16 },
        sample_format: if float { hound::SampleFormat::Float } else { hound::SampleFormat::Int },
    };
    let mut part = path.as_os_str().to_owned();
    part.push(".part");
    let part = std::path::PathBuf::from(part);
    let mut w = hound::WavWriter::create(&part, spec).with_context(|| format!("{}: cannot create WAV file", part.display()))?;
    for &s in samples {
        if float {
            w.write_sample(s)?;
        } else {
            w.write_sample((s * 32767.0).round().clamp(-32768.0, 32767.0) as i16)?;
        }
    }
    w.finalize().with_context(|| format!("{}: cannot finish WAV file", part.display()))?;
    std::fs::rename(&part, path).with_context(|| format!("{}: cannot write WAV file", path.display()))
}
