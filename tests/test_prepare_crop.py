"""SiamFC crop geometry of pysiam.data.prepare.crop on hand-checked synthetic cases."""
import math

import cv2
import numpy as np
import pytest

from pysiam.data.prepare.crop import (box_in_search_crop, crop_like_siamfc, crop_mask_like_siamfc,
                                      mean_padding, siamfc_geometry, square_crop_matrix)

# Box of the hand-checked case: x1=100, y1=80, w=40, h=80 (x2 = x1 + w).
BOX = [100, 80, 140, 160]


def test_geometry_by_hand():
    g = siamfc_geometry(BOX)
    # context 0.5 * (40 + 80) = 60: sides (40 + 60) and (80 + 60)
    assert (g.cx, g.cy) == (120.0, 120.0)
    assert g.s_z == pytest.approx(math.sqrt(100 * 140), rel=1e-12)  # 118.3216
    assert g.s_x == pytest.approx(math.sqrt(14000) * 511 / 127, rel=1e-12)  # 476.0782
    m = square_crop_matrix(g.cx, g.cy, g.s_x, 511)
    assert m[0, 0] == pytest.approx(510 / g.s_x) and m[0, 1] == 0
    # the target centre maps onto pixel 255 of the 511 crop
    assert m @ np.array([120.0, 120.0, 1.0]) == pytest.approx([255.0, 255.0], abs=1e-9)


def test_target_centre_lands_on_pixel_255_and_size_scales():
    img = np.zeros((300, 400, 3), np.uint8)
    img[80:160, 100:140] = 200          # the 40 x 80 target, pixels 100..139 and 80..159
    img[120, 120] = (10, 20, 30)        # a marked pixel at the box centre (120, 120)
    z, x = crop_like_siamfc(img, BOX, padding=0)
    assert z.shape == (127, 127, 3) and x.shape == (511, 511, 3)
    assert tuple(x[255, 255]) == (10, 20, 30)
    assert tuple(z[63, 63]) == (10, 20, 30)
    # the scaled target: 40 and 80 pixels times 510 / s_x = 1.07126...
    scale = 510 / (math.sqrt(14000) * 511 / 127)
    row, col = x[240, :, 0], x[:, 240, 0]
    assert abs(int((row > 100).sum()) - 40 * scale) <= 1      # 42.85
    assert abs(int((col > 100).sum()) - 80 * scale) <= 1      # 85.70
    assert box_in_search_crop(BOX) == pytest.approx(
        [255 - 20 * scale, 255 - 40 * scale, 255 + 20 * scale, 255 + 40 * scale])


def test_mean_padding_at_image_edges():
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (60, 80, 3), dtype=np.uint8)
    mean = np.mean(img, axis=(0, 1))
    assert mean_padding(img) == pytest.approx(tuple(mean))
    z, x = crop_like_siamfc(img, [0, 0, 20, 10])  # box in the top-left corner
    expected = np.round(mean).astype(np.uint8)
    for crop in (x, z):
        assert (crop[0, 0] == expected).all() and (crop[2, -1] != 0).any()
    # the crop's top-left quarter lies entirely outside the image
    assert (x[:200, :200] == expected).all()
    _, x_fixed = crop_like_siamfc(img, [0, 0, 20, 10], padding=(1, 2, 3))
    assert tuple(x_fixed[0, 0]) == (1, 2, 3)
    # bottom-right corner box: padding on the other sides
    _, x_br = crop_like_siamfc(img, [70, 50, 80, 60])
    assert (x_br[-1, -1] == expected).all()


def test_matches_a_plain_warp_with_the_formula():
    rng = np.random.default_rng(1)
    img = rng.integers(0, 256, (120, 160, 3), dtype=np.uint8)
    box = [30.5, 20.25, 90.75, 70.0]
    w, h = box[2] - box[0], box[3] - box[1]
    s_z = math.sqrt((w + 0.5 * (w + h)) * (h + 0.5 * (w + h)))
    s_x = s_z * 511 / 127
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    a = 510 / s_x
    m = np.array([[a, 0, -a * (cx - s_x / 2)], [0, a, -a * (cy - s_x / 2)]])
    expected = cv2.warpAffine(img, m, (511, 511), borderMode=cv2.BORDER_CONSTANT,
                              borderValue=tuple(np.mean(img, axis=(0, 1))))
    _, x = crop_like_siamfc(img, box)
    assert np.abs(x.astype(int) - expected).max() <= 1


def test_mask_crop_is_aligned_with_the_image_crop():
    mask = np.zeros((90, 120), np.uint8)
    mask[30:60, 40:100] = 1
    box = [40, 30, 100, 60]
    img = np.repeat(mask[:, :, None] * 255, 3, axis=2)
    _, x_img = crop_like_siamfc(img, box, padding=0)
    z_m, x_m = crop_mask_like_siamfc(mask, box)
    assert x_m.dtype == np.uint8 and set(np.unique(x_m)) == {0, 255}
    assert z_m.shape == (127, 127) and x_m.shape == (511, 511)
    disagree = ((x_img[:, :, 0] > 127) != (x_m > 0)).sum()
    assert disagree <= 0.01 * (x_m > 0).sum()
    assert x_m[255, 255] == 255 and x_m[0, 0] == 0
    _, x_near = crop_mask_like_siamfc(mask * 255, box, interpolation="nearest")
    assert abs(int((x_near > 0).sum()) - int((x_m > 0).sum())) <= 0.03 * (x_m > 0).sum()
    # a lower threshold keeps more of the blurred edge
    _, x_low = crop_mask_like_siamfc(mask, box, threshold=0.2)
    assert (x_low >= x_m).all() and (x_low > 0).sum() > (x_m > 0).sum()
    with pytest.raises(ValueError, match="interpolation"):
        crop_mask_like_siamfc(mask, box, interpolation="cubic")


def test_degenerate_box_is_rejected():
    with pytest.raises(ValueError, match="degenerate"):
        siamfc_geometry([5, 5, 5, 5])
