"""A TraX server around any pysiam tracker, for the VOT toolkit (``vot evaluate``).

    pysiam-vot --config siammask_r50_l3 --snapshot model.pth [--device cpu] [KEY VALUE ...]
    python -m pysiam.vot --config quickstart_siamrpn            # random weights (a warning)
    pysiam-vot --write-trackers-ini WS --name pysiam_mask --config C --snapshot S

The model is built and loaded before the TraX handshake (the toolkit times every initialise
and frame, not the start-up). The server accepts rectangle, polygon and mask regions: the init
box is pysot's box of a rectangle / polygon and the bounding box of a mask's pixels (> 0). It
reports the tracker's box, its rotated polygon or its mask (``--output``, default ``auto``: the
mask of a SiamMask tracker, else the box). Every ``initialize`` message re-initialises the one
tracker in the same process. Start-up errors print one line on stderr and exit with code 2.
The TraX messages are exchanged by libtrax (the ``vot-trax`` package, ``pip install pysiam[vot]``).
"""
from __future__ import annotations

import argparse
import logging
import sys
from typing import List, Optional, Sequence

import numpy as np

from pysiam.vot.multistart import init_box, tracker_region
from pysiam.vot.regions import Region, mask_region, polygon, rectangle

__all__ = ["main", "build_parser", "load_tracker", "serve", "from_trax", "to_trax"]

logger = logging.getLogger("pysiam.vot")
OUTPUTS = ("auto", "rectangle", "polygon", "mask")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="pysiam-vot", description=__doc__.split("\n\n")[0])
    p.add_argument("--config", help="config name or YAML path")
    p.add_argument("--snapshot", default="", help="model weights (without: random weights)")
    p.add_argument("--trust-checkpoint", action="store_true",
                   help="allow a full unpickle of a checkpoint torch cannot read weights-only")
    p.add_argument("--device", default=None, help="cpu, cuda, cuda:1 ... (default: the config's)")
    p.add_argument("--output", choices=OUTPUTS, default="auto", help="region kind to report")
    p.add_argument("--seed", type=int, default=0, help="torch seed (random-weight models)")
    p.add_argument("--name", default="", help="tracker name (TraX hello; trackers.ini section)")
    p.add_argument("--write-trackers-ini", metavar="DIR", default="",
                   help="write / update DIR/trackers.ini with an entry running this server, and exit")
    p.add_argument("--threads", type=int, default=0, help="torch intra-op threads (0: torch's default)")
    p.add_argument("opts", nargs=argparse.REMAINDER, help="config overrides KEY VALUE ...")
    return p


def load_tracker(config: str, opts: Sequence[str] = (), snapshot: str = "", trust: bool = False,
                 device: Optional[str] = None, seed: int = 0, output: str = "auto"):
    """Config -> model (weights loaded) -> tracker, on ``device``; ``output`` 'mask' or
    'polygon' needs a mask tracker (MASK.MASK)."""
    import torch

    from pysiam.config import load_config
    from pysiam.models import build_model, load_checkpoint
    from pysiam.tracker import build_tracker

    cfg = load_config(config, list(opts))
    if output in ("mask", "polygon") and not cfg.MASK.MASK:
        raise ValueError(f"--output {output} needs a mask tracker; {config} has MASK.MASK false")
    torch.manual_seed(seed)
    model = build_model(cfg)
    if snapshot:
        load_checkpoint(model, snapshot, allow_pickle=trust)
    else:
        logger.warning("no --snapshot given: the model has random weights")
    model.eval()
    return build_tracker(cfg, model, device=device)


def from_trax(region) -> Region:
    """A libtrax region (rectangle, polygon or mask) as a pysiam.vot region."""
    from trax import Region as TraxRegion

    if region.type == TraxRegion.RECTANGLE:
        return rectangle(*region.bounds())
    if region.type == TraxRegion.POLYGON:
        return polygon([v for p in list(region) for v in p])
    if region.type == TraxRegion.MASK:
        return mask_region(region.array() > 0, region.offset(), optimize=True)
    raise ValueError(f"unsupported TraX region type {region.type!r}")


def to_trax(r: Region):
    """A pysiam.vot region as a libtrax region."""
    from trax.region import Mask, Polygon, Rectangle

    if r.kind == "rectangle":
        return Rectangle.create(*[float(v) for v in r.data])
    if r.kind == "polygon":
        return Polygon.create([(float(x), float(y)) for x, y in r.data])
    if r.kind == "mask":
        data = r.data if r.data.size else np.zeros((1, 1), np.uint8)
        return Mask.create(np.ascontiguousarray(data, dtype=np.uint8), int(r.offset[0]), int(r.offset[1]))
    raise ValueError(f"cannot report a {r.kind} region")


def _read_image(req):
    import cv2

    path = req.image["color"].path()
    img = cv2.imread(path, cv2.IMREAD_COLOR)
    if img is None:
        raise OSError(f"cannot read frame {path}")
    return img


def serve(tracker, output: str = "auto", name: str = "pysiam") -> int:
    """Answer TraX requests until the client quits; returns the exit code."""
    from trax import Image, Region as TraxRegion, Server, TraxStatus

    formats = [TraxRegion.RECTANGLE, TraxRegion.POLYGON, TraxRegion.MASK]
    with Server(formats, [Image.PATH], ["color"], tracker_name=name) as server:
        while True:
            req = server.wait()
            if req.type == TraxStatus.QUIT:
                break
            img = _read_image(req)
            if req.type == TraxStatus.INITIALIZE:
                if not req.objects:
                    raise ValueError("initialize message without an object")
                region = from_trax(req.objects[0][0])
                tracker.init(img, init_box(region))
                server.status([(req.objects[0][0], {})])
            else:
                res = tracker.track(img)
                reply = to_trax(tracker_region(res, output))
                server.status([(reply, {"confidence": float(res.get("best_score", 0.0))})])
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    opts = args.opts[1:] if args.opts[:1] == ["--"] else args.opts
    if args.write_trackers_ini:
        from pysiam.vot.workspace import write_trackers_ini

        try:
            path = write_trackers_ini(args.write_trackers_ini, args.name or "pysiam", args.config,
                                      args.snapshot, extra=_passthrough(args, opts))
        except (ValueError, OSError) as e:
            print(f"pysiam-vot: error: {e}", file=sys.stderr)
            return 2
        print(path)
        return 0
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format="%(levelname)s %(name)s: %(message)s")
    sys.stdout = sys.stderr            # nothing but TraX messages on the protocol stream
    try:
        if not args.config:
            raise ValueError("--config is required")
        _require_trax()
        if args.threads > 0:
            import torch
            torch.set_num_threads(args.threads)
        tracker = load_tracker(args.config, opts, args.snapshot, args.trust_checkpoint,
                               args.device, args.seed, args.output)
    except Exception as e:  # noqa: BLE001 - any start-up failure is reported on one line
        msg = str(e).splitlines()[0] if str(e) else type(e).__name__
        print(f"pysiam-vot: error: {msg}", file=sys.stderr)
        return 2
    return serve(tracker, args.output, args.name or "pysiam")


def _require_trax() -> None:
    try:
        import trax  # noqa: F401
    except ImportError:
        raise ImportError("the TraX library is missing: pip install vot-trax (or pysiam[vot])") from None


def _passthrough(args, opts: Sequence[str]) -> List[str]:
    """Server options that the trackers.ini command repeats."""
    out = []
    if args.trust_checkpoint:
        out.append("--trust-checkpoint")
    if args.device:
        out += ["--device", args.device]
    if args.output != "auto":
        out += ["--output", args.output]
    if args.threads:
        out += ["--threads", str(args.threads)]
    return out + list(opts)


if __name__ == "__main__":
    sys.exit(main())
