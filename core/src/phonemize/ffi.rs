//! Hand-written binding to the few libespeak-ng functions we use (`speak_lib.h`, espeak-ng 1.51).
//! core/build.rs links `espeak-ng` when the `espeak` feature is on.

use std::os::raw::{c_char, c_int, c_void};

/// `espeak_AUDIO_OUTPUT::AUDIO_OUTPUT_SYNCHRONOUS`: no audio device, no playback thread.
pub(super) const AUDIO_OUTPUT_SYNCHRONOUS: c_int = 2;
/// `espeakINITIALIZE_DONT_EXIT`: return an error instead of calling `exit()` when the data is missing.
pub(super) const INITIALIZE_DONT_EXIT: c_int = 0x8000;
/// `espeakCHARS_AUTO`: UTF-8 (falling back to 8-bit for invalid UTF-8; our input is valid).
pub(super) const CHARS_AUTO: c_int = 0;
/// `espeakPHONEMES_IPA`: phonemes as IPA (UTF-8), no separators, as Piper asks for.
pub(super) const PHONEMES_IPA: c_int = 0x02;
/// `espeak_ERROR::EE_OK`.
pub(super) const EE_OK: c_int = 0;

extern "C" {
    /// Loads the data (from `path`, or the default/`ESPEAK_DATA_PATH` when null). Returns the
    /// sample rate, or a negative value on error.
    pub(super) fn espeak_Initialize(
        output: c_int,
        buflength: c_int,
        path: *const c_char,
        options: c_int,
    ) -> c_int;

    /// Returns the version string and stores a pointer to the data directory in `*path_data`
    /// (both static strings).
    pub(super) fn espeak_Info(path_data: *mut *const c_char) -> *const c_char;

    /// Selects a voice (language) by name, e.g. `en-us`. Returns `EE_OK` on success.
    pub(super) fn espeak_SetVoiceByName(name: *const c_char) -> c_int;

    /// Translates the clause at `*textptr` (NUL-terminated) and advances `*textptr` past what it
    /// read, or sets it to null at the end of the text. Returns the clause's phonemes in a static
    /// buffer that the next call overwrites.
    pub(super) fn espeak_TextToPhonemes(
        textptr: *mut *const c_void,
        textmode: c_int,
        phonememode: c_int,
    ) -> *const c_char;
}
