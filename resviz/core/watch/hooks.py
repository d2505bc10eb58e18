"""Forward hooks that measure residual ratios and responses on probing steps only.

The numbers must be taken inside the hooks: torchvision's and timm's blocks add the
shortcut into F(x) in place (``out += identity``) and then apply an in-place ReLU, so
the tensors the hooks see are overwritten before the block returns. Each hook therefore
reduces its tensor at once to a few numbers on the device (per-sample L2 norms, one std)
and keeps only those, in a slot per block or layer (a later forward of the same probing
step, gradient accumulation's, overwrites the earlier one's).

On other steps every hook returns after reading one boolean (``Probes.probing``, set by
the step counter in :class:`~resviz.core.watch.watch.Watch`). A module in eval mode is
never measured: an evaluation pass between two training steps is not the training batch.
The hooks only read their tensors (``detach``), so the net computes exactly what it
computes unwatched (a test compares every gradient with ``torch.equal``).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.utils.hooks import RemovableHandle

from .structure import Structure

__all__ = ["Probes", "sample_norms"]


def sample_norms(t: Tensor) -> Tensor:
    """L2 norm of each sample over C, H, W (as the trainer's Probe.ratio measures)."""
    return t.detach().flatten(1).float().norm(dim=1)


class Probes:
    """The hooks of one watched net and what they measured on the last probing forward."""

    def __init__(self, structure: Structure) -> None:
        self.probing = False
        n = len(structure.blocks)
        self.ratio: list[Tensor | None] = [None] * n
        self._f: list[Tensor | None] = [None] * n
        self._s: list[Tensor | None] = [None] * n
        self.std: list[Tensor | None] = [None] * len(structure.responses)
        self._handles: list[RemovableHandle] = []
        for i, block in enumerate(structure.blocks):
            self._hook_block(i, block.module, block.branch, block.shortcut)
        for j, (_, norm) in enumerate(structure.responses):
            self._handles.append(norm.register_forward_hook(self._response_hook(j)))

    def _hook_block(self, i: int, block: nn.Module, branch: nn.Module, shortcut: nn.Module | None) -> None:
        def before(module: nn.Module, args: tuple) -> None:
            if self.probing and module.training:
                self._f[i] = None
                self._s[i] = sample_norms(args[0]) if shortcut is None and args else None

        def f_of_x(module: nn.Module, args: tuple, out: Tensor) -> None:
            if self.probing and module.training:
                self._f[i] = sample_norms(out)

        def shortcut_of_x(module: nn.Module, args: tuple, out: Tensor) -> None:
            if self.probing and module.training:
                self._s[i] = sample_norms(out)

        def after(module: nn.Module, args: tuple, out: Tensor) -> None:
            if self.probing and module.training:
                f, s = self._f[i], self._s[i]
                if f is not None and s is not None and f.shape == s.shape:
                    self.ratio[i] = (f / s.clamp_min(1e-12)).mean()

        self._handles += [
            block.register_forward_pre_hook(before),
            branch.register_forward_hook(f_of_x),
            block.register_forward_hook(after),
        ]
        if shortcut is not None:
            self._handles.append(shortcut.register_forward_hook(shortcut_of_x))

    def _response_hook(self, j: int):
        def response(module: nn.Module, args: tuple, out: Tensor) -> None:
            if self.probing and module.training:
                self.std[j] = out.detach().float().std()

        return response

    def take(self, device: torch.device) -> tuple[Tensor, Tensor]:
        """(ratios, stds) measured since the last take, NaN where nothing was; slots cleared."""
        nan = torch.full((), float("nan"), device=device)
        ratios = (
            torch.stack([r.to(device) if r is not None else nan for r in self.ratio])
            if self.ratio
            else torch.empty(0, device=device)
        )
        stds = (
            torch.stack([s.to(device) if s is not None else nan for s in self.std])
            if self.std
            else torch.empty(0, device=device)
        )
        self.ratio = [None] * len(self.ratio)
        self.std = [None] * len(self.std)
        return ratios, stds

    @property
    def measured(self) -> bool:
        """Whether any block or layer was measured since the last take."""
        return any(r is not None for r in self.ratio) or any(s is not None for s in self.std)

    def remove(self) -> None:
        for h in self._handles:
            h.remove()
        self._handles.clear()
