"""pysiam: Siamese visual object tracking (SiamRPN++, SiamMask) on modern PyTorch."""
from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).resolve().parent
REQUIRES = [line.split("#")[0].strip() for line in (HERE / "requirements.txt").read_text().splitlines()
            if line.split("#")[0].strip()]

setup(
    name="pysiam",
    version="0.1.0",
    description="Siamese visual object tracking research framework (SiamRPN++, SiamMask)",
    long_description=(HERE / "README.md").read_text(),
    long_description_content_type="text/markdown",
    license="Apache-2.0",
    python_requires=">=3.9",
    packages=find_packages(include=["pysiam", "pysiam.*"]),
    package_data={"pysiam": ["configs/*.yaml", "configs/tune_spaces/*.yaml"]},
    install_requires=REQUIRES,
    extras_require={
        "vision": ["torchvision"],
        # ONNX export and the onnxruntime backend (pysiam.deploy, pysiam-export)
        "deploy": ["onnx>=1.16", "onnxscript>=0.5", "onnxruntime>=1.18"],
        "test": ["pytest>=7", "pytest-xdist", "onnx>=1.16", "onnxscript>=0.5", "onnxruntime>=1.18"],
        # TraX server for the VOT toolkit (pysiam-vot); the toolkit itself lives in its own venv
        "vot": ["vot-trax>=4.0.1"],
    },
    entry_points={
        "console_scripts": [
            f"pysiam-{name}=pysiam.cli.{name}:main"
            for name in ("train", "test", "eval", "demo", "benchmark", "prepare_data", "tune", "make_synthetic",
                         "convert_siammask", "gpu_check", "export", "box_oracle",
                         "quickstart")
        ] + ["pysiam-vot=pysiam.vot.trax_server:main",
             "pysiam-vot_workspace=pysiam.cli.vot_workspace:main"],
    },
)
