"""`make lighthouse`: Lighthouse's four scores (performance, accessibility, best practices,
SEO) for each indexable kind of page, on phones (Lighthouse's default mobile emulation) and on
a desktop, in render and beacon mode.

The pages are the sample portal of the browser tests (tests/e2e/content.py: the fixture and
articles in four categories) on the local server over an in-memory DynamoDB Local, as `make
run` serves them. Lighthouse is the npm package, pinned (12.2.3: 13 needs Node 22, Debian's is
20), installed once into .local/lighthouse with its browser download switched off: it drives
Debian's Chromium (CHROME_PATH), never a browser of its own. The 404 and stats pages are left
out: they are noindex on purpose, which Lighthouse's SEO category counts against them (the
HTML checker and axe cover them in tests/e2e/test_conformance.py).

Prints one line per page and writes artifacts/lighthouse/<mode>-<preset>-<page>.json (the
full reports) and artifacts/lighthouse/scores.json. Exits 1 when a score is below 100.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "layers" / "newsdesk" / "python")]

VERSION = "12.2.3"
PREFIX = ROOT / ".local" / "lighthouse"
OUT = ROOT / "artifacts" / "lighthouse"
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
CHROME_FLAGS = "--headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage"


def ensure_lighthouse() -> Path:
    """The lighthouse command, installed into PREFIX with npm on first use (idempotent)."""
    binary = PREFIX / "node_modules" / ".bin" / "lighthouse"
    installed = PREFIX / "node_modules" / "lighthouse" / "package.json"
    if binary.exists() and json.loads(installed.read_text())["version"] == VERSION:
        return binary
    npm = shutil.which("npm")
    if npm is None:
        sys.exit("error: npm not found: install Node.js/npm (`make test` does)")
    print(f"installing lighthouse {VERSION} into {PREFIX} ...", flush=True)
    PREFIX.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PUPPETEER_SKIP_DOWNLOAD": "1"}  # never a browser download
    install = [npm, "install", "--prefix", str(PREFIX), "-E", f"lighthouse@{VERSION}"]
    subprocess.run([*install, "--no-audit", "--no-fund", "--loglevel=error"], check=True, env=env)
    return binary


# The functions' CloudWatch metrics (EMF JSON lines on stdout, which CloudWatch Logs reads on
# AWS) are off here: Powertools' POWERTOOLS_METRICS_DISABLED ("Disable metrics: If
# POWERTOOLS_METRICS_DISABLED is True", aws_lambda_powertools.metrics.functions).
QUIET = {"POWERTOOLS_METRICS_DISABLED": "true"}


@contextmanager
def portal(mode: str) -> Iterator[str]:
    """The sample portal served locally in COUNT_MODE `mode`: its base URL."""
    import boto3
    from newsdesk import caches
    from newsdesk.dal import db

    from local import dynamodb, tables
    from local.__main__ import set_defaults
    from local.server import running
    from tests.e2e.content import import_sample

    handle = dynamodb.start(in_memory=True, allow_moto=False)
    try:
        os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = handle.endpoint
        os.environ["COUNT_MODE"] = mode
        os.environ.update(QUIET)  # the functions' metrics lines would cut into the table
        os.environ.setdefault("PAGE_SIZE", "3")  # so that the home page has an older page
        set_defaults()
        db.reset()  # this process's client and settings follow the new endpoint and mode
        caches.clear_all()
        client = boto3.client("dynamodb", endpoint_url=handle.endpoint)
        for variable, name in tables.create_tables(client, f"lighthouse-{mode}").items():
            os.environ[variable] = name
        import_sample()
        with running() as url:
            yield url
    finally:
        handle.stop()


def pages(base_url: str) -> dict[str, str]:
    from tests.e2e.content import MARKED_SLUG
    from tests.support import SLUG

    return {
        "home": f"{base_url}/",
        "category": f"{base_url}/categories/thoi-su",
        "article": f"{base_url}/articles/{SLUG}",
        "short-article": f"{base_url}/articles/{MARKED_SLUG}",
    }


def warm(urls: list[str]) -> None:
    """Ask for each page twice first: Lighthouse measures warm functions, as a site with
    readers has (a cold start's seconds would count as the server's response time)."""
    import urllib.request

    for url in urls * 2:
        with urllib.request.urlopen(url, timeout=60) as response:
            response.read()


def scores(lighthouse: Path, url: str, preset: str, report: Path) -> dict[str, int]:
    """Lighthouse's four category scores (0..100) for url, its report written to `report`."""
    args = [str(lighthouse), url, "--quiet", f"--chrome-flags={CHROME_FLAGS}"]
    args += [f"--only-categories={','.join(CATEGORIES)}", "--output=json"]
    args += [f"--output-path={report}", *(["--preset=desktop"] if preset == "desktop" else [])]
    env = {**os.environ, "CHROME_PATH": shutil.which("chromium") or "/usr/bin/chromium"}
    subprocess.run(args, check=True, env=env, timeout=300)
    found = json.loads(report.read_text())["categories"]
    return {name: round(100 * (found[name]["score"] or 0)) for name in CATEGORIES}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--modes", default="render,beacon")
    parser.add_argument("--presets", default="mobile,desktop")
    args = parser.parse_args()
    lighthouse = ensure_lighthouse()
    OUT.mkdir(parents=True, exist_ok=True)
    results: dict[str, dict[str, int]] = {}
    for mode in args.modes.split(","):
        with portal(mode) as base_url:
            warm(list(pages(base_url).values()))
            for preset in args.presets.split(","):
                for page, url in pages(base_url).items():
                    name = f"{mode}-{preset}-{page}"
                    results[name] = scores(lighthouse, url, preset, OUT / f"{name}.json")
                    print(f"{name:32} " + "  ".join(f"{k} {v}" for k, v in results[name].items()))
    (OUT / "scores.json").write_text(json.dumps(results, indent=1) + "\n")
    below = [name for name, found in results.items() if min(found.values()) < 100]
    print(f"{len(results) - len(below)} of {len(results)} pages score 100 in all four")
    return 1 if below else 0


if __name__ == "__main__":
    sys.exit(main())
