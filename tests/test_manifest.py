"""Run manifests: a result folder remembers its set-up; a resumed run with another one fails."""
import json
import os
import re

import pytest

from pysiam.config import load_config
from pysiam.results.manifest import (MANIFEST_NAME, RunManifest, default_tracker_name, read_manifest,
                                     require_snapshot, snapshot_sha256, write_or_check)

CONFIG = "siamrpn_r50_l234_dwxcorr"


@pytest.fixture
def snap(tmp_path):
    path = tmp_path / "snapshot" / "checkpoint_e4.pth"
    path.parent.mkdir()
    path.write_bytes(b"weights-one" * 1000)
    return path


@pytest.fixture
def cache(tmp_path):
    return tmp_path / "sha_cache.json"


def _manifest(snap, cache, opts=(), config=CONFIG, skip=5):
    cfg = load_config(config, list(opts))
    return RunManifest.create(cfg, str(snap) if snap else "", cache_file=cache,
                              protocol={"dataset": "VOT2018", "skip": skip})


def test_first_run_writes_and_same_setup_resumes(tmp_path, snap, cache):
    tdir = tmp_path / "results" / "VOT2018" / "mine"
    m = _manifest(snap, cache)
    assert write_or_check(tdir, m) is m
    saved = json.loads((tdir / MANIFEST_NAME).read_text())
    assert saved["snapshot_sha256"] == snapshot_sha256(snap, cache) and len(saved["config_digest"]) == 64
    assert saved["tracker_type"] == "SiamRPNTracker" and saved["protocol"] == {"dataset": "VOT2018", "skip": 5}
    assert sorted(os.listdir(tdir)) == [MANIFEST_NAME]                 # atomic: no temporary left
    (tdir / "baseline").mkdir()                                          # some results meanwhile
    again = _manifest(snap, cache, ["INFERENCE.PREFETCH", "4", "TRAIN.EPOCH", "3"])  # speed / training only
    assert write_or_check(tdir, again).config_digest == m.config_digest
    assert read_manifest(tdir).created == m.created


@pytest.mark.parametrize("change, expected", [
    (dict(opts=["TRACK.LR", "0.3"]), r"config \(TRACK\.LR 0\.38 -> 0\.3\)"),
    (dict(opts=["INFERENCE.AMP", "bf16"]), r"backend \(AMP '' -> 'bf16'\)"),
    (dict(skip=0), r"protocol \(skip 5 -> 0\)"),
    (dict(config="siammask_r50_l3"), r"config \(.*\); tracker_type \('SiamRPNTracker' -> 'SiamMaskTracker'\)"),
])
def test_another_setup_is_a_one_line_error(tmp_path, snap, cache, change, expected):
    tdir = tmp_path / "mine"
    write_or_check(tdir, _manifest(snap, cache))
    other = _manifest(snap, cache, change.get("opts", ()), change.get("config", CONFIG), change.get("skip", 5))
    with pytest.raises(ValueError) as info:
        write_or_check(tdir, other)
    msg = str(info.value)
    assert "\n" not in msg and msg.startswith(f"{tdir / MANIFEST_NAME}: the results there were made with another set-up: ")
    assert re.search(expected, msg), msg
    assert msg.endswith("use --overwrite to replace them, or --name for a new results folder")
    assert write_or_check(tdir, other, overwrite=True) is other
    assert read_manifest(tdir).config_digest == other.config_digest


def test_same_snapshot_name_other_content(tmp_path, snap, cache):
    tdir = tmp_path / "mine"
    write_or_check(tdir, _manifest(snap, cache))
    snap.write_bytes(b"weights-two" * 1000)                  # retrained, same file name
    with pytest.raises(ValueError, match=r"snapshot \(.*checkpoint_e4\.pth sha256 [0-9a-f]{8} -> .*checkpoint_e4\.pth"):
        write_or_check(tdir, _manifest(snap, cache))
    with pytest.raises(ValueError, match=r"snapshot \(.*sha256 [0-9a-f]{8} -> random weights sha256 -\)"):
        write_or_check(tdir, _manifest(None, cache))


def test_results_without_a_manifest_or_a_broken_one(tmp_path, snap, cache):
    legacy = tmp_path / "legacy"
    legacy.mkdir()
    (legacy / "Basketball.txt").write_text("1,2,3,4\n")
    with pytest.raises(ValueError, match=r"legacy holds results without a run\.json: .*--overwrite.*--name"):
        write_or_check(legacy, _manifest(snap, cache))
    write_or_check(legacy, _manifest(snap, cache), overwrite=True)
    (legacy / MANIFEST_NAME).write_text("{not json")
    with pytest.raises(ValueError, match=r"run\.json: unreadable run manifest"):
        write_or_check(legacy, _manifest(snap, cache))


def test_snapshot_hash_is_cached_by_path_mtime_size(tmp_path, snap, cache):
    real = snapshot_sha256(snap, cache)
    data = json.loads(cache.read_text())
    key = str(snap.resolve())
    assert data[key]["sha256"] == real and data[key]["stamp"][0] == snap.stat().st_size
    data[key]["sha256"] = "f" * 64                             # a cache hit does not rehash
    cache.write_text(json.dumps(data))
    assert snapshot_sha256(snap, cache) == "f" * 64
    st = snap.stat()
    os.utime(snap, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))  # touched: hashed again
    assert snapshot_sha256(snap, cache) == real
    with pytest.raises(FileNotFoundError, match="snapshot not found"):
        snapshot_sha256(tmp_path / "missing.pth", cache)


def test_default_tracker_name(tmp_path, snap, cache):
    cfg = load_config(CONFIG)
    name = default_tracker_name(CONFIG, str(snap), cfg, cache)
    assert re.fullmatch(r"siamrpn_r50_l234_dwxcorr-checkpoint_e4-[0-9a-f]{6}", name)
    assert default_tracker_name(CONFIG, str(snap), load_config(CONFIG), cache) == name      # stable
    assert default_tracker_name(CONFIG, str(snap), load_config(CONFIG, ["TRACK.LR", "0.3"]), cache) != name
    assert default_tracker_name(CONFIG, str(snap), load_config(CONFIG, ["INFERENCE.AMP", "fp16"]), cache) != name
    snap.write_bytes(b"other weights")
    assert default_tracker_name(CONFIG, str(snap), cfg, cache) != name
    exp = tmp_path / "siamrpn_alex_dwxcorr_exp"
    exp.mkdir()
    (exp / "config.yaml").write_text("_BASE_: siamrpn_alex_dwxcorr\n")
    assert default_tracker_name(exp, "", cfg, cache).startswith("siamrpn_alex_dwxcorr_exp-random-")
    assert default_tracker_name(exp / "config.yaml", "", cfg, cache).startswith("siamrpn_alex_dwxcorr_exp-random-")


def test_require_snapshot(tmp_path):
    require_snapshot("model.pth", False)
    require_snapshot("", True)
    with pytest.raises(ValueError, match=r"^no --snapshot given: the model would have random weights; pass "
                                         r"--snapshot FILE\.pth, or --random-weights"):
        require_snapshot("", False, CONFIG)
    exp = tmp_path / "exp"
    exp.mkdir()
    (exp / "model.pth").write_bytes(b"x")
    with pytest.raises(ValueError, match=r"no --snapshot given \(this experiment folder has .*exp/model\.pth\)"):
        require_snapshot("", False, exp)
