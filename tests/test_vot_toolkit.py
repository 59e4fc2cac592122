"""The official vot-toolkit (0.7.4, in its own venv: `make vot-env`) drives pysiam over TraX.

* the TraX server alone, driven by libtrax's client (needs vot-trax in pysiam's environment);
* `vot evaluate` + `vot analysis` on a local workspace built from the shared data (VOT bag with
  polygons, DAVIS blackswan with mask ground truth), random-weight quickstart trackers (boxes
  and masks): every run's trajectory is stored (the toolkit exits 0 even when a tracker
  crashes); pysiam's scores of the stored results (multistart EAO / accuracy / robustness,
  supervised accuracy / failures / EAO; the unsupervised experiment costs two more tracker
  starts per sequence and is checked on synthetic results in test_vot_multistart.py) equal the toolkit's within 1e-6;
  pysiam's own multistart protocol reproduces the TraX runs.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from pysiam.vot.analysis import read_workspace_sequence, score_workspace
from pysiam.vot.multistart import anchor_runs, read_multistart_runs, run_name, score_sequence
from pysiam.vot.regions import read_trajectory, region_overlap
from pysiam.vot.workspace import build_workspace, write_trackers_ini

REPO = Path(__file__).resolve().parent.parent
VOT_ENV = Path(os.environ.get("PYSIAM_VOT_ENV", REPO / ".venv-vot"))
TRACKERS = {"rpn": "quickstart_siamrpn", "mask": "quickstart_siammask"}
HIGH = 25
LOOPBACK_PROXY = "http://127.0.0.1:9"


def _env() -> dict:
    # `vot` asks GitHub for a newer version on every command: send that through a closed
    # loopback port (refused at once) so the test stays offline and does not wait on it
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(REPO),
               HTTPS_PROXY=LOOPBACK_PROXY, https_proxy=LOOPBACK_PROXY)
    env.pop("VOT_RESULTS_BINARY", None)
    env.pop("NO_PROXY", None)
    env.pop("no_proxy", None)
    return env


def _server(*args, **kw):
    return subprocess.Popen([sys.executable, "-m", "pysiam.vot", *args], cwd=kw.pop("cwd", None),
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=_env())


def test_startup_error_is_one_line_and_exit_2(tmp_path):
    proc = _server("--config", "no_such_config", cwd=tmp_path)
    _, err = proc.communicate(timeout=120)
    lines = [l for l in err.decode().splitlines() if l.strip()]
    assert proc.returncode == 2 and len(lines) == 1 and lines[0].startswith("pysiam-vot: error:")


def test_trax_server_protocol(tmp_path):
    trax = pytest.importorskip("trax", reason="vot-trax is not installed (pip install vot-trax)")
    from trax.client import Client
    from trax.image import FileImage
    from trax.region import Mask, Polygon, Rectangle

    rng = np.random.default_rng(0)
    img = (rng.random((96, 128, 3)) * 255).astype(np.uint8)
    path = str(tmp_path / "f.jpg")
    cv2.imwrite(path, img)
    proc = _server("--config", TRACKERS["mask"], "--threads", "1", cwd=tmp_path)
    try:
        client = Client(stream=(proc.stdin.fileno(), proc.stdout.fileno()), timeout=60,
                        log=lambda message: None)
        assert set(client.region_formats) >= {"rectangle", "polygon", "mask"}
        frame = {"color": FileImage.create(path)}
        m = np.zeros((20, 24), np.uint8)
        m[4:16, 6:20] = 255
        for init in (Rectangle.create(40, 30, 30, 20), Polygon.create([(40, 30), (70, 30), (70, 50), (40, 50)]),
                     Mask.create(m, 40, 30)):
            client.initialize(frame, [(init, {})], {})          # re-initialised in one process
            (region, props), = client.frame(frame, {}, [])[0]
            assert region.type == "mask" and float(props["confidence"]) >= 0
        client.quit()
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_workspace_layout_and_trackers_ini(shared_data, tmp_path):
    from pysiam.datasets import build_dataset
    from pysiam.vot.rle import decode_mask, paste_mask

    vot_root = tmp_path / "vot"
    vot_root.mkdir()
    os.symlink(shared_data / "VOT" / "bag", vot_root / "bag")
    (vot_root / "list.txt").write_text("bag\n")
    ws = build_workspace("VOT2018", vot_root, tmp_path / "ws", max_frames=10, anchor_spacing=4, low=1, high=9)
    build_workspace("DAVIS2017", shared_data / "DAVIS", ws, videos=["blackswan"], max_frames=5, low=1, high=9)
    assert (ws / "sequences" / "list.txt").read_text() == "bag\nblackswan\n"
    bag = ws / "sequences" / "bag"
    assert (bag / "sequence").read_text().splitlines()[:2] == ["channels.color=color/%08d.jpg", "fps=30"]
    assert os.path.realpath(bag / "color" / "00000001.jpg") == os.path.realpath(shared_data / "VOT" / "bag" / "00000001.jpg")
    assert (bag / "anchor.value").read_text().split() == ["1", "0", "0", "0", "1", "0", "0", "0", "-1", "-1"]
    assert len((bag / "groundtruth.txt").read_text().splitlines()) == 10 and (bag / "occlusion.tag").is_file()
    lines = (ws / "sequences" / "blackswan" / "groundtruth.txt").read_text().splitlines()
    video = build_dataset("DAVIS2017", shared_data / "DAVIS", videos=["blackswan"])["blackswan"]
    for i in (0, 4):
        window, off = decode_mask(lines[i])
        assert np.array_equal(paste_mask(window, off, video.image_size), (video.read_mask(i) == 1).astype(np.uint8))
    seq = read_workspace_sequence(ws / "sequences" / "blackswan")
    assert seq.size == (854, 480) and [r.kind for r in seq.gt] == ["mask"] * 5
    write_trackers_ini(ws, "a", "quickstart_siamrpn")
    write_trackers_ini(ws, "b", "quickstart_siammask", extra=["--output", "polygon"])
    write_trackers_ini(ws, "a", "quickstart_siamrpn", extra=["--device", "cpu"])   # replaced
    import configparser
    ini = configparser.ConfigParser()
    ini.read(ws / "trackers.ini")
    assert ini.sections() == ["a", "b"] and ini["a"]["protocol"] == "trax"
    assert ini["a"]["command"].startswith(sys.executable + " -m pysiam.vot --config quickstart_siamrpn")
    assert ini["a"]["command"].endswith("--device cpu") and ini["a"]["env_PYTHONPATH"] == str(REPO)
    with pytest.raises(FileNotFoundError, match="snapshot"):
        write_trackers_ini(ws, "c", "quickstart_siamrpn", snapshot=str(tmp_path / "missing.pth"))


def _vot(*args, ws: Path):
    return subprocess.run([str(VOT_ENV / "bin" / "vot"), *args, "--workspace", str(ws)], cwd=ws,
                          env=_env(), capture_output=True, text=True, timeout=600)


def _toolkit_numbers(ws: Path) -> dict:
    """{tracker: {experiment: {eao, accuracy, robustness}}} from the newest `vot analysis` JSON."""
    doc = json.loads(sorted((ws / "analysis").glob("*.json"))[-1].read_text())
    assert doc["toolkit"] == "0.7.4"
    names = list(doc["trackers"])
    out = {t: {} for t in names}
    for exp, block in doc["results"].items():
        for k, analysis in enumerate(block["parameters"]["analyses"]):
            kind = analysis["type"].split(".")[-1]
            for i, t in enumerate(names):
                r = block["results"][k][i]
                if kind == "EAOScore":
                    out[t].setdefault(exp, {})["eao"] = r[0]
                elif kind == "AverageAccuracyRobustness":
                    out[t].setdefault(exp, {}).update(accuracy=r[0], robustness=r[1])
                elif kind == "AverageAccuracy":
                    out[t].setdefault(exp, {})["accuracy"] = r[0]
    return out


def test_vot_toolkit_evaluate_and_analysis(shared_data, tmp_path):
    if not (VOT_ENV / "bin" / "vot").is_file():
        pytest.skip(f"vot-toolkit venv not found at {VOT_ENV} (make vot-env)")
    pytest.importorskip("trax", reason="vot-trax is not installed in pysiam's environment")
    vot_root = tmp_path / "vot"
    vot_root.mkdir()
    os.symlink(shared_data / "VOT" / "bag", vot_root / "bag")
    (vot_root / "list.txt").write_text("bag\n")
    kw = dict(anchor_spacing=12, low=4, high=HIGH, supervised=True)  # (unsupervised: unit-tested)
    ws = build_workspace("VOT2018", vot_root, tmp_path / "ws", max_frames=30, **kw)
    build_workspace("DAVIS2017", shared_data / "DAVIS", ws, videos=["blackswan"], max_frames=16, **kw)
    for name, cfg in TRACKERS.items():
        write_trackers_ini(ws, name, cfg)
    done = _vot("evaluate", *TRACKERS, ws=ws)
    assert done.returncode == 0, done.stdout[-2000:]
    seqs = {s: read_workspace_sequence(ws / "sequences" / s) for s in ("bag", "blackswan")}
    for t in TRACKERS:                     # the exit code says nothing: check what was stored
        for s, seq in seqs.items():
            for a, _ in anchor_runs(seq.anchors):
                assert (ws / "results" / t / "baseline" / s / f"{run_name(s, a)}.bin").is_file(), (t, s, a)
            assert (ws / "results" / t / "supervised" / s / f"{s}_001.bin").is_file(), (t, s)
    kinds = {t: read_trajectory(ws / "results" / t / "baseline" / "blackswan" / "blackswan_00000000.bin")[1].kind
             for t in TRACKERS}
    assert kinds == {"rpn": "rectangle", "mask": "mask"}
    done = _vot("analysis", "--format", "json", *TRACKERS, ws=ws)
    assert done.returncode == 0, done.stdout[-2000:]
    toolkit = _toolkit_numbers(ws)
    for t in TRACKERS:
        mine = score_workspace(ws, t)
        for exp, numbers in toolkit[t].items():
            assert set(numbers) <= set(mine[exp])
            for key, value in numbers.items():
                assert mine[exp][key] == pytest.approx(value, abs=1e-6), (t, exp, key)
    assert 0 < toolkit["mask"]["baseline"]["robustness"] <= 1
    assert set(toolkit["rpn"]) == {"baseline", "supervised"}
    _check_in_process(ws, seqs["blackswan"], "mask")


def _check_in_process(ws: Path, seq, tracker: str) -> None:
    """pysiam's own multistart protocol (in-process, no toolkit) gives the stored trajectories."""
    import torch

    try:
        from pysiam.protocols import drive
    except ImportError:
        from pysiam.runner.protocols import drive
    from pysiam.vot.multistart import multistart_job
    from pysiam.vot.trax_server import load_tracker

    threads = torch.get_num_threads()
    torch.set_num_threads(1)                   # as the server (--threads 1): same arithmetic
    try:
        anchors = anchor_runs(seq.anchors)
        res = drive(multistart_job(seq.gt, lambda i: cv2.imread(seq.frames[i]), anchors),
                    load_tracker(TRACKERS[tracker]))
    finally:
        torch.set_num_threads(threads)
    mine = {(r.anchor, r.reverse): r.regions for r in res.runs}
    stored = read_multistart_runs(ws / "results" / tracker / "baseline" / seq.name, seq.name, anchors)
    for key, regions in mine.items():
        assert [r.kind for r in regions] == [r.kind for r in stored[key]]
        assert min(region_overlap(a, b) for a, b in zip(regions[1:], stored[key][1:])) > 0.99
    a = score_sequence(mine, seq.gt, seq.size, HIGH)
    b = score_sequence(stored, seq.gt, seq.size, HIGH)
    assert a.accuracy == pytest.approx(b.accuracy, abs=1e-3) and a.robustness == b.robustness
