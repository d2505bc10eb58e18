"""The paper's two families of networks, in torchvision's module layout.

* CIFAR (section 4.2): a 3x3 conv with 16 filters, then three stages of ``n`` basic blocks
  on 16/32/64 filters and 32/16/8 maps (stride-2 convs downsample), global average
  pooling and an N-way fully connected layer: 6n+2 weighted layers.
* ImageNet (section 3.4, Table 1): a 7x7/2 conv and a max pool, four stages of basic or
  bottleneck blocks, average pooling and a 1000-way fully connected layer.

Both keep torchvision's names (``conv1``, ``bn1``, ``layer1..N``, ``downsample``, ``fc``),
so ``torchvision.models.resnet50().state_dict()`` loads into our ``resnet50`` strictly.

Shortcut options (section 3.3): A, zero-padding identity (no parameters); B, projections
only where dimensions change; C, projections everywhere.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Literal

import torch
from torch import Tensor, nn

from ..archs import IMAGENET_BLOCKS, SHORTCUT_OPTIONS, ShortcutOption, arch_name
from .blocks import BasicBlock, Bottleneck, PadShortcut, Probe, ProbedBlock, conv1x1

__all__ = ["ResNet", "cifar_resnet", "imagenet_resnet", "SHORTCUT_OPTIONS"]

Family = Literal["cifar", "imagenet"]


def _shortcut_modules(
    option: ShortcutOption, inplanes: int, outplanes: int, stride: int
) -> tuple[nn.Module | None, PadShortcut | None]:
    """The (downsample, pad_shortcut) pair a block gets for one shortcut option."""
    changes = stride != 1 or inplanes != outplanes
    if option == "C" or (option == "B" and changes):
        projection = nn.Sequential(conv1x1(inplanes, outplanes, stride), nn.BatchNorm2d(outplanes))
        return projection, None
    if option == "A" and changes:
        return None, PadShortcut(inplanes, outplanes, stride)
    if option not in SHORTCUT_OPTIONS:
        raise ValueError(f"unknown shortcut option {option!r}; choose one of A, B, C")
    return None, None


class ResNet(nn.Module):
    """A residual network whose shortcuts can be switched off, per block or all at once.

    ``plainN`` is this class with every shortcut off: the same parameters, the same
    weights file (section 4.1). ``arch_name`` is the name it was built as (``resnet20``,
    ``plain56``), recorded in checkpoints and shown in reports.
    """

    def __init__(
        self,
        *,
        arch_name: str,
        family: Family,
        block: type[BasicBlock] | type[Bottleneck],
        layers: Sequence[int],
        widths: Sequence[int],
        stem: nn.Module,
        stem_width: int,
        num_classes: int,
        shortcut: ShortcutOption,
        shortcuts_on: bool = True,
    ) -> None:
        super().__init__()
        self.arch_name = arch_name
        self.family: Family = family
        self.shortcut_option: ShortcutOption = shortcut
        self.num_classes = num_classes
        self.inplanes = stem_width
        self._probe: Probe | None = None
        # torchvision's names for the stem, so its state dicts load strictly.
        self.conv1 = stem[0]
        self.bn1 = stem[1]
        self.relu = nn.ReLU()
        self.maxpool = stem[2] if len(stem) > 2 else nn.Identity()
        self.stages: list[str] = []
        for i, (n_blocks, width) in enumerate(zip(layers, widths, strict=True)):
            stride = 1 if i == 0 else 2
            name = f"layer{i + 1}"
            setattr(self, name, self._make_stage(block, width, n_blocks, stride, shortcut))
            self.stages.append(name)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(widths[-1] * block.expansion, num_classes)
        self._init_weights(family)
        self.set_shortcuts(shortcuts_on)

    def _make_stage(
        self, block: type[BasicBlock] | type[Bottleneck], planes: int, n: int, stride: int, option: ShortcutOption
    ) -> nn.Sequential:
        blocks = []
        for j in range(n):
            s = stride if j == 0 else 1
            downsample, pad = _shortcut_modules(option, self.inplanes, planes * block.expansion, s)
            blocks.append(block(self.inplanes, planes, s, downsample=downsample, pad_shortcut=pad))
            self.inplanes = planes * block.expansion
        return nn.Sequential(*blocks)

    def _init_weights(self, family: Family) -> None:
        # He initialisation (He et al. 2015, arXiv:1502.01852), cited by the paper in 3.4.
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
        if family == "cifar":
            # The pytorch_resnet_cifar10 reproduction also He-initialises the head; keeps
            # the first logits small on 10 classes.
            nn.init.kaiming_normal_(self.fc.weight)

    # -- blocks and switches ------------------------------------------------------------

    def blocks(self) -> list[ProbedBlock]:
        """Every residual block, in depth order."""
        return [b for name in self.stages for b in getattr(self, name)]

    def block_names(self) -> list[str]:
        """Every block's name in depth order, as torchvision's state dicts spell it: ``layer2.0``."""
        return [f"{stage}.{i}" for stage in self.stages for i in range(len(getattr(self, stage)))]

    def _set_per_block(self, attr: str, on: bool | Sequence[bool]) -> None:
        blocks = self.blocks()
        states = [bool(on)] * len(blocks) if isinstance(on, bool) else [bool(v) for v in on]
        if len(states) != len(blocks):
            raise ValueError(f"{len(states)} {attr} states for {len(blocks)} blocks")
        for b, s in zip(blocks, states, strict=True):
            setattr(b, attr, s)

    def set_shortcuts(self, on: bool | Sequence[bool]) -> None:
        """Switch every shortcut on or off, or each one from a sequence in depth order."""
        self._set_per_block("shortcut_on", on)

    def shortcuts(self) -> list[bool]:
        """The shortcut switch of every block, in depth order."""
        return [b.shortcut_on for b in self.blocks()]

    def set_residuals(self, on: bool | Sequence[bool]) -> None:
        """Keep (True) or delete (False) each block's residual branch (lesion study)."""
        self._set_per_block("residual_on", on)

    def residuals(self) -> list[bool]:
        """Whether each block's residual branch is present, in depth order."""
        return [b.residual_on for b in self.blocks()]

    @property
    def is_plain(self) -> bool:
        """True when every shortcut is off."""
        return not any(self.shortcuts())

    @property
    def current_arch(self) -> str:
        """The name of what the net computes now: ``arch_name``, or its plain twin's
        (``resnet20`` -> ``plain20``) while every shortcut is switched off."""
        return self.arch_name.replace("resnet", "plain", 1) if self.is_plain else self.arch_name

    # -- telemetry ----------------------------------------------------------------------

    def attach_probe(self, probe: Probe | None) -> None:
        """Record residual ratios and response stds on the next forward passes (or stop)."""
        self._probe = probe
        for b in self.blocks():
            b.probe = probe

    def conv3x3_layers(self) -> list[nn.Conv2d]:
        """Every 3x3 conv in depth order: the layers whose responses Fig. 7 plots."""
        return [m for m in self.modules() if isinstance(m, nn.Conv2d) and m.kernel_size == (3, 3)]

    def weighted_layers(self) -> list[tuple[str, nn.Module]]:
        """Every conv and the fully connected head, in depth order, with their names."""
        return [(name, m) for name, m in self.named_modules() if isinstance(m, (nn.Conv2d, nn.Linear))]

    # -- forward ------------------------------------------------------------------------

    def stem(self, x: Tensor, probe: Probe | None = None) -> Tensor:
        """What enters the first block: conv1, BN, ReLU (and the max pool of ImageNet nets).

        Records the stem's response into ``probe`` (else into the attached probe, if any).
        """
        out = self.bn1(self.conv1(x))
        probe = probe if probe is not None else self._probe
        if probe is not None and self.conv1.kernel_size == (3, 3):
            probe.response(out)  # the CIFAR stem is a 3x3 layer too (Fig. 7 counts it)
        return self.maxpool(self.relu(out))

    def head(self, x: Tensor) -> Tensor:
        """The logits from the last block's output: global average pool, fully connected."""
        return self.fc(torch.flatten(self.avgpool(x), 1))

    def features(self, x: Tensor) -> Iterator[tuple[str, Tensor]]:
        """The stem's and each stage's output in turn (activations by level)."""
        x = self.stem(x)
        yield "stem", x
        for name in self.stages:
            x = getattr(self, name)(x)
            yield name, x

    def forward(self, x: Tensor) -> Tensor:
        # The stem's and every stage's output in turn; the last one goes to the head. A plain
        # loop (not unpacking) is what torch.compile traces here.
        for _, x in self.features(x):  # noqa: B007, B020
            pass
        return self.head(x)


def cifar_resnet(
    depth: int, *, num_classes: int = 10, shortcut: ShortcutOption = "A", plain: bool = False, in_channels: int = 3
) -> ResNet:
    """The paper's CIFAR-10 net with ``depth = 6n + 2`` layers (section 4.2)."""
    if depth < 8 or (depth - 2) % 6 != 0:
        raise ValueError(f"CIFAR ResNets have 6n+2 layers (8, 14, 20, 32, ...); got {depth}")
    n = (depth - 2) // 6
    stem = nn.Sequential(nn.Conv2d(in_channels, 16, kernel_size=3, stride=1, padding=1, bias=False), nn.BatchNorm2d(16))
    return ResNet(
        arch_name=arch_name(depth, plain),
        family="cifar",
        block=BasicBlock,
        layers=[n, n, n],
        widths=[16, 32, 64],
        stem=stem,
        stem_width=16,
        num_classes=num_classes,
        shortcut=shortcut,
        shortcuts_on=not plain,
    )


def imagenet_resnet(
    depth: int, *, num_classes: int = 1000, shortcut: ShortcutOption = "B", plain: bool = False
) -> ResNet:
    """The paper's ImageNet net of 18, 34, 50, 101 or 152 layers (Table 1)."""
    if depth not in IMAGENET_BLOCKS:
        raise ValueError(f"ImageNet ResNets have 18, 34, 50, 101 or 152 layers; got {depth}")
    kind, layers = IMAGENET_BLOCKS[depth]
    block = Bottleneck if kind == "bottleneck" else BasicBlock
    stem = nn.Sequential(
        nn.Conv2d(3, 64, kernel_size=7, stride=2, padding=3, bias=False),
        nn.BatchNorm2d(64),
        nn.MaxPool2d(kernel_size=3, stride=2, padding=1),
    )
    return ResNet(
        arch_name=arch_name(depth, plain),
        family="imagenet",
        block=block,
        layers=layers,
        widths=[64, 128, 256, 512],
        stem=stem,
        stem_width=64,
        num_classes=num_classes,
        shortcut=shortcut,
        shortcuts_on=not plain,
    )
