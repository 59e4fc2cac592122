"""NanoTrack V1/V2/V3 networks: key layout, sizes, batching, and parity with NanoTrack's own code.

The reference outputs in tests/data/nanotrack_ref/model_parity.npz come from NanoTrack's original
ModelBuilder (HonglinChu/SiamTrackers 248663f) on CPU with the released weights, on its own
template / search crops of OTB Crossing and VOT bag (see tests/data/nanotrack_ref/README.md).
"""
import json
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from pysiam.config import load_config
from pysiam.models import load_checkpoint
from pysiam.models.backbone import build_backbone
from pysiam.models.backbone.mobilenet_v3 import make_divisible
from pysiam.models.head import build_ban_head, nanotrack_head_version, resolve_ban_type
from pysiam.models.head.ban import pixelwise_xcorr
from pysiam.models.head.ban_v3 import centre_crop, xcorr_depthwise_padded
from pysiam.models.neck import build_neck

DATA = Path(__file__).resolve().parent / "data"
REF = DATA / "nanotrack_ref"
VERSIONS = (1, 2, 3)
PARAMS = {1: (292_190, 287_966), 2: (338_302, 334_078), 3: (550_854, 541_446)}  # total, without neck
FEAT = {1: 48, 2: 48, 3: 96}
SCORE = {1: 16, 2: 16, 3: 15}


class NanoNet(nn.Module):
    """backbone / neck (built, unused) / ban_head with NanoTrack's attribute names and order."""

    def __init__(self, version: int):
        super().__init__()
        cfg = load_config(f"nanotrack_v{version}")
        self.backbone = build_backbone(cfg.BACKBONE.TYPE, **dict(cfg.BACKBONE.KWARGS))
        self.neck = build_neck(cfg.ADJUST.TYPE, **dict(cfg.ADJUST.KWARGS))
        self.ban_head = build_ban_head(cfg.BAN.TYPE, **dict(cfg.BAN.KWARGS))

    def forward(self, z, x):
        return self.ban_head(self.backbone(z)[0], self.backbone(x)[0])


def _manifest_keys(version):
    return json.loads((DATA / "manifests" / f"nanotrack_v{version}.json").read_text())["keys"]


@pytest.fixture(scope="module")
def nets():
    torch.manual_seed(0)
    return {v: NanoNet(v).eval() for v in VERSIONS}


def _weights(shared_data, version):
    return shared_data / "models" / "nanotrack" / f"nanotrackv{version}.pth"


# -- layout -------------------------------------------------------------------------------------
@pytest.mark.parametrize("version", VERSIONS)
def test_state_dict_keys_shapes_order_match_manifest_copy(nets, version):
    got = [(k, list(v.shape)) for k, v in nets[version].state_dict().items()]
    assert got == list(_manifest_keys(version).items())


@pytest.mark.parametrize("version", VERSIONS)
def test_state_dict_matches_shared_spec_manifest(nets, shared_spec, version):
    spec = json.loads((shared_spec / "nanotrack" / f"nanotrack_v{version}_manifest.json").read_text())
    sd = nets[version].state_dict()
    assert [(e["key"], e["shape"], e["dtype"]) for e in spec["state_dict"]] == \
        [(k, list(v.shape), str(v.dtype).replace("torch.", "")) for k, v in sd.items()]
    assert spec["parameter_count"]["total"] == sum(p.numel() for p in nets[version].parameters())


@pytest.mark.parametrize("version", VERSIONS)
def test_parameter_counts(nets, version):
    net = nets[version]
    total = sum(p.numel() for p in net.parameters())
    used = total - sum(p.numel() for p in net.neck.parameters())
    assert (total, used) == PARAMS[version]
    assert net.backbone.out_channels == [FEAT[version]] and net.backbone.strides == [16]


def test_make_divisible_and_block_widths():
    assert [make_divisible(v, 8) for v in (16, 72, 24 * 3.67, 96, 240, 120, 144, 288)] == \
        [16, 72, 88, 96, 240, 120, 144, 288]
    assert [make_divisible(c / 4, 8) for c in (16, 96, 240, 120, 144, 288)] == [8, 24, 64, 32, 40, 72]
    bb = build_backbone("mobilenetv3_small_v3", used_layers=[4])  # used_layers: accepted, ignored
    assert len(bb.features) == 10 and bb.out_channels == [96]


# -- forward ------------------------------------------------------------------------------------
@pytest.mark.parametrize("version", VERSIONS)
def test_forward_shapes(nets, version):
    net, c, s = nets[version], FEAT[version], SCORE[version]
    z, x = torch.rand(1, 3, 127, 127) * 255, torch.rand(1, 3, 255, 255) * 255
    with torch.no_grad():
        zf, xf = net.backbone(z), net.backbone(x)
        assert [t.shape for t in zf] == [(1, c, 8, 8)] and [t.shape for t in xf] == [(1, c, 16, 16)]
        cls, loc = net.ban_head(zf[0], xf[0])
    assert cls.shape == (1, 2, s, s) and loc.shape == (1, 4, s, s) and bool((loc > 0).all())


@pytest.mark.parametrize("version", VERSIONS)
def test_batch_of_two_equals_two_single_passes(nets, version):
    head, c = nets[version].ban_head, FEAT[version]
    zf, xf = torch.randn(2, c, 8, 8), torch.randn(2, c, 16, 16)
    with torch.no_grad():
        cls, loc = head.match(head.encode_template(zf), xf)
        for i in range(2):
            ci, li = head(zf[i:i + 1], xf[i:i + 1])
            torch.testing.assert_close(cls[i:i + 1], ci, rtol=1e-5, atol=1e-5)
            torch.testing.assert_close(loc[i:i + 1], li, rtol=1e-5, atol=1e-5)
    assert not torch.allclose(cls[0], cls[1])


def test_correlation_definitions():
    z, x = torch.randn(2, 5, 8, 8), torch.randn(2, 5, 16, 16)
    want = torch.einsum("bcij,bcyx->bijyx", z, x).reshape(2, 64, 16, 16)
    torch.testing.assert_close(pixelwise_xcorr(z, x), want)
    k = centre_crop(z)
    assert torch.equal(k, z[:, :, 2:6, 2:6]) and centre_crop(k) is k
    out = xcorr_depthwise_padded(x, k)
    assert out.shape == (2, 5, 15, 15)
    for b in range(2):
        torch.testing.assert_close(out[b:b + 1], F.conv2d(x[b:b + 1], k[b].unsqueeze(1), padding=1, groups=5))


def test_head_version_from_keys_and_resolver():
    for v in VERSIONS:
        assert nanotrack_head_version(_manifest_keys(v)) == v
    with pytest.raises(ValueError, match="not a NanoTrack checkpoint"):
        nanotrack_head_version(["rpn_head.cls.weight"])
    assert resolve_ban_type("DepthwiseBAN", "mobilenetv3_small_v3") == "NanoBANv3"
    assert resolve_ban_type("DepthwiseBAN", "mobilenetv3_small") == "NanoBANv2"  # documented default
    assert resolve_ban_type("DepthwiseBAN", "mobilenetv3_small", _manifest_keys(1)) == "NanoBANv1"
    assert resolve_ban_type("NanoBANv1", "mobilenetv3_small") == "NanoBANv1"


def test_nanotrack_yaml_files_load_unchanged(shared_data):
    for v in VERSIONS:
        cfg = load_config(shared_data / "models" / "nanotrack" / "config" / f"configv{v}.yaml")
        assert cfg.BAN.TYPE == "DepthwiseBAN" and cfg.POINT.STRIDE == 16
        assert cfg.TRACK.OUTPUT_SIZE == SCORE[v]
    for v in VERSIONS:  # the shipped configs carry the same test-time values
        ours = load_config(f"nanotrack_v{v}").TRACK
        theirs = load_config(shared_data / "models" / "nanotrack" / "config" / f"configv{v}.yaml").TRACK
        assert [ours[k] for k in ("PENALTY_K", "WINDOW_INFLUENCE", "LR", "OUTPUT_SIZE")] == \
            [theirs[k] for k in ("PENALTY_K", "WINDOW_INFLUENCE", "LR", "OUTPUT_SIZE")]


# -- real weights -------------------------------------------------------------------------------
@pytest.mark.parametrize("version", VERSIONS)
def test_released_checkpoint_loads_completely(shared_data, version):
    net = NanoNet(version)
    report = load_checkpoint(net, _weights(shared_data, version))
    assert report.complete and len(report.loaded) == len(_manifest_keys(version))
    assert sorted(report.extra) == ["epoch", "optimizer"]
    no_neck = NanoNet(version)
    del no_neck.neck
    report = load_checkpoint(no_neck, _weights(shared_data, version), ignore_unexpected=("neck.",))
    assert report.complete and len(report.ignored) == 6 and all(k.startswith("neck.") for k in report.ignored)


@pytest.mark.parametrize("version", VERSIONS)
def test_parity_with_nanotrack_reference_outputs(shared_data, version, one_thread):
    ref = np.load(REF / "model_parity.npz")
    net = NanoNet(version).eval()
    load_checkpoint(net, _weights(shared_data, version))
    for seq in ("Crossing", "bag"):
        z = torch.from_numpy(ref[f"{seq}__z"][None].astype(np.float32))
        x = torch.from_numpy(ref[f"{seq}__x"].astype(np.float32))
        with torch.no_grad():
            cls, loc = net.ban_head.match(net.ban_head.encode_template(net.backbone(z)[0].expand(2, -1, -1, -1)),
                                          net.backbone(x)[0])
        want_cls, want_loc = ref[f"{seq}__v{version}__cls"], ref[f"{seq}__v{version}__loc"]
        assert cls.shape == want_cls.shape and loc.shape == want_loc.shape
        assert np.abs(cls.numpy() - want_cls).max() < 1e-4, (seq, "cls")
        assert (np.abs(loc.numpy() - want_loc) <= 1e-4 * np.abs(want_loc) + 1e-4).all(), (seq, "loc")
        # the same cell wins: softmax target probability
        best = [c.softmax(1)[:, 1].flatten(1).argmax(1) for c in (cls, torch.from_numpy(want_cls))]
        assert torch.equal(*best)


# -- through pysiam's model builder ---------------------------------------------------------------
@pytest.mark.parametrize("version", VERSIONS)
def test_build_model_layout_and_parity(shared_data, version, one_thread):
    """build_model(nanotrack_vN): the manifest's keys, the neck not applied, NanoTrack's outputs."""
    from pysiam.models import build_model
    model = build_model(load_config(f"nanotrack_v{version}")).eval()
    assert [(k, list(v.shape)) for k, v in model.state_dict().items()] == list(_manifest_keys(version).items())
    assert load_checkpoint(model, _weights(shared_data, version)).complete
    ref = np.load(REF / "model_parity.npz")
    z = torch.from_numpy(ref["bag__z"][None].astype(np.float32))
    x = torch.from_numpy(ref["bag__x"][:1].astype(np.float32))
    with torch.no_grad():
        out = model.track_with(model.extract_template(z), x)
    assert np.abs(out["cls"].numpy() - ref[f"bag__v{version}__cls"][:1]).max() < 1e-4
    want = ref[f"bag__v{version}__loc"][:1]
    assert (np.abs(out["loc"].numpy() - want) <= 1e-4 * np.abs(want) + 1e-4).all()
