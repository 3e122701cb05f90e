"""The editor: "preserve" edits change only the lines that must change, byte for byte."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from packaging.utils import canonicalize_name

from venvsyncd.env.dists import FrozenDist
from venvsyncd.errors import ProjectError
from venvsyncd.requirements.edit import EnvDelta, apply_pip_style, apply_preserve, render_change
from venvsyncd.requirements.file import parse_requirements

SOURCE = Path("/project/requirements.txt")
BOM = codecs.BOM_UTF8
ENV = {"python_version": "3.11", "python_full_version": "3.11.9", "sys_platform": "linux"}


def dist(
    raw_name: str,
    version: str,
    *lines: str,
    editable: bool = False,
    url: str | None = None,
) -> FrozenDist:
    return FrozenDist(
        canonicalize_name(raw_name),
        raw_name,
        version,
        lines or (f"{raw_name}=={version}",),
        editable,
        url,
    )


def edit(before: bytes, delta: EnvDelta) -> bytes:
    return apply_preserve(parse_requirements(before, SOURCE), delta, ENV).to_bytes()


def changed(*dists: FrozenDist) -> EnvDelta:
    return EnvDelta(changed=dists)


def added(*dists: FrozenDist) -> EnvDelta:
    return EnvDelta(added=dists)


def removed(*names: str) -> EnvDelta:
    return EnvDelta(removed=names)


EDITOR_CASES: list[tuple[str, bytes, EnvDelta, bytes]] = [
    # --- a changed package: the pin moves, everything else stays
    ("pin", b"alpha==1.0\n", changed(dist("alpha", "2.0")), b"alpha==2.0\n"),
    ("pin-spaced-comment", b"alpha == 1.0  # pinned\n", changed(dist("alpha", "2.0")),
     b"alpha == 2.0  # pinned\n"),
    ("pin-extras-marker-comment",
     b'Foo_Bar[x] ==1.0 ; python_version >= "3"  # c\n', changed(dist("Foo_Bar", "2.0")),
     b'Foo_Bar[x] ==2.0 ; python_version >= "3"  # c\n'),
    ("pin-arbitrary-equality", b"alpha===1.0\n", changed(dist("alpha", "2.0")), b"alpha===2.0\n"),
    ("pin-wildcard", b"alpha==1.*\n", changed(dist("alpha", "2.0")), b"alpha==2.0\n"),
    ("pin-written-twice", b"alpha== 1.0,== 1.0\n", changed(dist("alpha", "2.0")),
     b"alpha== 2.0\n"),
    ("pin-non-pep440", b"alpha==1.0\n", changed(dist("alpha", "2.0-weird!")),
     b"alpha===2.0-weird!\n"),
    ("range-satisfied", b"alpha>=1.0  # any\n", changed(dist("alpha", "2.0")),
     b"alpha>=1.0  # any\n"),
    ("unpinned-satisfied", b"alpha\n", changed(dist("alpha", "2.0")), b"alpha\n"),
    ("prerelease-satisfies-range", b"alpha>=1.0\n", changed(dist("alpha", "2.0rc1")),
     b"alpha>=1.0\n"),
    ("range-unsatisfied", b"alpha>=1.0,<2  # c\n", changed(dist("alpha", "2.0")),
     b"alpha==2.0  # c\n"),
    ("range-unsatisfied-spaced",
     b"Foo_Bar [x] >= 1.0 , <2 ; python_version >= '3'\n", changed(dist("Foo_Bar", "3.0")),
     b"Foo_Bar [x] == 3.0 ; python_version >= '3'\n"),
    ("range-parens", b"alpha (>=1.0, <2.0)\n", changed(dist("alpha", "2.0")), b"alpha (==2.0)\n"),
    ("compatible-release", b"alpha~=1.0\n", changed(dist("alpha", "2.0")), b"alpha==2.0\n"),
    ("exclusion-unsatisfied", b"alpha!=2.0\n", changed(dist("alpha", "2.0")), b"alpha==2.0\n"),
    ("range-across-continuation", b"alpha>=1,\\\n  <2  # c\nbeta\n",
     changed(dist("alpha", "2.0")), b"alpha==2.0  # c\nbeta\n"),
    ("pin-before-continuation", b"alpha==1.0 \\\n  ; python_version >= '3'\n",
     changed(dist("alpha", "2.0")), b"alpha==2.0 \\\n  ; python_version >= '3'\n"),
    ("crlf", b"# c\r\nalpha==1.0\r\nbeta\r\n", changed(dist("alpha", "2.0")),
     b"# c\r\nalpha==2.0\r\nbeta\r\n"),
    ("bom", BOM + b"alpha==1.0\n", changed(dist("alpha", "2.0")), BOM + b"alpha==2.0\n"),
    ("no-final-newline", b"beta\nalpha==1.0", changed(dist("alpha", "2.0")),
     b"beta\nalpha==2.0"),
    ("spelled-differently", b"foo_bar==1.0\n", changed(dist("Foo-Bar", "2.0")),
     b"foo_bar==2.0\n"),
    ("unnamed-changes-ignored", b"gamma==1.0\n", changed(dist("alpha", "2.0")),
     b"gamma==1.0\n"),
    ("marker-false-not-moved",
     b'alpha==1.0 ; python_version < "3"\nalpha==1.1 ; python_version >= "3"\n',
     changed(dist("alpha", "2.0")),
     b'alpha==1.0 ; python_version < "3"\nalpha==2.0 ; python_version >= "3"\n'),
    # --- URL, path and editable lines
    ("url-moved-to-index", b"gamma @ file:///w/gamma-1.0.tar.gz  # local\n",
     changed(dist("gamma", "2.0")), b"gamma==2.0  # local\n"),
    ("url-same-source-kept", b"gamma @ file:///w/gamma\n",
     changed(dist("gamma", "2.0", "gamma @ file:///w/gamma", url="file:///w/gamma")),
     b"gamma @ file:///w/gamma\n"),
    ("editable-relative-same-source", b"-e ./pkg\n",
     changed(dist("pkg", "0.2", "-e /project/pkg", editable=True, url="file:///project/pkg")),
     b"-e ./pkg\n"),
    ("editable-now-from-index", b"-e ./pkg[x]\nalpha\n", changed(dist("pkg", "1.0")),
     b"-e ./pkg[x]\nalpha\n"),
    ("editable-named-now-from-index", b"-e git+https://h.invalid/r@main#egg=gamma\r\n",
     changed(dist("gamma", "1.0")), b"gamma==1.0\r\n"),
    ("pin-now-editable", b"alpha==1.0\nbeta\n",
     changed(dist("alpha", "2.0.dev0",
                  "# Editable install with no version control (alpha==2.0.dev0)",
                  "-e /w/alpha", editable=True, url="file:///w/alpha")),
     b"# Editable install with no version control (alpha==2.0.dev0)\n-e /w/alpha\nbeta\n"),
    ("range-kept-when-now-editable", b"alpha>=1\n",
     changed(dist("alpha", "2.0", "-e /w/alpha", editable=True, url="file:///w/alpha")),
     b"alpha>=1\n"),
    # --- a removed package: its line goes, comments on their own lines stay
    ("remove", b"alpha==1.0\nbeta==1.0\n", removed("beta"), b"alpha==1.0\n"),
    ("remove-keeps-comments", b"# alpha is for X\nalpha  # inline\n# end\n", removed("alpha"),
     b"# alpha is for X\n# end\n"),
    ("remove-continuation", b"alpha \\\n  ==1.0 \\\n  ; python_version >= '3'\nbeta\n",
     removed("alpha"), b"beta\n"),
    ("remove-keeps-continuation-ending-comment", b"alpha \\\n# note\nbeta\n", removed("alpha"),
     b"# note\nbeta\n"),
    ("remove-last-line-without-newline", b"alpha\nbeta", removed("beta"), b"alpha\n"),
    ("remove-spelled-differently-crlf", b"Zeta.Dots==1.0\r\nalpha\r\n", removed("zeta-dots"),
     b"alpha\r\n"),
    ("remove-every-line-of-it", b"alpha ; python_version >= '3'\nbeta\nALPHA==1\n",
     removed("alpha"), b"beta\n"),
    ("remove-skips-marker-false", b'alpha ; python_version < "3"\nbeta\n', removed("alpha"),
     b'alpha ; python_version < "3"\nbeta\n'),
    ("remove-keeps-options-and-includes", b"-r base.txt\n--pre\nalpha\n", removed("alpha"),
     b"-r base.txt\n--pre\n"),
    # --- an added package: freeze lines, sorted position in a sorted file, else at the end
    ("add-sorted-middle", b"alpha\ngamma\n", added(dist("beta", "1.0")),
     b"alpha\nbeta==1.0\ngamma\n"),
    ("add-sorted-first", b"-r base.txt\n\nbeta\ngamma\n", added(dist("alpha", "1.0")),
     b"-r base.txt\n\nalpha==1.0\nbeta\ngamma\n"),
    ("add-sorted-last-no-newline", b"alpha\nbeta", added(dist("gamma", "1.0")),
     b"alpha\nbeta\ngamma==1.0\n"),
    ("add-sorted-before-comment-of-next", b"alpha\n# why gamma\ngamma\n",
     added(dist("beta", "1.0")), b"alpha\nbeta==1.0\n# why gamma\ngamma\n"),
    ("add-sorted-canonical-order", b"Foo_Bar\nzeta.dots\n", added(dist("Gamma", "1.0")),
     b"Foo_Bar\nGamma==1.0\nzeta.dots\n"),
    ("add-sorted-several", b"alpha\ndelta\n", added(dist("eta", "1.0"), dist("beta", "1.0")),
     b"alpha\nbeta==1.0\ndelta\neta==1.0\n"),
    ("add-unsorted-end", b"gamma\nalpha\n# trailing\n", added(dist("beta", "1.0")),
     b"gamma\nalpha\n# trailing\nbeta==1.0\n"),
    ("add-unsorted-crlf-no-newline", b"gamma\r\nalpha", added(dist("beta", "1.0")),
     b"gamma\r\nalpha\r\nbeta==1.0\r\n"),
    ("add-to-empty", b"", added(dist("alpha", "1.0")), b"alpha==1.0\n"),
    ("add-to-bom-only-comments", BOM + b"# deps\r\n", added(dist("alpha", "1.0")),
     BOM + b"# deps\r\nalpha==1.0\r\n"),
    ("add-after-eof-continuation", b"alpha\nbeta>=1 \\", added(dist("gamma", "1.0")),
     b"alpha\nbeta>=1 \\\n\ngamma==1.0\n"),
    ("add-editable-two-lines", b"alpha\n",
     added(dist("foo", "0.1", "# Editable install with no version control (foo==0.1)",
                "-e /w/foo", editable=True, url="file:///w/foo")),
     b"alpha\n# Editable install with no version control (foo==0.1)\n-e /w/foo\n"),
    ("add-already-named", b"Foo_Bar>=1\n", added(dist("foo-bar", "1.0")), b"Foo_Bar>=1\n"),
    ("add-already-named-unsatisfied", b"alpha>=2\n", added(dist("alpha", "1.0")),
     b"alpha==1.0\n"),
    ("add-named-only-by-false-marker", b'alpha ; python_version < "3"\n',
     added(dist("alpha", "1.0")), b'alpha ; python_version < "3"\nalpha==1.0\n'),
    ("add-matches-unnamed-path", b"./pkg\n",
     added(dist("pkg", "1.0", "pkg @ file:///project/pkg", url="file:///project/pkg")),
     b"./pkg\n"),
    # --- everything at once
    ("mixed", BOM + b"# deps\r\nalpha==1.0  # a\r\nbeta>=1\r\ndelta\r\nzeta.dots",
     EnvDelta(added=(dist("gamma", "1.0"),), removed=("delta",),
              changed=(dist("alpha", "1.1"), dist("beta", "3.0"))),
     BOM + b"# deps\r\nalpha==1.1  # a\r\nbeta>=1\r\ngamma==1.0\r\nzeta.dots"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("before", "delta", "after"),
    [case[1:] for case in EDITOR_CASES],
    ids=[case[0] for case in EDITOR_CASES],
)
def test_apply_preserve(before: bytes, delta: EnvDelta, after: bytes) -> None:
    assert edit(before, delta) == after


def test_result_is_a_fresh_model() -> None:
    before = parse_requirements(b"alpha==1.0\ngamma\n", SOURCE)
    after = apply_preserve(before, added(dist("beta", "1.0")), ENV)
    assert [(line.lineno, line.name) for line in after.lines] == [
        (1, "alpha"),
        (2, "beta"),
        (3, "gamma"),
    ]
    assert after.source == SOURCE


def test_empty_delta_is_no_edit() -> None:
    before = parse_requirements(b"alpha==1.0 --hash=sha256:aa\n", SOURCE)
    assert apply_preserve(before, EnvDelta(), ENV) is before


def test_hashes_are_not_rewritten_without_the_new_ones() -> None:
    before = parse_requirements(b"alpha==1.0 \\\n    --hash=sha256:aa\n", SOURCE)
    with pytest.raises(ProjectError) as info:
        apply_preserve(before, changed(dist("alpha", "2.0")), ENV)
    assert str(SOURCE) in info.value.message
    assert "--hash" in info.value.message
    assert info.value.hint is not None
    assert "venvsyncd sync --from file" in info.value.hint
    assert "pip-compile" in info.value.hint


def test_marker_env_decides() -> None:
    before = parse_requirements(b'alpha ; sys_platform == "win32"\n', SOURCE)
    on_windows = {**ENV, "sys_platform": "win32"}
    assert apply_preserve(before, removed("alpha"), on_windows).to_bytes() == b""
    assert apply_preserve(before, removed("alpha"), ENV).to_bytes() == before.to_bytes()


def test_pip_style_is_the_freeze() -> None:
    freeze = [
        dist("alpha", "1.0"),
        dist("foo", "0.1", "# Editable install with no version control (foo==0.1)", "-e /w/foo"),
        dist("Foo_Bar", "1.0"),
    ]
    assert apply_pip_style(freeze) == (
        b"alpha==1.0\n# Editable install with no version control (foo==0.1)\n-e /w/foo\n"
        b"Foo_Bar==1.0\n"
    )
    assert apply_pip_style([]) == b""


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (
            EnvDelta(
                added=(dist("requests", "2.34.2"),),
                removed=("urllib3",),
                changed=(dist("idna", "3.7"),),
                previous=(dist("idna", "3.6"),),
            ),
            "+requests==2.34.2 -urllib3 ~idna 3.6->3.7",
        ),
        (changed(dist("Foo_Bar", "2.0")), "~Foo_Bar 2.0"),
        (EnvDelta(), "no change"),
    ],
)
def test_render_change(delta: EnvDelta, text: str) -> None:
    assert render_change(delta) == text


# --- properties ------------------------------------------------------------------------------

NAMES = ["alpha", "beta", "gamma", "delta", "Foo_Bar", "zeta.dots"]
OTHER = ["# comment", "", "-r base.txt", "--pre", "   # indented", "./pkg"]


@st.composite
def small_files(draw: st.DrawFn) -> bytes:
    """Files of requirement lines (names, specifiers, comments) and other lines."""
    requirement = st.builds(
        "".join,
        st.tuples(
            st.sampled_from(NAMES),
            st.sampled_from(["", "==1.0", ">=1.0", " == 1.0", "[x]>=1,<2"]),
            st.sampled_from(["", "  # why"]),
        ),
    )
    lines = draw(st.lists(st.one_of(st.sampled_from(OTHER), requirement), max_size=10))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    final = newline if draw(st.booleans()) and lines else ""
    bom = BOM if draw(st.booleans()) else b""
    return bom + (newline.join(lines) + final).encode()


@given(small_files(), st.sampled_from(NAMES))
@settings(max_examples=300)
def test_removal_keeps_every_other_line(data: bytes, name: str) -> None:
    before = parse_requirements(data, SOURCE)
    gone = canonicalize_name(name)
    after = apply_preserve(before, removed(gone), ENV)
    kept = [line.raw.rstrip("\r\n") for line in before.lines if line.name != gone]
    assert [line.raw.rstrip("\r\n") for line in after.lines] == kept
    assert all(line.raw in before.to_bytes().decode() for line in after.lines)
    assert after.bom == before.bom


@given(small_files(), st.sampled_from(NAMES))
@settings(max_examples=300)
def test_addition_inserts_one_line_and_keeps_the_rest(data: bytes, name: str) -> None:
    before = parse_requirements(data, SOURCE)
    new = dist(name, "9.0")
    assume(all(line.name != new.name for line in before.requirements()))
    after = apply_preserve(before, added(new), ENV)
    texts = [line.raw.rstrip("\r\n") for line in after.lines]
    texts.remove(f"{name}==9.0")
    assert texts == [line.raw.rstrip("\r\n") for line in before.lines]
    assert after.sorted_requirements() == before.sorted_requirements()
    assert (after.newline, after.bom) == (before.newline, before.bom)
    assert after.problems() == []
