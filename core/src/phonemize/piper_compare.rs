//! Compares [`EspeakPhonemizer`] with piper-tts itself (ignored by default: needs Python with
//! piper-tts 1.8.0 installed, and the joe voice config from `scripts/setup.sh`):
//!
//! ```text
//! PIPER_PYTHON=/tmp/refvenv/bin/python \
//!   cargo test -p tvtts-core --lib phonemize::piper_compare -- --ignored --nocapture
//! ```
//!
//! `PIPER_COMPARE_TEXTS=file.json` (a JSON list of strings) compares those texts instead of the
//! built-in ~140 sentences; `PIPER_COMPARE_MIN` sets the share that must match (default 0.95).
//! Piper's empty sentences are left out, as [`EspeakPhonemizer`] leaves them out.

use std::io::Write;
use std::process::{Command, Stdio};

use super::{EspeakPhonemizer, Phonemizer};

/// `PiperVoice.phonemize` of piper-tts, for the voice config in argv[1]: JSON list of texts on
/// stdin → JSON list of sentence lists on stdout.
const ORACLE: &str = r#"
import json, sys
from piper.config import PiperConfig
from piper.voice import PiperVoice
voice = PiperVoice(config=PiperConfig.from_dict(json.load(open(sys.argv[1]))), session=None)
out = [["".join(s) for s in voice.phonemize(t) if s] for t in json.load(sys.stdin)]
json.dump(out, sys.stdout)
"#;

/// Varied English: dialogue, questions, exclamations, clause punctuation, numbers, dates,
/// abbreviations, quotes, dashes, ellipses, newlines, paragraphs.
const TEXTS: &[&str] = &[
    "Hello there, traveler.",
    "The old bridge collapsed last winter, so you'll have to take the mountain pass if you want to reach the village before nightfall.",
    "Welcome to the Rusty Anchor, stranger. You look like you've been on the road for days. Sit down by the fire and warm yourself up. If you're looking for work, the blacksmith needs someone to fetch iron ore from the old mine, but be careful, nobody who went down there last week has come back yet, so bring a good torch.",
    "What do you want?",
    "Are you sure about this? I don't think it's a good idea.",
    "Run! They're coming!",
    "Stop right there, criminal scum!",
    "We have three options: fight, flee, or hide.",
    "I tried; it didn't work.",
    "First, gather the herbs; second, boil the water; third, wait.",
    "The price is 250 gold coins.",
    "It costs $3.50, or about 4 euros.",
    "The year was 1492, and the ship had 3 masts.",
    "Meet me at 10:30 tonight.",
    "He was born on March 3rd, 1987.",
    "About 75% of the crops failed.",
    "Call 555-1234 if you need help.",
    "The temperature dropped to -5 degrees.",
    "There are 1,000,000 stars in the sky.",
    "Chapter 11 begins on page 342.",
    "She said, \"I'll be back before dawn.\"",
    "\"Where are you going?\" he asked.",
    "\u{201C}Never again,\u{201D} she whispered.",
    "It's the \u{2018}best\u{2019} sword in the realm.",
    "Don't you dare touch my sword!",
    "Wait \u{2014} did you hear that?",
    "Well... I suppose we could try.",
    "Hmm\u{2026} interesting.",
    "The king (may he rest in peace) left no heir.",
    "Mr. Smith and Dr. Jones arrived at noon.",
    "We'll leave at 5 p.m. Then we ride north.",
    "Bring food, water, rope, etc. We leave at dawn.",
    "I'm not sure, e.g. the weather might turn.",
    "The U.S. army marched on.",
    "NASA launched a rocket.",
    "The FBI and the CIA disagreed.",
    "He shouted: NEVER!",
    "A well-known, battle-hardened warrior stood guard.",
    "The quick brown fox jumps over the lazy dog.",
    "She sells seashells by the seashore.",
    "I read the book yesterday, and I will read another tomorrow.",
    "The wind was too strong to wind the sail.",
    "Live and let live.",
    "Visit www.example.com for more information.",
    "Send a letter to info@example.com.",
    "Press Ctrl+C to copy.",
    "Tom & Jerry were here.",
    "It's #1 on the list.",
    "The ratio is 3/4.",
    "Use 2 + 2 = 4.",
    "Line one\nLine two\nLine three",
    "First paragraph.\n\nSecond paragraph.",
    "No punctuation at the end",
    "   Leading and trailing spaces.   ",
    "Multiple   spaces   between   words.",
    "Tabs\tbetween\twords.",
    "Why?! Why would you do that?!",
    "No... no... NO!",
    "Yes!!! We did it!!!",
    "Really??",
    "Okay, okay, okay.",
    "The dragon's lair lies beyond the Misty Mountains.",
    "Sir Galahad, the pure, sought the Holy Grail.",
    "Thou shalt not pass!",
    "Greetings, adventurer! What brings you to Eldoria?",
    "The potion costs 50 gold; the elixir, 120.",
    "My name is Aragorn, son of Arathorn.",
    "Beware the Jabberwock, my son!",
    "Once upon a time, in a land far, far away, there lived a princess.",
    "Seven swans swam swiftly south.",
    "Whether the weather is warm or whether the weather is cold, we'll weather the weather.",
    "The tomb of King Tutankhamun was discovered in 1922.",
    "Queue up at the door.",
    "Colonel Mustard did it in the library with the candlestick.",
    "Rhythm and rhyme.",
    "Knights knelt knowingly.",
    "The thief stole the jewel from the vault.",
    "I can't believe you've done this.",
    "You wouldn't've known.",
    "Y'all ain't seen nothin' yet.",
    "He's the one who's got the key.",
    "Our quest begins at dawn; prepare well.",
    "Is it 9 or 10 o'clock?",
    "Room 101 is on the 2nd floor.",
    "The 21st century began in 2001.",
    "World War II ended in 1945.",
    "Henry VIII had six wives.",
    "Take 1/2 cup of flour.",
    "The score was 3-2.",
    "It weighs 2.5 kg.",
    "Pi is approximately 3.14159.",
    "I have 0 regrets.",
    "Vitamin B12 is important.",
    "The caf\u{E9} served cr\u{E8}me br\u{FB}l\u{E9}e.",
    "He spoke with a na\u{EF}ve smile.",
    "Schadenfreude is a German word.",
    "The rendezvous was at the ch\u{E2}teau.",
    "Hello, world",
    "OK.",
    "Go.",
    "Yes",
    "A",
    "I",
    "Hello. A",
    "Wow!",
    "The end.",
    "Hmm?",
    "Uh-huh.",
    "Shh! Quiet.",
    "Psst, over here.",
    "Aaaargh!",
    "Ha ha ha!",
    "Three hundred and twenty-seven goblins attacked.",
    "At 11:59 p.m. the clock struck.",
    "He ran 26.2 miles.",
    "It's 100\u{B0}F outside.",
    "Temperature: 72 degrees; humidity: 40 percent.",
    "She asked, \"Why?\" and he said, \"Because.\"",
    "(Whispering) Did you hear that?",
    "[Laughs] That's funny.",
    "The word \"ye\" is archaic.",
    "Elves, dwarves, and men fought side by side.",
    "Turn left, then right, then left again.",
    "To be, or not to be: that is the question.",
    "All that glitters is not gold.",
    "I came, I saw, I conquered.",
    "The tavern's closed.\nCome back tomorrow.",
    "Listen carefully:\nthe password is swordfish.",
    "One.\nTwo.\nThree.",
    "Hey you!\n\n\nYes, you!",
    "A sentence with trailing newline.\n",
    "The rain in Spain stays mainly in the plain.",
    "Don't worry; be happy.",
    "Wait - what was that?",
    "Left-handed people, right-handed people.",
    "Alright, let's go.",
    "You've got mail.",
    "Ready? Set. Go!",
    "Her name's Zo\u{EB}.",
];

#[test]
#[ignore = "needs piper-tts 1.8.0 (PIPER_PYTHON) and the joe voice config"]
fn compare_with_piper_tts() {
    let python = std::env::var("PIPER_PYTHON").unwrap_or_else(|_| "/tmp/refvenv/bin/python".into());
    let config = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../assets/voices/en_US-joe-medium.onnx.json"
    );
    let texts: Vec<String> = match std::env::var("PIPER_COMPARE_TEXTS") {
        Ok(path) => serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap(),
        Err(_) => TEXTS.iter().map(|t| t.to_string()).collect(),
    };
    let min: f64 = std::env::var("PIPER_COMPARE_MIN").map_or(0.95, |m| m.parse().unwrap());

    let mut child = Command::new(&python)
        .args(["-c", ORACLE, config])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{python}: {e}"));
    let input = serde_json::to_vec(&texts).unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(output.status.success(), "piper-tts oracle failed");
    let piper: Vec<Vec<String>> = serde_json::from_slice(&output.stdout).unwrap();

    let ours = EspeakPhonemizer::new("en-us").unwrap();
    let mut same = 0;
    for (text, expected) in texts.iter().zip(&piper) {
        let got = ours.phonemize(text).unwrap();
        if &got == expected {
            same += 1;
        } else {
            println!("TEXT  {text:?}\n piper {expected:?}\n ours  {got:?}");
        }
    }
    println!("{same}/{} identical to piper-tts", texts.len());
    assert!(
        same as f64 >= min * texts.len() as f64,
        "{same}/{} identical",
        texts.len()
    );
}
