"""Hyper-parameter search on every protocol: in-memory scores equal tools/eval.py's on the files;
the template cache and the VOT record conversion are exact."""
import numpy as np
import pytest
import torch

from pysiam.datasets import build_dataset, testing
from pysiam.results.files import read_vot_records, write_vot_result
from pysiam.config import load_config
from pysiam.eval import evaluate
from pysiam.tune import EvalSetup, run_search, space_from_dict
from pysiam.tune.caching import FrameCache, TemplateCachingModel, wrap_model
from pysiam.protocols import vot_arrays
from pysiam.tune.testing import ColourMatchModel, make_distractor_benchmark, toy_config_opts
from pysiam.tune.trial import trial_slug


def test_vot_arrays_equal_a_file_round_trip(tmp_path):
    records = [1, [3.123456, 4.0, 10.5, 8.25], 2, 0, 0, 1,
               [1.00004, 2.0, 11.0, 2.0, 11.0, 9.0, 1.0, 9.0], [5.0, 6.0, 7.0, 8.0]]
    path = write_vot_result(tmp_path, "VOT2018", "t", "v", records)
    codes, regions = read_vot_records(path)
    c2, r2 = vot_arrays(records)
    assert np.array_equal(codes, c2) and np.array_equal(regions, r2, equal_nan=True)


def _toy_cfg(*extra):
    return load_config(None, toy_config_opts + ["DEVICE", "cpu", *extra])


CASES = {
    # protocol: (maker, dataset name, extra config, searched key, values, metric)
    "vot": (lambda r: testing.make_vot(r, videos={"ants": 24, "bag": 20}), "VOT2018", [],
            "WINDOW_INFLUENCE", [0.1, 0.6], "eao"),
    "vot-distractor": (lambda r: make_distractor_benchmark(r, layout="vot"), "VOT2016", [],
                       "WINDOW_INFLUENCE", [0.0, 0.5], "eao"),
    "vot-lt": (lambda r: testing.make_vot_lt(r, videos={"car1": 20, "group": 16}), "VOT2018-LT",
               ["TRACK.TYPE", "SiamRPNLTTracker"], "WINDOW_INFLUENCE", [0.1, 0.6], "f_score"),
    "got10k": (lambda r: testing.make_got10k(r, videos={"GOT-10k_Val_000001": 10, "GOT-10k_Val_000002": 8}),
               "GOT-10k", [], "LR", [0.2, 0.5], "ao"),
    "davis": (lambda r: testing.make_davis(r, videos={"dog": 6, "cat": 5}), "DAVIS2017",
              ["MASK.MASK", "True", "TRACK.TYPE", "SiamMaskTracker"], "MASK_THRESHOLD", [0.2, 0.6],
              "JF_mean"),
}


@pytest.mark.parametrize("protocol", sorted(CASES))
def test_in_memory_scores_equal_eval_of_saved_results(protocol, tmp_path, one_thread):
    make, name, extra, key, values, metric = CASES[protocol]
    make(tmp_path / "data")
    options = {"split": "val"} if protocol == "got10k" else {}
    root = tmp_path / "data"
    ds = build_dataset(name, root, **options)
    assert ds.protocol == protocol.split("-distractor")[0]
    if ds.protocol == "vot":
        ds.eao_interval = (3, 18)       # the year's interval (100-356) is longer than these videos
    setup = EvalSetup(_toy_cfg(*extra), ds, lambda: ColourMatchModel(mask=protocol == "davis"),
                      metric, save_results=str(tmp_path / "res"))
    res = run_search(setup, space_from_dict({"method": "grid", "params": {key: values}}),
                     tmp_path / "search", plot=False)
    assert len(res.records) == 2
    scored = evaluate(ds, tmp_path / "res")
    assert len(scored) == 2
    for rec in res.records.values():
        ref = scored[trial_slug(rec["params"])]
        assert rec["score"] == ref[metric], (rec["params"], rec["score"], ref[metric])
        for k in ("accuracy", "robustness", "J_mean", "F_mean", "sr50", "precision", "recall"):
            if k in ref and k in rec["metrics"]:
                assert rec["metrics"][k] == pytest.approx(ref[k], abs=1e-12, nan_ok=True)
    if protocol == "vot-distractor":
        # WI 0 loses the target on frame 1 of each video; re-initialised on a faded frame, the
        # template then matches the target, not the distractor, and nothing is lost any more
        by_wi = {r["params"]["TRACK.WINDOW_INFLUENCE"]: r for r in res.records.values()}
        assert by_wi[0.0]["metrics"]["lost_number"] == 2 and by_wi[0.5]["metrics"]["lost_number"] == 0
        assert res.best["params"]["TRACK.WINDOW_INFLUENCE"] == 0.5


def test_template_cache_reuses_features_exactly(one_thread):
    from pysiam.models import build_model

    torch.manual_seed(0)
    model = build_model(load_config("siamrpn_alex_dwxcorr")).eval()
    wrapped = wrap_model(model, 8)
    assert isinstance(wrapped, TemplateCachingModel)
    assert wrap_model(model, 0) is model
    g = torch.Generator().manual_seed(1)
    z = torch.randint(0, 256, (1, 3, 127, 127), generator=g).float()
    x = torch.randint(0, 256, (1, 3, 287, 287), generator=g).float()
    with torch.no_grad():
        ref = model.track_with(model.extract_template(z), x)
        for _ in range(2):
            out = wrapped.track_with(wrapped.extract_template(z.clone()), x, with_mask=False)
            assert torch.equal(out["cls"], ref["cls"]) and torch.equal(out["loc"], ref["loc"])
        wrapped.extract_template(z + 1)
    assert (wrapped.hits, wrapped.misses) == (1, 2)
    assert wrapped.refine_head is None and wrapped.mask_head is None


def test_frame_cache_budget(tmp_path):
    testing.make_otb_like(tmp_path, videos={"Alpha": 4})
    video = build_dataset("OTB100", tmp_path)["Alpha"]
    one = video.read_frame(0).nbytes
    cache = FrameCache(budget_mb=2.5 * one / 2 ** 20)
    frames = [cache.get(video, i) for i in range(4)]
    assert cache.used == 2 * one and len(cache._frames) == 2
    assert cache.get(video, 0) is frames[0] and cache.get(video, 3) is not frames[3]
    assert all(np.array_equal(f, video.read_frame(i)) for i, f in enumerate(frames))
