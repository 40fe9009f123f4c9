//! The `tvtts` binary, as people and outside checks use it.

mod common;

use std::process::Command;

fn tvtts() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tvtts"))
}

fn read_wav(path: &std::path::Path) -> (hound::WavSpec, usize) {
    let r = hound::WavReader::open(path).unwrap();
    (r.spec(), r.len() as usize)
}

#[test]
fn say_writes_pcm16_and_float_wavs() {
    let dir = tempfile::tempdir().unwrap();
    let voice = common::voice_path();
    let pcm = dir.path().join("a.wav");
    let st = tvtts()
        .args(["say", "--voice"]).arg(&voice)
        .args(["--text", "Hello there, traveler.", "--noise-scale", "0", "--noise-w", "0", "--out"]).arg(&pcm)
        .status().unwrap();
    assert!(st.success());
    let (spec, n) = read_wav(&pcm);
    assert_eq!((spec.sample_rate, spec.bits_per_sample, spec.channels), (22050, 16, 1));
    assert_eq!(n, 32000, "same length as the reference for this sentence");
    let peak = hound::WavReader::open(&pcm).unwrap().samples::<i16>().map(|s| s.unwrap().unsigned_abs()).max().unwrap();
    assert!(peak > 5000, "not silent (peak {peak})");

    let float = dir.path().join("b.wav");
    let st = tvtts()
        .args(["say", "--voice"]).arg(&voice)
        .args(["--text", "Hello there, traveler.", "--noise-scale", "0", "--noise-w", "0", "--float", "--out"]).arg(&float)
        .status().unwrap();
    assert!(st.success());
    let (spec, n) = read_wav(&float);
    assert_eq!((spec.bits_per_sample, spec.sample_format, n), (32, hound::SampleFormat::Float, 32000));
}

#[test]
fn phonemes_printed_by_phonemize_speak_the_same_as_the_text() {
    let dir = tempfile::tempdir().unwrap();
    let voice = common::voice_path();
    let text = "Where is the blacksmith? He owes me gold!";
    let out = tvtts().args(["phonemize", "--voice"]).arg(&voice).args(["--text", text]).output().unwrap();
    assert!(out.status.success());
    let phonemes = String::from_utf8(out.stdout).unwrap();
    assert_eq!(phonemes.lines().count(), 2, "two sentences: {phonemes}");
    // Text may start with a hyphen (not an option).
    let minus = tvtts().args(["phonemize", "--voice"]).arg(&voice).args(["--text", "-5 degrees"]).output().unwrap();
    assert!(minus.status.success(), "{}", String::from_utf8_lossy(&minus.stderr));
    assert!(String::from_utf8_lossy(&minus.stdout).starts_with("mˈaɪnəs fˈaɪv"));

    let render = |args: &[&str], name: &str| {
        let path = dir.path().join(name);
        let st = tvtts().args(["say", "--voice"]).arg(&voice).args(args).args(["--seed", "7", "--float", "--out"]).arg(&path).status().unwrap();
        assert!(st.success());
        hound::WavReader::open(&path).unwrap().samples::<f32>().map(Result::unwrap).collect::<Vec<f32>>()
    };
    let from_text = render(&["--text", text], "t.wav");
    let from_ipa = render(&["--phonemes", &phonemes], "p.wav");
    assert!(!from_text.is_empty());
    assert_eq!(from_text, from_ipa, "baked phonemes must give the same audio");
}

#[test]
fn errors_go_to_stderr_with_a_nonzero_exit() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x.wav");
    let missing = tvtts().args(["say", "--voice", "no/such/voice.onnx", "--text", "hi", "--out"]).arg(&out).output().unwrap();
    assert!(!missing.status.success());
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(stderr.contains("no/such/voice.onnx"));
    let cause = std::fs::read("no/such/voice.onnx.json").unwrap_err().to_string();
    assert_eq!(stderr.matches(&cause).count(), 1, "the OS's cause once, not once per link of the chain: {stderr}");
    let nan = tvtts()
        .args(["say", "--voice"]).arg(common::voice_path())
        .args(["--text", "hi", "--noise-scale", "NaN", "--out"]).arg(&out)
        .output().unwrap();
    assert!(!nan.status.success());
    assert!(String::from_utf8_lossy(&nan.stderr).contains("noise_scale"));
    assert!(!out.exists());
}

#[test]
fn say_stream_writes_the_same_wav_and_reports_timings() {
    let dir = tempfile::tempdir().unwrap();
    let voice = common::voice_path();
    let text = "Where is the blacksmith? He owes me gold, and I want it back before nightfall!";
    let render = |stream: bool, name: &str| {
        let path = dir.path().join(name);
        let mut cmd = tvtts();
        cmd.args(["say", "--voice"]).arg(&voice).args(["--text", text, "--seed", "3", "--float", "--report", "--out"]).arg(&path);
        if stream {
            cmd.arg("--stream");
        }
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let stdout = String::from_utf8(out.stdout).unwrap();
        assert_eq!(stdout.lines().count(), 1, "one JSON line: {stdout}");
        let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
        let audio = hound::WavReader::open(&path).unwrap().samples::<f32>().map(Result::unwrap).collect::<Vec<f32>>();
        (audio, report)
    };
    let (whole, whole_report) = render(false, "whole.wav");
    let (streamed, report) = render(true, "stream.wav");
    assert!(common::max_abs_diff(&whole, &streamed) <= 1e-4, "--stream changes the audio");
    for key in ["ttfa_ms", "synth_ms", "audio_s", "underruns", "rtf"] {
        assert!(report[key].is_number(), "{key} missing: {report}");
    }
    let audio_s = whole.len() as f64 / 22050.0;
    assert!((report["audio_s"].as_f64().unwrap() - audio_s).abs() < 1e-6);
    assert_eq!(report["sentences"], 2);
    let (ttfa, synth) = (report["ttfa_ms"].as_f64().unwrap(), report["synth_ms"].as_f64().unwrap());
    assert!(ttfa > 0.0 && ttfa < synth, "first audio before the end when streaming: {report}");
    assert_eq!(whole_report["ttfa_ms"], whole_report["synth_ms"], "whole sentences: first sample at the end");
}

#[test]
fn vector_steer_inspect_and_say_with_style() {
    let dir = tempfile::tempdir().unwrap();
    let voice = common::voice_path();
    let (a, b) = (dir.path().join("a.txt"), dir.path().join("b.txt"));
    std::fs::write(&a, "Get out of here!\nThe bridge is down!\n").unwrap();
    std::fs::write(&b, "Get out of here.\nThe bridge is down.\n").unwrap();
    let vector = dir.path().join("excited.safetensors");
    let st = tvtts()
        .args(["vector", "steer", "--voice"]).arg(&voice)
        .args(["--a"]).arg(&a).args(["--b"]).arg(&b)
        .args(["--points", "m_p", "--description", "exclaiming minus stating", "--alpha-range", "-1,3", "--out"]).arg(&vector)
        .status().unwrap();
    assert!(st.success());
    let out = tvtts().args(["vector", "inspect"]).arg(&vector).args(["--voice"]).arg(&voice).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    for want in ["kind: steer", "groups: enc_p", "description: exclaiming minus stating", "alpha range: [-1, 3]", "tensor m_p [192]", "fits voice"] {
        assert!(text.contains(want), "inspect lacks `{want}`:\n{text}");
    }

    let say_text = |text: &str, style: Option<&str>, name: &str| {
        let path = dir.path().join(name);
        let mut cmd = tvtts();
        cmd.args(["say", "--voice"]).arg(&voice).args(["--text", text, "--seed", "1", "--float", "--out"]).arg(&path);
        if let Some(s) = style {
            cmd.arg("--style").arg(format!("{}={s}", vector.display()));
        }
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        hound::WavReader::open(&path).unwrap().samples::<f32>().map(Result::unwrap).collect::<Vec<f32>>()
    };
    let say = |style: Option<&str>, name: &str| say_text("Who goes there?", style, name);
    let plain = say(None, "plain.wav");
    // `--style` streams; `plain` is whole synthesis: equal within the streams' rounding.
    assert!(common::max_abs_diff(&say(Some("0"), "zero.wav"), &plain) <= common::STREAM_ROUNDING, "α = 0 is the base voice");
    assert!(common::max_abs_diff(&say(Some("2"), "two.wav"), &plain) > 1e-3, "α = 2 changes it");
    // To a file, a styled line of several windows is the same bits every run (fixed windows, as
    // `bake`; adaptive ones follow the timing, and Winograd's rounding their edges).
    let long = "Nobody enters the village after dark, without a word from the captain, and nobody leaves.";
    assert!(say_text(long, Some("2"), "d1.wav") == say_text(long, Some("2"), "d2.wav"), "styled `say` is not reproducible");
    // Tools that need another voice or a multi-speaker one say why they cannot run.
    let out = tvtts().args(["vector", "diff", "--base"]).arg(&voice).args(["--tuned"]).arg(&voice)
        .args(["--rank", "4", "--out"]).arg(dir.path().join("d.safetensors")).output().unwrap();
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("no parameter of groups"));
    let out = tvtts().args(["vector", "centroid", "--voice"]).arg(&voice).args(["--a", "0", "--b", "1", "--out"])
        .arg(dir.path().join("c.safetensors")).output().unwrap();
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("single speaker"));
    // Bad α and groups are refused with a message.
    let out = tvtts().args(["say", "--voice"]).arg(&voice).args(["--text", "Hi.", "--out"]).arg(dir.path().join("x.wav"))
        .arg("--style").arg(format!("{}=1@voice", vector.display())).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("module group"), "{}", String::from_utf8_lossy(&out.stderr));
    // α outside the range the vector was made for is refused, naming the range and the file;
    // nothing is written.
    for alpha in ["1e30", "3.5", "-2"] {
        let wav = dir.path().join("far.wav");
        let out = tvtts().args(["say", "--voice"]).arg(&voice).args(["--text", "Hi.", "--out"]).arg(&wav)
            .arg("--style").arg(format!("{}={alpha}", vector.display())).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && err.contains("[-1, 3]") && err.contains("excited.safetensors"), "α {alpha}: {err}");
        assert!(!wav.exists());
    }
}

#[test]
fn say_writes_the_same_timing_track_streamed_or_not() {
    let dir = tempfile::tempdir().unwrap();
    let voice = common::voice_path();
    let text = "Where is the blacksmith? He owes me gold, and I want it back before nightfall!";
    let render = |stream: bool| {
        let (wav, json) = (dir.path().join(format!("{stream}.wav")), dir.path().join(format!("{stream}.json")));
        let mut cmd = tvtts();
        cmd.args(["say", "--voice"]).arg(&voice).args(["--text", text, "--seed", "5", "--timings"]).arg(&json).arg("--out").arg(&wav);
        if stream {
            cmd.arg("--stream");
        }
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let samples = hound::WavReader::open(&wav).unwrap().len();
        (serde_json::from_str::<serde_json::Value>(&std::fs::read_to_string(&json).unwrap()).unwrap(), samples)
    };
    let (whole, samples) = render(false);
    let (streamed, _) = render(true);
    assert_eq!(whole, streamed, "the same track streamed or not");
    assert_eq!(whole["sample_rate"], 22050);
    assert!((whole["duration"].as_f64().unwrap() - samples as f64 / 22050.0).abs() < 1e-9);
    let words: Vec<&str> = whole["words"].as_array().unwrap().iter().map(|w| w["text"].as_str().unwrap()).collect();
    assert_eq!(words.join(" "), text.replace(['?', ',', '!'], ""));
    for list in ["phonemes", "visemes", "rhubarb"] {
        let spans = whole[list].as_array().unwrap();
        assert!(!spans.is_empty(), "{list}");
        assert!(spans.windows(2).all(|w| w[0]["end"].as_f64() <= w[1]["start"].as_f64()), "{list} in order");
    }
    let visemes = whole["visemes"].as_array().unwrap();
    assert_eq!(visemes.last().unwrap()["end"], whole["duration"], "visemes cover the audio");
}

#[test]
fn say_reads_markup_a_lexicon_and_a_style_named_by_its_file() {
    let dir = tempfile::tempdir().unwrap();
    let voice = common::voice_path();
    let lex = dir.path().join("names.lex");
    std::fs::write(&lex, "Zyxthar  zˈɪksθɑːɹ\n").unwrap();
    let (wav, json) = (dir.path().join("m.wav"), dir.path().join("m.json"));
    let excited = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/vectors/excited.safetensors");
    let text = r#"Zyxthar waits.<break time="500ms"/> <style name="excited" alpha="2">Run</style>, <sub alias="doctor">Dr.</sub> Brown!"#;
    let out = tvtts()
        .args(["say", "--voice"]).arg(&voice)
        .arg("--style").arg(format!("{}=0", excited.display()))
        .arg("--lexicon").arg(&lex)
        .args(["--text", text, "--timings"]).arg(&json).arg("--out").arg(&wav)
        .output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let t: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let words: Vec<(&str, f64, f64)> = t["words"].as_array().unwrap().iter().map(|w| (w["text"].as_str().unwrap(), w["start"].as_f64().unwrap(), w["end"].as_f64().unwrap())).collect();
    let names: Vec<&str> = words.iter().map(|w| w.0).collect();
    assert_eq!(names, ["Zyxthar", "waits", "Run", "Dr.", "Brown"]);
    assert!(words[2].1 - words[1].2 >= 0.5, "the break is in the track: {words:?}");

    // Bad markup: an error naming line and column, no file written.
    let bad = dir.path().join("bad.wav");
    let out = tvtts()
        .args(["say", "--voice"]).arg(&voice)
        .args(["--text", "Hello <whisper>there</whisper>", "--out"]).arg(&bad)
        .output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 1, column 7") && err.contains("<whisper>"), "{err}");
    assert!(!bad.exists());
}

/// `tvtts bake SCENE --out DIR [extra]` in the repository's assets; its stderr.
fn bake(scene: &std::path::Path, out: &std::path::Path, extra: &[&str]) -> String {
    let assets = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets");
    let o = tvtts().arg("bake").arg(scene).arg("--out").arg(out).arg("--assets").arg(&assets).args(extra).output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(o.status.success(), "{err}");
    err
}

#[test]
fn bake_renders_once_normalises_and_rerenders_only_what_changed() {
    let dir = tempfile::tempdir().unwrap();
    let scene = dir.path().join("scene.txt");
    let lines = [
        "guard: Halt! Who goes there?",
        "innkeeper: Welcome, <emphasis>traveller</emphasis>. The stew is hot.",
        "guard: Show me your seal.<break time=\"300ms\"/> Quickly.",
    ];
    std::fs::write(&scene, lines.join("\n")).unwrap();
    let out = dir.path().join("baked");
    let err = bake(&scene, &out, &[]);
    assert!(err.contains("3 rendered, 0 kept"), "{err}");
    let manifest: serde_json::Value = serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["lufs_target"], -23.0);
    let entries = manifest["lines"].as_array().unwrap();
    assert_eq!(entries.len(), 3);
    for e in entries {
        assert!((e["lufs"].as_f64().unwrap() + 23.0).abs() < 1.0, "{e}");
        let wav = out.join(e["audio"].as_str().unwrap());
        let (spec, n) = read_wav(&wav);
        assert!((n as f64 / spec.sample_rate as f64 - e["duration"].as_f64().unwrap()).abs() < 1e-6);
        let t: serde_json::Value = serde_json::from_slice(&std::fs::read(out.join(e["timings"].as_str().unwrap())).unwrap()).unwrap();
        assert!(!t["words"].as_array().unwrap().is_empty());
    }
    // Again: nothing to render. A second bake elsewhere on one thread: the same bits.
    assert!(bake(&scene, &out, &[]).contains("0 rendered, 3 kept"));
    let other = dir.path().join("other");
    bake(&scene, &other, &["--threads", "1"]);
    for e in entries {
        let f = e["audio"].as_str().unwrap();
        assert_eq!(std::fs::read(out.join(f)).unwrap(), std::fs::read(other.join(f)).unwrap(), "{f}: deterministic");
    }
    // One line edited, one removed: exactly one render, the removed line's files gone.
    std::fs::write(&scene, [lines[0], "innkeeper: Welcome, <emphasis>traveler</emphasis>. The stew is hot."].join("\n")).unwrap();
    let err = bake(&scene, &out, &[]);
    assert!(err.contains("1 rendered, 1 kept, 4 files removed"), "{err}");
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 5, "two lines' WAV and JSON, and the manifest");
}

#[test]
fn phonemize_compares_the_builtin_phonemizer_with_espeak() {
    let voice = common::voice_path();
    let run = |p: &str| {
        let o = tvtts().args(["phonemize", "--voice"]).arg(&voice).args(["--phonemizer", p, "--text", "Dr. Lee paid $5 at 10:30."]).output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8(o.stdout).unwrap()
    };
    let builtin = run("builtin");
    assert_eq!(builtin.lines().count(), 1, "one sentence: `Dr.` does not end it: {builtin}");
    assert!(builtin.contains("dˈɑːktɚ") && builtin.contains("fˈaɪv dˈɑːlɚz") && builtin.contains("tˈɛn θˈɜːɾi"), "{builtin}");
    assert!(!run("espeak").is_empty());
    let o = tvtts().args(["phonemize", "--voice"]).arg(&voice).args(["--phonemizer", "festival", "--text", "x"]).output().unwrap();
    assert!(!o.status.success() && String::from_utf8_lossy(&o.stderr).contains("`festival`"));
}

/// `vector learn` on bad data: an error naming the file and line, exit code ≠ 0, no vector.
#[test]
fn vector_learn_names_bad_data_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("set");
    std::fs::create_dir_all(data.join("wavs")).unwrap();
    std::fs::write(data.join("metadata.csv"), "a|Hello there.\nb Hello again.\n").unwrap();
    let out = tmp.path().join("v.safetensors");
    let run = |extra: &[&str]| {
        let voice = common::voice_path();
        let mut cmd = tvtts();
        cmd.args(["vector", "learn", "--voice"]).arg(&voice).arg("--data").arg(&data).arg("--out").arg(&out).args(extra);
        cmd.output().unwrap()
    };
    let o = run(&[]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(err.contains("a.wav") && err.contains("missing") && err.contains("line 1"), "{err}");
    std::fs::write(data.join("metadata.csv"), "b Hello again.\n").unwrap();
    let err = String::from_utf8_lossy(&run(&[]).stderr).to_string();
    assert!(err.contains("metadata.csv:1") && err.contains("no `|`"), "{err}");
    let err = String::from_utf8_lossy(&run(&["--groups", "flow"]).stderr).to_string();
    assert!(err.contains("nothing to learn"), "{err}");
    let err = String::from_utf8_lossy(&run(&["--kind", "angry"]).stderr).to_string();
    assert!(err.contains("known: weights"), "{err}");
    assert!(!out.exists() && std::fs::read_dir(tmp.path()).unwrap().count() == 1, "nothing written");
}

/// Ctrl-C during `vector learn` stops it between two lines: exit ≠ 0, "interrupted", and no
/// vector (nor a temporary file) left behind.
#[cfg(unix)]
#[test]
fn vector_learn_interrupted_writes_nothing() {
    use std::io::Read;
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("set");
    std::fs::create_dir_all(data.join("wavs")).unwrap();
    let mut meta = String::new();
    for i in 0..12 {
        meta.push_str(&format!("l{i}|The old bridge fell in winter, number {i}.\n"));
        // A voiced buzz at 110 Hz, two seconds: speech enough for the checks.
        let spec = hound::WavSpec { channels: 1, sample_rate: 22_050, bits_per_sample: 16, sample_format: hound::SampleFormat::Int };
        let mut w = hound::WavWriter::create(data.join(format!("wavs/l{i}.wav")), spec).unwrap();
        for n in 0..44_100 {
            let phase = (n as f32 * 110.0 / 22_050.0).fract();
            w.write_sample(((0.5 - phase) * 12_000.0) as i16).unwrap();
        }
        w.finalize().unwrap();
    }
    std::fs::write(data.join("metadata.csv"), meta).unwrap();
    let out = tmp.path().join("v.safetensors");
    let mut child = tvtts()
        .args(["vector", "learn", "--voice"]).arg(common::voice_path())
        .arg("--data").arg(&data).arg("--out").arg(&out)
        .stderr(std::process::Stdio::piped())
        .spawn().unwrap();
    // Wait until it is speaking the transcripts, then interrupt.
    let mut stderr = child.stderr.take().unwrap();
    let mut seen = Vec::new();
    let mut buf = [0u8; 256];
    while !String::from_utf8_lossy(&seen).contains("speaking the") {
        let n = stderr.read(&mut buf).unwrap();
        assert!(n > 0, "ended before learning: {}", String::from_utf8_lossy(&seen));
        seen.extend_from_slice(&buf[..n]);
    }
    assert!(Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap().success());
    stderr.read_to_end(&mut seen).unwrap();
    let status = child.wait().unwrap();
    let err = String::from_utf8_lossy(&seen);
    assert!(!status.success() && err.contains("interrupted"), "{status:?}: {err}");
    let left: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(left, [std::ffi::OsString::from("set")], "nothing but the data set");
}
