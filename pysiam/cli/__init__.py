"""pysiam's command-line tools.

Importing this package (every tool and console script does, before torch) asks OpenMP for
passive waiting, see :mod:`pysiam.inference.threads` (the thread trap); torch-free on purpose.
"""
import os as _os
from typing import MutableMapping as _Mapping, Optional as _Optional

#: set unless already set: idle OpenMP threads sleep instead of spinning (GNU / Intel OpenMP)
OPENMP_ENVIRONMENT = {"OMP_WAIT_POLICY": "PASSIVE", "KMP_BLOCKTIME": "0"}


def set_openmp_environment(environ: _Optional[_Mapping[str, str]] = None) -> _Mapping[str, str]:
    """Set :data:`OPENMP_ENVIRONMENT` in ``environ`` (default ``os.environ``) where unset; only
    effective before torch initialises OpenMP. ``PYSIAM_OMP_ACTIVE=1`` keeps OpenMP's default."""
    env = _os.environ if environ is None else environ
    if env.get("PYSIAM_OMP_ACTIVE", "") in ("", "0"):
        for key, value in OPENMP_ENVIRONMENT.items():
            env.setdefault(key, value)
    return env


set_openmp_environment()
