"""GOT-10k AO / SR: hand-derived cases."""
import numpy as np
import pytest

from pysiam.eval.got10k import bounded_box_iou, got10k_summary, got10k_video_ious


def test_bounded_iou_clamps_boxes_like_the_got10k_toolkit():
    gt = np.array([[0.0, 0, 10, 10]])
    # x is clamped to 0 and w kept (it fits in W - x): the box moves into the image
    assert bounded_box_iou(np.array([[-5.0, 0, 10, 10]]), gt, (20, 20))[0] == pytest.approx(1.0)
    assert bounded_box_iou(np.array([[-5.0, 0, 10, 10]]), gt)[0] == pytest.approx(50 / 150)
    # w is limited to W - x: [15, 0, 10, 10] -> [15, 0, 5, 10]
    right = bounded_box_iou(np.array([[15.0, 0, 10, 10]]), np.array([[15.0, 0, 5, 10]]), (20, 20))
    assert right[0] == pytest.approx(1.0)


def test_first_frame_skipped_invisible_dropped_frames_pooled():
    gt = np.array([[0.0, 0, 10, 10]] * 4)
    pred = np.array([[50.0, 50, 5, 5], [0, 0, 10, 10], [5, 0, 10, 10], [40, 40, 5, 5]])
    ious = got10k_video_ious([pred], gt, (100, 100), visible=np.array([1, 1, 1, 0], bool))
    np.testing.assert_allclose(ious, [1.0, 1 / 3], atol=1e-12)
    other = got10k_video_ious([gt[:2]], gt[:2], (100, 100))            # one frame, IoU 1
    s = got10k_summary({"a": ious, "b": other})
    assert s["ao"] == pytest.approx((1 + 1 / 3 + 1) / 3)                # frames pooled
    assert s["sr50"] == pytest.approx(2 / 3) and s["sr75"] == pytest.approx(2 / 3)
    assert s["per_video"]["a"]["ao"] == pytest.approx(2 / 3)


def test_length_mismatch():
    with pytest.raises(ValueError, match="2 result boxes for 3"):
        got10k_video_ious([np.zeros((2, 4))], np.zeros((3, 4)), (10, 10))
