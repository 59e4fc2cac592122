"""One prepared device check (environment, CUDA tests, speed, pysot comparison); see pysiam/cli/gpu_check.py."""
import sys

from pysiam.cli.gpu_check import main

if __name__ == "__main__":
    sys.exit(main())
