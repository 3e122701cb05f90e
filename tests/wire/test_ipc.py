"""The control socket for real: IpcServer, the client and the daemon-control commands.

Every test binds a real AF_UNIX socket in the per-test runtime dir ($XDG_RUNTIME_DIR from
conftest). Where a daemon is needed, `FakeDaemon` stands in for the daemon's handler table
only; the socket, the framing, the client and the command line are the real ones.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import fcntl
import json
import logging
import os
import random
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from venvsyncd.cli import main
from venvsyncd.cli.control import pause_resume_line, render_status, status_exit_code
from venvsyncd.errors import DaemonNotRunning, ProjectError, VenvsyncdError
from venvsyncd.paths import locations
from venvsyncd.wire import client, endpoint
from venvsyncd.wire.endpoint import DaemonAlreadyRunning, peer_allowed, peer_uid
from venvsyncd.wire.server import IpcServer
from venvsyncd.wire.status import DaemonInfo, ProjectStatus

Handlers = dict[str, Callable[[dict[str, Any]], dict[str, Any]]]


def sock_path() -> Path:
    return locations().socket


def wait_for(condition: Callable[[], object], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def _boom(message: dict[str, Any]) -> dict[str, Any]:
    raise KeyError("kaput")


def echo_handlers() -> Handlers:
    return {"echo": lambda message: {"echo": message}, "boom": _boom}


@contextlib.contextmanager
def serving(handlers: Handlers, path: Path | None = None, **options: Any) -> Iterator[IpcServer]:
    server = IpcServer(path or sock_path(), handlers, **options)
    thread = server.start()
    try:
        yield server
    finally:
        server.close()
        thread.join(10)
        assert not thread.is_alive()


def exchange(path: Path, payload: bytes) -> dict[str, Any] | None:
    """Send raw bytes, half-close, and return the one reply (None when the server said nothing)."""
    with client.connect(path, 10) as sock:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(payload)
            sock.shutdown(socket.SHUT_WR)
        data = receive_all(sock)
    return json.loads(data) if data else None


def receive_all(sock: socket.socket) -> bytes:
    data = b""
    with contextlib.suppress(ConnectionResetError):  # the server closed on unread input
        while chunk := sock.recv(65536):
            data += chunk
    assert data.count(b"\n") <= 1 and (not data or data.endswith(b"\n"))
    return data


def assert_still_answers(path: Path) -> None:
    assert client.request(path, "echo", 10.0, n=1) == {"echo": {"op": "echo", "n": 1}}


# --- the server ---------------------------------------------------------------------------


def test_round_trip_and_builtin_ping() -> None:
    with serving(echo_handlers()):
        reply = client.request(sock_path(), "echo", 10.0, path="/x", numbers=[1, 2], text="é")
        assert reply == {"echo": {"op": "echo", "path": "/x", "numbers": [1, 2], "text": "é"}}
        assert client.request(sock_path(), "ping") == {"pid": os.getpid()}


def test_unknown_op_lists_the_known_ones() -> None:
    with serving(echo_handlers()):
        reply = exchange(sock_path(), b'{"op": "x"}\n')
        assert reply == {"error": "unknown op 'x'", "ops": ["boom", "echo", "ping"]}
        assert exchange(sock_path(), b'{"no": "op"}\n') == {
            "error": 'the request has no "op"',
            "ops": ["boom", "echo", "ping"],
        }
        with pytest.raises(VenvsyncdError, match="unknown op 'x'"):
            client.request(sock_path(), "x")


def test_a_failing_handler_is_logged_and_the_server_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with serving(echo_handlers()), caplog.at_level(logging.ERROR, logger="venvsyncd.ipc"):
        assert exchange(sock_path(), b'{"op": "boom"}\n') == {
            "error": "internal error: KeyError: 'kaput'"
        }
        assert_still_answers(sock_path())
    (record,) = caplog.records
    assert record.name == "venvsyncd.ipc" and record.exc_info is not None


def test_a_handlers_own_error_reaches_the_user_with_its_hint() -> None:
    def refuse(message: dict[str, Any]) -> dict[str, Any]:
        raise ProjectError("/p is not watched", hint="venvsyncd add /p")

    with serving({"refuse": refuse}), pytest.raises(VenvsyncdError) as caught:
        client.request(sock_path(), "refuse")
    assert (caught.value.message, caught.value.hint) == ("/p is not watched", "venvsyncd add /p")


def test_folder_is_0700_socket_0600_and_a_loose_folder_is_tightened() -> None:
    runtime = sock_path().parent
    runtime.mkdir(mode=0o755)
    os.chmod(runtime, 0o755)
    with serving(echo_handlers()):
        assert stat.S_IMODE(runtime.stat().st_mode) == 0o700
        assert stat.S_ISSOCK(sock_path().stat().st_mode)
        assert stat.S_IMODE(sock_path().stat().st_mode) == 0o600
    assert not sock_path().exists()


def test_close_leaves_a_socket_file_that_is_not_its_own() -> None:
    with serving(echo_handlers()):
        sock_path().unlink()
        sock_path().write_text("someone else's")
    assert sock_path().read_text() == "someone else's"


# --- one daemon per user ------------------------------------------------------------------


def test_a_stale_socket_is_replaced() -> None:
    sock_path().parent.mkdir(mode=0o700)
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    dead.bind(str(sock_path()))
    dead.close()  # a daemon that died: the file stays, nobody listens
    with pytest.raises(DaemonNotRunning):
        client.request(sock_path(), "ping")
    with serving(echo_handlers()):
        assert_still_answers(sock_path())


def test_claim_socket_removes_a_plain_file_and_refuses_a_live_daemon() -> None:
    sock_path().parent.mkdir(mode=0o700)
    sock_path().write_text("")
    endpoint.claim_socket(sock_path())
    assert not sock_path().exists()
    with serving(echo_handlers()), pytest.raises(DaemonAlreadyRunning) as caught:
        endpoint.claim_socket(sock_path())
    assert caught.value.pid == os.getpid()


def test_a_second_server_names_the_first_ones_pid() -> None:
    with serving(echo_handlers()), pytest.raises(DaemonAlreadyRunning) as caught:
        IpcServer(sock_path(), echo_handlers())
    assert caught.value.pid == os.getpid() and caught.value.exit_code == 1
    assert f"pid {os.getpid()}" in caught.value.message
    assert str(sock_path()) in caught.value.message


DAEMON_SCRIPT = """
import sys, threading
from pathlib import Path
from venvsyncd.wire.server import IpcServer
server = IpcServer(Path(sys.argv[1]), {})
server.start()
print("ready", flush=True)
sys.stdin.read()
server.close()
"""


def test_a_server_in_another_process_is_named_by_its_pid() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", DAEMON_SCRIPT, str(sock_path())],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
        with pytest.raises(DaemonAlreadyRunning) as caught:
            IpcServer(sock_path(), echo_handlers())
        assert caught.value.pid == proc.pid
        assert main(["status"]) == 1  # it answers, but has no `status` op
    finally:
        proc.communicate("", timeout=10)
    assert proc.returncode == 0 and not sock_path().exists()


def hold_lock() -> int:
    sock_path().parent.mkdir(mode=0o700)
    fd = os.open(sock_path().parent / endpoint.LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    return fd


def answer_pings(listener: socket.socket, pid: int) -> None:
    with contextlib.suppress(OSError):
        while True:
            conn, _ = listener.accept()
            with conn:
                conn.recv(65536)
                conn.sendall(client.encode_frame({"pid": pid}))


def test_starting_while_another_daemon_binds_waits_for_its_ping(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lock_fd = hold_lock()  # the other daemon: has the lock, has not bound yet
    pings: list[int | None] = []
    real_ping = client.ping

    def counted_ping(path: Path, timeout: float = 2.0) -> int | None:
        pings.append(real_ping(path, timeout))
        return pings[-1]

    monkeypatch.setattr(client, "ping", counted_ping)
    outcome: list[BaseException] = []
    starter = threading.Thread(target=lambda: outcome.append(_start_failure()))
    starter.start()
    wait_for(lambda: pings)  # it asked, and nobody answered yet
    listener = endpoint.bind_socket(sock_path())
    threading.Thread(target=answer_pings, args=(listener, 4242), daemon=True).start()
    starter.join(10)
    listener.close()
    os.close(lock_fd)
    assert pings[0] is None and pings[-1] == 4242
    assert isinstance(outcome[0], DaemonAlreadyRunning) and outcome[0].pid == 4242


def _start_failure() -> BaseException:
    try:
        IpcServer(sock_path(), {}).close()
    except BaseException as exc:
        return exc
    raise AssertionError("a second server started")


def test_a_lock_holder_that_never_answers_is_still_reported(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(endpoint, "STARTING_GRACE", 0.2)
    lock_fd = hold_lock()
    try:
        with pytest.raises(DaemonAlreadyRunning, match="already running") as caught:
            IpcServer(sock_path(), {})
        assert caught.value.pid is None
    finally:
        os.close(lock_fd)
    with serving({}):  # once the lock is free, a server starts
        assert client.request(sock_path(), "ping") == {"pid": os.getpid()}


# --- hostile input ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "error"),
    [
        (b'{"op": "ec', "not valid JSON"),
        (b'{"op": "ec\n', "not valid JSON"),
        (b"\n", "not valid JSON"),
        (b'["op", "echo"]\n', "a JSON list, not an object"),
        (b'"echo"\n', "a JSON str, not an object"),
        (b'{"op": "\xff\xfe"}\n', "not valid UTF-8 (byte 8)"),
        (b"\xc3\x28\n", "not valid UTF-8"),
        (b"[" * 200_000 + b"\n", "nested too deeply"),
        (b"x" * (client.MAX_REQUEST + 1), "longer than 1048576 bytes"),
    ],
)
def test_bad_frames_get_an_error_and_the_server_goes_on(payload: bytes, error: str) -> None:
    with serving(echo_handlers()):
        reply = exchange(sock_path(), payload)
        assert reply is not None and error in reply["error"]
        assert_still_answers(sock_path())


def test_random_bytes_never_crash_the_server() -> None:
    rng = random.Random(20261122)
    with serving(echo_handlers()):
        for size in (1, 7, 100, 4096, 300_000):
            reply = exchange(sock_path(), rng.randbytes(size))
            assert reply is None or set(reply) <= {"error", "ops"}
        assert exchange(sock_path(), b"") is None  # connect and hang up
        assert_still_answers(sock_path())


def test_a_frame_just_under_the_limit_is_served() -> None:
    head = b'{"op": "echo", "pad": "'
    pad = b"a" * (client.MAX_REQUEST - len(head) - 2)
    with serving(echo_handlers()):
        reply = exchange(sock_path(), head + pad + b'"}\n')
        assert reply is not None and len(reply["echo"]["pad"]) == len(pad)


def test_a_slow_client_is_cut_off_while_others_are_answered() -> None:
    sent, done = threading.Event(), threading.Event()
    result: list[dict[str, Any] | None] = []

    def dribble() -> None:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.connect(str(sock_path()))
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                for byte in b'{"op": "echo", "n": 1}\n':
                    sock.sendall(bytes([byte]))
                    sent.set()
                    if done.wait(0.5):  # a byte every half second
                        break
            result.append(json.loads(receive_all(sock) or b"null"))

    with serving(echo_handlers(), request_timeout=1.5):
        slow = threading.Thread(target=dribble)
        started = time.monotonic()
        slow.start()
        assert sent.wait(10)
        for _ in range(5):
            assert_still_answers(sock_path())
        assert slow.is_alive()
        wait_for(lambda: result)  # the server hung up on it
        done.set()
        slow.join(10)
    assert result == [{"error": "no complete request within 1.5 s"}]
    assert time.monotonic() - started < 8  # well before its 23 bytes took 11.5 s


def test_200_concurrent_connections_are_answered_or_told_busy() -> None:
    barrier = threading.Barrier(200)

    def one(n: int) -> dict[str, Any] | None:
        barrier.wait(10)
        return exchange(sock_path(), client.encode_frame({"op": "echo", "n": n}))

    with serving(echo_handlers()), concurrent.futures.ThreadPoolExecutor(200) as pool:
        replies = list(pool.map(one, range(200)))
        assert_still_answers(sock_path())
    busy = [r for r in replies if r is not None and r.get("error") == "busy"]
    answered = [r for r in replies if r is not None and "echo" in r]
    assert len(busy) + len(answered) == 200
    assert sorted(r["echo"]["n"] for r in answered) == sorted({r["echo"]["n"] for r in answered})


def test_past_the_connection_cap_a_client_is_told_busy() -> None:
    release = threading.Event()
    entered = threading.Semaphore(0)

    def block(message: dict[str, Any]) -> dict[str, Any]:
        entered.release()
        return {"released": release.wait(10)}

    with serving({"block": block, **echo_handlers()}, max_connections=2):
        pool = concurrent.futures.ThreadPoolExecutor(2)
        blocked = [pool.submit(client.request, sock_path(), "block") for _ in range(2)]
        assert entered.acquire(timeout=10) and entered.acquire(timeout=10)
        with pytest.raises(VenvsyncdError, match=r"^busy$"):
            client.request(sock_path(), "echo", 0.5)  # asked again and again for 0.5 s
        release.set()
        assert [f.result(10) for f in blocked] == [{"released": True}] * 2
        pool.shutdown()
        assert_still_answers(sock_path())


def test_a_blocking_handler_times_out_on_the_client_side() -> None:
    release = threading.Event()
    handlers = {"block": lambda message: {"released": release.wait(10)}}
    with serving(handlers), pytest.raises(VenvsyncdError, match="did not answer 'block' within"):
        client.request(sock_path(), "block", 0.3)
    release.set()


# --- who may connect ----------------------------------------------------------------------


def test_peer_check_on_a_socketpair() -> None:
    left, right = socket.socketpair(socket.AF_UNIX)
    with left, right:
        if not hasattr(socket, "SO_PEERCRED"):
            assert peer_uid(left) is None and peer_allowed(left, os.geteuid() + 1)
            return
        assert peer_uid(left) == os.geteuid()
        assert peer_allowed(left, os.geteuid())
        assert not peer_allowed(left, os.geteuid() + 1)


PEER_CLIENT = """
import sys
sys.path.insert(0, sys.argv[2])
from pathlib import Path
from venvsyncd.wire import client
from venvsyncd.errors import VenvsyncdError
try:
    print(client.request(Path(sys.argv[1]), "echo"))
except VenvsyncdError as exc:
    print(exc.message)
"""
NOBODY = ["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups"]
SOURCE = str(Path(client.__file__).parents[1])


def python_for_nobody() -> str | None:
    """A Python that uid 65534 can run and import venvsyncd's client with."""
    probe = [f"import sys; sys.path.insert(0, {SOURCE!r}); import venvsyncd.client"]
    for candidate in (sys.executable, "/usr/bin/python3"):
        if subprocess.run([*NOBODY, candidate, "-I", "-c", *probe]).returncode == 0:
            return candidate
    return None


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() != 0 or shutil.which("setpriv") is None,
    reason="needs root and setpriv to connect as another user",
)
def test_another_user_is_refused() -> None:
    python = python_for_nobody()
    if python is None:
        pytest.skip("no Python that uid 65534 may run with venvsyncd's source")
    base = Path(tempfile.mkdtemp(prefix="vsd-peer-", dir="/tmp"))  # pytest's tmp is 0700
    try:
        path = base / "run" / "venvsyncd.sock"
        with serving(echo_handlers(), path=path):
            for folder in (base, path.parent):  # let uid 65534 reach the socket, for this test
                os.chmod(folder, 0o711)
            os.chmod(path, 0o666)
            proc = subprocess.run(
                [*NOBODY, python, "-I", "-c", PEER_CLIENT, str(path), SOURCE],
                capture_output=True,
                text=True,
                timeout=30,
            )
            assert (proc.returncode, proc.stdout) == (0, "permission denied\n"), proc.stderr
            assert_still_answers(path)
    finally:
        shutil.rmtree(base)


# --- the control commands against a stand-in daemon ---------------------------------------

DAEMON = DaemonInfo(
    pid=1234, version="0.1.0", started="2026-11-22T10:00:00Z", config="/c.toml", socket="/s"
).to_json()


def project_status(path: str, state: str, message: str | None = None) -> dict[str, Any]:
    return ProjectStatus(
        path=path,
        venv=f"{path}/.venv",
        requirements=f"{path}/requirements.txt",
        python="3.11.7",
        mode="both",
        style="preserve",
        state=state,
        packages=47,
        last_sync="2026-11-22T10:01:02Z",
        last_change="+requests==2.34.2 -> requirements.txt",
        message=message,
    ).to_json()


class FakeDaemon:
    """The daemon's handler table, answering from a fixed list of projects."""

    def __init__(self, projects: list[dict[str, Any]]) -> None:
        self.projects = projects
        self.requests: list[dict[str, Any]] = []
        self.idle = threading.Event()
        self.idle.set()
        self.server: IpcServer | None = None

    def handlers(self) -> Handlers:
        table: Handlers = {"status": self.status, "wait": self.wait, "stop": self.stop}
        for op in ("reload", "pause", "resume", "add", "remove"):
            table[op] = self.acknowledge
        return table

    def chosen(self, message: dict[str, Any]) -> list[dict[str, Any]]:
        self.requests.append(message)
        from venvsyncd.daemon.ops import select  # the daemon's own rule

        keys = [p["path"] for p in self.projects]
        try:
            picked = select(keys, message.get("path"), bool(message.get("default")))
        except VenvsyncdError as exc:
            raise ProjectError(exc.message, hint=exc.hint) from exc
        return [p for p in self.projects if p["path"] in picked]

    def status(self, message: dict[str, Any]) -> dict[str, Any]:
        return {"daemon": DAEMON, "projects": self.chosen(message)}

    def wait(self, message: dict[str, Any]) -> dict[str, Any]:
        self.chosen(message)
        return {"idle": self.idle.wait(message["timeout"])}

    def stop(self, message: dict[str, Any]) -> dict[str, Any]:
        self.requests.append(message)
        assert self.server is not None
        self.server.close()  # from the handler's own thread, as a daemon may do
        return {"pid": 1234}

    def acknowledge(self, message: dict[str, Any]) -> dict[str, Any]:
        if message["op"] == "reload":
            return {"projects": len(self.projects)}
        return {"projects": [p["path"] for p in self.chosen(message)]}

    def ops(self) -> list[str]:
        return [r["op"] for r in self.requests]


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[FakeDaemon]:
    fake = FakeDaemon(
        [
            project_status(str(tmp_path / "app"), "in-sync"),
            project_status(str(tmp_path / "lib"), "paused"),
        ]
    )
    with serving(fake.handlers()) as server:
        fake.server = server
        yield fake


def test_status_shows_every_project(daemon: FakeDaemon, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["status"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[:2] for line in lines] == [
        [daemon.projects[0]["path"], "in-sync"],
        [daemon.projects[1]["path"], "paused"],
    ]
    assert daemon.requests == [{"op": "status", "path": str(Path.cwd()), "default": True}]


def test_status_json_is_the_reply(daemon: FakeDaemon, capsys: pytest.CaptureFixture[str]) -> None:
    daemon.projects.append(project_status("/w", "conflict", "both sides changed requests"))
    assert main(["status", "--json"]) == 1
    out = capsys.readouterr().out
    assert out == json.dumps({"daemon": DAEMON, "projects": daemon.projects}, indent=2) + "\n"


def test_status_of_one_path_sends_it_absolute(
    daemon: FakeDaemon, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["status", "app", "-q"]) == 0
    assert daemon.requests == [{"op": "status", "path": str(tmp_path / "app")}]


def test_status_of_a_path_the_daemon_does_not_watch(
    daemon: FakeDaemon, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["status", str(tmp_path / "other")]) == 1
    err = capsys.readouterr().err
    assert f"error: {tmp_path / 'other'} is not watched by this daemon" in err
    assert "hint: add it with `venvsyncd add PATH`" in err


def test_status_wait_blocks_until_idle_while_others_are_answered(
    daemon: FakeDaemon, capsys: pytest.CaptureFixture[str]
) -> None:
    daemon.idle.clear()
    codes: list[int] = []
    waiter = threading.Thread(target=lambda: codes.append(main(["status", "--wait", "-q"])))
    waiter.start()
    wait_for(lambda: "wait" in daemon.ops())
    assert client.request(sock_path(), "status")["daemon"] == DAEMON  # answered meanwhile
    assert waiter.is_alive()
    daemon.idle.set()
    waiter.join(10)
    assert codes == [0]
    assert daemon.requests[0] == {
        "op": "wait",
        "path": str(Path.cwd()),
        "default": True,
        "timeout": 60.0,
    }


def test_status_wait_times_out_with_4(
    daemon: FakeDaemon, capsys: pytest.CaptureFixture[str]
) -> None:
    daemon.idle.clear()
    assert main(["status", "--wait", "--timeout", "0.2"]) == 4
    assert "still syncing after 0.2 s" in capsys.readouterr().err
    assert daemon.ops() == ["wait", "status"]


@pytest.mark.parametrize(
    "argv", [["status", "--timeout", "5"], ["status", "--wait", "--timeout", "0"]]
)
def test_status_timeout_misuse_is_a_usage_error(argv: list[str]) -> None:
    assert main(argv) == 2


def test_stop_returns_once_the_socket_is_gone(
    daemon: FakeDaemon, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["stop"]) == 0
    assert capsys.readouterr().out == "stopped the venvsyncd daemon (pid 1234)\n"
    assert not sock_path().exists()
    assert main(["stop"]) == 3


def test_pause_resume_reload(
    daemon: FakeDaemon, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app = daemon.projects[0]["path"]
    assert main(["pause", app]) == 0
    assert main(["resume"]) == 0
    assert main(["reload"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[:2] == [f"paused {app}", "resumed 2 projects"]
    assert out[2].startswith("the daemon reloaded ") and out[2].endswith("; 2 projects watched")
    assert daemon.requests == [
        {"op": "pause", "path": app},
        {"op": "resume", "path": str(Path.cwd()), "default": True},
    ]


@pytest.mark.parametrize("argv", [["status"], ["stop"], ["reload"], ["pause"], ["resume", "."]])
def test_no_daemon_is_exit_3_with_a_hint(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 3
    err = capsys.readouterr().err
    assert f"the venvsyncd daemon is not running (no answer on {sock_path()})" in err
    assert "hint: start it with `venvsyncd run` or as a service" in err


def test_add_and_remove_tell_a_running_daemon(
    daemon: FakeDaemon, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app = tmp_path / "app"
    app.mkdir()
    (app / "requirements.txt").write_text("alpha\n")
    assert main(["add", str(app)]) == 0
    assert main(["remove", str(app)]) == 0
    assert daemon.requests == [{"op": "add", "path": str(app)}, {"op": "remove", "path": str(app)}]


def test_add_without_a_daemon_says_nothing_more(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "requirements.txt").write_text("alpha\n")
    assert main(["add", str(tmp_path)]) == 0
    assert capsys.readouterr().out == f"added {tmp_path} to {os.environ['VENVSYNCD_CONFIG']}\n"
    assert client.notify(sock_path(), "add", path=str(tmp_path)) is False


# --- rendering, pure ----------------------------------------------------------------------


def test_render_status_aligns_and_explains() -> None:
    reply = {
        "daemon": DAEMON,
        "projects": [
            project_status("/a", "in-sync") | {"packages": 1, "last_change": None},
            project_status("/longer", "conflict", "requests changed on both sides\nrun: sync"),
            project_status("/b", "pending", "waiting: pip runs"),
            project_status("/c", "in-sync", "not shown when in sync"),
        ],
    }
    assert render_status(reply) == [
        "/a       in-sync   1 package    -",
        "/longer  conflict  47 packages  +requests==2.34.2 -> requirements.txt",
        "    requests changed on both sides",
        "    run: sync",
        "/b       pending   47 packages  +requests==2.34.2 -> requirements.txt",
        "    waiting: pip runs",
        "/c       in-sync   47 packages  +requests==2.34.2 -> requirements.txt",
    ]
    assert render_status(reply, verbose=True)[0] == (
        "daemon pid 1234, venvsyncd 0.1.0, since 2026-11-22T10:00:00Z, config /c.toml"
    )
    assert render_status({"daemon": DAEMON, "projects": []}) == [
        "the daemon watches no project; add one with: venvsyncd add PATH"
    ]


@pytest.mark.parametrize(
    ("states", "code"),
    [
        ([], 0),
        (["in-sync"], 0),
        (["in-sync", "paused"], 0),
        (["in-sync", "pending"], 1),
        (["syncing"], 1),
        (["drift"], 1),
        (["paused", "conflict"], 1),
        (["error"], 1),
        (["something-new"], 1),
    ],
)
def test_status_exit_code(states: list[str], code: int) -> None:
    reply = {"daemon": DAEMON, "projects": [project_status("/p", s) for s in states]}
    assert status_exit_code(reply) == code


@pytest.mark.parametrize(
    ("op", "reply", "line"),
    [
        ("pause", {"projects": ["/a"]}, "paused /a"),
        ("pause", {"projects": []}, "paused 0 projects"),
        ("resume", {"projects": ["/a", "/b"]}, "resumed 2 projects"),
        ("resume", {}, "resumed"),
    ],
)
def test_pause_resume_line(op: str, reply: dict[str, Any], line: str) -> None:
    assert pause_resume_line(op, reply) == line


def test_a_listener_that_is_not_venvsyncd_is_not_taken_over() -> None:
    sock_path().parent.mkdir(mode=0o700)
    with endpoint.bind_socket(sock_path()):  # listens, never answers
        with pytest.raises(VenvsyncdError, match="did not answer 'ping' within"):
            IpcServer(sock_path(), {})
        assert stat.S_ISSOCK(sock_path().stat().st_mode)


def test_a_socket_path_too_long_is_named() -> None:
    path = sock_path().parent / ("x" * 120) / "venvsyncd.sock"
    with pytest.raises(VenvsyncdError, match=r"cannot connect to .*xxx"):
        client.request(path, "ping")
    with pytest.raises(VenvsyncdError, match="cannot"):
        IpcServer(path, {})
