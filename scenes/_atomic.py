"""Atomic output: write under a temporary name next to the target, then rename.

An interrupted or failed write never leaves a half-written file (or folder) under the final name.
"""

import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

__all__ = ["atomic_directory", "atomic_path"]


@contextmanager
def atomic_path(path):
    """Yield a temporary path (same folder, same suffix) to write; on success it replaces ``path``.

    The parent folder is created when missing. On an exception the temporary file is removed and
    ``path`` is left as it was.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=f".tmp{path.suffix}")
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextmanager
def atomic_directory(path, *, last: tuple[str, ...] = ()):
    """Yield a temporary folder to fill; on success its files end up in ``path``.

    A new ``path`` is created by renaming the whole folder. Into an existing ``path`` each file is
    renamed in turn (each one atomically), the names in ``last`` (such as an index file) at the end.
    On an exception the temporary folder is removed.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"))
    try:
        yield tmp
        os.chmod(tmp, 0o777 & ~_umask())
        if not path.exists():
            os.replace(tmp, path)
            return
        names = sorted(p.name for p in tmp.iterdir())
        for name in sorted(names, key=lambda n: n in last):
            os.replace(tmp / name, path / name)
        tmp.rmdir()
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _umask() -> int:
    """The process umask (mkstemp/mkdtemp create private files; outputs get the usual permissions)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
