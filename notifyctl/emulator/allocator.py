"""Hand freed heap memory back to the operating system after a burst.

Python frees objects, but glibc's malloc keeps the freed chunks of its heap for
reuse, and a few live objects among them keep whole regions resident. So after a
burst (a backlog of thousands of queued async events; the multi-megabyte pickle of
a state snapshot written in-process: `local stop`, or where it cannot fork) the
emulator's RSS stayed at the burst's high-water mark for the rest of its life,
though the memory was free. Measured (issue 20h): 16 threads allocating 125 MB of
2 KB event documents, 2 % of them kept: RSS 141 MB after the free, 24 MB after
`malloc_trim(0)`. `release()` asks glibc to return free pages; the server calls it
after each periodic state snapshot (emulator/server.py `Hub.saved`), i.e. within a
snapshot interval of the end of any burst of work. Elsewhere (macOS, musl) it does
nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
from typing import Any

_libc: Any = None
_loaded = False


def _trim_function() -> Any:
    global _libc, _loaded
    if not _loaded:
        _loaded = True
        if sys.platform.startswith("linux"):
            try:
                libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
                _libc = getattr(libc, "malloc_trim", None)  # glibc only
            except OSError:
                _libc = None
    return _libc


def release() -> bool:
    """Return free heap pages to the OS. False where the C library cannot (not glibc).
    ctypes releases the GIL for the call: other threads keep running, those that
    allocate may wait for it (tens of ms for a heap of hundreds of MB)."""
    trim = _trim_function()
    if trim is None:
        return False
    trim(0)
    return True
