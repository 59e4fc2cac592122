"""tools/test.py and tools/eval.py on a VOT2020-layout set: the multistart protocol through the registry."""
import json

import numpy as np

from pysiam.cli import eval as eval_cli
from pysiam.cli import test as test_cli
from pysiam.datasets import build_dataset, testing
from pysiam.protocols import RunOptions, ScoreOptions, get_protocol
from pysiam.vot.rle import encode_mask


def _vot2020(root, with_mask: bool = False):
    """A VOT2020-layout set from the generated VOT one: anchors at frames 0 and 6 (backward)."""
    gts = testing.make_vot(root, videos={"ants": 9, "bag": 8})
    for name, gt in gts.items():
        n = len(gt)
        (root / name / "anchor.value").write_text("".join(
            ("1\n" if i == 0 else "-1\n" if i == n - 2 else "0\n") for i in range(n)))
        if with_mask and name == "bag":
            lines = []
            for row in gt:
                xs, ys = row[0::2], row[1::2]
                m = np.zeros((72, 96), np.uint8)
                m[int(ys.min()):int(ys.max()) + 1, int(xs.min()):int(xs.max()) + 1] = 1
                lines.append(encode_mask(m))
            (root / name / "groundtruth.txt").write_text("\n".join(lines) + "\n")
    return gts


def test_multistart_test_then_eval(tmp_path):
    root = tmp_path / "vot2020"
    _vot2020(root, with_mask=True)
    argv = ["--config", "siamrpn_alex_dwxcorr", "--no-progress", "--random-weights", "--name", "alex",
            "--dataset", "VOT2020", "--dataset-root", str(root), "--output", str(tmp_path / "res"),
            "TRACK.INSTANCE_SIZE", "143"]
    assert test_cli.main(argv) == 0
    run_dir = tmp_path / "res/VOT2020/alex/multistart/ants"
    assert sorted(p.name for p in run_dir.glob("*.txt")) == ["ants_00000000.txt", "ants_00000007.txt"]
    out = tmp_path / "scores.json"
    assert eval_cli.main(["--dataset", "VOT2020", "--dataset-root", str(root), "--results", str(tmp_path / "res"),
                          "--json", str(out), "--workers", "1"]) == 0
    s = json.loads(out.read_text())["alex"]
    assert {"eao", "accuracy", "robustness"} <= set(s) and 0.0 <= s["robustness"] <= 1.0
    assert test_cli.main(argv) == 0          # resume: nothing left to run


def test_multistart_in_memory_equals_files(tmp_path):
    """The protocol's in-memory scoring (tune) equals scoring the written files (eval)."""
    from pysiam.protocols import Where
    from test_tracker_fake import FakeSiamModel
    from pysiam.config import load_config
    from pysiam.tracker import build_tracker

    root = tmp_path / "vot2020"
    _vot2020(root)
    ds = build_dataset("VOT2020", root)
    proto = get_protocol(ds.protocol)
    cfg = load_config("siamrpn_r50_l234_dwxcorr", ["DEVICE", "cpu"])
    model = FakeSiamModel()
    where = Where(tmp_path / "res", ds.name, "fake")
    mem, files = {}, {}
    for video in ds:
        res = proto.run(lambda: build_tracker(cfg, model), video, RunOptions())
        proto.write(res, video, where)
        mem[video.name] = proto.score(video, proto.scorable(res))
        files[video.name] = proto.score(video, proto.read(where, video))
    a = proto.summarize(mem, ds, ScoreOptions())
    b = proto.summarize(files, ds, ScoreOptions())
    assert a["eao"] == b["eao"] and a["accuracy"] == b["accuracy"] and a["robustness"] == b["robustness"]
