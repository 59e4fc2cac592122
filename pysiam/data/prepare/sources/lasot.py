"""LaSOT.

Layout: ``ROOT/<class>/<class>-<n>/img/00000001.jpg ...`` with ``groundtruth.txt`` (x,y,w,h),
``full_occlusion.txt`` and ``out_of_view.txt`` (comma-separated 0/1 per frame). The split follows
``ROOT/testing_set.txt`` (the 280 test sequences, ``--split val``); ``--split train`` takes
``ROOT/training_set.txt`` when present, otherwise every sequence not in the test list (every
sequence when there is no list). The video is ``<class>/<class>-<n>``, the track is 0 and the frame
is the 0-based image index; fully occluded and out-of-view frames are left out.
"""
from __future__ import annotations

from pathlib import Path

from ..base import AnnotationError, Frame, PrepareError, Source, Target, Video, VideoRef
from ..base import read_text_lines, register_source
from .got10k import read_boxes, read_flags, sequence_images


@register_source("lasot")
class LasotSource(Source):
    name = "lasot"

    def _selected(self) -> set | None:
        test_list, train_list = self.root / "testing_set.txt", self.root / "training_set.txt"
        if self.split == "val":
            if not test_list.is_file():
                raise PrepareError(f"lasot: --split val needs the test sequence list {test_list}")
            return set(read_text_lines(test_list))
        if train_list.is_file():
            return set(read_text_lines(train_list))
        return None

    def list_videos(self) -> list[VideoRef]:
        selected = self._selected()
        test_list = self.root / "testing_set.txt"
        excluded = set(read_text_lines(test_list)) if self.split == "train" and selected is None \
            and test_list.is_file() else set()
        refs = []
        for cls in sorted(p for p in self.root.iterdir() if p.is_dir()):
            for seq in sorted(p for p in cls.iterdir() if p.is_dir()):
                if (selected is None or seq.name in selected) and seq.name not in excluded:
                    refs.append(VideoRef(f"{cls.name}/{seq.name}", str(seq)))
        return refs

    def load_video(self, ref: VideoRef) -> Video:
        folder = Path(ref.payload)
        img_dir = folder / "img"
        if not img_dir.is_dir():
            raise AnnotationError(f"lasot: image folder not found: {img_dir}")
        images = sequence_images(img_dir)
        boxes = read_boxes(folder / "groundtruth.txt", len(images))
        occluded = read_flags(folder / "full_occlusion.txt", len(images))
        out_of_view = read_flags(folder / "out_of_view.txt", len(images))
        frames = [Frame(i, image, [Target(0, box)])
                  for i, (image, box, occ, out) in enumerate(zip(images, boxes, occluded, out_of_view))
                  if not (occ or out)]
        return Video(ref.name, frames)
