"""``python -m content_engine``: the same as the ``content-engine`` command."""

import sys

from .cli import main

sys.exit(main())
