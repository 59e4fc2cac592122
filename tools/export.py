#!/usr/bin/env python
"""Export a config's network to ONNX (see pysiam.cli.export)."""
import sys

from pysiam.cli.export import main

if __name__ == "__main__":
    sys.exit(main())
