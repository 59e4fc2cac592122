"""Trackers sharing ONE stateless SiamModel give the results they give alone (real classes).

* SiamRPN++ (siamrpn_alex_dwxcorr, search 143 px), SiamMask without refine (quickstart_siammask)
  and SiamMask with refine (siammask_r50_l3, search 175 px), random seeded weights, on generated
  videos: two trackers interleaved frame by frame on one model == each run alone (boxes,
  scores, masks identical), and the model keeps no per-video state.
* MultiTracker (one batched pass for all targets) == independent trackers: 4 SiamRPN++ targets,
  NanoTrack V2 targets, SiamMask targets with the batched refine, long-term targets whose search
  sizes differ (two groups in a frame), a target added late and one removed (boxes within 1e-3 px).
* DAVIS 2017 (a generated 2-object set): run_vos on all objects (one MultiTracker) == run_vos per
  object (object_ids=[k]): stacked mask probabilities and labels.
* tools/demo.py with several --init boxes (';' and a repeated flag): one results file per target,
  equal to independent trackers.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

import pysiam.eval  # noqa: F401  (before pysiam.protocols: the two import each other)
from pysiam.config import load_config
from pysiam.data.synthetic import SynthParams, generate_video
from pysiam.datasets import build_dataset
from pysiam.datasets.testing import make_davis
from pysiam.models import build_model
from pysiam.protocols import davis as davis_protocol
from pysiam.protocols.davis import run_vos
from pysiam.runner.multi import MultiTracker
from pysiam.tracker import SiamMaskTracker, SiamRPNLTTracker, build_tracker

BOX_TOL = 1e-3
_MODELS: dict = {}


@pytest.fixture(autouse=True)
def _single_thread(one_thread):
    yield


def _model(name: str, *opts: str):
    key = (name,) + opts
    if key not in _MODELS:
        cfg = load_config(name, list(opts) + ["DEVICE", "cpu"])
        torch.manual_seed(0)
        _MODELS[key] = (cfg, build_model(cfg).eval())
    return _MODELS[key]


def _video(index: int, n: int = 6, size=(128, 96)):
    return generate_video(index, SynthParams(width=size[0], height=size[1], n_frames=n, seed=7))


def _boxes(n: int, size=(128, 96), seed: int = 0):
    rng = np.random.default_rng(seed)
    return [[float(rng.uniform(4, size[0] - 40)), float(rng.uniform(4, size[1] - 40)),
             float(rng.uniform(14, 36)), float(rng.uniform(14, 36))] for _ in range(n)]


def _key(out):
    """What must be equal: box, score, chosen cell, and the mask when there is one."""
    mask = out.get("mask")
    return out["bbox"], out["best_score"], out["best_idx"], None if mask is None else mask.copy()


def _alone(cfg, model, video, box):
    t = build_tracker(cfg, model)
    t.init(video.frames[0], box)
    return [_key(t.track(f)) for f in video.frames[1:]]


def _assert_same(a, b, tol: float = 0.0):
    """Equal results; ``tol`` > 0: boxes within ``tol`` px, scores / mask probabilities within 1e-4."""
    assert len(a) == len(b)
    fine = 1e-4 if tol else 0.0
    for (box_a, s_a, i_a, m_a), (box_b, s_b, i_b, m_b) in zip(a, b):
        np.testing.assert_allclose(box_a, box_b, rtol=0, atol=tol)
        assert i_a == i_b and abs(s_a - s_b) <= fine
        if m_a is not None or m_b is not None:
            np.testing.assert_allclose(m_a, m_b, rtol=0, atol=fine)


CASES = {
    "siamrpn++": ("siamrpn_alex_dwxcorr", "TRACK.INSTANCE_SIZE", "143"),
    "siammask": ("quickstart_siammask",),
    "siammask_refine": ("siammask_r50_l3", "TRACK.INSTANCE_SIZE", "175"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_two_trackers_interleaved_on_one_model_equal_alone(case):
    cfg, model = _model(*CASES[case])
    n = 3 if case == "siammask_refine" else 6
    videos = [_video(1, n), _video(2, n)]
    boxes = [v.boxes[0].tolist() for v in videos]
    before = {k: v.clone() for k, v in model.state_dict().items()}
    alone = [_alone(cfg, model, v, b) for v, b in zip(videos, boxes)]
    trackers = [build_tracker(cfg, model) for _ in videos]
    assert trackers[0].model is trackers[1].model is model
    for t, v, b in zip(trackers, videos, boxes):
        t.init(v.frames[0], b)
    together = [[], []]
    for f in range(1, n):
        for k in (1, 0):  # the second target first: order must not matter
            together[k].append(_key(trackers[k].track(videos[k].frames[f])))
    for k in range(2):
        _assert_same(together[k], alone[k])
    if case.startswith("siammask"):
        assert isinstance(trackers[0], SiamMaskTracker) and together[0][0][3].shape == (96, 128)
    assert getattr(model, "_template", None) is None and getattr(model, "_last", None) is None
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def _multi_vs_alone(cfg, model, video, boxes):
    alone = [_alone(cfg, model, video, b) for b in boxes]
    multi = MultiTracker(cfg, model)
    multi.init(video.frames[0], boxes)
    frames = [multi.track(f) for f in video.frames[1:]]
    for k in range(len(boxes)):
        _assert_same([_key(fr[k]) for fr in frames], alone[k], tol=BOX_TOL)
    return multi


@pytest.mark.parametrize("name,opts", [("siamrpn_alex_dwxcorr", ("TRACK.INSTANCE_SIZE", "143")),
                                       ("nanotrack_v2", ()), ("quickstart_siammask", ()),
                                       ("siammask_r50_l3", ("TRACK.INSTANCE_SIZE", "175"))])
def test_multitracker_equals_independent_trackers(name, opts):
    cfg, model = _model(name, *opts)
    video = _video(3, 3 if name == "siammask_r50_l3" else 6)
    n = 2 if name == "siammask_r50_l3" else 4
    multi = _multi_vs_alone(cfg, model, video, [video.boxes[0].tolist()] + _boxes(n - 1))
    assert len(multi) == n and len(multi.boxes) == n


def test_multitracker_cached_template_add_and_remove():
    cfg, model = _model("siamrpn_alex_dwxcorr", "TRACK.INSTANCE_SIZE", "143")
    video = _video(4, 7)
    boxes = _boxes(3, seed=1)
    late = _boxes(1, seed=2)[0]
    multi = MultiTracker(lambda: build_tracker(cfg, model))
    multi.init(video.frames[0], boxes)
    got = {0: [], 1: [], 2: [], "late": []}
    calls = []
    real = model.extract_template
    for f in range(1, 7):
        if f == 5:
            multi.remove(1)
        outs = multi.track(video.frames[f])
        names = [0, 1, 2] if f <= 3 else ([0, 1, 2, "late"] if f == 4 else [0, 2, "late"])
        assert len(outs) == len(names)
        for name, out in zip(names, outs):
            got[name].append(_key(out))
        if f == 3:  # a target that appears in frame 3: tracked from frame 4 on
            model.extract_template = lambda z: calls.append(z.shape[0]) or real(z)
            assert multi.add(video.frames[f], late) == 3
            del model.extract_template
    assert calls == [1] and len(multi) == 3 and len(multi._cache) <= 8
    for k in (0, 2):
        _assert_same(got[k], _alone(cfg, model, video, boxes[k]), tol=BOX_TOL)
    _assert_same(got[1], _alone(cfg, model, video, boxes[1])[:4], tol=BOX_TOL)
    t = build_tracker(cfg, model)
    t.init(video.frames[3], late)
    _assert_same(got["late"], [_key(t.track(fr)) for fr in video.frames[4:]], tol=BOX_TOL)
    with pytest.raises(IndexError):
        multi.remove(3)
    with pytest.raises(ValueError, match="target 4: initial box"):  # would-be index 3 + 1
        multi.add_many(video.frames[0], [boxes[0], [1, 2, 0, 3]])
    assert len(multi) == 3


def test_multitracker_groups_long_term_search_sizes():
    cfg, model = _model("siamrpn_alex_dwxcorr", "TRACK.INSTANCE_SIZE", "143", "TRACK.TYPE", "SiamRPNLTTracker",
                        "TRACK.LOST_INSTANCE_SIZE", "207", "TRACK.CONFIDENCE_LOW", "0.8",
                        "TRACK.CONFIDENCE_HIGH", "0.85")
    video = _video(5, 6)
    boxes = [video.boxes[0].tolist()] + _boxes(3, seed=3)
    alone = [_alone(cfg, model, video, b) for b in boxes]
    multi = MultiTracker(cfg, model)
    multi.init(video.frames[0], boxes)
    assert all(isinstance(t, SiamRPNLTTracker) for t in multi.trackers)
    frames, mixed = [], 0
    for f in video.frames[1:]:
        mixed += len({t.longterm_state for t in multi.trackers}) == 2
        frames.append(multi.track(f))
    assert mixed >= 1  # some frame had two search sizes (two groups)
    for k in range(len(boxes)):
        _assert_same([_key(fr[k]) for fr in frames], alone[k], tol=BOX_TOL)


def test_davis_all_objects_equal_per_object_runs(tmp_path, monkeypatch):
    cfg, model = _model("quickstart_siammask")
    make_davis(tmp_path, 2017, {"dog": 6}, size=(96, 72), objects=2, seed=3)
    video = build_dataset("DAVIS2017", tmp_path)["dog"]
    seen = []
    merge = davis_protocol._merge

    def record(probs, object_ids, threshold, shape):
        seen.append(probs.copy())
        return merge(probs, object_ids, threshold, shape)
    monkeypatch.setattr(davis_protocol, "_merge", record)

    def make():
        return build_tracker(cfg, model)
    both = run_vos(make, video, threshold=0.3)
    probs_all, seen[:] = list(seen), []
    singles = []
    for o in (1, 2):
        run_vos(make, video, threshold=0.3, object_ids=[o])
        singles.append(list(seen))
        seen[:] = []
    assert both.object_ids == [1, 2] and len(both.labels) == 6
    for t in range(6):
        stacked = np.concatenate([singles[0][t], singles[1][t]])
        np.testing.assert_allclose(probs_all[t], stacked, rtol=0, atol=1e-4)
        np.testing.assert_array_equal(both.labels[t], merge(stacked, [1, 2], 0.3, stacked.shape[1:]))
    assert (probs_all[0] >= 0).all() and all((p > 0.3).any() for p in probs_all[1:])  # both start at frame 0


def test_demo_tracks_several_init_boxes_with_multitracker(tmp_path, monkeypatch):
    import cv2

    from pysiam.cli import demo
    cfg, model = _model("siamrpn_alex_dwxcorr", "TRACK.INSTANCE_SIZE", "143")
    monkeypatch.setattr(demo, "load_model", lambda *a, **k: model)
    video = _video(6, 3)
    folder = tmp_path / "frames"
    folder.mkdir()
    for i, f in enumerate(video.frames):
        cv2.imwrite(str(folder / f"{i:04d}.png"), f)
    boxes = _boxes(3, seed=5)
    text = [",".join(f"{v:.4f}" for v in b) for b in boxes]
    argv = ["--config", "siamrpn_alex_dwxcorr", "--input", str(folder), "--init", f"{text[0]};{text[1]}",
            "--init", text[2], "--output", str(tmp_path / "out"), "--device", "cpu", "TRACK.INSTANCE_SIZE", "143"]
    assert demo.main(argv) == 0
    out = tmp_path / "out"
    assert sorted(p.name for p in out.iterdir()) == ["frames.mp4", "frames_1.txt", "frames_2.txt", "frames_3.txt"]
    boxes = [[float(v) for v in t.split(",")] for t in text]
    for k, box in enumerate(boxes, start=1):
        rows = np.array([r.split(",") for r in (out / f"frames_{k}.txt").read_text().splitlines()], float)
        alone = np.array([b for b, _, _, _ in _alone(cfg, model, video, box)])
        assert rows.shape == (3, 5) and np.allclose(rows[0, :4], box)
        np.testing.assert_allclose(rows[1:, :4], alone, rtol=0, atol=2e-3)
    assert demo.parse_boxes(["1,2,3,4;5,6,7,8", "9,9,9,9"]) == [[1, 2, 3, 4], [5, 6, 7, 8], [9, 9, 9, 9]]


def test_multitracker_runs_plain_trackers_alone_and_checks_the_model():
    class Plain:  # init / track only (no phased API): run on its own
        def init(self, img, box):
            self.box = list(box)

        def track(self, img):
            self.box[0] += 1
            return {"bbox": list(self.box), "best_score": 1.0}

    cfg, model = _model("siamrpn_alex_dwxcorr", "TRACK.INSTANCE_SIZE", "143")
    video = _video(8, 3)
    made = iter([Plain(), build_tracker(cfg, model), Plain()])
    multi = MultiTracker(lambda: next(made))
    box = video.boxes[0].tolist()
    multi.init(video.frames[0], [[1, 2, 3, 4], box, [5, 6, 7, 8]])
    outs = [multi.track(f) for f in video.frames[1:]]
    assert [o[0]["bbox"] for o in outs] == [[2, 2, 3, 4], [3, 2, 3, 4]] and outs[1][2]["bbox"] == [7, 6, 7, 8]
    _assert_same([_key(o[1]) for o in outs], _alone(cfg, model, video, box), tol=BOX_TOL)
    _, other = _model("siamrpn_alex_dwxcorr", "TRACK.INSTANCE_SIZE", "143", "TRACK.LR", "0.3")
    mixed = iter([build_tracker(cfg, model), build_tracker(cfg, other)])
    with pytest.raises(ValueError, match="same model"):
        MultiTracker(lambda: next(mixed)).init(video.frames[0], [box, box])
    with pytest.raises(ValueError, match="needs the model"):
        MultiTracker(cfg)
