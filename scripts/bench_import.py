"""Bulk import speed (issue 14, item 7): `python -m newsdesk import` of N generated legacy
pages (5,000 by default) into an empty site on DynamoDB Local, then the same import again.

Each run is a fresh `python -m newsdesk import FOLDER` process, as an operator runs it, so the
times include starting Python and importing the package. Reported per run: wall time,
articles per second, the summary line, and the process's peak resident memory (ru_maxrss
from wait4). Targets: first run >= 500 articles/s, re-run < 5 s.

The pages are the fixture's format with generated Vietnamese titles, dates, counts and
bodies (seeded: the same pages every run), including the cases that used to collide: titles
that differ only by a tone mark or by đ/d, the same title on two dates, and long titles that
share their first 100 slug characters (about 4% of the pages in all).

    .venv/bin/python scripts/bench_import.py                 # 5,000 pages
    .venv/bin/python scripts/bench_import.py --pages 500     # quicker
    .venv/bin/python scripts/bench_import.py --cold          # no warm-up (see WARM_PAGES)
`make bench` can call run() (it returns the figures) inside its own DynamoDB Local.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "layers" / "newsdesk" / "python")]

FIXTURE = ROOT / "fixtures" / "000_0522782f77f4491e.txt"
FIRST_RUN_TARGET = 500.0  # articles per second
RERUN_TARGET = 5.0  # seconds
# DynamoDB Local is a JVM: on a fresh one, compiling its hot code (JIT) takes more CPU than
# the import's own writes (about 17 s of the JVM's CPU for the first 5,000 pages here, then
# about 6 s), on the core the import needs. Like scripts/bench.py, warm it first with an
# import of WARM_PAGES other pages into tables of their own (AWS has no such warm-up).
WARM_PAGES = 2000

SENTENCES = (
    "Sơ kết chương trình phối hợp công tác năm giữa Ban Tuyên giáo Tỉnh ủy và Công an tỉnh",
    "Hội nghị tổng kết phong trào thi đua xây dựng nông thôn mới đô thị văn minh",
    "Bão lũ miền Trung đổ bộ đất liền người dân sơ tán khẩn cấp Đà Nẵng Quảng Ngãi",
    "Đại hội Đảng bộ huyện nhiệm kỳ lãnh đạo chỉ đạo thực hiện nghị quyết kinh tế xã hội",
    "Giáo dục đào tạo học sinh sinh viên kỳ thi tốt nghiệp trung học phổ thông quốc gia",
    "Y tế phòng chống dịch bệnh tiêm chủng mở rộng bệnh viện đa khoa trạm xá",
)
WORDS = [word for sentence in SENTENCES for word in sentence.split()]
TONE_PAIRS = (("ã", "á"), ("ạ", "ả"), ("ơ", "ờ"), ("ư", "ừ"), ("ê", "ế"), ("đ", "d"))


def _title(rng: random.Random, n: int) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(6, 14))]
    return " ".join(words).capitalize() + f" {n}"


def _variant(title: str) -> str:
    """The same title with one tone mark changed, or đ written d: another article's title
    whose slug is the same."""
    for a, b in TONE_PAIRS:
        if a in title:
            return title.replace(a, b, 1)
    return title + "!"


def _page(title: str, when: tuple[int, ...], views: int, body: list[str], n: int) -> str:
    day, month, year, hour, minute = when
    lines = [
        title,
        f"cms-publish-date {day:02d}/{month:02d}/{year} | {hour:02d}:{minute:02d}  "
        f"| cms-view-count: {views:,}".replace(",", "."),
        "",
        *(f"{paragraph}\n" for paragraph in body),
        f"Bài số {n}: bản tin được cập nhật.\n",
        "Thanh Tùng\n",
        "Số lượng truy cập\n\nĐang truy cập: 1\n\nTổng: 0",
    ]
    return "\n".join(lines)


def corpus(folder: Path, pages: int, seed: int = 14) -> dict[str, int]:
    """Write `pages` legacy pages into `folder` (seeded); what kinds of pages were written."""
    rng = random.Random(seed)
    paragraphs = [
        re.sub(r"\s+", " ", p).strip()
        for p in FIXTURE.read_text("utf-8").split("\n\n")[1:6]
        if p.strip()
    ]
    kinds = {"plain": 0, "tone mark or đ/d": 0, "same title, other date": 0, "long title": 0}
    titles: list[str] = []
    for n in range(pages):
        when = (rng.randint(1, 28), rng.randint(1, 12), rng.randint(2012, 2024), 8, n % 60)
        roll = rng.random()
        if titles and roll < 0.02:
            title, kind = _variant(rng.choice(titles)), "tone mark or đ/d"
        elif titles and roll < 0.03:
            title, kind = rng.choice(titles), "same title, other date"
        elif roll < 0.04:
            head = "Hội nghị tổng kết công tác tuyên truyền phổ biến giáo dục pháp luật năm "
            title, kind = head * 2 + f"tại huyện số {n}", "long title"
        else:
            title, kind = _title(rng, n), "plain"
        kinds[kind] += 1
        titles.append(title)
        body = rng.sample(paragraphs, k=rng.randint(2, len(paragraphs)))
        text = _page(title, when, rng.randint(0, 20_000), body, n)
        (folder / f"{n:05d}.txt").write_text(text, "utf-8")
    return kinds


def _import(folder: Path, env: dict[str, str]) -> dict[str, Any]:
    """One `python -m newsdesk import folder` process: wall seconds, its summary line and its
    peak resident memory (MB)."""
    command = [sys.executable, "-m", "newsdesk", "import", str(folder)]
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        process = subprocess.Popen(command, env=env, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(process.pid, 0)  # wait4: the child's own rusage
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        summary, errors = out.readline().strip(), err.read()
    if process.returncode != 0:
        raise RuntimeError(f"import failed ({process.returncode}): {errors[-2000:]}")
    return {
        "seconds": round(seconds, 2),
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 2),  # the import process only
        "summary": summary,
        "peak_memory_mb": round(usage.ru_maxrss / 1024, 1),  # Linux: kilobytes
    }


def warm(client: Any, env: dict[str, str], pages: int = WARM_PAGES) -> None:
    """Import `pages` other pages (another seed) into tables of their own, then drop them:
    DynamoDB Local's JIT has compiled what the measured imports run (see WARM_PAGES)."""
    from local import tables

    names = tables.create_tables(client, f"bench-import-warm-{os.getpid()}")
    try:
        with tempfile.TemporaryDirectory(prefix="bench-import-warm-") as tmp:
            corpus(Path(tmp), pages, seed=15)
            _import(Path(tmp), {**env, **names})
    finally:
        for name in names.values():
            client.delete_table(TableName=name)


def run(
    pages: int = 5000,
    endpoint: str | None = None,
    package: Path | None = None,
    warm_pages: int = WARM_PAGES,
) -> dict[str, Any]:
    """Generate the pages, import them twice into fresh tables (on `endpoint`, else the
    AWS_ENDPOINT_URL_DYNAMODB already set), print and return the figures. `package`: the
    folder holding the newsdesk package to measure (default: this tree's layer; another
    checkout's to compare). `warm_pages`: pages imported first to warm DynamoDB Local (0:
    none; see WARM_PAGES)."""
    import boto3

    from local import tables

    endpoint = endpoint or os.environ["AWS_ENDPOINT_URL_DYNAMODB"]
    env = {
        **os.environ,
        "AWS_ENDPOINT_URL_DYNAMODB": endpoint,
        "PYTHONPATH": str(package or ROOT / "layers" / "newsdesk" / "python"),
    }
    client = boto3.client("dynamodb", endpoint_url=endpoint)
    if warm_pages:
        print(f"==> warming DynamoDB Local: an import of {warm_pages:,} other pages", flush=True)
        warm(client, env, warm_pages)
    names = tables.create_tables(client, f"bench-import-{os.getpid()}")
    env.update(names)
    try:
        with tempfile.TemporaryDirectory(prefix="bench-import-") as tmp:
            folder = Path(tmp)
            kinds = corpus(folder, pages)
            print(f"==> bulk import of {pages:,} legacy pages ({kinds})", flush=True)
            first = _import(folder, env)
            first["articles_per_second"] = round(pages / first["seconds"], 1)
            again = _import(folder, env)
    finally:
        for name in names.values():
            client.delete_table(TableName=name)
    figures: dict[str, Any] = {
        "pages": pages,
        "kinds": kinds,
        "warm_pages": warm_pages,
        "first_run": first,
        "rerun": again,
    }
    print(
        f"  first run  {first['seconds']:6.2f} s  {first['articles_per_second']:7.1f} articles/s"
        f"  cpu {first['cpu_seconds']} s  peak {first['peak_memory_mb']} MB  ({first['summary']})"
    )
    print(
        f"  re-run     {again['seconds']:6.2f} s  cpu {again['cpu_seconds']} s"
        f"  peak {again['peak_memory_mb']} MB  ({again['summary']})"
    )
    figures["targets"] = {
        f"first run >= {FIRST_RUN_TARGET:g} articles/s": first["articles_per_second"]
        >= FIRST_RUN_TARGET,
        f"re-run < {RERUN_TARGET:g} s": again["seconds"] < RERUN_TARGET,
    }
    for label, ok in figures["targets"].items():
        print(f"  {'PASS' if ok else 'FAIL'}  {label}")
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=5000)
    parser.add_argument("--out", default=str(ROOT / "artifacts" / "bench-import.json"))
    parser.add_argument(
        "--package", type=Path, help="the folder of another newsdesk package, to compare"
    )
    parser.add_argument(
        "--cold",
        action="store_true",
        help="measure on a fresh DynamoDB Local (no warm-up import: its JIT compiles meanwhile)",
    )
    args = parser.parse_args()
    from scripts.bench import dynamodb_local  # make bench's DynamoDB Local, one setup

    with dynamodb_local() as endpoint:
        figures = run(args.pages, endpoint, args.package, 0 if args.cold else WARM_PAGES)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(figures, ensure_ascii=False, indent=1) + "\n", "utf-8")
    print(f"==> wrote {out}")
    return 0 if all(figures["targets"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
