"""Inference options: speed at a stated cost in precision (BN folding, channels_last, autocast,
torch.compile, CUDA graphs, Winograd convolutions) and the step that applies them to a model.

With every option off :func:`prepare_for_inference` returns the model unchanged, so the default
path stays bit-exact with pysot.
"""
from .compiled import CompiledOrEager, compile_for_inference
from .fold import fold_batchnorm, fuse_conv_bn, register_conv_bn_pairs
from .graphs import StaticGraph
from .model import InferenceModel, prepare_for_inference, prepare_from_cfg
from .options import AMP_DTYPES, COMPILE_MODES, OUTPUT_TOLERANCE, InferenceOptions, autocast_context
from .threads import apply_threads

__all__ = ["InferenceOptions", "InferenceModel", "prepare_for_inference", "prepare_from_cfg", "fold_batchnorm",
           "fuse_conv_bn", "register_conv_bn_pairs", "apply_threads", "autocast_context", "StaticGraph",
           "compile_for_inference", "CompiledOrEager", "AMP_DTYPES", "COMPILE_MODES", "OUTPUT_TOLERANCE"]
