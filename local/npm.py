"""Files out of npm packages, fetched once with `npm pack` into .local/ (npm is the one
registry every dev machine and CI reaches here): DynamoDB Local (local/dynamodb.py), the
page checkers (local/webcheck.py) and the npm User-Agent corpus (tests/bot_corpora.py).

One way for all of them:
- cached: a file (or folder) already in place is used as it is, without npm;
- checked: `npm pack` checks the tarball against the registry's `dist.integrity` as it
  downloads it; the tarball on disk is then checked against the integrity npm reports for
  it (`npm pack --json`), so a truncated or altered file is never unpacked;
- atomic: what is unpacked goes to a staging name beside the target, then one rename puts
  it in place, so a half-written file is never used and two fetches at once are harmless.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NPM_DIR = ROOT / ".local" / "npm"
PACK_TIMEOUT = 600  # seconds: a big package on a slow link (DynamoDB Local is ~60 MB)


class NpmError(RuntimeError):
    """A package could not be fetched; the message says what to do."""


def pack(spec: str, folder: Path, error: type[Exception] = NpmError) -> Path:
    """`npm pack <spec>` into `folder`: the tarball, checked against the integrity npm
    reports for it (SRI, sha512). Raises `error` (NpmError unless given) without npm, when
    npm fails, or when the tarball does not match."""
    npm = shutil.which("npm")
    if npm is None:
        raise error(f"npm not found: install Node.js/npm (`make test` does) to fetch {spec}")
    proc = subprocess.run(
        [npm, "pack", spec, "--json", "--silent"],
        cwd=folder,
        capture_output=True,
        text=True,
        check=False,
        timeout=PACK_TIMEOUT,
    )
    tarballs = sorted(folder.glob("*.tgz"))
    if proc.returncode != 0 or not tarballs:
        detail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        raise error(f"npm pack {spec} failed: {detail[0]}")
    tarball = tarballs[-1]
    integrity = _reported_integrity(proc.stdout, tarball.name)
    if integrity and integrity != _sri(tarball):
        raise error(f"npm pack {spec}: {tarball.name} does not match its integrity {integrity}")
    return tarball


def _reported_integrity(output: str, name: str) -> str:
    """The `integrity` npm pack --json reports for the tarball `name` ("" when not said)."""
    try:
        entries = json.loads(output)
    except ValueError:
        return ""
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, dict) and entry.get("filename") == name:
            return str(entry.get("integrity", ""))
    return ""


def _sri(path: Path) -> str:
    digest = hashlib.sha512(path.read_bytes()).digest()
    return "sha512-" + base64.b64encode(digest).decode()


def fetch(
    spec: str,
    target: Path,
    unpack: Callable[[tarfile.TarFile, Path], None],
    *,
    ready: Callable[[Path], bool] | None = None,
    error: type[Exception] = NpmError,
    say: Callable[[str], None] | None = None,
) -> Path:
    """`target` (a file or a folder), made on first use from package `spec` by
    `unpack(tarball, staging)`, which writes to `staging` what goes to `target`.
    `ready(target)` says whether it is complete (default: it exists). Cached, checked and
    atomic as the module docstring says; `error` is raised when it cannot be fetched."""
    ready = ready or Path.exists
    if ready(target):
        return target
    (say or _say)(f"fetching {spec} (npm pack) into {target} ...")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.parent / f".{target.name}.{uuid.uuid4().hex}"
    try:
        with tempfile.TemporaryDirectory(prefix="npm-pack-") as tmp:
            tarball = pack(spec, Path(tmp), error)
            with tarfile.open(tarball) as tar:
                unpack(tar, staging)
        if not ready(staging):
            raise error(f"{spec}: its package lacks what {target.name} needs")
        if ready(target):  # a concurrent fetch won
            return target
        if target.is_dir():  # leftover of an interrupted or hand-made copy
            shutil.rmtree(target)
        staging.replace(target)
    finally:
        if staging.is_dir():
            shutil.rmtree(staging, ignore_errors=True)
        else:
            staging.unlink(missing_ok=True)
    return target


def _say(message: str) -> None:
    print(f"[npm] {message}", file=sys.stderr, flush=True)


def member_to(
    name: str, error: type[Exception] = NpmError
) -> Callable[[tarfile.TarFile, Path], None]:
    """An `unpack` for fetch(): the tarball's file `name` ("package/axe.min.js") as the
    staging file."""

    def unpack(tar: tarfile.TarFile, staging: Path) -> None:
        source = tar.extractfile(name) if name in tar.getnames() else None
        if source is None:
            raise error(f"the package has no {name}")
        with source, open(staging, "wb") as out:
            shutil.copyfileobj(source, out)

    return unpack


def folder_to(prefix: str) -> Callable[[tarfile.TarFile, Path], None]:
    """An `unpack` for fetch(): every file under `prefix` ("package/emulator/") into the
    staging folder, refusing paths that would escape it."""

    def unpack(tar: tarfile.TarFile, staging: Path) -> None:
        for member in tar.getmembers():
            if not member.isfile() or not member.name.startswith(prefix):
                continue
            rel = Path(member.name[len(prefix) :])
            if rel.is_absolute() or ".." in rel.parts:
                continue
            out = staging / rel
            out.parent.mkdir(parents=True, exist_ok=True)
            source = tar.extractfile(member)
            if source is None:
                continue
            with source, open(out, "wb") as fh:
                shutil.copyfileobj(source, fh)

    return unpack


@dataclass(frozen=True)
class NpmFile:
    """One file out of a pinned npm package, kept under `folder`/<package>-<version>/."""

    package: str
    version: str
    member: str  # its path in the package's tarball
    folder: Path = NPM_DIR
    name: str = ""  # the file's name there (default: the member's)

    @property
    def spec(self) -> str:
        return f"{self.package}@{self.version}"

    @property
    def path(self) -> Path:
        name = self.name or Path(self.member).name
        return self.folder / f"{self.package}-{self.version}" / name

    def ensure(self, error: type[Exception] = NpmError) -> Path:
        """The file's path, fetched on first use (see fetch)."""
        return fetch(self.spec, self.path, member_to(self.member, error), error=error)
