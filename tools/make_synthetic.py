"""Generate the synthetic OTB-layout benchmark; see pysiam/cli/make_synthetic.py."""
import sys

from pysiam.cli.make_synthetic import main

if __name__ == "__main__":
    sys.exit(main())
