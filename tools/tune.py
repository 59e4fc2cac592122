"""Search test-time hyper-parameters on a benchmark; see pysiam/cli/tune.py."""
import sys

from pysiam.cli.tune import main

if __name__ == "__main__":
    sys.exit(main())
