"""Crop a raw dataset into pysot's training layout; see ``pysiam.cli.prepare_data``."""
import sys

from pysiam.cli.prepare_data import main

if __name__ == "__main__":
    sys.exit(main())
