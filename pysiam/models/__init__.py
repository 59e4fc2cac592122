"""Networks (backbones, necks, heads, the Siamese model) and checkpoint I/O."""
from .checkpoint import (CheckpointError, LoadReport, convert_siammask_state_dict, load_checkpoint,
                         load_pretrained_backbone, save_checkpoint)
from .build import build_and_load, build_head, build_model, head_needs_snapshot
from .siam_model import SiamModel, StatefulTracking, Template, cat_templates
from .xcorr import xcorr_depthwise, xcorr_fast

__all__ = ["build_model", "build_head", "build_and_load", "head_needs_snapshot", "SiamModel", "StatefulTracking", "Template", "cat_templates", "load_checkpoint", "save_checkpoint",
           "load_pretrained_backbone", "convert_siammask_state_dict", "CheckpointError",
           "LoadReport", "xcorr_depthwise", "xcorr_fast"]
