"""Reading ImageNet (ILSVRC) VID/DET annotation XML files and locating their folders."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Mapping, Optional

from ..base import AnnotationError, PrepareError, Source, VideoRef


@dataclass
class XmlObject:
    """One ``<object>``: track id (VID only), box ``[xmin, ymin, xmax, ymax]``."""

    trackid: Optional[int]
    bbox: list


def _int(node: ET.Element, tag: str, path: Path) -> int:
    child = node.find(tag)
    if child is None or child.text is None:
        raise AnnotationError(f"{path}: <{node.tag}> has no <{tag}>")
    try:
        return int(float(child.text))
    except ValueError:
        raise AnnotationError(f"{path}: <{tag}> is not a number: {child.text!r}") from None


def parse_objects(path: Path, with_trackid: bool) -> list[XmlObject]:
    """Objects of one annotation file, or :class:`AnnotationError` naming it."""
    try:
        root = ET.parse(path).getroot()
    except FileNotFoundError:
        raise AnnotationError(f"annotation file not found: {path}") from None
    except (ET.ParseError, OSError) as e:
        raise AnnotationError(f"cannot parse annotation XML {path}: {e}") from None
    objects = []
    for obj in root.findall("object"):
        box = obj.find("bndbox")
        if box is None:
            raise AnnotationError(f"{path}: <object> has no <bndbox>")
        bbox = [_int(box, t, path) for t in ("xmin", "ymin", "xmax", "ymax")]
        objects.append(XmlObject(_int(obj, "trackid", path) if with_trackid else None, bbox))
    return objects


def subset_dirs(root: Path, kind: str, letter: str, native: str) -> tuple[Path, Path]:
    """Annotation and image folders of one pysot subset letter.

    pysot's readme links ``Annotations/<kind>/train/<letter>`` to the native folders; both layouts
    are accepted. ``native`` is the native path below ``Annotations/<kind>`` (e.g. ``val``).
    """
    for rel in (Path("train") / letter, Path(native)):
        ann = root / "Annotations" / kind / rel
        if ann.is_dir():
            return ann, root / "Data" / kind / rel
    raise PrepareError(f"{kind.lower()}: neither Annotations/{kind}/train/{letter} nor "
                       f"Annotations/{kind}/{native} exists under {root}")


class ImageNetSource(Source):
    """An ILSVRC source (``kind`` DET or VID) whose splits are pysot subset letters (``subsets``)."""

    kind: ClassVar[str] = ""
    subsets: ClassVar[Mapping[str, Mapping[str, str]]] = {}

    def list_videos(self) -> list[VideoRef]:
        refs = []
        for letter, native in self.subsets[self.split].items():
            ann_dir, img_dir = subset_dirs(self.root, self.kind, letter, native)
            refs += self.subset_videos(letter, ann_dir, img_dir)
        return refs

    def subset_videos(self, letter: str, ann_dir: Path, img_dir: Path) -> list[VideoRef]:
        """The videos of one subset, given its annotation and image folders."""
        raise NotImplementedError
