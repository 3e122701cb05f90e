"""Soak: a seeded random sequence of user operations on 5 real projects under the real daemon.

    python -m testing.soak --minutes N [--seed S] [--json FILE] [--keep]

Operations: pip and uv installs, upgrades and uninstalls; edits of the requirements file by
atomic rename, in-place write and `git checkout`; faults (a line pip cannot read, a version
that does not exist, a read-only file while the venv changes); daemon restarts and SIGKILLs.
And the adversarial ones: a note appended in place while the daemon rewrites the file after
a pip run (it must stay); a save in two chunks with a pause longer than the settle time
between them (the daemon must act on the whole content only); the file emptied (it must be
`held`; then `undo` brings the previous content back byte for byte, or `allow` applies it);
a user's `pip install` while the daemon installs for an edit (it must end up in the file).
A project `held` at a quiet point (a large removal) is settled by `undo` or `allow` at random.
After each quiet point (the daemon's `wait`): `sync --check` exits 0 for every project, no
comment or option line the user wrote is gone, every package version the user asked for is
installed and in the file, the journal holds every version venvsyncd replaced, and there
are no more writes than changes. Prints one summary line; exits 1 on any loss.
Everything runs offline in a temporary HOME, like the tests (tests/conftest.py, testing/venvs.py).
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

from testing.daemonproc import DaemonProcess, wait_for
from testing.soakworld import (
    EXTRA_WHEELS,
    VERSIONS,
    SoakProject,
    git,
    isolate,
    new_project,
    replace_atomically,
    requirement_lines,
    uninstalled_by,
    uninstalls_logged,
)

LOSSES: tuple[str, ...] = ("lines lost", "packages lost", "journal misses", "loops")
LOSSES += ("not in sync", "unreported")
LOSSES += ("half-way",)  # the daemon acted on a file while its writer still wrote it
FAULTS = ("bad line", "missing version", "read-only")
ADVERSARIAL = ("concurrent save", "chunked save", "truncation", "pip during sync")
SETTLE = 0.3  # settle_seconds in the daemon's config


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
        self.chunked: dict[Path, tuple[int, set[str]]] = {}  # log offset, names the save wants

    # ---- the daemon ----------------------------------------------------------------------
    def _start(self) -> DaemonProcess:
        config = Path(os.environ["VENVSYNCD_CONFIG"])
        config.parent.mkdir(parents=True, exist_ok=True)
        lines = ["[daemon]", f"settle_seconds = {SETTLE}", f'installer = "{self.installer}"']
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
        kinds += ["edit in place", "git checkout", "git commit", *FAULTS, *ADVERSARIAL]
        weights = [4, 1, 2, 4, 2, 4, 3, 2, 1, 1, 1, 1, 2, 2, 2, 2]
        kind = self.rng.choices(kinds, weights)[0]
        self.counts["operations"] += 1
        self.counts[kind] += 1
        p.log.append(f"quiet point {self.counts['quiet points']}: {kind}")
        if kind in FAULTS:
            self.counts["faults"] += 1
            self._fault(p, kind)
        elif kind in ADVERSARIAL:
            self._adversarial(p, kind)
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
        pip: list[str | Path] = [p.python, "-m", "pip"]
        uv: list[str | Path] = [self.uv, "pip"]
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
        # A missing version from a file that also names a source not approved yet (an earlier
        # edit's --trusted-host) is held before any install is tried: reported all the same.
        told = ("error", "held") if kind == "missing version" else ("error",)
        try:
            wait_for(lambda: self._state(p) in told, 60, f"{kind} in {p.path.name}", 0.05)
        except AssertionError:
            self.counts["unreported"] += 1
            self.problems.append(f"{kind} in {p.path.name} was never reported as an error")
        if kind == "read-only":
            p.requirements.chmod(0o644)
        else:
            p.requirements.write_text(text)

    def _state(self, p: SoakProject) -> str:
        return str(self.daemon.project(p.path)["state"])

    def _poll(self, p: SoakProject, state: str, timeout: float) -> bool:
        """Ask for the project's state until it is `state` (True) or `timeout` s passed."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._state(p) == state:
                return True
            time.sleep(0.005)
        return False

    def _log_mark(self) -> int:
        return self.daemon.log.stat().st_size

    def _log_since(self, mark: int) -> str:
        with open(self.daemon.log, "rb") as log:
            log.seek(mark)
            return log.read().decode(errors="replace")

    def _logged(self, p: SoakProject, mark: int) -> list[str]:
        """The daemon's log lines about `p` since `mark`."""
        lines = self._log_since(mark).splitlines()
        return [ln for ln in lines if ln.split(" ", 3)[-1].startswith(f"{p.path}: ")]

    # ---- the adversarial user ------------------------------------------------------------
    def _adversarial(self, p: SoakProject, kind: str) -> None:
        ops = {
            "concurrent save": self._concurrent_save,
            "chunked save": self._chunked_save,
            "truncation": self._truncation,
            "pip during sync": self._pip_during_sync,
        }
        ops[kind](p)

    def _concurrent_save(self, p: SoakProject) -> None:
        """pip changes the venv; while the daemon writes that into the file, the user appends
        a line in place (a note; in a pip-style file, which holds no comments, a requirement)."""
        self._env_op(p, self.rng.choice(["pip", "pip", "pip uninstall"]))
        p.serial += 1
        line = f"# note {p.path.name}-{p.serial}\n"
        if p.style == "pip":
            extra = p.unrelated_install(self.rng, p.requirements.read_text(), "")
            if extra is None:
                return
            line = f"{extra[0]}=={extra[1]}\n"
        self.counts["saves while syncing"] += self._poll(p, "syncing", 3.0)
        with open(p.requirements, "r+b") as file:  # one descriptor: read, then append
            read = file.read()
            sep = b"" if not read or read.endswith(b"\n") else b"\n"
            file.write(sep + line.encode())
        p.appended(read, sep.decode() + line)

    def _chunked_save(self, p: SoakProject) -> None:
        """A writer saves the new content in two chunks, the file open all along, with a pause
        longer than the settle time between them; the daemon may act on the whole only."""
        text = p.edited(self.rng)
        cut = self.rng.randrange(1, max(2, len(text) * 2 // 3))
        p.wrote(text)
        mark, seen = self._log_mark(), set()
        with open(p.requirements, "w") as file:
            file.write(text[:cut])
            file.flush()
            deadline = time.monotonic() + SETTLE + self.rng.uniform(0.2, 0.8)
            while time.monotonic() < deadline:  # the pause is the scenario, not a sync wait
                seen.add(self._state(p))
                time.sleep(0.02)
            file.write(text[cut:])
        acted = self._logged(p, mark)
        if seen - {"in-sync", "pending"} or acted:
            self._problem(p, "half-way", f"acted on {text[:cut]!r}: {sorted(seen)} {acted}")
        self.chunked[p.path] = (mark, set(requirement_lines(text)))

    def _truncation(self, p: SoakProject) -> None:
        """The file emptied (`: > requirements.txt`) or left with whitespace: it is held, and
        the user takes it back (`undo`) or applies it (`allow`) at random."""
        previous, installed = p.requirements.read_text(), p.installed()
        blank = self.rng.choice(["", "", "\n", "  \n\n", "\t\n \n"])
        p.wrote(blank)
        mark = self._log_mark()
        with open(p.requirements, "w") as file:
            file.write(blank)
        if not uninstalled_by(previous, blank, installed):
            return  # nothing to uninstall: nothing to hold
        if not self._await_held(p, mark):
            what = f"the emptied file was not held ({self._state(p)}): {self._logged(p, mark)}"
            self._problem(p, "unreported", what)
            return
        self._settle_held(p, installed)

    def _await_held(self, p: SoakProject, mark: int) -> bool:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            state = self._state(p)
            if state == "held":
                return True
            if state not in ("pending", "syncing") and self._logged(p, mark):
                return False  # it acted, and did not hold
            time.sleep(0.02)
        return False

    def _settle_held(self, p: SoakProject, installed: dict[str, str]) -> None:
        """A held project: nothing was uninstalled, the message says what to run; then the
        user runs `undo` (the settled content comes back byte for byte) or `allow`."""
        self.counts["held"] += 1
        message = self.daemon.project(p.path)["message"] or ""
        if "venvsyncd allow" not in message:
            self._problem(p, "unreported", f"held without saying `venvsyncd allow`: {message}")
        now = p.installed()
        for name in sorted(installed.keys() - now.keys()):
            self._problem(p, "packages lost", f"{name} uninstalled while held: {message}")
        p.allowance += 1  # the hold keeps the settled version in the journal for `undo`
        held = p.requirements.read_bytes()
        choice = self.rng.choice(["undo", "allow"])
        self.counts[choice] += 1
        code, output = _command(choice, p.path)
        if choice == "undo":  # the user's undo writes the file too: its replaced version is kept
            p.allowance += 1
        p.log.append(f"held, then {choice} (exit {code}): {output}")
        if code != 0:
            self._problem(p, "not in sync", f"`venvsyncd {choice}` exited {code}: {output}")
        if choice == "allow":
            going = uninstalled_by(p.settled.decode(), held.decode(), now)
            for name in sorted(going & p.installed().keys()):
                self._problem(p, "not in sync", f"`allow` left {name} installed: {output}")
            return
        if p.requirements.read_bytes() != p.settled:
            self._problem(p, "lines lost", f"undo did not bring back {p.settled!r}")
        p.undone(held)

    def _pip_during_sync(self, p: SoakProject) -> None:
        """An edit makes the daemon install; the user's own pip installs another package as
        soon as the daemon syncs (the two installers overlap as often as timing allows)."""
        edit = p.installing_edit(self.rng)
        if edit is None:
            return
        text, name = edit
        extra = p.unrelated_install(self.rng, text, name)
        p.wrote(text)
        with open(p.requirements, "w") as file:
            file.write(text)
        if extra is None:
            return
        self.counts["pips while syncing"] += self._poll(p, "syncing", 3.0)
        argv = [str(p.python), "-m", "pip", "install", "-q", f"{extra[0]}=={extra[1]}"]
        done = subprocess.run(argv, capture_output=True, text=True)
        if done.returncode != 0:  # the user's pip failed: nothing of the user's to keep
            self.counts["user pip failed"] += 1
            self.problems.append(f"{p.path.name}: {argv} failed: {done.stderr[-2000:]}")
            return
        p.env_changed(extra[0], extra[1], False)

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
        from venvsyncd.wire.client import request

        if self.daemon.proc.poll() is not None:
            self.problems.append(f"the daemon died by itself:\n{self.daemon.output()[-3000:]}")
            self.daemon = self._start()
        idle = request(self.daemon.socket, "wait", 200.0, timeout=180.0)["idle"]
        self.counts["quiet points"] += 1
        held = [p for p in self.projects if self._state(p) == "held"]
        for p in held:  # a large removal the user now decides on
            self._settle_held(p, p.settled_env)
        if held:
            idle = request(self.daemon.socket, "wait", 200.0, timeout=180.0)["idle"]
        for p in self.projects:
            self._check(p, idle)
        self.kills_since_quiet = 0
        request(self.daemon.socket, "wait", 200.0, timeout=180.0)
        for p in self.projects:  # nothing more was written once quiet: no loop
            if p.journal_newest(self.state_dir) != p.journal:
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
        self._check_chunked(p)
        new = p.journal_since(self.state_dir, p.journal)
        now = p.requirements.read_bytes()
        for replaced in [*p.replaced, *([p.before] if now != p.before else [])]:
            if replaced not in new:
                self._problem(p, "journal misses", f"replaced {replaced!r} is not in the journal")
        if len(new) > 1 + self.kills_since_quiet + p.allowance:
            self._problem(p, "loops", f"{len(new)} writes for one change")
        p.settle(p.journal_newest(self.state_dir))

    def _check_chunked(self, p: SoakProject) -> None:
        """After a chunked save: the daemon uninstalled nothing its whole content wants."""
        if p.path not in self.chunked:
            return
        mark, wanted = self.chunked.pop(p.path)
        for name in sorted(uninstalls_logged(self._log_since(mark), p.path) & wanted):
            self._problem(p, "packages lost", f"{name} uninstalled though the save wants it")

    def _problem(self, p: SoakProject, kind: str, what: str) -> None:
        self.counts[kind] += 1
        where = f"quiet point {self.counts['quiet points']}: {p.path.name}"
        recent = "\n    ".join(p.log[-6:])
        text = p.requirements.read_text(errors="replace")
        self.problems.append(f"{where}: {what}\n    {recent}\n    file now: {text!r}")


def _command(*argv: str | Path) -> tuple[int, str]:
    """`venvsyncd ARGV...` as the user runs it: its exit code and output."""
    done = subprocess.run(
        [sys.executable, "-m", "venvsyncd", *map(str, argv)], capture_output=True, text=True
    )
    return done.returncode, (done.stdout + done.stderr).strip()


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

    from testing.wheelhouse import build_standard, build_wheel

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
    keys: tuple[str, ...] = ("operations", "faults", "restarts", "kills", "quiet points")
    keys += ADVERSARIAL
    keys += ("saves while syncing", "pips while syncing", "held", *LOSSES)
    summary.update({k: soak.counts[k] for k in keys})
    summary["by kind"] = {k: v for k, v in sorted(soak.counts.items()) if k not in keys}
    print("soak: " + ", ".join(f"{k} {summary[k]}" for k in ("seed", "minutes", *keys)))
    return summary


if __name__ == "__main__":
    raise SystemExit(main())
