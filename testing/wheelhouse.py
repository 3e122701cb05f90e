"""Build tiny real wheels offline, inside the test session.

Two sources: `build_wheel` writes a wheel from nothing (METADATA, WHEEL, RECORD and one
module), and `repack_installed` turns a distribution installed in the test runner's own
environment (pip, say) back into a wheel, so test venvs get a current pip without an index.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import re
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path


def wheel_safe(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name)


def _record_row(arcname: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{arcname},sha256={digest},{len(data)}"


def write_wheel(path: Path, files: Mapping[str, bytes], dist_info: str) -> Path:
    """Zip `files` (arcname -> bytes) into a wheel at `path`, adding a fresh RECORD."""
    rows = [_record_row(name, data) for name, data in files.items()]
    rows.append(f"{dist_info}/RECORD,,")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as whl:
        for name, data in files.items():
            whl.writestr(name, data)
        whl.writestr(f"{dist_info}/RECORD", "\n".join(rows) + "\n")
    return path


def build_wheel(
    dest: Path,
    name: str,
    version: str,
    *,
    requires: Iterable[str] = (),
    extras: Mapping[str, Iterable[str]] | None = None,
    module: str | None = None,
    metadata_name: str | None = None,
) -> Path:
    """A pure-Python wheel for `name==version` with one module that records its version."""
    safe = wheel_safe(name)
    dist_info = f"{safe}-{version}.dist-info"
    meta = ["Metadata-Version: 2.1", f"Name: {metadata_name or name}", f"Version: {version}"]
    meta += [f"Requires-Dist: {req}" for req in requires]
    for extra, reqs in (extras or {}).items():
        meta.append(f"Provides-Extra: {extra}")
        meta += [f'Requires-Dist: {req} ; extra == "{extra}"' for req in reqs]
    mod = module or safe.lower()
    files = {
        f"{mod}/__init__.py": f"__version__ = {version!r}\n".encode(),
        f"{dist_info}/METADATA": ("\n".join(meta) + "\n").encode(),
        f"{dist_info}/WHEEL": (
            b"Wheel-Version: 1.0\nGenerator: venvsyncd-tests\nRoot-Is-Purelib: true\n"
            b"Tag: py3-none-any\n"
        ),
    }
    return write_wheel(dest / f"{safe}-{version}-py3-none-any.whl", files, dist_info)


_SKIP_IN_REPACK = {"INSTALLER", "REQUESTED", "RECORD", "direct_url.json"}


def repack_installed(dest: Path, dist_name: str) -> Path:
    """A wheel of `dist_name` as installed in this interpreter (scripts and .pyc left out)."""
    dist = importlib.metadata.distribution(dist_name)
    files: dict[str, bytes] = {}
    dist_info = ""
    for entry in dist.files or ():
        arcname = entry.as_posix()
        parts = entry.parts
        if arcname.startswith("..") or "__pycache__" in parts or arcname.endswith(".pyc"):
            continue
        if parts[0].endswith(".dist-info"):
            dist_info = parts[0]
            if parts[-1] in _SKIP_IN_REPACK:
                continue
        files[arcname] = Path(str(dist.locate_file(entry))).read_bytes()
    version = dist.version
    safe = wheel_safe(dist.metadata["Name"])
    return write_wheel(dest / f"{safe}-{version}-py3-none-any.whl", files, dist_info)


# The shared wheelhouse: dependencies between packages, several versions of one, an extra,
# a marker-guarded dependency, and names that need normalising.
STANDARD_WHEELS: tuple[tuple[str, str, dict[str, object]], ...] = (
    ("alpha", "1.0", {}),
    ("alpha", "1.1", {}),
    ("alpha", "2.0", {}),
    ("beta", "1.0", {"requires": ["alpha>=1.0"]}),
    ("gamma", "1.0", {"extras": {"fast": ["delta"]}}),
    ("delta", "1.0", {}),
    (
        "epsilon",
        "1.0",
        {"requires": ['eta ; python_version >= "3"', 'zeta.dots ; python_version < "3"']},
    ),
    ("eta", "1.0", {}),
    ("Foo_Bar", "1.0", {}),
    ("zeta.dots", "1.0", {}),
)


def build_standard(dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    for name, version, options in STANDARD_WHEELS:
        build_wheel(dest, name, version, **options)  # type: ignore[arg-type]
    repack_installed(dest, "pip")
    return dest
