"""The Win32 calls that `_winapi` lacks, through ctypes: who this process runs as, a security
descriptor that lets only that user in, who owns an open handle, and an event to wake a wait
(`_winapi` has events from Python 3.13 on only).

Windows only (imported by `pipes.py`). A SID travels as its string form (`S-1-5-21-...`).
"""

from __future__ import annotations

import ctypes
import functools
import sys
from ctypes import wintypes

assert sys.platform == "win32", "venvsyncd.wire.win32 is for Windows"  # mypy: Windows only

_TOKEN_QUERY = 0x0008
_TOKEN_USER = 1  # TOKEN_INFORMATION_CLASS.TokenUser
_SDDL_REVISION_1 = 1
_SE_KERNEL_OBJECT = 6
_OWNER_SECURITY_INFORMATION = 0x1

_advapi32 = ctypes.WinDLL("advapi32", use_last_error=True)
_kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
_PSID = ctypes.c_void_p
_LPVOID_P = ctypes.POINTER(ctypes.c_void_p)

_kernel32.GetCurrentProcess.restype = wintypes.HANDLE
_kernel32.CloseHandle.argtypes = [wintypes.HANDLE]
_kernel32.LocalFree.argtypes = [ctypes.c_void_p]
_kernel32.LocalFree.restype = ctypes.c_void_p
_kernel32.CreateEventW.argtypes = [ctypes.c_void_p, wintypes.BOOL, wintypes.BOOL, wintypes.LPCWSTR]
_kernel32.CreateEventW.restype = wintypes.HANDLE
_kernel32.SetEvent.argtypes = [wintypes.HANDLE]
_advapi32.OpenProcessToken.argtypes = [
    wintypes.HANDLE,
    wintypes.DWORD,
    ctypes.POINTER(wintypes.HANDLE),
]
_advapi32.GetTokenInformation.argtypes = [
    *(wintypes.HANDLE, ctypes.c_int, ctypes.c_void_p, wintypes.DWORD),
    ctypes.POINTER(wintypes.DWORD),
]
_advapi32.ConvertSidToStringSidW.argtypes = [_PSID, ctypes.POINTER(wintypes.LPWSTR)]
_advapi32.ConvertStringSecurityDescriptorToSecurityDescriptorW.argtypes = [
    *(wintypes.LPCWSTR, wintypes.DWORD, _LPVOID_P, ctypes.POINTER(wintypes.ULONG)),
]
_advapi32.GetSecurityInfo.argtypes = [
    *(wintypes.HANDLE, ctypes.c_int, wintypes.DWORD, _LPVOID_P, _LPVOID_P, _LPVOID_P, _LPVOID_P),
    _LPVOID_P,
]
_advapi32.GetSecurityInfo.restype = wintypes.DWORD


class _SidAndAttributes(ctypes.Structure):
    _fields_ = [("Sid", _PSID), ("Attributes", wintypes.DWORD)]


class _SecurityAttributes(ctypes.Structure):
    _fields_ = [
        ("nLength", wintypes.DWORD),
        ("lpSecurityDescriptor", ctypes.c_void_p),
        ("bInheritHandle", wintypes.BOOL),
    ]


def _check(ok: object, what: str) -> None:
    if not ok:
        code = ctypes.get_last_error()
        raise OSError(None, f"{what}: {ctypes.FormatError(code)}", None, code)


@functools.cache
def user_sid() -> str:
    """The SID of the user this process runs as (its token's user, not its groups)."""
    token = wintypes.HANDLE()
    ok = _advapi32.OpenProcessToken(_kernel32.GetCurrentProcess(), _TOKEN_QUERY, token)
    _check(ok, "OpenProcessToken")
    try:
        size = wintypes.DWORD()
        _advapi32.GetTokenInformation(token, _TOKEN_USER, None, 0, ctypes.byref(size))
        buffer = ctypes.create_string_buffer(size.value)
        ok = _advapi32.GetTokenInformation(token, _TOKEN_USER, buffer, size, ctypes.byref(size))
        _check(ok, "GetTokenInformation")
        return _sid_string(_SidAndAttributes.from_buffer(buffer).Sid)
    finally:
        _kernel32.CloseHandle(token)


def _sid_string(sid: int | None) -> str:
    text = wintypes.LPWSTR()
    _check(_advapi32.ConvertSidToStringSidW(sid, ctypes.byref(text)), "ConvertSidToStringSidW")
    try:
        return str(text.value)
    finally:
        _kernel32.LocalFree(ctypes.cast(text, ctypes.c_void_p))


def only_user_sddl(sid: str) -> str:
    """Owned by `sid`; a protected DACL (nothing inherited) that grants all access to `sid`
    and to no one else: not Administrators, not SYSTEM, not Everyone."""
    return f"O:{sid}D:P(A;;GA;;;{sid})"


class SecurityAttributes:
    """A SECURITY_ATTRIBUTES built from SDDL, for CreateNamedPipe; `free()` it when done."""

    def __init__(self, sddl: str) -> None:
        self._descriptor = ctypes.c_void_p()
        convert = _advapi32.ConvertStringSecurityDescriptorToSecurityDescriptorW
        ok = convert(sddl, _SDDL_REVISION_1, ctypes.byref(self._descriptor), None)
        _check(ok, f"ConvertStringSecurityDescriptorToSecurityDescriptorW({sddl})")
        self._struct = _SecurityAttributes(
            ctypes.sizeof(_SecurityAttributes), self._descriptor, False
        )

    @property
    def address(self) -> int:
        """The pointer `_winapi.CreateNamedPipe` takes as its security_attributes."""
        return ctypes.addressof(self._struct)

    def free(self) -> None:
        if self._descriptor:
            _kernel32.LocalFree(self._descriptor)
            self._descriptor = ctypes.c_void_p()


def owner_sid(handle: int) -> str:
    """The SID that owns the kernel object behind `handle` (opened with READ_CONTROL)."""
    owner, descriptor = ctypes.c_void_p(), ctypes.c_void_p()
    code = _advapi32.GetSecurityInfo(
        handle,
        *(_SE_KERNEL_OBJECT, _OWNER_SECURITY_INFORMATION, ctypes.byref(owner), None, None, None),
        ctypes.byref(descriptor),
    )
    if code != 0:
        raise OSError(None, f"GetSecurityInfo: {ctypes.FormatError(code)}", None, code)
    try:
        return _sid_string(owner.value)
    finally:
        _kernel32.LocalFree(descriptor)


def create_event() -> int:
    """A new manual-reset event, not set; close it with `_winapi.CloseHandle`."""
    handle = _kernel32.CreateEventW(None, True, False, None)
    _check(handle, "CreateEventW")
    return int(handle)


def set_event(handle: int) -> None:
    _check(_kernel32.SetEvent(handle), "SetEvent")
