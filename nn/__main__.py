"""``python -m nn``: the same as the ``autograd-scalar`` command."""

import sys

from .cli import main

sys.exit(main())
