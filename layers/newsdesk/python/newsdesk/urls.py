"""Where every link is built: the site's named routes and `url_for`, after Flask's.

Pages, feeds, redirects and the widget's API calls all get their URLs here; the templates
call the same `url_for` as a Jinja global (newsdesk.rendering). The route patterns are
template.yaml's HttpApi paths, written the same way (`{slug}`), and
tests/unit/test_urls.py fails when the two disagree.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import quote, urlencode

# name -> path pattern, exactly as the HttpApi events in template.yaml spell it.
ROUTES: dict[str, str] = {
    "home": "/",
    "article": "/articles/{slug}",
    "article_stats": "/articles/{slug}/stats",
    "category": "/categories/{category}",
    "feed": "/feed.xml",
    "sitemap": "/sitemap.xml",
    "robots": "/robots.txt",
    "api_article_views": "/api/articles/{slug}/views",
    "api_visits": "/api/visits",
    "api_stats": "/api/stats",
    "admin_article": "/api/admin/articles/{slug}",
    "admin_article_views": "/api/admin/articles/{slug}/views",
}

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")

# A path segment that is empty, "." or ".." would name another resource once a client
# removes dot segments (RFC 3986 section 5.2.4), percent-encoded or not.
_NOT_A_SEGMENT = frozenset({"", ".", ".."})


class BuildError(ValueError):
    """No URL can be built: an unknown route name, a missing path parameter, a path parameter
    that is empty, "." or "..", or a value that is neither text nor an integer."""


def path_parameters(name: str) -> tuple[str, ...]:
    """The path parameters of route `name`, in order: ("slug",) for "article".

    Raises BuildError for an unknown name.
    """
    try:
        pattern = ROUTES[name]
    except KeyError:
        raise BuildError(f"no route named {name!r}; known: {', '.join(ROUTES)}") from None
    return tuple(_PLACEHOLDER.findall(pattern))


def _text(name: str, value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise BuildError(f"{name}={value!r}: a URL parameter must be a string or an integer")
    return str(value)


def url_for(name: str, /, base_url: str = "", **params: str | int | None) -> str:
    """The URL of route `name`: a path ("/articles/so-ket"), or an absolute URL when
    `base_url` (scheme and host, e.g. "https://news.example"; a trailing "/" is dropped) is
    given.

    Parameters named in the route's pattern fill its path, each percent-encoded as one
    segment (RFC 3986 section 2.1: everything but the unreserved characters, "/" included,
    non-ASCII as UTF-8). The others, in the order given, form the query string
    ("?cursor=eyJ...%3D"), encoded the same way, spaces as %20; a None query value is left
    out, so an optional `cursor=None` adds nothing.

    Raises BuildError (a ValueError) as described there.
    """
    wanted = path_parameters(name)
    missing = [key for key in wanted if params.get(key) is None]
    if missing:
        raise BuildError(f"route {name!r} needs {', '.join(missing)}")
    segments = {}
    for key in wanted:
        value = _text(key, params[key])
        if value in _NOT_A_SEGMENT:
            raise BuildError(f"{key}={value!r} cannot be a path segment")
        segments[key] = quote(value, safe="")
    path = _PLACEHOLDER.sub(lambda match: segments[match.group(1)], ROUTES[name])
    query = [
        (key, _text(key, value))
        for key, value in params.items()
        if key not in segments and value is not None
    ]
    if query:
        path += "?" + urlencode(query, quote_via=quote)
    return base_url.rstrip("/") + path


# ---- other spellings of a page's URL -------------------------------------------------------

# The pages a reader or crawler may ask for (the JSON API's clients are programs, and get
# exactly what they ask for).
PAGES = tuple(name for name in ROUTES if not name.startswith(("api_", "admin_")))
# A folder's index file, as static sites and CMSs spell a folder's page.
_INDEX_FILES = frozenset({"index.html", "index.htm", "index.php"})
# Where other systems put the feed and the sitemap, for links and crawlers that still ask
# there after a move: WordPress (/feed/, /rss redirects there, core's /wp-sitemap.xml), Yoast
# SEO (/sitemap_index.xml), and the usual /rss.xml.
ALIASES = {
    "/feed": "feed",
    "/rss": "feed",
    "/rss.xml": "feed",
    "/wp-sitemap.xml": "sitemap",
    "/sitemap_index.xml": "sitemap",
}


def canonical_path(path: str, clean: Callable[[str], str | None]) -> str | None:
    """The one path of the page that `path` (decoded, as API Gateway passes rawPath) spells
    another way, or None when `path` is that path already or names no page.

    Other spellings: doubled or trailing slashes, a trailing index file (index.html,
    index.htm, index.php), route words in another case (/Articles/...), ALIASES, and path
    parameters that `clean` maps to their canonical form (newsdesk.slugs.canonical_slug:
    upper case, Vietnamese letters; None refuses the parameter, and so the path).
    Example: "/Articles/So-Ket/index.html" -> "/articles/so-ket". A WordPress site's
    permalinks, after a move from it (newsdesk.wxr keeps each post's post_name as its slug):
    see _wordpress_path.
    """
    segments = [segment for segment in path.split("/") if segment]
    if segments and segments[-1].lower() in _INDEX_FILES:
        segments.pop()
    alias = ALIASES.get("/" + "/".join(segments).lower())
    found = ROUTES[alias] if alias else _page_path(segments, clean)
    if found is None and path.endswith("/"):
        found = _wordpress_path(segments, clean)
    return None if found is None or found == path else found


# Path words of this site and of WordPress's own pages: never a WordPress post's name.
_NOT_POST_NAMES = frozenset(
    word.lower() for pattern in ROUTES.values() for word in pattern.split("/") if word
) | {"api", "feed", "page", "tag", "author", "search", "comments", "trackback", "embed"}
_YEAR, _TWO_DIGITS = re.compile(r"(?:19|20)\d\d"), re.compile(r"\d\d")


def _wordpress_path(segments: list[str], clean: Callable[[str], str | None]) -> str | None:
    """The page a WordPress permalink (which ends with "/") names: the post's name under
    the usual structures, "/%postname%/", "/%year%/%monthnum%/%day%/%postname%/",
    "/%year%/%monthnum%/%postname%/", "/%year%/%postname%/" -> its article; "/category/
    <name>/" (a subcategory: "/category/<parent>/<name>/") -> its category. None for
    anything else ("/?p=123" is a query, not a path: not mapped)."""
    if len(segments) >= 2 and segments[0].lower() == "category":
        category = clean(segments[-1])
        return url_for("category", category=category) if category else None
    dated = 0
    for segment, shape in zip(segments[:-1], (_YEAR, _TWO_DIGITS, _TWO_DIGITS), strict=False):
        if not shape.fullmatch(segment):
            break
        dated += 1
    if len(segments) != dated + 1:
        return None
    name = segments[-1]
    # WordPress never gives a post an all-digit name (it would read as a date archive).
    if name.isdigit() or name.lower() in _NOT_POST_NAMES or name.lower().startswith("wp-"):
        return None
    slug = clean(name)
    return url_for("article", slug=slug) if slug else None


def _page_path(segments: list[str], clean: Callable[[str], str | None]) -> str | None:
    """The path of the page whose route these segments match (route words in any case,
    parameters cleaned), or None."""
    for name in PAGES:
        words = [word for word in ROUTES[name].split("/") if word]
        if len(words) != len(segments):
            continue
        params: dict[str, str] = {}
        for word, segment in zip(words, segments, strict=True):
            match = _PLACEHOLDER.fullmatch(word)
            value = clean(segment) if match else None
            if match and value:
                params[match.group(1)] = value
            elif match or word != segment.lower():
                break
        else:
            return url_for(name, **params)
    return None


# A character a URL cannot carry as it is (RFC 3986 section 2: only ASCII graphics, and "%"
# only before two hex digits; the HTML standard's "valid URL string" follows the URL
# Standard, whose parser percent-encodes the rest): a space, a non-ASCII letter, a bare %,
# a quote or < > \\ ^ ` { | }.
_BARE_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")  # a "%" that starts no escape
_UNCARRIED = re.compile(rf'[^\x21-\x7e]|{_BARE_PERCENT.pattern}|["<>\\^`{{|}}]')
_C0_AND_SPACE = "".join(map(chr, range(0x21)))
_TAB_OR_NEWLINE = re.compile("[\t\n\r]")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")
# What stays as written: RFC 3986's reserved and unreserved characters and "%" (requests'
# requote_uri keeps the same set).
_URL_SAFE = "!#$%&'()*+,/:;=?@[]~"


def encoded_url(url: str) -> str:
    """A URL (absolute, protocol-relative or relative: an article's picture, a link) with
    what it cannot carry percent-encoded as UTF-8 ("a b.jpg" -> "a%20b.jpg", "ả" ->
    "%E1%BA%A3", a bare "%" -> "%25"), cleaned as the URL Standard's parser cleans it;
    everything else, its host and its escapes included, is left as written. Never raises."""
    if _UNCARRIED.search(url) is None:
        return url
    # The URL Standard's parser: leading and trailing C0 controls and spaces go (only those:
    # str.strip() would also take a no-break space, after the sanitiser judged the value a
    # relative URL, and leave "javascript:..."), tabs and newlines anywhere go, and in an
    # http(s) or relative URL a backslash is a slash.
    url = _TAB_OR_NEWLINE.sub("", url.strip(_C0_AND_SPACE))
    scheme = _SCHEME.match(url)
    if scheme is None or scheme[1].lower() in ("http", "https"):
        url = url.replace("\\", "/")
    return quote(_BARE_PERCENT.sub("%25", url), safe=_URL_SAFE)
