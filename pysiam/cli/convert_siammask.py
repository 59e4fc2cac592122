"""Convert a checkpoint of the original SiamMask repository to pysiam's (= pysot's) layout.

    python tools/convert_siammask.py SiamMask_VOT.pth siammask_r50_l3.pth [--config siammask_r50_l3]

The keys are renamed (see ``pysiam.models.checkpoint.SIAMMASK_PREFIXES``), checked by loading
them strictly into the model built from ``--config`` (skip with ``--no-check``), and written as
``{'state_dict': ...}`` atomically. ``load_checkpoint`` also converts on the fly, so this is only
needed to share converted files.
"""
from __future__ import annotations

import argparse
import sys
from typing import List, Optional

from ..models.checkpoint import (CheckpointError, convert_siammask_state_dict, is_siammask_original,
                                 load_checkpoint, read_state_dict, save_checkpoint)


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(prog="convert_siammask", description=__doc__.split("\n\n")[0])
    ap.add_argument("input", help="SiamMask_VOT.pth / SiamMask_VOT_LD.pth / SiamMask_DAVIS.pth")
    ap.add_argument("output", help="converted checkpoint to write")
    ap.add_argument("--config", default="siammask_r50_l3", help="config whose model must load the result")
    ap.add_argument("--no-check", action="store_true", help="do not build the model to verify the result")
    args = ap.parse_args(argv)
    try:
        state, _ = read_state_dict(args.input)
        if not is_siammask_original(state):
            raise CheckpointError(f"{args.input}: not in the original SiamMask layout (no 'features.features.', "
                                  f"'rpn_model.', 'mask_model.' or 'refine_model.' keys)")
        state = convert_siammask_state_dict(state)
        if not args.no_check:
            from ..config import load_config
            from ..models import build_model
            report = load_checkpoint(build_model(load_config(args.config)), state, strict=True)
            print(f"checked against {args.config}: {len(report.loaded)} keys load strictly")
        save_checkpoint(args.output, state)
    except CheckpointError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(f"wrote {args.output} ({len(state)} keys)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
