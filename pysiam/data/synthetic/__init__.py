"""Procedural synthetic tracking videos: pysiam's built-in default data.

Every video shows one textured target (ellipse, polygon or blob with its own texture) that moves on
a smooth path while it scales, stretches, rotates and changes shape, over a textured and slowly
panning background. Distractor objects wander around (some share the target's texture family and
colours, so the tracker has to tell them apart), occluders cross the target, and the frame gets a
mild illumination change, sensor noise and occasional motion blur. Everything is pure numpy +
OpenCV and fully determined by ``(params.seed, video index)``.

Ground truth per frame
    * ``boxes[i] = [x, y, w, h]`` in 0-based pixel coordinates: ``x, y`` is the first covered
      column / row and ``w, h`` the number of covered columns / rows, so the box centre
      ``(x + (w - 1) / 2, y + (h - 1) / 2)`` is the centre pixel, as pysot reads OTB boxes.
    * ``masks[i]``: uint8 0/1, the target's *visible* pixels (anything drawn in front of it, an
      occluder or a distractor, is removed).
    * Box rule: while at least ``params.visible_box_min`` of the target's in-frame area is visible,
      the box is the bounding box of the visible mask (OTB annotates the visible extent). Under
      heavier or full occlusion it is the bounding box of the whole, unoccluded target (clipped to
      the image), so every frame has a valid box inside the image. ``SyntheticVideo.visible`` and
      ``full_boxes`` carry the visible fraction and the whole-target box, e.g. for training code
      that skips heavily occluded frames. Frame 1 is never occluded (it initialises trackers).
    * ``attr`` (OTB names, measured on the video): OCC (visible fraction < 0.75 somewhere),
      SV (box side outside [0.5, 2] x that of frame 1), MB (a motion-blurred frame),
      BC (distractors that resemble the target).

Layout written by :func:`write_otb_layout` (readable by pysot's OTB loader)::

    root/<NAME>.json                     {video: {video_dir, init_rect, img_names, gt_rect, attr}}
    root/<video>/img/0001.jpg ...        frames, JPEG quality 95
    root/<video>/mask/0001.png ...       target masks, lossless PNG, 0 / 255
    root/<video>/groundtruth_rect.txt    "x,y,w,h" per line
    root/<video>/meta.json               generator version, index and parameters (for resuming)

Modules: ``params`` (SynthParams, presets, SyntheticVideo), ``textures`` (signals, paths, textures),
``sprites`` (target / distractor / occluder objects), ``render`` (compositing, ground truth,
photometry), ``scene`` (generate_video, iter_videos), ``io`` (OTB layout), ``sheet`` (preview).
"""
from __future__ import annotations

from .io import read_otb_video, write_otb_layout
from .params import GENERATOR_VERSION, PRESETS, SynthParams, SyntheticVideo, mask_bbox, preset, video_name
from .scene import generate_video, iter_videos
from .sheet import contact_sheet

__all__ = [
    "SynthParams", "SyntheticVideo", "PRESETS", "preset", "generate_video", "iter_videos",
    "write_otb_layout", "read_otb_video", "mask_bbox", "video_name", "contact_sheet",
    "GENERATOR_VERSION",
]
