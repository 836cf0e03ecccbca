"""``python -m mfa`` is the ``mfa`` command."""

import sys

from .cli import main

sys.exit(main())
