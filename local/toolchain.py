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


def architecture_override(arch: str | None = None) -> str:
    """`sam build`/`sam local` --parameter-overrides value that builds and runs the functions
    and layers for `arch` (default: this machine's): the template's Architecture parameter
    sets the functions' Architectures and both layers' CompatibleArchitectures and
    BuildArchitecture, so native dependencies (the bot filter's automata, brotli, nh3) come
    as wheels for that architecture. The template's default (arm64) is what deploys."""
    return f"Architecture={arch or host_architecture()}"


def build_for_this_machine(build_dir: Path, sam: Path) -> subprocess.CompletedProcess[str]:
    """`sam build` (no Docker, cached) of template.yaml for this machine's architecture
    (architecture_override) into `build_dir`, with python3.13 first on PATH; the finished
    process (check returncode). Raises FileNotFoundError without python3.13.

    SAM CLI's cache (--cache-dir) and its dependency folders (`.aws-sam/deps` under its
    working directory) belong to this build alone, in `build_dir`'s sibling
    `.<name>-sam/`: each `sam build --cached` deletes the cache and dependency folders that
    its own build.toml does not name (samcli/lib/build/build_strategy.py,
    clean_redundant_folders), so builds sharing them (the tests', the bench's, make
    sam-local's, possibly at the same time) would undo each other's, or fail on files
    removed under them."""
    python = python313()
    if python is None:
        raise FileNotFoundError("python3.13 is needed to build the python3.13 functions")
    build_dir = Path(os.path.abspath(build_dir))
    state = build_dir.parent / f".{build_dir.name}-sam"
    state.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "SAM_CLI_TELEMETRY": "0",
        "PATH": f"{Path(python).parent}{os.pathsep}{os.environ['PATH']}",
    }
    env.pop("PYENV_VERSION", None)
    return subprocess.run(
        [
            os.path.abspath(sam),
            "build",
            "--template",
            str(ROOT / "template.yaml"),
            "--parameter-overrides",
            architecture_override(),
            "--build-dir",
            str(build_dir),
            "--cache-dir",
            str(state / f"cache-{host_architecture()}"),
            "--cached",
        ],
        cwd=state,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
