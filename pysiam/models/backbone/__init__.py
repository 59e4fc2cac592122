"""Backbones by pysot's ``BACKBONE.TYPE`` names; each returns a list of feature maps."""
from __future__ import annotations

from typing import Any, Callable, Dict

from ..tables import build_from_table
from .alexnet import AlexNet, AlexNetLegacy, alexnet, alexnetlegacy
from .base import Backbone
from .mobilenet_v2 import MobileNetV2, mobilenetv2
from .mobilenet_v3 import MobileNetV3Small, mobilenetv3_small, mobilenetv3_small_v3
from .resnet import ResNet, resnet18, resnet34, resnet50

__all__ = ["BACKBONES", "build_backbone", "Backbone", "ResNet", "AlexNet", "AlexNetLegacy",
           "MobileNetV2", "MobileNetV3Small"]

BACKBONES: Dict[str, Callable[..., Backbone]] = {
    "resnet18": resnet18,
    "resnet34": resnet34,
    "resnet50": resnet50,
    "alexnet": alexnet,
    "alexnetlegacy": alexnetlegacy,
    "mobilenetv2": mobilenetv2,
    "mobilenetv3_small": mobilenetv3_small,
    "mobilenetv3_small_v3": mobilenetv3_small_v3,
}


def build_backbone(name: str, **kwargs: Any) -> Backbone:
    """Instantiate the backbone registered as ``name`` with keyword arguments ``kwargs``."""
    return build_from_table(BACKBONES, "backbone", name, kwargs)
