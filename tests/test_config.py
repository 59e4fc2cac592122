"""Config system: pysot defaults, fresh copies, _BASE_ inheritance, overrides, clear errors."""
import textwrap

import pytest

from pysiam.config import ConfigError, get_cfg, list_configs, load_config

# pysot's siamrpn_r50_l234_dwxcorr_lt experiment file, in pysot's own format (legacy keys included).
PYSOT_LT_YAML = textwrap.dedent("""\
    META_ARC: "siamrpn_r50_l234_dwxcorr"
    BACKBONE:
        TYPE: "resnet50"
        KWARGS:
            used_layers: [2, 3, 4]
        CHANNELS: [512, 1024, 2048]
    ADJUST:
        ADJUST: true
        TYPE: "AdjustAllLayer"
        ADJUST_CHANNEL: [128, 256, 512]
        KWARGS:
            in_channels: [512, 1024, 2048]
            out_channels: [128, 256, 512]
    RPN:
        TYPE: 'MultiRPN'
        WEIGHTED: True
        KWARGS:
            anchor_num: 5
            in_channels: [128, 256, 512]
            weighted: true
    MASK:
        MASK: False
    ANCHOR:
        STRIDE: 8
        RATIOS: [0.33, 0.5, 1, 2, 3]
        SCALES: [8]
        ANCHOR_NUM: 5
    TRACK:
        TYPE: 'SiamRPNLTTracker'
        PENALTY_K: 0.05
        WINDOW_INFLUENCE: 0.28
        LR: 0.22
        EXEMPLAR_SIZE: 127
        INSTANCE_SIZE: 255
        BASE_SIZE: 8
        CONTEXT_AMOUNT: 0.5
        CONFIDENCE_LOW: 0.8
        CONFIDENCE_HIGH: 0.998
    TRAIN:
        EPOCH: 20
        LR:
            TYPE: 'log'
            KWARGS:
                start_lr: 0.005
                end_lr: 0.0005
    DATASET:
        NAMES:
        - 'VID'
        - 'YOUTUBEBB'
        NEG: 0.2
""")


def test_defaults_match_pysot():
    cfg = get_cfg()
    assert cfg.ANCHOR.RATIOS == [0.33, 0.5, 1, 2, 3] and cfg.ANCHOR.ANCHOR_NUM == 5
    assert (cfg.TRACK.PENALTY_K, cfg.TRACK.WINDOW_INFLUENCE, cfg.TRACK.LR) == (0.04, 0.44, 0.4)
    assert (cfg.TRACK.EXEMPLAR_SIZE, cfg.TRACK.INSTANCE_SIZE, cfg.TRACK.BASE_SIZE) == (127, 255, 8)
    assert cfg.TRACK.LOST_INSTANCE_SIZE == 831 and cfg.TRACK.MASK_THERSHOLD == 0.30
    assert (cfg.TRAIN.THR_HIGH, cfg.TRAIN.THR_LOW, cfg.TRAIN.TOTAL_NUM) == (0.6, 0.3, 64)
    assert (cfg.TRAIN.BASE_LR, cfg.TRAIN.GRAD_CLIP, cfg.TRAIN.LOC_WEIGHT) == (0.005, 10.0, 1.2)
    assert cfg.DATASET.VID.FRAME_RANGE == 100 and cfg.DATASET.VID.NUM_USE == 100000
    assert cfg.DATASET.VIDEOS_PER_EPOCH == 600000 and cfg.DATASET.SEARCH.SHIFT == 64


def test_get_cfg_is_a_fresh_copy():
    a = get_cfg()
    a.TRACK.LR = 0.99
    assert get_cfg().TRACK.LR == 0.4


def test_every_default_key_has_a_comment():
    import re
    from pathlib import Path

    import pysiam.config.defaults as d
    lines = Path(d.__file__).read_text().splitlines()
    for i, line in enumerate(lines):
        if re.match(r"^_C(\.\w+)+ = ", line):
            assert lines[i - 1].lstrip().startswith("#"), f"no comment above line {i + 1}: {line}"


@pytest.mark.parametrize("name", list_configs())
def test_shipped_configs_load(name):
    cfg = load_config(name)
    assert cfg.ANCHOR.ANCHOR_NUM == len(cfg.ANCHOR.RATIOS) * len(cfg.ANCHOR.SCALES)


def test_released_test_time_values():
    # pysot's released models: penalty k / window influence / lr of their experiment YAMLs.
    expect = {
        "siamrpn_r50_l234_dwxcorr": (0.05, 0.42, 0.38),
        "siamrpn_r50_l234_dwxcorr_otb": (0.24, 0.5, 0.25),
        "siammask_r50_l3": (0.10, 0.41, 0.32),
        "siamrpn_alex_dwxcorr": (0.16, 0.40, 0.30),
    }
    for name, vals in expect.items():
        t = load_config(name).TRACK
        assert (t.PENALTY_K, t.WINDOW_INFLUENCE, t.LR) == vals, name
    assert load_config("siammask_r50_l3").TRACK.MASK_THERSHOLD == 0.15
    alex = load_config("siamrpn_alex_dwxcorr").TRACK
    assert (alex.INSTANCE_SIZE, alex.BASE_SIZE) == (287, 0)
    assert load_config("siamrpn_r50_l234_dwxcorr_otb").RPN.KWARGS.weighted is False


def test_pysot_experiment_yaml_loads_unchanged(tmp_path):
    p = tmp_path / "config.yaml"
    p.write_text(PYSOT_LT_YAML)
    cfg = load_config(p)
    assert cfg.TRACK.TYPE == "SiamRPNLTTracker" and cfg.TRACK.CONFIDENCE_LOW == 0.8
    assert cfg.ADJUST.KWARGS.out_channels == [128, 256, 512]
    assert cfg.TRAIN.LR.KWARGS.end_lr == 0.0005
    assert list(cfg.DATASET.NAMES) == ["VID", "YOUTUBEBB"]
    # A pysot experiment folder works as well.
    assert load_config(tmp_path).TRACK.LR == 0.22


def test_base_inheritance_and_overrides(tmp_path):
    (tmp_path / "base.yaml").write_text("TRACK:\n  LR: 0.2\n  PENALTY_K: 0.1\nTRAIN:\n  EPOCH: 3\n")
    (tmp_path / "child.yaml").write_text("_BASE_: base.yaml\nTRACK:\n  LR: 0.3\n")
    cfg = load_config(tmp_path / "child.yaml", ["TRAIN.EPOCH", "7", "TRACK.TYPE", "SiamMaskTracker",
                                                 "ANCHOR.RATIOS", "[1, 2]", "TRACK.LR", "1"])
    assert cfg.TRACK.PENALTY_K == 0.1          # from the base
    assert cfg.TRACK.LR == 1.0 and isinstance(cfg.TRACK.LR, float)  # child, then override cast
    assert cfg.TRAIN.EPOCH == 7 and cfg.TRACK.TYPE == "SiamMaskTracker"
    assert cfg.ANCHOR.RATIOS == [1, 2] and cfg.ANCHOR.ANCHOR_NUM == 2
    # a shipped config is a valid base by name
    (tmp_path / "c2.yaml").write_text("_BASE_: siamrpn_alex_dwxcorr\nTRACK:\n  LR: 0.5\n")
    cfg = load_config(tmp_path / "c2.yaml")
    assert cfg.BACKBONE.TYPE == "alexnetlegacy" and cfg.TRACK.LR == 0.5


def test_misspelt_key_in_file_names_file_line_and_nearest(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text("TRACK:\n  LR: 0.3\n  PENALTY_KK: 0.1\n")
    with pytest.raises(ConfigError) as e:
        load_config(p)
    msg = str(e.value)
    assert str(p) in msg and "line 3" in msg and "TRACK.PENALTY_KK" in msg
    assert "nearest valid key: TRACK.PENALTY_K" in msg


def test_misspelt_override_names_nearest():
    with pytest.raises(ConfigError, match=r"TRACK\.WINDOW_INFLUENCE"):
        load_config("siamrpn_alex_dwxcorr", ["TRACK.WINDOW_INFLUENSE", "0.3"])
    with pytest.raises(ConfigError, match="odd"):
        load_config(None, ["TRACK.LR"])
    with pytest.raises(ConfigError, match="expects float"):
        load_config(None, ["TRACK.LR", "fast"])


def test_dataset_accepts_new_sources_but_not_new_scalars(tmp_path):
    p = tmp_path / "d.yaml"
    p.write_text("DATASET:\n  GOT10K:\n    ROOT: x\n    ANNO: y\n")
    assert load_config(p).DATASET.GOT10K.ROOT == "x"
    p.write_text("DATASET:\n  NEGG: 0.3\n")
    with pytest.raises(ConfigError, match="nearest valid key: DATASET.NEG"):
        load_config(p)


def test_missing_and_broken_files(tmp_path):
    with pytest.raises(ConfigError, match="did you mean siamrpn_alex_dwxcorr"):
        load_config("siamrpn_alex_dwxcor")
    p = tmp_path / "broken.yaml"
    p.write_text("TRACK:\n  LR: [0.3\n")
    with pytest.raises(ConfigError, match="line"):
        load_config(p)
    p.write_text("- a\n- b\n")
    with pytest.raises(ConfigError, match="mapping"):
        load_config(p)
    (tmp_path / "loop.yaml").write_text("_BASE_: loop.yaml\n")
    with pytest.raises(ConfigError, match="cycle"):
        load_config(tmp_path / "loop.yaml")


def test_experiment_folders_load():
    from pathlib import Path
    folders = sorted(p.parent for p in (Path(__file__).parent.parent / "experiments").glob("*/config.yaml"))
    assert folders, "no experiments/*/config.yaml"
    for f in folders:
        load_config(f)
