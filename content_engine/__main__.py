"""``python -m content_engine``: the same as the ``content-engine`` command."""

import sys

from content_engine.cli import main

sys.exit(main())
