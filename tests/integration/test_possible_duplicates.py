"""Fresh-clone finding 18: a legacy page re-exported with its title corrected only in case or
punctuation (same publish time, so the same slug) is another article by the identity rule
(issue 14 item 1: title + publish time), so it is imported at a unique slug; the import says
loudly that it is a possible duplicate of the stored one, and how to remove it."""

from __future__ import annotations

from pathlib import Path

import pytest
from newsdesk import cli
from newsdesk.importer import Summary, import_paths

from tests.support import FIXTURE, SLUG

pytestmark = pytest.mark.usefixtures("moto_tables")
TITLE = "Sơ kết chương trình phối hợp công tác năm 2018 giữa Ban Tuyên giáo Tỉnh ủy và Công an tỉnh"


def page(tmp_path: Path, name: str, title: str, date: str = "27/11/2018 | 08:12") -> Path:
    lines = FIXTURE.read_text("utf-8").split("\n")
    assert lines[0] == TITLE and lines[1].startswith("cms-publish-date 27/11/2018 | 08:12")
    lines[0] = title
    lines[1] = lines[1].replace("27/11/2018 | 08:12", date)
    path = tmp_path / name
    path.write_text("\n".join(lines), "utf-8")
    return path


def run(paths: list[Path]) -> tuple[Summary, list[str]]:
    lines: list[str] = []
    return import_paths(paths, report=lines.append, notable_only=True), lines


def test_a_title_corrected_in_case_or_punctuation_is_reported_as_a_possible_duplicate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run([FIXTURE])[0].imported == 1
    fixed = page(tmp_path, "fixed.txt", TITLE.replace("Công an tỉnh", "Công an Tỉnh") + ".")
    summary, lines = run([fixed])
    assert summary.imported == 1 and len(summary.renamed) == 1
    copy = summary.renamed[0][0]
    assert summary.duplicates == [(copy, SLUG)]
    assert "POSSIBLE DUPLICATES 1" in summary.line()
    assert any(f"possible duplicate of {SLUG}" in line for line in lines), lines
    cli._print_summary(summary)
    printed = capsys.readouterr().out
    assert f"POSSIBLE DUPLICATE {copy} of {SLUG}" in printed
    assert f"python -m newsdesk unpublish {copy}" in printed


@pytest.mark.parametrize(
    "title, date",
    [
        (TITLE.replace("Công an tỉnh", "Công an tinh"), "27/11/2018 | 08:12"),  # a tone mark
        (TITLE.replace("Công an tỉnh", "Công an Tỉnh"), "28/11/2018 | 08:12"),  # another day
    ],
)
def test_other_articles_that_share_the_slug_are_not_called_duplicates(
    tmp_path: Path, title: str, date: str
) -> None:
    run([FIXTURE])
    summary, _ = run([page(tmp_path, "other.txt", title, date)])
    assert summary.imported == 1 and len(summary.renamed) == 1
    assert summary.duplicates == []
