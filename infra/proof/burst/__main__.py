"""``python -m infra.proof.burst``: the command (cli.py); with ``--serve``, the stack's own process (serve.py)."""
import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
