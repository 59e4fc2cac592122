"""Data preparation: crop raw datasets into pysot's ``crop511`` + ``train.json`` layout.

Use :func:`prepare` with a source from :func:`get_source` (``SOURCES`` lists them), or the command
``python tools/prepare_data.py SOURCE --root RAW --out OUT``. The crop functions in
:mod:`pysiam.data.prepare.crop` are shared with the training dataset.
"""
from . import sources as _sources  # noqa: F401  (registers the readers)
from .base import (AnnotationError, Frame, ImageReadError, PrepareError, Source, SOURCES, Target, Video,
                   VideoRef, get_source, register_source)
from .crop import (CropGeometry, box_in_search_crop, crop_like_siamfc, crop_mask_like_siamfc, crop_square,
                   mean_padding, siamfc_geometry)
from .runner import PrepareOptions, PrepareSummary, annotation_index, crop_names, prepare, process_video

__all__ = [
    "AnnotationError", "CropGeometry", "Frame", "ImageReadError", "PrepareError", "PrepareOptions",
    "PrepareSummary", "SOURCES", "Source", "Target", "Video", "VideoRef", "annotation_index",
    "box_in_search_crop",
    "crop_like_siamfc", "crop_mask_like_siamfc", "crop_names", "crop_square", "get_source",
    "mean_padding", "prepare", "process_video", "register_source", "siamfc_geometry",
]
