"""The scripts' own virtualenvs (stdlib only, imported before anything else).

`ensure_venv(script)` creates or refreshes scripts/.venv from the pinned
scripts/requirements-reference.txt (reinstalling only when that file changes) and re-executes
`script` inside it; `ensure_venv(script, "measure")` does the same with scripts/.venv-measure and
scripts/requirements-measure.txt. Set TVTTS_REF_NO_VENV=1 to run in the current interpreter.
"""

import hashlib
import os
import subprocess
import sys
from pathlib import Path

SCRIPTS_DIR = Path(__file__).resolve().parent


def ensure_venv(script: str, name: str = "reference") -> None:
    """Re-exec `script` inside the `name` venv unless already there (or TVTTS_REF_NO_VENV is set)."""
    if os.environ.get("TVTTS_REF_NO_VENV"):
        return
    VENV_DIR = SCRIPTS_DIR / (".venv" if name == "reference" else f".venv-{name}")
    REQUIREMENTS = SCRIPTS_DIR / f"requirements-{name}.txt"
    if Path(sys.prefix).resolve() == VENV_DIR.resolve():
        return
    py = VENV_DIR / "bin" / "python"
    want = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    stamp = VENV_DIR / ".requirements.sha256"
    if not py.exists():
        print(f"[refvenv] creating virtualenv {VENV_DIR}", file=sys.stderr)
        subprocess.check_call([sys.executable, "-m", "venv", str(VENV_DIR)])
        # Keep the venv out of git without touching the repository's .gitignore.
        (VENV_DIR / ".gitignore").write_text("*\n")
    if not stamp.exists() or stamp.read_text().strip() != want:
        print(f"[refvenv] installing {REQUIREMENTS.name} into {VENV_DIR}", file=sys.stderr)
        subprocess.check_call([str(py), "-m", "pip", "install", "-q", "-r", str(REQUIREMENTS)])
        stamp.write_text(want + "\n")
    os.execv(str(py), [str(py), str(Path(script).resolve()), *sys.argv[1:]])
