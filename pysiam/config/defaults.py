"""Default configuration: pysot's key tree and values, every key commented.

Never import ``_C`` and mutate it: call :func:`pysiam.config.get_cfg` for a fresh copy.
Keys marked *pysiam* are additions that pysot does not have; everything else keeps pysot's name,
type and default so that pysot's experiment YAML files load unchanged.
"""
from yacs.config import CfgNode as CN

_C = CN()

# Name of the architecture, informational only (pysot writes it into every YAML).
_C.META_ARC = "siamrpn_r50_l234_dwxcorr"
# Use CUDA when it is available (pysot's switch). pysiam never requires it: see DEVICE.
_C.CUDA = True
# pysiam: device for the model and tracker ('' = cuda when CUDA is True and a GPU exists, else cpu;
# or an explicit torch device string such as 'cpu', 'cuda', 'cuda:1').
_C.DEVICE = ""

# ------------------------------------------------------------------------------------------------
# Training
# ------------------------------------------------------------------------------------------------
_C.TRAIN = CN()
# IoU above which an anchor is labelled positive.
_C.TRAIN.THR_HIGH = 0.6
# IoU below which an anchor is labelled negative.
_C.TRAIN.THR_LOW = 0.3
# Maximum number of negative anchors sampled per pair.
_C.TRAIN.NEG_NUM = 16
# Maximum number of positive anchors sampled per pair.
_C.TRAIN.POS_NUM = 16
# Total number of anchors (positive + negative) sampled per pair.
_C.TRAIN.TOTAL_NUM = 64
# Template crop size in pixels.
_C.TRAIN.EXEMPLAR_SIZE = 127
# Search crop size in pixels.
_C.TRAIN.SEARCH_SIZE = 255
# Extra border of the score map (see TRACK.BASE_SIZE).
_C.TRAIN.BASE_SIZE = 8
# Side of the score map during training.
_C.TRAIN.OUTPUT_SIZE = 25
# Conv layers per tower of an anchor-free head (NanoTrack's yaml sets it; its heads fix their depth).
_C.TRAIN.NUM_CONVS = 4
# Checkpoint to resume from ('' = none).
_C.TRAIN.RESUME = ""
# Whole-model weights to start from ('' = none).
_C.TRAIN.PRETRAINED = ""
# Folder for logs (TensorBoard, JSON lines).
_C.TRAIN.LOG_DIR = "./logs"
# Folder for checkpoints.
_C.TRAIN.SNAPSHOT_DIR = "./snapshot"
# Number of epochs.
_C.TRAIN.EPOCH = 20
# First epoch (set by resuming).
_C.TRAIN.START_EPOCH = 0
# Batch size per process (GPU).
_C.TRAIN.BATCH_SIZE = 32
# Data-loader worker processes per training process.
_C.TRAIN.NUM_WORKERS = 1
# SGD momentum.
_C.TRAIN.MOMENTUM = 0.9
# SGD weight decay.
_C.TRAIN.WEIGHT_DECAY = 0.0001
# Weight of the classification loss.
_C.TRAIN.CLS_WEIGHT = 1.0
# Weight of the localisation loss.
_C.TRAIN.LOC_WEIGHT = 1.2
# Weight of the mask loss (SiamMask used 36).
_C.TRAIN.MASK_WEIGHT = 1
# Log every this many iterations.
_C.TRAIN.PRINT_FREQ = 20
# Log gradient norms to TensorBoard.
_C.TRAIN.LOG_GRADS = False
# Clip gradients to this global norm (0 = off).
_C.TRAIN.GRAD_CLIP = 10.0
# Base learning rate.
_C.TRAIN.BASE_LR = 0.005
# Main learning-rate schedule after warmup.
_C.TRAIN.LR = CN()
# Schedule type: log, step, multi-step, cos, linear.
_C.TRAIN.LR.TYPE = "log"
# Keyword arguments of the schedule (start_lr, end_lr, step, ...).
_C.TRAIN.LR.KWARGS = CN(new_allowed=True)
# Warmup schedule.
_C.TRAIN.LR_WARMUP = CN()
# Use a warmup phase.
_C.TRAIN.LR_WARMUP.WARMUP = True
# Warmup schedule type.
_C.TRAIN.LR_WARMUP.TYPE = "step"
# Number of warmup epochs.
_C.TRAIN.LR_WARMUP.EPOCH = 5
# Keyword arguments of the warmup schedule.
_C.TRAIN.LR_WARMUP.KWARGS = CN(new_allowed=True)

# ------------------------------------------------------------------------------------------------
# Training data
# ------------------------------------------------------------------------------------------------
# new_allowed: any extra source (e.g. GOT10K, LASOT, YOUTUBEVOS, SYNTHETIC) may be declared here.
_C.DATASET = CN(new_allowed=True)
# Augmentation of the template crop.
_C.DATASET.TEMPLATE = CN()
# Maximum random shift in pixels.
_C.DATASET.TEMPLATE.SHIFT = 4
# Maximum relative random scale change.
_C.DATASET.TEMPLATE.SCALE = 0.05
# Probability of motion blur.
_C.DATASET.TEMPLATE.BLUR = 0.0
# Probability of horizontal flip.
_C.DATASET.TEMPLATE.FLIP = 0.0
# Probability of colour (PCA) jitter.
_C.DATASET.TEMPLATE.COLOR = 1.0
# Augmentation of the search crop.
_C.DATASET.SEARCH = CN()
# Maximum random shift in pixels (spatial-aware sampling).
_C.DATASET.SEARCH.SHIFT = 64
# Maximum relative random scale change.
_C.DATASET.SEARCH.SCALE = 0.18
# Probability of motion blur.
_C.DATASET.SEARCH.BLUR = 0.0
# Probability of horizontal flip.
_C.DATASET.SEARCH.FLIP = 0.0
# Probability of colour (PCA) jitter.
_C.DATASET.SEARCH.COLOR = 1.0
# Probability of a negative pair (template and search from different targets).
_C.DATASET.NEG = 0.2
# Probability of converting a pair to gray.
_C.DATASET.GRAY = 0.0
# Training sources, in order.
_C.DATASET.NAMES = ("VID", "COCO", "DET", "YOUTUBEBB")
# ImageNet VID.
_C.DATASET.VID = CN()
# Folder of 511x511 crops.
_C.DATASET.VID.ROOT = "training_dataset/vid/crop511"
# train.json annotation file.
_C.DATASET.VID.ANNO = "training_dataset/vid/train.json"
# Search frame within +- this many frames of the template frame.
_C.DATASET.VID.FRAME_RANGE = 100
# Videos drawn per epoch from this source (repeated until reached; -1 = all, once).
_C.DATASET.VID.NUM_USE = 100000
# YouTube-BB.
_C.DATASET.YOUTUBEBB = CN()
# Folder of 511x511 crops.
_C.DATASET.YOUTUBEBB.ROOT = "training_dataset/yt_bb/crop511"
# train.json annotation file.
_C.DATASET.YOUTUBEBB.ANNO = "training_dataset/yt_bb/train.json"
# Search frame within +- this many frames of the template frame.
_C.DATASET.YOUTUBEBB.FRAME_RANGE = 3
# Videos drawn per epoch (-1 = all, once).
_C.DATASET.YOUTUBEBB.NUM_USE = -1
# COCO.
_C.DATASET.COCO = CN()
# Folder of 511x511 crops.
_C.DATASET.COCO.ROOT = "training_dataset/coco/crop511"
# train.json annotation file.
_C.DATASET.COCO.ANNO = "training_dataset/coco/train2017.json"
# Still images: template and search from the same image.
_C.DATASET.COCO.FRAME_RANGE = 1
# Images drawn per epoch (-1 = all, once).
_C.DATASET.COCO.NUM_USE = -1
# ImageNet DET.
_C.DATASET.DET = CN()
# Folder of 511x511 crops.
_C.DATASET.DET.ROOT = "training_dataset/det/crop511"
# train.json annotation file.
_C.DATASET.DET.ANNO = "training_dataset/det/train.json"
# Still images: template and search from the same image.
_C.DATASET.DET.FRAME_RANGE = 1
# Images drawn per epoch (-1 = all, once).
_C.DATASET.DET.NUM_USE = -1
# Pairs per epoch, over all sources.
_C.DATASET.VIDEOS_PER_EPOCH = 600000

# ------------------------------------------------------------------------------------------------
# Backbone
# ------------------------------------------------------------------------------------------------
_C.BACKBONE = CN()
# Backbone name: resnet18, resnet34, resnet50, alexnet, alexnetlegacy, mobilenetv2, mobilenetv3_small,
# mobilenetv3_small_v3. With empty KWARGS everywhere the defaults build SiamRPN++ ResNet-50 (layers 2-4).
_C.BACKBONE.TYPE = "resnet50"
# Keyword arguments of the backbone (used_layers, width_mult, ...).
_C.BACKBONE.KWARGS = CN(new_allowed=True)
# ImageNet weights for the backbone ('' = none); torchvision or pysot naming.
_C.BACKBONE.PRETRAINED = ""
# Backbone stages trained after TRAIN_EPOCH.
_C.BACKBONE.TRAIN_LAYERS = ["layer2", "layer3", "layer4"]
# Learning-rate multiplier of the trained backbone stages.
_C.BACKBONE.LAYERS_LR = 0.1
# Epoch at which the backbone stages start training.
_C.BACKBONE.TRAIN_EPOCH = 10
# Legacy key found in pysot's siamrpn_r50_l234_dwxcorr_lt YAML; unused (channels come from KWARGS).
_C.BACKBONE.CHANNELS = [512, 1024, 2048]

# ------------------------------------------------------------------------------------------------
# Neck (adjust layer)
# ------------------------------------------------------------------------------------------------
_C.ADJUST = CN()
# Use an adjust layer between backbone and heads.
_C.ADJUST.ADJUST = True
# Keyword arguments of the neck (in_channels, out_channels, center_size).
_C.ADJUST.KWARGS = CN(new_allowed=True)
# Neck type: AdjustLayer (one level) or AdjustAllLayer (one per level).
_C.ADJUST.TYPE = "AdjustAllLayer"
# Legacy key found in pysot's siamrpn_r50_l234_dwxcorr_lt YAML; unused (channels come from KWARGS).
_C.ADJUST.ADJUST_CHANNEL = [256, 256, 256]

# ------------------------------------------------------------------------------------------------
# RPN head
# ------------------------------------------------------------------------------------------------
_C.RPN = CN()
# Head type: UPChannelRPN, DepthwiseRPN or MultiRPN.
_C.RPN.TYPE = "MultiRPN"
# Keyword arguments of the head (anchor_num, in_channels, out_channels, weighted).
_C.RPN.KWARGS = CN(new_allowed=True)
# Legacy key found in pysot's siamrpn_r50_l234_dwxcorr_lt YAML; unused (see KWARGS.weighted).
_C.RPN.WEIGHTED = False

# ------------------------------------------------------------------------------------------------
# Mask head (SiamMask)
# ------------------------------------------------------------------------------------------------
_C.MASK = CN()
# Build a mask branch.
_C.MASK.MASK = False
# Mask head type.
_C.MASK.TYPE = "MaskCorr"
# Keyword arguments of the mask head (in_channels, hidden, out_channels).
_C.MASK.KWARGS = CN(new_allowed=True)

# Refine module (SiamMask).
_C.REFINE = CN()
# Build the refine module (needs MASK.MASK).
_C.REFINE.REFINE = False
# Refine module type.
_C.REFINE.TYPE = "Refine"

# ------------------------------------------------------------------------------------------------
# Anchor-free box head (NanoTrack / SiamBAN)
# ------------------------------------------------------------------------------------------------
_C.BAN = CN()
# Build an anchor-free (BAN) head instead of the RPN head.
_C.BAN.BAN = False
# Head type: NanoBANv1, NanoBANv2, NanoBANv3; NanoTrack's own name DepthwiseBAN means V3 with
# backbone mobilenetv3_small_v3 and V1 or V2 (told apart by the snapshot's keys, else V2) with
# mobilenetv3_small.
_C.BAN.TYPE = "NanoBANv2"
# Keyword arguments of the head (NanoTrack's in_channels / out_channels are accepted, unused).
_C.BAN.KWARGS = CN(new_allowed=True)

# Grid of points of an anchor-free head.
_C.POINT = CN()
# Distance in search-crop pixels between neighbouring points of the score map.
_C.POINT.STRIDE = 8

# ------------------------------------------------------------------------------------------------
# Anchors
# ------------------------------------------------------------------------------------------------
_C.ANCHOR = CN()
# Anchor stride in pixels of the search crop.
_C.ANCHOR.STRIDE = 8
# Anchor aspect ratios (h / w).
_C.ANCHOR.RATIOS = [0.33, 0.5, 1, 2, 3]
# Anchor scales.
_C.ANCHOR.SCALES = [8]
# Anchors per position (len(RATIOS) * len(SCALES)).
_C.ANCHOR.ANCHOR_NUM = len(_C.ANCHOR.RATIOS) * len(_C.ANCHOR.SCALES)

# ------------------------------------------------------------------------------------------------
# Tracker (test time)
# ------------------------------------------------------------------------------------------------
_C.TRACK = CN()
# Tracker type: SiamRPNTracker, SiamMaskTracker or SiamRPNLTTracker.
_C.TRACK.TYPE = "SiamRPNTracker"
# Scale / aspect change penalty k.
_C.TRACK.PENALTY_K = 0.04
# Weight of the cosine (Hanning) window.
_C.TRACK.WINDOW_INFLUENCE = 0.44
# Size update rate.
_C.TRACK.LR = 0.4
# Template crop size.
_C.TRACK.EXEMPLAR_SIZE = 127
# Search crop size.
_C.TRACK.INSTANCE_SIZE = 255
# Extra border of the score map: score size = (INSTANCE - EXEMPLAR) / STRIDE + 1 + BASE_SIZE.
_C.TRACK.BASE_SIZE = 8
# Context amount around the target.
_C.TRACK.CONTEXT_AMOUNT = 0.5
# Search crop size while re-detecting (long-term tracker).
_C.TRACK.LOST_INSTANCE_SIZE = 831
# Long-term: below this score the target counts as lost.
_C.TRACK.CONFIDENCE_LOW = 0.85
# Long-term: above this score the target counts as found again.
_C.TRACK.CONFIDENCE_HIGH = 0.998
# Mask threshold on the refined mask probability (pysot's spelling, kept).
_C.TRACK.MASK_THERSHOLD = 0.30
# Side of the refined mask.
_C.TRACK.MASK_OUTPUT_SIZE = 127
# pysiam: rotated box from the binary mask: 'minarea' (minimum-area rectangle of the largest
# contour, pysot-exact), 'minmax' (axis-aligned) or 'optimized' (VOT's ground-truth fit;
# pysiam.tracker.mask_box).
_C.TRACK.MASK_BOX = "minarea"
# Side of the score map of an anchor-free tracker (NanoTrack: 16 for V1/V2, 15 for V3).
_C.TRACK.OUTPUT_SIZE = 16

# ================================================================================================
# pysiam: training additions (owner: training; pysot has none of these keys)
# ================================================================================================
# pysiam: base random seed; sample i of epoch e draws from numpy default_rng([SEED, e, i]), the
# model initialisation from torch.manual_seed(SEED).
_C.TRAIN.SEED = 123456
# pysiam: mixed precision: '' or 'none' (float32), 'bf16' or 'fp16' (fp16 adds gradient scaling).
_C.TRAIN.AMP = ""
# pysiam: run folder (config, environment, checkpoints, TensorBoard, metrics.jsonl);
# '' = ./runs/<config file name>. Relative LOG_DIR / SNAPSHOT_DIR are placed inside it.
_C.TRAIN.OUTPUT_DIR = ""
# pysiam: what is trained: '' = 'rpn' (SiamRPN) or 'mask' (SiamMask: RPN + mask branch) from
# MASK.MASK; 'refine' trains the refine module (and the mask correlation it reads) with the
# backbone, neck and RPN frozen, as SiamMask's second stage.
_C.TRAIN.STAGE = ""
# pysiam: at BACKBONE.TRAIN_EPOCH pysot rebuilds the optimizer, which drops the SGD momentum;
# pysiam keeps it (False). True restores pysot's behaviour.
_C.TRAIN.UNFREEZE_RESET_MOMENTUM = False
# pysiam: centre of the 7x7 negative window of a negative pair: 'pysot' (ceil(offset / stride
# + 0.5) cells, one cell off for a centred target) or 'nearest' (rounded).
_C.TRAIN.NEG_WINDOW_CENTRE = "pysot"
# pysiam: iterations between TensorBoard image grids of template / search crops (0 = never).
_C.TRAIN.IMAGE_FREQ = 500
# pysiam: DDP backend under torchrun: '' = nccl on GPUs, gloo on CPU.
_C.TRAIN.DIST_BACKEND = ""

# pysiam: synthetic videos generated in memory (pysiam.data.synthetic), cropped on the fly.
_C.DATASET.SYNTHETIC = CN()
# Source type (see pysiam.data.train_sources.SOURCE_TYPES); pysot's sections are 'crop511'.
_C.DATASET.SYNTHETIC.TYPE = "synthetic"
# Generator preset ('default', 'easy').
_C.DATASET.SYNTHETIC.PRESET = "default"
# Generator seed (keep it apart from the synthetic benchmark's seed).
_C.DATASET.SYNTHETIC.SEED = 1000
# Generator parameter overrides (SynthParams field names, e.g. n_frames: 60).
_C.DATASET.SYNTHETIC.KWARGS = CN(new_allowed=True)
# Number of videos generated at start-up.
_C.DATASET.SYNTHETIC.NUM_VIDEOS = 100
# Search frame within +- this many frames of the template frame.
_C.DATASET.SYNTHETIC.FRAME_RANGE = 30
# Videos drawn per epoch (-1 = all, once).
_C.DATASET.SYNTHETIC.NUM_USE = -1
# Side of the on-the-fly target patch (pysot's 511); 0 = 2 * TRAIN.SEARCH_SIZE + 1.
_C.DATASET.SYNTHETIC.PATCH_SIZE = 0
# Processes generating the videos at start-up (0 = min(4, CPU count)).
_C.DATASET.SYNTHETIC.WORKERS = 0

# pysiam: further crop511 sources written by `pysiam-prepare_data` (pysot's layout).
# GOT-10k train split.
_C.DATASET.GOT10K = CN()
# Source type: 'crop511' (pysot's crops + train.json).
_C.DATASET.GOT10K.TYPE = "crop511"
# Folder of 511x511 crops.
_C.DATASET.GOT10K.ROOT = "training_dataset/got10k/crop511"
# train.json annotation file.
_C.DATASET.GOT10K.ANNO = "training_dataset/got10k/train.json"
# Search frame within +- this many frames of the template frame.
_C.DATASET.GOT10K.FRAME_RANGE = 100
# Videos drawn per epoch (-1 = all, once).
_C.DATASET.GOT10K.NUM_USE = 100000
# LaSOT train split.
_C.DATASET.LASOT = CN()
# Source type: 'crop511' (pysot's crops + train.json).
_C.DATASET.LASOT.TYPE = "crop511"
# Folder of 511x511 crops.
_C.DATASET.LASOT.ROOT = "training_dataset/lasot/crop511"
# train.json annotation file.
_C.DATASET.LASOT.ANNO = "training_dataset/lasot/train.json"
# Search frame within +- this many frames of the template frame.
_C.DATASET.LASOT.FRAME_RANGE = 100
# Videos drawn per epoch (-1 = all, once).
_C.DATASET.LASOT.NUM_USE = 100000
# YouTube-VOS, with masks (SiamMask's training set; it used frame range 20).
_C.DATASET.YOUTUBEVOS = CN()
# Source type: 'crop511' (pysot's crops + train.json).
_C.DATASET.YOUTUBEVOS.TYPE = "crop511"
# Folder of 511x511 crops.
_C.DATASET.YOUTUBEVOS.ROOT = "training_dataset/ytb_vos/crop511"
# train.json annotation file.
_C.DATASET.YOUTUBEVOS.ANNO = "training_dataset/ytb_vos/train.json"
# Search frame within +- this many frames of the template frame.
_C.DATASET.YOUTUBEVOS.FRAME_RANGE = 20
# Videos drawn per epoch (-1 = all, once).
_C.DATASET.YOUTUBEVOS.NUM_USE = 200000

# ================================================================================================
# pysiam: inference speed options (owner: speed; pysot has none of these keys). All off = the exact
# float32 path that matches pysot bit for bit. See pysiam/inference/options.py for the tolerances.
# ================================================================================================
_C.INFERENCE = CN()
# pysiam: fold every BatchNorm into the convolution before it (rounding-level output changes).
_C.INFERENCE.FOLD_BN = False
# pysiam: NHWC (channels_last) weights and inputs: faster convolutions on CPU (oneDNN) and GPU.
_C.INFERENCE.CHANNELS_LAST = False
# pysiam: autocast precision: '' (float32), 'bf16' (fast on CPUs with AMX/AVX512-BF16 and on
# GPUs) or 'fp16' (GPUs). Scores are cast back to float32 before decoding.
_C.INFERENCE.AMP = ""
# pysiam: torch.compile mode for the template and search passes: '' (off), 'default',
# 'reduce-overhead', 'max-autotune'. Pays only for long runs (compilation takes tens of seconds).
_C.INFERENCE.COMPILE = ""
# pysiam: on CUDA, capture the search pass in a CUDA graph per input shape and replay it.
_C.INFERENCE.CUDA_GRAPHS = False
# pysiam: torch intra-op threads for CPU inference (0 = leave torch's default).
_C.INFERENCE.THREADS = 0
# pysiam: 3x3 stride-1 convolutions (>= 256 channels) computed with Winograd F(4x4, 3x3) on float32
# CPU tensors: 4x fewer multiplications, rounding-level changes; implies FOLD_BN (keep NCHW).
_C.INFERENCE.WINOGRAD = False
# pysiam: context crops computed with torch on the model's device: 'auto' (on for non-CPU devices),
# 'on', 'off' (OpenCV on the host). Bit-exact with the OpenCV path.
_C.INFERENCE.DEVICE_CROP = "auto"
# pysiam: frames decoded ahead in background threads by the test runner (0 = read in the loop).
_C.INFERENCE.PREFETCH = 4
# pysiam: JPEG decoding for the test runner: 'cpu' (OpenCV) or 'gpu' (torchvision.io.decode_jpeg on
# the CUDA device, when torchvision is installed; not bit-exact with OpenCV's decoder).
_C.INFERENCE.DECODE = "cpu"
# pysiam: 'torch', or 'onnxruntime': the network runs as ONNX graphs in ONNX Runtime (pysiam.deploy;
# needs the 'deploy' extra); the torch-side options above (FOLD_BN, AMP, ...) do not apply to it.
_C.INFERENCE.BACKEND = "torch"
# pysiam: onnxruntime backend: a folder written by tools/export.py ('' = export on first use into the cache).
_C.INFERENCE.EXPORT_DIR = ""
# pysiam: onnxruntime backend: cache folder of first-use exports ('' = ~/.cache/pysiam/onnx), keyed by
# config, weights, opset and versions.
_C.INFERENCE.EXPORT_CACHE = ""
