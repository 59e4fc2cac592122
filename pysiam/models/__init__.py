"""Networks (backbones, necks, heads, the Siamese model) and checkpoint I/O."""
from .checkpoint import (CheckpointError, LoadReport, convert_siammask_state_dict, load_checkpoint,
                         load_pretrained_backbone, save_checkpoint)
from .siam_model import SiamModel, Template, build_model
from .xcorr import xcorr_depthwise, xcorr_fast

__all__ = ["build_model", "SiamModel", "Template", "load_checkpoint", "save_checkpoint",
           "load_pretrained_backbone", "convert_siammask_state_dict", "CheckpointError",
           "LoadReport", "xcorr_depthwise", "xcorr_fast"]
