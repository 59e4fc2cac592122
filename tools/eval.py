"""Score tracker results against a benchmark (see pysiam/cli/eval.py)."""
import sys

from pysiam.cli.eval import main

if __name__ == "__main__":
    sys.exit(main())
