"""CPU deployment: ONNX export of the template / search / refine graphs and an ONNX Runtime model.

    python tools/export.py --config siamrpn_alex_dwxcorr --snapshot model.pth --output out/
    cfg.INFERENCE.BACKEND = "onnxruntime"          # prepare_from_cfg then returns an OrtModel

Needs the ``deploy`` extra (``pip install pysiam[deploy]``: onnx, onnxscript, onnxruntime).
"""
from .export import DEFAULT_OPSET, export_for_config, export_refine, export_search, export_template
from .layout import Layout

__all__ = ["export_for_config", "export_template", "export_search", "export_refine", "Layout", "DEFAULT_OPSET"]
