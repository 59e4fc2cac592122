"""Oracle table of the rotated-box rules on ground-truth masks; see pysiam/cli/box_oracle.py."""
import sys

from pysiam.cli.box_oracle import main

if __name__ == "__main__":
    sys.exit(main())
