"""espeak-ng's own speech (its formant synthesiser, not the neural voice), for measuring scripts
that want a reference of what an accent costs a recogniser when every sound is the accent's own.

Loads the system's libespeak-ng (Debian `libespeak-ng1`, GPL-3.0-or-later: used here at
measuring time only, never by the product) through ctypes; the accents' espeak-ng voice names are
read from `core/src/phonemize/accent.rs`, so the table lives in one place.
"""

import ctypes
import re
import wave
from array import array
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# espeak_AUDIO_OUTPUT's AUDIO_OUTPUT_SYNCHRONOUS: espeak_Synth returns when the text is spoken.
_SYNCHRONOUS = 2
_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)


def accent_voices() -> dict:
    """tvtts accent name → espeak-ng voice name, from the table in accent.rs."""
    src = (ROOT / "core/src/phonemize/accent.rs").read_text()
    return dict(re.findall(r'\("([a-z-]+)", "(en[a-z0-9-]*)", "', src))


class Espeak:
    """One espeak-ng instance (the library is a process-wide singleton: make one)."""

    def __init__(self):
        self._lib = ctypes.CDLL("libespeak-ng.so.1")
        self._samples = array("h")

        def take(wav, n, _events):
            if n > 0 and wav:
                self._samples.extend(wav[:n])
            return 0

        self._take = _CALLBACK(take)  # kept: the library calls it
        self.sample_rate = self._lib.espeak_Initialize(_SYNCHRONOUS, 500, None, 0)
        if self.sample_rate <= 0:
            raise RuntimeError("espeak-ng did not initialise (is espeak-ng-data installed?)")
        self._lib.espeak_SetSynthCallback(self._take)

    def speak(self, voice: str, text: str, out: Path):
        """Writes `text` spoken by espeak-ng voice `voice` to `out` (16-bit mono WAV)."""
        if self._lib.espeak_SetVoiceByName(voice.encode()) != 0:
            raise ValueError(f"espeak-ng has no voice {voice!r}")
        self._samples = array("h")
        data = text.encode() + b"\0"
        # (text, size, position, POS_CHARACTER, end position, espeakCHARS_AUTO, id, user data)
        if self._lib.espeak_Synth(data, len(data), 0, 0, 0, 0, None, None) != 0:
            raise RuntimeError(f"espeak-ng could not speak {text!r}")
        self._lib.espeak_Synchronize()
        with wave.open(str(out), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(self.sample_rate)
            w.writeframes(self._samples.tobytes())
