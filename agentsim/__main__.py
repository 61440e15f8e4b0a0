"""``python -m agentsim``."""

import sys

from agentsim.cli import main

sys.exit(main())
