"""Importing pyvista ready for off-screen rendering, with or without a display.

Without a display VTK tries X11 first (printing "bad X server connection") and then falls back.
When ``DISPLAY`` is unset this module picks the off-screen window class directly: EGL when
libEGL is installed, else OSMesa when libOSMesa is, else a virtual X server (Xvfb) when one is
on PATH. ``VTK_DEFAULT_OPENGL_WINDOW`` set by the user is always respected.
"""

import ctypes.util
import os
import shutil
import sys

__all__ = ["import_pyvista"]

_WINDOW_ENV = "VTK_DEFAULT_OPENGL_WINDOW"


def import_pyvista():
    """Return the pyvista module, configured for off-screen rendering on this machine."""
    start_xvfb = _choose_window()
    import pyvista as pv

    pv.OFF_SCREEN = True
    if start_xvfb:
        pv.start_xvfb()
    return pv


def _choose_window() -> bool:
    """Set the VTK window class when there is no display; True when a virtual X server must be started."""
    if not sys.platform.startswith("linux") or os.environ.get("DISPLAY") or os.environ.get(_WINDOW_ENV):
        return False
    if ctypes.util.find_library("EGL"):
        os.environ[_WINDOW_ENV] = "vtkEGLRenderWindow"
        return False
    if ctypes.util.find_library("OSMesa"):
        os.environ[_WINDOW_ENV] = "vtkOSOpenGLRenderWindow"
        return False
    return shutil.which("Xvfb") is not None
