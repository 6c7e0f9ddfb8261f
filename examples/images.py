"""Your own data and model: an image folder read by a torch `Dataset`, and a small ResNet.

`build` writes a folder of small PNGs (one sub-folder per class, like torchvision's ImageFolder)
into the temp directory the first time it is called, then returns a `Dataset` reading them: each
trial calls it on its own node, so nothing is shipped through the driver and nothing downloaded.
The classes are simple patterns (stripes, checks, a square, ...) with random phase, colour and
noise, so a small convolutional network learns them in a few epochs. Used by examples/images.yaml:

    autolearn sweep examples/images.yaml
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.utils.data import Dataset

PATTERNS = ("horizontal", "vertical", "diagonal", "checks", "square", "ring")


def _pattern(kind: str, size: int, rng: np.random.Generator) -> np.ndarray:
    """One grey pattern in [0, 1] of `kind`, at a random phase and period."""
    period = int(rng.integers(3, 6))
    phase = int(rng.integers(0, period))
    i, j = np.mgrid[0:size, 0:size]
    centre = (size - 1) / 2
    grids = {
        "horizontal": (i + phase) % period < period / 2,
        "vertical": (j + phase) % period < period / 2,
        "diagonal": (i + j + phase) % period < period / 2,
        "checks": ((i + phase) // 2 + (j + phase) // 2) % 2 == 0,
        "square": np.maximum(abs(i - centre), abs(j - centre)) < size / 4 + phase / 2,
        "ring": abs(np.hypot(i - centre, j - centre) - size / 3) < 1.5,
    }
    return grids[kind].astype(np.float32)


def _write_folder(root: Path, n_per_class: int, size: int, n_classes: int, seed: int) -> None:
    """Write the PNGs into a private folder, then move it into place: concurrent trials never see half."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    staging = Path(tempfile.mkdtemp(prefix=root.name + "-", dir=root.parent))
    for kind in PATTERNS[:n_classes]:
        (staging / kind).mkdir()
        for k in range(n_per_class):
            grey = _pattern(kind, size, rng)
            colour = rng.uniform(0.3, 1.0, size=3)
            pixels = grey[:, :, None] * colour + rng.normal(0, 0.1, size=(size, size, 3))
            Image.fromarray((np.clip(pixels, 0, 1) * 255).astype(np.uint8)).save(staging / kind / f"{k:04d}.png")
    try:
        os.rename(staging, root)
    except OSError:  # another trial finished first: its folder holds the same images
        shutil.rmtree(staging, ignore_errors=True)


class ImageFolder(Dataset):
    """`root/<class>/*.png` as (3×H×W float tensor, class index); `classes` as torchvision names it."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self.classes = sorted(p.name for p in self.root.iterdir() if p.is_dir())
        self.items = [(path, c) for c, name in enumerate(self.classes)
                      for path in sorted((self.root / name).glob("*.png"))]

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        from PIL import Image

        path, label = self.items[index]
        with Image.open(path) as image:
            pixels = np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0
        return (torch.from_numpy(pixels).permute(2, 0, 1) - 0.5) / 0.25, label


def build(n_per_class: int = 60, size: int = 16, n_classes: int = 3, seed: int = 0,
          root: str | None = None) -> ImageFolder:
    """The example's data set (one Dataset; `task.split` divides it). Written once per machine."""
    if not 2 <= n_classes <= len(PATTERNS):
        raise ValueError(f"n_classes must be between 2 and {len(PATTERNS)}, got {n_classes}")
    name = f"autolearn-images-{n_per_class}-{size}-{n_classes}-{seed}"
    folder = Path(root) if root else Path(tempfile.gettempdir()) / name
    if not folder.is_dir():
        folder.parent.mkdir(parents=True, exist_ok=True)
        _write_folder(folder, n_per_class, size, n_classes, seed)
    return ImageFolder(folder)


class _Block(nn.Module):
    """Two 3×3 convolutions with batch norm and a shortcut (a 1×1 convolution when the shape changes)."""

    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True),
            nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False), nn.BatchNorm2d(c_out))
        self.shortcut = (nn.Identity() if stride == 1 and c_in == c_out else
                         nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.body(x) + self.shortcut(x))


def resnet(input_shape: tuple[int, ...], n_outputs: int, width: int = 16, blocks: int = 1,
           stages: int = 2) -> nn.Module:
    """A ResNet-style network: a stem, `stages` stages of `blocks` residual blocks (the width doubles
    and the image halves per stage, as in resnet18), global average pooling, a linear head."""
    if len(input_shape) != 3:
        raise ValueError(f"resnet needs C×H×W images, got shape {tuple(input_shape)}")
    width, blocks, stages = int(width), int(blocks), int(stages)
    layers: list[nn.Module] = [nn.Conv2d(input_shape[0], width, 3, 1, 1, bias=False), nn.BatchNorm2d(width),
                               nn.ReLU(inplace=True)]
    c = width
    for stage in range(stages):
        out = width * 2 ** stage
        for b in range(blocks):
            layers.append(_Block(c, out, 2 if stage > 0 and b == 0 else 1))
            c = out
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, n_outputs))
