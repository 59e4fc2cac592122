"""``python -m pysiam.vot``: the TraX server (see pysiam.vot.trax_server)."""
import sys

from pysiam.vot.trax_server import main

sys.exit(main())
