"""The ``warpweave`` command line (thin: it parses arguments and calls ``scenes`` and ``simulator``).

Run ``warpweave --help`` (or ``python -m warpweave --help``) for the commands.
"""

from .cli import main

__all__ = ["main"]
