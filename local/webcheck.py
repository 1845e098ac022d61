"""The pages' checkers: the Nu Html Checker (W3C's `vnu.jar`, npm package vnu-jar) and axe-core
(npm package axe-core), pinned here and fetched once with `npm pack` into .local/npm/, as
DynamoDB Local is (local/dynamodb.py): npm is a registry every machine here reaches, and both
packages ship the file itself (no install script, nothing downloaded later).

`python -m local.webcheck install` fetches both (idempotent; `make test` runs it first);
`python -m local.webcheck html FILE...` checks HTML files. tests/e2e/test_conformance.py runs
both checkers over every kind of page.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from local.npm import NpmFile

ROOT = Path(__file__).resolve().parent.parent


class CheckerError(RuntimeError):
    """A checker could not be fetched or run; the message says what to do."""


# Fetched by local.npm (cached, checked, one atomic rename): `.ensure(CheckerError)`.
VNU = NpmFile("vnu-jar", "26.9.27", "package/build/dist/vnu.jar")
AXE = NpmFile("axe-core", "4.14.1", "package/axe.min.js")


@dataclass(frozen=True)
class HtmlMessage:
    """One finding of the Nu Html Checker (its JSON output's fields)."""

    document: str  # the name the document was checked under
    kind: str  # "error" (subtype "fatal" included) or "info" (subtype "warning": a warning)
    subtype: str
    line: int
    message: str
    extract: str

    @property
    def is_error(self) -> bool:
        return self.kind in ("error", "non-document-error")

    def __str__(self) -> str:
        label = "error" if self.is_error else self.subtype or self.kind
        return f"{self.document}:{self.line}: {label}: {self.message} [{self.extract.strip()}]"


# Checked with every batch: a document with an error the checker must find, so a run that
# checked nothing (a path it could not read, a changed output format) cannot pass for clean.
_CANARY = '<!doctype html><html lang="en"><title>canary</title><p><div>x</div></p>'


def check_html(documents: dict[str, str]) -> list[HtmlMessage]:
    """The Nu Html Checker's findings on each document (name -> HTML text), in one run of
    `java -jar vnu.jar --format json`. Raises CheckerError without Java, or when the checker
    gives no verdict or misses the canary's error (it did not really check)."""
    java = shutil.which("java")
    if java is None:
        raise CheckerError("java not found: install a Java 17+ runtime (`make test` does)")
    jar = VNU.ensure(CheckerError)
    with tempfile.TemporaryDirectory(prefix="webcheck-html-") as tmp:
        names = {}
        for number, (name, text) in enumerate([*documents.items(), ("canary", _CANARY)]):
            path = Path(tmp) / f"{number:03d}.html"
            path.write_text(text, encoding="utf-8")
            names[path.name] = name
        proc = subprocess.run(
            [java, "-jar", str(jar), "--format", "json", "--exit-zero-always", "--stdout"]
            + [str(Path(tmp) / name) for name in names],
            capture_output=True,
            text=True,
            check=False,
            timeout=600,
        )
    try:
        report = json.loads(proc.stdout)
    except ValueError:
        raise CheckerError(f"vnu.jar gave no JSON verdict: {proc.stderr.strip()[-500:]}") from None
    found = [_message(names, entry) for entry in report.get("messages", [])]
    if not any(message.document == "canary" and message.is_error for message in found):
        raise CheckerError(f"vnu.jar did not check the documents: {proc.stdout[-500:]}")
    return [message for message in found if message.document != "canary"]


def _message(names: dict[str, str], entry: dict[str, object]) -> HtmlMessage:
    url = str(entry.get("url", ""))
    return HtmlMessage(
        names.get(url.rsplit("/", 1)[-1], url),
        str(entry.get("type", "")),
        str(entry.get("subType", "")),
        int(str(entry.get("lastLine", 0))),
        str(entry.get("message", "")),
        str(entry.get("extract", "")),
    )


def main(argv: list[str]) -> int:
    """`install`: fetch both checkers; `html FILE...`: check files (exit 1 on an error)."""
    if argv[:1] == ["install"]:
        for wanted in (VNU, AXE):
            print(f"{wanted.package} {wanted.version}: {wanted.ensure(CheckerError)}")
        return 0
    if argv[:1] == ["html"] and argv[1:]:
        found = check_html({name: Path(name).read_text(encoding="utf-8") for name in argv[1:]})
        for message in found:
            print(message)
        errors = sum(message.is_error for message in found)
        print(f"{errors} errors, {len(found) - errors} other messages in {len(argv) - 1} files")
        return 1 if errors else 0
    print("usage: python -m local.webcheck install | html FILE...", file=sys.stderr)
    return 2


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except CheckerError as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(1)
