"""``python -m warpweave``: the same as the ``warpweave`` command."""

import sys

from .cli import main

sys.exit(main())
