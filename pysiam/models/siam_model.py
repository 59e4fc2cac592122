"""The Siamese network: backbone -> optional neck -> RPN head (+ SiamMask mask/refine heads).

Two ways to run it:

* functional, batch-friendly: ``t = model.extract_template(z)`` then ``out = model.track_with(t, x)``
  (sample i of ``x`` is matched against template i; nothing is stored on the model);
* stateful, pysot's interface: ``model.template(z)``, ``out = model.track(x)``,
  ``model.mask_refine((row, col))``.

``out`` is a dict with ``cls`` (B, 2A, H, W), ``loc`` (B, 4A, H, W) and ``mask`` (B, 3969, H, W
or None); with a mask head also ``mask_corr_feature`` and ``refine_features`` (the inputs of the
refine module). Training code calls ``backbone``/``neck``/heads directly or ``forward(z, x)``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Union

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils._pytree import register_dataclass

from .backbone import build_backbone
from .head import build_mask_head, build_refine_head, build_rpn_head
from .neck import build_neck

__all__ = ["SiamModel", "Template", "build_model"]

Tensors = Union[torch.Tensor, List[torch.Tensor]]


def _unwrap(feats: List[torch.Tensor]) -> Tensors:
    """A single level as a bare tensor (what single-level heads take), several as a list."""
    return feats[0] if len(feats) == 1 else feats


def _as_list(feats: Tensors) -> List[torch.Tensor]:
    return [feats] if isinstance(feats, torch.Tensor) else list(feats)


def _map_tensors(obj: Any, fn) -> Any:
    if isinstance(obj, torch.Tensor):
        return fn(obj)
    if isinstance(obj, (list, tuple)):
        return type(obj)(_map_tensors(o, fn) for o in obj)
    return obj


@dataclass
class Template:
    """Everything derived from the template crop(s): neck features and the heads' cached kernels."""

    features: List[torch.Tensor]
    rpn: Any
    mask: Optional[torch.Tensor] = None

    @property
    def batch_size(self) -> int:
        return self.features[0].shape[0]

    def index(self, idx: Union[int, slice, torch.Tensor, Sequence[int]]) -> "Template":
        """The templates selected by ``idx`` along the batch dimension (an int keeps the dimension)."""
        if isinstance(idx, int):
            idx = slice(idx, idx + 1)
        return Template(*(_map_tensors(v, lambda t: t[idx]) for v in (self.features, self.rpn, self.mask)))


# Template is a pytree node: torch.utils._pytree (CUDA graphs, export, batching) sees its tensors.
register_dataclass(Template)


class StatefulTracking:
    """pysot's stateful model API (``template`` / ``track`` / ``mask_refine`` / ``zf``) and
    ``forward``, on top of a class's ``extract_template`` / ``track_with`` / ``refine_with``."""

    _template: Optional["Template"] = None
    _last: Optional[Dict[str, Any]] = None

    def forward(self, z: torch.Tensor, x: torch.Tensor, with_mask: bool = True) -> Dict[str, Any]:
        """``track_with(extract_template(z), x)``: one differentiable pass over template/search pairs."""
        return self.track_with(self.extract_template(z), x, with_mask=with_mask)

    def template(self, z: torch.Tensor) -> None:
        """Compute and keep the template features of ``z``."""
        self._template = self.extract_template(z)

    def track(self, x: torch.Tensor, with_mask: bool = True) -> Dict[str, Any]:
        """Match ``x`` against the kept template; keeps what :meth:`mask_refine` needs."""
        if self._template is None:
            raise RuntimeError("call model.template(z) before model.track(x)")
        self._last = self.track_with(self._template, x, with_mask=with_mask)
        return self._last

    def mask_refine(self, pos) -> torch.Tensor:
        """Refined mask logits (B, 127*127) at ``pos = (row, col)`` of the last :meth:`track`."""
        if self._last is None:
            raise RuntimeError("call model.track(x) before model.mask_refine(pos)")
        return self.refine_with(self._last, pos)

    @property
    def zf(self) -> Optional[Tensors]:
        """The kept template's neck features (pysot's attribute), bare tensor for one level."""
        return None if self._template is None else _unwrap(self._template.features)


class SiamModel(StatefulTracking, nn.Module):
    """SiamRPN / SiamRPN++ / SiamMask network from explicit parts (see :func:`build_model`).

    With a mask head (SiamMask) the backbone's last level feeds the neck and heads and the
    earlier levels feed the refine module, as in pysot.
    """

    def __init__(self, backbone: nn.Module, rpn_head: nn.Module, neck: Optional[nn.Module] = None,
                 mask_head: Optional[nn.Module] = None, refine_head: Optional[nn.Module] = None):
        super().__init__()
        if refine_head is not None and mask_head is None:
            raise ValueError("a refine head needs a mask head")
        self.backbone = backbone
        self.neck = neck
        self.rpn_head = rpn_head
        self.mask_head = mask_head
        self.refine_head = refine_head
        self._template: Optional[Template] = None
        self._last: Optional[Dict[str, Any]] = None

    # -- building blocks ---------------------------------------------------------------------
    def _split_levels(self, feats: List[torch.Tensor]):
        """(levels for neck/heads, levels for the refine module)."""
        if self.mask_head is not None:
            return feats[-1:], feats[:-1]
        return feats, []

    def _adjust(self, feats: List[torch.Tensor]) -> List[torch.Tensor]:
        return feats if self.neck is None else _as_list(self.neck(_unwrap(feats)))

    # -- functional API ----------------------------------------------------------------------
    def extract_template(self, z: torch.Tensor) -> Template:
        """Template features and head kernels for a batch of template crops ``z`` (B, 3, 127, 127)."""
        zf = self._adjust(self._split_levels(self.backbone(z))[0])
        head_in = _unwrap(zf)
        mask = self.mask_head.encode_template(head_in) if self.mask_head is not None else None
        return Template(zf, self.rpn_head.encode_template(head_in), mask)

    def track_with(self, template: Template, x: torch.Tensor, with_mask: bool = True) -> Dict[str, Any]:
        """Head outputs for search crops ``x`` (B, 3, S, S) against ``template`` (same batch size).

        ``with_mask=False`` skips the 3969-channel mask head (``mask`` is None) while still
        returning what the refine module needs.
        """
        if template.batch_size != x.shape[0]:
            raise ValueError(f"template batch {template.batch_size} != search batch {x.shape[0]}")
        head_levels, refine_levels = self._split_levels(self.backbone(x))
        xf = _unwrap(self._adjust(head_levels))
        cls, loc = self.rpn_head.match(template.rpn, xf)
        out: Dict[str, Any] = {"cls": cls, "loc": loc, "mask": None}
        if self.mask_head is not None:
            mask, corr = self.mask_head.match(template.mask, xf, with_mask=with_mask)
            out.update(mask=mask, mask_corr_feature=corr, refine_features=refine_levels)
        return out

    def refine_with(self, out: Dict[str, Any], pos) -> torch.Tensor:
        """Refined mask logits (B, 127*127) at score-map position ``pos = (row, col)`` of a
        :meth:`track_with` result (``pos`` may be a (B, 2) LongTensor, one position per sample)."""
        if self.refine_head is None:
            raise RuntimeError("this model has no refine head (REFINE.REFINE is off)")
        return self.refine_head(out["refine_features"], out["mask_corr_feature"], pos)

    # -- helpers -----------------------------------------------------------------------------
    @staticmethod
    def log_softmax(cls: torch.Tensor) -> torch.Tensor:
        """(B, 2A, H, W) class-major logits -> (B, A, H, W, 2) log-probabilities (class last)."""
        b, a2, h, w = cls.shape
        cls = cls.view(b, 2, a2 // 2, h, w).permute(0, 2, 3, 4, 1)
        return F.log_softmax(cls, dim=4)


def _kwargs(node) -> Dict[str, Any]:
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in dict(node).items()}


def build_model(cfg, load_backbone_weights: bool = False) -> SiamModel:
    """Build the network described by ``cfg`` (BACKBONE, ADJUST, RPN, MASK, REFINE sections).

    ``load_backbone_weights=True`` also loads ``cfg.BACKBONE.PRETRAINED`` (ImageNet weights, see
    :func:`pysiam.models.checkpoint.load_pretrained_backbone`) when it is set.
    """
    backbone = build_backbone(cfg.BACKBONE.TYPE, **_kwargs(cfg.BACKBONE.KWARGS))
    neck = build_neck(cfg.ADJUST.TYPE, **_kwargs(cfg.ADJUST.KWARGS)) if cfg.ADJUST.ADJUST else None
    rpn_head = build_rpn_head(cfg.RPN.TYPE, **_kwargs(cfg.RPN.KWARGS))
    mask_head = refine_head = None
    if cfg.MASK.MASK:
        mask_head = build_mask_head(cfg.MASK.TYPE, **_kwargs(cfg.MASK.KWARGS))
        if cfg.REFINE.REFINE:
            refine_head = build_refine_head(cfg.REFINE.TYPE)
    if neck is not None and hasattr(neck, "in_channels"):
        head_channels = backbone.out_channels[-1:] if mask_head is not None else backbone.out_channels
        neck_in = neck.in_channels if isinstance(neck.in_channels, list) else [neck.in_channels]
        if list(neck_in) != list(head_channels):
            raise ValueError(f"ADJUST.KWARGS.in_channels {neck_in} does not match the channels "
                             f"{head_channels} of backbone {cfg.BACKBONE.TYPE} {_kwargs(cfg.BACKBONE.KWARGS)}")
    model = SiamModel(backbone, rpn_head, neck=neck, mask_head=mask_head, refine_head=refine_head)
    if load_backbone_weights and cfg.BACKBONE.PRETRAINED:
        from .checkpoint import load_pretrained_backbone
        load_pretrained_backbone(model.backbone, cfg.BACKBONE.PRETRAINED)
    return model
