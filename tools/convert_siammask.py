#!/usr/bin/env python
"""Convert an original SiamMask checkpoint to pysiam's layout (see pysiam.cli.convert_siammask)."""
import sys

from pysiam.cli.convert_siammask import main

if __name__ == "__main__":
    sys.exit(main())
