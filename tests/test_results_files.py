"""Result files in pysot's layouts: paths, atomic writers, tolerant readers."""
import numpy as np
import pytest

from pysiam.datasets import BenchmarkFormatError
from pysiam.results import files as R


def no_temp_files(root):
    return not [p for p in root.rglob("*") if p.name.endswith(".tmp") or ".tmp." in p.name]


def test_ope_round_trip_and_separators(tmp_path):
    boxes = [[1.5, 2.25, 30.0, 40.125], [np.nan] * 4]
    p = R.write_ope_result(tmp_path, "OTB100", "trk", "Basketball", boxes)
    assert p == tmp_path / "OTB100" / "trk" / "Basketball.txt"
    got = R.read_boxes(p)
    assert got[0].tolist() == [1.5, 2.25, 30.0, 40.125] and np.isnan(got[1]).all()
    p.write_text("1\t2\t3\t4\n5 6 7 8\n9,10,11,12\n\n")
    assert R.read_boxes(p).tolist() == [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12]]
    p.write_text("1,2,3\n")
    with pytest.raises(BenchmarkFormatError, match="Basketball.txt:1: 3 values, expected 4"):
        R.read_boxes(p)
    assert no_temp_files(tmp_path)


def test_find_ope_result_spellings(tmp_path):
    (tmp_path / "jogging_1.txt").write_text("1,2,3,4\n")
    assert R.find_ope_result(tmp_path, "Jogging-1").name == "jogging_1.txt"
    with pytest.raises(FileNotFoundError, match="Woman.txt"):
        R.find_ope_result(tmp_path, "Woman")


def test_vot_records(tmp_path):
    recs = [1, [1.0, 2, 3, 4], 2, 0, 0, 0, 0, 1, [1.0, 2, 3, 2, 3, 4, 1, 4]]
    p = R.write_vot_result(tmp_path, "VOT2018", "trk", "ants", recs)
    assert p == tmp_path / "VOT2018" / "trk" / "baseline" / "ants" / "ants_001.txt"
    assert p.read_text().splitlines()[:3] == ["1", "1.0000,2.0000,3.0000,4.0000", "2"]
    codes, regions = R.read_vot_records(p)
    assert codes.tolist() == [1, -1, 2, 0, 0, 0, 0, 1, -1]
    # mixed rectangles and polygons: rectangles become 4-point polygons
    assert regions.shape == (9, 8) and regions[1].tolist() == [1, 2, 4, 2, 4, 6, 1, 6]
    assert R.find_run_files(p.parent, "ants") == [p]
    p.write_text("1\n3\n")
    with pytest.raises(BenchmarkFormatError, match="ants_001.txt:2: special code 3"):
        R.read_vot_records(p)
    p.write_text("1\n1,2,3,4,5\n")
    with pytest.raises(BenchmarkFormatError, match="ants_001.txt:2: 5 values"):
        R.read_vot_records(p)


def test_longterm_and_got10k_and_davis_writers(tmp_path):
    p = R.write_longterm_result(tmp_path, "VOT2018-LT", "trk", "car1", [None, [1, 2, 3, 4]], [None, 0.75],
                                times=[0.1, 0.2])
    box, conf, times = R.longterm_result_paths(tmp_path, "VOT2018-LT", "trk", "car1")
    assert p == box and box.read_text() == "1\n1.0,2.0,3.0,4.0\n"
    assert conf.read_text() == "\n0.750000\n" and times.is_file()
    c = R.read_confidences(conf, 3)
    assert np.isnan(c[0]) and c[1] == 0.75 and np.isnan(c[2])
    g = R.write_got10k_result(tmp_path, "GOT-10k", "trk", "GOT-10k_Val_000001", [[1, 2, 3, 4]], times=[0.5])
    assert g.name == "GOT-10k_Val_000001_001.txt" and (g.parent / "GOT-10k_Val_000001_time.txt").is_file()
    m = R.write_davis_mask(tmp_path, "trk", "dog", "00001", np.array([[0, 1], [2, 0]], np.uint8))
    assert m == tmp_path / "trk" / "dog" / "00001.png"
    from pysiam.datasets.masks import read_label_png
    assert read_label_png(m).tolist() == [[0, 1], [2, 0]]
    assert R.list_trackers(tmp_path, "VOT2018-LT") == ["trk"]
    assert no_temp_files(tmp_path)
