"""Training losses on hand-computed values."""
import math

import pytest
import torch

from pysiam.config import get_cfg
from pysiam.training.forward import mask_windows_at
from pysiam.training.losses import (log_softmax_cls, loss_weights, mask_iou_stats, mask_soft_margin,
                                    select_cross_entropy, total_loss, weighted_l1)


def test_log_softmax_cls_is_class_major():
    # B=1, A=2, 1x1 map: channels [bg a0, bg a1, fg a0, fg a1]
    cls = torch.tensor([0.0, 1.0, math.log(3.0), 1.0]).view(1, 4, 1, 1)
    lp = log_softmax_cls(cls)
    assert lp.shape == (1, 2, 1, 1, 2)
    assert torch.allclose(lp[0, 0, 0, 0].exp(), torch.tensor([0.25, 0.75]))
    assert torch.allclose(lp[0, 1, 0, 0].exp(), torch.tensor([0.5, 0.5]))


def test_select_cross_entropy_balances_positives_and_negatives():
    p = torch.tensor([[0.2, 0.8], [0.6, 0.4], [0.9, 0.1], [0.5, 0.5]])
    labels = torch.tensor([1, 1, 0, -1])
    got = select_cross_entropy(p.log(), labels)
    want = 0.5 * (-(math.log(0.8) + math.log(0.4)) / 2) + 0.5 * (-math.log(0.9))
    assert got.item() == pytest.approx(want, rel=1e-6)
    # no positives: only the negative half counts, and the graph stays differentiable
    lp = p.log().requires_grad_()
    only_neg = select_cross_entropy(lp, torch.tensor([-1, -1, 0, -1]))
    assert only_neg.item() == pytest.approx(-0.5 * math.log(0.9), rel=1e-6)
    only_neg.backward()
    assert lp.grad is not None


def test_weighted_l1_hand_computed():
    b, a, h, w = 2, 1, 1, 2
    pred = torch.zeros(b, 4 * a, h, w)
    label = torch.zeros(b, 4, a, h, w)
    label[0, :, 0, 0, 0] = torch.tensor([1.0, -2.0, 0.5, 0.5])   # |.| sum = 4
    label[1, :, 0, 0, 1] = torch.tensor([0.0, 0.0, 3.0, 0.0])    # 3
    weight = torch.zeros(b, a, h, w)
    weight[0, 0, 0, 0] = 0.5
    weight[1, 0, 0, 1] = 1.0
    assert weighted_l1(pred, label, weight).item() == pytest.approx((4 * 0.5 + 3 * 1.0) / 2)


def test_mask_soft_margin_known_values():
    pred = torch.tensor([[0.0, 2.0], [-1.0, 3.0]])
    label = torch.tensor([[1.0, -1.0], [-1.0, 0.0]])
    want = (math.log(2) + math.log(1 + math.exp(2)) + math.log(1 + math.exp(-1)) + math.log(2)) / 4
    assert mask_soft_margin(pred, label).item() == pytest.approx(want, rel=1e-6)
    empty = torch.zeros(0, 4, requires_grad=True)
    assert mask_soft_margin(empty, torch.zeros(0, 4)).item() == 0.0


def test_mask_iou_stats():
    pred = torch.tensor([[1.0, 1.0, -1.0, -1.0], [1.0, -1.0, -1.0, -1.0]])
    label = torch.tensor([[1.0, 1.0, 1.0, -1.0], [1.0, -1.0, -1.0, -1.0]])
    s = mask_iou_stats(pred, label)
    assert s["mask_iou"].item() == pytest.approx((2 / 3 + 1) / 2)
    assert s["mask_iou_at_5"].item() == 1.0 and s["mask_iou_at_7"].item() == 0.5


def test_mask_windows_at_siammask_geometry():
    # 255 search, 25x25 grid, 127 windows: window (r, c) starts at 8 * (r - 4) (SiamMask pads 32)
    mask = -torch.ones(1, 1, 255, 255)
    mask[0, 0, 100, 40] = 1.0
    b = torch.tensor([0, 0])
    rows, cols = torch.tensor([12, 4]), torch.tensor([12, 4])
    win = mask_windows_at(mask, b, rows, cols, grid=25, window=127, stride=8).view(2, 127, 127)
    # centre position: window = crop pixels 64..190, so column 40 is outside it
    assert win[0, 100 - 64].eq(-1).all()
    # position (4, 4): window starts at pixel 0 -> (100, 40) at the same place, nothing padded
    assert win[1, 100, 40] == 1 and win[1].sum() == -127 * 127 + 2
    corner = mask_windows_at(mask, torch.tensor([0]), torch.tensor([0]), torch.tensor([0]), 25).view(127, 127)
    assert (corner[:32] == 0).all() and (corner[:, :32] == 0).all() and corner[32, 32] == -1
    # 143 search, 3x3 grid (SiamMask's refine stage): no padding, window (r, c) starts at 8r, 8c
    small = torch.arange(143 * 143, dtype=torch.float32).view(1, 1, 143, 143)
    w = mask_windows_at(small, torch.tensor([0]), torch.tensor([2]), torch.tensor([1]), 3).view(127, 127)
    assert w[0, 0] == 16 * 143 + 8 and w[-1, -1] == (16 + 126) * 143 + 8 + 126


def test_loss_weights_and_total():
    cfg = get_cfg()
    assert loss_weights(cfg, "rpn") == {"cls": 1.0, "loc": 1.2}
    cfg.TRAIN.MASK_WEIGHT = 36
    assert loss_weights(cfg, "mask") == {"cls": 1.0, "loc": 1.2, "mask": 36.0}
    assert loss_weights(cfg, "refine") == {"mask": 36.0}
    losses = {"cls": torch.tensor(0.5), "loc": torch.tensor(2.0), "mask": torch.tensor(0.1)}
    assert total_loss(losses, {"cls": 1.0, "loc": 1.2}).item() == pytest.approx(0.5 + 2.4)
    assert total_loss(losses, {"cls": 1.0, "loc": 1.2, "mask": 36}).item() == pytest.approx(0.5 + 2.4 + 3.6)
    with pytest.raises(KeyError, match="mask"):
        total_loss({"cls": torch.tensor(1.0)}, {"cls": 1.0, "mask": 1.0})
