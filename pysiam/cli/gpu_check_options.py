"""Outputs of the inference options against the exact path on one device (a gpu_check step).

    python -m pysiam.cli.gpu_check_options --config C --device cuda [--weights W.pth] [--json R.json]

For each option set (BN folding, channels_last, CUDA graphs, bf16 autocast, ...) the model is
prepared with :func:`pysiam.inference.prepare_for_inference` and its search-pass outputs
(``cls``, ``loc``) on three template / search pairs are compared with the unprepared model's
on the same device: max |difference| / max |reference|, per call. Every call is checked, the first
one included, since a graph is captured there. The stated tolerance is
``InferenceOptions.tolerance()``. It is stated for float32, and cudnn's default TF32
convolutions on recent GPUs may exceed it: ``tf32`` in the output says whether they were on.
"""
from __future__ import annotations

import argparse
import sys
from typing import Any, Dict, Optional, Sequence

import torch

from pysiam.cli.common import print_json

VARIANTS = {"fold_bn": {"fold_bn": True}, "channels_last": {"channels_last": True},
            "cuda_graphs": {"cuda_graphs": True}, "fold_bn_cuda_graphs": {"fold_bn": True, "cuda_graphs": True},
            "amp_bf16": {"amp": "bf16"}}


def _rel(out: Dict[str, Any], ref: Dict[str, Any]) -> float:
    worst = 0.0
    for k in ("cls", "loc"):
        r, o = ref[k].float(), out[k].float()
        worst = max(worst, float((o - r).abs().max()) / max(float(r.abs().max()), 1e-12))
    return worst


def check_options(config: str, device: str, weights: str = "", calls: int = 3) -> Dict[str, Any]:
    """Relative output difference of every variant to the exact path, per call."""
    from pysiam.cli.gpu_check_driver import calibrate_bn
    from pysiam.config import load_config
    from pysiam.models import build_model, load_checkpoint
    try:
        from pysiam.inference import InferenceOptions, prepare_for_inference
    except ImportError:  # before the move to pysiam.inference
        from pysiam.models.optimize import InferenceOptions, prepare_for_inference

    cfg = load_config(config)
    dev = torch.device(device)
    e, s = int(cfg.TRACK.EXEMPLAR_SIZE), int(cfg.TRACK.INSTANCE_SIZE)
    torch.manual_seed(0)
    model = build_model(cfg)
    if weights:
        load_checkpoint(model, weights)
    else:
        calibrate_bn(model, e, s)
    model = model.to(dev).eval()
    g = torch.Generator().manual_seed(1)
    pairs = [tuple((torch.rand(1, 3, n, n, generator=g) * 255).to(dev) for n in (e, s)) for _ in range(calls)]
    with torch.inference_mode():
        refs = [model.track_with(model.extract_template(z), x, with_mask=False) for z, x in pairs]
        refs = [{k: refs[i][k].clone() for k in ("cls", "loc")} for i in range(calls)]
    out: Dict[str, Any] = {"config": config, "device": str(dev), "tf32": torch.backends.cudnn.allow_tf32,
                           "variants": {}}
    for name, kw in VARIANTS.items():
        opts = InferenceOptions(**kw)
        try:
            m = prepare_for_inference(model, opts, dev)
            with torch.inference_mode():
                diffs = [_rel(m.track_with(m.extract_template(z), x, with_mask=False), ref)
                         for (z, x), ref in zip(pairs, refs)]
        except Exception as err:  # noqa: BLE001 - one failing option is recorded
            out["variants"][name] = {"status": "failed", "reason": f"{type(err).__name__}: {err}"}
            continue
        tol = opts.tolerance()
        out["variants"][name] = {"status": "ok", "rel_diff_per_call": diffs, "tolerance": tol,
                                 "within_tolerance": bool(max(diffs) <= tol),
                                 "first_call_worst": bool(diffs[0] > max(diffs[1:] + [0.0]))}
    return out


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = argparse.ArgumentParser(prog="gpu_check_options", description=__doc__.split("\n")[0])
    p.add_argument("--config", required=True)
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--weights", default="")
    p.add_argument("--json", default=None)
    args = p.parse_args(argv)
    print_json(check_options(args.config, args.device, args.weights), args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
