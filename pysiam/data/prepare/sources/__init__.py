"""Dataset readers for data preparation; importing this module registers them all."""
from . import coco, det, got10k, lasot, otb_layout, vid, yt_bb, ytb_vos  # noqa: F401
