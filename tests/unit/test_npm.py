"""local/npm.py, the one `npm pack` fetch behind DynamoDB Local, the page checkers and the npm
User-Agent corpus: cached, checked against the integrity npm reports, one atomic rename.
A stand-in `npm` on PATH packs a tarball made here, so no registry is needed."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import stat
import tarfile
from pathlib import Path

import pytest

from local import npm
from local.npm import NpmError, NpmFile, fetch, folder_to, member_to

FAKE_NPM = """#!/bin/sh
# npm pack <spec> --json --silent: copies the prepared tarball here, reports its integrity.
echo "$2" >> "{calls}"
cp "{tarball}" ./pkg-1.0.0.tgz
printf '[{{"filename": "pkg-1.0.0.tgz", "integrity": "%s"}}]' "$(cat "{integrity}")"
"""


def tarball(path: Path, files: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


@pytest.fixture
def fake_npm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    made = tarball(
        tmp_path / "made.tgz",
        {"package/a.txt": b"A", "package/emulator/x.jar": b"J", "package/emulator/lib/y": b"Y"},
    )
    integrity = tmp_path / "integrity"
    sri = "sha512-" + base64.b64encode(hashlib.sha512(made.read_bytes()).digest()).decode()
    integrity.write_text(sri)
    calls = tmp_path / "calls"
    calls.write_text("")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "npm"
    script.write_text(FAKE_NPM.format(calls=calls, tarball=made, integrity=integrity))
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return {"calls": calls, "integrity": integrity, "out": tmp_path / "out"}


def packed(fake: dict[str, Path]) -> list[str]:
    return fake["calls"].read_text().split()


def test_a_file_is_fetched_once_then_read_from_the_cache(fake_npm: dict[str, Path]) -> None:
    wanted = NpmFile("pkg", "1.0.0", "package/a.txt", folder=fake_npm["out"])
    assert wanted.ensure().read_bytes() == b"A"
    assert wanted.ensure() == fake_npm["out"] / "pkg-1.0.0" / "a.txt"
    assert packed(fake_npm) == ["pkg@1.0.0"]  # the second time from the cache
    assert [p.name for p in wanted.path.parent.iterdir()] == ["a.txt"]  # no staging left


def test_a_folder_appears_whole_by_one_rename(fake_npm: dict[str, Path]) -> None:
    target = fake_npm["out"] / "emulator"

    def ready(folder: Path) -> bool:
        return (folder / "x.jar").is_file() and (folder / "lib").is_dir()

    assert fetch("pkg", target, folder_to("package/emulator/"), ready=ready) == target
    assert sorted(str(p.relative_to(target)) for p in target.rglob("*")) == [
        "lib",
        "lib/y",
        "x.jar",
    ]
    fetch("pkg", target, folder_to("package/emulator/"), ready=ready)
    assert packed(fake_npm) == ["pkg"]


def test_a_tarball_that_does_not_match_its_integrity_is_never_unpacked(
    fake_npm: dict[str, Path],
) -> None:
    fake_npm["integrity"].write_text("sha512-" + base64.b64encode(b"x" * 64).decode())
    target = fake_npm["out"] / "a.txt"
    with pytest.raises(NpmError, match="does not match its integrity"):
        fetch("pkg@1.0.0", target, member_to("package/a.txt"))
    assert not target.exists()
    assert list(fake_npm["out"].iterdir()) == []  # no staging file either


class Missing(RuntimeError):
    pass


def test_what_the_package_lacks_is_named_with_the_callers_error(
    fake_npm: dict[str, Path],
) -> None:
    target = fake_npm["out"] / "b.txt"
    with pytest.raises(Missing, match=r"package/b\.txt"):
        fetch("pkg@1.0.0", target, member_to("package/b.txt", Missing), error=Missing)
    assert list(fake_npm["out"].iterdir()) == []


def test_without_npm_the_error_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(NpmError, match=r"npm not found: install Node\.js/npm"):
        npm.fetch("pkg@1.0.0", tmp_path / "a.txt", member_to("package/a.txt"))


def test_the_reported_integrity_is_read_from_npm_pack_json() -> None:
    report = json.dumps([{"filename": "pkg-1.0.0.tgz", "integrity": "sha512-abc"}])
    assert npm._reported_integrity(report, "pkg-1.0.0.tgz") == "sha512-abc"
    assert npm._reported_integrity("not json", "pkg-1.0.0.tgz") == ""
