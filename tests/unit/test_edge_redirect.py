"""One URL per page at the edge (issue 14, item 9): the CloudFront Function of the optional
distribution (template.yaml, CanonicalPathFunction) answers the spellings the function never
sees - API Gateway's HTTP API hands it a decoded path, so `/article%73/x` arrives as
`/articles/x` - with a 301 to the page's one URL.

The function's code is read from template.yaml and run under Node (the npm that fetches
DynamoDB Local brings it), with viewer-request events shaped as CloudFront documents them
(https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/functions-event-structure.html).
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from newsdesk.slugs import canonical_slug
from newsdesk.urls import canonical_path

from local.tables import load_template

ROOT = Path(__file__).resolve().parents[2]
SEED = 14
DECODED = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_~"  # and /

# Runs the template's code on each event read from stdin; prints what each returned.
HARNESS = """
const input = JSON.parse(require("fs").readFileSync(0, "utf-8"));
const handler = new Function(input.code + "\\nreturn handler;")();
process.stdout.write(JSON.stringify(input.events.map((event) => handler(event))));
"""


@cache
def edge_code() -> str:
    resources = load_template(ROOT / "template.yaml")["Resources"]
    code = resources["CanonicalPathFunction"]["Properties"]["FunctionCode"]
    assert isinstance(code, str)
    return code


def viewer_request(uri: str, method: str = "GET", query: str = "") -> dict[str, Any]:
    """A viewer-request event: `query` as the viewer sent it ("a=1&a=2&b=")."""
    querystring: dict[str, Any] = {}
    for pair in filter(None, query.split("&")):
        key, _, value = pair.partition("=")
        if key in querystring:
            entry = querystring[key]
            entry.setdefault("multiValue", [{"value": entry["value"]}]).append({"value": value})
        else:
            querystring[key] = {"value": value}
    return {
        "version": "1.0",
        "context": {"eventType": "viewer-request"},
        "viewer": {"ip": "198.51.100.11"},
        "request": {"method": method, "uri": uri, "querystring": querystring, "headers": {}},
    }


def run_edge(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    node = shutil.which("node")
    assert node, "node not found: make test installs npm, which brings it (scripts/system-deps.sh)"
    out = subprocess.run(
        [node, "-e", HARNESS],
        input=json.dumps({"code": edge_code(), "events": events}),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    results: list[dict[str, Any]] = json.loads(out.stdout)
    return results


def location(answer: dict[str, Any]) -> str | None:
    """The 301's Location, or None when the request goes on to the origin."""
    if "statusCode" not in answer:
        return None
    assert answer["statusCode"] == 301
    return str(answer["headers"]["location"]["value"])


@pytest.mark.parametrize(
    ("uri", "query", "moved_to"),
    [
        ("//articles/so-ket", "", "/articles/so-ket"),
        ("/article%73/so-ket", "", "/articles/so-ket"),
        ("/%61rticles/so%2Dket", "", "/articles/so-ket"),
        ("/articles%2Fso-ket", "", "/articles/so-ket"),
        ("/articles//so-ket///stats", "", "/articles/so-ket/stats"),
        ("//", "", "/"),
        ("//categories/thoi-su", "cursor=eyJwIjoyfQ&utm_source=zalo", "/categories/thoi-su"),
        ("//feed.xml", "", "/feed.xml"),
        ("/articles/so-ket//", "", "/articles/so-ket"),  # one hop, not two
    ],
)
def test_a_spelling_the_origin_cannot_see_is_moved_at_the_edge(
    uri: str, query: str, moved_to: str
) -> None:
    [answer] = run_edge([viewer_request(uri, query=query)])
    assert location(answer) == moved_to + (f"?{query}" if query else "")
    assert answer["headers"]["cache-control"]["value"] == "max-age=3600"


def test_a_repeated_query_parameter_is_kept_whole() -> None:
    [answer] = run_edge([viewer_request("//", query="tag=a&tag=b&empty=")])
    assert location(answer) == "/?tag=a&tag=b&empty="


@pytest.mark.parametrize(
    "uri",
    [
        "/",
        "/articles/so-ket",
        "/articles/so-ket/stats",
        # Not the edge's: API Gateway decodes these and the function redirects what it gets
        # (a space, Vietnamese letters, upper case: tests/unit/test_canonical_urls.py).
        "/articles/s%C6%A1-k%E1%BA%BFt",
        "/articles/so%20ket",
        "/Articles/So-Ket/",
        "/articles/100%25",
        # decoding %2E could make a ".." segment; a bare % could make a new escape
        "/articles/%2e%2e/%2E%2E/admin",
        "/a%%34%31",
        "/a%2%41",
        # a Location of a slash and a backslash is "//" to a browser: another host
        "//\\evil.example/x",
    ],
)
def test_a_spelling_the_origin_sees_goes_on_to_it(uri: str) -> None:
    [answer] = run_edge([viewer_request(uri)])
    assert location(answer) is None
    assert answer["uri"] == uri


@pytest.mark.parametrize("method", ["POST", "PUT", "OPTIONS"])
def test_only_get_and_head_are_redirected(method: str) -> None:
    [answer] = run_edge([viewer_request("//api/articles", method=method)])
    assert location(answer) is None


def spelled_otherwise(path: str, rng: random.Random) -> str:
    """`path` with some unreserved characters (not ".") and slashes percent-encoded, some
    slashes doubled: a spelling a link checker, a hand-edited link or a crawler may send."""
    out = []
    for character in path:
        roll = rng.random()
        if character in DECODED + "/" and roll < 0.3:
            hex_digits = f"{ord(character):02X}"
            out.append("%" + (hex_digits.lower() if rng.random() < 0.5 else hex_digits))
        elif character == "/" and roll < 0.5:
            out.append("/" * rng.randint(2, 3))
        else:
            out.append(character)
    return "".join(out)


def test_every_spelling_ends_at_the_one_url_in_one_hop() -> None:
    """Through the distribution: the edge's 301, then API Gateway decoding the path and the
    function's canonical_path. Without the edge, most of these spellings would be served
    as they are (the gap this function closes)."""
    rng = random.Random(SEED)
    pages = [
        "/",
        "/articles/so-ket-chuong-trinh-phoi-hop",
        "/articles/bao-lon-do-bo-mien-trung-x7k2/stats",
        "/categories/thoi-su",
        "/feed.xml",
        "/sitemap.xml",
        "/robots.txt",
    ]
    cases = [(page, spelled_otherwise(page, rng)) for page in pages for _ in range(40)]
    cases = [(page, spelling) for page, spelling in cases if spelling != page]
    answers = run_edge([viewer_request(spelling) for _, spelling in cases])
    served_as_is = 0
    for (page, spelling), answer in zip(cases, answers, strict=True):
        assert location(answer) == page, spelling
        # API Gateway would hand the function unquote(spelling); its own redirect rule
        # would have left these alone:
        origin_sees = unquote(spelling)
        served_as_is += canonical_path(origin_sees, canonical_slug) in (None, origin_sees)
    assert len(cases) > 200
    assert served_as_is > 0
    # The Location itself is the page's URL: asked for again, it goes on to the origin.
    again = run_edge([viewer_request(page) for page in pages])
    assert all(location(answer) is None for answer in again)
