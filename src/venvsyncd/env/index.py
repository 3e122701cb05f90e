"""What a package index says a release's files hash to, for hash-pinned requirements files.

pip-compile `--generate-hashes`, Dependabot and Renovate give a pin one `--hash=sha256:...` for
every distribution file of the release (each wheel and the sdist), so the file installs on any
platform. The hashes come from the simple API (PEP 691 JSON, else PEP 503 HTML, whose links
carry `#sha256=`), of every index pip would look in: the `--index-url` and
`--extra-index-url`s, and the `--find-links` pages and folders (`Sources`). A file an index
lists without a sha256 is fetched and hashed, as pip-compile does.

Any failure to reach an index is `IndexUnreachable`: nothing may be written from half an
answer, and the sync is tried again later. Runs in the engine's round, never in the daemon's
event path; `urllib.request` is imported only here, and only when a lookup happens.
"""

from __future__ import annotations

import base64
import hashlib
import html.parser
import json
import os
import re
import urllib.parse
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    canonicalize_version,
    parse_sdist_filename,
    parse_wheel_filename,
)

from venvsyncd.errors import ProjectError

if TYPE_CHECKING:
    import urllib.request

PYPI = "https://pypi.org/simple/"
TIMEOUT = 15.0  # seconds for one request; pip's default is 15 too
_ACCEPT = (
    "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, "
    "text/html;q=0.01"
)
_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")


class IndexUnreachable(ProjectError):
    """An index or find-links page could not be read: nothing is written, and the sync is
    tried again at the daemon's next rescan (or the next `venvsyncd sync`)."""


class Sources(NamedTuple):
    """Where pip looks for a release: index URLs (the first is the `--index-url`, none with
    `--no-index`) and find-links pages or folders."""

    indexes: tuple[str, ...]
    find_links: tuple[str, ...] = ()


class _Listed(NamedTuple):
    filename: str
    url: str
    sha256: str | None


def sources_from(file_argv: Sequence[str], config: Mapping[str, str]) -> Sources:
    """Where pip looks, as pip works it out: the installer's configuration (`config`:
    `index-url`, `extra-index-url`, `find-links`, `no-index` as pip names them, lists
    separated by whitespace), then the file's options (`RequirementsFile.options()` argv) in
    order: `--index-url` replaces the indexes so far, `--no-index` drops them, and
    `--extra-index-url` and `--find-links` add to them."""
    indexes = [config.get("index-url") or PYPI, *config.get("extra-index-url", "").split()]
    if config.get("no-index", "").lower() in ("1", "true", "yes", "on"):
        indexes = []
    links = config.get("find-links", "").split()
    values = iter(file_argv)
    for flag in values:
        if flag in ("--index-url", "-i"):
            indexes = [next(values, PYPI)]
        elif flag == "--no-index":
            indexes = []
        elif flag == "--extra-index-url":
            indexes.append(next(values, ""))
        elif flag in ("--find-links", "-f"):
            links.append(next(values, ""))
    unique = tuple(dict.fromkeys(filter(None, indexes)))
    return Sources(unique, tuple(dict.fromkeys(filter(None, links))))


def release_hashes(sources: Sources, name: str, version: str) -> tuple[str, ...]:
    """`sha256:<hex>` of every file of `name==version` the sources list, sorted; none when
    no source lists that release. `IndexUnreachable` when a source cannot be read."""
    listed = [f for page in _pages(sources, name) for f in page if _is_release(f, name, version)]
    found = {f.filename: f for f in listed}  # an index and a mirror may list the same file
    with ThreadPoolExecutor(max_workers=4) as pool:
        digests = pool.map(_sha256_of, found.values())
        return tuple(sorted({f"sha256:{digest}" for digest in digests}))


def releases_hashes(
    sources: Sources, releases: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], tuple[str, ...]]:
    """`release_hashes` of each (name, version), a few at a time."""
    wanted = list(dict.fromkeys(releases))
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = pool.map(lambda release: release_hashes(sources, *release), wanted)
        return dict(zip(wanted, answers, strict=True))


def _pages(sources: Sources, name: str) -> list[list[_Listed]]:
    project = canonicalize_name(name)
    pages = [_index_page(f"{index.rstrip('/')}/{project}/") for index in sources.indexes]
    for link in sources.find_links:
        local = _local_folder(link)
        pages.append(_folder_files(local) if local is not None else _index_page(link))
    return pages


def _is_release(listed: _Listed, name: str, version: str) -> bool:
    """Is `listed` a wheel or sdist of `name==version` (versions compared as pip does)?"""
    try:
        if listed.filename.endswith(".whl"):
            found_name, found_version, _, _ = parse_wheel_filename(listed.filename)
        else:
            found_name, found_version = parse_sdist_filename(listed.filename)
    except (InvalidWheelFilename, InvalidSdistFilename):
        return False
    same = canonicalize_version(found_version) == canonicalize_version(version)
    return found_name == canonicalize_name(name) and same


def _local_folder(link: str) -> Path | None:
    if link.startswith("file:"):
        link = urllib.parse.unquote(urllib.parse.urlsplit(link).path)
    elif "://" in link:
        return None
    path = Path(link)
    return path if path.is_dir() else None


def _folder_files(folder: Path) -> list[_Listed]:
    return [_Listed(p.name, p.as_uri(), None) for p in sorted(folder.iterdir()) if p.is_file()]


def _index_page(url: str) -> list[_Listed]:
    """The files a simple-API project page (or a find-links page) lists; none for a 404."""
    import urllib.error

    try:
        with _open(url, _ACCEPT) as response:
            kind = response.headers.get_content_type()
            body = response.read()
            base = response.geturl()
    except urllib.error.HTTPError as exc:
        if exc.code in (404, 410):
            return []  # this index does not have the project
        raise _unreachable(url, f"HTTP {exc.code} {exc.reason}") from exc
    except (OSError, ValueError) as exc:
        raise _unreachable(url, str(getattr(exc, "reason", exc))) from exc
    if kind == "application/vnd.pypi.simple.v1+json":
        return _json_files(body, base, url)
    return _html_files(body.decode("utf-8", "replace"), base)


def _json_files(body: bytes, base: str, url: str) -> list[_Listed]:
    """PEP 691: `{"files": [{"filename", "url", "hashes": {"sha256": ...}}, ...]}`."""
    try:
        files = json.loads(body)["files"]
        return [
            _Listed(
                str(f["filename"]),
                urllib.parse.urljoin(base, str(f["url"])),
                _valid(f.get("hashes", {}).get("sha256")),
            )
            for f in files
        ]
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise _unreachable(url, "its answer is not the PEP 691 JSON it claims to be") from exc


class _Anchors(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        href = dict(attrs).get("href") if tag == "a" else None
        if href:
            self.hrefs.append(href)


def _html_files(text: str, base: str) -> list[_Listed]:
    """PEP 503: each `<a href="URL#sha256=...">`; the file name is the URL path's last part."""
    anchors = _Anchors()
    anchors.feed(text)
    listed = []
    for href in anchors.hrefs:
        url, _, fragment = urllib.parse.urljoin(base, href).partition("#")
        filename = urllib.parse.unquote(urllib.parse.urlsplit(url).path.rsplit("/", 1)[-1])
        algorithm, _, digest = fragment.partition("=")
        listed.append(_Listed(filename, url, _valid(digest) if algorithm == "sha256" else None))
    return listed


def _valid(digest: object) -> str | None:
    return digest.lower() if isinstance(digest, str) and _SHA256_RE.match(digest.lower()) else None


def _sha256_of(listed: _Listed) -> str:
    """The file's sha256: as listed, else of its bytes (fetched, or read from a folder)."""
    if listed.sha256 is not None:
        return listed.sha256
    digest = hashlib.sha256()
    try:
        with _open(listed.url, "*/*") as response:
            while chunk := response.read(1 << 20):
                digest.update(chunk)
    except (OSError, ValueError) as exc:
        raise _unreachable(listed.url, str(getattr(exc, "reason", exc))) from exc
    return digest.hexdigest()


def _open(url: str, accept: str) -> urllib.request._UrlopenRet:
    """GET `url` (credentials in it sent as basic auth, as pip sends them)."""
    import urllib.request

    parts = urllib.parse.urlsplit(url)
    headers = {"Accept": accept, "User-Agent": "venvsyncd (hash lookup)"}
    if parts.username is not None:
        user = urllib.parse.unquote(parts.username)
        secret = urllib.parse.unquote(parts.password or "")
        token = base64.b64encode(f"{user}:{secret}".encode()).decode()
        headers["Authorization"] = f"Basic {token}"
        url = parts._replace(netloc=parts.hostname or "").geturl()
        if parts.port is not None:
            url = parts._replace(netloc=f"{parts.hostname}:{parts.port}").geturl()
    request = urllib.request.Request(url, headers=headers)
    return urllib.request.urlopen(request, timeout=TIMEOUT)


def _unreachable(url: str, why: str) -> IndexUnreachable:
    shown = _without_password(url)
    return IndexUnreachable(
        f"could not read {shown} ({why}) to find the hashes the hash-pinned file needs; "
        "nothing was written, and venvsyncd tries again",
        hint="check the network and the index URL, or run `venvsyncd sync` once it is back",
    )


def _without_password(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    if parts.password is None:
        return url
    return parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":****@")).geturl()


def pip_config(lines: str) -> dict[str, str]:
    """The install settings of `pip config list` output (`global.index-url='...'`): per key,
    the environment's value over the `install` section's over the `global` one's."""
    rank = {"global": 0, "install": 1, ":env:": 2}
    found: dict[str, tuple[int, str]] = {}
    for line in lines.splitlines():
        match = re.match(r"^([^.\s]+)\.([\w-]+)='(.*)'$", line.strip())
        if match is None or match[1] not in rank:
            continue
        level = rank[match[1]]
        if level >= found.get(match[2], (-1, ""))[0]:
            found[match[2]] = (level, match[3])
    return {key: value for key, (_, value) in found.items()}


def uv_config(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """uv's index settings from its environment variables, in pip's names."""
    environ = os.environ if environ is None else environ
    config = {}
    index = environ.get("UV_DEFAULT_INDEX") or environ.get("UV_INDEX_URL")
    if index:
        config["index-url"] = index
    extra = " ".join(filter(None, (environ.get("UV_INDEX"), environ.get("UV_EXTRA_INDEX_URL"))))
    if extra:
        config["extra-index-url"] = extra
    if environ.get("UV_FIND_LINKS"):
        config["find-links"] = environ["UV_FIND_LINKS"].replace(",", " ")
    if environ.get("UV_NO_INDEX"):
        config["no-index"] = environ["UV_NO_INDEX"]
    return config
