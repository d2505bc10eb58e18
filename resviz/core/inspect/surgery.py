"""Shortcut surgery on a loaded net: per-block switches, and reset to the original.

Two operations per block, as in the lesion study of Veit et al. 2016 (arXiv:1605.06431):
switch the *shortcut* off (the block becomes ``relu(F(x))``, its plain counterpart) or
delete the *residual* branch (``F := 0``, the block becomes ``relu(shortcut(x))``). The
switches live on the blocks themselves (:class:`~resviz.core.models.blocks.ProbedBlock`);
this module adds the block strip's description and remembers the original state.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal

from ..errors import ConfigError
from ..models import ResNet, level_of_block

__all__ = ["BlockInfo", "LesionKind", "LESION_KINDS", "Surgery", "block_table"]

LesionKind = Literal["residual", "shortcut"]
#: "residual": delete the block's residual branch; "shortcut": remove its shortcut.
LESION_KINDS: tuple[str, ...] = ("residual", "shortcut")


@dataclass(frozen=True)
class BlockInfo:
    """One residual block as the block strip shows it (depth order)."""

    index: int
    name: str  # layer2.0
    level: str  # low / mid / high
    downsamples: bool  # changes map size or width (marked in strips and charts)
    shortcut_on: bool
    residual_on: bool


def block_table(model: ResNet) -> list[BlockInfo]:
    """Every block of ``model`` in depth order, with its switches as they are now."""
    return [
        BlockInfo(i, name, level, b.downsamples, b.shortcut_on, b.residual_on)
        for i, (name, level, b) in enumerate(
            zip(model.block_names(), level_of_block(model), model.blocks(), strict=True)
        )
    ]


class Surgery:
    """Switch single shortcuts and residual branches of ``model``; :meth:`reset` undoes all."""

    def __init__(self, model: ResNet) -> None:
        self.model = model
        self._original = (model.shortcuts(), model.residuals())

    def __len__(self) -> int:
        return len(self._original[0])

    def _block(self, index: int):
        blocks = self.model.blocks()
        if not 0 <= index < len(blocks):
            raise ConfigError(f"block {index} does not exist: the net has blocks 0 to {len(blocks) - 1}")
        return blocks[index]

    def set_shortcut(self, index: int, on: bool) -> None:
        """Switch block ``index``'s shortcut on or off."""
        self._block(index).shortcut_on = bool(on)

    def set_residual(self, index: int, on: bool) -> None:
        """Keep (True) or delete (False) block ``index``'s residual branch."""
        self._block(index).residual_on = bool(on)

    def reset(self) -> None:
        """Restore every switch to what it was when this Surgery was made."""
        self.model.set_shortcuts(self._original[0])
        self.model.set_residuals(self._original[1])

    @property
    def changed(self) -> bool:
        """True when some switch differs from the original."""
        return (self.model.shortcuts(), self.model.residuals()) != self._original

    def blocks(self) -> list[BlockInfo]:
        """The block strip: every block with its current switches."""
        return block_table(self.model)

    @contextmanager
    def lesioned(self, kind: LesionKind, index: int) -> Iterator[None]:
        """Within the block, ``kind`` is removed at block ``index``; restored afterwards."""
        block = self._block(index)
        attr = _switch_attr(kind)
        before = getattr(block, attr)
        setattr(block, attr, False)
        try:
            yield
        finally:
            setattr(block, attr, before)


def _switch_attr(kind: str) -> str:
    if kind == "residual":
        return "residual_on"
    if kind == "shortcut":
        return "shortcut_on"
    raise ConfigError(f"unknown lesion {kind!r}: choose residual or shortcut")
