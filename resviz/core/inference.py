"""A working copy of a net for inference only: BN folded into the convolutions, NHWC.

Evaluation and the lesion study (and the loss landscapes of issue #13) never train, so
each BatchNorm in eval mode is a fixed per-channel affine map, ``gamma (z - mean) /
sqrt(var + eps) + beta``, that can be folded into the weights and a bias of the
convolution before it (Ioffe and Szegedy 2015, arXiv:1502.03167, section 3.2; the same
rewrite as ``torch.fx.experimental.optimization.fuse``). That removes one memory pass per
layer, which on a CPU costs about as much as the small convolutions of the CIFAR nets.

The copy keeps the model's classes and switches: every conv/BN pair is folded *inside*
its branch (the residual branch's convs, the stem, the projection shortcut's own conv and
BN), and the BN modules become identities, so ``shortcut_on`` / ``residual_on`` and the
block-by-block runs of the lesion study work on the copy exactly as on the original.
Only the copy changes; the original keeps training or being inspected.

Measured on the project's CPU (AMD EPYC, 2 shared cores, one thread, load 1.5-3), resnet56
on 1,000 CIFAR-10 test images: the lesion study took 0.325x the time of 55 plain eager
evaluations folded and channels-last, 0.398x unfolded in NCHW, 0.416x folded in NCHW
(benchmarks/lesion.py --variants): folding pays together with NHWC. ``torch.compile`` of the
folded copy was not kept: one evaluation of the 1,000 images took 4.2 s compiled against
4.6 s eager (medians of 4 rounds), after a 24 s compile, so it pays only past ~50
evaluations of one switch setting, and the lesion study changes the setting at every run.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from .models import ResNet

__all__ = ["INFERENCE_CHANNELS_LAST", "fold_bn", "fold_model", "inference_copy", "to_input_format"]

#: NHWC for inference on every device: on the project's CPU the folded NHWC copy ran the
#: lesion study at 0.325x of 55 plain evaluations, the folded NCHW one at 0.416x (above).
INFERENCE_CHANNELS_LAST = True


@torch.no_grad()
def fold_bn(conv: nn.Conv2d, bn: nn.BatchNorm2d) -> nn.Conv2d:
    """A new conv computing ``bn(conv(x))`` with ``bn`` in eval mode (running statistics)."""
    scale = bn.weight / torch.sqrt(bn.running_var + bn.eps) if bn.affine else torch.rsqrt(bn.running_var + bn.eps)
    shift = (bn.bias if bn.affine else torch.zeros_like(scale)) - bn.running_mean * scale
    folded = nn.Conv2d(
        conv.in_channels,
        conv.out_channels,
        conv.kernel_size,
        stride=conv.stride,
        padding=conv.padding,
        dilation=conv.dilation,
        groups=conv.groups,
        bias=True,
        padding_mode=conv.padding_mode,
    ).to(device=conv.weight.device, dtype=conv.weight.dtype)
    folded.weight.copy_(conv.weight * scale.reshape(-1, 1, 1, 1))
    bias = conv.bias * scale if conv.bias is not None else torch.zeros_like(scale)
    folded.bias.copy_(bias + shift)
    return folded


def _pairs(model: ResNet) -> list[tuple[nn.Module, str, str]]:
    """(owner, conv attribute, BN attribute) of every conv followed by its BN."""
    pairs: list[tuple[nn.Module, str, str]] = [(model, "conv1", "bn1")]
    for block in model.blocks():
        for i in (1, 2, 3):
            if hasattr(block, f"conv{i}"):
                pairs.append((block, f"conv{i}", f"bn{i}"))
        if isinstance(block.downsample, nn.Sequential) and len(block.downsample) == 2:
            pairs.append((block.downsample, "0", "1"))  # the projection shortcut: conv1x1, BN
    return pairs


def fold_model(model: ResNet) -> ResNet:
    """Fold every BN of ``model`` (in place) into the conv before it; returns ``model``.

    The model must be in eval mode: a training-mode BN uses the batch's statistics, which
    no fixed weights can reproduce.
    """
    if model.training:
        raise ValueError("fold BN only into a model in eval mode (model.eval())")
    for owner, conv_name, bn_name in _pairs(model):
        conv, bn = getattr(owner, conv_name), getattr(owner, bn_name)
        if not isinstance(bn, nn.BatchNorm2d):
            continue  # folded already
        setattr(owner, conv_name, fold_bn(conv, bn))
        setattr(owner, bn_name, nn.Identity())
    return model


def inference_copy(model: ResNet, *, channels_last: bool | None = None) -> ResNet:
    """An eval-mode copy of ``model`` with BN folded (and NHWC weights), switches included.

    Feed it inputs in the same memory format (``x.contiguous(memory_format=
    torch.channels_last)`` where ``channels_last``); the copy never shares a tensor with
    ``model``, so the original can go on training meanwhile.
    """
    work = copy.deepcopy(model).eval()
    work.attach_probe(None)
    fold_model(work)
    for p in work.parameters():
        p.requires_grad_(False)
    if INFERENCE_CHANNELS_LAST if channels_last is None else channels_last:
        work.to(memory_format=torch.channels_last)
    return work


def to_input_format(x: torch.Tensor, model: nn.Module) -> torch.Tensor:
    """``x`` in the memory format of ``model``'s first conv weights (NHWC or NCHW)."""
    weight = next(model.parameters())
    if weight.dim() == 4 and weight.is_contiguous(memory_format=torch.channels_last) and not weight.is_contiguous():
        return x.contiguous(memory_format=torch.channels_last)
    return x
