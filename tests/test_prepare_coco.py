"""COCO preparation on the real COCO_tiny sample against pysot's own scripts.

Reference files in tests/data were made outside the repo with pysot @ d04028f8 (STVIR/pysot
training_dataset/coco, numpy's removed ``np.float`` aliased to ``float``):

* prepare_pysot_coco_val2017.json: the val2017.json that pysot's gen_json.py writes for
  COCO_tiny's instances_val2017.json (stored compact; pysot writes indent=4, sort_keys=True).
* prepare_pysot_coco_crops.npz: pysot's crop_like_SiamFC(image, box, instanc_size=511,
  padding=per-channel mean) for tracks 0, 2, 5, 9, 17 of 000000005001.jpg: every 8th pixel of the
  511 crop, every 4th of the 127 crop, and md5 of the full arrays (with the OpenCV version).

Measured when they were made: our JSON text is byte-identical to pysot's for all 80 images, and
all 44 crop JPEGs pysot writes for the first 3 images are byte-identical to ours.
"""
import hashlib
import json
import warnings
from pathlib import Path

import cv2
import numpy as np
import pytest

from pysiam.cli.prepare_data import main as prepare_main
from pysiam.data.prepare import annotation_index, crop_like_siamfc, get_source

DATA = Path(__file__).parent / "data"


@pytest.fixture
def coco_root(shared_data):
    root = shared_data / "COCO_tiny"
    if not root.is_dir():
        pytest.skip("COCO_tiny not in the shared data")
    return root


def test_json_equals_pysot_gen_json(coco_root):
    ref = json.loads((DATA / "prepare_pysot_coco_val2017.json").read_text())
    ours = annotation_index(get_source("coco", coco_root, "val"))
    assert len(ours) == 80 and sum(len(t) for t in ours.values()) == 815
    assert ours == ref


def test_crops_equal_pysot_crops(coco_root):
    ref = np.load(DATA / "prepare_pysot_coco_crops.npz")
    meta = json.loads(str(ref["meta"]))
    refs = get_source("coco", coco_root, "val").list_videos()
    anns = next(r for r in refs if r.name == "val2017/" + meta["file_name"][:-4]).payload["anns"]
    image = cv2.imread(str(coco_root / "val2017" / meta["file_name"]))
    for t in ref["tracks"]:
        x, y, w, h = anns[t][1]
        z_crop, x_crop = crop_like_siamfc(image, [x, y, x + w, y + h])
        assert np.abs(x_crop[::8, ::8].astype(int) - ref[f"x{t:02d}"]).max() <= 1
        assert np.abs(z_crop[::4, ::4].astype(int) - ref[f"z{t:02d}"]).max() <= 1
        if cv2.__version__ == meta["cv2_version"]:  # same OpenCV: bit-identical
            assert hashlib.md5(x_crop.tobytes()).hexdigest() == meta[f"md5_x{t:02d}"]
            assert hashlib.md5(z_crop.tobytes()).hexdigest() == meta[f"md5_z{t:02d}"]


def _ann_to_mask(ann, h, w):
    from pycocotools import mask as mask_utils
    seg = ann["segmentation"]
    rle = mask_utils.merge(mask_utils.frPyObjects(seg, h, w)) if isinstance(seg, list) \
        else mask_utils.frPyObjects(seg, h, w)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # pycocotools vs numpy 2
        return mask_utils.decode(rle)


def test_cli_first_image_layout_and_masks(coco_root, tmp_path):
    assert prepare_main(["coco", "--root", str(coco_root), "--out", str(tmp_path), "--split", "val",
                         "--limit", "1", "--workers", "1", "--no-progress"]) == 0
    ref = json.loads((DATA / "prepare_pysot_coco_val2017.json").read_text())
    video = "val2017/000000005001"
    text = (tmp_path / "val2017.json").read_text()  # pysot's file name
    assert text == json.dumps({video: ref[video]}, indent=4, sort_keys=True)
    folder = tmp_path / "crop511" / video
    n = len(ref[video])
    assert n == 18
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        f"000000.{t:02d}.{k}" for t in range(n) for k in ("x.jpg", "z.jpg", "m.png"))

    image = cv2.imread(str(coco_root / "val2017" / "000000005001.jpg"))
    h, w = image.shape[:2]
    coco = json.loads((coco_root / "annotations" / "instances_val2017.json").read_text())
    img_id = next(i["id"] for i in coco["images"] if i["file_name"] == "000000005001.jpg")
    anns = [a for a in coco["annotations"] if a["image_id"] == img_id]
    crowd = [t for t, a in enumerate(anns) if a["iscrowd"]]
    assert len(crowd) == 1
    for t in [0, 5] + crowd:
        bx, by, bw, bh = anns[t]["bbox"]
        # the saved JPEG is exactly what cv2.imwrite of the crop gives (as pysot saves it)
        _, x_crop = crop_like_siamfc(image, [bx, by, bx + bw, by + bh])
        assert (folder / f"000000.{t:02d}.x.jpg").read_bytes() == cv2.imencode(".jpg", x_crop)[1].tobytes()
        # the mask crop: pycocotools' mask warped by the same square -> 511 map, linear, > 0.5
        mask = _ann_to_mask(anns[t], h, w).astype(np.float32)
        cx, cy = bx + bw / 2, by + bh / 2
        s_x = np.sqrt((bw + (bw + bh) / 2) * (bh + (bw + bh) / 2)) * 511 / 127
        a = 510 / s_x
        m = np.array([[a, 0, -a * (cx - s_x / 2)], [0, a, -a * (cy - s_x / 2)]])
        expected = (cv2.warpAffine(mask, m, (511, 511), borderMode=cv2.BORDER_CONSTANT) > 0.5) * 255
        saved = cv2.imread(str(folder / f"000000.{t:02d}.m.png"), cv2.IMREAD_UNCHANGED)
        assert saved.shape == (511, 511) and (saved > 0).sum() > 100
        mismatch = (saved != expected).sum()
        assert mismatch == 0, f"track {t}: {mismatch} mask pixels differ"
