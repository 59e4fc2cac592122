#!/usr/bin/env python
"""Train a tracker: ``python tools/train.py --config C [--resume] [KEY VALUE ...]`` (see pysiam.cli.train)."""
import sys

from pysiam.cli.train import main

if __name__ == "__main__":
    sys.exit(main())
