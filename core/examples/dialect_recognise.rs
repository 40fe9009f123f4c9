//! How well does `vector learn --kind rewrite` hear an accent? Recognition scored against the
//! phonemes that made the recordings (issue: a continuous accent α, learned from recordings).
//!
//! ```sh
//! python3 scripts/make_style_data.py --out DIR --accent scottish --lines bench/texts/phonemizer_train.txt
//! cargo run --release -p tvtts-core --example dialect_recognise -- DIR scottish OUT.safetensors [LINES]
//! python3 scripts/measure_dialect.py --vector OUT.safetensors --accent scottish --deterministic
//! ```
//!
//! It learns a `rewrite` vector from the first LINES recordings of DIR (all by default) as
//! `tvtts vector learn --kind rewrite` does, writes it to OUT, and then, knowing which accent
//! of espeak-ng spoke the recordings (never used to learn), prints per sentence-position how
//! the recognised phonemes compare with the accent's ([`accentize`]): of the positions the
//! accent changes, how many recognition found; of those it keeps, how many it changed anyway.
//! Finally the table's agreement with the accent on `bench/texts/heldout.txt` (unseen
//! sentences), as `tvtts vector accent --held-out` prints it.
//!
//! Needs espeak-ng (the scoring) and the voice from `scripts/setup.sh`.

use std::collections::BTreeMap;

use candle_core::Device;
use tvtts_core::learn::dialect::{learn_rewrite, rewrite_from_heard, LearnedRewrite};
use tvtts_core::learn::phones::{Heard, HeardSentence};
use tvtts_core::style::accent::rewrite_vector;
use tvtts_core::learn::DataSet;
use tvtts_core::model::rewrite::Rewrite;
use tvtts_core::style::accent::{accentize, agreement, sentence_pairs};
use tvtts_core::{Result, Voice};

const VOICE: &str = "assets/voices/en_US-joe-medium.onnx";

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (dir, accent, out) = (&args[0], &args[1], &args[2]);
    let voice = Voice::load(VOICE, &Device::Cpu)?;
    let mut data = DataSet::load(dir, voice.sample_rate())?;
    if let Some(n) = args.get(3) {
        data.recordings.truncate(n.parse().expect("LINES is a number"));
    }
    // HEARD=FILE keeps what was heard, to rebuild the table without speaking again.
    let cache = std::env::var("HEARD").ok();
    let learned = match cache.as_deref().filter(|f| std::path::Path::new(f).exists()) {
        Some(f) => {
            let heard = read_heard(f);
            let rewrite = rewrite_from_heard(&heard, voice.ids.ids("").ids[1]);
            LearnedRewrite { vector: rewrite_vector(&voice, &rewrite, (0.0, 1.0))?, heard }
        }
        None => learn_rewrite(&voice, &data, 1.0, &mut |l| eprintln!("{l}"), &|| Ok(()))?,
    };
    if let Some(f) = &cache {
        write_heard(f, &learned.heard);
    }
    learned.vector.save(out)?;
    let acc = voice.accent_phonemizer(accent)?;
    let symbol = |id: i64| voice.ids.entries().find(|(_, v)| v == &[id]).map_or('?', |(c, _)| c);
    let (mut changed, mut found, mut wrong, mut kept, mut spurious) = (0, 0, 0, 0, 0);
    let mut confusions: BTreeMap<(char, char, char), usize> = BTreeMap::new(); // (own, accent, heard)
    let mut pairs = learned.heard.iter().map(|s| {
        let mut said = s.ids.clone();
        for h in &s.heard {
            said[h.position] = h.best(s.ids[h.position]).unwrap_or(said[h.position]);
        }
        (s.ids.clone(), said)
    });
    for r in &data.recordings {
        let Some(truth) = sentence_pairs(&voice, &acc, &r.transcript)? else { continue };
        for (u, a) in &truth {
            let Some((own, said)) = pairs.next() else { break };
            let (own, said) = (&own, &said);
            let Some(want) = accentize(u, a) else { continue };
            assert_eq!(own, &u.ids, "the same sentences in the same order");
            for k in 0..own.len() {
                if want[k] != own[k] {
                    changed += 1;
                    if said[k] == want[k] {
                        found += 1;
                    } else if said[k] != own[k] {
                        wrong += 1;
                    }
                } else {
                    kept += 1;
                    spurious += usize::from(said[k] != own[k]);
                }
                if want[k] != own[k] || said[k] != own[k] {
                    *confusions.entry((symbol(own[k]), symbol(want[k]), symbol(said[k]))).or_default() += 1;
                }
            }
        }
    }
    println!("recognition: {found} of the accent's {changed} changes found, {wrong} changed to another id; {spurious} of {kept} kept positions changed");
    for ((o, w, s), n) in confusions.iter().filter(|(_, &n)| n >= 2) {
        println!("  {o} → accent {w}, heard {s}: {n}");
    }
    let held: Vec<String> = std::fs::read_to_string("bench/texts/heldout.txt").expect("bench/texts/heldout.txt").lines().filter(|l| !l.trim().is_empty()).map(String::from).collect();
    let rewrite = Rewrite::from_tensor(&learned.vector.tensors[tvtts_core::style::format::REWRITE], voice.ids.id_count())?;
    let g = agreement(&voice, &acc, &rewrite, &held)?;
    println!("table ({} rules) on held-out sentences: reproduces {} of {} changes, changes {} of {} kept positions", rewrite.len(), g.reproduced, g.changed, g.spurious, g.kept);
    Ok(())
}

/// One sentence per line: `ids;position c:d c:d …;…`.
fn write_heard(path: &str, heard: &[HeardSentence]) {
    let text: String = heard
        .iter()
        .map(|s| {
            let ids: Vec<String> = s.ids.iter().map(i64::to_string).collect();
            let hs: Vec<String> = s.heard.iter().map(|h| format!("{} {}", h.position, h.distances.iter().map(|(c, d)| format!("{c}:{d}")).collect::<Vec<_>>().join(" "))).collect();
            format!("{};{}\n", ids.join(" "), hs.join(";"))
        })
        .collect();
    std::fs::write(path, text).expect("HEARD file written");
}

fn read_heard(path: &str) -> Vec<HeardSentence> {
    std::fs::read_to_string(path)
        .expect("HEARD file")
        .lines()
        .map(|l| {
            let mut parts = l.split(';');
            let ids = parts.next().unwrap().split(' ').map(|x| x.parse().unwrap()).collect();
            let heard = parts
                .filter(|p| !p.is_empty())
                .map(|p| {
                    let mut f = p.split(' ');
                    let position = f.next().unwrap().parse().unwrap();
                    let distances = f.map(|cd| {
                        let (c, d) = cd.split_once(':').unwrap();
                        (c.parse().unwrap(), d.parse().unwrap())
                    });
                    Heard { position, distances: distances.collect() }
                })
                .collect();
            HeardSentence { ids, heard }
        })
        .collect()
}
