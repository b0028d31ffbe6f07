"""``python -m hodiff.cost [outdir]``: run the built-in problems over a range of n, print the cost tables and write
the plots (default directory ./cost_plots). ``--help`` lists the options; the work is in ``_cli.py``."""
import sys

from ._cli import main

if __name__ == "__main__":
    sys.exit(main())
