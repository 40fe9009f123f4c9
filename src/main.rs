//! `tvtts`: speak with Piper voices natively, print phonemes, benchmark.

mod cli;

use clap::{Parser, Subcommand};

/// Neural voices for game characters (native Piper/VITS in candle).
#[derive(Parser)]
#[command(name = "tvtts", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Speak text or IPA phonemes into a WAV file.
    Say(cli::say::SayArgs),
    /// Print the phonemes of a text, one sentence per line (the input `say --phonemes` takes).
    Phonemize(cli::phonemize::PhonemizeArgs),
    /// Time synthesis of a text file: per sentence and overall, model load excluded.
    Bench(cli::bench::BenchArgs),
    /// Streaming engine: time to first audio, overhead vs whole sentences, K speakers at once.
    BenchStream(cli::bench_stream::BenchStreamArgs),
    /// List a voice's parameters by their stable checkpoint names (what style vectors address).
    Params(cli::params::ParamsArgs),
    /// Render every line of a scene to WAV files with timings and a manifest, loudness-normalised.
    Bake(cli::bake::BakeArgs),
    /// Make and inspect style vectors.
    #[command(subcommand)]
    Vector(cli::vector::VectorCommand),
}

fn main() {
    // A closed pipe (`tvtts vector inspect F | head`) ends the process quietly, as other Unix
    // tools do, instead of making `println!` panic.
    #[cfg(unix)]
    // SAFETY: restoring a signal's default disposition at start-up, before any thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn")).init();
    tvtts::core::memory::keep_freed_memory();
    let result = match Cli::parse().command {
        Command::Say(a) => cli::say::run(a),
        Command::Phonemize(a) => cli::phonemize::run(a),
        Command::Bench(a) => cli::bench::run(a),
        Command::BenchStream(a) => cli::bench_stream::run(a),
        Command::Params(a) => cli::params::run(a),
        Command::Vector(c) => cli::vector::run(c),
        Command::Bake(a) => cli::bake::run(a),
    };
    if let Err(e) = result {
        eprintln!("tvtts: error: {e:#}");
        std::process::exit(1);
    }
}
