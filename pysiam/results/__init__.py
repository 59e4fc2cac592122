"""Tracker result files in pysot's layouts (paths, atomic writers, tolerant readers) and run manifests."""
from pysiam.results.files import *  # noqa: F401,F403
from pysiam.results.files import __all__  # noqa: F401
