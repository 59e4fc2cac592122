"""Run a tracker over a benchmark and write result files; see pysiam/cli/test.py."""
import sys

from pysiam.cli.test import main

if __name__ == "__main__":
    sys.exit(main())
