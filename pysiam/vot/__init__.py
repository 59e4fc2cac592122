"""VOT challenge as it runs since 2020 (Python vot-toolkit): TraX server, mask RLE, workspaces,
the anchor-based multistart protocol and its analysis.

* :mod:`pysiam.vot.trax_server` (``pysiam-vot``): serve a pysiam tracker to ``vot evaluate``.
* :mod:`pysiam.vot.workspace`: build a toolkit workspace (sequences, stack, trackers.ini).
* :mod:`pysiam.vot.multistart`: the multistart protocol and its EAO / accuracy / robustness.
* :mod:`pysiam.vot.protocol`: the same as a Protocol object for pysiam's protocol registry.
* :mod:`pysiam.vot.sources`: ground-truth regions and anchors of a pysiam Video.
* :mod:`pysiam.vot.analysis`: ``score_workspace`` scores what the toolkit stored.
* :mod:`pysiam.vot.rle`, :mod:`pysiam.vot.regions`, :mod:`pysiam.vot.raster`: mask lines,
  regions and trajectory files, the toolkit's region overlap.

Versions that work: vot-toolkit 0.7.4 with attributee 0.1.9 (in a separate venv, ``make vot-env``);
vot-trax 4.0.x in pysiam's environment (``pip install pysiam[vot]``).
"""
