"""Training: losses, learning-rate schedules, the training loop, checkpoints, logging, DDP helpers."""
