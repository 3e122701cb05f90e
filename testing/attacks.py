"""What a collaborator could commit to run code on this machine, built offline in the session.

Each attack is a project whose in-tree PEP 517 backend (no setuptools, no build dependency)
writes a MARKER file the moment any build step imports it: an sdist (`evil_sdist`), a git
repository (`evil_git_repo`), a folder (`evil_project`). A marker that exists means code from
the project ran. `SimpleIndex` serves chosen wheels and sdists on 127.0.0.1 as a PEP 503
simple index (`/simple/`), and as plain files at `/` (for direct URLs and `--find-links`); with
`hashes`, its links carry `#sha256=`, and with `json_api` it answers PEP 691 JSON to a client
that asks for it.
"""

from __future__ import annotations

import functools
import hashlib
import html
import http.server
import io
import json
import re
import tarfile
import threading
from pathlib import Path
from typing import Any

from testing.localproject import PYPROJECT, git_repo

# Runs as soon as a build frontend (pip, uv) imports the backend: before any hook is called.
# Then the smallest backend that builds a wheel of NAME==VERSION holding one module.
EVIL_BACKEND = r"""
import base64, hashlib, os, zipfile

with open(MARKER, "a") as _marker:
    _marker.write(f"{NAME} {VERSION} backend imported by pid {os.getpid()}\n")

SAFE = NAME.replace("-", "_").replace(".", "_")


def _row(arcname, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{arcname},sha256={digest},{len(data)}"


def get_requires_for_build_wheel(config_settings=None):
    return []


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    info = f"{SAFE}-{VERSION}.dist-info"
    files = {
        f"{SAFE}_mod.py": b"VALUE = 1\n",
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {NAME}\nVersion: {VERSION}\n".encode(),
        f"{info}/WHEEL": b"Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    rows = [_row(name, data) for name, data in files.items()] + [f"{info}/RECORD,,"]
    filename = f"{SAFE}-{VERSION}-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, filename), "w") as whl:
        for name, data in files.items():
            whl.writestr(name, data)
        whl.writestr(f"{info}/RECORD", "\n".join(rows) + "\n")
    return filename
"""


def _evil_files(name: str, version: str, marker: Path) -> dict[str, bytes]:
    header = f"NAME = {name!r}\nVERSION = {version!r}\nMARKER = {str(marker)!r}\n"
    pkg_info = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    return {
        "pyproject.toml": PYPROJECT.encode(),
        "backend.py": (header + EVIL_BACKEND).encode(),
        "PKG-INFO": pkg_info.encode(),
    }


def evil_project(folder: Path, name: str, version: str, marker: Path) -> Path:
    """A project folder whose backend writes `marker` when a build imports it."""
    folder.mkdir(parents=True, exist_ok=True)
    for relative, data in _evil_files(name, version, marker).items():
        (folder / relative).write_bytes(data)
    return folder


def evil_sdist(dest: Path, name: str, version: str, marker: Path) -> Path:
    """`dest/<name>-<version>.tar.gz`: an sdist whose build writes `marker`."""
    dest.mkdir(parents=True, exist_ok=True)
    path = dest / f"{name}-{version}.tar.gz"
    with tarfile.open(path, "w:gz") as sdist:
        for relative, data in _evil_files(name, version, marker).items():
            entry = tarfile.TarInfo(f"{name}-{version}/{relative}")
            entry.size = len(data)
            entry.mode = 0o644
            sdist.addfile(entry, io.BytesIO(data))
    return path


def evil_git_repo(folder: Path, name: str, version: str, marker: Path) -> str:
    """A git repository (one commit on `main`) of an evil project; its `git+file://` URL."""
    git_repo(evil_project(folder, name, version, marker))
    return f"git+{folder.resolve().as_uri()}@main"


# ---- a loopback PEP 503 index -----------------------------------------------------------------

_ARCHIVE = re.compile(r"^(?P<name>.+?)-\d[^-]*(?:-.*\.whl|\.tar\.gz|\.zip)$")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _project_of(filename: str) -> str | None:
    found = _ARCHIVE.match(filename)
    return canonical(found["name"]) if found else None


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _links(files: list[Path], prefix: str, hashes: bool) -> bytes:
    rows = [
        f'<a href="{prefix}{html.escape(f.name)}'
        + (f"#sha256={sha256_of(f)}" if hashes else "")
        + f'">{html.escape(f.name)}</a><br>'
        for f in files
    ]
    return ("<!DOCTYPE html><html><body>\n" + "\n".join(rows) + "\n</body></html>\n").encode()


def _json_page(name: str, files: list[Path], prefix: str) -> bytes:
    """PEP 691's project page: each file with its URL and sha256."""
    listed = [
        {"filename": f.name, "url": prefix + f.name, "hashes": {"sha256": sha256_of(f)}}
        for f in files
    ]
    return json.dumps({"meta": {"api-version": "1.0"}, "name": name, "files": listed}).encode()


JSON_TYPE = "application/vnd.pypi.simple.v1+json"


class SimpleIndex:
    """Serves `folder` on 127.0.0.1: `/simple/` and `/simple/<project>/` (PEP 503) list its
    wheels and sdists, `/<file>` serves one of them, anything else is 404. `requests` holds
    every path asked for. Connections time out after 30 s; `close()` stops it. `hashes`: the
    links carry `#sha256=`; `json_api`: a client whose Accept names PEP 691 JSON gets it;
    `down`: every request is answered 503."""

    def __init__(self, folder: Path, hashes: bool = False, json_api: bool = False) -> None:
        self.folder = folder
        self.requests: list[str] = []
        self.hashes = hashes
        self.json_api = json_api
        self.down = False  # True: every request is answered 503
        index = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            timeout = 30

            def do_GET(self) -> None:
                index.requests.append(self.path)
                if index.down:
                    self.send_error(503, "down for a test")
                    return
                wants_json = index.json_api and JSON_TYPE in self.headers.get("Accept", "")
                page = index.page(self.path.split("?", 1)[0], wants_json)
                if page is None:
                    super().do_GET()  # a file of `folder`, or 404
                    return
                self.send_response(200)
                self.send_header("Content-Type", JSON_TYPE if wants_json else "text/html")
                self.send_header("Content-Length", str(len(page)))
                self.end_headers()
                self.wfile.write(page)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        handler = functools.partial(Handler, directory=str(folder))
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.simple = f"{self.url}/simple"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def page(self, path: str, wants_json: bool = False) -> bytes | None:
        """The HTML (or JSON) of an index page, or None for a path that is not one."""
        parts = [p for p in path.split("/") if p]
        if not parts or parts[0] != "simple" or len(parts) > 2:
            return None
        files = sorted(f for f in self.folder.iterdir() if _project_of(f.name))
        if len(parts) == 1:
            names = sorted({str(_project_of(f.name)) for f in files})
            rows = "\n".join(f'<a href="{n}/">{n}</a><br>' for n in names)
            return f"<!DOCTYPE html><html><body>\n{rows}\n</body></html>\n".encode()
        mine = [f for f in files if _project_of(f.name) == canonical(parts[1])]
        if not mine:
            return None
        if wants_json:
            return _json_page(canonical(parts[1]), mine, "../../")
        return _links(mine, "../../", self.hashes)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(10)
