"""Preview of a synthetic video: a contact sheet of frames with the ground truth drawn."""
from __future__ import annotations

import cv2
import numpy as np

from .params import SyntheticVideo


def contact_sheet(video: SyntheticVideo, n: int = 8, cols: int = 4) -> np.ndarray:
    """Evenly spaced frames in a grid with the box (green) and the mask outline (red) drawn."""
    idx = np.linspace(0, len(video) - 1, min(n, len(video))).round().astype(int)
    tiles = []
    for i in idx:
        img = video.frames[i].copy()
        if video.masks:
            contours, _ = cv2.findContours(video.masks[i], cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
            cv2.drawContours(img, contours, -1, (0, 0, 255), 1)
        x, y, bw, bh = video.boxes[i]
        cv2.rectangle(img, (int(x), int(y)), (int(x + bw - 1), int(y + bh - 1)), (0, 255, 0), 1)
        label = f"#{i + 1}"
        if video.visible is not None:
            label += f" vis {video.visible[i]:.2f}"
        cv2.putText(img, label, (4, 14), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 255, 255), 1, cv2.LINE_AA)
        tiles.append(img)
    while len(tiles) % cols:
        tiles.append(np.zeros_like(tiles[0]))
    rows = [np.hstack(tiles[r:r + cols]) for r in range(0, len(tiles), cols)]
    return np.vstack(rows)
