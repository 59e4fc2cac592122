"""Device-side preprocessing: torch crops equal OpenCV's bit for bit; prefetching frame reader.

``crop_torch`` reproduces ``crop_window`` (mean padding truncated to uint8, ``cv2.resize``
INTER_LINEAR in OpenCV's 11-bit fixed point) exactly, so a tracker that crops on the GPU feeds the
network the same bytes as the OpenCV path. Checked here on the CPU against OpenCV 4.x.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from pysiam.datasets import build_dataset
from pysiam.datasets.testing import make_otb_like
from pysiam.config import load_config
from pysiam.runner.prefetch import PrefetchReader, gpu_decode_available
from pysiam.tracker import build_tracker
from pysiam.tracker.crop import crop_window, get_subwindow, patch_to_tensor
from pysiam.tracker.crop_torch import (DeviceCropper, channel_mean, crop_batch, crop_resize,
                                       frame_to_tensor, resize_taps)
from test_tracker_fake import FakeSiamModel


def _case(rng, h, w, sz, out, centre):
    img = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    mean = img.mean((0, 1))
    want = crop_window(img, centre, out, sz, mean)
    got = crop_resize(torch.from_numpy(img), centre, out, sz, mean).numpy()
    return want, got


def test_random_crops_are_bit_exact():
    rng = np.random.default_rng(0)
    for _ in range(40):
        h, w = (int(v) for v in rng.integers(3, 80, 2))
        sz = int(rng.integers(1, 200))
        out = int(rng.choice([127, 255, 31, int(rng.integers(1, 200))]))
        centre = rng.uniform(-40, max(h, w) + 40, 2)
        want, got = _case(rng, h, w, sz, out, centre)
        assert np.array_equal(want, got), (h, w, sz, out, centre)


@pytest.mark.parametrize("shape", [(255, 255, 3), (7, 5, 4), (3, 9, 1), (4, 4, 5)])
def test_patch_to_tensor_is_the_transposing_cast(shape):
    patch = np.random.default_rng(1).integers(0, 256, shape, dtype=np.uint8)
    got = patch_to_tensor(patch)
    want = patch.transpose(2, 0, 1)[None].astype(np.float32)
    assert got.dtype == torch.float32 and got.is_contiguous() and np.array_equal(got.numpy(), want)


@pytest.mark.parametrize("sz,out", [(510, 255), (1020, 255), (255, 255), (831, 831), (300, 831),
                                    (254, 255), (256, 255), (1, 127), (2, 3)])
def test_special_sizes_are_bit_exact(sz, out):
    # 2x down (OpenCV switches to its area path), identity, up-scaling, 1-pixel crops
    rng = np.random.default_rng(sz * 1000 + out)
    want, got = _case(rng, 120, 160, sz, out, rng.uniform(0, 160, 2))
    assert np.array_equal(want, got)


def test_crop_entirely_outside_is_the_truncated_mean():
    img = np.zeros((10, 10, 3), np.uint8)
    img[..., 0] = 255
    img[0, 0] = (0, 7, 9)
    mean = img.mean((0, 1))  # (252.45, 0.07, 0.09) -> pad colour (252, 0, 0)
    patch = crop_resize(torch.from_numpy(img), (500.0, 500.0), 5, 20, mean).numpy()
    assert (patch == np.array([252, 0, 0], np.uint8)).all()
    assert np.array_equal(patch, crop_window(img, (500.0, 500.0), 5, 20, mean))


def test_resize_taps_hand_values():
    # 4 -> 2: centres at source 0.5 and 2.5, equal weights 1024 / 1024
    c0, c1, a0, a1, r0, r1, b0, b1 = resize_taps(4, 2)
    assert c0.tolist() == [0, 2] and c1.tolist() == [1, 3]
    assert a0.tolist() == [1024, 1024] and a1.tolist() == [1024, 1024]
    # 2 -> 4: first column left of pixel 0 uses pixel 0 alone; rows are clipped, weights kept
    c0, c1, a0, a1, r0, r1, b0, b1 = resize_taps(2, 4)
    assert c0.tolist() == [0, 0, 0, 1] and a0.tolist() == [2048, 1536, 512, 2048]
    assert r0.tolist() == [0, 0, 0, 1] and r1.tolist() == [0, 1, 1, 1]
    assert b0.tolist() == [512, 1536, 512, 1536] and b1.tolist() == [1536, 512, 1536, 512]


def test_crop_batch_equals_per_frame_crops():
    rng = np.random.default_rng(3)
    imgs = [rng.integers(0, 256, (int(rng.integers(20, 90)), int(rng.integers(20, 90)), 3), dtype=np.uint8)
            for _ in range(4)]
    centres = [rng.uniform(0, 90, 2) for _ in imgs]
    sizes = [37, 64, 150, 64]  # 64 -> 64 is the identity path
    means = [i.mean((0, 1)) for i in imgs]
    got = crop_batch([torch.from_numpy(i) for i in imgs], centres, 64, sizes, means)
    want = torch.cat([get_subwindow(i, c, 64, s, m) for i, c, s, m in zip(imgs, centres, sizes, means)])
    assert got.dtype == torch.float32 and got.is_contiguous() and torch.equal(got, want)


def test_channel_mean_and_upload():
    img = np.random.default_rng(4).integers(0, 256, (33, 47, 3), dtype=np.uint8)
    t = frame_to_tensor(img, torch.device("cpu"))
    assert np.array_equal(channel_mean(t), np.mean(img, axis=(0, 1)))
    assert np.array_equal(DeviceCropper("cpu").mean(img), np.mean(img, axis=(0, 1)))


def _frames(n=4, h=72, w=96):
    rng = np.random.default_rng(5)
    out = []
    for i in range(n):
        img = rng.integers(0, 60, (h, w, 3), dtype=np.uint8)
        img[20 + i:44 + i, 30 + 2 * i:54 + 2 * i] = (40, 200, 220)  # a moving coloured block
        out.append(img)
    return out


@pytest.mark.parametrize("mask", [False, True], ids=["siamrpn", "siammask"])
def test_tracker_device_crop_and_tensor_frames_match_opencv_path(mask):
    frames = _frames()
    name = "siammask_r50_l3" if mask else "siamrpn_r50_l234_dwxcorr"
    results = {}
    for mode in ("off", "on", "tensor"):
        cfg = load_config(name, ["DEVICE", "cpu", "INFERENCE.DEVICE_CROP", "off" if mode == "off" else "on"])
        tracker = build_tracker(cfg, FakeSiamModel(mask=mask))
        seq = frames if mode != "tensor" else [torch.from_numpy(f) for f in frames]
        tracker.init(seq[0], [30, 20, 24, 24])
        outs = [tracker.track(f) for f in seq[1:]]
        results[mode] = outs
    for mode in ("on", "tensor"):
        for a, b in zip(results["off"], results[mode]):
            assert a["bbox"] == b["bbox"] and a["best_score"] == b["best_score"]
            if mask:
                assert np.array_equal(a["mask"], b["mask"]) and a["polygon"] == b["polygon"]


@pytest.mark.parametrize("case,frames", [("siamrpn_alex_crossing", 15), ("siammask_tennis", 10)])
def test_parity_references_with_device_crop(shared_data, case, frames):
    """pysot's reference outputs (tests/data/tracker, see test_tracker_parity.py) are reproduced
    bit for bit when the crops are cut by torch (first frames of two cases, with the frames
    given as tensors)."""
    import json

    import cv2

    from test_tracker_parity import REF_DIR, config_for

    ref = json.loads((REF_DIR / f"{case}.json").read_text())
    cfg = config_for(ref)
    cfg.INFERENCE.DEVICE_CROP = "on"
    tracker = build_tracker(cfg, FakeSiamModel(**ref["fake_model"]))
    for i, rel in enumerate(ref["sequence"][:frames + 1]):
        img = torch.from_numpy(cv2.imread(str(shared_data / rel)))
        if i == 0:
            tracker.init(img, ref["init"])
            continue
        out, exp = tracker.track(img), ref["frames"][i - 1]
        np.testing.assert_allclose(out["bbox"], exp["bbox"], rtol=0, atol=1e-6, err_msg=f"{case} frame {i}")
        assert abs(out["best_score"] - exp["score"]) <= 1e-7
        if "polygon" in exp:
            assert int(out["mask_binary"].sum()) == exp["mask_area"]
            np.testing.assert_allclose(out["polygon"], exp["polygon"], rtol=0, atol=1e-4)


# -- prefetching reader ---------------------------------------------------------------------------

@pytest.fixture
def otb(tmp_path):
    make_otb_like(tmp_path, videos={"Alpha": 7}, size=(40, 30))
    return build_dataset("OTB100", tmp_path)["Alpha"]


@pytest.mark.parametrize("depth", [0, 1, 3, 20])
def test_prefetch_reader_yields_the_frames_in_order(otb, depth):
    want = list(otb.frames())
    got = list(PrefetchReader.for_video(otb, depth=depth))
    assert len(got) == len(want) == 7
    assert all(np.array_equal(a, b) for a, b in zip(want, got))


def test_prefetch_reader_reports_a_missing_frame(otb):
    Path(otb.img_paths[4]).unlink()
    frames = iter(PrefetchReader.for_video(otb, depth=3))
    for _ in range(4):
        next(frames)
    with pytest.raises(OSError, match="frame 4 is missing"):
        next(frames)


def test_prefetch_reader_stops_early_and_refuses_bad_options(otb):
    reader = PrefetchReader.for_video(otb, depth=4)
    it = iter(reader)
    next(it)
    it.close()  # leaving the loop cancels the queued reads and stops the pool
    assert reader._executor is None
    with pytest.raises(ValueError, match="decode"):
        PrefetchReader.for_video(otb, decode="nvjpeg")
    if not gpu_decode_available():
        with pytest.raises(RuntimeError, match="torchvision"):
            PrefetchReader.for_video(otb, decode="gpu")
