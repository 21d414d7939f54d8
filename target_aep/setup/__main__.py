"""`python -m target_aep.setup` is `target-aep-setup`."""

import sys

from target_aep.setup.cli import main

sys.exit(main())
