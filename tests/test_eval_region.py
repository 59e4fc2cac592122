"""Rasterised region overlap (VOT): hand-derived cases and stored values of pysot's region.c."""
import json
from pathlib import Path

import numpy as np
import pytest

from pysiam.eval.region import pixel_extent, rect_to_polygon, region_overlaps

DATA = Path(__file__).parent / "data" / "eval"


def ov(a, b, bounds=None):
    return float(region_overlaps(np.array([a], float), np.array([b], float), bounds)[0])


def test_identical_and_shifted_rectangles():
    assert ov([0, 0, 10, 10], [0, 0, 10, 10]) == 1.0
    # x 0..10 and 5..15 both ends inclusive: 6 of 16 columns, all 11 rows shared
    assert ov([0, 0, 10, 10], [5, 0, 10, 10]) == pytest.approx(6 / 16, abs=1e-7)


def test_touching_boxes_are_zero_without_rasterising():
    # pixel column 10 belongs to both rasters, but the pixel bounding boxes only touch
    assert ov([0, 0, 10, 10], [10, 0, 10, 10]) == 0.0
    assert ov([0, 0, 10, 10], [30, 30, 10, 10]) == 0.0


def test_polygon_against_rectangle_by_hand():
    # diamond (5,0),(10,5),(5,10),(0,5): rows 1-4 and 6-9 fill 3,5,7,9 px, row 5 fills 11 px,
    # rows 0 and 10 meet a vertex only (a repeated crossing) and stay empty: 59 px inside 121.
    diamond = [5, 0, 10, 5, 5, 10, 0, 5]
    assert ov(diamond, [0, 0, 10, 10]) == pytest.approx(59 / 121, abs=1e-7)
    assert ov(diamond, diamond) == 1.0


def test_bounded_by_image():
    a, b = [50, 10, 20, 10], [55, 10, 10, 10]       # both cross x = 60
    assert ov(a, b) == pytest.approx(11 / 21, abs=1e-7)            # unbounded
    assert ov(a, b, (60, 100)) == pytest.approx(6 / 11, abs=1e-7)  # columns 50..60
    assert ov(a, b, (59, 100)) == pytest.approx(5 / 10, abs=1e-7)  # columns 50..59 (EAO bound)


def test_nan_and_degenerate_regions():
    assert np.isnan(ov([np.nan] * 4, [0, 0, 5, 5]))
    assert np.isnan(ov([5, 5, 0, 0], [5, 5, 0, 0]))   # both empty: 0 / 0
    assert ov([5, 5, 0, 0], [0, 0, 10, 10]) == 0.0     # no area against some area


def test_rect_to_polygon_and_extent():
    poly = rect_to_polygon(np.array([[1.0, 2.0, 3.0, 4.0]]))
    assert poly.tolist() == [[1, 2, 4, 2, 4, 6, 1, 6]]
    assert pixel_extent(np.array([[1.0, 2.0, 3.2, 4.0]])).tolist() == [[5.0, 6.0]]


def test_matches_pysot_region_c():
    ref = json.loads((DATA / "region_reference.json").read_text())["cases"]
    for bounds in ([64, 48], [63, 47], None):
        cases = [c for c in ref if c["bounds"] == bounds]
        for width in (4, 8):
            for other in (4, 8):
                sel = [c for c in cases if len(c["a"]) == width and len(c["b"]) == other]
                if not sel:
                    continue
                got = region_overlaps(np.array([c["a"] for c in sel]), np.array([c["b"] for c in sel]),
                                      None if bounds is None else tuple(bounds))
                want = np.array([np.nan if c["overlap"] is None else c["overlap"] for c in sel])
                np.testing.assert_array_equal(got, want)


def test_many_rows_are_chunked(monkeypatch):
    import pysiam.eval.region as region

    rng = np.random.default_rng(0)
    a = np.c_[rng.uniform(0, 50, (40, 2)), rng.uniform(5, 40, (40, 2))]
    b = a + rng.normal(0, 3, a.shape)
    full = region_overlaps(a, b, (100, 100))
    monkeypatch.setattr(region, "MAX_ROWS_PER_CHUNK", 50)
    np.testing.assert_array_equal(region_overlaps(a, b, (100, 100)), full)
