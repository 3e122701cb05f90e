"""`freeze_text` against the venv's own `pip freeze` where pip's tests/functional/test_freeze.py
looks and venvsyncd once differed: zip files and zipped eggs on the path; editable Mercurial,
Subversion and Bazaar checkouts (with the tools, and without them); nested checkouts; a
pyvenv.cfg without `include-system-site-packages`; `.pth` files whose `import` lines change
`sys.path`.

Everything is built for real: venvs by `make_venv`, checkouts by hg, svn, bzr and git, zip
files by `zipfile`. pip is the reference: each test checks that pip's own output shows the
case, then that venvsyncd's is the same, byte for byte.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from testing import checkouts as co
from testing.localproject import git_repo, write_project
from testing.venvs import make_venv, pip, pip_freeze, run
from testing.wheelhouse import build_wheel
from venvsyncd.env.freeze import freeze_text, installed
from venvsyncd.env.sitepath import venv_sys_path
from venvsyncd.env.venvs import Venv, load_venv

slow = pytest.mark.slow  # every test here builds a venv
PYVER = f"{sys.version_info[0]}.{sys.version_info[1]}"


def assert_same_as_pip(venv: Venv, *shown: str) -> str:
    frozen = pip_freeze(venv)
    for text in shown:
        assert text in frozen
    assert freeze_text(venv) == frozen
    return frozen


def hand_dist(folder: Path, dirname: str, name: str, version: str, **files: str) -> Path:
    info = folder / dirname
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    for filename, text in files.items():
        (info / filename.replace("_json", ".json")).write_text(text)
    return info


def interpreter_path(venv: Venv) -> list[str]:
    code = "import json, sys; print(json.dumps(sys.path[1:]))"
    return list(json.loads(run([venv.python, "-c", code]).stdout))


@pytest.fixture(scope="module")
def bare_venv(tmp_path_factory: pytest.TempPathFactory) -> Venv:
    return make_venv(tmp_path_factory.mktemp("bare") / "venv", "beta")


@pytest.fixture
def scratch(bare_venv: Venv) -> Iterator[Venv]:
    """`bare_venv`; whatever a test adds to its site-packages is removed afterwards."""
    before = set(bare_venv.site_packages.iterdir())
    yield bare_venv
    for entry in set(bare_venv.site_packages.iterdir()) - before:
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()


# --- 1. zip files and zipped eggs on sys.path -----------------------------------------------


@slow
def test_zip_files_and_zipped_eggs_on_the_path(scratch: Venv, tmp_path: Path) -> None:
    """A `--target` install zipped up, a zipped egg from easy-install.pth, a wheel file on the
    path (pip does not look inside), and a zip that is named `.whl` but is no wheel."""
    target = tmp_path / "target"
    wheel = build_wheel(tmp_path, "localwhl", "3.0")
    pip(scratch, "install", "--no-deps", "--target", str(target), "delta", "Foo_Bar", str(wheel))
    legacy = target / f"legacy_zipped-1.0-py{PYVER}.egg-info"
    legacy.mkdir()
    (legacy / "PKG-INFO").write_text("Metadata-Version: 1.1\nName: Legacy.Zipped\nVersion: 1.0\n")
    zipped = co.zip_folder(target, tmp_path / "deps.zip")
    misnamed = tmp_path / "misnamed"
    pip(scratch, "install", "--no-deps", "--target", str(misnamed), "zeta.dots")
    site = scratch.site_packages
    egg = co.zipped_egg(site, "old_zipped", "3.0", PYVER)
    real_wheel = build_wheel(tmp_path, "eta", "1.0")
    (site / "easy-install.pth").write_text(f"./{egg.name}\n")
    (site / "zips.pth").write_text(
        f"{zipped}\n{real_wheel}\n{co.zip_folder(misnamed, tmp_path / 'not-a-wheel.whl')}\n"
    )
    frozen = assert_same_as_pip(
        scratch,
        "delta==1.0\n",
        "Foo_Bar==1.0\n",
        "Legacy.Zipped==1.0\n",
        "localwhl @ file://",
        "old_zipped==3.0\n",
        "zeta.dots==1.0\n",
    )
    assert "#sha256=" in next(ln for ln in frozen.splitlines() if ln.startswith("localwhl"))
    assert "\neta==" not in frozen  # a wheel file on the path is not an installed distribution
    import_old = "import old_zipped; print(old_zipped.VERSION)"
    assert run([scratch.python, "-c", import_old]).stdout == "3.0\n"  # it is on sys.path


# --- 2 and 3. editable hg, svn and bzr checkouts, nested checkouts ----------------------------


@pytest.fixture(scope="module")
def vcs_venv(tmp_path_factory: pytest.TempPathFactory) -> Venv:
    """One venv with an editable install of each kind of checkout whose tools are here."""
    top = tmp_path_factory.mktemp("vcs")
    home = top / "home"
    home.mkdir()
    editables = [*_hg_projects(home, top), *_svn_projects(home, top), *_bzr_projects(home, top)]
    if co.have("hg"):  # pip's test_freeze_nested_vcs, both ways round
        outer_git = top / "outer_git"
        outer_git.mkdir()
        (outer_git / ".gitignore").write_text("src\n")
        git_repo(outer_git)
        source = co.hg_repo(home, write_project(top / "inner_hg_src", "inner-hg", "0.1"))
        editables.append(co.hg_clone(home, source, outer_git / "src"))
        outer_hg = top / "outer_hg"
        outer_hg.mkdir()
        (outer_hg / ".hgignore").write_text("src\n")
        co.hg_repo(home, outer_hg)
        source = git_repo(write_project(top / "inner_git_src", "inner-git", "0.1"))
        run(["git", "clone", "-q", source, outer_hg / "src"])
        editables.append(outer_hg / "src")
    editables.append(
        git_repo(write_project(top / "gitscheme", "git-scheme", "0.1"), remote="git://h/x.git")
    )
    venv = make_venv(top / "venv")
    pip(venv, "install", "--no-build-isolation", *(a for e in editables for a in ("-e", str(e))))
    return venv


def _hg_projects(home: Path, top: Path) -> list[Path]:
    if not co.have("hg"):
        return []
    source = co.hg_repo(home, write_project(top / "hg_src", "hg-clone", "0.1"))
    srcdir = top / "hg_srcdir_src"
    write_project(srcdir / "subdir", "hg-srcdir", "0.2")
    co.hg_repo(home, srcdir)
    return [
        co.hg_clone(home, source, top / "hg_clone"),
        co.hg_clone(home, srcdir, top / "hg_srcdir") / "subdir",
        co.hg_repo(home, write_project(top / "hg_alone", "hg-alone", "0.3")),
    ]


def _svn_projects(home: Path, top: Path) -> list[Path]:
    if not co.have("svn"):
        return []
    project = write_project(top / "svn_project", "svn-pkg", "0.1")
    return [co.svn_checkout(home, project, top / "svn_repo", top / "svn_wc")]


def _bzr_projects(home: Path, top: Path) -> list[Path]:
    if not co.have("bzr"):
        return []
    source = co.bzr_branch(home, write_project(top / "bzr_src", "bzr-heavy", "0.1"))
    light = co.bzr_branch(home, write_project(top / "bzr_light_src", "bzr-light", "0.2"))
    branched = co.bzr_branch(home, write_project(top / "bzr_parent", "bzr-branched", "0.3"))
    return [
        co.bzr_get(home, "checkout", source, top / "bzr_co"),
        co.bzr_get(home, "checkout", light, top / "bzr_light", "--lightweight"),
        co.bzr_get(home, "branch", branched, top / "bzr_branch"),
    ]


SHA = "[0-9a-f]{40}"
VCS_CASES = {  # pip's freeze tests: hg clone, hg srcdir, svn, bzr, nested; and more forms
    "hg-clone": (("hg",), rf"-e hg\+file://\S*/hg_src@{SHA}#egg=hg_clone"),
    "hg-srcdir": (
        ("hg",),
        rf"-e hg\+file://\S*/hg_srcdir_src@{SHA}#egg=hg_srcdir&subdirectory=subdir",
    ),
    "hg-no-default-path": (
        ("hg",),
        r"## !! Could not determine repository location\n-e /\S*/hg_alone",
    ),
    "svn-checkout": (("svn",), r"-e svn\+file://\S*/svn_repo/trunk@1#egg=svn_pkg"),
    "bzr-checkout": (("bzr",), r"-e bzr\+file://\S*/bzr_src@1#egg=bzr_heavy"),
    "bzr-lightweight": (("bzr",), r"-e bzr\+file://\S*/bzr_light_src@1#egg=bzr_light"),
    "bzr-branch": (("bzr",), r"-e bzr\+file://\S*/bzr_parent@1#egg=bzr_branched"),
    "hg-inside-git": (("hg",), rf"-e hg\+file://\S*/inner_hg_src@{SHA}#egg=inner_hg"),
    "git-inside-hg": (("hg",), rf"-e git\+file://\S*/inner_git_src@{SHA}#egg=inner_git"),
    "git-scheme-remote": ((), rf"-e git\+git://h/x\.git@{SHA}#egg=git_scheme"),  # always git+
}


@slow
@pytest.mark.parametrize(("tools", "line"), VCS_CASES.values(), ids=VCS_CASES.keys())
def test_editable_checkouts(vcs_venv: Venv, tools: tuple[str, ...], line: str) -> None:
    if not all(co.have(t) for t in tools):
        pytest.skip(f"needs {', '.join(tools)}: apt-get install -y mercurial subversion bzr")
    frozen = assert_same_as_pip(vcs_venv)
    assert re.search(f"^{line}$", frozen, re.MULTILINE), frozen


@slow
def test_editable_checkouts_without_the_tools(
    vcs_venv: Venv, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only git on PATH: pip falls back for hg, svn and bzr checkouts, and so does venvsyncd."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    git_path = shutil.which("git")
    assert git_path is not None
    (bin_dir / "git").symlink_to(git_path)
    monkeypatch.setenv("PATH", str(bin_dir))
    assert not any(co.have(t) for t in co.PACKAGES)
    frozen = assert_same_as_pip(vcs_venv, "-e git+git://h/x.git@")
    top, lines = vcs_venv.root.parent, frozen.splitlines()
    for checkout in ("hg_clone", "hg_alone", "svn_wc", "bzr_co", "bzr_light", "bzr_branch"):
        if (top / checkout).exists():  # pip's BadCommand: the folder, and no comment
            at = lines.index(f"-e {top / checkout}")
            assert at == 0 or not lines[at - 1].startswith("#")
    if (top / "hg_srcdir").exists():  # `hg root` cannot run: no version control found
        assert "# Editable install with no version control (hg-srcdir==0.2)\n" in frozen


# --- the hg and bzr answers that are kept follow the checkouts --------------------------------


def editable_dist(venv: Venv, project: Path, name: str) -> None:
    url = json.dumps({"url": project.as_uri(), "dir_info": {"editable": True}})
    hand_dist(venv.site_packages, f"{name}-1.0.dist-info", name, "1.0", direct_url_json=url)


@slow
@co.needs("hg")
def test_hg_line_follows_commits_and_paths(scratch: Venv, tmp_path: Path) -> None:
    home = tmp_path / "home"
    source = co.hg_repo(home, write_project(tmp_path / "src", "movable-hg", "1.0"))
    clone = co.hg_clone(home, source, tmp_path / "clone")
    editable_dist(scratch, clone, "movable-hg")
    first = co.tool(home, "hg", "parents", "--template={node}", cwd=clone)
    assert_same_as_pip(scratch, f"@{first}#egg=movable_hg\n")
    second = co.hg_commit(home, clone)
    assert_same_as_pip(scratch, f"@{second}#egg=movable_hg\n")
    with (clone / ".hg" / "hgrc").open("a") as hgrc:
        hgrc.write("[paths]\ndefault = https://example.com/hg/movable\n")
    assert_same_as_pip(scratch, f"-e hg+https://example.com/hg/movable@{second}#egg=movable_hg\n")


@slow
@co.needs("svn")
def test_svn_line_follows_updates(scratch: Venv, tmp_path: Path) -> None:
    home = tmp_path / "home"
    project = write_project(tmp_path / "project", "movable-svn", "1.0")
    checkout = co.svn_checkout(home, project, tmp_path / "repo", tmp_path / "wc")
    editable_dist(scratch, checkout, "movable-svn")
    assert_same_as_pip(scratch, "/repo/trunk@1#egg=movable_svn\n")
    co.svn_commit(home, checkout)  # a mixed-revision working copy: pip still says 1
    assert_same_as_pip(scratch, "/repo/trunk@1#egg=movable_svn\n")
    co.tool(home, "svn", "update", "-q", cwd=checkout)
    assert_same_as_pip(scratch, "/repo/trunk@2#egg=movable_svn\n")


SVN_1_6_ENTRIES = (  # format 10: the folder's entry (url, committed-rev) and a file's
    "10\n\ndir\n5\nhttps://svn.example.com/repo/trunk\nhttps://svn.example.com/repo\n"
    "\n\n\n2010-01-01T00:00:00.000000Z\n4\nauthor\n\x0c\n"
    "file.txt\nfile\n\n\n\n\n\n\n\n7\n\x0c\n"
)
SVN_1_3_ENTRIES = (  # the XML format
    '<?xml version="1.0" encoding="utf-8"?>\n<wc-entries xmlns="svn:">\n'
    '<entry committed-rev="3" name="" url="https://svn.example.com/x/trunk" kind="dir"/>\n'
    '<entry committed-rev="9" name="f.txt" kind="file"/>\n</wc-entries>\n'
)


@slow
def test_svn_checkouts_from_before_1_7(scratch: Venv, tmp_path: Path) -> None:
    """`.svn/entries` that svn 1.3-1.6 wrote: pip reads them without running svn."""
    for name, entries in [("old-svn", SVN_1_6_ENTRIES), ("xml-svn", SVN_1_3_ENTRIES)]:
        project = write_project(tmp_path / name, name, "1.0")
        (project / ".svn").mkdir()
        (project / ".svn" / "entries").write_text(entries)
        editable_dist(scratch, project, name)
    assert_same_as_pip(
        scratch,
        "-e svn+https://svn.example.com/repo/trunk@7#egg=old_svn\n",
        "-e svn+https://svn.example.com/x/trunk@9#egg=xml_svn\n",
    )


@slow
@co.needs("bzr")
def test_bzr_line_follows_the_branch(scratch: Venv, tmp_path: Path) -> None:
    home = tmp_path / "home"
    source = co.bzr_branch(home, write_project(tmp_path / "src", "movable-bzr", "1.0"))
    light = co.bzr_get(home, "checkout", source, tmp_path / "light", "--lightweight")
    heavy = co.bzr_get(home, "checkout", source, tmp_path / "heavy")
    editable_dist(scratch, light, "light-bzr")
    editable_dist(scratch, heavy, "heavy-bzr")
    assert_same_as_pip(scratch, "@1#egg=light_bzr\n", "@1#egg=heavy_bzr\n")
    co.bzr_commit(home, heavy)  # a bound checkout commits to its branch too
    assert_same_as_pip(scratch, "@2#egg=light_bzr\n", "@2#egg=heavy_bzr\n")
    co.bzr_commit(home, source)  # a lightweight checkout shows the branch's revno
    assert_same_as_pip(scratch, "@3#egg=light_bzr\n", "@2#egg=heavy_bzr\n")


# --- 4. pyvenv.cfg without include-system-site-packages --------------------------------------


@slow
def test_pyvenv_cfg_without_the_system_site_line(tmp_path: Path) -> None:
    """site.py reads a missing `include-system-site-packages` as true: the base's packages."""
    venv = make_venv(tmp_path / "venv", "beta")
    cfg = venv.root / "pyvenv.cfg"
    lines = cfg.read_text().splitlines(keepends=True)
    cfg.write_text("".join(ln for ln in lines if "include-system-site-packages" not in ln))
    venv = load_venv(venv.root)
    frozen = assert_same_as_pip(venv, "beta==1.0\n")
    assert len(frozen.splitlines()) > 2  # the base installation's packages are listed too
    entries = [e for e in venv_sys_path(venv).entries if Path(e).exists()]
    assert entries == [p for p in interpreter_path(venv) if Path(p).exists()]


# --- 5. .pth files whose import lines change sys.path -----------------------------------------


@slow
def test_pth_import_lines_that_add_folders(scratch: Venv, tmp_path: Path) -> None:
    appended, added, first = tmp_path / "appended", tmp_path / "added", tmp_path / "first"
    hand_dist(appended, "appended_pkg-1.0.dist-info", "appended-pkg", "1.0")
    hand_dist(added, "added_pkg-2.0.dist-info", "added-pkg", "2.0")
    (added / "nested.pth").write_text(f"{tmp_path / 'nested'}\n")
    hand_dist(tmp_path / "nested", "nested_pkg-3.0.dist-info", "nested-pkg", "3.0")
    hand_dist(first, "alpha-9.0.dist-info", "alpha", "9.0")  # ahead of site-packages' alpha
    (scratch.site_packages / "hooks.pth").write_text(
        f"import sys; sys.path.append({str(appended)!r})\n"
        f"import site; site.addsitedir({str(added)!r})\n"
        f"import sys; sys.path.insert(0, {str(first)!r})\n"
    )
    assert_same_as_pip(
        scratch, "appended-pkg==1.0\n", "added-pkg==2.0\n", "nested-pkg==3.0\n", "alpha==9.0\n"
    )
    assert venv_sys_path(scratch).asked
    assert str(appended) not in sys.path  # the lines ran in the venv's interpreter, not here


@slow
def test_interpreter_is_asked_once_until_a_pth_file_changes(scratch: Venv, tmp_path: Path) -> None:
    """The counting line runs at each start of the venv's interpreter (site.py reads a
    venv's site-packages twice, so twice a start): never in this process."""
    count = tmp_path / "count"
    count.touch()
    line = f"import pathlib; pathlib.Path({str(count)!r}).open('a').write('x')\n"
    (scratch.site_packages / "count.pth").write_text(line)

    def runs_during(action: Callable[[], object]) -> int:
        before = len(count.read_text())
        action()
        return len(count.read_text()) - before

    start = runs_during(lambda: run([scratch.python, "-c", "pass"]))
    assert start >= 1
    assert runs_during(lambda: venv_sys_path(scratch)) == start
    assert runs_during(lambda: [freeze_text(scratch) for _ in range(3)]) == 0
    assert runs_during(lambda: installed(scratch)) == 0
    (scratch.site_packages / "count.pth").write_text(line + "# changed\n")
    assert runs_during(lambda: venv_sys_path(scratch)) == start
    (scratch.site_packages / "count.pth").unlink()
    assert runs_during(lambda: venv_sys_path(scratch)) == 0
    assert not venv_sys_path(scratch).asked  # no import line left: computed, not asked
