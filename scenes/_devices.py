"""Device names ("auto", "cpu", "cuda", "cuda:N"): syntax, availability and resolution through Warp."""

import functools
import os
import re
import sys
import tempfile
from contextlib import contextmanager

__all__ = ["available_memory", "check_device", "cuda_device_count", "init_warp_quietly", "quiet_module_loading",
           "resolve_device", "set_warp_messages"]

_DEVICE_RE = re.compile(r"^(auto|cpu|cuda|cuda:(\d+))$")
_EXPECTED = 'expected "auto", "cpu", "cuda" or "cuda:N"'
# Printed by Warp's native library (straight to file descriptor 2) on machines without a CUDA driver.
_NO_DRIVER_NOTE = "Could not find or load the NVIDIA CUDA driver"


def check_device(name, *, available: bool = True) -> str:
    """Return ``name`` if it is a valid device name (and, with ``available``, one that exists here).

    Raises:
        ValueError: with a message starting with "expected ..." (no name or value: callers add them).
    """
    match = _DEVICE_RE.match(name) if isinstance(name, str) else None
    if match is None:
        raise ValueError(_EXPECTED)
    if available and name.startswith("cuda"):
        count = cuda_device_count()
        if count == 0:
            raise ValueError(
                'expected a device that exists: Warp reports no CUDA device here (use "cpu" or "auto")'
            )
        index = int(match.group(2) or 0)
        if index >= count:
            raise ValueError(
                f"expected a device that exists: Warp reports {count} CUDA device(s), "
                f"cuda:0 to cuda:{count - 1}"
            )
    return name


def resolve_device(name: str) -> str:
    """The Warp device to run on: "auto" becomes "cuda:0" when a CUDA device exists, else "cpu"."""
    check_device(name)
    if name == "auto":
        return "cuda:0" if cuda_device_count() > 0 else "cpu"
    return name


def available_memory(device: str) -> int | None:
    """Bytes available for new arrays on the resolved ``device`` ("cpu" or "cuda:N"), or None when unknown.

    For the CPU: MemAvailable of /proc/meminfo (free memory plus what the kernel can reclaim), else
    the free physical pages; for a CUDA device: its free memory as Warp reports it.
    """
    if device.startswith("cuda"):
        init_warp_quietly()
        import warp as wp

        return int(wp.get_device(device).free_memory)
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


@functools.cache
def cuda_device_count() -> int:
    """Number of CUDA devices Warp can use (0 on a machine without a driver)."""
    init_warp_quietly()
    import warp as wp

    return wp.get_cuda_device_count()


#: None: Warp's own behaviour after a quiet start; True: every message; False: only warnings and errors.
_VERBOSE: bool | None = None


def set_warp_messages(*, verbose: bool) -> None:
    """Show (``verbose``) or hide Warp's banner, its "no CUDA driver" note and its "Module ... load" lines
    for the rest of the process (the command line hides them unless ``--verbose``). Warnings and errors
    are always shown. Does not import Warp when it is not imported yet."""
    global _VERBOSE
    _VERBOSE = bool(verbose)
    wp = sys.modules.get("warp")
    if wp is not None and not verbose:
        wp.config.log_level = max(wp.config.log_level, wp.LOG_WARNING)


@contextmanager
def quiet_module_loading():
    """Hide Warp's "Module ... load took ..." lines inside the block (unless ``set_warp_messages(verbose=True)``)."""
    import warp as wp

    saved = wp.config.log_level
    if not _VERBOSE:
        wp.config.log_level = max(saved, wp.LOG_WARNING)
    try:
        yield
    finally:
        wp.config.log_level = saved


def init_warp_quietly() -> None:
    """Initialise Warp without its banner and without the "no CUDA driver" note on CPU-only machines
    (both shown after ``set_warp_messages(verbose=True)``).

    Other messages Warp prints while initialising are passed on to stderr.
    """
    import warp as wp

    if _VERBOSE is False:
        wp.config.log_level = max(wp.config.log_level, wp.LOG_WARNING)
    context = sys.modules.get("warp._src.context")
    if getattr(context, "runtime", None) is not None:
        return
    if _VERBOSE:
        wp.init()
        return
    saved = wp.config.log_level
    wp.config.log_level = max(saved, wp.LOG_WARNING)
    try:
        with _filtered_stderr(_NO_DRIVER_NOTE):
            wp.init()
    finally:
        wp.config.log_level = saved


@contextmanager
def _filtered_stderr(dropped: str):
    """Capture file descriptor 2 (native writes included) and pass on the lines without ``dropped``."""
    sys.stderr.flush()
    saved_fd = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved_fd, 2)
            os.close(saved_fd)
            capture.seek(0)
            kept = [
                line
                for line in capture.read().decode(errors="replace").splitlines(keepends=True)
                if dropped not in line
            ]
            if kept:
                sys.stderr.write("".join(kept))
                sys.stderr.flush()
