"""The tracking demo, headless: generated video, real frame folder and video, errors.

The network is the deterministic fake of ``test_tracker_fake.py`` (patched into
``pysiam.cli.demo.load_model``) except in the one test that builds the real AlexNet model.
"""
from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np
import pytest

from pysiam.cli import demo
from pysiam.utils.video import VideoSink, list_images
from test_tracker_fake import FakeSiamModel


@pytest.fixture(autouse=True)
def _single_thread(one_thread):
    yield


@pytest.fixture
def fake_model(monkeypatch):
    def load(cfg, snapshot, trust=False):
        return FakeSiamModel(base_size=cfg.TRACK.BASE_SIZE, mask=cfg.MASK.MASK)
    monkeypatch.setattr(demo, "load_model", load)


def count_frames(path: Path) -> int:
    cap = cv2.VideoCapture(str(path))
    assert cap.isOpened(), path
    n = 0
    while cap.read()[0]:
        n += 1
    cap.release()
    return n


def read_results(path: Path) -> np.ndarray:
    rows = [line.split(",") for line in path.read_text().splitlines()]
    assert all(len(r) == 5 for r in rows)
    return np.array(rows, dtype=np.float64)


def make_video(path: Path, n: int = 15, size=(160, 120)) -> Path:
    w = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, size)
    assert w.isOpened()
    for i in range(n):
        f = np.full((size[1], size[0], 3), 30, np.uint8)
        cv2.rectangle(f, (40 + 3 * i, 40), (70 + 3 * i, 75), (230, 230, 230), -1)
        w.write(f)
    w.release()
    return path


def test_generated_video(tmp_path, fake_model, capsys):
    src = make_video(tmp_path / "moving.avi")
    out = tmp_path / "out"
    rc = demo.main(["--config", "siamrpn_r50_l234_dwxcorr", "--input", str(src), "--init", "40,40,31,36",
                    "--output", str(out), "--device", "cpu"])
    assert rc == 0
    videos = list(out.glob("moving.mp4")) + list(out.glob("moving.avi"))
    assert len(videos) == 1 and count_frames(videos[0]) == 15
    res = read_results(out / "moving.txt")
    assert res.shape == (15, 5) and np.isnan(res[0, 4]) and np.all(res[1:, 4] >= 0)
    assert list(res[0, :4]) == [40, 40, 31, 36]
    assert not list(out.glob(".*"))  # no temporary files left
    assert "tracked 15 frames" in capsys.readouterr().out


def test_frame_folder_and_no_video(shared_data, tmp_path, fake_model):
    folder = shared_data / "OTB100" / "Crossing" / "img"
    out = tmp_path / "o"
    assert demo.main(["--config", "siamrpn_alex_dwxcorr", "--input", str(folder), "--init", "205,151,17,50",
                      "--output", str(out), "--device", "cpu"]) == 0
    assert count_frames(out / "img.mp4") == 120
    assert read_results(out / "img.txt").shape == (120, 5)
    out2 = tmp_path / "o2"
    assert demo.main(["--config", "siamrpn_alex_dwxcorr", "--input", str(folder), "--init", "205,151,17,50",
                      "--output", str(out2), "--no-video", "--max-frames", "10"]) == 0
    assert sorted(p.name for p in out2.iterdir()) == ["img.txt"]
    assert read_results(out2 / "img.txt").shape == (10, 5)


def test_siammask_on_bag_video(shared_data, tmp_path, fake_model):
    out = tmp_path / "m"
    assert demo.main(["--config", "siammask_r50_l3", "--input", str(shared_data / "videos" / "bag.avi"),
                      "--init", "312.6,146.9,106.1,96.4", "--output", str(out), "--device", "cpu"]) == 0
    assert count_frames(out / "bag.mp4") == 196
    assert read_results(out / "bag.txt").shape == (196, 5)


def test_draw_mask_overlay_and_polygon():
    frame = np.zeros((40, 50, 3), np.uint8)
    binary = np.zeros((40, 50), np.uint8)
    binary[10:20, 10:30] = 1
    out = {"bbox": [10, 10, 20, 10], "best_score": 0.5, "mask_binary": binary,
           "polygon": [10, 10, 30, 10, 30, 20, 10, 20]}
    img = demo.draw(frame, out, score_text=False)
    assert img[15, 20, 2] > 0 and img[15, 20, 0] == 0  # red-tinted mask inside
    assert tuple(img[10, 20]) == demo.POLY_COLOR and tuple(img[35, 45]) == (0, 0, 0)


def test_errors_name_the_input(tmp_path, fake_model, capsys, monkeypatch):
    missing = tmp_path / "nope.mp4"
    assert demo.main(["--config", "siamrpn_alex_dwxcorr", "--input", str(missing), "--init", "1,1,5,5"]) == 2
    assert f"input not found: {missing}" in capsys.readouterr().err
    # an unreadable frame in a folder
    folder = tmp_path / "frames"
    folder.mkdir()
    cv2.imwrite(str(folder / "0001.png"), np.zeros((60, 80, 3), np.uint8))
    (folder / "0002.png").write_bytes(b"not an image")
    rc = demo.main(["--config", "siamrpn_alex_dwxcorr", "--input", str(folder), "--init", "1,1,5,5",
                    "--output", str(tmp_path / "out")])
    assert rc == 2 and f"cannot read image {folder / '0002.png'}" in capsys.readouterr().err
    assert not (tmp_path / "out" / "frames.mp4").exists()
    # a file that is not a video
    bad = tmp_path / "bad.avi"
    bad.write_bytes(b"garbage")
    assert demo.main(["--config", "siamrpn_alex_dwxcorr", "--input", str(bad), "--init", "1,1,5,5",
                      "--output", str(tmp_path / "out")]) == 2
    assert str(bad) in capsys.readouterr().err
    # headless without --init
    monkeypatch.setattr(demo, "gui_available", lambda: False)
    src = make_video(tmp_path / "v.avi", n=3)
    assert demo.main(["--config", "siamrpn_alex_dwxcorr", "--input", str(src), "--output", str(tmp_path / "o")]) == 2
    assert "--init" in capsys.readouterr().err
    # malformed --init and an unknown config key
    assert demo.main(["--config", "siamrpn_alex_dwxcorr", "--input", str(src), "--init", "1,2,3"]) == 2
    assert "x,y,w,h" in capsys.readouterr().err
    assert demo.main(["--config", "siamrpn_alex_dwxcorr", "--input", str(src), "--init", "1,2,3,4",
                      "TRACK.NOPE", "1"]) == 2
    assert "TRACK.NOPE" in capsys.readouterr().err


def test_video_sink_falls_back_to_the_next_codec(tmp_path):
    sink = VideoSink(tmp_path / "x", 10.0, (64, 48), codecs=[("ZZZZ", ".mp4"), ("MJPG", ".avi")])
    assert sink.codec == "MJPG"
    for _ in range(4):
        sink.write(np.zeros((48, 64, 3), np.uint8))
    assert sink.close() == tmp_path / "x.avi" and count_frames(tmp_path / "x.avi") == 4
    with pytest.raises(OSError, match="any codec"):
        VideoSink(tmp_path / "y", 10.0, (64, 48), codecs=[("ZZZZ", ".mp4")])


def test_natural_frame_order(tmp_path):
    for name in ("10.jpg", "2.jpg", "1.png", "notes.txt"):
        (tmp_path / name).write_bytes(b"")
    assert [p.name for p in list_images(tmp_path)] == ["1.png", "2.jpg", "10.jpg"]


def test_real_alexnet_model_random_weights(tmp_path, caplog):
    pytest.importorskip("pysiam.models")
    src = make_video(tmp_path / "clip.avi", n=4)
    with caplog.at_level(logging.WARNING, logger="pysiam.demo"):
        rc = demo.main(["--config", "siamrpn_alex_dwxcorr", "--input", str(src), "--init", "40,40,31,36",
                        "--output", str(tmp_path / "out"), "--device", "cpu"])
    assert rc == 0 and "RANDOM weights" in caplog.text
    assert count_frames(next((tmp_path / "out").glob("clip.*[4i]"))) == 4
    assert demo.main(["--config", "siamrpn_alex_dwxcorr", "--snapshot", str(tmp_path / "missing.pth"),
                      "--input", str(src), "--init", "40,40,31,36", "--output", str(tmp_path / "out")]) == 2


def test_inference_options_reach_the_demo_model(tmp_path, monkeypatch):
    from pysiam.inference.winograd import WinogradConv2d
    src = make_video(tmp_path / "clip.avi", n=3)
    seen = {}
    real = demo.build_tracker

    def spy(cfg, model, device=None):
        seen["winograd"] = sum(isinstance(m, WinogradConv2d) for m in model.modules())
        return real(cfg, model, device=device)
    monkeypatch.setattr(demo, "build_tracker", spy)
    assert demo.main(["--config", "siamrpn_alex_dwxcorr", "--input", str(src), "--init", "40,40,31,36",
                      "--output", str(tmp_path / "out"), "--device", "cpu", "--no-video", "--winograd"]) == 0
    assert seen["winograd"] == 7  # conv3-5 and the RPN head's four 256-channel 3x3 convolutions
    assert len((tmp_path / "out" / "clip.txt").read_text().splitlines()) == 3
