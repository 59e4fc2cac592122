"""Flat tensor lists <-> the model's nested values (Template, output dicts), with a JSON form.

A graph takes and returns flat lists of tensors; :class:`Layout` remembers how such a list
rebuilds the nested value it came from: the ``torch.utils._pytree`` spec, which leaves are
tensors (graph inputs / outputs) and the other leaves (``None``, numbers: constants). Names are
made from the key paths (``features_0``, ``rpn_1``, ``cls``), never written by hand, so the
layout follows the model's own dataclasses and dicts.
"""
from __future__ import annotations

import importlib
import re
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence

import torch
from torch.utils._pytree import (SUPPORTED_NODES, TreeSpec, keystr, tree_flatten, tree_flatten_with_path,
                                 tree_structure, tree_unflatten)

__all__ = ["Layout", "spec_to_json", "spec_from_json"]

_JSON_LEAVES = (type(None), bool, int, float, str)


def _type_name(typ: type) -> str:
    return f"{typ.__module__}:{typ.__qualname__}"


def _find_type(name: str) -> type:
    for typ in SUPPORTED_NODES:
        if _type_name(typ) == name:
            return typ
    module, _, qualname = name.partition(":")
    obj: Any = importlib.import_module(module)  # registers the module's pytree nodes
    for part in qualname.split("."):
        obj = getattr(obj, part)
    if obj not in SUPPORTED_NODES:
        raise ValueError(f"{name} is not a registered pytree node type")
    return obj


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, _JSON_LEAVES):
        return obj
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    raise ValueError(f"pytree context {obj!r} has no JSON form")


def _children(spec: TreeSpec) -> List[TreeSpec]:
    children = getattr(spec, "children", None)
    return list(children()) if callable(children) else list(spec.children_specs)


def spec_to_json(spec: TreeSpec) -> Optional[Dict[str, Any]]:
    """A TreeSpec as nested dicts (``None`` for a leaf)."""
    if spec.is_leaf():
        return None
    return {"type": _type_name(spec.type), "context": _jsonable(spec.context),
            "children": [spec_to_json(c) for c in _children(spec)]}


def spec_from_json(obj: Optional[Dict[str, Any]]) -> TreeSpec:
    """Inverse of :func:`spec_to_json` (contexts come back as lists: :meth:`Layout.round_trips`
    checks that the node types accept that)."""
    if obj is None:
        return tree_structure(0)
    typ = _find_type(obj["type"])
    return TreeSpec(typ, obj["context"], [spec_from_json(c) for c in obj["children"]])


def _name(path) -> str:
    return re.sub(r"[^0-9A-Za-z]+", "_", keystr(path)).strip("_") or "value"


@dataclass
class Layout:
    """How a flat tensor list maps onto a nested value; see the module docstring."""

    spec: TreeSpec
    slots: List[int]              # positions of the tensor leaves among all leaves
    consts: Dict[int, Any]        # the other leaves by position
    names: List[str]              # one per tensor leaf

    @classmethod
    def of(cls, tree: Any, prefix: str = "") -> "Layout":
        """The layout of ``tree``; tensor names are ``prefix`` + the key path."""
        pairs, spec = tree_flatten_with_path(tree)
        slots, consts, names = [], {}, []
        for i, (path, leaf) in enumerate(pairs):
            if isinstance(leaf, torch.Tensor):
                slots.append(i)
                names.append(prefix + _name(path))
            elif isinstance(leaf, _JSON_LEAVES):
                consts[i] = leaf
            else:
                raise ValueError(f"cannot export a {type(leaf).__name__} leaf at {keystr(path)}")
        return cls(spec, slots, consts, names)

    def pack(self, tree: Any) -> List[torch.Tensor]:
        """The tensor leaves of ``tree`` (which must have this layout's structure)."""
        leaves, spec = tree_flatten(tree)
        if spec != self.spec:
            raise ValueError(f"value structure {spec} differs from the exported layout {self.spec}")
        return [leaves[i] for i in self.slots]

    def unpack(self, tensors: Sequence[Any]) -> Any:
        """The nested value with ``tensors`` in the tensor slots."""
        if len(tensors) != len(self.slots):
            raise ValueError(f"expected {len(self.slots)} tensors, got {len(tensors)}")
        leaves: List[Any] = [None] * self.spec.num_leaves
        for i, value in self.consts.items():
            leaves[i] = value
        for i, t in zip(self.slots, tensors):
            leaves[i] = t
        return tree_unflatten(leaves, self.spec)

    def to_json(self) -> Dict[str, Any]:
        return {"spec": spec_to_json(self.spec), "tensor_slots": self.slots, "names": self.names,
                "constants": {str(k): v for k, v in self.consts.items()}}

    @classmethod
    def from_json(cls, obj: Dict[str, Any]) -> "Layout":
        return cls(spec_from_json(obj["spec"]), [int(i) for i in obj["tensor_slots"]],
                   {int(k): v for k, v in obj["constants"].items()}, list(obj["names"]))

    def round_trips(self) -> bool:
        """Whether the JSON form rebuilds exactly this spec."""
        return Layout.from_json(self.to_json()).spec == self.spec
