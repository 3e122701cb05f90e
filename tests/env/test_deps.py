"""What installed dists require (deps): table tests of the graph queries, and real venvs broken
on purpose where `Dependencies.broken()` must print what the real `pip check` prints."""

from __future__ import annotations

import subprocess
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path

import pytest

from testing import checkouts as co
from testing.venvs import make_venv, pip
from testing.wheelhouse import build_wheel
from venvsyncd.env.deps import Dependencies, read_dependencies
from venvsyncd.env.freeze import installed
from venvsyncd.env.venvs import Venv, marker_environment

slow = pytest.mark.slow  # every test that builds a venv

ENV = {
    "python_version": "3.11",
    "python_full_version": "3.11.7",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "os_name": "posix",
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
    "platform_machine": "x86_64",
    "platform_release": "6.8.0",
    "platform_version": "",
    "implementation_version": "3.11.7",
}


def graph(table: Mapping[str, Sequence[str]]) -> Dependencies:
    """Dependencies from `{"name version": [Requires-Dist lines]}`; `"name"` alone is 1.0."""
    versions: dict[str, str] = {}
    requires: dict[str, tuple[str, ...]] = {}
    for key, lines in table.items():
        name, sep, version = key.partition(" ")
        versions[name] = version if sep else "1.0"
        requires[name] = tuple(lines)
    return Dependencies(versions, requires, ENV)


FLASK = {
    "flask 3.1.0": ["blinker>=1.9", "werkzeug>=3.1", "click>=8.1.3"],
    "blinker 1.9.0": [],
    "werkzeug 3.1.3": ["markupsafe>=2.1.1"],
    "markupsafe 3.0.2": [],
    "click 8.1.8": ['colorama; platform_system == "Windows"'],
}
CYCLE = {"a": ["b"], "b": ["a", "b"], "c": []}
GAMMA = {
    "gamma": ['delta ; extra == "fast"', 'hub[x] ; extra == "fast"'],
    "delta": [],
    "hub": ['spoke ; extra == "x"'],
    "spoke": [],
    "app": ["gamma[fast]"],
}
CELERY = {
    "celery": ['celery[redis] ; extra == "all"', 'redis>=4 ; extra == "redis"', "kombu"],
    "redis": [],
    "kombu": [],
}


@pytest.mark.parametrize(
    ("table", "name", "extras", "expected"),
    [
        (FLASK, "flask", (), ("blinker", "click", "werkzeug")),
        (FLASK, "werkzeug", (), ("markupsafe",)),  # direct requirements only
        (FLASK, "click", (), ()),  # a marker that does not hold for the venv
        (FLASK, "Flask", (), ("blinker", "click", "werkzeug")),  # the name is canonicalized
        (FLASK, "not-installed", (), ()),
        (CYCLE, "b", (), ("a",)),  # a dist never requires itself
        (GAMMA, "gamma", (), ()),  # extras not asked
        (GAMMA, "gamma", ("fast",), ("delta", "hub")),
        (GAMMA, "gamma", ("Fast",), ("delta", "hub")),  # extra names are normalized
        (GAMMA, "gamma", ("slow",), ()),
        (GAMMA, "app", (), ("gamma",)),
        (CELERY, "celery", (), ("kombu",)),
        (CELERY, "celery", ("all",), ("kombu", "redis")),  # all asks celery[redis] of itself
        (
            {"epsilon": ['eta ; python_version >= "3"', 'zeta.dots ; python_version < "3"']},
            "epsilon",
            (),
            ("eta",),
        ),
        ({"x": ["Foo_Bar>=1", "Zeta.Dots"]}, "x", (), ("foo-bar", "zeta-dots")),
        ({"x": ["alpha>=1", "beta >= ", "gamma[", "delta"]}, "x", (), ("alpha", "delta")),
        ({"x": ['alpha; python_version ~= "x"', "beta"]}, "x", (), ("beta",)),  # not judgeable
        ({"x": ["alpha>=1", "alpha<3", "\n beta"]}, "x", (), ("alpha", "beta")),
    ],
)
def test_requires(
    table: Mapping[str, Sequence[str]],
    name: str,
    extras: Collection[str],
    expected: tuple[str, ...],
) -> None:
    assert graph(table).requires(name, extras) == expected


@pytest.mark.parametrize(
    ("table", "name", "leaving", "extras", "expected"),
    [
        (FLASK, "blinker", (), {}, ("flask",)),  # the teammate removed blinker: flask keeps it
        (FLASK, "blinker", ("flask",), {}, ()),  # flask goes too
        (FLASK, "Blinker", ("Flask",), {}, ()),
        (FLASK, "markupsafe", (), {}, ("werkzeug",)),  # direct requirers only
        (FLASK, "markupsafe", ("flask",), {}, ("werkzeug",)),
        (FLASK, "colorama", (), {}, ()),  # required only on Windows
        (FLASK, "flask", (), {}, ()),
        (
            {"x": ["alpha"], "y": ["alpha>=1"], "w": ["Alpha"], "z": []},
            "alpha",
            (),
            {},
            ("w", "x", "y"),
        ),
        ({"x": ["alpha"], "y": ["alpha>=1"], "z": []}, "alpha", ("y", "q"), {}, ("x",)),
        (CYCLE, "a", (), {}, ("b",)),
        (CYCLE, "a", ("b",), {}, ()),
        (CYCLE, "b", ("a",), {}, ()),  # b's requirement on itself does not keep it
        (GAMMA, "delta", ("app",), {}, ()),  # gamma's extra fast was asked by no one
        (GAMMA, "delta", ("app",), {"gamma": ["fast"]}, ("gamma",)),  # asked by the file
        (GAMMA, "delta", ("app",), {"Gamma": ["FAST"]}, ("gamma",)),
        (GAMMA, "delta", ("app",), {"gamma": ["slow"]}, ()),
        (GAMMA, "delta", (), {}, ("gamma",)),  # app asks gamma[fast]
        (GAMMA, "spoke", (), {}, ("hub",)),  # app -> gamma[fast] -> hub[x] -> spoke
        (GAMMA, "spoke", ("gamma",), {}, ()),
        (GAMMA, "spoke", ("app",), {"hub": ["x"]}, ("hub",)),
        (GAMMA, "gamma", (), {}, ("app",)),
        (CELERY, "redis", (), {}, ()),
        (CELERY, "redis", (), {"celery": ["all"]}, ("celery",)),
        (CELERY, "redis", ("celery",), {"celery": ["all"]}, ()),
        ({"x": ['alpha; python_version ~= "x"'], "alpha": []}, "alpha", (), {}, ()),
    ],
)
def test_required_by(
    table: Mapping[str, Sequence[str]],
    name: str,
    leaving: Collection[str],
    extras: Mapping[str, Collection[str]],
    expected: tuple[str, ...],
) -> None:
    assert graph(table).required_by(name, leaving, extras) == expected


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        (FLASK, ()),
        ({"beta": ["alpha>=1.0"]}, ("beta 1.0 requires alpha, which is not installed.",)),
        (
            {"beta": ["alpha>=2.0"], "alpha 1.0": []},
            ("beta 1.0 has requirement alpha>=2.0, but you have alpha 1.0.",),
        ),
        ({"beta": ["alpha>=1.0"], "alpha 2.0rc1": []}, ()),  # prereleases satisfy
        (
            {"beta": ["alpha>=2.0"], "alpha 2.0rc1": []},
            ("beta 1.0 has requirement alpha>=2.0, but you have alpha 2.0rc1.",),
        ),
        (
            {"beta 01.0": ["Alpha_X>=2.0"], "alpha-x 1.0.0": []},  # versions print normalized
            ("beta 1.0 has requirement Alpha_X>=2.0, but you have alpha-x 1.0.0.",),
        ),
        ({"x": ["Zeta.Dots"]}, ("x 1.0 requires zeta-dots, which is not installed.",)),
        (
            {"epsilon": ['eta ; python_version >= "3"', 'zeta.dots ; python_version < "3"']},
            ("epsilon 1.0 requires eta, which is not installed.",),
        ),
        (
            {
                "x": ['alpha>=2 ; python_version >= "3"', 'alpha<1 ; python_version < "3"'],
                "alpha": [],
            },
            ('x 1.0 has requirement alpha>=2; python_version >= "3", but you have alpha 1.0.',),
        ),
        (GAMMA, ()),  # extras are not checked
        ({"gamma": ['delta ; extra == "fast"']}, ()),
        (
            {"app": ["gamma[fast]>=2"], "gamma": ['delta ; extra == "fast"']},
            ("app 1.0 has requirement gamma[fast]>=2, but you have gamma 1.0.",),
        ),
        (
            {"x": ["alpha>=1", "alpha<3", "alpha<3"]},  # one line per distinct requirement
            ("x 1.0 requires alpha, which is not installed.",) * 2,
        ),
        (
            {"b": ["z", "alpha>=2", "y"], "a": ["alpha<1", "q"], "alpha 1.5": []},
            (
                "b 1.0 requires y, which is not installed.",
                "b 1.0 requires z, which is not installed.",
                "a 1.0 requires q, which is not installed.",
                "b 1.0 has requirement alpha>=2, but you have alpha 1.5.",
                "a 1.0 has requirement alpha<1, but you have alpha 1.5.",
            ),
        ),
        # pip leaves out dists it cannot read: what requires them reads as not installed
        (
            {"beta": ["alpha"], "alpha not.a.version": ["nothere"]},
            ("beta 1.0 requires alpha, which is not installed.",),
        ),
        (
            {"beta": ["alpha"], "alpha ": ["nothere"]},  # no version at all
            ("beta 1.0 requires alpha, which is not installed.",),
        ),
        (
            {"beta": ["alpha"], "alpha": ["nothere", "bad >= "]},
            ("beta 1.0 requires alpha, which is not installed.",),
        ),
        (
            {"beta": ["alpha"], "alpha": ['nothere; python_version ~= "x"']},
            ("beta 1.0 requires alpha, which is not installed.",),
        ),
        (
            {"beta": ["alpha"], "alpha": ['nothere; extra == "x" and python_version ~= "x"']},
            ("beta 1.0 requires alpha, which is not installed.",),
        ),
    ],
)
def test_broken(table: Mapping[str, Sequence[str]], expected: tuple[str, ...]) -> None:
    assert graph(table).broken() == expected


def test_arbitrary_equality_is_judged_by_each_venvs_spelling() -> None:
    """`===` compares spellings: 1.0 and 1.0.0 are equal versions, yet only one matches.
    Checks are kept between venvs, so the second spelling must not take the first's answer."""
    assert graph({"app": ["alpha===1.0"], "alpha 1.0": []}).broken() == ()
    assert graph({"app": ["alpha===1.0"], "alpha 1.0.0": []}).broken() == (
        "app 1.0 has requirement alpha===1.0, but you have alpha 1.0.0.",
    )


# Real venvs: pip check is the reference.


def pip_check(venv: Venv, cwd: Path) -> tuple[str, ...]:
    """The problem lines the real `pip check` prints (none when it finds nothing)."""
    proc = subprocess.run(
        [venv.python, "-m", "pip", "check"], capture_output=True, text=True, check=False, cwd=cwd
    )
    lines = tuple(proc.stdout.splitlines())
    assert (proc.returncode == 0) == (lines == ("No broken requirements found.",)), proc.stderr
    return () if proc.returncode == 0 else lines


def deps_of(venv: Venv) -> Dependencies:
    return read_dependencies(venv, marker_environment(venv))


@pytest.fixture
def extra_wheels(tmp_path: Path) -> Path:
    folder = tmp_path / "extra-wheels"
    folder.mkdir()
    build_wheel(folder, "needs2", "1.0", requires=["alpha>=2.0"])
    build_wheel(folder, "twice", "1.0", requires=["alpha>=1.0", "alpha<3"])
    build_wheel(folder, "app", "1.0", requires=["gamma[fast]"])
    return folder


@slow
def test_broken_matches_pip_check_as_the_env_breaks(tmp_path: Path, extra_wheels: Path) -> None:
    wheels = [str(next(extra_wheels.glob(f"{name}-*.whl"))) for name in ("needs2", "twice")]
    venv = make_venv(tmp_path / "venv", "beta", "epsilon", *wheels)
    assert deps_of(venv).broken() == pip_check(venv, tmp_path) == ()

    pip(venv, "install", "alpha==1.0")  # under needs2, which needs alpha>=2.0
    assert deps_of(venv).broken() == pip_check(venv, tmp_path)
    assert deps_of(venv).broken() == (
        "needs2 1.0 has requirement alpha>=2.0, but you have alpha 1.0.",
    )

    pip(venv, "uninstall", "-y", "alpha", "eta")  # under beta, twice and epsilon
    found = deps_of(venv).broken()
    assert found == pip_check(venv, tmp_path)
    assert set(found) == {
        f"{name} 1.0 requires {dep}, which is not installed."
        for name, dep in [
            ("beta", "alpha"),
            ("needs2", "alpha"),
            ("twice", "alpha"),
            ("epsilon", "eta"),
        ]
    }
    assert found.count("twice 1.0 requires alpha, which is not installed.") == 2  # as pip has it


@slow
def test_a_dependency_under_an_extra(tmp_path: Path, extra_wheels: Path) -> None:
    venv = make_venv(tmp_path / "venv", str(extra_wheels / "app-1.0-py3-none-any.whl"))
    deps = deps_of(venv)
    assert deps.requires("app") == ("gamma",)
    assert deps.requires("gamma") == ()
    assert deps.requires("gamma", ["fast"]) == ("delta",)
    assert deps.required_by("delta") == ("gamma",)  # app asks for gamma[fast]
    assert deps.required_by("delta", leaving=["app"]) == ()
    assert deps.required_by("delta", leaving=["app"], extras={"gamma": ["fast"]}) == ("gamma",)

    pip(venv, "uninstall", "-y", "delta")  # pip check does not look at extras
    assert deps_of(venv).broken() == pip_check(venv, tmp_path) == ()


@slow
def test_reads_what_pip_finds(tmp_path: Path) -> None:
    venv = make_venv(tmp_path / "venv", "beta", "epsilon", "Foo_Bar", "gamma[fast]")
    deps = deps_of(venv)
    assert {d.name: d.version for d in installed(venv)} == dict(deps.versions)
    assert deps.requires("beta") == ("alpha",)
    assert deps.requires("epsilon") == ("eta",)
    assert deps.required_by("alpha") == ("beta",)
    assert deps.required_by("alpha", leaving={"beta"}) == ()
    assert deps.required_by("eta") == ("epsilon",)
    assert deps.required_by("zeta.dots") == ()
    assert deps.required_by("pip") == ()


# Hand-written metadata folders: name -> (METADATA or PKG-INFO lines, requires.txt or None)
ODD_METADATA: dict[str, tuple[list[str], str | None]] = {
    "badreq-1.0.dist-info": (
        ["Name: badreq", "Requires-Dist: alpha >= ", "Requires-Dist: nothere"],
        None,
    ),
    "badfold-1.0.dist-info": (["Name: badfold", "Requires-Dist: alpha", "  >=3"], None),
    "badver-notaversion.dist-info": (["Name: badver", "Requires-Dist: nothere"], None),
    "nover.dist-info": (["Name: nover", "Requires-Dist: nothere"], None),  # no version at all
    "badmarker-1.0.dist-info": (
        ["Name: badmarker", 'Requires-Dist: q; python_version ~= "x"'],
        None,
    ),
    "folded-1.0.dist-info": (
        ["Name: folded", "Requires-Dist: alpha>=3", "Requires-Dist:", " eta"],
        None,
    ),  # a value on a folded line starts with a newline
    "usesbad-1.0.dist-info": (
        [
            "Name: usesbad",
            "Requires-Dist: badreq",
            "Requires-Dist: badver>=1",
            "Requires-Dist: nover",
            "Requires-Dist: badmarker",
            "Requires-Dist: badfold",
        ],
        None,
    ),
    "legacy-1.0.egg-info": (
        ["Name: legacy", "Version: 1.0"],
        "missingdep\nalpha<1\n\n[fast]\ndelta\n\n[:python_version<'3']\nold\n",
    ),
}


def write_metadata(site: Path, folder: str, headers: list[str], requires_txt: str | None) -> None:
    info = site / folder
    info.mkdir()
    meta = info / ("PKG-INFO" if folder.endswith(".egg-info") else "METADATA")
    meta.write_text("\n".join(["Metadata-Version: 2.1", *headers]) + "\n")
    if requires_txt is not None:
        (info / "requires.txt").write_text(requires_txt)


@slow
def test_unreadable_metadata_is_left_out_as_pip_does(tmp_path: Path) -> None:
    venv = make_venv(tmp_path / "venv", "beta")
    for folder, (headers, requires_txt) in ODD_METADATA.items():
        write_metadata(venv.site_packages, folder, headers, requires_txt)
    found = deps_of(venv).broken()
    assert found == pip_check(venv, tmp_path)
    assert set(found) == {
        "usesbad 1.0 requires badreq, which is not installed.",
        "usesbad 1.0 requires badver, which is not installed.",
        "usesbad 1.0 requires nover, which is not installed.",
        "usesbad 1.0 requires badmarker, which is not installed.",
        "usesbad 1.0 requires badfold, which is not installed.",
        "folded 1.0 has requirement alpha>=3, but you have alpha 2.0.",
        "folded 1.0 requires eta, which is not installed.",
        "legacy 1.0 requires missingdep, which is not installed.",
        "legacy 1.0 has requirement alpha<1, but you have alpha 2.0.",
    }
    deps = deps_of(venv)
    assert deps.requires("badreq") == ("nothere",)  # the line that parses still counts
    assert deps.requires("badmarker") == deps.requires("badfold") == ()
    assert deps.requires("folded") == ("alpha", "eta")
    assert deps.requires("legacy", ["fast"]) == ("alpha", "delta", "missingdep")
    assert deps.required_by("badver") == deps.required_by("nover") == ("usesbad",)


@slow
def test_requirements_of_dists_in_zip_files_on_the_path(tmp_path: Path) -> None:
    """A distribution in a zip file on `sys.path` (pip freeze lists it) has its Requires-Dist
    read from the archive, as `pip check` reads it."""
    venv = make_venv(tmp_path / "venv")
    target = tmp_path / "target"
    wheel = build_wheel(tmp_path, "zipreq", "1.0", requires=["notthere>=1"])
    pip(venv, "install", "--no-deps", "--target", str(target), str(wheel))
    archive = co.zip_folder(target, tmp_path / "deps.zip")
    (venv.site_packages / "zips.pth").write_text(f"{archive}\n")
    deps = read_dependencies(venv, marker_environment(venv))
    assert deps.requires("zipreq") == ("notthere",)
    check = subprocess.run(
        [venv.python, "-m", "pip", "check"], capture_output=True, text=True, check=False
    )
    assert deps.broken() == tuple(check.stdout.splitlines())
