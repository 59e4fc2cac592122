"""Frames decoded ahead of the tracker in background threads.

    for img in PrefetchReader.for_video(video, depth=4):   # same frames as video.frames()
        ...

OpenCV's ``imread`` releases the GIL, so a few threads keep the decoder busy while the network
runs. With ``decode='gpu'`` JPEG files are read in the threads and decoded on the CUDA device by
``torchvision.io.decode_jpeg`` (imported lazily; torchvision is optional), giving (H, W, 3) BGR
uint8 tensors on that device; the trackers crop such frames on the device. GPU decoding is not
bit-exact with OpenCV's decoder (results may differ slightly); the default is 'cpu'.
"""
from __future__ import annotations

import collections
import os
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from typing import Callable, Deque, Iterator, Optional

import numpy as np

__all__ = ["PrefetchReader", "gpu_decode_available", "decode_jpeg_bgr"]

DECODES = ("cpu", "gpu")


def gpu_decode_available() -> bool:
    """Whether torchvision's GPU JPEG decoder can be used (torchvision importable, CUDA present)."""
    try:
        import torch
        import torchvision.io  # noqa: F401
    except Exception:  # optional dependency: any import failure means "not available"
        return False
    return torch.cuda.is_available()


def decode_jpeg_bgr(data, device):
    """JPEG bytes (a uint8 tensor) -> (H, W, 3) BGR uint8 tensor decoded on ``device``."""
    from torchvision.io import ImageReadMode, decode_jpeg

    rgb = decode_jpeg(data, mode=ImageReadMode.RGB, device=device)  # (3, H, W)
    return rgb.permute(1, 2, 0).flip(-1).contiguous()


def _read_bytes(path: str):
    import torch

    with open(path, "rb") as fh:
        return torch.frombuffer(bytearray(fh.read()), dtype=torch.uint8)


class PrefetchReader:
    """Iterate over ``count`` frames produced by ``read(i)``, up to ``depth`` frames ahead.

    ``read`` runs in ``executor`` (a thread pool of ``workers`` threads made here when not
    given); errors of ``read`` surface when their frame is reached. ``depth=0`` reads in the
    caller's thread. Closing (or leaving the iteration) cancels what is still queued.
    """

    def __init__(self, read: Callable[[int], object], count: int, depth: int = 4,
                 executor: Optional[Executor] = None, workers: int = 2,
                 finish: Optional[Callable[[object], object]] = None):
        if depth < 0:
            raise ValueError(f"prefetch depth must be >= 0, got {depth}")
        self.read = read
        self.count = int(count)
        self.depth = int(depth)
        self.finish = finish
        self._own = executor is None and self.depth > 0
        self._executor = executor if executor is not None or self.depth == 0 else \
            ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="pysiam-frames")
        self._queue: Deque[Future] = collections.deque()

    @classmethod
    def for_video(cls, video, depth: int = 4, executor: Optional[Executor] = None, decode: str = "cpu",
                  device=None, workers: int = 2) -> "PrefetchReader":
        """A reader of ``video``'s frames (``video.read_frame``; clear errors for bad files).

        ``decode='gpu'``: ``.jpg`` / ``.jpeg`` frames are decoded on ``device`` (CUDA) with
        torchvision; raises when that is not available.
        """
        if decode not in DECODES:
            raise ValueError(f"decode must be one of {DECODES}, got {decode!r}")
        count = len(video.img_paths)
        if decode == "gpu":
            if not gpu_decode_available():
                raise RuntimeError("decode='gpu' needs torchvision and a CUDA device")
            paths = video.img_paths

            def read(i: int):
                if os.path.splitext(paths[i])[1].lower() in (".jpg", ".jpeg"):
                    return ("jpeg", _read_bytes(paths[i]))
                return ("array", video.read_frame(i))

            def finish(item):
                kind, data = item
                return decode_jpeg_bgr(data, device) if kind == "jpeg" else data

            return cls(read, count, depth, executor, workers, finish)
        return cls(video.read_frame, count, depth, executor, workers)

    def __len__(self) -> int:
        return self.count

    def _submit(self, i: int) -> None:
        self._queue.append(self._executor.submit(self.read, i))

    def __iter__(self) -> Iterator[np.ndarray]:
        try:
            if self.depth == 0:
                for i in range(self.count):
                    item = self.read(i)
                    yield self.finish(item) if self.finish else item
                return
            nxt = 0
            while nxt < min(self.depth, self.count):
                self._submit(nxt)
                nxt += 1
            while self._queue:
                item = self._queue.popleft().result()
                if nxt < self.count:
                    self._submit(nxt)
                    nxt += 1
                yield self.finish(item) if self.finish else item
        finally:
            self.close()

    def close(self) -> None:
        """Cancel queued reads; shut the thread pool down when it is this reader's own."""
        while self._queue:
            self._queue.popleft().cancel()
        if self._own and self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None
