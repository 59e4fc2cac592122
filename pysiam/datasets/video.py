"""Video and Dataset objects produced by the benchmark readers."""
from __future__ import annotations

import os
from typing import Iterator, Sequence

import numpy as np

__all__ = ["Video", "Dataset", "image_size_of", "polygon_to_rect", "truncated_image"]

_JPEG_START, _JPEG_END = b"\xff\xd8", b"\xff\xd9"


def truncated_image(path: str | os.PathLike) -> str:
    """'' when the file looks complete, else why not: a JPEG must end with its end-of-image marker
    FFD9 (trailing zero / whitespace padding allowed), a PNG with its IEND chunk. Two small reads;
    nothing is decoded (a cut JPEG decodes to a half-grey frame with only a libjpeg warning)."""
    try:
        with open(path, "rb") as f:
            head = f.read(8)
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - 64))
            tail = f.read().rstrip(b"\x00\r\n\t ")
    except OSError:
        return ""
    if head.startswith(_JPEG_START) and not tail.endswith(_JPEG_END):
        return f"truncated JPEG ({size} bytes, no end-of-image marker FFD9)"
    if head.startswith(b"\x89PNG") and b"IEND" not in tail[-12:]:
        return f"truncated PNG ({size} bytes, no IEND chunk)"
    return ""


def image_size_of(path: str | os.PathLike) -> tuple[int, int]:
    """(width, height) of an image file, read from its header only."""
    from PIL import Image  # PIL comes with matplotlib; it reads the header without decoding

    try:
        with Image.open(path) as im:
            return int(im.size[0]), int(im.size[1])
    except FileNotFoundError:
        raise FileNotFoundError(f"image not found: {path} (give the image size explicitly, "
                                f"e.g. --image-size W H, to evaluate without frames)") from None
    except OSError as err:
        raise OSError(f"cannot read image header of {path}: {err}") from None


def polygon_to_rect(region: Sequence[float]) -> np.ndarray:
    """Axis-aligned (x, y, w, h) around a region given as x,y,w,h or a polygon x1,y1,x2,y2,..."""
    r = np.asarray(region, dtype=np.float64)
    if r.size == 4:
        return r.copy()
    xs, ys = r[0::2], r[1::2]
    return np.array([xs.min(), ys.min(), xs.max() - xs.min(), ys.max() - ys.min()])


class Video:
    """One sequence of a benchmark.

    Attributes: `name`; `img_paths` (one per frame); `gt` (frames x 4 boxes x,y,w,h or frames x 2k
    polygons, NaN rows where the benchmark gives no box, None for segmentation sets); `init_rect`
    (x, y, w, h of the first frame); `attrs` (video-level attribute names); `tags` (per-frame
    0/1 arrays, VOT); `visible` (per-frame bool or None: frames that count, LaSOT / GOT-10k);
    `mask_paths` (DAVIS annotation PNGs, one per frame); `meta` (anything else).
    `image_size` is (width, height), read lazily from the first frame's header when not given.
    """

    def __init__(self, name: str, img_paths: Sequence[str], gt: np.ndarray | None, *,
                 init_rect: Sequence[float] | None = None, attrs: Sequence[str] = (),
                 tags: dict[str, np.ndarray] | None = None, visible: np.ndarray | None = None,
                 image_size: tuple[int, int] | None = None, mask_paths: Sequence[str] | None = None,
                 meta: dict | None = None):
        self.name = name
        self.img_paths = [str(p) for p in img_paths]
        self.gt = None if gt is None else np.asarray(gt, dtype=np.float64)
        if init_rect is None and self.gt is not None and len(self.gt):
            first = self.gt[0][~np.isnan(self.gt[0])]
            if first.size < 4:
                raise ValueError(f"video {name}: the first ground-truth row {self.gt[0].tolist()} "
                                 f"has no box to initialise the tracker with")
            init_rect = polygon_to_rect(first)
        self.init_rect = None if init_rect is None else np.asarray(init_rect, dtype=np.float64)
        self.attrs = list(attrs)
        self.tags = dict(tags or {})
        self.visible = None if visible is None else np.asarray(visible, dtype=bool)
        self.mask_paths = None if mask_paths is None else [str(p) for p in mask_paths]
        self.meta = dict(meta or {})
        self._image_size = None if image_size is None else (int(image_size[0]), int(image_size[1]))

    def __len__(self) -> int:
        return len(self.img_paths) if self.img_paths else (0 if self.gt is None else len(self.gt))

    def __repr__(self) -> str:
        return f"Video({self.name!r}, {len(self)} frames)"

    @property
    def image_size(self) -> tuple[int, int]:
        """(width, height); read from the first frame's header on first use."""
        if self._image_size is None:
            first = self.img_paths[0] if self.img_paths else None
            if first is None:
                raise ValueError(f"video {self.name}: no frames to take the image size from")
            self._image_size = image_size_of(first)
        return self._image_size

    @image_size.setter
    def image_size(self, size: tuple[int, int]) -> None:
        self._image_size = (int(size[0]), int(size[1]))

    @property
    def width(self) -> int:
        return self.image_size[0]

    @property
    def height(self) -> int:
        return self.image_size[1]

    def read_frame(self, index: int) -> np.ndarray:
        """Frame `index` as a BGR uint8 array; a clear error when it is missing or unreadable."""
        import cv2

        path = self.img_paths[index]
        cut = truncated_image(path)         # before decoding: libjpeg only warns, without the name
        if cut:
            raise OSError(f"video {self.name}: frame {index} is a {cut}: {path}")
        img = cv2.imread(path, cv2.IMREAD_COLOR)
        if img is None:
            why = "missing" if not os.path.exists(path) else "unreadable"
            raise OSError(f"video {self.name}: frame {index} is {why}: {path}")
        return img

    def frames(self, start: int = 0) -> Iterator[np.ndarray]:
        """Iterate over the frames as BGR arrays, reading each only when it is reached."""
        for i in range(start, len(self.img_paths)):
            yield self.read_frame(i)

    def read_mask(self, index: int) -> np.ndarray:
        """Annotation mask `index` (DAVIS) as an integer label array."""
        from pysiam.datasets.masks import read_label_png

        if self.mask_paths is None:
            raise ValueError(f"video {self.name} has no annotation masks")
        return read_label_png(self.mask_paths[index])


class Dataset:
    """A benchmark: videos by name (iterated in name order, as pysot does), plus protocol facts.

    `protocol` is one of 'ope', 'vot', 'vot-lt', 'got10k', 'davis'; `attributes` maps an attribute
    name to the names of the videos that have it; `eao_interval` is the VOT year's interval.
    """

    def __init__(self, name: str, root: str, videos: dict[str, Video], protocol: str, *,
                 eao_interval: tuple[int, int] | None = None, meta: dict | None = None):
        self.name = name
        self.root = str(root)
        self.videos = dict(videos)
        self.protocol = protocol
        self.eao_interval = eao_interval
        self.meta = dict(meta or {})

    @property
    def names(self) -> list[str]:
        return sorted(self.videos)

    @property
    def attributes(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for name in self.names:
            for a in self.videos[name].attrs:
                out.setdefault(a, []).append(name)
        return dict(sorted(out.items()))

    @property
    def tag_names(self) -> list[str]:
        return sorted({t for v in self.videos.values() for t in v.tags})

    def __len__(self) -> int:
        return len(self.videos)

    def __iter__(self) -> Iterator[Video]:
        for name in self.names:
            yield self.videos[name]

    def __getitem__(self, key: str | int) -> Video:
        if isinstance(key, int):
            return self.videos[self.names[key]]
        try:
            return self.videos[key]
        except KeyError:
            raise KeyError(f"dataset {self.name} has no video {key!r}") from None

    def __contains__(self, key: str) -> bool:
        return key in self.videos

    def __repr__(self) -> str:
        return f"Dataset({self.name!r}, {len(self)} videos, protocol={self.protocol!r})"

    def set_image_size(self, size: tuple[int, int]) -> None:
        """Use one image size for every video (when frames are not at hand)."""
        for v in self.videos.values():
            v.image_size = size

    def check_frames(self) -> None:
        """Raise FileNotFoundError naming the first listed frame that does not exist."""
        for v in self:
            for i, p in enumerate(v.img_paths):
                if not os.path.isfile(p):
                    raise FileNotFoundError(f"{self.name}/{v.name}: frame {i} missing: {p}")
