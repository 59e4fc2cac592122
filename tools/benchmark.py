#!/usr/bin/env python
"""Speed benchmark of a config on a device (see pysiam.cli.benchmark)."""
import sys

from pysiam.cli.benchmark import main

if __name__ == "__main__":
    sys.exit(main())
