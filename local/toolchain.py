"""Finding the interpreter that matches the Lambda runtime (python3.13)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path


def python313() -> str | None:
    """A real python3.13 binary (not a pyenv shim, which depends on PYENV_VERSION): pyenv's
    own install first, else python3.13 on PATH; None when neither has it."""
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates = sorted(pyenv_root.glob("versions/3.13*/bin/python3.13"))
    if candidates:
        return str(candidates[-1])
    found = shutil.which("python3.13")
    if found and subprocess.run([found, "-c", "pass"], capture_output=True).returncode == 0:
        return found
    return None
