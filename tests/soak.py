"""Soak: a seeded random sequence of user operations on 5 real projects under the real daemon.

    python tests/soak.py --minutes N [--seed S] [--json FILE] [--keep]

Operations: pip and uv installs, upgrades and uninstalls; edits of the requirements file by
atomic rename, in-place write and `git checkout`; faults (a line pip cannot read, a version
that does not exist, a read-only file while the venv changes); daemon restarts and SIGKILLs.
After each quiet point (the daemon's `wait`): `sync --check` exits 0 for every project, no
comment or option line the user wrote is gone, every package version the user asked for is
installed and in the file, the journal holds every version venvsyncd replaced, and there
are no more writes than changes. Prints one summary line; exits 1 on any loss.
Everything runs offline in a temporary HOME, like the tests (tests/conftest.py).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.daemonproc import DaemonProcess, wait_for
from tests.soakworld import (
    EXTRA_WHEELS,
    VERSIONS,
    SoakProject,
    git,
    isolate,
    new_project,
    replace_atomically,
)

LOSSES = ("lines lost", "packages lost", "journal misses", "loops", "not in sync", "unreported")
FAULTS = ("bad line", "missing version", "read-only")


class Soak:
    def __init__(self, root: Path, seed: int, uv: str) -> None:
        from venvsyncd.paths import locations

        self.root, self.rng, self.uv = root, random.Random(seed), uv
        self.counts: Counter[str] = Counter()
        self.problems: list[str] = []
        self.state_dir = locations().state_dir
        styles = ["preserve", "preserve", "preserve", "pip", "preserve"]
        self.projects = [new_project(root, f"p{i}", s, uv) for i, s in enumerate(styles)]
        self.installer = self.rng.choice(["pip", "uv"])
        self.daemon = self._start()
        self.kills_since_quiet = 0

    # ---- the daemon ----------------------------------------------------------------------
    def _start(self) -> DaemonProcess:
        config = Path(os.environ["VENVSYNCD_CONFIG"])
        config.parent.mkdir(parents=True, exist_ok=True)
        lines = ["[daemon]", "settle_seconds = 0.3", f'installer = "{self.installer}"']
        for p in self.projects:
            lines += ["[[project]]", f'path = "{p.path}"', f'style = "{p.style}"']
        config.write_text("\n".join(lines) + "\n")
        daemon = DaemonProcess(log=self.root / "daemon.log")
        daemon.ready(60)
        return daemon

    def _restart(self, kill: bool) -> None:
        if kill:
            time.sleep(self.rng.uniform(0.0, 1.0))  # a random moment of its work
            self.daemon.kill()
            self.kills_since_quiet += 1
        else:
            self.daemon.stop()
        self.counts["kills" if kill else "restarts"] += 1
        self.installer = "uv" if self.installer == "pip" else "pip"  # both take turns
        self.daemon = self._start()

    # ---- the user ------------------------------------------------------------------------
    def _run(self, *argv: str | Path) -> None:
        subprocess.run([str(a) for a in argv], check=True, capture_output=True)

    def user_op(self, p: SoakProject) -> None:
        kinds = ["pip", "pip -U", "pip uninstall", "uv", "uv uninstall", "edit by rename"]
        kinds += ["edit in place", "git checkout", "git commit", *FAULTS]
        weights = [4, 1, 2, 4, 2, 4, 3, 2, 1, 1, 1, 1]
        kind = self.rng.choices(kinds, weights)[0]
        self.counts["operations"] += 1
        self.counts[kind] += 1
        p.log.append(f"quiet point {self.counts['quiet points']}: {kind}")
        if kind in FAULTS:
            self.counts["faults"] += 1
            self._fault(p, kind)
        elif kind.startswith(("pip", "uv")):
            self._env_op(p, kind)
        elif kind.startswith("git"):
            self._git_op(p, kind)
        else:
            text = p.edited(self.rng)
            p.wrote(text)
            if kind == "edit by rename":
                replace_atomically(p.requirements, text)
            else:
                with open(p.requirements, "w") as file:
                    file.write(text)

    def _env_op(self, p: SoakProject, kind: str) -> None:
        installed = p.installed()
        new = [(n, v) for n, vs in VERSIONS.items() for v in vs if installed.get(n) != v]
        name, version = self.rng.choice(new)  # a real change (the same version: none)
        pip = [p.python, "-m", "pip"]
        uv = [self.uv, "pip"]
        if kind.endswith("uninstall") and installed:
            name = self.rng.choice(sorted(installed))
            argv = [*pip, "uninstall", "-qy", name] if kind == "pip uninstall" else []
            argv = argv or [*uv, "uninstall", "-q", "--python", p.python, name]
            self._run(*argv)
            p.env_changed(name, None, True)
            return
        if kind == "pip -U":
            version = VERSIONS[name][-1]
            self._run(*pip, "install", "-q", "-U", name)
        elif kind.startswith("pip"):
            self._run(*pip, "install", "-q", f"{name}=={version}")
        else:
            self._run(*uv, "install", "-q", "--python", p.python, f"{name}=={version}")
        p.env_changed(name, version, name in installed)

    def _git_op(self, p: SoakProject, kind: str) -> None:
        if kind == "git commit":
            git(p.path, "commit", "-qam", f"soak {self.counts['operations']}", "--allow-empty")
            return
        revisions = git(p.path, "rev-list", "HEAD", "--", "requirements.txt").split()
        revision = self.rng.choice(revisions)
        p.wrote(git(p.path, "show", f"{revision}:requirements.txt"))
        git(p.path, "checkout", "-q", revision, "--", "requirements.txt")

    def _fault(self, p: SoakProject, kind: str) -> None:
        """Inject a fault, see it reported, take it back (nothing may be lost on the way)."""
        text = p.requirements.read_text()
        if kind == "read-only":
            p.requirements.chmod(0o444)
            self._env_op(p, "uv")
        else:
            extra = "alpha==\n" if kind == "bad line" else "kappa==9.9\n"
            p.requirements.write_text(text + extra)
        try:
            wait_for(lambda: self._state(p) == "error", 60, f"{kind} in {p.path.name}", 0.05)
        except AssertionError:
            self.counts["unreported"] += 1
            self.problems.append(f"{kind} in {p.path.name} was never reported as an error")
        if kind == "read-only":
            p.requirements.chmod(0o644)
        else:
            p.requirements.write_text(text)

    def _state(self, p: SoakProject) -> str:
        return str(self.daemon.project(p.path)["state"])

    # ---- quiet points --------------------------------------------------------------------
    def step(self) -> None:
        chosen = self.rng.sample(self.projects, self.rng.randint(1, len(self.projects)))
        for p in chosen:
            self.user_op(p)
        roll = self.rng.random()
        if roll < 0.12:
            self._restart(kill=True)
        elif roll < 0.18:
            self._restart(kill=False)
        self.quiet_point()

    def quiet_point(self) -> None:
        from venvsyncd.client import request

        if self.daemon.proc.poll() is not None:
            self.problems.append(f"the daemon died by itself:\n{self.daemon.output()[-3000:]}")
            self.daemon = self._start()
        idle = request(self.daemon.socket, "wait", 200.0, timeout=180.0)["idle"]
        self.counts["quiet points"] += 1
        for p in self.projects:
            self._check(p, idle)
        self.kills_since_quiet = 0
        request(self.daemon.socket, "wait", 200.0, timeout=180.0)
        for p in self.projects:  # nothing more was written once quiet: no loop
            if len(p.journal_contents(self.state_dir)) != p.journal:
                self._problem(p, "loops", "wrote again after a quiet point")

    def _check(self, p: SoakProject, idle: bool) -> None:
        shown = self.daemon.project(p.path)
        if not idle or shown["state"] != "in-sync":
            self._problem(p, "not in sync", f"{shown['state']}: {shown['message']}")
        if _cli("sync", str(p.path), "--check") != 0:
            self._problem(p, "not in sync", "`sync --check` exited non-zero")
        for line in p.lost_lines():
            self._problem(p, "lines lost", line)
        for package in p.lost_packages():
            self._problem(p, "packages lost", package)
        contents = p.journal_contents(self.state_dir)
        now = p.requirements.read_bytes()
        if now != p.before and p.before not in contents:
            self._problem(p, "journal misses", f"replaced {p.before!r} is not in the journal")
        if len(contents) - p.journal > 1 + self.kills_since_quiet:
            self._problem(p, "loops", f"{len(contents) - p.journal} writes for one change")
        p.journal, p.before = len(contents), now

    def _problem(self, p: SoakProject, kind: str, what: str) -> None:
        self.counts[kind] += 1
        where = f"quiet point {self.counts['quiet points']}: {p.path.name}"
        recent = "\n    ".join(p.log[-6:])
        text = p.requirements.read_text(errors="replace")
        self.problems.append(f"{where}: {what}\n    {recent}\n    file now: {text!r}")


def _cli(*argv: str) -> int:
    from venvsyncd.cli import main

    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        return main(list(argv))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=2.0)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--json", type=Path, help="write the summary here as JSON")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args(argv)
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(10**6)
    root = Path(tempfile.mkdtemp(prefix="venvsyncd-soak-"))
    try:
        summary = run(root, seed, args.minutes)
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(summary, indent=1) + "\n")
    return 1 if any(summary[k] for k in LOSSES) else 0


def run(root: Path, seed: int, minutes: float) -> dict[str, object]:
    import uv

    from tests.wheelhouse import build_standard, build_wheel

    wheelhouse = build_standard(root / "wheelhouse")
    for name, version, requires in EXTRA_WHEELS:
        build_wheel(wheelhouse, name, version, requires=requires)
    uv_bin = uv.find_uv_bin()
    isolate(root, wheelhouse)
    os.environ["PATH"] = f"{Path(uv_bin).parent}{os.pathsep}{os.environ['PATH']}"
    started = time.monotonic()
    soak = Soak(root, seed, uv_bin)
    try:
        soak.quiet_point()
        while time.monotonic() - started < minutes * 60:
            soak.step()
    finally:
        soak.daemon.stop()
    for problem in soak.problems[:30]:
        print(f"soak: {problem}", file=sys.stderr)
    summary: dict[str, object] = {
        "seed": seed,
        "minutes": round((time.monotonic() - started) / 60, 2),
    }
    keys = ("operations", "faults", "restarts", "kills", "quiet points", *LOSSES)
    summary.update({k: soak.counts[k] for k in keys})
    summary["by kind"] = {k: v for k, v in sorted(soak.counts.items()) if k not in keys}
    print("soak: " + ", ".join(f"{k} {summary[k]}" for k in ("seed", "minutes", *keys)))
    return summary


if __name__ == "__main__":
    raise SystemExit(main())
