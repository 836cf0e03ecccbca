"""``python -m mfa`` is the ``mfa`` command."""

import sys

from mfa.cli import main

sys.exit(main())
