"""sd_notify(3) without libsystemd: tell the service manager how the daemon is.

The protocol: one datagram of newline-separated `KEY=VALUE` lines, sent on an AF_UNIX
SOCK_DGRAM socket to `$NOTIFY_SOCKET` (an address starting with `@` is in the abstract
namespace). systemd sets that variable for a `Type=notify` service, and `$WATCHDOG_USEC`
(with `$WATCHDOG_PID`) when the unit has `WatchdogSec=`. Without `$NOTIFY_SOCKET`, as under a
plain `venvsyncd run`, every function here does nothing and returns False.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable, Mapping

log = logging.getLogger("venvsyncd")

NOTIFY_ENV = "NOTIFY_SOCKET"


def notify_address(environ: Mapping[str, str] | None = None) -> str | None:
    """`$NOTIFY_SOCKET`, or None when unset or empty."""
    value = (os.environ if environ is None else environ).get(NOTIFY_ENV, "")
    return value or None


def format_message(fields: Mapping[str, object]) -> bytes:
    """`KEY=VALUE` lines; a value's own newlines become spaces (STATUS is one line)."""
    lines = []
    for key, value in fields.items():
        text = str(int(value)) if isinstance(value, bool) else str(value)
        lines.append(f"{key}={' '.join(text.splitlines())}")
    return "\n".join(lines).encode("utf-8")


def send(address: str, message: bytes) -> bool:
    """One datagram to `address`; False (logged) when it could not be sent."""
    target = "\0" + address[1:] if address.startswith("@") else address
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.sendto(message, target)
    except OSError as exc:
        log.debug("sd_notify to %s failed: %s", address, exc)
        return False
    return True


def notify(**fields: object) -> bool:
    """Send `fields` (e.g. `READY=1`, `STATUS="..."`) to `$NOTIFY_SOCKET`; False when unset."""
    address = notify_address()
    return send(address, format_message(fields)) if address else False


def ready(status: str) -> bool:
    return notify(READY=1, STATUS=status, MAINPID=os.getpid())


def stopping(status: str = "stopping") -> bool:
    return notify(STOPPING=1, STATUS=status)


def watchdog() -> bool:
    return notify(WATCHDOG=1)


def watchdog_interval(
    environ: Mapping[str, str] | None = None, pid: int | None = None
) -> float | None:
    """Seconds within which the manager wants `WATCHDOG=1` (`$WATCHDOG_USEC`), or None.

    None too when `$WATCHDOG_PID` names another process: the watchdog is not ours.
    """
    env = os.environ if environ is None else environ
    try:
        usec = int(env.get("WATCHDOG_USEC", ""))
    except ValueError:
        return None
    owner = env.get("WATCHDOG_PID", "")
    if usec <= 0 or (owner and owner != str(os.getpid() if pid is None else pid)):
        return None
    return usec / 1_000_000


class ServiceNotifier:
    """The daemon's side of the protocol: READY once, STATUS when it changes, WATCHDOG on time.

    The worker calls `beat()` on every turn of its loop; it sends `WATCHDOG=1` once half the
    interval has passed and says when it wants the next turn. Work that may block the worker
    longer than the interval (a sync running pip) is announced with `hold(seconds)`, which
    stretches the watchdog for that long (`WATCHDOG_USEC=`); `hold(None)` restores it.
    """

    def __init__(
        self,
        address: str | None,
        interval: float | None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.address = address
        self.interval = interval if address else None
        self._clock = clock
        self._last_beat = clock()
        self._held: float | None = None
        self._status: str | None = None
        self._ready = self._stopping = False

    @classmethod
    def from_environ(cls) -> ServiceNotifier:
        return cls(notify_address(), watchdog_interval())

    @property
    def enabled(self) -> bool:
        return self.address is not None

    def _send(self, **fields: object) -> bool:
        return send(self.address, format_message(fields)) if self.address else False

    def ready(self, status: str) -> None:
        self._status, self._ready = status, True
        self._send(READY=1, STATUS=status, MAINPID=os.getpid())

    def status(self, text: str) -> None:
        """STATUS=text, when it differs from the last one (kept for READY until then)."""
        if text != self._status:
            self._status = text
            if self._ready and not self._stopping:
                self._send(STATUS=text)

    def beat(self) -> float:
        """Send WATCHDOG=1 when due; seconds until the next one is (1.0 with no watchdog)."""
        if self.interval is None:
            return 1.0
        half = self.interval / 2
        now = self._clock()
        if now - self._last_beat >= half:
            self._watchdog(now)
        return max(0.0, self._last_beat + half - now)

    def hold(self, seconds: float | None) -> None:
        """Stretch the watchdog to `seconds` while the worker is busy; None: back to normal."""
        if self.interval is None or seconds == self._held:
            return
        self._held = seconds
        self._watchdog(self._clock(), seconds if seconds is not None else self.interval)

    def _watchdog(self, now: float, new_interval: float | None = None) -> None:
        self._last_beat = now
        if new_interval is None:
            self._send(WATCHDOG=1)
        else:
            self._send(WATCHDOG=1, WATCHDOG_USEC=round(new_interval * 1_000_000))

    def stopping(self) -> None:
        """STOPPING=1, once (a signal handler and the end of the worker both call it)."""
        if not self._stopping:
            self._stopping = True
            self._send(STOPPING=1, STATUS="stopping")
