"""Winograd F(4x4, 3x3) convolution (pysiam.inference.winograd): the transform matrices, the
convolution against a float64 reference, the fallbacks, and the conversion of a real backbone."""
from __future__ import annotations

from fractions import Fraction

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from pysiam.models.backbone import resnet50
from pysiam.inference import OUTPUT_TOLERANCE, InferenceOptions, fold_batchnorm, prepare_for_inference
from pysiam.inference.winograd import (WINOGRAD_POINTS, WinogradConv2d, convert_to_winograd, toom_cook_matrices,
                                    winograd_supported)


def random_bn_statistics(model: nn.Module) -> torch.Generator:
    """Random running statistics (so that folding does real work); returns the generator for the inputs."""
    g = torch.Generator().manual_seed(1)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.normal_(0, 0.1, generator=g)
            m.running_var.uniform_(0.5, 1.5, generator=g)
    return g


def test_standard_points_give_lavins_matrices():
    # Lavin & Gray (2016), F(4x4, 3x3) with points 0, 1, -1, 2, -2: the published B^T and G
    at, g, bt = toom_cook_matrices([0, 1, -1, 2, -2])
    assert bt.tolist() == [[4, 0, -5, 0, 1, 0], [0, -4, -4, 1, 1, 0], [0, 4, -4, -1, 1, 0],
                           [0, -2, -1, 2, 1, 0], [0, 2, -1, -2, 1, 0], [0, 4, 0, -5, 0, 1]]
    assert torch.allclose(g[:3], torch.tensor([[1 / 4, 0, 0], [-1 / 6, -1 / 6, -1 / 6], [-1 / 6, 1 / 6, -1 / 6]],
                                              dtype=torch.float64))
    assert at.tolist() == [[1, 1, 1, 1, 1, 0], [0, 1, -1, 2, -2, 0], [0, 1, 1, 4, 4, 0], [0, 1, -1, 8, -8, 1]]


@pytest.mark.parametrize("points", [WINOGRAD_POINTS, (0, 1, -1, 2, -2), (0, 1, -1, Fraction(1, 2), Fraction(-1, 2))])
def test_one_dimensional_algorithm_is_exact(points):
    at, g, bt = toom_cook_matrices(points)
    gen = torch.Generator().manual_seed(0)
    for _ in range(5):
        f = torch.randn(3, dtype=torch.float64, generator=gen)
        d = torch.randn(6, dtype=torch.float64, generator=gen)
        direct = torch.stack([f @ d[i:i + 3] for i in range(4)])
        assert torch.allclose(at @ ((g @ f) * (bt @ d)), direct, atol=1e-12)


def test_bad_points_are_refused():
    with pytest.raises(ValueError, match="distinct"):
        toom_cook_matrices([0, 1, 1, 2, -2])


@pytest.mark.parametrize("n,c,k,h,w,dilation,padding,bias", [
    (1, 8, 5, 13, 17, 1, 1, True),      # odd sizes, partial last tiles
    (2, 8, 5, 12, 12, 1, 0, False),     # valid convolution (the RPN's conv_search), a batch
    (1, 8, 5, 13, 17, 2, 2, True),      # layer-3 dilation
    (3, 6, 7, 11, 9, 4, 4, True),       # layer-4 dilation, a batch
    (1, 6, 7, 9, 14, 3, 1, False),      # dilation other than padding
    (1, 32, 16, 31, 31, 2, 2, True),    # the search feature size
])
def test_matches_float64_convolution(n, c, k, h, w, dilation, padding, bias):
    torch.manual_seed(0)
    conv = nn.Conv2d(c, k, 3, padding=padding, dilation=dilation, bias=bias)
    x = torch.randn(n, c, h, w)
    conv.requires_grad_(False)
    ref = F.conv2d(x.double(), conv.weight.double(), None if conv.bias is None else conv.bias.double(),
                   padding=padding, dilation=dilation)
    out = WinogradConv2d(conv)(x)
    assert out.shape == ref.shape and out.dtype == torch.float32 and out.is_contiguous()
    err = float((out.double() - ref).abs().max() / ref.abs().max())
    assert 0 < err < 1e-5, err  # rounding only (and not the direct path: that would give ~2e-7)


def test_channels_last_input_is_handled():
    torch.manual_seed(1)
    conv = nn.Conv2d(8, 8, 3, padding=2, dilation=2)
    x = torch.randn(2, 8, 10, 10)
    a = WinogradConv2d(conv)(x)
    b = WinogradConv2d(conv)(x.contiguous(memory_format=torch.channels_last))
    assert torch.equal(a, b)


def test_falls_back_to_the_direct_convolution():
    torch.manual_seed(2)
    conv = nn.Conv2d(4, 6, 3, padding=1)
    wino = WinogradConv2d(conv)
    # float64: the ordinary convolution with the kept weights, bit for bit
    x = torch.randn(1, 4, 9, 9, dtype=torch.float64)
    assert torch.equal(wino.double()(x), conv.double()(x))
    wino, conv = wino.float(), conv.float()
    x32 = torch.randn(1, 4, 9, 9)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        got = wino(x32)
        want = F.conv2d(x32, wino.weight, wino.bias, padding=1)
    assert got.dtype == torch.bfloat16 and torch.equal(got, want)


def test_only_supported_convolutions_convert():
    assert winograd_supported(nn.Conv2d(4, 4, 3, padding=1))
    assert not winograd_supported(nn.Conv2d(4, 4, 3, stride=2))
    assert not winograd_supported(nn.Conv2d(4, 4, 1))
    assert not winograd_supported(nn.Conv2d(4, 4, 3, groups=2))
    assert not winograd_supported(nn.Conv2d(4, 4, 3, padding=1, padding_mode="reflect"))
    with pytest.raises(ValueError, match="3x3 stride-1"):
        WinogradConv2d(nn.Conv2d(4, 4, 3, stride=2))


def test_resnet50_backbone_converts_within_tolerance():
    torch.manual_seed(0)
    net = resnet50(used_layers=[2, 3, 4]).eval()
    g = random_bn_statistics(net)
    x = torch.rand(1, 3, 127, 127, generator=g) * 255
    folded = fold_batchnorm(net)
    keys = list(folded.state_dict())
    # layer3: six 256-channel conv2 and the 512->1024 shortcut; layer4: three conv2 and the shortcut
    assert convert_to_winograd(folded) == 11
    assert list(folded.state_dict()) == keys  # same checkpoint layout
    with torch.inference_mode():
        ref, out = net(x), folded(x)
    for a, b in zip(out, ref):
        assert float((a - b).abs().max() / b.abs().max()) < OUTPUT_TOLERANCE["winograd"]
    converted = [n for n, m in folded.named_modules() if isinstance(m, WinogradConv2d)]
    assert "layer4.0.downsample.0" in converted and not any(n.startswith("layer2") for n in converted)


def test_inference_option_implies_fold_and_converts():
    net = nn.Sequential(nn.Conv2d(256, 256, 3, padding=1, bias=False), nn.BatchNorm2d(256)).eval()
    opts = InferenceOptions(winograd=True)
    assert opts.changes_model and opts.tolerance() == OUTPUT_TOLERANCE["winograd"]

    class Wrap(nn.Module):  # prepare_for_inference wants a model; a bare module is enough here
        def __init__(self):
            super().__init__()
            self.body = net
    fast = prepare_for_inference(Wrap(), opts)
    body = fast.model.body
    assert isinstance(body[0], WinogradConv2d) and isinstance(body[1], nn.Identity)
    assert isinstance(net[0], nn.Conv2d)  # the original is untouched


def test_transformed_weights_follow_weight_changes():
    torch.manual_seed(3)
    conv = nn.Conv2d(4, 4, 3, padding=1, bias=False)
    wino = WinogradConv2d(conv)
    x = torch.randn(1, 4, 8, 8)
    before = wino(x)
    with torch.no_grad():
        wino.weight.mul_(2)  # e.g. a checkpoint loaded into the converted model
    assert torch.allclose(wino(x), 2 * before, rtol=1e-5, atol=1e-5)


def test_tracker_boxes_follow_the_exact_path():
    # AlexNet at a 159 search crop, on random frames: conv3-5 and the head's four 256-channel convs
    import numpy as np

    from pysiam.config import load_config
    from pysiam.models import build_model
    from pysiam.tracker import build_tracker
    torch.manual_seed(0)
    cfg = load_config("siamrpn_alex_dwxcorr", ["TRACK.INSTANCE_SIZE", "159", "DEVICE", "cpu"])
    model = build_model(cfg).eval()
    with torch.no_grad():  # moderate scores on raw pixels so that the tracker moves smoothly
        for branch in (model.rpn_head.cls, model.rpn_head.loc):
            branch.head[3].weight.mul_(1e-2)
    fast = prepare_for_inference(model, InferenceOptions(winograd=True))
    assert sum(isinstance(m, WinogradConv2d) for m in fast.modules()) == 7
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 256, (200, 240, 3), dtype=np.uint8) for _ in range(5)]
    boxes = []
    for m in (model, fast):
        tracker = build_tracker(cfg, m)
        tracker.init(frames[0], [80, 60, 60, 50])
        with torch.inference_mode():
            boxes.append(np.array([tracker.track(f)["bbox"] for f in frames[1:]]))
    assert np.abs(boxes[0] - boxes[1]).max() < 1e-3
    assert np.abs(np.diff(boxes[0], axis=0)).max() > 0.1  # the tracker did move


def test_loading_weights_and_inference_mode_conversion():
    torch.manual_seed(4)
    conv = nn.Conv2d(4, 4, 3, padding=1)
    x = torch.randn(1, 4, 8, 8)
    with torch.inference_mode():  # weights made here are inference tensors (no version counter)
        wino = WinogradConv2d(conv)
        assert torch.allclose(wino(x), conv(x), atol=1e-5)
    other = nn.Conv2d(4, 4, 3, padding=1)
    wino = WinogradConv2d(conv)
    wino(x)
    wino.load_state_dict(other.state_dict())  # a checkpoint loaded after conversion
    assert torch.allclose(wino(x), other(x), atol=1e-5)


def test_compiled_graph_runs_the_winograd_layers():
    # the 'eager' backend checks that dynamo traces the module (no C++ toolchain needed)
    torch.manual_seed(5)
    conv = nn.Conv2d(8, 8, 3, padding=2, dilation=2)
    wino = WinogradConv2d(conv)
    x = torch.randn(1, 8, 11, 11)
    compiled = torch.compile(wino, backend="eager", fullgraph=False)
    with torch.no_grad():
        assert torch.allclose(compiled(x), conv(x), atol=1e-5)


def test_siammask_outputs_mask_and_refine_within_tolerance():
    from pysiam.config import load_config
    from pysiam.models import build_model
    torch.manual_seed(0)
    cfg = load_config("siammask_r50_l3")
    model = build_model(cfg).eval()
    g = random_bn_statistics(model)
    z = torch.rand(1, 3, 127, 127, generator=g) * 255
    x = torch.rand(1, 3, 255, 255, generator=g) * 255
    fast = prepare_for_inference(model, InferenceOptions(winograd=True))
    assert sum(isinstance(m, WinogradConv2d) for m in fast.modules()) == 13
    with torch.inference_mode():
        ref = model.track_with(model.extract_template(z), x)
        out = fast.track_with(fast.extract_template(z), x)
        ref["refine"], out["refine"] = model.refine_with(ref, (12, 12)), fast.refine_with(out, (12, 12))
    for key in ("cls", "loc", "mask", "refine"):
        err = float((out[key] - ref[key]).abs().max() / ref[key].abs().max())
        assert 0 < err < OUTPUT_TOLERANCE["winograd"], (key, err)
