"""``python -m infra.invariants``: the command line (``infra/invariants/cli.py``)."""
import sys

from infra.invariants.cli import main

sys.exit(main())
