"""Training losses on hand-computed values."""
import math

import pytest
import torch

from pysiam.config import get_cfg
from pysiam.training.forward import mask_windows_at
from pysiam.training.losses import (iou_loss, log_softmax_cls, mask_iou_stats, mask_soft_margin,
                                    select_cross_entropy, select_iou_loss, total_loss, weighted_l1)
from pysiam.training.settings import LossWeights


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
    assert LossWeights.from_config(cfg).for_stage("rpn") == {"cls": 1.0, "loc": 1.2}
    cfg.TRAIN.MASK_WEIGHT = 36
    weights = LossWeights.from_config(cfg)
    assert weights.for_stage("mask") == {"cls": 1.0, "loc": 1.2, "mask": 36.0}
    assert weights.for_stage("refine") == {"mask": 36.0}
    losses = {"cls": torch.tensor(0.5), "loc": torch.tensor(2.0), "mask": torch.tensor(0.1)}
    assert total_loss(losses, {"cls": 1.0, "loc": 1.2}).item() == pytest.approx(0.5 + 2.4)
    assert total_loss(losses, {"cls": 1.0, "loc": 1.2, "mask": 36}).item() == pytest.approx(0.5 + 2.4 + 3.6)
    with pytest.raises(KeyError, match="mask"):
        total_loss({"cls": torch.tensor(1.0)}, {"cls": 1.0, "mask": 1.0})


def test_iou_loss_hand_computed():
    # same point, pred box (l, t, r, b) = (2, 2, 2, 2): 4x4; target (1, 1, 3, 3): 4x4 shifted by 1
    pred = torch.tensor([[2.0, 2.0, 2.0, 2.0], [1.0, 1.0, 1.0, 1.0]])
    target = torch.tensor([[1.0, 1.0, 3.0, 3.0], [1.0, 1.0, 1.0, 1.0]])
    # row 0: intersection (1 + 2) * (1 + 2) = 9, union 16 + 16 - 9 = 23; row 1: identical 2x2
    iou0, iou1 = (9 + 1) / (23 + 1), 1.0
    assert iou_loss(pred, target).item() == pytest.approx(((1 - iou0) + (1 - iou1)) / 2, rel=1e-6)
    assert iou_loss(pred, target, "iou").item() == pytest.approx(-(math.log(iou0) + math.log(iou1)) / 2, rel=1e-6)
    # GIoU: the hull of row 0 is (2 + 3) * (2 + 3) = 25 (+1e-7), so GIoU = iou0 - (25 - 23) / 25
    assert iou_loss(pred, target, "giou").item() == pytest.approx(((1 - (iou0 - 2 / 25)) + 0.0) / 2, rel=1e-5)
    with pytest.raises(ValueError, match="linear_iou"):
        iou_loss(pred, target, "l2")
    empty = torch.zeros(0, 4, requires_grad=True)
    assert iou_loss(empty, torch.zeros(0, 4)).item() == 0.0


def test_select_iou_loss_uses_positive_points_of_the_batch():
    b, s = 2, 3
    pred = torch.ones(b, 4, s, s)
    label = torch.ones(b, 4, s, s)
    label[1, :, 2, 0] = torch.tensor([3.0, 1.0, 1.0, 1.0])   # 4 x 2 vs pred 2 x 2: I 4, U 8
    cls = torch.full((b, s, s), -1)
    cls[0, 1, 1] = 1            # a perfect prediction
    cls[1, 2, 0] = 1
    cls[1, 0, 0] = 0            # negatives do not count
    label[1, :, 0, 0] = 50.0
    want = ((1 - 1.0) + (1 - (4 + 1) / (8 + 1))) / 2
    assert select_iou_loss(pred, label, cls).item() == pytest.approx(want, rel=1e-6)
    assert select_iou_loss(pred, label, torch.zeros(b, s, s)).item() == 0.0


def test_family_losses_of_a_batch():
    from pysiam.training.losses import anchor_losses, point_losses
    out = {"cls": torch.zeros(1, 2, 2, 2), "loc": torch.ones(1, 4, 2, 2)}
    batch = {"label_cls": torch.tensor([[[1, 0], [-1, -1]]]), "label_loc": torch.ones(1, 4, 2, 2)}
    got = {k: fn(out, batch).item() for k, fn in point_losses().items()}
    assert got == pytest.approx({"cls": math.log(2), "loc": 0.0})
    batch = {"label_cls": batch["label_cls"][:, None], "label_loc": torch.zeros(1, 4, 1, 2, 2),
             "label_loc_weight": torch.full((1, 1, 2, 2), 0.5)}
    got = {k: fn(out, batch).item() for k, fn in anchor_losses().items()}
    assert got == pytest.approx({"cls": math.log(2), "loc": 4 * 4 * 0.5})
