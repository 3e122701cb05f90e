"""The daemon keeps a hash-pinned file hashed: a user's `pip install` reaches the file with
the hashes of the new package and its dependency; with the index down, nothing is written, the
project says why, and the daemon tries again by itself once the index is back."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from testing.attacks import SimpleIndex, sha256_of
from testing.daemonproc import DaemonProcess, start, wait_for
from testing.venvs import make_venv, run
from testing.wheelhouse import build_wheel
from venvsyncd.requirements.file import parse_requirements

pytestmark = [pytest.mark.slow]


@pytest.fixture
def index(tmp_path: Path) -> Iterator[SimpleIndex]:
    folder = tmp_path / "served"
    folder.mkdir()
    build_wheel(folder, "hdalpha", "1.0")
    build_wheel(folder, "hdbeta", "1.0", requires=["hdgamma"])
    build_wheel(folder, "hdgamma", "1.0")
    served = SimpleIndex(folder, hashes=True)
    yield served
    served.close()


def hashes(req: Path) -> dict[str, tuple[str, ...]]:
    parsed = parse_requirements(req.read_bytes(), req)
    return {line.name or "": line.hashes for line in parsed.requirements()}


def test_the_daemon_hashes_a_pip_install_and_retries_an_index_that_was_down(
    project: Path,
    daemon_factory: list[DaemonProcess],
    tmp_path: Path,
    index: SimpleIndex,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("VENVSYNCD_RESCAN_SECONDS", "1")  # the retry of an unreachable index
    folder = index.folder
    venv = make_venv(project / ".venv")
    offline = ["--no-index", "--find-links", str(folder)]
    run([venv.python, "-m", "pip", "install", *offline, "hdalpha"])
    req = project / "requirements.txt"
    alpha = f"sha256:{sha256_of(folder / 'hdalpha-1.0-py3-none-any.whl')}"
    req.write_text(f"--index-url {index.simple}\nhdalpha==1.0 \\\n    --hash={alpha}\n")
    daemon = start(daemon_factory, project, tmp=tmp_path)
    assert daemon.idle()["projects"][0]["state"] == "in-sync"
    before = req.read_bytes()

    index.down = True
    run([venv.python, "-m", "pip", "install", *offline, "hdbeta"])
    shown = wait_for(
        lambda: (p := daemon.project(project))["state"] == "error" and p, 30, "an error"
    )
    assert index.simple.removesuffix("/simple") in shown["message"], shown
    assert req.read_bytes() == before

    index.down = False  # back: the next rescan tries again, without any change on disk
    wait_for(lambda: "hdbeta" in hashes(req), 30, "the hashed lines of hdbeta")
    found = hashes(req)
    assert found["hdbeta"] == (f"sha256:{sha256_of(folder / 'hdbeta-1.0-py3-none-any.whl')}",)
    assert found["hdgamma"] == (f"sha256:{sha256_of(folder / 'hdgamma-1.0-py3-none-any.whl')}",)
    assert found["hdalpha"] == (alpha,)
    assert daemon.idle()["projects"][0]["state"] == "in-sync"
