"""Running trackers over videos: the sequential runner, the batched lockstep engine, many targets per video."""
