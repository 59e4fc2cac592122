"""Every shipped config builds a network whose state dict equals pysot's, key by key and shape by shape.

Manifests in tests/data/manifests (key -> shape, parameter count) come from the shared spec
(``checkpoints/<model>.json``, itself dumped from pysot d04028f's ModelBuilder) or, for the
variants the spec does not list (``_otb``: unweighted MultiRPN, ``_lt``: 128/256/512 neck,
``alex_16gpu``: BN AlexNet with named stages), from pysot's ModelBuilder built with pysot's own
experiment YAML on CPU (torch 2.13). Models are built on the meta device (no weight init cost).
"""
import json
from pathlib import Path

import pytest
import torch

from pysiam.config import list_configs, load_config
from pysiam.models import build_model

MANIFESTS = Path(__file__).resolve().parent / "data" / "manifests"

# shipped config -> manifest of its network (training variants share the base network)
NETWORK_OF = {
    "siammask_r50_l3": "siammask_r50_l3",
    "siammask_r50_l3_8gpu": "siammask_r50_l3",
    "siamrpn_alex_dwxcorr": "siamrpn_alex_dwxcorr",
    "siamrpn_alex_dwxcorr_otb": "siamrpn_alex_dwxcorr",
    "siamrpn_alex_dwxcorr_16gpu": "siamrpn_alex_dwxcorr_16gpu",
    "siamrpn_mobilev2_l234_dwxcorr": "siamrpn_mobilev2_l234_dwxcorr",
    "siamrpn_r50_l234_dwxcorr": "siamrpn_r50_l234_dwxcorr",
    "siamrpn_r50_l234_dwxcorr_8gpu": "siamrpn_r50_l234_dwxcorr",
    "siamrpn_r50_l234_dwxcorr_16gpu": "siamrpn_r50_l234_dwxcorr",
    "siamrpn_r50_l234_dwxcorr_lt": "siamrpn_r50_l234_dwxcorr_lt",
    "siamrpn_r50_l234_dwxcorr_otb": "siamrpn_r50_l234_dwxcorr_otb",
    "siamrpn_r50_l234_dwxcorr_otb_8gpu": "siamrpn_r50_l234_dwxcorr_otb",
}
SHARED_MODELS = ["siamrpn_r50_l234_dwxcorr", "siammask_r50_l3", "siamrpn_alex_dwxcorr",
                 "siamrpn_mobilev2_l234_dwxcorr"]


def load_manifest(name: str) -> dict:
    return json.loads((MANIFESTS / f"{name}.json").read_text())


def _meta_model(config: str):
    with torch.device("meta"):
        return build_model(load_config(config))


@pytest.mark.parametrize("config", list_configs())
def test_shipped_config_builds(config):
    model = _meta_model(config)
    n = sum(p.numel() for p in model.parameters())
    print(f"\n{config}: {n:,} parameters, {len(model.state_dict())} state-dict entries")
    assert n > 0


@pytest.mark.parametrize("config", sorted(NETWORK_OF))
def test_state_dict_matches_pysot_manifest(config):
    if config not in list_configs():
        pytest.skip(f"{config} is not shipped")
    manifest = load_manifest(NETWORK_OF[config])
    model = _meta_model(config)
    got = {k: list(v.shape) for k, v in model.state_dict().items()}
    want = manifest["keys"]
    assert sorted(set(want) - set(got)) == [], "keys pysot has and pysiam lacks"
    assert sorted(set(got) - set(want)) == [], "keys pysiam has and pysot lacks"
    assert {k: v for k, v in got.items() if v != want[k]} == {}, "shape differences"
    assert list(got) == list(want), "state-dict order differs from pysot's"
    assert sum(p.numel() for p in model.parameters()) == manifest["num_parameters"]
    assert all(v.dtype == torch.int64 for k, v in model.state_dict().items() if k.endswith("num_batches_tracked"))


def test_otb_variant_only_drops_the_fusion_weights():
    full, otb = load_manifest("siamrpn_r50_l234_dwxcorr")["keys"], load_manifest("siamrpn_r50_l234_dwxcorr_otb")["keys"]
    assert sorted(set(full) - set(otb)) == ["rpn_head.cls_weight", "rpn_head.loc_weight"] and set(otb) < set(full)


@pytest.mark.parametrize("name", SHARED_MODELS + ["siammask_sharp_original"])
def test_stored_manifests_equal_the_shared_spec(name, shared_spec):
    spec = json.loads((shared_spec / "checkpoints" / f"{name}.json").read_text())
    mine = load_manifest(name)
    assert mine["keys"] == {e["key"]: e["shape"] for e in spec["keys"]}
    assert list(mine["keys"]) == [e["key"] for e in spec["keys"]]
    assert mine["num_parameters"] == spec.get("num_parameters", spec.get("total_parameters"))
    io = [k for k in spec if k.startswith("io_shapes")]
    if io:
        assert mine["io_shapes"] == {"name": io[0], "shapes": spec[io[0]]}
