"""Bad input a new user meets must fail loudly, on one line, naming the file / line / key / frame."""
import logging
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from pysiam.cli.common import guarded
from pysiam.cli.eval import main as eval_main
from pysiam.datasets import BenchmarkFormatError, build_dataset
from pysiam.datasets import testing as T
from pysiam.datasets.video import Video, truncated_image
from pysiam.results import files as R
from pysiam.tracker.checks import check_init_box

REPO = Path(__file__).resolve().parent.parent


def _eval(capsys, *args):
    rc = eval_main([str(a) for a in args] + ["--workers", "1"])
    err = capsys.readouterr().err.strip()
    return rc, err


# -- 1. every tool script passes main()'s exit status on ------------------------------------------
def test_every_tool_script_exits_with_mains_status():
    scripts = sorted((REPO / "tools").glob("*.py"))
    assert len(scripts) >= 10
    for script in scripts:
        assert "sys.exit(main())" in script.read_text(), script.name


def test_tools_eval_exits_2_on_a_user_error(tmp_path):
    proc = subprocess.run([sys.executable, str(REPO / "tools" / "eval.py"), "--dataset", "OTB100",
                           "--dataset-root", str(tmp_path / "nowhere"), "--results", str(tmp_path)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [f"eval: error: dataset root not found: {tmp_path / 'nowhere'}"]


# -- 2. unknown KWARGS name the config key ---------------------------------------------------------
def test_unknown_kwargs_name_the_config_key_path():
    from pysiam.config import load_config
    from pysiam.models import build_model
    from pysiam.models.head import build_mask_head, build_rpn_head
    from pysiam.models.neck import build_neck

    cfg = load_config("siamrpn_r50_l234_dwxcorr", ["BACKBONE.KWARGS.foo", "1"])
    with pytest.raises(ValueError, match=r"^BACKBONE\.KWARGS: unknown keyword 'foo' for backbone resnet50 "):
        build_model(cfg)
    with pytest.raises(ValueError, match=r"^ADJUST\.KWARGS: unknown keyword 'bar' for neck AdjustAllLayer"):
        build_neck("AdjustAllLayer", in_channels=[8], out_channels=[4], bar=2)
    with pytest.raises(ValueError, match=r"^RPN\.KWARGS: unknown keyword 'anchors' for RPN head DepthwiseRPN"):
        build_rpn_head("DepthwiseRPN", anchors=5)
    with pytest.raises(ValueError, match=r"^MASK\.KWARGS: unknown keyword 'x' for mask head MaskCorr"):
        build_mask_head("MaskCorr", x=1)
    code, _ = guarded("test", lambda: build_model(cfg))
    assert code == 2


# -- 3. NaN / inf weights --------------------------------------------------------------------------
def test_nan_weights_are_an_error_naming_file_and_key(tmp_path):
    from pysiam.models.checkpoint import CheckpointError, check_finite_state, load_checkpoint, save_checkpoint

    model = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.BatchNorm1d(2))
    state = {k: v.clone() for k, v in model.state_dict().items()}
    state["1.running_var"][1] = float("inf")
    state["0.weight"][0, 2] = float("nan")
    path = save_checkpoint(tmp_path / "bad.pth", state)
    with pytest.raises(CheckpointError, match=re.escape(f"{path}: weight 0.weight holds 1 NaN/inf value(s) of 6")):
        load_checkpoint(model, path)
    assert torch.isfinite(model[0].weight).all()               # nothing was loaded
    with pytest.raises(ValueError, match=r"x\.pth: weight b holds 2 NaN/inf"):
        check_finite_state({"a": torch.ones(2), "b": torch.tensor([1.0, np.inf, -np.inf]),
                            "n": torch.tensor(3)}, "x.pth")
    check_finite_state({"m": torch.empty(3, device="meta"), "i": torch.tensor([7])}, "ok.pth")
    good = save_checkpoint(tmp_path / "good.pth", model)
    assert load_checkpoint(model, good).complete


# -- 4. dataset readers and the init box -----------------------------------------------------------
def test_nan_on_the_init_ground_truth_line(tmp_path):
    T.make_otb_like(tmp_path / "otb", videos={"Alpha": 5})
    gt_path = tmp_path / "otb" / "Alpha" / "groundtruth_rect.txt"
    lines = gt_path.read_text().splitlines()
    gt_path.write_text("\n".join(["nan,nan,nan,nan"] + lines[1:]) + "\n")
    with pytest.raises(BenchmarkFormatError, match=re.escape(f"{gt_path}:1: the first ground-truth line")):
        build_dataset("OTB100", tmp_path / "otb")
    gt_path.write_text("\n".join(["3,4,0,5"] + lines[1:]) + "\n")
    with pytest.raises(BenchmarkFormatError,
                       match=re.escape(f"{gt_path}:1: the first ground-truth box 3,4,0,5 has no area")):
        build_dataset("OTB100", tmp_path / "otb")
    with pytest.raises(ValueError, match="video v: the first ground-truth row"):
        Video("v", ["a.jpg"], np.full((1, 4), np.nan))


def test_nan_init_in_a_pysot_json(tmp_path):
    import json

    T.make_otb_like(tmp_path, videos={"Alpha": 4}, layout="json", frames=False)
    meta = json.loads((tmp_path / "OTB100.json").read_text())
    meta["Alpha"]["init_rect"] = [float("nan")] * 4
    (tmp_path / "OTB100.json").write_text(json.dumps(meta))
    with pytest.raises(BenchmarkFormatError, match=r"OTB100\.json: video 'Alpha' init_rect: the first"):
        build_dataset("OTB100", tmp_path)


@pytest.mark.parametrize("kind", ["vot", "otb"])
def test_ground_truth_shorter_than_the_frame_folder(tmp_path, kind):
    if kind == "vot":
        T.make_vot(tmp_path, videos={"ants": 8})
        gt_path, name = tmp_path / "ants" / "groundtruth.txt", "VOT2018"
    else:
        T.make_otb_like(tmp_path, videos={"Alpha": 8})
        gt_path, name = tmp_path / "Alpha" / "groundtruth_rect.txt", "OTB100"
    assert len(build_dataset(name, tmp_path)[0]) == 8
    gt_path.write_text("\n".join(gt_path.read_text().splitlines()[:6]) + "\n")
    with pytest.raises(BenchmarkFormatError, match=re.escape(f"{gt_path}: the ground truth ends at frame 6 but")
                       + r".* has 2 more frame\(s\) \(up to 0*8\.jpg\)"):
        build_dataset(name, tmp_path)


def test_empty_first_davis_mask(tmp_path):
    from pysiam.datasets.masks import write_label_png

    T.make_davis(tmp_path, videos={"dog": 3, "cat": 3})
    assert len(build_dataset("DAVIS2017", tmp_path)) == 2
    first = tmp_path / "Annotations" / "480p" / "dog" / "00000.png"
    write_label_png(first, np.zeros((30, 40), np.uint8))
    with pytest.raises(BenchmarkFormatError,
                       match=re.escape(f"{first}: the first annotation mask (frame 0 of dog) has no object")):
        build_dataset("DAVIS2017", tmp_path)


def test_truncated_jpeg_names_the_file_and_frame(tmp_path):
    import cv2

    rng = np.random.default_rng(0)
    paths = []
    for i in range(2):
        p = tmp_path / f"{i + 1:04d}.jpg"
        cv2.imwrite(str(p), rng.integers(0, 255, (48, 64, 3), dtype=np.uint8))
        paths.append(p)
    data = paths[1].read_bytes()
    paths[1].write_bytes(data[: len(data) // 2])
    assert cv2.imread(str(paths[1])) is not None          # OpenCV decodes half a frame silently
    video = Video("v", paths, np.array([[1, 1, 5, 5]] * 2))
    assert video.read_frame(0).shape == (48, 64, 3)
    with pytest.raises(OSError, match=re.escape(f"video v: frame 1 is a truncated JPEG ({len(data) // 2} bytes, "
                                                f"no end-of-image marker FFD9): {paths[1]}")):
        video.read_frame(1)
    paths[0].write_bytes(paths[0].read_bytes() + b"\x00" * 16)   # zero padding after FFD9 is fine
    assert truncated_image(paths[0]) == ""


def test_check_init_box():
    assert check_init_box([292, 128, 146, 132], (480, 360)) == (292.0, 128.0, 146.0, 132.0)
    assert check_init_box([-20, -10, 30, 20], (480, 360))[0] == -20.0          # partly inside
    with pytest.raises(ValueError,
                       match=r"init box 290,-200,70,120 \(x,y,w,h\) on a 480x360 image: the box lies outside"):
        check_init_box([290, -200, 70, 120], (480, 360))
    with pytest.raises(ValueError, match=r"init box 10,10,5000,100 .* over 10x the image size"):
        check_init_box([10, 10, 5000, 100], (480, 360))
    with pytest.raises(ValueError, match="need 4 finite numbers"):
        check_init_box([np.nan, 1, 2, 3], (480, 360))
    with pytest.raises(ValueError, match="width and height must be > 0"):
        check_init_box([1, 1, 0, 3], (480, 360))


# -- 5. result files cut at a line boundary --------------------------------------------------------
def test_cut_result_files_are_an_error(tmp_path):
    path = R.write_vot_result(tmp_path, "VOT2018", "T", "ants", [1] + [[1, 2, 3, 4]] * 5 + [2, 0, 0])
    codes, _ = R.read_vot_records(path, frames=9)
    assert codes.tolist() == [1, -1, -1, -1, -1, -1, 2, 0, 0]
    path.write_text("".join(path.read_text().splitlines(keepends=True)[:6]))
    assert len(R.read_vot_records(path)[0]) == 6                # unchecked: silently shorter
    with pytest.raises(BenchmarkFormatError,
                       match=re.escape(f"{path}: 6 line(s) for a video of 9 frames: the result file is cut short")):
        R.read_vot_records(path, frames=9)
    ope = R.write_ope_result(tmp_path, "OTB100", "T", "Alpha", [[1, 2, 3, 4]] * 3)
    assert R.read_boxes(ope, frames=3).shape == (3, 4)
    with pytest.raises(BenchmarkFormatError, match=r"Alpha\.txt: 3 line\(s\) for a video of 4 frames"):
        R.read_boxes(ope, frames=4)
    with pytest.raises(BenchmarkFormatError, match="longer than the video"):
        R.read_boxes(ope, frames=2)


# -- 6. a dataset root in another benchmark's layout -----------------------------------------------
def test_no_videos_in_the_expected_layout(tmp_path, capsys):
    T.make_vot(tmp_path / "vot", videos={"ants": 4}, frames=False)
    with pytest.raises(FileNotFoundError, match=r"OTB100: no videos found in .*vot \(nothing in the OTB100 "
                                                r"layout\); expected OTB: <root>/<Seq>/img/0001\.jpg"):
        build_dataset("OTB100", tmp_path / "vot")
    rc, err = _eval(capsys, "--dataset", "OTB100", "--dataset-root", tmp_path / "vot", "--results", tmp_path)
    assert rc == 2 and len(err.splitlines()) == 1 and "no videos found" in err


# -- 7. eval pointed at a dataset folder -----------------------------------------------------------
def test_results_folder_that_is_a_dataset(tmp_path, capsys):
    T.make_otb_like(tmp_path / "otb", videos={"Alpha": 4, "Beta": 4})
    T.make_vot(tmp_path / "vot", videos={"ants": 4})
    rc, err = _eval(capsys, "--dataset", "OTB100", "--dataset-root", tmp_path / "otb", "--results", tmp_path / "otb")
    assert rc == 2 and len(err.splitlines()) == 1
    assert "looks like a dataset, not a results folder" in err and "it has a img/ folder" in err
    assert R.looks_like_dataset_folder(tmp_path / "vot" / "ants") == "it has a color/ folder"
    T.make_got10k(tmp_path / "got", videos={"GOT-10k_Val_000001": 3})
    assert R.looks_like_dataset_folder(tmp_path / "got" / "val" / "GOT-10k_Val_000001") == "it has groundtruth.txt" \
        or "image frames" in R.looks_like_dataset_folder(tmp_path / "got" / "val" / "GOT-10k_Val_000001")
    R.write_ope_result(tmp_path / "res", "OTB100", "Mine", "Alpha", [[1, 2, 3, 4]] * 4)
    R.write_vot_result(tmp_path / "res", "VOT2018", "Mine", "ants", [1, 0, 0, 0])
    assert R.looks_like_dataset_folder(tmp_path / "res" / "OTB100" / "Mine") == ""
    assert R.looks_like_dataset_folder(tmp_path / "res" / "VOT2018" / "Mine") == ""
    assert R.list_trackers(tmp_path / "res", "OTB100") == ["Mine"]
    with pytest.raises(ValueError, match=r"res/OTB100 is named like the benchmark OTB100, not like a tracker"):
        R.list_trackers(tmp_path / "res")


# -- 9. a validation split that holds nothing out --------------------------------------------------
def test_val_fraction_must_hold_a_video_out():
    from pysiam.tune.split import select_videos

    with pytest.raises(ValueError, match=r"--val-fraction 0\.5 of a 1-video set holds no video out"):
        select_videos(["bag"], fraction=0.5)
    chosen, text = select_videos(["a", "b", "c"], fraction=0.9)
    assert len(chosen) == 2 and text == "validation split: 2 of 3 video(s) drawn with seed 0"
    assert select_videos(["a", "b"], val_videos=["a", "b"]) == (["a", "b"], "")   # no split: warned
    assert select_videos(["a"], fraction=1.0) == (["a"], "")
    assert select_videos(["a", "b"], val_videos=["b"])[1] == "validation split: 1 named video(s)"


def test_tune_cli_refuses_a_split_of_one_video(tmp_path, capsys):
    from pysiam.cli.tune import main as tune_main

    T.make_otb_like(tmp_path / "otb", videos={"Alpha": 4}, layout="json", frames=False)
    rc = tune_main(["--config", "siamrpn_alex_dwxcorr", "--dataset", "OTB100", "--dataset-root",
                    str(tmp_path / "otb"), "--val-fraction", "0.5", "--output", str(tmp_path / "out")])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and err[-1].startswith("tune: error: --val-fraction 0.5 of a 1-video set holds no video out")
    assert not (tmp_path / "out" / "heldout.txt").exists()


# -- 10. EAO on sequences shorter than the EAO interval --------------------------------------------
def test_eao_warns_when_sequences_are_shorter_than_the_interval(caplog):
    from pysiam.eval.vot import vot_summary, vot_video_scores

    rng = np.random.default_rng(1)
    gt = T.rotated_polygons(T.random_boxes(30, (64, 48), rng), rng)
    codes = np.full(30, -1)
    codes[0] = 1
    per_video = {"bag": vot_video_scores([(codes, gt.copy())], gt, (64, 48), {})}
    with caplog.at_level(logging.WARNING, logger="pysiam.eval.vot"):
        out = vot_summary(per_video, (20, 60))
    assert out["eao_warning"].startswith("EAO interval 20..60 reaches past the longest sequence (30 frames)")
    assert any("reaches past the longest sequence" in r.message for r in caplog.records)
    assert np.isfinite(out["eao"])                    # a number is given, but with the warning
    assert vot_summary(per_video, (100, 356))["eao_warning"]
    assert "eao_warning" not in vot_summary(per_video, (2, 8))


# -- 11. plots: legend outside the axes, video counts, labelled EAO bars ---------------------------
def _captured_plots(monkeypatch):
    from pysiam.eval import plots

    figs = {}
    monkeypatch.setattr(plots, "_save", lambda fig, path: figs.setdefault(path.name, fig) and path)
    return plots, figs


def test_plots_legend_titles_and_bar_labels(monkeypatch, tmp_path):
    from pysiam.eval.ope import NORM_PRECISION_THRESHOLDS, PRECISION_THRESHOLDS, SUCCESS_THRESHOLDS

    plots, figs = _captured_plots(monkeypatch)
    ope = {f"T{i}": {"success_auc": 0.1 * i, "success_curve": [0.1 * i] * len(SUCCESS_THRESHOLDS),
                     "precision": 0.1 * i, "precision_curve": [0.1 * i] * len(PRECISION_THRESHOLDS),
                     "norm_precision": 0.1, "norm_precision_curve": [0.1] * len(NORM_PRECISION_THRESHOLDS),
                     "num_videos": 3, "per_attribute": {}} for i in range(1, 6)}
    plots.plot_results(ope, "ope", "OTB100", tmp_path)
    fig = figs["success_OTB100.png"]
    fig.canvas.draw()
    ax = fig.axes[0]
    assert ax.get_title() == "Success plots of OPE on OTB100 (3 videos)"
    legend, frame = ax.get_legend().get_window_extent(), ax.get_window_extent()
    assert legend.y1 <= frame.y0                                   # below the axes, not over low curves
    vot = {"A": {"eao": 0.4123, "eao_curve": [1.0, 0.5, 0.4], "eao_interval": [1, 2], "num_videos": 2},
           "B": {"eao": 0.2, "eao_curve": [1.0, 0.3, 0.2], "eao_interval": [1, 2], "num_videos": 2}}
    plots.plot_results(vot, "vot", "VOT2018", tmp_path)
    bars = figs["eao_VOT2018.png"].axes[0]
    assert sorted(t.get_text() for t in bars.texts) == ["0.200", "0.412"]
    assert bars.get_title() == "EAO ranking on VOT2018 (2 videos)"


# -- real sequences pass the new checks; the README's demo box is bag's first box -----------------
def test_real_sequences_pass_the_reader_checks(shared_data, tmp_path):
    (tmp_path / "bag").symlink_to(shared_data / "VOT" / "bag")
    (tmp_path / "list.txt").write_text("bag\n")
    bag = build_dataset("VOT2018", tmp_path)["bag"]
    assert len(bag) == 196 and truncated_image(bag.img_paths[-1]) == ""
    assert np.allclose(bag.init_rect, [292, 128, 146, 132], atol=0.5)       # README: --init 292,128,146,132
    assert "--init 292,128,146,132" in (REPO / "README.md").read_text()
    assert check_init_box(bag.init_rect, bag.image_size)[2] == pytest.approx(145.96)
    assert len(build_dataset("OTB100", shared_data / "OTB100")["Crossing"]) == 120
    assert len(build_dataset("DAVIS2017", shared_data / "DAVIS")) == 3
