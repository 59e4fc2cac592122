"""pysiam: Siamese visual object tracking (SiamRPN++, SiamMask) on modern PyTorch."""
__version__ = "0.1.0"
