"""Build a vot-toolkit workspace from a dataset (see pysiam/cli/vot_workspace.py)."""
import sys

from pysiam.cli.vot_workspace import main

if __name__ == "__main__":
    sys.exit(main())
