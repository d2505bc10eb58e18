"""Residual blocks with a shortcut switch and a removable residual branch.

Follows the shape of ``torchvision.models.resnet`` (``conv1``/``bn1``, an injected
``downsample``, ``identity = x ... out += identity``) so torchvision state dicts load
unchanged, and adds what the paper's experiments need:

* ``shortcut_on``: with it off the block computes ``relu(F(x))``, the *plain* counterpart
  of the same block (He et al. 2016, section 4.1: plain nets are the residual nets without
  shortcuts, same parameters).
* ``residual_on``: with it off the block computes ``relu(shortcut(x))``, i.e. ``F := 0``,
  the lesion of Veit et al. 2016 (arXiv:1605.06431).
* a probe: when a :class:`Probe` is attached, the forward pass records, on the device and
  without host syncs, ``|F(x)| / |shortcut(x)|`` per sample and the std of every 3x3
  layer's response after BN (paper Fig. 7).

Each block owns its ReLU modules instead of reusing one, and none is in-place: Captum's
DeepLift and GuidedBackprop hook ReLU modules, and misattribute (or fail, on an in-place
op after a backward hook) when one module is called twice or modifies its input.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

__all__ = [
    "Probe",
    "ProbedBlock",
    "BasicBlock",
    "Bottleneck",
    "PadShortcut",
    "conv3x3",
    "conv1x1",
]


def conv3x3(in_planes: int, out_planes: int, stride: int = 1) -> nn.Conv2d:
    """3x3 convolution with padding, no bias (a BN follows every conv)."""
    return nn.Conv2d(in_planes, out_planes, kernel_size=3, stride=stride, padding=1, bias=False)


def conv1x1(in_planes: int, out_planes: int, stride: int = 1) -> nn.Conv2d:
    """1x1 convolution, no bias."""
    return nn.Conv2d(in_planes, out_planes, kernel_size=1, stride=stride, bias=False)


class PadShortcut(nn.Module):
    """Option A shortcut: identity, subsampled by ``stride``, new channels zero-padded.

    The paper (section 4.2) only says "zero-padding"; we pad ``extra // 2`` channels on each
    side, the layout of the widely used pytorch_resnet_cifar10 reproduction, so its
    checkpoints load into our nets without any change to the shortcut.
    """

    def __init__(self, in_planes: int, out_planes: int, stride: int) -> None:
        super().__init__()
        self.stride = stride
        extra = out_planes - in_planes
        self.pad_before = extra // 2
        self.pad_after = extra - extra // 2

    def forward(self, x: Tensor) -> Tensor:
        if self.stride != 1:
            x = x[:, :, :: self.stride, :: self.stride]
        return F.pad(x, (0, 0, 0, 0, self.pad_before, self.pad_after))


class Probe:
    """Collects telemetry tensors during one forward pass, all left on the device.

    Blocks append in depth order; the trainer stacks them and moves them to the host in a
    single transfer (DESIGN.md, "the hot path").
    """

    def __init__(self) -> None:
        self.residual_ratio: list[Tensor] = []
        self.response_std: list[Tensor] = []

    def ratio(self, residual: Tensor, shortcut: Tensor) -> None:
        """Record mean over the batch of ``|F(x)| / |shortcut(x)|`` (L2 over C, H, W)."""
        r = residual.detach().flatten(1).float().norm(dim=1)
        s = shortcut.detach().flatten(1).float().norm(dim=1)
        self.residual_ratio.append((r / s.clamp_min(1e-12)).mean())

    def response(self, out: Tensor) -> None:
        """Record the std of a 3x3 layer's output after BN (paper Fig. 7)."""
        self.response_std.append(out.detach().float().std())


class ProbedBlock(nn.Module):
    """What every residual block shares: the two switches, the probe, the final sum."""

    expansion: int = 1
    downsample: nn.Module | None
    #: the module that carries a downsampling shortcut's parameters (None for option A)

    def __init__(self) -> None:
        super().__init__()
        self.shortcut_on: bool = True
        self.residual_on: bool = True
        self.probe: Probe | None = None
        self.pad_shortcut: PadShortcut | None = None

    @property
    def downsamples(self) -> bool:
        """True where the block changes the map size or width (marked in block strips)."""
        return self.downsample is not None or self.pad_shortcut is not None

    def shortcut(self, x: Tensor) -> Tensor:
        """What flows past the residual branch: identity, zero-pad (A) or projection (B/C)."""
        if self.downsample is not None:
            return self.downsample(x)
        if self.pad_shortcut is not None:
            return self.pad_shortcut(x)
        return x

    def forward(self, x: Tensor) -> Tensor:
        return self.probed(x, self.probe)

    def probed(self, x: Tensor, probe: Probe | None) -> Tensor:
        """The block's output, recording its telemetry into ``probe`` (None: nothing).

        The probe is an argument rather than only an attribute so that a compiled probing
        forward (:mod:`resviz.core.train.compiled`) can make its own ``Probe`` inside the
        traced function and return what it collected as outputs.
        """
        if not self.residual_on:
            return self.combine(x, None)
        out = self.residual(x, probe)
        identity = None
        if probe is not None:
            # Measured even with the shortcut off: how large F(x) is next to what the
            # shortcut *would* carry is what tells plain and residual nets apart.
            identity = self.shortcut(x)
            probe.ratio(out, identity)
        return self.combine(x, out, identity)

    def combine(self, x: Tensor, residual: Tensor | None, identity: Tensor | None = None) -> Tensor:
        """The block's output from ``residual`` = F(x) computed already, switches as they are.

        ``residual`` None (or ``residual_on`` off) is the lesion F := 0: relu(shortcut(x)).
        The lesion study reuses the intact pass's F(x) through this instead of running the
        branch again for a switched block (``identity``: shortcut(x), if already at hand).
        """
        if residual is None or not self.residual_on:
            return self.relu_out(self.shortcut(x) if identity is None else identity)
        if not self.shortcut_on:
            return self.relu_out(residual)
        return self.relu_out(residual + (self.shortcut(x) if identity is None else identity))


class BasicBlock(ProbedBlock):
    """Two 3x3 convs (paper Fig. 2 left), used by the CIFAR nets and ResNet-18/34."""

    expansion = 1

    def __init__(
        self,
        inplanes: int,
        planes: int,
        stride: int = 1,
        downsample: nn.Module | None = None,
        pad_shortcut: PadShortcut | None = None,
    ) -> None:
        super().__init__()
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu1 = nn.ReLU()
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        self.relu_out = nn.ReLU()
        self.downsample = downsample
        self.pad_shortcut = pad_shortcut
        self.stride = stride

    def residual(self, x: Tensor, probe: Probe | None = None) -> Tensor:
        """F(x): conv-BN-ReLU-conv-BN, before the addition."""
        out = self.bn1(self.conv1(x))
        if probe is not None:
            probe.response(out)
        out = self.relu1(out)
        out = self.bn2(self.conv2(out))
        if probe is not None:
            probe.response(out)
        return out


class Bottleneck(ProbedBlock):
    """1x1-3x3-1x1 bottleneck (paper Fig. 5 right), ResNet-50/101/152.

    Stride sits on the 3x3 conv as in torchvision ("ResNet V1.5"), so torchvision's
    weights load and give torchvision's outputs.
    """

    expansion = 4

    def __init__(
        self,
        inplanes: int,
        planes: int,
        stride: int = 1,
        downsample: nn.Module | None = None,
        pad_shortcut: PadShortcut | None = None,
    ) -> None:
        super().__init__()
        width = planes
        self.conv1 = conv1x1(inplanes, width)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu1 = nn.ReLU()
        self.conv2 = conv3x3(width, width, stride)
        self.bn2 = nn.BatchNorm2d(width)
        self.relu2 = nn.ReLU()
        self.conv3 = conv1x1(width, planes * self.expansion)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)
        self.relu_out = nn.ReLU()
        self.downsample = downsample
        self.pad_shortcut = pad_shortcut
        self.stride = stride

    def residual(self, x: Tensor, probe: Probe | None = None) -> Tensor:
        """F(x): the 1x1-3x3-1x1 branch, before the addition."""
        out = self.relu1(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if probe is not None:
            probe.response(out)
        out = self.relu2(out)
        return self.bn3(self.conv3(out))
