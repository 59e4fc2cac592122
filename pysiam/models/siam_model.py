"""The Siamese network: backbone -> optional neck -> head (+ SiamMask mask/refine heads).

The model is stateless: ``t = model.extract_template(z)`` returns the template's
:class:`Template` and ``out = model.track_with(t, x)`` matches search crops against it (sample
i of ``x`` against template i). Nothing per-video is stored on the model, so one model may serve
any number of trackers. pysot's stateful ``template`` / ``track`` / ``mask_refine`` remain as a
thin compatibility layer (:class:`StatefulTracking`); no pysiam code path uses them.

``out`` is a dict with ``cls`` (B, 2P, H, W), ``loc`` (B, 4P, H, W) and ``mask`` (B, 3969, H, W or
None); with a mask head also ``mask_corr_feature`` and ``refine_features`` (the inputs of the
refine module). The head is an anchor head (``rpn_head``, pysot) or an anchor-free BAN head
(``ban_head``, NanoTrack); :mod:`pysiam.families` decodes either.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Union

import torch
from torch import nn
from torch.utils._pytree import register_dataclass, tree_map

from .heads_layout import head_layout

__all__ = ["SiamModel", "Template", "StatefulTracking", "cat_templates"]

Tensors = Union[torch.Tensor, List[torch.Tensor]]


def _unwrap(feats: List[torch.Tensor]) -> Tensors:
    """A single level as a bare tensor (what single-level heads take), several as a list."""
    return feats[0] if len(feats) == 1 else feats


def _as_list(feats: Tensors) -> List[torch.Tensor]:
    return [feats] if isinstance(feats, torch.Tensor) else list(feats)


@dataclass
class Template:
    """Everything derived from the template crop(s): neck features and the heads' cached kernels."""

    features: List[torch.Tensor]
    head: Any
    mask: Optional[torch.Tensor] = None

    @property
    def batch_size(self) -> int:
        return self.features[0].shape[0]

    def index(self, idx: Union[int, slice, torch.Tensor, Sequence[int]]) -> "Template":
        """The templates selected by ``idx`` along the batch dimension (an int keeps the dimension)."""
        if isinstance(idx, int):
            idx = slice(idx, idx + 1)
        return tree_map(lambda t: t[idx] if isinstance(t, torch.Tensor) else t, self)


# Template is a pytree node: torch.utils._pytree (CUDA graphs, export, batching) sees its tensors.
register_dataclass(Template)


def cat_templates(templates: Sequence[Template]) -> Template:
    """One batch :class:`Template` from several (concatenated along the batch dimension)."""
    if len(templates) == 1:
        return templates[0]
    return tree_map(lambda *ts: torch.cat(ts) if isinstance(ts[0], torch.Tensor) else ts[0], *templates)


class StatefulTracking:
    """pysot's stateful model API (``template`` / ``track`` / ``mask_refine`` / ``zf``) and
    ``forward``, on top of a class's ``extract_template`` / ``track_with`` / ``refine_with``.
    Kept for code written against pysot; pysiam's trackers keep their own templates."""

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
    """SiamRPN / SiamRPN++ / SiamMask / NanoTrack network from explicit parts (see
    :func:`pysiam.models.build_model`).

    ``head`` is stored under its checkpoint name (``rpn_head``, ``ban_head``, ...; see
    :mod:`pysiam.models.heads_layout`); a head that reads raw backbone features (NanoTrack)
    leaves the neck unapplied (it is kept for the checkpoint's keys). With a mask head
    (SiamMask) the backbone's last level feeds the neck and heads and the earlier levels feed the
    refine module, as in pysot.
    """

    def __init__(self, backbone: nn.Module, head: nn.Module, neck: Optional[nn.Module] = None,
                 mask_head: Optional[nn.Module] = None, refine_head: Optional[nn.Module] = None):
        super().__init__()
        if refine_head is not None and mask_head is None:
            raise ValueError("a refine head needs a mask head")
        layout = head_layout(head)
        self.backbone = backbone
        self.neck = neck
        self.head_name = layout.checkpoint_name
        if self.head_name == "head":  # SiamBAN's name is the property below, which add_module refuses
            self._modules["head"] = head
        else:
            self.add_module(self.head_name, head)
        self.neck_feeds_head = layout.uses_neck
        self.mask_head = mask_head
        self.refine_head = refine_head
        self._template: Optional[Template] = None
        self._last: Optional[Dict[str, Any]] = None

    @property
    def head(self) -> nn.Module:
        """The box head (whatever its checkpoint name)."""
        return self._modules[self.head_name]

    # -- building blocks ---------------------------------------------------------------------
    def _split_levels(self, feats: List[torch.Tensor]):
        """(levels for neck/heads, levels for the refine module)."""
        if self.mask_head is not None:
            return feats[-1:], feats[:-1]
        return feats, []

    def _adjust(self, feats: List[torch.Tensor]) -> List[torch.Tensor]:
        if self.neck is None or not self.neck_feeds_head:
            return feats
        return _as_list(self.neck(_unwrap(feats)))

    # -- functional API ----------------------------------------------------------------------
    def extract_template(self, z: torch.Tensor) -> Template:
        """Template features and head kernels for a batch of template crops ``z`` (B, 3, E, E)."""
        zf = self._adjust(self._split_levels(self.backbone(z))[0])
        head_in = _unwrap(zf)
        mask = self.mask_head.encode_template(head_in) if self.mask_head is not None else None
        return Template(zf, self.head.encode_template(head_in), mask)

    def track_with(self, template: Template, x: torch.Tensor, with_mask: bool = True) -> Dict[str, Any]:
        """Head outputs for search crops ``x`` (B, 3, S, S) against ``template`` (same batch size).

        ``with_mask=False`` skips the 3969-channel mask head (``mask`` is None) while still
        returning what the refine module needs.
        """
        if template.batch_size != x.shape[0]:
            raise ValueError(f"template batch {template.batch_size} != search batch {x.shape[0]}")
        head_levels, refine_levels = self._split_levels(self.backbone(x))
        xf = _unwrap(self._adjust(head_levels))
        cls, loc = self.head.match(template.head, xf)
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
