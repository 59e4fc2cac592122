"""Tracking demo on a video, a folder of frames or a webcam; see pysiam/cli/demo.py."""
import sys

from pysiam.cli.demo import main

if __name__ == "__main__":
    sys.exit(main())
