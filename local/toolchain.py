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


ROOT = Path(__file__).resolve().parents[1]


def host_architecture() -> str:
    """This machine's Lambda architecture name (Lambda has arm64 and x86_64)."""
    import platform

    return "arm64" if platform.machine().lower() in ("aarch64", "arm64") else "x86_64"


def template_for_this_machine(out: Path) -> Path:
    """A copy of template.yaml in `out` whose functions and layers are built for this
    machine's architecture: native dependencies (the bot filter's automata, brotli, nh3) are
    wheels for one architecture, and built functions run here (tests, bench). The template's
    own architecture (arm64) is what deploys; only the wheels differ."""
    text = (ROOT / "template.yaml").read_text(encoding="utf-8")
    for line in ("  Architectures: [arm64]", "CompatibleArchitectures: [arm64]"):
        if line not in text:
            raise ValueError(f"template.yaml has no {line!r}")
    if "BuildArchitecture: arm64" not in text:
        raise ValueError("template.yaml has no 'BuildArchitecture: arm64'")
    arch = host_architecture()
    text = text.replace("Architectures: [arm64]", f"Architectures: [{arch}]")  # Compatible too
    text = text.replace("BuildArchitecture: arm64", f"BuildArchitecture: {arch}")
    out.mkdir(parents=True, exist_ok=True)
    path = out / "template.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def build_for_this_machine(build_dir: Path, sam: Path) -> subprocess.CompletedProcess[str]:
    """`sam build` (no Docker, cached) of the template for this machine's architecture into
    `build_dir`, with python3.13 first on PATH; the finished process (check returncode)."""
    python = python313()
    if python is None:
        raise FileNotFoundError("python3.13 is needed to build the python3.13 functions")
    template = template_for_this_machine(build_dir.parent / f"{build_dir.name}-template")
    env = {
        **os.environ,
        "SAM_CLI_TELEMETRY": "0",
        "PATH": f"{Path(python).parent}{os.pathsep}{os.environ['PATH']}",
    }
    env.pop("PYENV_VERSION", None)
    return subprocess.run(
        [
            str(sam),
            "build",
            "--template",
            str(template),
            "--base-dir",
            str(ROOT),
            "--build-dir",
            str(build_dir),
            "--cache-dir",
            str(ROOT / ".aws-sam" / f"cache-{host_architecture()}"),
            "--cached",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
