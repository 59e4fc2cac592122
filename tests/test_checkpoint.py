"""Checkpoint loading/saving, pysot and original-SiamMask layouts, ImageNet backbone weights, errors."""
import argparse
import json
import warnings
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from pysiam.cli.convert_siammask import main as convert_main
from pysiam.config import load_config
from pysiam.models import (CheckpointError, build_model, convert_siammask_state_dict, load_checkpoint,
                           load_pretrained_backbone, save_checkpoint)
from pysiam.models.backbone import build_backbone
from pysiam.models.checkpoint import atrous_shortcut_from_1x1

MANIFESTS = Path(__file__).resolve().parent / "data" / "manifests"


def _keys(name):
    return json.loads((MANIFESTS / f"{name}.json").read_text())["keys"]


def _state_from_manifest(name):
    """A state dict with the manifest's keys/shapes; tensor i is filled with the value i."""
    return {k: (torch.zeros(s, dtype=torch.int64) if k.endswith("num_batches_tracked")
                else torch.full(s, float(i))) for i, (k, s) in enumerate(_keys(name).items())}


@pytest.fixture(scope="module")
def alex():
    return build_model(load_config("siamrpn_alex_dwxcorr"))


def test_round_trip_is_exact_and_atomic(alex, tmp_path):
    path = tmp_path / "sub" / "ckpt.pth"
    save_checkpoint(path, alex, epoch=3, cfg="META_ARC: x\n")
    assert [p.name for p in path.parent.iterdir()] == ["ckpt.pth"]  # no temporary file left
    other = build_model(load_config("siamrpn_alex_dwxcorr"))
    report = load_checkpoint(other, path)
    assert report.complete and report.extra == {"epoch": 3, "cfg": "META_ARC: x\n"}
    for (k, a), b in zip(alex.state_dict().items(), other.state_dict().values()):
        assert torch.equal(a, b), k
    raw = torch.load(path, weights_only=True)  # plain types only: loadable without pickle
    assert set(raw) == {"state_dict", "epoch", "cfg"}


def test_pysot_format_loads_without_missing_or_unexpected_keys(alex, tmp_path):
    state = _state_from_manifest("siamrpn_alex_dwxcorr")
    path = tmp_path / "pysot.pth"
    torch.save({"epoch": 20, "state_dict": {"module." + k: v for k, v in state.items()}}, path)
    report = load_checkpoint(alex, path)
    assert report.missing == [] and report.unexpected == [] and len(report.loaded) == 75
    assert report.extra == {"epoch": 20}
    key = "rpn_head.loc.head.3.bias"
    assert torch.equal(alex.state_dict()[key], state[key])


@pytest.mark.parametrize("config,network", [
    ("siamrpn_r50_l234_dwxcorr", "siamrpn_r50_l234_dwxcorr"), ("siammask_r50_l3", "siammask_r50_l3"),
    ("siamrpn_mobilev2_l234_dwxcorr", "siamrpn_mobilev2_l234_dwxcorr"),
    ("siamrpn_r50_l234_dwxcorr_otb", "siamrpn_r50_l234_dwxcorr_otb"),
    ("siamrpn_r50_l234_dwxcorr_lt", "siamrpn_r50_l234_dwxcorr_lt"),
    ("siamrpn_alex_dwxcorr_16gpu", "siamrpn_alex_dwxcorr_16gpu")])
def test_pysot_layout_key_match_for_every_network(config, network):
    """Key matching only (meta tensors: no memory, no copying)."""
    with torch.device("meta"):
        model = build_model(load_config(config))
        state = {"module." + k: torch.empty(s, dtype=torch.int64 if k.endswith("num_batches_tracked") else None)
                 for k, s in _keys(network).items()}
    report = load_checkpoint(model, {"state_dict": state, "epoch": 19})
    assert report.complete and len(report.loaded) == len(state)


def test_model_wrapper_and_missing_num_batches_tracked(alex, tmp_path):
    state = {k: v for k, v in _state_from_manifest("siamrpn_alex_dwxcorr").items()
             if not k.endswith("num_batches_tracked")}
    path = tmp_path / "m.pth"
    torch.save({"model": state}, path)
    report = load_checkpoint(alex, path)  # strict, yet missing num_batches_tracked is fine
    assert report.complete and len(report.loaded) == len(state)


def test_siammask_original_layout_converts_and_loads():
    original = _state_from_manifest("siammask_sharp_original")
    assert len(original) == 356
    converted = convert_siammask_state_dict({"module." + k: v for k, v in original.items()})
    assert list(converted) == list(_keys("siammask_r50_l3"))  # same keys, same order as pysot
    model = build_model(load_config("siammask_r50_l3"))
    report = load_checkpoint(model, {"state_dict": original})  # detected automatically
    assert report.complete and len(report.loaded) == 356 and report.converted
    sd = model.state_dict()
    for orig_key, new_key in [("features.features.layer3.5.bn3.running_var", "backbone.layer3.5.bn3.running_var"),
                              ("features.downsample.downsample.0.weight", "neck.downsample.downsample.0.weight"),
                              ("mask_model.mask.head.3.bias", "mask_head.head.3.bias"),
                              ("refine_model.deconv.weight", "refine_head.deconv.weight")]:
        assert torch.equal(sd[new_key], original[orig_key]), new_key
    with pytest.raises(CheckpointError, match="'other.weight'"):
        convert_siammask_state_dict({"rpn_model.a": torch.zeros(1), "other.weight": torch.zeros(1)})


def test_convert_siammask_tool(tmp_path, capsys):
    src, dst = tmp_path / "SiamMask_VOT.pth", tmp_path / "out.pth"
    torch.save(_state_from_manifest("siammask_sharp_original"), src)
    assert convert_main([str(src), str(dst)]) == 0
    assert "356 keys load strictly" in capsys.readouterr().out
    assert list(torch.load(dst, weights_only=True)["state_dict"]) == list(_keys("siammask_r50_l3"))
    assert convert_main([str(dst), str(tmp_path / "again.pth"), "--no-check"]) == 1
    assert "not in the original SiamMask layout" in capsys.readouterr().err


def test_missing_file_error_names_the_path(alex, tmp_path):
    with pytest.raises(CheckpointError, match=r"checkpoint file not found: .*nope\.pth"):
        load_checkpoint(alex, tmp_path / "nope.pth")


@pytest.mark.parametrize("content", [b"this is not a checkpoint\n", b""])
def test_non_checkpoint_file_error_names_the_file(alex, tmp_path, content):
    path = tmp_path / "notes.txt"
    path.write_bytes(content)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(CheckpointError, match=r"notes\.txt: not a readable PyTorch checkpoint"):
            load_checkpoint(alex, path)


def test_pickled_non_state_dict_is_rejected(alex, tmp_path):
    path = tmp_path / "list.pth"
    torch.save([1, 2, 3], path)
    with pytest.raises(CheckpointError, match=r"list\.pth: not a checkpoint: expected a dict"):
        load_checkpoint(alex, path)
    torch.save({"epoch": 1, "lr": 0.1}, path)
    with pytest.raises(CheckpointError, match=r"entry 'epoch' is a int"):
        load_checkpoint(alex, path)


def test_shape_mismatch_names_file_and_key(alex, tmp_path):
    state = _state_from_manifest("siamrpn_alex_dwxcorr")
    state["rpn_head.cls.head.3.weight"] = torch.zeros(12, 256, 1, 1)
    path = tmp_path / "bad.pth"
    torch.save(state, path)
    with pytest.raises(CheckpointError, match=r"bad\.pth: shape mismatch .*rpn_head\.cls\.head\.3\.weight: "
                                              r"file \(12, 256, 1, 1\) vs model \(10, 256, 1, 1\)"):
        load_checkpoint(alex, path)


def test_strict_and_lenient_key_mismatch(alex, tmp_path):
    state = _state_from_manifest("siamrpn_alex_dwxcorr")
    del state["rpn_head.cls.head.3.bias"]
    state["extra.weight"] = torch.zeros(1)
    path = tmp_path / "partial.pth"
    torch.save(state, path)
    with pytest.raises(CheckpointError, match=r"partial\.pth.*missing 1: rpn_head\.cls\.head\.3\.bias.*"
                                              r"unexpected 1: extra\.weight"):
        load_checkpoint(alex, path)
    report = load_checkpoint(alex, path, strict=False)
    assert report.missing == ["rpn_head.cls.head.3.bias"] and report.unexpected == ["extra.weight"]
    torch.save({"foo.weight": torch.zeros(1)}, path)
    with pytest.raises(CheckpointError, match="no key of the file matches the model"):
        load_checkpoint(alex, path, strict=False)


def test_pickled_objects_need_an_explicit_trust(alex, tmp_path):
    path = tmp_path / "old.pth"
    torch.save({"state_dict": alex.state_dict(), "args": argparse.Namespace(lr=0.1)}, path)
    with pytest.raises(CheckpointError, match=r"old\.pth.*argparse\.Namespace"):
        load_checkpoint(alex, path)
    report = load_checkpoint(alex, path, trust=True)
    assert report.complete and report.extra["args"].lr == 0.1


# -- ImageNet backbone weights -----------------------------------------------------------------
def _torchvision_resnet50_state(backbone):
    """torchvision naming: our keys with 1x1 shortcut convs in layer2/3/4, plus the classifier."""
    state = {}
    for k, v in backbone.state_dict().items():
        if k.endswith("0.downsample.0.weight") and v.shape[-1] == 3:
            v = torch.randn(v.shape[0], v.shape[1], 1, 1)
        state[k] = torch.randn_like(v) if v.is_floating_point() else v
    state["layer4.0.conv1.weight"] = torch.randn(512, 1024, 1, 1)  # a stage used_layers [2, 3] omits
    state["fc.weight"], state["fc.bias"] = torch.randn(1000, 2048), torch.randn(1000)
    return state


def test_atrous_shortcut_conversion_is_exact_for_dilated_stages():
    w = torch.randn(6, 4, 1, 1)
    w3 = atrous_shortcut_from_1x1(w)
    assert w3.shape == (6, 4, 3, 3) and torch.equal(w3[:, :, 1, 1], w[:, :, 0, 0])
    assert w3.abs().sum() == w.abs().sum()
    x = torch.randn(1, 4, 9, 9)
    for d in (1, 2):  # layer3 (dilation 1, padding 1) and layer4 (dilation 2, padding 2) shortcuts
        torch.testing.assert_close(F.conv2d(x, w3, padding=d, dilation=d), F.conv2d(x, w))
    # layer2 (stride 2, no padding): the centre tap reads pixel 2i+1, like the block's 3x3 conv
    torch.testing.assert_close(F.conv2d(x, w3, stride=2), F.conv2d(x[:, :, 1:-1, 1:-1], w, stride=2))


def test_load_torchvision_resnet50_weights(tmp_path):
    backbone = build_backbone("resnet50", used_layers=[2, 3])
    tv = _torchvision_resnet50_state(backbone)
    path = tmp_path / "resnet50-torchvision.pth"
    torch.save(tv, path)
    report = load_pretrained_backbone(backbone, path)
    assert report.missing == []
    assert sorted(report.unexpected) == ["fc.bias", "fc.weight", "layer4.0.conv1.weight"]
    assert any("2 1x1 shortcut" in c for c in report.converted)
    sd = backbone.state_dict()
    assert torch.equal(sd["layer1.0.conv1.weight"], tv["layer1.0.conv1.weight"])
    assert torch.equal(sd["layer1.0.downsample.0.weight"], tv["layer1.0.downsample.0.weight"])  # 1x1 stays
    for k in ("layer2.0.downsample.0.weight", "layer3.0.downsample.0.weight"):
        assert sd[k].shape[-2:] == (3, 3) and torch.equal(sd[k], atrous_shortcut_from_1x1(tv[k]))


def test_load_pysot_pretrained_backbone_with_prefixes(tmp_path):
    """pysot's resnet50.model style (3x3 shortcuts already) under 'state_dict' with 'module.'."""
    src = build_backbone("resnet50", used_layers=[1, 2])
    dst = build_backbone("resnet50", used_layers=[1, 2])
    path = tmp_path / "resnet50.model"
    torch.save({"state_dict": {"module." + k: v for k, v in src.state_dict().items()}}, path)
    report = load_pretrained_backbone(dst, path)
    assert report.complete and not report.converted
    assert all(torch.equal(a, b) for a, b in zip(src.state_dict().values(), dst.state_dict().values()))


def test_load_legacy_alexnet_without_features_prefix():
    src, dst = build_backbone("alexnetlegacy", width_mult=0.25), build_backbone("alexnetlegacy", width_mult=0.25)
    state = {k[len("features."):]: v for k, v in src.state_dict().items()}
    report = load_pretrained_backbone(dst, state)
    assert report.complete and any("features." in c for c in report.converted)


def test_build_model_loads_backbone_pretrained(tmp_path):
    src = build_backbone("alexnetlegacy")
    path = tmp_path / "alexnet.pth"
    torch.save(src.state_dict(), path)
    cfg = load_config("siamrpn_alex_dwxcorr", ["BACKBONE.PRETRAINED", str(path)])
    model = build_model(cfg, load_backbone_weights=True)
    assert torch.equal(model.backbone.features[0].weight, src.features[0].weight)
    cfg = load_config("siamrpn_alex_dwxcorr", ["BACKBONE.PRETRAINED", str(tmp_path / "absent.pth")])
    build_model(cfg)  # not asked to load: fine
    with pytest.raises(CheckpointError, match="absent.pth"):
        build_model(cfg, load_backbone_weights=True)
