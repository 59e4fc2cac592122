"""Numerical parity with pysot (d04028f) and the manifests' input/output shapes.

How tests/data/model_parity_<model>.npz were produced (outside this repository, with pysot's own
code on CPU, torch 2.13): pysot's ``ModelBuilder`` was built from pysot's
``experiments/<model>/config.yaml``, put in eval mode, and every state-dict entry was set by
:func:`fill_value` below (keyed by the pysot name; pysiam uses the same names). Inputs:
``z = RandomState(1).randint(0, 256, (1, 3, 127, 127))`` and
``x = RandomState(2).randint(0, 256, (1, 3, S, S))`` as float32, S = TRACK.INSTANCE_SIZE (255, 287
for AlexNet). Stored: ``cls`` and ``loc`` in full; per template level ``zf<i>_stats`` (mean, std,
max |.|) and ``zf<i>_slice`` = ``zf[0, ::16]``; for SiamMask ``mask_slice`` = ``mask[0, ::50, ::4, ::4]``,
``mask_stats``, ``corr_slice`` = ``mask_corr_feature[0, ::8, ::3, ::3]``, ``corr_stats`` and
``refine`` = ``mask_refine((row, col))`` at the rows of ``refine_pos`` (full 16129 values each).
pysiam's outputs matched bit for bit on the machine that made them; the test allows 1e-5
relative to the largest magnitude (other CPUs / BLAS builds).
"""
import json
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch

from pysiam.config import load_config
from pysiam.models import build_model

DATA = Path(__file__).resolve().parent / "data"
RTOL = 1e-5


def fill_value(key: str, shape) -> np.ndarray:
    """Deterministic, scale-aware value of a state-dict entry, seeded by the key's CRC32."""
    rng = np.random.RandomState(zlib.crc32(key.encode()) & 0x7FFFFFFF)
    n = int(np.prod(shape)) if len(shape) else 1
    if key.endswith("num_batches_tracked"):
        return np.zeros(shape, np.int64)
    if key.endswith("running_var"):
        v = rng.uniform(0.5, 1.5, n)
    elif key.endswith("running_mean"):
        v = rng.normal(0.0, 0.1, n)
    elif key.endswith("cls_weight") or key.endswith("loc_weight"):
        v = rng.normal(0.0, 1.0, n)
    elif len(shape) == 1 and key.endswith(".weight"):   # BN scale
        v = rng.uniform(0.5, 1.0, n)
    elif len(shape) == 1 and key.endswith(".bias"):
        v = rng.normal(0.0, 0.1, n)
    else:  # conv weights: N(0, 1/fan_in); a transposed conv's fan-in is its input channels
        fan_in = shape[0] if "deconv" in key else int(np.prod(shape[1:]))
        v = rng.normal(0.0, np.sqrt(1.0 / fan_in), n)
    return v.astype(np.float32).reshape(shape)


def _filled_model(config: str):
    with torch.device("meta"):  # no random init: every tensor is replaced below
        model = build_model(load_config(config)).eval()
    state = {k: torch.from_numpy(fill_value(k, list(v.shape))) for k, v in model.state_dict().items()}
    model.load_state_dict(state, assign=True)
    return model


def _inputs(instance: int):
    z = np.random.RandomState(1).randint(0, 256, (1, 3, 127, 127)).astype(np.float32)
    x = np.random.RandomState(2).randint(0, 256, (1, 3, instance, instance)).astype(np.float32)
    return torch.from_numpy(z), torch.from_numpy(x)


def _close(got: torch.Tensor, want: np.ndarray, what: str) -> None:
    got = got.detach().numpy()
    assert got.shape == want.shape, f"{what}: shape {got.shape} != {want.shape}"
    scale = float(np.abs(want).max())
    err = float(np.abs(got - want).max())
    assert err <= RTOL * scale, f"{what}: max error {err:.3g} > {RTOL} x {scale:.3g}"


def _stats(t: torch.Tensor) -> np.ndarray:
    return np.array([t.mean().item(), t.std().item(), t.abs().max().item()])


class _Recorder:
    """Forward hooks that keep the output shapes of the backbone and neck, per call."""

    def __init__(self, model):
        self.calls = []
        self.handles = [m.register_forward_hook(self._hook(name))
                        for name, m in (("backbone", model.backbone), ("neck", model.neck)) if m is not None]

    def _hook(self, name):
        def hook(_module, _inp, out):
            outs = [out] if isinstance(out, torch.Tensor) else out
            self.calls.append((name, [list(o.shape) for o in outs]))
        return hook

    def close(self):
        for h in self.handles:
            h.remove()


MODELS = ["siamrpn_alex_dwxcorr", "siamrpn_mobilev2_l234_dwxcorr", "siamrpn_r50_l234_dwxcorr", "siammask_r50_l3"]


@pytest.mark.parametrize("config", MODELS)
def test_outputs_match_pysot_and_manifest_shapes(config):
    ref = np.load(DATA / f"model_parity_{config}.npz")
    io = json.loads((DATA / "manifests" / f"{config}.json").read_text())["io_shapes"]["shapes"]
    model = _filled_model(config)
    z, x = _inputs(load_config(config).TRACK.INSTANCE_SIZE)
    rec = _Recorder(model)
    with torch.no_grad():
        model.template(z)
        out = model.track(x)
        refine = (torch.cat([model.mask_refine((int(r), int(c))) for r, c in ref["refine_pos"]])
                  if "refine" in ref else None)
    rec.close()

    # -- values
    zf = model.zf if isinstance(model.zf, list) else [model.zf]
    for i, t in enumerate(zf):
        _close(t[0, ::16], ref[f"zf{i}_slice"], f"template level {i}")
        np.testing.assert_allclose(_stats(t), ref[f"zf{i}_stats"], rtol=1e-4)
    _close(out["cls"], ref["cls"], "cls")
    _close(out["loc"], ref["loc"], "loc")
    if "mask_slice" in ref:
        _close(out["mask"][0, ::50, ::4, ::4], ref["mask_slice"], "mask")
        np.testing.assert_allclose(_stats(out["mask"]), ref["mask_stats"], rtol=1e-4)
        _close(out["mask_corr_feature"][0, ::8, ::3, ::3], ref["corr_slice"], "mask correlation feature")
        for i, (r, c) in enumerate(ref["refine_pos"]):
            _close(refine[i], ref["refine"][i], f"refine at ({r}, {c})")
    else:
        assert out["mask"] is None

    # -- shapes (manifest io_shapes_*): hooks saw backbone(z), [neck(z)], backbone(x), [neck(x)]
    shapes, seen = {}, set()
    for name, outs in rec.calls:
        side = "x" if name in seen else "z"
        seen.add(name)
        shapes.update({f"{side}_{name}_{i}": s for i, s in enumerate(outs)})
    for key in [k for k in io if k.startswith(("z_backbone", "x_backbone", "z_neck", "x_neck"))]:
        assert shapes.get(key) == io[key], key
    assert list(out["cls"].shape) == io["cls"] and list(out["loc"].shape) == io["loc"]
    if "mask" in io:
        assert list(out["mask"].shape) == io["mask"]
        assert list(out["mask_corr_feature"].shape) == io["mask_corr_feature"]
        assert [list(f.shape) for f in out["refine_features"]] == io["refine_xf"]
        assert list(refine[:1].shape) == io["refine_out"]
        _check_refine_variants(model, x, ref)


def _check_refine_variants(model, x, ref):
    """``with_mask=False`` (no 3969-channel head) and the batched positions path give the same refine."""
    with torch.no_grad():
        out = model.track(x, with_mask=False)
        assert out["mask"] is None
        pos = torch.as_tensor(ref["refine_pos"])
        many = model.refine_head.forward_positions(out["refine_features"], out["mask_corr_feature"],
                                                   torch.zeros(len(pos), dtype=torch.long), pos[:, 0], pos[:, 1])
    for i in range(len(pos)):
        _close(many[i], ref["refine"][i], f"gathered refine {i}")
