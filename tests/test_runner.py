"""tools/test.py protocols (OPE, VOT reset, long-term, VOS) and test.py -> eval.py end to end."""
import json

import numpy as np
import pytest

from pysiam.datasets import build_dataset, testing
from pysiam.results.files import read_vot_records
from pysiam.datasets.video import Video
from pysiam.cli import eval as eval_cli
from pysiam.cli import test as test_cli
from pysiam.runner import protocols as P


class ScriptedTracker:
    """Returns the ground truth box, except a far-away box on the listed frames.

    The frame index is read from the frame's first pixel (see `_video`).
    """

    def __init__(self, gt_boxes, fail_at=()):
        self.gt, self.fail_at, self.inits = gt_boxes, set(fail_at), []

    def init(self, img, bbox):
        self.inits.append((int(img[0, 0, 0]), list(bbox)))

    def track(self, img):
        i = int(img[0, 0, 0])
        box = [1000.0, 1000.0, 5.0, 5.0] if i in self.fail_at else list(self.gt[i])
        return {"bbox": box, "best_score": 0.5 + 0.01 * i}


def _video(n=20, size=(64, 48)):
    gt = np.tile(np.array([[10.0, 12.0, 20.0, 16.0]]), (n, 1))
    gt[:, 0] += np.arange(n)
    v = Video("toy", [], gt)
    frames = [np.zeros((size[1], size[0], 3), np.uint8) for _ in range(n)]
    for i, f in enumerate(frames):
        f[0, 0, 0] = i
    return v, frames


def test_ope_init_box_and_outputs():
    v, frames = _video(5)
    trk = ScriptedTracker(v.gt)
    res = P.run_ope(trk, v, frames=iter(frames))
    # pysot: x = cx - (w - 1) / 2 with cx = x + w / 2 -> x + 0.5
    assert res.boxes[0] == [10.5, 12.5, 20.0, 16.0]
    assert trk.inits == [(0, [10.5, 12.5, 20.0, 16.0])]
    assert res.boxes[3] == list(v.gt[3]) and res.scores[0] is None and res.scores[2] == 0.52
    assert len(res.times) == 5


def test_vot_reset_protocol_codes():
    v, frames = _video(20)
    trk = ScriptedTracker(v.gt, fail_at={4, 15})
    res = P.run_vot(trk, v, frames=iter(frames))
    codes = [r if isinstance(r, int) else "box" for r in res.records]
    # init 0; fail at 4 -> skip 5..8, re-init at 9; fail at 15 -> skip 16..19
    assert codes == [1, "box", "box", "box", 2, 0, 0, 0, 0, 1, "box", "box", "box", "box", "box",
                     2, 0, 0, 0, 0]
    assert res.failures == 2
    # re-initialisation at frame 9 from that frame's ground truth: box 19,12,20,16 -> corners
    # 19..38 x 12..27 -> cx 28.5, w = 19 + 1 = 20 -> x = cx - (w - 1) / 2 = 19 (the box itself)
    assert [i for i, _ in trk.inits] == [0, 9]
    assert trk.inits[1][1] == pytest.approx([19.0, 12.0, 20.0, 16.0])


def test_vot_region_of_a_box_uses_inclusive_corners():
    assert P.vot_region([10, 20, 5, 4]).tolist() == [10, 20, 10, 23, 14, 23, 14, 20]


def test_vos_merges_objects_by_score():
    class Const:
        def __init__(self, value):
            self.value = value

        def init(self, img, bbox):
            self.box = bbox

        def track(self, img):
            return {"mask": self.value.copy(), "bbox": self.box, "best_score": 1.0}

    first = np.zeros((4, 6), np.uint8)
    first[0:2, 0:2] = 1
    first[2:4, 3:6] = 2
    v = Video("v", [], None, mask_paths=["x"])
    v.read_mask = lambda i: first
    frames = [np.zeros((4, 6, 3), np.uint8)] * 2
    v.frames = lambda: iter(frames)
    p1 = np.full((4, 6), 0.6, np.float32)
    p2 = np.full((4, 6), 0.2, np.float32)
    p2[:, 5] = 0.9
    made = iter([Const(p1), Const(p2)])
    res = P.run_vos(lambda: next(made), v, threshold=0.5)
    assert res.labels[0].tolist() == first.tolist()       # first frame: the annotation itself
    expect = np.ones((4, 6), np.uint8)
    expect[:, 5] = 2
    assert res.labels[1].tolist() == expect.tolist()


ALEX = ["--config", "siamrpn_alex_dwxcorr", "--no-progress", "--random-weights", "--name", "siamrpn_alex_dwxcorr"]


def _eval(tmp_path, name, root, extra=()):
    out = tmp_path / f"{name}.json"
    eval_cli.main(["--dataset", name, "--dataset-root", str(root), "--results", str(tmp_path / "res"),
                   "--json", str(out), "--workers", "1", *extra])
    return json.loads(out.read_text())


@pytest.mark.parametrize("layout", ["native", "json"])
def test_test_then_eval_otb_layout(tmp_path, layout):
    root = tmp_path / "otb"
    testing.make_otb_like(root, videos={"Alpha": 6, "Beta": 5}, layout=layout)
    argv = ALEX + ["--dataset", "OTB100", "--dataset-root", str(root), "--output", str(tmp_path / "res")]
    assert test_cli.main(argv) == 0
    res = tmp_path / "res" / "OTB100" / "siamrpn_alex_dwxcorr"
    lines = (res / "Alpha.txt").read_text().splitlines()
    assert len(lines) == 6
    scores = _eval(tmp_path, "OTB100", root)
    s = scores["siamrpn_alex_dwxcorr"]
    assert 0.0 <= s["success_auc"] <= 1.0 and "precision" in s
    # resume: a finished video is not run again (its file is left untouched)
    (res / "Alpha.txt").write_text("\n".join(lines) + "\n")
    mtime = (res / "Alpha.txt").stat().st_mtime_ns
    assert test_cli.main(argv) == 0
    assert (res / "Alpha.txt").stat().st_mtime_ns == mtime


def test_test_then_eval_vot_and_longterm(tmp_path):
    vot = tmp_path / "vot"
    testing.make_vot(vot, videos={"ants": 8, "bag": 6})
    assert test_cli.main(ALEX + ["--dataset", "VOT2018", "--dataset-root", str(vot),
                                 "--output", str(tmp_path / "res")]) == 0
    codes, _ = read_vot_records(tmp_path / "res/VOT2018/siamrpn_alex_dwxcorr/baseline/ants/ants_001.txt")
    assert len(codes) == 8 and codes[0] == 1
    s = _eval(tmp_path, "VOT2018", vot)["siamrpn_alex_dwxcorr"]
    assert {"accuracy", "robustness", "eao"} <= set(s)

    lt = tmp_path / "lt"
    testing.make_vot_lt(lt, videos={"car1": 8})
    assert test_cli.main(ALEX + ["--dataset", "VOT2018-LT", "--dataset-root", str(lt),
                                 "--output", str(tmp_path / "res")]) == 0
    d = tmp_path / "res/VOT2018-LT/siamrpn_alex_dwxcorr/longterm/car1"
    assert (d / "car1_001.txt").read_text().splitlines()[0] == "1"
    conf = (d / "car1_001_confidence.value").read_text().split("\n")
    assert conf[0] == "" and len(conf) == 9 and float(conf[1]) > 0
    assert {"precision", "recall", "f_score"} <= set(_eval(tmp_path, "VOT2018-LT", lt)["siamrpn_alex_dwxcorr"])


def test_test_then_eval_got10k_with_shards(tmp_path):
    root = tmp_path / "got"
    testing.make_got10k(root, videos={"GOT-10k_Val_000001": 5, "GOT-10k_Val_000002": 4})
    for shard in ("0/2", "1/2"):
        assert test_cli.main(ALEX + ["--dataset", "GOT-10k", "--dataset-root", str(root / "val"),
                                     "--output", str(tmp_path / "res"), "--shard", shard]) == 0
    base = tmp_path / "res/GOT-10k/siamrpn_alex_dwxcorr"
    assert sorted(p.name for p in base.iterdir()) == ["GOT-10k_Val_000001", "GOT-10k_Val_000002", "run.json"]
    s = _eval(tmp_path, "GOT-10k", root / "val")["siamrpn_alex_dwxcorr"]
    assert 0.0 <= s["ao"] <= 1.0


def test_test_then_eval_davis(tmp_path):
    root = tmp_path / "davis"
    testing.make_davis(root, year=2017, videos={"dog": 3}, objects=2)
    argv = ["--config", "siammask_r50_l3", "--no-progress", "--random-weights", "--name", "siammask_r50_l3",
            "--dataset", "DAVIS2017",
            "--dataset-root", str(root), "--output", str(tmp_path / "res")]
    assert test_cli.main(argv) == 0
    out = tmp_path / "res/DAVIS2017/siammask_r50_l3/dog"
    pngs = sorted(p.name for p in out.iterdir() if p.suffix == ".png")
    assert pngs == ["00000.png", "00001.png", "00002.png"]
    ds = build_dataset("DAVIS2017", root)
    first = ds["dog"].read_mask(0)
    from pysiam.datasets.masks import read_label_png
    assert (read_label_png(out / "00000.png") == first).all()
    s = _eval(tmp_path, "DAVIS2017", root)["siammask_r50_l3"]
    assert {"J_mean", "F_mean", "JF_mean"} <= set(s)


def test_clear_errors(tmp_path, capsys):
    assert test_cli.main(ALEX + ["--dataset", "NOPE", "--dataset-root", str(tmp_path)]) == 2
    assert "unknown dataset" in capsys.readouterr().err
    root = tmp_path / "otb"
    testing.make_otb_like(root, videos={"Alpha": 3})
    assert test_cli.main(["--config", "siamrpn_alex_dwxcorr", "--dataset", "DAVIS2016",
                          "--dataset-root", str(root)]) == 2
    with pytest.raises(ValueError, match="i/N"):
        test_cli.parse_shard("3")
