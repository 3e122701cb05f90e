"""pip's refusals are venvsyncd's: every way pip 26.3 refuses a requirements file, by line.

The rules come from pip's source: its line parser and option callbacks (`req/req_file.py`,
`cli/cmdoptions.py`), `Link` (`models/link.py`: egg fragments, wheel file names),
`parse_editable` and `parse_req_from_line` (`req/constructors.py`), the resolver's checks of a
`name @ URL` wheel and of constraints (`check_invalid_constraint_type`), and what it makes of a
local path. Each table row is checked against venvsyncd (`problems()` for what the text
decides, `path_problems()` for what the disk decides), then against a real pip in a scratch
venv: `pip install --dry-run --no-index -r FILE` exits non-zero for every refused row, and
zero for its accepted twin (so the refusal, not the setup, is what pip stopped on).
`{W}` stands for the session wheelhouse as a `file:` URL, `{R}` for a local git repository of
the project `proj`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from testing.localproject import git_repo, write_project
from testing.venvs import make_venv
from venvsyncd.engine.observe import read_file
from venvsyncd.env.venvs import Venv
from venvsyncd.errors import ProjectError
from venvsyncd.requirements.file import RequirementsFile, load_requirements, parse_requirements

WHEEL = "alpha-1.0-py3-none-any.whl"

# (id, line, part of venvsyncd's reason, an accepted twin or None); pip refuses every line
LINE_RULES: list[tuple[str, str, str, str | None]] = [
    # --- egg fragments: pip's `Link` takes `#egg=` (or `&egg=`) as a project name only
    ("egg-extras-direct-url", "foo @ git+https://host.invalid/foo@main#egg=foo[bar]",
     "egg fragment 'foo[bar]' is invalid", None),
    ("egg-version-direct-url", "bar @ https://host.invalid/bar.tar.gz#egg=bar==1.0",
     "egg fragment 'bar==1.0' is invalid", None),
    ("egg-version-direct-wheel", "alpha @ {W}/" + WHEEL + "#egg=alpha==1.0",
     "egg fragment 'alpha==1.0'", "alpha @ {W}/" + WHEEL + "#egg=alpha"),
    ("egg-extras-bare-wheel", "{W}/" + WHEEL + "#egg=alpha[x]",
     "egg fragment 'alpha[x]'", "{W}/" + WHEEL + "#egg=alpha"),
    ("egg-version-bare-vcs", "git+{R}#egg=proj==1.0", "egg fragment 'proj==1.0'",
     "git+{R}#egg=proj"),
    ("egg-extras-vcs-direct", "proj @ git+{R}@main#egg=proj[x]", "egg fragment 'proj[x]'",
     "proj @ git+{R}@main#egg=proj"),
    ("egg-extras-editable-vcs", "-e git+{R}#egg=proj[x]", "egg fragment 'proj[x]'",
     "-e git+{R}#egg=proj"),
    ("egg-version-editable-direct", '-e "proj @ git+{R}#egg=proj==1"',
     "egg fragment 'proj==1'", '-e "proj @ git+{R}#egg=proj"'),
    ("egg-after-ampersand", "git+https://host.invalid/r#sha256=aa&egg=foo%5Bx%5D",
     "egg fragment 'foo%5Bx%5D'", None),
    # --- wheels: pip reads `name==version` from the file name, and resolves only its own
    ("wheel-of-another-project", "beta @ {W}/" + WHEEL, "of project 'alpha', not 'beta'",
     "alpha @ {W}/" + WHEEL),
    ("wheel-name-invalid-direct", "alpha @ {W}/alpha-bad.whl", "Invalid wheel filename", None),
    ("wheel-name-invalid-bare", "https://host.invalid/alpha-bad.whl", "Invalid wheel filename",
     None),
    # --- URLs urllib cannot split: pip fails on them (a traceback, exit 2)
    ("url-unsplittable-bare", "http://[x/foo.tar.gz", "Invalid IPv6 URL", None),
    ("url-unsplittable-direct", "foo @ http://[x/foo.tar.gz", "Invalid IPv6 URL", None),
    # --- editables: a local folder or a VCS URL with a name (pip's `parse_editable`)
    ("editable-direct-url-not-vcs", '-e "proj @ https://host.invalid/proj.tar.gz"',
     "not a valid editable requirement", '-e "proj @ git+{R}"'),
    ("editable-vcs-without-name", "-e git+{R}", "needs #egg=name", "-e git+{R}#egg=proj"),
    ("editable-archive-url", "-e https://host.invalid/x.tar.gz",
     "not a valid editable requirement", None),
    # --- options: pip's choices and option callbacks
    ("use-feature-unknown", "--use-feature=nope", "invalid choice: 'nope'",
     "--use-feature=fast-deps"),
    ("config-settings-no-equals", "alpha -C nokey", "must be of the form KEY=VAL",
     "alpha -C key=value"),
    ("config-settings-long", "alpha --config-settings=nokey", "KEY=VAL", None),
    ("no-binary-dash", "--no-binary=-x", "--no-binary option requires 1 argument",
     "--no-binary=:none:"),
    ("no-binary-takes-next-option", "--no-binary --pre", "requires 1 argument", None),
    ("only-binary-dash", "--only-binary=-x", "--only-binary option requires", None),
    ("all-releases-dash", "--all-releases=-x", "--all-releases option requires",
     "--all-releases=alpha"),
    ("only-final-dash", "--only-final=-x", "--only-final option requires", None),
    ("hash-without-colon", "alpha==1.0 --hash=sha256", "--hash must be", None),
    ("hash-weak-algorithm", "alpha==1.0 --hash=md5:00", "--hash must be", None),
    ("option-unknown", "--frobnicate", "no such option", None),
    ("option-ambiguous", "--e alpha", "ambiguous option", None),
    ("option-missing-value", "-r", "requires 1 argument", None),
    ("option-no-value-taken", "--no-index=yes", "does not take a value", "--no-index"),
    ("options-unsplittable", "alpha --hash 'sha256:00", "could not split options", None),
    # --- requirements and markers (packaging's grammar, as pip uses it)
    ("marker-invalid", "alpha ; python_version <<< '3'", "Expected",
     "alpha ; python_version < '4'"),
    ("single-equals", "alpha=1.0", "Expected", "alpha==1.0"),
    ("prose", "Features to add or even remove...", "Expected", None),
]  # fmt: skip

# (id, a line of a file included with -c, venvsyncd's reason or None when pip takes it)
CONSTRAINT_RULES: list[tuple[str, str, str | None]] = [
    ("editable", "-e ./proj", "editable requirements are not allowed as constraints"),
    ("unnamed-path", "./proj", "unnamed requirements are not allowed as constraints"),
    (
        "unnamed-url",
        "https://host.invalid/foo.tar.gz",
        "unnamed requirements are not allowed as constraints",
    ),
    ("extras", "alpha[x]==1.0", "constraints cannot have extras"),
    (
        "extras-marker-false",
        'alpha[x]==1.0 ; python_version < "3"',
        "constraints cannot have extras",
    ),
    ("pin", "alpha==1.0", None),
    ("named-url", "alpha @ {W}/" + WHEEL, None),
    ("named-by-egg", "git+{R}#egg=proj", None),
]

# (id, line, venvsyncd's reason or None when pip takes it); folders: proj/ (a project),
# empty/ (no project), notes.txt, dist/ (the wheel); paths from the file's folder
PATH_RULES: list[tuple[str, str, str | None]] = [
    ("missing", "./missing", "looks like a path, but the file does not exist"),
    ("missing-absolute", "/nonexistent-venvsyncd/ModuleFormer", "the file does not exist"),
    ("missing-with-extras", "./missing[x]", "the file does not exist"),
    ("missing-archive", "./missing-1.0.tar.gz", "looks like a file name, but the file does"),
    ("folder-no-project", "./empty", "neither setup.py nor pyproject.toml"),
    ("file-not-an-archive", "./notes.txt", "no package archive"),
    ("editable-missing", "-e ./missing", "not a valid editable requirement"),
    ("editable-bare-name", "-e alpha", "not a valid editable requirement"),
    ("editable-no-project", "-e ./empty", "neither setup.py nor pyproject.toml"),
    ("folder", "./proj", None),
    ("folder-extras-marker", './proj[x] ; python_version > "3"', None),
    ("editable-folder", "-e ./proj[x]", None),
    ("wheel-file", "./dist/" + WHEEL, None),
]


@pytest.fixture(scope="module")
def places(tmp_path_factory: pytest.TempPathFactory, wheelhouse: Path) -> dict[str, str]:
    """The `{W}` and `{R}` of the tables."""
    repo = git_repo(write_project(tmp_path_factory.mktemp("repo") / "proj", "proj", "1.0"))
    return {"W": wheelhouse.as_uri(), "R": repo.as_uri()}


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Venv:
    """A scratch venv holding the test session's pip (26.3, from the wheelhouse)."""
    return make_venv(tmp_path_factory.mktemp("scratch") / "venv")


def project(root: Path, wheelhouse: Path) -> Path:
    """The folders PATH_RULES name, around a requirements file at root/requirements.txt."""
    write_project(root / "proj", "proj", "1.0")
    (root / "empty").mkdir()
    (root / "notes.txt").write_text("# notes\n")
    (root / "dist").mkdir()
    shutil.copy(wheelhouse / WHEEL, root / "dist" / WHEEL)
    return root / "requirements.txt"


def pip_exit(venv: Venv, requirements: Path) -> int:
    """How pip ends `install --dry-run --no-index -r requirements`, run from the file's folder
    (the session's PIP_FIND_LINKS is the wheelhouse)."""
    proc = subprocess.run(
        [venv.python, "-m", "pip", "install", "--dry-run", "--no-index", "--quiet",
         "-r", requirements.name],
        cwd=requirements.parent, capture_output=True, text=True, timeout=180, check=False,
        env={**os.environ, "PIP_RETRIES": "0", "PIP_TIMEOUT": "5"},
    )  # fmt: skip
    return proc.returncode


def parsed(path: Path, text: str) -> RequirementsFile:
    path.write_text(text)
    return parse_requirements(path.read_bytes(), path)


# --- what the text decides: `problems()`, the line number and the reason ---------------------


@pytest.mark.parametrize(
    ("line", "reason"),
    [(line, reason) for _, line, reason, _ in LINE_RULES],
    ids=[r[0] for r in LINE_RULES],
)
def test_line_pip_refuses_is_a_problem(
    line: str, reason: str, places: dict[str, str], tmp_path: Path
) -> None:
    text = f"alpha==1.0\n{line.format_map(places)}\nbeta\n"
    req = parsed(tmp_path / "requirements.txt", text)
    problems = req.problems()
    assert [number for number, _ in problems] == [2], problems
    assert reason in problems[0][1]
    assert req.to_bytes() == text.encode()


@pytest.mark.parametrize(
    "line",
    [
        "foo @ git+https://host.invalid/foo@main#egg=foo[bar]",
        "bar @ https://host.invalid/bar.tar.gz#egg=bar==1.0",
    ],
)
def test_a_file_pip_refuses_is_a_project_error_naming_file_and_line(
    line: str, tmp_path: Path
) -> None:
    """What the engine makes of it: the sync stops on the file, naming it and the line."""
    path = tmp_path / "requirements.txt"
    path.write_text(f"# pins\nalpha==1.0\n{line}\n")
    with pytest.raises(ProjectError) as info:
        read_file(path)
    assert info.value.message.startswith(f"{path} line 3: ")
    assert "egg fragment" in info.value.message


TWINS = [(rule[0], rule[3]) for rule in LINE_RULES if rule[3] is not None]


@pytest.mark.parametrize("twin", [t for _, t in TWINS], ids=[i for i, _ in TWINS])
def test_accepted_twin_is_no_problem(twin: str, places: dict[str, str], tmp_path: Path) -> None:
    req = parsed(tmp_path / "requirements.txt", f"alpha==1.0\n{twin.format_map(places)}\n")
    assert req.problems() == []
    assert req.path_problems() == []


@pytest.mark.parametrize(
    "line",
    [
        "baz @ https://host.invalid/baz.tar.gz#egg=baz",  # a valid egg fragment
        "git+https://host.invalid/r#egg=foo&egg=b==1",  # pip reads the first only
        "https://host.invalid/x/alpha-1.0-py3-none-any.whl/",  # the slash ignored: a wheel
        '-e "proj @ git+https://host.invalid/proj#egg=other"',  # the name given wins
        "alpha==1.0 --hash=sha256:",  # an empty digest is pip's to check, later
        "--pre --all-releases=alpha",
        "alpha --config-settings=key=a=b",
    ],
)
def test_near_misses_pip_reads_are_no_problem(line: str, tmp_path: Path) -> None:
    assert parsed(tmp_path / "requirements.txt", line + "\n").problems() == []


def test_wheel_of_another_project_keeps_its_line_readable(places: dict[str, str]) -> None:
    """pip reads `name @ URL` of another project's wheel and refuses it when it resolves:
    the line stays a requirement (its source known), with the reason as its problem."""
    text = f"beta @ {places['W']}/{WHEEL}\n"
    req = parse_requirements(text.encode(), Path("/project/requirements.txt"))
    (line,) = req.requirements()
    assert (line.name, req.location(line)) == ("beta", f"{places['W']}/{WHEEL}")
    assert req.problems() == [(1, "the wheel in the URL is of project 'alpha', not 'beta'")]


@pytest.mark.parametrize(
    ("line", "reason"),
    [(line, reason) for _, line, reason in CONSTRAINT_RULES],
    ids=[r[0] for r in CONSTRAINT_RULES],
)
def test_constraint_forms(
    line: str, reason: str | None, places: dict[str, str], tmp_path: Path, wheelhouse: Path
) -> None:
    main = project(tmp_path, wheelhouse)
    main.write_text("alpha\n-c constraints.txt\n")
    (tmp_path / "constraints.txt").write_text(f"# pinned\n{line.format_map(places)}\n")
    top, (constraints,) = load_requirements(main)
    assert top.problems() == []
    assert constraints.problems() == ([] if reason is None else [(2, reason)])
    assert parse_requirements(constraints.to_bytes(), constraints.source).problems() == []


# --- what the disk decides: `path_problems()` -----------------------------------------------


@pytest.mark.parametrize(
    ("line", "reason"),
    [(line, reason) for _, line, reason in PATH_RULES],
    ids=[r[0] for r in PATH_RULES],
)
def test_local_paths(line: str, reason: str | None, tmp_path: Path, wheelhouse: Path) -> None:
    req = parsed(project(tmp_path, wheelhouse), f"alpha==1.0\n{line}\n")
    assert req.problems() == []
    problems = req.path_problems()
    assert [number for number, _ in problems] == ([] if reason is None else [2])
    assert reason is None or reason in problems[0][1]


def test_local_paths_are_taken_from_the_files_folder(tmp_path: Path, wheelhouse: Path) -> None:
    req = parsed(project(tmp_path, wheelhouse), "./proj\n-e ../proj\n")
    assert req.path_problems() == [(2, "not a valid editable requirement: it names no folder "
                                       "(nor a VCS URL)")]  # fmt: skip
    nested = tmp_path / "requirements"
    nested.mkdir()
    assert parsed(nested / "dev.txt", "-e ../proj\n./missing\n").path_problems() == [
        (2, "it looks like a path, but the file does not exist")
    ]


# --- the same rows against a real pip ---------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(
    ("line", "twin"),
    [(line, twin) for _, line, _, twin in LINE_RULES],
    ids=[r[0] for r in LINE_RULES],
)
def test_real_pip_refuses_the_line_and_takes_its_twin(
    line: str, twin: str | None, places: dict[str, str], scratch: Venv, tmp_path: Path
) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(f"alpha==1.0\n{line.format_map(places)}\n")
    assert pip_exit(scratch, requirements) != 0
    if twin is not None:
        requirements.write_text(f"alpha==1.0\n{twin.format_map(places)}\n")
        assert pip_exit(scratch, requirements) == 0


@pytest.mark.slow
@pytest.mark.parametrize(
    ("line", "reason"),
    [(line, reason) for _, line, reason in CONSTRAINT_RULES],
    ids=[r[0] for r in CONSTRAINT_RULES],
)
def test_real_pip_on_constraint_forms(
    line: str,
    reason: str | None,
    places: dict[str, str],
    scratch: Venv,
    tmp_path: Path,
    wheelhouse: Path,
) -> None:
    main = project(tmp_path, wheelhouse)
    main.write_text("alpha\n-c constraints.txt\n")
    (tmp_path / "constraints.txt").write_text(f"{line.format_map(places)}\n")
    assert (pip_exit(scratch, main) != 0) == (reason is not None)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("line", "reason"),
    [(line, reason) for _, line, reason in PATH_RULES],
    ids=[r[0] for r in PATH_RULES],
)
def test_real_pip_on_local_paths(
    line: str, reason: str | None, scratch: Venv, tmp_path: Path, wheelhouse: Path
) -> None:
    main = project(tmp_path, wheelhouse)
    main.write_text(f"alpha==1.0\n{line}\n")
    assert (pip_exit(scratch, main) != 0) == (reason is not None)
