"""VOT mask lines (m<x0>,<y0>,<w>,<h>,<RLE>) and trajectory files, against hand-made and
vot-toolkit-written values (tests/data/vot_toolkit_*)."""
import json
from pathlib import Path

import numpy as np
import pytest

from pysiam.vot.regions import format_region, parse_region, read_trajectory, write_trajectory
from pysiam.vot.rle import (EMPTY_MASK_LINE, decode_mask, encode_mask, mask_to_rle, paste_mask,
                            rle_to_mask)

DATA = Path(__file__).parent / "data"


def test_runs_are_row_major_and_start_with_background():
    window = np.array([[0, 1, 1], [1, 0, 0]])
    assert mask_to_rle(window) == [1, 3, 2]               # 0 | 1 1 1 | 0 0 (row after row)
    assert mask_to_rle(np.array([[1, 1], [0, 1]])) == [0, 2, 1, 1]
    assert mask_to_rle(np.zeros((2, 3))) == [6]
    assert mask_to_rle(np.zeros((0, 0))) == [0]


def test_encode_cuts_the_tight_window_and_keeps_the_offset():
    full = np.zeros((6, 8), np.uint8)
    full[2:4, 3:6] = 255                                   # 0/255 masks count as > 0
    full[4, 3] = 1                                         # rows 111 / 111 / 100
    assert encode_mask(full) == "m3,2,3,3,0,7,2"
    assert encode_mask(full, offset=(10, 20)) == "m13,22,3,3,0,7,2"
    assert encode_mask(np.zeros((5, 5))) == EMPTY_MASK_LINE


def test_decode_round_trip_and_zero_runs():
    window, off = decode_mask("m5,6,2,2,0,2,0,0,1,1")     # zero-length runs decode to nothing
    assert off == (5, 6) and window.tolist() == [[1, 1], [0, 1]]
    rng = np.random.default_rng(3)
    for _ in range(20):
        full = (rng.random((rng.integers(1, 12), rng.integers(1, 12))) < 0.4).astype(np.uint8)
        line = encode_mask(full)
        w, o = decode_mask(line)
        assert np.array_equal(paste_mask(w, o, (full.shape[1], full.shape[0])), full)
    empty, off = decode_mask(EMPTY_MASK_LINE)
    assert empty.shape == (0, 0) and off == (0, 0)


@pytest.mark.parametrize("line, why", [("3,4,5", "start with 'm'"), ("m1,2,3", "x0,y0,w,h"),
                                        ("m0,0,2,2,3,3", "covers 6 pixels"), ("m0,0,a,2,1", "non-numeric")])
def test_bad_mask_lines(line, why):
    with pytest.raises(ValueError, match=why):
        decode_mask(line)


def test_rle_to_mask_short_runs_pad_with_background():
    assert rle_to_mask([1, 2], 2, 2).tolist() == [[0, 1], [1, 0]]


def test_toolkit_mask_strings_decode_to_their_runs():
    cases = json.loads((DATA / "vot_toolkit_overlaps.json").read_text())["cases"]
    lines = [c[k] for c in cases for k in ("a", "b") if c[k].startswith("m")]
    assert len(lines) > 50
    for line in lines:
        window, _ = decode_mask(line)
        values = [int(v) for v in line[1:].split(",")]
        assert window.shape == (values[3], values[2])
        assert mask_to_rle(window) == values[4:] or window.sum() == 0


def test_toolkit_binary_and_text_trajectories(tmp_path):
    binary = read_trajectory(DATA / "vot_toolkit_trajectory.bin")
    text = read_trajectory(DATA / "vot_toolkit_trajectory.txt")
    assert [r.kind for r in binary] == ["special", "rectangle", "polygon", "mask", "special"]
    assert [r.kind for r in text] == [r.kind for r in binary]
    assert binary[0].code == 1 and binary[4].code == 0
    assert binary[1].data.tolist() == [1.25, 2.5, 10.75, 8.0]
    assert binary[2].data.tolist() == [[0.5, 1.0], [10.0, 2.25], [8.0, 9.0], [1.0, 7.5]]
    assert binary[3].offset == (3, 4) and int(binary[3].data.sum()) == 7
    # the binary mask keeps the toolkit's window; a text line is cropped to its pixels on
    # reading (as the toolkit does): the empty first row and column go, the offset moves
    assert format_region(binary[3]) == "m3,4,5,4,6,3,2,3,1,1,4"
    assert format_region(text[3]) == "m3,5,4,3,1,3,1,4,3"
    out = write_trajectory(tmp_path / "t.txt", text)
    again = read_trajectory(out)
    assert [format_region(r) for r in again] == [format_region(r) for r in text]
    assert parse_region("nan,nan,nan,nan").kind == "special"
