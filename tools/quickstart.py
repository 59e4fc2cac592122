#!/usr/bin/env python
"""pysiam end to end on synthetic data: ``python tools/quickstart.py [--gpu]`` (see pysiam.cli.quickstart)."""
import sys

from pysiam.cli.quickstart import main

if __name__ == "__main__":
    sys.exit(main())
