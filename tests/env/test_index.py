"""Where the hashes of a release come from (env/index.py): the indexes pip would use, and
what the simple API (PEP 503 HTML, PEP 691 JSON) and find-links folders say, against a real
index on 127.0.0.1."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from testing.attacks import SimpleIndex
from testing.wheelhouse import build_wheel
from venvsyncd.env.index import (
    PYPI,
    IndexUnreachable,
    Sources,
    pip_config,
    release_hashes,
    sources_from,
    uv_config,
)

SOURCES_CASES: list[tuple[str, list[str], dict[str, str], Sources]] = [
    ("default", [], {}, Sources((PYPI,))),
    ("config", [], {"index-url": "https://a/simple", "extra-index-url": "https://b https://c"},
     Sources(("https://a/simple", "https://b", "https://c"))),
    ("the file's index replaces the config's", ["--index-url", "https://f/simple"],
     {"index-url": "https://a", "extra-index-url": "https://b"}, Sources(("https://f/simple",))),
    ("extra adds", ["--extra-index-url", "https://e"], {"index-url": "https://a"},
     Sources(("https://a", "https://e"))),
    ("no index in the file", ["--no-index", "--find-links", "/w"], {"index-url": "https://a"},
     Sources((), ("/w",))),
    ("no index in the config", ["-i", "https://f"], {"no-index": "1", "find-links": "/w"},
     Sources(("https://f",), ("/w",))),
    ("other options pass by", ["--trusted-host", "h", "--pre", "-c", "/c.txt"], {},
     Sources((PYPI,))),
]  # fmt: skip


@pytest.mark.parametrize(
    ("argv", "config", "expected"),
    [c[1:] for c in SOURCES_CASES],
    ids=[c[0] for c in SOURCES_CASES],
)
def test_sources_as_pip_works_them_out(
    argv: list[str], config: dict[str, str], expected: Sources
) -> None:
    assert sources_from(argv, config) == expected


def test_pip_config_list_environment_over_install_over_global() -> None:
    listed = (
        "global.index-url='https://global'\n"
        "global.timeout='60'\n"
        "install.index-url='https://install'\n"
        ":env:.extra-index-url='https://extra'\n"
        "global.extra-index-url='https://ignored'\n"
        "site.find-links='/not-an-install-section'\n"
    )
    assert pip_config(listed) == {
        "index-url": "https://install",
        "timeout": "60",
        "extra-index-url": "https://extra",
    }


def test_uv_variables_in_pip_s_names() -> None:
    environ = {"UV_DEFAULT_INDEX": "https://d", "UV_INDEX": "https://x", "UV_FIND_LINKS": "/a,/b"}
    assert uv_config(environ) == {
        "index-url": "https://d",
        "extra-index-url": "https://x",
        "find-links": "/a /b",
    }


@pytest.fixture(params=["html", "json", "html-no-hashes"])
def index(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SimpleIndex]:
    folder = tmp_path / "files"
    folder.mkdir()
    build_wheel(folder, "Some_Pkg", "1.0")
    build_wheel(folder, "some-pkg", "1.1")
    (folder / "some_pkg-1.0.tar.gz").write_bytes(b"sdist")
    served = SimpleIndex(folder, hashes=request.param != "html-no-hashes")
    served.json_api = request.param == "json"
    yield served
    served.close()


def sha256s(folder: Path, *names: str) -> tuple[str, ...]:
    return tuple(
        sorted(f"sha256:{hashlib.sha256((folder / n).read_bytes()).hexdigest()}" for n in names)
    )


def test_every_file_of_the_release_and_no_other(index: SimpleIndex) -> None:
    """Listed with its hash or not (then fetched and hashed), names and versions compared as
    pip compares them."""
    expected = sha256s(index.folder, "Some_Pkg-1.0-py3-none-any.whl", "some_pkg-1.0.tar.gz")
    assert release_hashes(Sources((index.simple,)), "some.pkg", "1.0.0") == expected
    assert release_hashes(Sources((index.simple,)), "other", "1.0") == ()  # a 404: not there


def test_a_find_links_folder(tmp_path: Path) -> None:
    build_wheel(tmp_path, "pkg", "2.0")
    expected = sha256s(tmp_path, "pkg-2.0-py3-none-any.whl")
    assert release_hashes(Sources((), (str(tmp_path),)), "pkg", "2.0") == expected
    assert release_hashes(Sources((), (tmp_path.as_uri(),)), "pkg", "2.0") == expected


def test_an_index_out_of_reach_says_so_and_hides_a_password(tmp_path: Path) -> None:
    served = SimpleIndex(tmp_path)
    url = served.url.replace("http://", "http://me:s3cret@") + "/simple"
    served.close()  # nothing listens any more
    with pytest.raises(IndexUnreachable) as info:
        release_hashes(Sources((url,)), "pkg", "1.0")
    assert "s3cret" not in info.value.message
    assert "127.0.0.1" in info.value.message


def test_an_answer_that_is_no_index_page_is_unreachable(tmp_path: Path) -> None:
    served = SimpleIndex(tmp_path, json_api=True)
    served.page = lambda path, wants_json=False: b"not json" if "pkg" in path else None  # type: ignore[method-assign]
    try:
        with pytest.raises(IndexUnreachable):
            release_hashes(Sources((served.simple,)), "pkg", "1.0")
    finally:
        served.close()
