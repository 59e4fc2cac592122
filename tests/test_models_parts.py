"""Backbones, necks, heads, correlation and the model's batch API on tiny CPU inputs."""
import pytest
import torch
import torch.nn.functional as F

from pysiam.models import SiamModel, build_model, xcorr_depthwise, xcorr_fast
from pysiam.models.backbone import BACKBONES, build_backbone
from pysiam.models.head import (DepthwiseRPN, MaskCorr, MultiRPN, Refine, UPChannelRPN,
                                build_rpn_head)
from pysiam.models.neck import AdjustAllLayer, AdjustLayer, build_neck
from pysiam.training.losses import log_softmax_cls


def _backward_ok(module, outputs):
    loss = sum(o.float().pow(2).mean() for o in outputs if o is not None)
    loss.backward()
    missing = [n for n, p in module.named_parameters() if p.requires_grad and p.grad is None]
    assert not missing, f"no gradient for {missing[:5]}"


# -- correlation ------------------------------------------------------------------------------
def test_xcorr_depthwise_matches_per_sample_per_channel_loop():
    x, k = torch.randn(3, 4, 9, 8), torch.randn(3, 4, 3, 2)
    out = xcorr_depthwise(x, k)
    assert out.shape == (3, 4, 7, 7)
    for b in range(3):
        for c in range(4):
            ref = F.conv2d(x[b:b + 1, c:c + 1], k[b:b + 1, c:c + 1])
            torch.testing.assert_close(out[b, c], ref[0, 0], rtol=1e-5, atol=1e-5)


def test_xcorr_fast_matches_per_sample_loop():
    x, k = torch.randn(2, 3, 8, 8), torch.randn(2, 5 * 3, 4, 4)
    out = xcorr_fast(x, k)
    assert out.shape == (2, 5, 5, 5)
    for b in range(2):
        ref = F.conv2d(x[b:b + 1], k[b].view(5, 3, 4, 4))
        torch.testing.assert_close(out[b:b + 1], ref, rtol=1e-5, atol=1e-5)


def test_xcorr_rejects_mismatched_batches():
    with pytest.raises(ValueError, match="does not match"):
        xcorr_depthwise(torch.randn(2, 4, 9, 9), torch.randn(1, 4, 3, 3))


# -- backbones ------------------------------------------------------------------------------------
BACKBONE_CASES = [
    ("resnet18", dict(used_layers=[0, 1, 2, 3, 4]), 47),
    ("resnet34", dict(used_layers=[2, 3]), 47),
    ("resnet50", dict(used_layers=[0, 1, 2, 3, 4]), 47),
    ("alexnet", dict(width_mult=0.5), 95),
    ("alexnetlegacy", dict(width_mult=0.5), 95),
    ("mobilenetv2", dict(width_mult=0.5, used_layers=[1, 3, 5, 7]), 63),
    ("mobilenetv3_small", dict(), 63),
    ("mobilenetv3_small_v3", dict(), 63),
]


def test_backbone_cases_cover_the_registry():
    assert sorted(name for name, _, _ in BACKBONE_CASES) == sorted(BACKBONES)


@pytest.mark.parametrize("name,kwargs,size", BACKBONE_CASES, ids=[c[0] for c in BACKBONE_CASES])
def test_backbone_forward_backward(name, kwargs, size):
    net = build_backbone(name, **kwargs).train()
    outs = net(torch.rand(1, 3, size, size) * 255)
    assert isinstance(outs, list) and len(outs) == len(net.out_channels) == len(net.strides)
    assert [o.shape[1] for o in outs] == net.out_channels
    _backward_ok(net, outs)


def test_resnet50_atrous_layout():
    net = build_backbone("resnet50", used_layers=[0, 1, 2, 3, 4])
    assert net.conv1.padding == (0, 0)
    assert net.layer1[0].downsample[0].kernel_size == (1, 1)
    l2, l3, l4 = (net.layer2[0].downsample[0], net.layer3[0].downsample[0], net.layer4[0].downsample[0])
    assert (l2.kernel_size, l2.stride, l2.padding, l2.dilation) == ((3, 3), (2, 2), (0, 0), (1, 1))
    assert (l3.kernel_size, l3.stride, l3.padding, l3.dilation) == ((3, 3), (1, 1), (1, 1), (1, 1))
    assert (l4.kernel_size, l4.stride, l4.padding, l4.dilation) == ((3, 3), (1, 1), (2, 2), (2, 2))
    assert net.layer2[0].conv2.padding == (0, 0) and net.layer2[0].conv2.stride == (2, 2)
    assert net.layer3[0].conv2.dilation == (1, 1) and net.layer3[1].conv2.dilation == (2, 2)
    assert net.layer4[0].conv2.dilation == (2, 2) and net.layer4[2].conv2.dilation == (4, 4)
    assert net.out_channels == [64, 256, 512, 1024, 2048] and net.strides == [2, 4, 8, 8, 8]


def test_resnet_builds_layer3_layer4_only_when_used():
    net = build_backbone("resnet50", used_layers=[0, 1, 2])
    assert net.layer3 is None and net.layer4 is None
    assert not any(k.startswith(("layer3", "layer4")) for k in net.state_dict())
    # 127 template: stem 61, layer1 31, layer2 15 (pysot's sizes)
    assert [o.shape[-1] for o in net(torch.zeros(1, 3, 127, 127))] == [61, 31, 15]


def test_backbone_registry_errors_name_the_problem():
    with pytest.raises(KeyError, match="unknown backbone type 'res50'"):
        build_backbone("res50")
    with pytest.raises(TypeError, match="resnet50.*bad KWARGS"):
        build_backbone("resnet50", width_mult=2)
    with pytest.raises(ValueError, match="used_layers"):
        build_backbone("resnet50", used_layers=[5])


# -- necks ------------------------------------------------------------------------------------
def test_adjust_layer_crops_template_maps_only():
    neck = AdjustLayer(8, 4).eval()
    assert neck(torch.randn(1, 8, 15, 15)).shape[-2:] == (7, 7)
    assert neck(torch.randn(1, 8, 17, 17)).shape[-2:] == (7, 7)
    assert neck(torch.randn(1, 8, 31, 31)).shape[-2:] == (31, 31)


def test_adjust_layer_center_versus_trim_crop():
    x = torch.arange(17 * 17, dtype=torch.float32).view(1, 1, 17, 17)
    center, trim = AdjustLayer(1, 1).eval(), AdjustLayer(1, 1, crop_mode="trim").eval()
    for m in (center, trim):  # make conv + BN the identity
        m.downsample[0].weight.data.fill_(1.0)
        m.downsample[1].eps = 0.0
    torch.testing.assert_close(center(x), x[:, :, 5:12, 5:12])  # pysot: centred 7x7
    torch.testing.assert_close(trim(x), x[:, :, 4:13, 4:13])    # SiamMask: 4 px off each side
    x15 = x[:, :, :15, :15]
    torch.testing.assert_close(center(x15), trim(x15))          # same for the 15x15 template
    torch.testing.assert_close(center(x15), x15[:, :, 4:11, 4:11])
    with pytest.raises(ValueError, match="crop_mode"):
        AdjustLayer(1, 1, crop_mode="middle")


def test_adjust_all_layer_keys_and_backward():
    multi = AdjustAllLayer([8, 16, 32], [4, 4, 4]).train()
    assert {k.split(".")[0] for k in multi.state_dict()} == {"downsample2", "downsample3", "downsample4"}
    single = build_neck("AdjustAllLayer", in_channels=[8], out_channels=[4])
    assert all(k.startswith("downsample.downsample.") for k in single.state_dict())
    feats = [torch.randn(2, c, 15, 15) for c in (8, 16, 32)]
    outs = multi(feats)
    assert [o.shape for o in outs] == [torch.Size([2, 4, 7, 7])] * 3
    _backward_ok(multi, outs)
    with pytest.raises(ValueError, match="expects 3 feature maps"):
        multi(feats[:2])


# -- heads ------------------------------------------------------------------------------------
def test_depthwise_rpn_forward_backward_and_cached_template():
    head = DepthwiseRPN(anchor_num=5, in_channels=16, out_channels=16).train()
    z, x = torch.randn(2, 16, 7, 7), torch.randn(2, 16, 15, 15)
    cls, loc = head(z, x)
    assert cls.shape == (2, 10, 9, 9) and loc.shape == (2, 20, 9, 9)
    _backward_ok(head, [cls, loc])
    head.eval()
    with torch.no_grad():
        direct = head(z, x)
        cached = head.match(head.encode_template(z), x)
    for a, b in zip(direct, cached):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_upchannel_rpn_forward_backward():
    head = build_rpn_head("UPChannelRPN", anchor_num=5, feature_in=8).train()
    cls, loc = head(torch.randn(2, 8, 6, 6), torch.randn(2, 8, 12, 12))
    assert cls.shape == (2, 10, 7, 7) and loc.shape == (2, 20, 7, 7)
    _backward_ok(head, [cls, loc])


@pytest.mark.parametrize("weighted", [True, False])
def test_multi_rpn_fusion(weighted):
    head = MultiRPN(5, [8, 8, 8], weighted=weighted).train()
    assert ("cls_weight" in head.state_dict()) == weighted
    zs = [torch.randn(1, 8, 7, 7) for _ in range(3)]
    xs = [torch.randn(1, 8, 11, 11) for _ in range(3)]
    cls, loc = head(zs, xs)
    _backward_ok(head, [cls, loc])
    head.eval()
    if weighted:
        head.cls_weight.data = torch.tensor([0.0, 1.0, 2.0])
        head.loc_weight.data = torch.tensor([2.0, 0.0, 0.0])
    with torch.no_grad():
        cls, loc = head(zs, xs)
        per = [getattr(head, f"rpn{i}")(z, x) for i, z, x in zip((2, 3, 4), zs, xs)]
    wc = torch.softmax(torch.tensor([0.0, 1.0, 2.0]), 0) if weighted else torch.full((3,), 1 / 3)
    wl = torch.softmax(torch.tensor([2.0, 0.0, 0.0]), 0) if weighted else torch.full((3,), 1 / 3)
    torch.testing.assert_close(cls, sum(w * p[0] for w, p in zip(wc, per)), rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(loc, sum(w * p[1] for w, p in zip(wl, per)), rtol=1e-5, atol=1e-5)


def test_mask_corr_returns_mask_and_feature():
    head = MaskCorr(16, 16, 49).train()
    mask, feat = head(torch.randn(2, 16, 7, 7), torch.randn(2, 16, 15, 15))
    assert mask.shape == (2, 49, 9, 9) and feat.shape == (2, 16, 9, 9)
    _backward_ok(head, [mask, feat])
    none, feat2 = head.match(head.encode_template(torch.randn(1, 16, 7, 7)), torch.randn(1, 16, 15, 15),
                             with_mask=False)
    assert none is None and feat2.shape == (1, 16, 9, 9)


def _refine_inputs(batch, sizes, corr, seed=0):
    g = torch.Generator().manual_seed(seed)
    feats = [torch.randn(batch, c, s, s, generator=g) for c, s in zip((64, 256, 512), sizes)]
    return feats, torch.randn(batch, 256, corr, corr, generator=g)


def test_refine_test_time_path_forward_backward():
    refine = Refine().train()
    feats, corr = _refine_inputs(1, (125, 63, 31), 25)
    out = refine(feats, corr, (3, 17))
    assert out.shape == (1, 127 * 127)
    _backward_ok(refine, [out])


def test_refine_window_padding():
    assert Refine.centred_padding([125, 63, 31], 25) == (16, 8, 4)  # 255 search: pysot's test values
    assert Refine.centred_padding([69, 35, 17], 3) == (0, 0, 0)     # 143 search: SiamMask training
    with pytest.raises(ValueError, match="cannot centre"):
        Refine.centred_padding([60, 35, 17], 3)


def test_refine_window_position_at_the_corner():
    """Position (0, 0) of a 255 search reads f0 rows -16..44 (zero padding above the map)."""
    refine = Refine()
    f0 = torch.arange(125.0).view(1, 1, 125, 1).expand(1, 1, 125, 125)
    win = refine._window_at(f0, 16, 61, 4, 0, 0)
    assert win.shape[-2:] == (61, 61)
    assert torch.all(win[0, 0, :16] == 0) and torch.equal(win[0, 0, 16:, 16], torch.arange(45.0))
    with pytest.raises(IndexError, match="outside"):
        refine._window_at(f0, 16, 61, 4, 25, 0)


def test_refine_gathered_positions_match_sliced_path():
    refine = Refine().eval()
    feats, corr = _refine_inputs(2, (125, 63, 31), 25)
    batch, rows, cols = torch.tensor([1, 0, 1]), torch.tensor([0, 12, 24]), torch.tensor([24, 12, 3])
    with torch.no_grad():
        got = refine.forward_positions(feats, corr, batch, rows, cols)
        per_sample = refine(feats, corr, torch.tensor([[5, 6], [7, 8]]))
        for i, (b, r, c) in enumerate(zip(batch.tolist(), rows.tolist(), cols.tolist())):
            ref = refine([f[b:b + 1] for f in feats], corr[b:b + 1], (r, c))
            torch.testing.assert_close(got[i:i + 1], ref, rtol=1e-5, atol=1e-5)
        for b, pos in enumerate([(5, 6), (7, 8)]):
            ref = refine([f[b:b + 1] for f in feats], corr[b:b + 1], pos)
            torch.testing.assert_close(per_sample[b:b + 1], ref, rtol=1e-5, atol=1e-5)


def test_refine_all_positions_match_original_unfold_training_path():
    """143 search (3x3 grid): windows equal SiamMask's unfold-based training windows."""
    refine = Refine().train()
    feats, corr = _refine_inputs(2, (69, 35, 17), 3)
    out = refine.forward_all(feats, corr)
    assert out.shape == (2 * 9, 127 * 127)
    _backward_ok(refine, [out])
    refine.eval()
    with torch.no_grad():
        out = refine.forward_all(feats, corr)
        p = [F.unfold(f, (w, w), stride=s).permute(0, 2, 1).reshape(-1, f.shape[1], w, w)
             for f, w, s in zip(feats, Refine.WINDOWS, Refine.STRIDES)]
        ref = refine.decode(p[0], p[1], p[2], corr.permute(0, 2, 3, 1).reshape(-1, 256))
    torch.testing.assert_close(out, ref, rtol=1e-5, atol=1e-5)


# -- model ------------------------------------------------------------------------------------
def test_model_log_softmax_layout():
    cls = torch.randn(2, 10, 3, 4)
    out = log_softmax_cls(cls)
    assert out.shape == (2, 5, 3, 4, 2)
    # anchor a, class k is channel k * 5 + a
    ref = torch.log_softmax(torch.stack([cls[:, 1], cls[:, 6]], dim=-1), dim=-1)
    torch.testing.assert_close(out[:, 1], ref)


def test_model_batched_templates_equal_single_runs():
    from pysiam.config import load_config
    model = build_model(load_config("siamrpn_alex_dwxcorr", ["BACKBONE.KWARGS.width_mult", "0.5",
                                                            "RPN.KWARGS.in_channels", "128",
                                                            "RPN.KWARGS.out_channels", "32"])).eval()
    z, x = torch.rand(2, 3, 127, 127) * 255, torch.rand(2, 3, 255, 255) * 255
    with torch.no_grad():
        tmpl = model.extract_template(z)
        both = model.track_with(tmpl, x)
        assert both["cls"].shape == (2, 10, 17, 17) and both["mask"] is None
        for i in range(2):
            model.template(z[i:i + 1])
            one = model.track(x[i:i + 1])
            torch.testing.assert_close(both["cls"][i:i + 1], one["cls"], rtol=1e-5, atol=1e-4)
            torch.testing.assert_close(both["loc"][i:i + 1], one["loc"], rtol=1e-5, atol=1e-4)
            sub = model.track_with(tmpl.index(i), x[i:i + 1])
            torch.testing.assert_close(sub["cls"], one["cls"], rtol=1e-5, atol=1e-4)
    with pytest.raises(ValueError, match="template batch 2 != search batch 1"):
        model.track_with(tmpl, x[:1])


def test_model_stateful_api_errors():
    from pysiam.config import load_config
    model = build_model(load_config("siamrpn_alex_dwxcorr", ["BACKBONE.KWARGS.width_mult", "0.25",
                                                            "RPN.KWARGS.in_channels", "64",
                                                            "RPN.KWARGS.out_channels", "8"]))
    with pytest.raises(RuntimeError, match="template"):
        model.track(torch.zeros(1, 3, 127, 127))
    with pytest.raises(RuntimeError, match="refine head"):
        model.refine_with({}, (0, 0))


def test_build_model_checks_neck_channels():
    from pysiam.config import load_config
    cfg = load_config("siamrpn_r50_l234_dwxcorr", ["ADJUST.KWARGS.in_channels", "[512, 1024, 1024]"])
    with torch.device("meta"):
        with pytest.raises(ValueError, match=r"ADJUST.KWARGS.in_channels \[512, 1024, 1024\]"):
            build_model(cfg)


def test_model_forward_backward_upchannel_and_mask_variants():
    """End-to-end differentiable forward(z, x) for an up-channel SiamRPN and a small SiamMask-like net."""
    from pysiam.models.backbone import alexnetlegacy, resnet18
    rpn = SiamModel(backbone=alexnetlegacy(width_mult=0.25), head=UPChannelRPN(5, feature_in=64)).train()
    out = rpn(torch.rand(2, 3, 127, 127) * 255, torch.rand(2, 3, 159, 159) * 255)
    assert out["cls"].shape == (2, 10, 5, 5) and out["loc"].shape == (2, 20, 5, 5) and out["mask"] is None
    _backward_ok(rpn, [out["cls"], out["loc"]])

    mask = SiamModel(backbone=resnet18(used_layers=[0, 1, 2, 3]), neck=AdjustAllLayer([256], [32]),
                     head=DepthwiseRPN(5, 32, 32), mask_head=MaskCorr(32, 32, 49)).train()
    out = mask(torch.rand(2, 3, 127, 127) * 255, torch.rand(2, 3, 143, 143) * 255)
    # 143 search: layer3 17x17, centre-cropped to 7x7 like the template (pysot's crop) -> 1x1 maps
    assert out["cls"].shape == (2, 10, 1, 1) and out["mask"].shape == (2, 49, 1, 1)
    assert [f.shape[-1] for f in out["refine_features"]] == [69, 35, 17]
    _backward_ok(mask, [out["cls"], out["loc"], out["mask"]])
