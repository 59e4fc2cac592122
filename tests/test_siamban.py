"""SiamBAN's heads (SiamBANDepthwise, MultiBAN), the siamban_r50_l234 config, its tracker.

Random weights: the head on small random feature maps (shapes, batch-2 = two batch-1,
backward), the full ResNet-50 l234 model from the shipped config at a reduced search size
(175 px: a 15x15 score map) for the forward pass, the parameter count and a few tracked
generated frames decoded by the point family. References made with SiamBAN's own code
(tests/data/siamban_ref): its MultiBAN head's outputs, and its ModelBuilder + SiamBANTracker
boxes with the same weights on the same frames.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

from pysiam.config import load_config
from pysiam.data.synthetic import SynthParams, generate_video
from pysiam.families import PointFamily, build_family
from pysiam.families.point import decode_ltrb, point_grid
from pysiam.models import build_model
from pysiam.models.head import BAN_HEADS, build_ban_head, resolve_ban_type
from pysiam.models.head.siamban import MultiBAN, SiamBANDepthwise
from pysiam.models.heads_layout import head_layout
from pysiam.tracker import SiamRPNTracker, build_tracker

SEARCH = 175  # (175 - 127) // 8 + 1 + 8 = 15


@pytest.fixture(autouse=True)
def _single_thread(one_thread):
    yield


def _branch_params(c: int, out: int) -> int:
    """DepthwiseXCorr(c, c, out): two 3x3 convs + BN, a 1x1 conv + BN, a 1x1 conv with bias."""
    return 2 * (9 * c * c + 2 * c) + (c * c + 2 * c) + (c * out + out)


def _feats(b: int, c: int, size: int, levels: int = 3, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(b, c, size, size, generator=g) for _ in range(levels)]


@pytest.fixture(scope="module")
def siamban():
    return calibrated_model()


def calibrated_model():
    """siamban_r50_l234 at search 175, seeded random weights, loc_scale calibrated (below)."""
    cfg = load_config("siamban_r50_l234", ["TRACK.INSTANCE_SIZE", str(SEARCH), "DEVICE", "cpu"])
    torch.manual_seed(0)
    model = build_model(cfg).eval()
    # random weights give raw distances of thousands (exp -> inf): scale each level (SiamBAN's
    # learned loc_scale) so that its raw distances stay within +-4 on a random crop pair
    g = torch.Generator().manual_seed(1)
    z, x = torch.rand(1, 3, 127, 127, generator=g) * 255, torch.rand(1, 3, SEARCH, SEARCH, generator=g) * 255
    with torch.no_grad():
        zf, xf = model.neck(model.backbone(z)), model.neck(model.backbone(x))
        for i, name in enumerate(model.head._names):
            box = getattr(model.head, name)
            raw = box.match_raw(box.encode_template(zf[i]), xf[i])[1]
            model.head.loc_scale[i] = 4.0 / float(raw.abs().max())
    return cfg, model


def test_registered_without_touching_nanotrack_names():
    assert BAN_HEADS["SiamBANDepthwise"] is SiamBANDepthwise and BAN_HEADS["MultiBAN"] is MultiBAN
    assert resolve_ban_type("DepthwiseBAN", "mobilenetv3_small") == "NanoBANv2"
    assert resolve_ban_type("DepthwiseBAN", "mobilenetv3_small_v3") == "NanoBANv3"
    assert resolve_ban_type("MultiBAN", "resnet50") == "MultiBAN"
    for head in (MultiBAN([8, 8]), SiamBANDepthwise(8, 8)):
        layout = head_layout(head)
        assert (layout.checkpoint_name, layout.uses_neck) == ("head", True)
    with pytest.raises(ValueError, match="cls_out_channels must be 2"):
        build_ban_head("MultiBAN", in_channels=[8], cls_out_channels=1)


def test_shapes_and_batch_two_equals_two_batch_one():
    head = MultiBAN([16, 16, 16], weighted=True).eval()
    with torch.no_grad():
        head.cls_weight.copy_(torch.tensor([0.5, 1.0, 2.0]))
        head.loc_scale.copy_(torch.tensor([0.1, 0.2, 0.3]))
        z, x = _feats(2, 16, 7, seed=1), _feats(2, 16, 15, seed=2)
        cls, loc = head(z, x)
        assert cls.shape == (2, 2, 9, 9) and loc.shape == (2, 4, 9, 9)
        assert bool((loc > 0).all())
        for i in range(2):
            c1, l1 = head.match(head.encode_template([t[i:i + 1] for t in z]), [t[i:i + 1] for t in x])
            torch.testing.assert_close(c1, cls[i:i + 1], rtol=1e-5, atol=1e-5)
            torch.testing.assert_close(l1, loc[i:i + 1], rtol=1e-5, atol=1e-5)


def test_multiban_fuses_levels_as_siamban():
    head = MultiBAN([8, 8], weighted=True).eval()
    with torch.no_grad():
        head.loc_weight.copy_(torch.tensor([0.0, 1.0]))
        head.loc_scale.copy_(torch.tensor([0.5, 2.0]))
        z, x = _feats(1, 8, 5, levels=2), _feats(1, 8, 9, levels=2, seed=3)
        _, loc = head(z, x)
        raws = [getattr(head, f"box{i + 2}").match_raw(getattr(head, f"box{i + 2}").encode_template(z[i]), x[i])[1]
                for i in range(2)]
        w = torch.softmax(torch.tensor([0.0, 1.0]), 0)
        want = torch.exp(raws[0] * 0.5) * w[0] + torch.exp(raws[1] * 2.0) * w[1]
    torch.testing.assert_close(loc, want)
    single = SiamBANDepthwise(8, 8).eval()
    with torch.no_grad():
        c, l = single(z[0], x[0])
        c_raw, l_raw = single.match_raw(single.encode_template(z[0]), x[0])
    assert c.shape == (1, 2, 5, 5) and torch.equal(c, c_raw) and torch.allclose(l, torch.exp(l_raw))


def test_forward_backward_reaches_every_parameter():
    head = MultiBAN([8, 8, 8], weighted=True).train()
    cls, loc = head(_feats(2, 8, 5), _feats(2, 8, 9, seed=4))
    (cls.logsumexp(1).mean() + loc.log().mean()).backward()
    missing = [n for n, p in head.named_parameters() if p.grad is None or not bool(p.grad.abs().sum() > 0)]
    assert not missing


def test_config_model_parameter_count_and_checkpoint_names(siamban):
    cfg, model = siamban
    assert model.head_name == "head" and isinstance(model.head, MultiBAN) and model.neck_feeds_head
    head_params = 3 * (_branch_params(256, 2) + _branch_params(256, 4)) + 3 * 3
    assert sum(p.numel() for p in model.head.parameters()) == head_params == 7_484_955
    assert sum(p.numel() for p in model.parameters()) == 53_932_123  # backbone 45.53M, neck 0.92M
    keys = set(model.state_dict())
    for k in ("head.box2.cls.conv_kernel.0.weight", "head.box4.loc.head.3.bias", "head.loc_scale",
              "head.cls_weight", "head.loc_weight", "neck.downsample2.downsample.0.weight"):
        assert k in keys
    assert (cfg.TRACK.TYPE, cfg.POINT.STRIDE, cfg.TRACK.PENALTY_K) == ("SiamBANTracker", 8, pytest.approx(0.0851364))


def test_model_forward_and_point_decoding(siamban):
    cfg, model = siamban
    g = torch.Generator().manual_seed(0)
    z = torch.rand(1, 3, 127, 127, generator=g) * 255
    x = torch.rand(1, 3, SEARCH, SEARCH, generator=g) * 255
    with torch.no_grad():
        out = model.track_with(model.extract_template(z), x)
    assert out["cls"].shape == (1, 2, 15, 15) and out["loc"].shape == (1, 4, 15, 15)
    assert bool(torch.isfinite(out["loc"]).all()) and bool((out["loc"] > 0).all())
    family = build_family(cfg)
    assert isinstance(family, PointFamily) and family.score_size(SEARCH) == 15 and family.score_size(255) == 25
    score, boxes = family.decode(out["cls"], out["loc"])
    assert score.shape == (1, 225) and boxes.shape == (1, 4, 225)
    np.testing.assert_allclose(score[0], torch.softmax(out["cls"], 1)[0, 1].reshape(-1).numpy(), rtol=1e-5)
    ltrb = out["loc"][0].reshape(4, -1).numpy()
    pts = point_grid(8, 15)
    np.testing.assert_allclose(boxes[0], decode_ltrb(ltrb, pts), rtol=1e-6)
    assert pts[0].tolist() == [-56.0, -56.0] and pts[-1].tolist() == [56.0, 56.0]
    np.testing.assert_allclose(boxes[0, 2], ltrb[0] + ltrb[2], rtol=1e-5)


def test_multiban_equals_siamban_reference():
    """SiamBAN's own MultiBAN outputs (tests/data/siamban_ref/README.md): same keys in the same
    order, outputs equal to float rounding."""
    from pathlib import Path
    ref = np.load(Path(__file__).resolve().parent / "data" / "siamban_ref" / "multiban_ref.npz")
    head = MultiBAN([8, 8, 8], cls_out_channels=2, weighted=True).eval()
    assert list(head.state_dict()) == [str(k) for k in ref["keys"]]
    head.load_state_dict({str(k): torch.from_numpy(ref[f"param/{k}"]) for k in ref["keys"]})
    with torch.no_grad():
        cls, loc = head([torch.from_numpy(ref[f"z{i}"]) for i in range(3)],
                        [torch.from_numpy(ref[f"x{i}"]) for i in range(3)])
    np.testing.assert_allclose(cls.numpy(), ref["cls"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(loc.numpy(), ref["loc"], rtol=1e-5, atol=1e-6)


def test_tracker_runs_and_equals_siamban_reference(siamban):
    """The tracker runs on generated frames; SiamBAN's own model + tracker with the same weights
    on the same frames (tests/data/siamban_ref/README.md) give the same boxes and scores."""
    import json
    from pathlib import Path
    ref = json.loads((Path(__file__).resolve().parent / "data" / "siamban_ref" / "tracker_ref.json").read_text())
    cfg, model = siamban
    video = generate_video(0, SynthParams(width=128, height=96, n_frames=6, seed=3))
    tracker = build_tracker(cfg, model)
    assert type(tracker) is SiamRPNTracker and isinstance(tracker.family, PointFamily)
    assert tracker.score_size == 15
    tracker.init(video.frames[0], video.boxes[0].tolist())
    outs = [tracker.track(f) for f in video.frames[1:]]
    for out in outs:  # the tracker runs, the point family decodes
        x, y, w, h = out["bbox"]
        assert np.isfinite([x, y, w, h]).all() and w >= 10 and h >= 10
        assert 0 <= out["best_idx"] < 225 and 0.0 <= out["best_score"] <= 1.0
    weights = sum(float(p.double().abs().sum()) for p in model.state_dict().values() if p.is_floating_point())
    if abs(weights - ref["weights_abs_sum"]) > 1e-6 * ref["weights_abs_sum"]:
        pytest.skip("the seeded random weights differ from the reference's (model initialisation changed)")
    if int(np.stack(video.frames).astype(np.int64).sum()) != ref["frames_sum"]:
        pytest.skip("the generated frames differ from the reference's (generator changed)")
    np.testing.assert_allclose([o["bbox"] for o in outs], ref["boxes"], rtol=0, atol=1e-3)
    np.testing.assert_allclose([o["best_score"] for o in outs], ref["scores"], rtol=0, atol=1e-5)
