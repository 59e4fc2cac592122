"""YouTube-BoundingBoxes (detection CSVs plus frames from a downloader).

Layout (as produced by pysot's recommended ``youtube-bb-utility``)::

    ROOT/yt_bb_detection_train.csv            (validation.csv for --split val)
    ROOT/yt_bb_detection_train/<class_id>/<youtube_id>_<timestamp_ms>_<class_id>_<object_id>.jpg

CSV columns: youtube_id, timestamp_ms, class_id, class_name, object_id, object_presence,
xmin, xmax, ymin, ymax (fractions of the frame). As in pysot, the video is
``yt_bb_detection_<set>/<class_id>/<youtube_id>``, the frame is the timestamp in whole seconds and
the track is the object id; absent objects and negative or inverted boxes are left out; frames that
were not downloaded are counted as missing, not as errors. Unlike pysot's script (which stores the
fractions), the JSON boxes are in pixels of the downloaded frame.
"""
from __future__ import annotations

import csv
from pathlib import Path

from ..base import AnnotationError, Frame, PrepareError, Source, Target, Video, VideoRef, register_source

SETS = {"train": "yt_bb_detection_train", "val": "yt_bb_detection_validation"}


@register_source("yt_bb")
class YoutubeBBSource(Source):
    name = "yt_bb"
    missing_images_ok = True

    def list_videos(self) -> list[VideoRef]:
        d_set = SETS[self.split]
        csv_path = self.root / f"{d_set}.csv"
        if not csv_path.is_file():
            raise PrepareError(f"yt_bb: annotation file not found: {csv_path}")
        groups: dict[tuple, list] = {}
        with open(csv_path, newline="") as f:
            for lineno, row in enumerate(csv.reader(f), 1):
                if not row:
                    continue
                if len(row) != 10:
                    raise AnnotationError(f"{csv_path}:{lineno}: expected 10 columns, got {len(row)}")
                ytid, ts, class_id, _, obj_id, presence = row[:6]
                if presence == "absent":
                    continue
                try:
                    xmin, xmax, ymin, ymax = (float(v) for v in row[6:])
                    rec = (int(ts), int(obj_id), xmin, ymin, xmax, ymax)
                except ValueError:
                    raise AnnotationError(f"{csv_path}:{lineno}: cannot parse {row!r}") from None
                groups.setdefault((class_id, ytid), []).append(rec)
        return [VideoRef(f"{d_set}/{class_id}/{ytid}",
                         (str(self.root / d_set / class_id), ytid, class_id, rows))
                for (class_id, ytid), rows in groups.items()]

    def load_video(self, ref: VideoRef) -> Video:
        class_dir, ytid, class_id, rows = ref.payload
        frames, seen = [], set()
        for ts, obj_id, x1, y1, x2, y2 in rows:
            if min(x1, y1, x2, y2) < 0 or x2 < x1 or y2 < y1 or (ts // 1000, obj_id) in seen:
                continue
            seen.add((ts // 1000, obj_id))
            image = Path(class_dir) / f"{ytid}_{ts}_{class_id}_{obj_id}.jpg"
            frames.append(Frame(ts // 1000, image, [Target(obj_id, [x1, y1, x2, y2], normalized=True)]))
        return Video(ref.name, frames)
