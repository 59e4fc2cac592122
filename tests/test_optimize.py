"""Inference options (pysiam.inference): BN folding, channels_last, autocast, compile, graphs.

Every option must keep the network outputs within its stated tolerance of the float32 path
(``OUTPUT_TOLERANCE``: max |difference| / max |fp32 output| of cls and loc). The models have
random weights and random BatchNorm statistics (so that folding does real work).
"""
from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from torch.utils._pytree import tree_leaves
from torch import nn

from pysiam.config import load_config
from pysiam.models import SiamModel, build_model
from pysiam.models.backbone import resnet50
from pysiam.models.head import DepthwiseRPN
from pysiam.inference import (OUTPUT_TOLERANCE, InferenceModel, InferenceOptions, StaticGraph,
                                    fold_batchnorm, fuse_conv_bn, prepare_for_inference)
from pysiam.tracker import build_tracker


def randomize_bn(model: nn.Module, seed: int = 1) -> nn.Module:
    g = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.normal_(0, 0.1, generator=g)
            m.running_var.uniform_(0.5, 1.5, generator=g)
            m.weight.data.uniform_(0.5, 1.0, generator=g)
            m.bias.data.normal_(0, 0.1, generator=g)
    return model


def small_alex_cfg():
    # alexnet at a 159 search crop (5x5 score map): the real layers, a fraction of the cost
    return load_config("siamrpn_alex_dwxcorr", ["TRACK.INSTANCE_SIZE", "159", "DEVICE", "cpu"])


@pytest.fixture(scope="module")
def alex():
    torch.manual_seed(0)
    cfg = small_alex_cfg()
    model = randomize_bn(build_model(cfg)).eval()
    g = torch.Generator().manual_seed(2)
    z = torch.rand(1, 3, 127, 127, generator=g) * 255
    x = torch.rand(1, 3, 159, 159, generator=g) * 255
    with torch.inference_mode():
        ref = model.track_with(model.extract_template(z), x, with_mask=False)
    return cfg, model, z, x, ref


class TinyBackbone(nn.Module):
    """conv-BN-ReLU, stride 4: a stand-in for plumbing tests (shapes only matter)."""

    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(3, 8, 4, stride=4), nn.BatchNorm2d(8), nn.ReLU())

    def forward(self, x):
        return [self.body(x)]


@pytest.fixture(scope="module")
def tiny():
    torch.manual_seed(0)
    model = randomize_bn(SiamModel(TinyBackbone(), DepthwiseRPN(5, 8, 8))).eval()
    with torch.no_grad():  # moderate outputs on raw pixels, so that a tracker moves smoothly
        model.rpn_head.cls.head[3].weight.mul_(1e-3)
        model.rpn_head.loc.head[3].weight.mul_(1e-4)
    g = torch.Generator().manual_seed(3)
    z = torch.rand(1, 3, 32, 32, generator=g) * 255
    x = torch.rand(2, 3, 64, 64, generator=g) * 255
    with torch.inference_mode():
        ref = model.track_with(model.extract_template(z.repeat(2, 1, 1, 1)), x)
    return model, z, x, ref


def rel_diff(out, ref) -> float:
    return max(float((out[k].float() - ref[k]).abs().max() / ref[k].abs().max()) for k in ("cls", "loc"))


def run(model, z, x):
    with torch.inference_mode():
        return model.track_with(model.extract_template(z.repeat(x.shape[0], 1, 1, 1)), x)


def test_fuse_conv_bn_hand_values():
    # conv: y = 2x; BN: (y - 1) / sqrt(3 + 1) * 0.5 + 0.25 = 0.5x  -> weight 0.5, bias 0
    conv = nn.Conv2d(1, 1, 1, bias=False)
    conv.weight.data.fill_(2.0)
    bn = nn.BatchNorm2d(1, eps=1.0)
    bn.running_mean.fill_(1.0)
    bn.running_var.fill_(3.0)
    bn.weight.data.fill_(0.5)
    bn.bias.data.fill_(0.25)
    bn.eval()
    fused = fuse_conv_bn(conv, bn)
    assert fused.weight.item() == 0.5 and fused.bias.item() == 0.0
    x = torch.tensor([[[[3.0]]]])
    assert fused(x).item() == bn(conv(x)).item() == 1.5


def test_fold_batchnorm_resnet_removes_every_bn_and_keeps_outputs():
    net = randomize_bn(resnet50(used_layers=[0, 1, 2])).eval()  # stem, Bottlenecks, 3x3 shortcut
    folded = fold_batchnorm(net)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in folded.modules())
    assert sum(isinstance(m, nn.BatchNorm2d) for m in net.modules()) == 1 + 3 * 7 + 2  # original untouched
    x = torch.rand(1, 3, 71, 71, generator=torch.Generator().manual_seed(0)) * 255
    with torch.no_grad():
        for a, b in zip(net(x), folded(x)):
            assert float((a - b).abs().max() / b.abs().max()) < OUTPUT_TOLERANCE["fold_bn"]


def test_fold_refuses_training_mode():
    with pytest.raises(RuntimeError, match="eval"):
        fold_batchnorm(nn.Sequential(nn.Conv2d(1, 1, 1), nn.BatchNorm2d(1)))


def test_all_off_returns_the_model_itself(alex):
    cfg, model, *_ = alex
    assert not InferenceOptions.from_config(cfg).changes_model
    assert prepare_for_inference(model, InferenceOptions()) is model


@pytest.mark.parametrize("kwargs", [dict(fold_bn=True), dict(channels_last=True),
                                    dict(fold_bn=True, channels_last=True), dict(amp="bf16"),
                                    dict(amp="bf16", fold_bn=True, channels_last=True), dict(amp="fp16"),
                                    dict(winograd=True)],
                         ids=["fold_bn", "channels_last", "fold+nhwc", "bf16", "bf16+fold+nhwc", "fp16", "winograd"])
def test_option_within_stated_tolerance(alex, kwargs):
    _, model, z, x, ref = alex
    opts = InferenceOptions(**kwargs)
    fast = prepare_for_inference(model, opts)
    assert isinstance(fast, InferenceModel)
    try:
        out = run(fast, z, x)
    except RuntimeError as e:  # fp16 autocast on a CPU build without half kernels
        pytest.skip(f"{kwargs}: not supported here ({e})")
    d = rel_diff(out, ref)
    assert d <= opts.tolerance(), (kwargs, d)
    if not opts.amp:
        assert d > 0 or kwargs == dict(channels_last=True)  # folding really changed the weights
    # the original model keeps its BatchNorm layers and its memory format
    assert any(isinstance(m, nn.BatchNorm2d) for m in model.modules())
    assert model.backbone.features[0].weight.is_contiguous()


def test_compile_path_runs_the_same_graph(tiny):
    # the 'eager' backend checks the compile plumbing without a C++ toolchain or long compile times
    model, z, x, ref = tiny
    fast = prepare_for_inference(model, InferenceOptions(compile="default", compile_backend="eager"))
    out = run(fast, z, x)
    assert rel_diff(out, ref) <= OUTPUT_TOLERANCE["compile"]


def _cpu_capture(fn, static):
    """CPU stand-in for a CUDA graph capture: 'replay' recomputes from the static inputs and
    writes into the static outputs, as a replayed graph would."""
    outputs = fn(*static)

    def replay():
        fresh = [t for t in tree_leaves(fn(*static)) if isinstance(t, torch.Tensor)]
        held = [t for t in tree_leaves(outputs) if isinstance(t, torch.Tensor)]
        for h, f in zip(held, fresh):
            h.copy_(f)
    return replay, outputs


def test_static_graph_copies_new_templates_and_inputs(tiny):
    model, z, x, _ = tiny
    graphed = InferenceModel(model, InferenceOptions(cuda_graphs=True), graph_capture=_cpu_capture)
    z2 = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(5)) * 255
    with torch.inference_mode():
        for zz, xx in ((z, x[:1]), (z2, x[1:]), (z, x[1:])):
            t = model.extract_template(zz)
            want = model.track_with(t, xx)
            got = graphed.track_with(t, xx)
            assert torch.equal(got["cls"], want["cls"]) and torch.equal(got["loc"], want["loc"])
        assert len(graphed._graph) == 1  # one capture for one signature, re-used for new templates
        t2 = model.extract_template(z.repeat(2, 1, 1, 1))
        assert torch.equal(graphed.track_with(t2, x)["cls"], model.track_with(t2, x)["cls"])
        assert len(graphed._graph) == 2


def test_static_graph_outputs_are_static_buffers():
    calls = []

    def fn(a, b):
        calls.append(1)
        return {"sum": a + b}
    graph = StaticGraph(fn, capture=_cpu_capture)
    a, b = torch.ones(2), torch.full((2,), 2.0)
    first = graph(a, b)
    second = graph(b, b)
    assert first is second and second["sum"].tolist() == [4.0, 4.0]


def test_options_from_config_and_validation():
    cfg = load_config("siamrpn_alex_dwxcorr", ["INFERENCE.FOLD_BN", "True", "INFERENCE.AMP", "bf16",
                                               "INFERENCE.COMPILE", "default", "INFERENCE.THREADS", "1"])
    opts = InferenceOptions.from_config(cfg)
    assert (opts.fold_bn, opts.amp, opts.compile, opts.threads) == (True, "bf16", "default", 1)
    assert opts.tolerance() == OUTPUT_TOLERANCE["bf16"]
    assert InferenceOptions(amp="none").amp == "" and InferenceOptions(compile=True).compile == "default"
    with pytest.raises(ValueError, match="INFERENCE.AMP"):
        InferenceOptions(amp="int8")
    with pytest.raises(ValueError, match="INFERENCE.COMPILE"):
        InferenceOptions(compile="fastest")


def tiny_cfg():
    """Tracker settings that fit the tiny model: 32 / 64 crops, stride 4 -> a 9x9 score map."""
    return load_config("siamrpn_alex_dwxcorr", ["TRACK.EXEMPLAR_SIZE", "32", "TRACK.INSTANCE_SIZE", "64",
                                                "TRACK.BASE_SIZE", "0", "ANCHOR.STRIDE", "4", "DEVICE", "cpu"])


def test_tracker_with_fast_options_follows_the_exact_path(tiny):
    model = tiny[0]
    cfg = tiny_cfg()
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 256, (90, 120, 3), dtype=np.uint8) for _ in range(6)]
    boxes = {}
    for name, m in (("exact", model), ("fast", prepare_for_inference(copy.deepcopy(model),
                                                                      InferenceOptions(fold_bn=True, channels_last=True)))):
        tracker = build_tracker(cfg, m)
        tracker.init(frames[0], [40, 30, 30, 24])
        boxes[name] = np.array([tracker.track(f)["bbox"] for f in frames[1:]])
    assert np.abs(boxes["exact"] - boxes["fast"]).max() < 1e-3
    assert np.abs(np.diff(boxes["exact"], axis=0)).max() > 0.1  # the tracker did move
