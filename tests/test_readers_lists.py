"""Shared reader helpers: sequence lists of VOT / GOT-10k / LaSOT and the multi-level RPN fusion."""
import re

import numpy as np
import pytest
import torch

from pysiam.datasets import testing as T
from pysiam.datasets.sot_readers import read_got10k, read_sequence_list
from pysiam.datasets.vot_readers import read_vot
from pysiam.models.head.rpn import MultiRPN


def test_sequence_list_strips_blank_lines(tmp_path):
    path = tmp_path / "list.txt"
    path.write_text("  ants \n\nbag\n   \n")
    assert read_sequence_list(path) == ["ants", "bag"]
    with pytest.raises(FileNotFoundError, match=re.escape(f"VOT sequence list not found: {tmp_path / 'no.txt'}")):
        read_sequence_list(tmp_path / "no.txt", "VOT")


def test_missing_lists_name_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=re.escape(f"VOT sequence list not found: {tmp_path / 'list.txt'}")):
        read_vot(tmp_path)
    with pytest.raises(FileNotFoundError, match=re.escape(
            f"GOT-10k sequence list not found: {tmp_path / 'val' / 'list.txt'}")):
        read_got10k(tmp_path)


def test_lists_with_blank_lines_read_every_sequence(tmp_path):
    gts = T.make_vot(tmp_path / "vot", videos={"ants": 6, "bag": 5})
    (tmp_path / "vot" / "list.txt").write_text("\nants\n  \nbag  \n")
    videos = read_vot(tmp_path / "vot")
    assert list(videos) == ["ants", "bag"] and len(videos["bag"]) == 5
    assert videos["bag"].img_paths[0].endswith("bag/color/00000001.jpg")
    np.testing.assert_allclose(videos["ants"].gt, gts["ants"])
    T.make_got10k(tmp_path / "got", videos={"G1": 4, "G2": 3})
    (tmp_path / "got" / "val" / "list.txt").write_text("G2\n\nG1\n")
    assert list(read_got10k(tmp_path / "got")) == ["G2", "G1"]


@pytest.mark.parametrize("weighted", [False, True])
def test_multi_rpn_fuses_levels(weighted):
    torch.manual_seed(0)
    head = MultiRPN(anchor_num=1, in_channels=(4, 4), weighted=weighted).eval()
    assert [n for n, _ in head.named_children()] == ["rpn2", "rpn3"]
    zs, xs = [torch.randn(1, 4, 5, 5) for _ in range(2)], [torch.randn(1, 4, 9, 9) for _ in range(2)]
    with torch.no_grad():
        if weighted:
            head.cls_weight.copy_(torch.tensor([0.0, 1.0]))
        per_level = [head.rpn2(zs[0], xs[0]), head.rpn3(zs[1], xs[1])]
        cls, loc = head(zs, xs)
    w = torch.softmax(torch.tensor([0.0, 1.0]), 0) if weighted else torch.tensor([0.5, 0.5])
    torch.testing.assert_close(cls, w[0] * per_level[0][0] + w[1] * per_level[1][0])
    torch.testing.assert_close(loc, (per_level[0][1] + per_level[1][1]) / 2)
    with pytest.raises(ValueError, match="MultiRPN expects 2 feature levels, got 1"):
        head(zs[:1], xs)
