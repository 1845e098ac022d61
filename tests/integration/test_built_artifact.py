"""What `sam build` ships is what we test: every function runs from .aws-sam/build (its
own code plus the built layers, nothing from the source tree) on python3.13 against
DynamoDB Local, so a template, data file or dependency missing from the package fails."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from local.toolchain import build_for_this_machine, python313
from tests.support import (
    EXPECTED_STATUS,
    SLUG,
    event,
    event_names,
    function_for,
    import_fixture,
    reader,
)

RUNNER = Path(__file__).with_name("built_runner.py")


def _python313() -> str:
    found = python313()
    if not found:
        pytest.fail("python3.13 is needed to build and run the python3.13 functions")
    return found


@pytest.fixture(scope="session")
def build_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh `sam build` (no Docker) of template.yaml, for this machine's architecture
    (local.toolchain.build_for_this_machine)."""
    _python313()
    out = tmp_path_factory.mktemp("sam-build")
    result = build_for_this_machine(out / "build", Path(sys.executable).with_name("sam"))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return out / "build"


def run_built(build_dir: Path, function: str, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    spec = {
        "function_dir": str(build_dir / function),
        "layer_dirs": [
            str(build_dir / layer / "python") for layer in ("NewsdeskLayer", "DependenciesLayer")
        ],
        "events": events,
    }
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "NEWSDESK_"))}
    result = subprocess.run(
        [_python313(), "-I", "-S", str(RUNNER)],
        input=json.dumps(spec),
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    payload = json.loads(result.stdout.split("@@RESULT@@", 1)[1])
    for name, origin in payload["origins"].items():
        assert origin.startswith(str(build_dir)), f"{name} was imported from {origin}"
    return list(payload["responses"])


@pytest.fixture
def site(ddb_local_tables: dict[str, str]) -> dict[str, str]:
    import_fixture()
    return ddb_local_tables


def test_templates_and_package_reach_the_build(build_dir: Path) -> None:
    package = build_dir / "NewsdeskLayer" / "python" / "newsdesk"
    assert (package / "templates" / "article.html").is_file()
    assert (package / "locales" / "vi.json").is_file()
    assert (package / "bot_lists.json").is_file()  # the bot lists, expanded (bots.DATA_FILE)
    deps = build_dir / "DependenciesLayer" / "python"
    for name in (
        "jinja2",
        "aws_lambda_powertools",
        "crawlerdetect",
        "crawleruseragents",
        "ahocorasick_rs",
        "re2",
        "babel",
        "tzdata",
    ):
        assert (deps / name).is_dir(), name


def test_the_build_does_the_cold_start_work_once(build_dir: Path) -> None:
    """layers/newsdesk/Makefile compiles every template into a Python module (what the
    first request would otherwise compile) and the package into python3.13 bytecode
    (Lambda's /opt is read-only: no __pycache__ is written there); the pages are
    rendered from those modules (test_pages_function_from_the_build)."""
    from jinja2.loaders import ModuleLoader

    package = build_dir / "NewsdeskLayer" / "python" / "newsdesk"
    templates = sorted(p.name for p in (package / "templates").iterdir() if p.is_file())
    compiled = {p.name for p in (package / "compiled_templates").glob("tmpl_*.py")}
    assert compiled == {ModuleLoader.get_module_filename(name) for name in templates}
    bytecode = {p.name.split(".")[0] for p in (package / "__pycache__").glob("*.cpython-313.pyc")}
    assert {"bots", "rendering", "pages", "web"} <= bytecode


def test_pages_function_from_the_build(build_dir: Path, site: dict[str, str]) -> None:
    index, first, second, repeat, bot, unknown, post, nowhere = run_built(
        build_dir,
        "PagesFunction",
        [
            event("index"),
            reader(1),
            reader(2),
            reader(1),
            event("article-bot"),
            event("article-unknown"),
            event("article-post"),
            event("not-found"),
        ],
    )
    assert index["statusCode"] == 200 and f"/articles/{SLUG}" in index["body"]
    assert first["statusCode"] == 200
    assert "<title>Sơ kết chương trình phối hợp công tác năm 2018" in first["body"]
    assert "27/11/2018 | 08:12" in first["body"]
    assert "<span data-views>9.575</span>" in first["body"]
    assert "<span data-views>9.576</span>" in second["body"]
    assert "<span data-views>9.576</span>" in repeat["body"]  # a repeat view is not counted
    assert "<span data-views>9.576</span>" in bot["body"]
    assert '<script id="nd-widget"' in first["body"]
    assert unknown["statusCode"] == 404 and "Không tìm thấy trang" in unknown["body"]
    assert post["statusCode"] == 405
    assert nowhere["statusCode"] == 404


def test_api_function_from_the_build(build_dir: Path, site: dict[str, str]) -> None:
    views, unknown, wrong = run_built(
        build_dir,
        "ApiFunction",
        [
            event("article-views"),
            event("article-views-unknown"),
            {
                **event("article-views"),
                "requestContext": {
                    **event("article-views")["requestContext"],
                    "http": {**event("article-views")["requestContext"]["http"], "method": "PUT"},
                },
            },
        ],
    )
    assert views["statusCode"] == 200
    assert json.loads(views["body"]) == {"slug": SLUG, "views": 9574}
    assert unknown["statusCode"] == 404 and json.loads(unknown["body"])["message"]
    assert wrong["statusCode"] == 405


def test_api_heartbeat_stats_and_beacon_from_the_build(
    build_dir: Path, site: dict[str, str]
) -> None:
    one, two, again, stats, beacon, beacon_repeat = run_built(
        build_dir,
        "ApiFunction",
        [
            reader(1, "visits"),
            reader(2, "visits"),
            reader(1, "visits"),
            event("stats"),
            reader(3, "article-view-beacon"),
            reader(3, "article-view-beacon"),
        ],
    )
    assert [json.loads(r["body"])["online"] for r in (one, two, again)] == [1, 2, 2]
    assert json.loads(stats["body"])["online"] == 2
    counted = json.loads(beacon["body"])
    assert {k: counted[k] for k in ("slug", "views", "counted", "present", "online")} == {
        "slug": SLUG,
        "views": 9575,
        "counted": True,
        "present": True,
        "online": 3,  # the beacon registered its reader: no heartbeat needed
    }
    assert json.loads(beacon_repeat["body"])["counted"] is False


def test_every_event_from_the_build(build_dir: Path, site: dict[str, str]) -> None:
    """Each events/*.json through the built function its route names, as Lambda runs it."""
    by_function: dict[str, list[str]] = {}
    for name in event_names():
        by_function.setdefault(function_for(event(name)), []).append(name)
    assert set(by_function) == {"PagesFunction", "ApiFunction", "AdminFunction"}
    for function, names in by_function.items():
        responses = run_built(build_dir, function, [event(n) for n in names])
        got = {n: r["statusCode"] for n, r in zip(names, responses, strict=True)}
        assert got == {n: EXPECTED_STATUS[n] for n in names}
