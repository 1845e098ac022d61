"""Fresh-clone finding 24b: `make lighthouse` printed the functions' raw EMF metric lines
(CloudWatch's format, on stdout) in the middle of its score table. scripts/lighthouse.py
runs the functions with metrics off (scripts.lighthouse.QUIET)."""

from __future__ import annotations

import pytest

from scripts import lighthouse
from tests.support import import_fixture, invoke, reader

pytestmark = pytest.mark.usefixtures("moto_tables")
BOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


def metric_lines(capsys: pytest.CaptureFixture[str]) -> list[str]:
    data = reader(1)
    data["headers"]["user-agent"] = BOT  # a bot's view: the BotViewsSkipped metric
    assert invoke("pages", data)["statusCode"] == 200
    return [line for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]


def test_lighthouse_runs_the_functions_without_metric_lines(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import_fixture()
    capsys.readouterr()
    assert metric_lines(capsys)  # what a deployed function prints, for CloudWatch
    for name, value in lighthouse.QUIET.items():
        monkeypatch.setenv(name, value)
    assert metric_lines(capsys) == []
