"""The inference flags shared by test, demo, benchmark and tune: each sets one INFERENCE config key."""
from __future__ import annotations

import argparse

__all__ = ["add_inference_arguments", "apply_inference_arguments"]


def add_inference_arguments(p: argparse.ArgumentParser) -> None:
    """Flags for the INFERENCE config keys (a flag overrides the config; default: the config's)."""
    g = p.add_argument_group("inference options (pysiam.inference)")
    g.add_argument("--fold-bn", action="store_true", default=None, help="fold BatchNorm into convolutions")
    g.add_argument("--channels-last", action="store_true", default=None, help="NHWC weights and inputs")
    g.add_argument("--amp", choices=("none", "bf16", "fp16"), default=None, help="autocast precision")
    g.add_argument("--compile", nargs="?", const="default", default=None, metavar="MODE",
                   help="torch.compile the network passes (mode: default, reduce-overhead, max-autotune)")
    g.add_argument("--cuda-graphs", action="store_true", default=None, help="replay the search pass as a CUDA graph")
    g.add_argument("--winograd", action="store_true", default=None,
                   help="Winograd F(4x4,3x3) for the large 3x3 convolutions (CPU, float32; implies --fold-bn)")
    g.add_argument("--threads", type=int, default=None, help="CPU threads of the network (0: pysiam's default)")
    g.add_argument("--backend", choices=("torch", "onnxruntime"), default=None,
                   help="run the network in torch or as ONNX graphs in ONNX Runtime (exported on first use)")
    g.add_argument("--prefetch", type=int, default=None, help="frames decoded ahead in background threads")
    g.add_argument("--decode", choices=("cpu", "gpu"), default=None, help="JPEG decoding (gpu needs torchvision)")
    g.add_argument("--device-crop", choices=("auto", "on", "off"), default=None,
                   help="crop on the model's device with torch (auto: when it is not the CPU)")


def apply_inference_arguments(cfg, args) -> None:
    """Write the inference flags that were given into ``cfg.INFERENCE``."""
    values = {"FOLD_BN": args.fold_bn, "CHANNELS_LAST": args.channels_last,
              "AMP": None if args.amp is None else ("" if args.amp == "none" else args.amp),
              "COMPILE": args.compile, "CUDA_GRAPHS": args.cuda_graphs, "THREADS": args.threads,
              "WINOGRAD": args.winograd, "PREFETCH": args.prefetch, "DECODE": args.decode, "DEVICE_CROP": args.device_crop,
              "BACKEND": getattr(args, "backend", None)}
    was_frozen = cfg.is_frozen()
    cfg.defrost()
    for key, value in values.items():
        if value is not None:
            cfg.INFERENCE[key] = value
    if was_frozen:
        cfg.freeze()
