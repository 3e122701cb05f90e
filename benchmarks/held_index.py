"""A loopback find-links page whose wheel downloads wait while held: an install that the
benchmark keeps running for as long as it likes, offline."""

from __future__ import annotations

import http.server
import threading
from pathlib import Path
from typing import Any

from testing.wheelhouse import build_wheel


class HeldIndex:
    """Serves `/` (links to its wheels of `name`) and the wheels, on 127.0.0.1. After
    `hold()`, a wheel download waits until `release()`; `wait_asked` waits for one to come."""

    def __init__(self, folder: Path, name: str, versions: tuple[str, ...]) -> None:
        self.wheels = {build_wheel(folder, name, v).name: folder for v in versions}
        self.folder = folder
        self._open = threading.Event()
        self._open.set()
        self._asked = threading.Event()
        index = self

        class Handler(http.server.BaseHTTPRequestHandler):
            timeout = 120

            def do_GET(self) -> None:
                name = self.path.split("?", 1)[0].strip("/")
                if name in index.wheels:
                    index._asked.set()
                    index._open.wait(300)
                    self._send((index.folder / name).read_bytes(), "application/octet-stream")
                elif not name:
                    links = "".join(f'<a href="/{w}">{w}</a><br>\n' for w in index.wheels)
                    self._send(f"<html><body>\n{links}</body></html>\n".encode(), "text/html")
                else:
                    self.send_error(404)

            def _send(self, body: bytes, kind: str) -> None:
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def hold(self) -> None:
        self._asked.clear()
        self._open.clear()

    def release(self) -> None:
        self._open.set()

    def wait_asked(self, timeout: float) -> bool:
        """Has a wheel been asked for since `hold()` (within `timeout` seconds)?"""
        return self._asked.wait(timeout)

    def close(self) -> None:
        self.release()
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(10)
