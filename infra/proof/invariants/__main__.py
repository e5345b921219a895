"""``python -m infra.proof.invariants``: the command line (``infra/proof/invariants/cli.py``)."""
import sys

from infra.proof.invariants.cli import main

sys.exit(main())
