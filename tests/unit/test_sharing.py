"""What a shared link and a search engine read from a page (issue 14, item 11): the share
picture, Open Graph and X card tags, article:* times, section and author, the schema.org
NewsArticle JSON-LD (parsed, not grepped), the feed discovery link, and the site's default
picture setting (SITE_IMAGE_URL) with its validation."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from newsdesk import rendering, sharing
from newsdesk.articles import Article, Listing
from newsdesk.config import SETTINGS, ConfigError, from_env, settings

from tests.html_markup import Markup

BASE = "https://news.example"
TABLES = {"ARTICLES_TABLE": "a", "COUNTERS_TABLE": "c", "CONNECTIONS_TABLE": "v"}
HOSTILE_TITLE = 'Bão số 9 </script><script>alert(1)</script> & "lũ" <!-- ợ'
PUBLISHED = datetime(2018, 11, 27, 1, 12, tzinfo=UTC)
EDITED = datetime(2018, 11, 28, 3, 4, 5, tzinfo=UTC)
ARTICLE = Article(
    slug="bao-so-9",
    title=HOSTILE_TITLE,
    published_at=PUBLISHED,
    body=("Đoạn một.",),
    byline="Nguyễn Văn A",
    summary="Tóm tắt.",
    category="Thời sự",
    body_html=(
        '<p>Mở đầu.</p><figure><img src="/uploads/2018/bao.jpg" alt="Mưa lớn"></figure>'
        '<p><img src="https://cdn.example/second.jpg" alt=""></p>'
    ),
    edited_at=EDITED,
)


@pytest.fixture(autouse=True)
def site_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in TABLES.items():
        monkeypatch.setenv(name, value)
    for name in ("SITE_IMAGE_URL", "SITE_NAME", "LOCALE", "SITE_URL"):
        monkeypatch.delenv(name, raising=False)
    settings.cache_clear()
    yield
    settings.cache_clear()


def article_page(article: Article) -> str:
    canonical = f"{BASE}/articles/{article.slug}"
    image = sharing.picture(article, BASE)
    return rendering.render(
        "article.html",
        base_url=BASE,
        article=article,
        views=9575,
        canonical=canonical,
        share_image=image,
        json_ld=sharing.json_ld(sharing.news_article(article, canonical, image, "vi")),
        categories=[],
    )


def meta(html: str) -> dict[str, str]:
    """property= or name= -> content of every <meta> (the first of each)."""
    found: dict[str, str] = {}
    for attrs in Markup(html).all("meta"):
        key = attrs.get("property") or attrs.get("name")
        if key and key not in found:
            found[key] = attrs.get("content", "")
    return found


def json_ld_blocks(html: str) -> list[dict[str, object]]:
    markup = Markup(html, text_of=("script",))
    scripts = [attrs for tag, attrs in markup.tags() if tag == "script"]
    texts = markup.text["script"]
    assert len(scripts) == len(texts)
    return [
        json.loads(text)
        for attrs, text in zip(scripts, texts, strict=True)
        if attrs.get("type") == "application/ld+json"
    ]


def parse_time(value: object) -> datetime:
    assert isinstance(value, str)
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    assert moment.tzinfo is not None, f"{value} has no time zone"
    return moment


def test_an_article_has_a_newsarticle_json_ld_that_parses_back() -> None:
    html = article_page(ARTICLE)
    (data,) = json_ld_blocks(html)
    assert data["@context"] == "https://schema.org"
    assert data["@type"] == "NewsArticle"
    assert data["headline"] == HOSTILE_TITLE  # the text as stored, escaping undone by JSON
    assert data["description"] == "Tóm tắt."
    canonical = f"{BASE}/articles/bao-so-9"
    assert data["url"] == canonical
    assert data["mainEntityOfPage"] == {"@type": "WebPage", "@id": canonical}
    assert parse_time(data["datePublished"]) == PUBLISHED
    assert parse_time(data["dateModified"]) == EDITED
    assert data["author"] == {"@type": "Person", "name": "Nguyễn Văn A"}
    assert data["publisher"] == {"@type": "Organization", "name": "newsdesk"}
    assert data["image"] == [f"{BASE}/uploads/2018/bao.jpg"]
    assert data["articleSection"] == "Thời sự"
    assert data["inLanguage"] == "vi"


def test_no_title_can_close_the_json_ld_script() -> None:
    """The hostile title's </script> and <!-- stay inside the data block: one script
    element holds the whole JSON, and no other script appears."""
    html = article_page(ARTICLE)
    block = html.split('<script type="application/ld+json">', 1)[1].split("</script>", 1)[0]
    assert "<" not in block and ">" not in block and "&" not in block
    scripts = [attrs for tag, attrs in Markup(html).tags() if tag == "script"]
    assert [attrs.get("type") for attrs in scripts] == ["application/ld+json", None]
    assert scripts[1]["id"] == "nd-widget"


def test_an_article_shares_its_first_picture_and_its_times_section_and_author() -> None:
    tags = meta(article_page(ARTICLE))
    assert tags["og:type"] == "article"
    assert tags["og:title"] == HOSTILE_TITLE
    assert tags["og:url"] == f"{BASE}/articles/bao-so-9"
    assert tags["og:image"] == f"{BASE}/uploads/2018/bao.jpg"  # absolute, as Open Graph asks
    assert tags["og:image:alt"] == "Mưa lớn"
    assert tags["twitter:card"] == "summary_large_image"
    assert parse_time(tags["article:published_time"]) == PUBLISHED
    assert parse_time(tags["article:modified_time"]) == EDITED
    assert tags["article:section"] == "Thời sự"
    assert tags["article:author"] == "Nguyễn Văn A"


def test_every_page_links_its_feed() -> None:
    links = Markup(article_page(ARTICLE)).all("link")
    feeds = [link for link in links if link.get("rel") == "alternate"]
    assert feeds == [
        {
            "rel": "alternate",
            "type": "application/rss+xml",
            "title": "newsdesk",
            "href": f"{BASE}/feed.xml",
        }
    ]


def test_without_a_picture_the_sites_default_is_shared(monkeypatch: pytest.MonkeyPatch) -> None:
    plain = Article(slug="tin", title="Tin", published_at=PUBLISHED, body=("Một.",))
    tags = meta(article_page(plain))
    assert "og:image" not in tags and tags["twitter:card"] == "summary"
    assert "image" not in json_ld_blocks(article_page(plain))[0]
    # Without a byline the site is the author; a never-edited article's modified time is
    # its publish time.
    data = json_ld_blocks(article_page(plain))[0]
    assert data["author"] == {"@type": "Organization", "name": "newsdesk"}
    assert parse_time(data["dateModified"]) == PUBLISHED
    assert "articleSection" not in data and "article:section" not in tags

    monkeypatch.setenv("SITE_IMAGE_URL", "https://cdn.example/share.png")
    settings.cache_clear()
    tags = meta(article_page(plain))
    assert tags["og:image"] == "https://cdn.example/share.png"
    assert tags["og:image:alt"] == "newsdesk"
    assert tags["twitter:card"] == "summary_large_image"
    assert json_ld_blocks(article_page(plain))[0]["image"] == ["https://cdn.example/share.png"]


@pytest.mark.parametrize(
    "body_html",
    [
        '<img src="data:image/png;base64,AAAA">',  # not a URL a previewer can fetch
        '<img alt="no source">',
        "<p>No picture.</p>",
    ],
)
def test_only_a_fetchable_picture_is_shared(body_html: str) -> None:
    article = Article(slug="a", title="A", published_at=PUBLISHED, body_html=body_html)
    assert sharing.picture(article, BASE) is None


def test_a_list_page_shares_the_default_picture_and_has_no_json_ld(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SITE_IMAGE_URL", "https://cdn.example/share.png")
    settings.cache_clear()
    html = rendering.render(
        "index.html",
        base_url=BASE,
        listing=Listing([ARTICLE], next_cursor=None, views={}, page=1),
        cursor=None,
        canonical=f"{BASE}/",
        share_image=sharing.picture(None, BASE),
        categories=[],
    )
    tags = meta(html)
    assert tags["og:image"] == "https://cdn.example/share.png"
    assert tags["og:type"] == "website" and tags["twitter:card"] == "summary_large_image"
    assert json_ld_blocks(html) == []


def test_an_edit_before_the_publish_time_is_not_a_modification() -> None:
    scheduled = Article(slug="s", title="S", published_at=EDITED, edited_at=PUBLISHED)
    assert scheduled.modified_at == EDITED
    assert Article(slug="s", title="S", published_at=PUBLISHED).modified_at == PUBLISHED


def test_the_edit_time_is_not_part_of_the_content() -> None:
    """Reading an article back (with its stored version) must not make it look changed to
    the importer, which compares content hashes."""
    plain = Article(slug="s", title="S", published_at=PUBLISHED)
    read_back = Article(slug="s", title="S", published_at=PUBLISHED, edited_at=EDITED)
    assert read_back.content_hash() == plain.content_hash()
    assert read_back == plain


# ---- the SITE_IMAGE_URL setting (template parameter SiteImageUrl) ---------------------------

IMAGE = next(setting for setting in SETTINGS if setting.env == "SITE_IMAGE_URL")


@pytest.mark.parametrize(
    "value",
    ["", "https://cdn.example/share.png", "http://news.example/a/b.jpg?v=2&x=ợ"],
)
def test_the_default_picture_is_an_absolute_http_url(value: str) -> None:
    assert from_env({**TABLES, "SITE_IMAGE_URL": value}).site_image_url == value


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("/static/share.png", "is not allowed"),  # a previewer needs an absolute URL
        ("ftp://cdn.example/share.png", "is not allowed"),
        ("javascript:alert(1)", "is not allowed"),
        ("https://cdn.example/a b.png", "is not allowed"),
        ("https://cdn.example/\u0001.png", "is not allowed"),
        ("https://cdn.example/" + "a" * 2048, "is too long"),
    ],
)
def test_anything_else_is_refused_naming_the_parameter(value: str, why: str) -> None:
    with pytest.raises(ConfigError) as caught:
        from_env({**TABLES, "SITE_IMAGE_URL": value})
    (message,) = caught.value.problems
    assert message.startswith("SITE_IMAGE_URL=")
    assert message.endswith(
        f" {why}: allowed an absolute http:// or https:// URL, at most 2048 characters "
        "(template parameter SiteImageUrl)"
    )
    assert IMAGE.parameter == "SiteImageUrl"


def test_a_picture_stored_with_a_space_in_its_url_is_shared_encoded() -> None:
    """og:image and the JSON-LD image are URLs (the HTML checker rejects a space in one):
    an article stored before the sanitiser encoded URLs still shares a valid one."""
    article = Article(
        slug="a",
        title="A",
        published_at=PUBLISHED,
        body_html='<p><img src="/uploads/ảnh bão.jpg" alt="Bão"></p>',
    )
    page = article_page(article)
    expected = f"{BASE}/uploads/%E1%BA%A3nh%20b%C3%A3o.jpg"
    assert meta(page)["og:image"] == expected
    assert json_ld_blocks(page)[0]["image"] == [expected]
