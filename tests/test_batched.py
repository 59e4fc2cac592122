"""The batched multi-video engine gives the sequential runner's results.

* siamrpn_alex_dwxcorr with random weights (search crop reduced to 143 px, a 3x3 score map, to
  keep the test fast) on generated OTB-like and VOT sets: boxes within 1e-3 px, identical VOT
  records (failures and re-initialisations happen: the weights are random). A batch-B
  convolution may round differently from B single ones, hence the tolerance.
* The deterministic fake network (tests/test_tracker_fake.py, with a per-sample batch API) for
  SiamMask (batched refine, polygons) and the long-term tracker (search sizes 255 and 831 in the
  same step): results identical to the sequential runner.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from pysiam.datasets import build_dataset
from pysiam.datasets.testing import make_otb_like, make_vot
from pysiam.cli import test as test_cli
from pysiam.config import load_config
from pysiam.models import Template, build_model
from pysiam.protocols import RunOptions, get_protocol
from pysiam.runner.batched import BatchedEngine, cat_templates, ope_job, run_batched
from pysiam.runner.protocols import run_ope, run_vot
from pysiam.tracker import build_tracker
from test_tracker_fake import FakeSiamModel

ALEX_OPTS = ["TRACK.INSTANCE_SIZE", "143", "DEVICE", "cpu"]


@pytest.fixture(scope="module")
def alex():
    cfg = load_config("siamrpn_alex_dwxcorr", ALEX_OPTS)
    torch.manual_seed(0)
    return cfg, build_model(cfg).eval()


def sequential(cfg, model, videos, protocol):
    tracker = build_tracker(cfg, model)
    with torch.inference_mode():
        if protocol == "vot":
            return {v.name: run_vot(tracker, v) for v in videos}
        return {v.name: run_ope(tracker, v) for v in videos}


def test_ope_batched_equals_sequential(alex, tmp_path):
    cfg, model = alex
    make_otb_like(tmp_path, videos={"A": 4, "B": 2, "C": 3, "D": 2}, size=(96, 72))
    videos = list(build_dataset("OTB100", tmp_path))
    seq = sequential(cfg, model, videos, "ope")
    done = []
    bat = run_batched(lambda: build_tracker(cfg, model), videos, get_protocol("ope"), batch=3,
                      on_done=lambda v, r: done.append(v.name))
    assert sorted(done) == ["A", "B", "C", "D"]
    for v in videos:
        a, b = seq[v.name], bat[v.name]
        assert len(b.boxes) == len(b.times) == len(v) and b.scores[0] is None
        np.testing.assert_allclose(b.boxes, a.boxes, rtol=0, atol=1e-3)
        np.testing.assert_allclose(b.scores[1:], a.scores[1:], rtol=0, atol=1e-4)
        assert all(t > 0 for t in b.times)


def test_vot_batched_equals_sequential_with_reinitialisations(alex, tmp_path):
    cfg, model = alex
    make_vot(tmp_path, videos={"ants": 10, "bag": 7}, size=(96, 72))
    videos = list(build_dataset("VOT2018", tmp_path))
    seq = sequential(cfg, model, videos, "vot")
    bat = run_batched(lambda: build_tracker(cfg, model), videos, get_protocol("vot"), batch=2)
    assert sum(r.failures for r in seq.values()) >= 2
    for v in videos:
        a, b = seq[v.name].records, bat[v.name].records
        assert [r if isinstance(r, int) else -1 for r in a] == [r if isinstance(r, int) else -1 for r in b]
        for ra, rb in zip(a, b):
            if not isinstance(ra, int):
                np.testing.assert_allclose(rb, ra, rtol=0, atol=1e-3)
        assert bat[v.name].failures == seq[v.name].failures


class BatchFake(FakeSiamModel):
    """The fake network, recording the search sizes it sees."""

    def track_with(self, template, x, with_mask=True):
        self.sizes_seen.add(int(x.shape[-1]))
        return super().track_with(template, x, with_mask)

    sizes_seen: set


def fake(mask=False):
    m = BatchFake(mask=mask)
    m.sizes_seen = set()
    return m


def test_siammask_vot_batched_is_identical(tmp_path):
    cfg = load_config("siammask_r50_l3", ["DEVICE", "cpu"])
    make_vot(tmp_path, videos={"ants": 10, "bag": 7, "cup": 8}, size=(160, 120))
    videos = list(build_dataset("VOT2018", tmp_path))
    model = fake(mask=True)
    tracker = build_tracker(cfg, model)
    seq = {v.name: run_vot(tracker, v, use_polygon=True) for v in videos}
    bat = run_batched(lambda: build_tracker(cfg, model), videos, get_protocol("vot"),
                      RunOptions(use_polygon=True), batch=2, prefetch=2)
    for v in videos:
        assert seq[v.name].records == bat[v.name].records


def test_longterm_batched_groups_search_sizes(tmp_path):
    cfg = load_config("siamrpn_r50_l234_dwxcorr_lt", ["DEVICE", "cpu", "TRACK.CONFIDENCE_LOW", "0.9"])
    make_otb_like(tmp_path, videos={"A": 6, "B": 5}, size=(120, 90))
    videos = list(build_dataset("OTB100", tmp_path))
    model = fake()
    seq = sequential(cfg, model, videos, "ope")
    model.sizes_seen.clear()
    engine = BatchedEngine(lambda: build_tracker(cfg, model), batch=2)
    bat = engine.run((v, ope_job(v, v.frames())) for v in videos)
    assert model.sizes_seen == {255, 831}  # lost-mode searches ran next to normal ones
    for v in videos:
        assert seq[v.name].boxes == bat[v.name].boxes and seq[v.name].scores == bat[v.name].scores


def test_cat_templates_round_trip():
    parts = [Template([torch.full((1, 2, 3, 3), float(i))], [(torch.full((1, 4), float(i)), torch.zeros(1, 1))], None)
             for i in range(3)]
    t = cat_templates(parts)
    assert t.batch_size == 3 and t.mask is None
    assert torch.equal(t.index(2).features[0], parts[2].features[0])
    assert torch.equal(t.head[0][0][:, 0], torch.tensor([0.0, 1.0, 2.0]))


def test_engine_refuses_models_without_batch_api_and_bad_protocols(tmp_path):
    cfg = load_config("siamrpn_r50_l234_dwxcorr", ["DEVICE", "cpu"])
    class StatefulOnly:
        def template(self, z):
            pass

        def track(self, x):
            return {}
    with pytest.raises(TypeError, match="extract_template"):
        BatchedEngine(lambda: build_tracker(cfg, StatefulOnly()), batch=2)
    with pytest.raises(ValueError, match="davis"):
        run_batched(lambda: build_tracker(cfg, fake()), [], get_protocol("davis"))
    with pytest.raises(ValueError, match="batch"):
        BatchedEngine(lambda: build_tracker(cfg, fake()), batch=0)


def test_test_cli_batch_writes_the_sequential_results(alex, tmp_path):
    root = tmp_path / "otb"
    make_otb_like(root, videos={"A": 3, "B": 3, "C": 2}, size=(96, 72))
    torch.save(alex[1].state_dict(), tmp_path / "w.pth")
    base = ["--config", "siamrpn_alex_dwxcorr", "--dataset", "OTB100", "--dataset-root", str(root),
            "--name", "t", "--no-progress", "--snapshot", str(tmp_path / "w.pth")]
    assert test_cli.main(base + ["--output", str(tmp_path / "seq"), "--prefetch", "0", "DEVICE", "cpu",
                                 *ALEX_OPTS]) == 0
    assert test_cli.main(base + ["--output", str(tmp_path / "bat"), "--batch", "2", "--fold-bn",
                                 "--channels-last", *ALEX_OPTS]) == 0
    for name in "ABC":
        rel = Path("OTB100") / "t" / f"{name}.txt"
        a = np.loadtxt(tmp_path / "seq" / rel, delimiter=",")
        b = np.loadtxt(tmp_path / "bat" / rel, delimiter=",")
        np.testing.assert_allclose(b, a, rtol=0, atol=1e-2)
