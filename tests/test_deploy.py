"""ONNX export (pysiam.deploy) and the ONNX Runtime backend against the torch path.

The quickstart SiamRPN is exported once per module (about 20 s on 2 cores, mostly the dynamo
exporter); larger families (alex, SiamMask with refine, long-term, r50) run with
PYSIAM_SLOW_TESTS=1.
"""
import json
import os
import shutil

import numpy as np
import pytest
import torch

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
pytest.importorskip("onnxscript")

from pysiam.config import load_config  # noqa: E402
from pysiam.data.synthetic import generate_video, preset  # noqa: E402
from pysiam.deploy import Layout, export_for_config  # noqa: E402
from pysiam.deploy.ort_model import OrtModel, cache_key  # noqa: E402
from pysiam.deploy.xcorr import export_friendly, xcorr_depthwise_export, xcorr_fast_export  # noqa: E402
from pysiam.inference import InferenceOptions, prepare_from_cfg  # noqa: E402
from pysiam.models import build_model, xcorr_depthwise, xcorr_fast  # noqa: E402
from pysiam.tracker import build_tracker  # noqa: E402

slow = pytest.mark.skipif(not os.environ.get("PYSIAM_SLOW_TESTS"), reason="slow export (set PYSIAM_SLOW_TESTS=1)")


def _model(name, overrides=()):
    cfg = load_config(name, list(overrides))
    torch.manual_seed(0)
    model = build_model(cfg).eval()
    with torch.no_grad():  # non-trivial BN statistics: folding / rounding differences would show
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.1, 0.1)
                m.running_var.uniform_(0.5, 1.5)
    return cfg, model


def _teacher_forced_diff(cfg, ref_model, ort_cfg, ort_model, frames, box):
    """Max box difference (px) when the ONNX tracker starts every frame from the torch tracker's
    state (free runs of random-weight trackers amplify rounding from frame to frame)."""
    from pysiam.deploy.validate import teacher_forced_box_diff

    return teacher_forced_box_diff(build_tracker(cfg, ref_model, device="cpu"),
                                   build_tracker(ort_cfg, ort_model, device="cpu"), frames, box)


def _boxes(cfg, model, frames, box):
    tracker = build_tracker(cfg, model, device="cpu")
    tracker.init(frames[0], box)
    return np.array([tracker.track(f)["bbox"] for f in frames[1:]], dtype=np.float64)


@pytest.fixture(scope="module")
def video():
    v = generate_video(3, preset("default", n_frames=8))
    return v.frames, [float(x) for x in v.boxes[0]]


@pytest.fixture(scope="module")
def quickstart(tmp_path_factory):
    cfg, model = _model("quickstart_siamrpn")
    out = tmp_path_factory.mktemp("export_quickstart")
    torch.set_num_threads(1)
    manifest = export_for_config(model, cfg, out, report=lambda line: None)
    return cfg, model, out, manifest


def test_export_friendly_xcorr_matches():
    gen = torch.Generator().manual_seed(1)
    for b in (1, 3):
        s, k = torch.randn(b, 6, 9, 9, generator=gen), torch.randn(b, 6, 3, 3, generator=gen)
        assert torch.allclose(xcorr_depthwise_export(s, k), xcorr_depthwise(s, k), atol=1e-5)
        k = torch.randn(b, 6 * 4, 3, 3, generator=gen)
        assert torch.allclose(xcorr_fast_export(s, k), xcorr_fast(s, k), atol=1e-5)
    import pysiam.models.head.rpn as rpn
    with export_friendly() as swapped:
        assert swapped >= 2 and rpn.xcorr_depthwise is xcorr_depthwise_export
    assert rpn.xcorr_depthwise is xcorr_depthwise


def test_layout_json_round_trip():
    cfg, model = _model("quickstart_siammask")
    with torch.no_grad():
        t = model.extract_template(torch.rand(1, 3, 63, 63) * 255)
        out = model.track_with(t, torch.rand(1, 3, 127, 127) * 255, with_mask=False)
    for value in (t, out):
        layout = Layout.of(value)
        back = Layout.from_json(json.loads(json.dumps(layout.to_json())))
        assert back.spec == layout.spec and back.names == layout.names
        rebuilt = back.unpack(layout.pack(value))
        assert all(a is b for a, b in zip(back.pack(rebuilt), layout.pack(value)))
    assert None in Layout.of(out).consts.values()  # the skipped mask is a constant, not an input


def test_export_quickstart_round_trip(quickstart):
    cfg, model, out, manifest = quickstart
    graphs = manifest["graphs"]
    assert set(graphs) == {"template", "search"}
    for entry in graphs.values():
        assert (out / entry["file"]).is_file()
        diffs = entry["max_rel_diff"]
        assert {"random b1", "random b3"} <= set(diffs) and any(k.startswith("real") for k in diffs)
        assert max(diffs.values()) < 1e-4, diffs
        assert entry["inputs"][0]["shape"][0] == "batch"
    on_disk = json.loads((out / "model.json").read_text())
    search = on_disk["graphs"]["search"]
    assert [r["name"] for r in search["inputs"]] == ["x"] + Layout.from_json(search["layouts"]["template"]).names
    # the template tensors are graph inputs: no template-sized constant in the search graph
    graph = onnx.load(str(out / search["file"])).graph
    t_shapes = {tuple(r["shape"][1:]) for r in search["inputs"][1:]}
    assert not any(tuple(init.dims[1:]) in t_shapes and init.dims[0] in (1, 2) for init in graph.initializer)


def test_ort_backend_boxes_match_torch(quickstart, video):
    cfg, model, out, _ = quickstart
    frames, box = video
    ref = _boxes(cfg, model, frames, box)
    ort_cfg = load_config("quickstart_siamrpn", ["INFERENCE.BACKEND", "onnxruntime", "INFERENCE.EXPORT_DIR", str(out),
                                                 "INFERENCE.THREADS", "1"])
    ort_model = prepare_from_cfg(model, ort_cfg, torch.device("cpu"))
    assert isinstance(ort_model, OrtModel) and ort_model.threads == 1
    assert ort_model.backbone is model.backbone  # attributes are the torch model's
    got = _boxes(ort_cfg, ort_model, frames, box)
    assert np.abs(got - ref).max() < 1e-3
    assert np.abs(ref[-1] - ref[0]).max() > 0.0  # the boxes moved: a real comparison


def test_export_dir_of_other_weights_is_refused(quickstart):
    cfg, model, out, _ = quickstart
    _, other = _model("quickstart_siamrpn")
    with torch.no_grad():
        next(other.parameters()).add_(1.0)
    ort_cfg = load_config("quickstart_siamrpn", ["INFERENCE.BACKEND", "onnxruntime", "INFERENCE.EXPORT_DIR", str(out)])
    with pytest.raises(ValueError, match="other weights"):
        prepare_from_cfg(other, ort_cfg)


def test_ort_batch_and_first_use_cache(quickstart, tmp_path):
    cfg, model, out, _ = quickstart
    key_dir = tmp_path / cache_key(model)
    shutil.copytree(out, key_dir)
    manifest = json.loads((key_dir / "model.json").read_text())
    del manifest["graphs"]["template"]  # exported again on first use (and checked against torch)
    (key_dir / "model.json").write_text(json.dumps(manifest))
    (key_dir / "template.onnx").unlink()
    ort_model = OrtModel.cached(model, threads=1, cache_root=tmp_path)
    assert ort_model.directory == key_dir
    z, x = torch.rand(2, 3, 63, 63) * 255, torch.rand(2, 3, 127, 127) * 255
    with torch.no_grad():
        t_ref = model.extract_template(z)
        ref = model.track_with(t_ref, x, with_mask=False)
        t = ort_model.extract_template(z)
        got = ort_model.track_with(t, x, with_mask=False)
    assert type(t) is type(t_ref)
    assert set(got) == set(ref) and got["mask"] is None
    for k in ("cls", "loc"):
        assert torch.allclose(got[k], ref[k], rtol=1e-4, atol=1e-4 * ref[k].abs().max().item())
    assert "template_3x63x63" in json.loads((key_dir / "model.json").read_text())["graphs"]


def test_backend_option_validation():
    assert InferenceOptions(backend="ONNXRuntime").backend == "onnxruntime"
    assert InferenceOptions(backend="onnxruntime").changes_model
    with pytest.raises(ValueError, match="INFERENCE.BACKEND"):
        InferenceOptions(backend="tensorrt")


@slow
@pytest.mark.parametrize("name,overrides", [
    ("siamrpn_alex_dwxcorr", ()),
    ("siammask_r50_l3", ()),
    ("quickstart_siamrpn", ("TRACK.TYPE", "SiamRPNLTTracker", "TRACK.LOST_INSTANCE_SIZE", "191")),
    ("nanotrack_v2", ()),
    ("nanotrack_v3", ()),
])
def test_export_families_slow(name, overrides, tmp_path, video):
    cfg, model = _model(name, overrides)
    manifest = export_for_config(model, cfg, tmp_path, report=lambda line: None)
    assert max(d for g in manifest["graphs"].values() for d in g["max_rel_diff"].values()) < 1e-4
    frames, box = video
    ort_cfg = load_config(name, list(overrides) + ["INFERENCE.BACKEND", "onnxruntime", "INFERENCE.EXPORT_DIR",
                                                   str(tmp_path)])
    ort_model = prepare_from_cfg(model, ort_cfg, torch.device("cpu"))
    assert _teacher_forced_diff(cfg, model, ort_cfg, ort_model, frames, box) < 1e-3


def test_thread_defaults_and_openmp_environment():
    import subprocess
    import sys

    from pysiam.inference.threads import (OPENMP_ENVIRONMENT, apply_threads, recommended_threads,
                                          set_openmp_environment)
    env = set_openmp_environment({"KMP_BLOCKTIME": "5"})
    assert env == {"KMP_BLOCKTIME": "5", "OMP_WAIT_POLICY": "PASSIVE"}  # a user's value is kept
    assert set_openmp_environment({"PYSIAM_OMP_ACTIVE": "1"}) == {"PYSIAM_OMP_ACTIVE": "1"}
    assert set(OPENMP_ENVIRONMENT) == {"OMP_WAIT_POLICY", "KMP_BLOCKTIME"}
    tiny = torch.nn.Conv2d(3, 8, 3)
    big = torch.nn.Linear(2000, 2000)  # 4M parameters
    assert recommended_threads(tiny, cores=16) == 1
    assert recommended_threads(big, cores=16) == 4 and recommended_threads(big, cores=2) == 2
    assert recommended_threads(big, workers=3, cores=8) == 2 and recommended_threads(big, workers=4, cores=2) == 1
    before = torch.get_num_threads()
    try:
        assert apply_threads(InferenceOptions(), tiny) == 1 == torch.get_num_threads()
        assert apply_threads(InferenceOptions(threads=2), tiny) == 2
    finally:
        torch.set_num_threads(before)
    # the tools' hook runs before torch is imported
    code = "import sys, os, pysiam.cli; assert 'torch' not in sys.modules; print(os.environ['OMP_WAIT_POLICY'])"
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "PYSIAM_OMP_ACTIVE")}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "PASSIVE"
