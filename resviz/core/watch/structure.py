"""What :func:`resviz.watch` measures in a user's net, found from its modules (issue #21).

A residual block computes ``relu(F(x) + shortcut(x))`` (He et al. 2016, Eq. 1). Blocks are
recognised by structure, not by class: a module with a ``downsample`` attribute (None or a
module) and numbered ``conv1 .. convN`` / ``bn1 .. bnN`` children, N >= 2, is the shape of
torchvision's and timm's ``BasicBlock``/``Bottleneck`` and of resviz's own blocks. F(x) is
the output of the branch's last module: ``bnN``, or after it timm's ``se`` and
``drop_path`` where the block has them (they run before the addition). The shortcut is the
``downsample`` output (resviz's option-A ``pad_shortcut``), else the block's input.

Other residual nets name their blocks with ``blocks=``: :class:`BlockSpec` globs of module
names plus the names of the branch's last submodule and of the shortcut submodule.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from torch import nn

from ..archs import LEVELS, parse_arch
from ..errors import ConfigError

__all__ = ["BlockSpec", "WatchedBlock", "Structure", "find_structure", "NO_BLOCKS_HINT"]

#: Said once when a net has no residual block resviz recognises.
NO_BLOCKS_HINT = (
    "no residual blocks found: residual ratios are not recorded (loss, error, gradient norms and responses are); "
    'name your blocks with blocks=[resviz.BlockSpec("stages.*.blocks.*", branch="bn2", shortcut="downsample")]'
)

_NORMS = (nn.modules.batchnorm._NormBase, nn.GroupNorm, nn.LayerNorm)


@dataclass(frozen=True)
class BlockSpec:
    """Residual blocks named by the user: modules whose names match ``pattern`` (a glob:
    ``*`` within one dotted part, ``**`` across parts) are blocks; ``branch`` names (relative to the block) the submodule
    whose output is F(x), ``shortcut`` the one whose output is the shortcut (None, or a
    block where that submodule is missing or None: the identity, the block's input)."""

    pattern: str
    branch: str
    shortcut: str | None = None


@dataclass(frozen=True)
class WatchedBlock:
    """One residual block: where F(x) and the shortcut are taken."""

    name: str
    module: nn.Module
    branch: nn.Module  # its output is F(x)
    shortcut: nn.Module | None  # its output is shortcut(x); None: the block's input
    stage: str  # the block's parent's name (a stage: layer1, layer2 ...)

    @property
    def downsamples(self) -> bool:
        return self.shortcut is not None


@dataclass(frozen=True)
class Structure:
    """Everything watched in one net, each list in depth (module registration) order."""

    blocks: list[WatchedBlock]
    #: (3x3 conv name, the norm module right after it) for the response stds (Fig. 7)
    responses: list[tuple[str, nn.Module]]
    #: (name, module) of every conv and linear layer: one gradient norm each
    weighted: list[tuple[str, nn.Module]]
    found_by: str  # "structure", "blocks=" or "none"

    def levels(self) -> list[str]:
        """low / mid / high per block: the first stage low, the last high, the rest mid
        (LEVEL_STAGES of the paper's CIFAR and ImageNet nets say the same)."""
        stages = list(dict.fromkeys(b.stage for b in self.blocks))
        level = {
            s: LEVELS[0] if i == 0 else LEVELS[2] if i == len(stages) - 1 else LEVELS[1] for i, s in enumerate(stages)
        }
        if len(stages) == 1:
            level = {stages[0]: LEVELS[1]}
        return [level[b.stage] for b in self.blocks]

    def layout(self) -> dict[str, list]:
        """Names for every index of the vector metrics, as the trainer's model_layout gives."""
        names = [n for n, _ in self.responses]
        return {
            "residual_ratio": [b.name for b in self.blocks],
            "response_std": names,
            "test_response_std": names,
            "grad_norm": [n for n, _ in self.weighted],
            "block_levels": self.levels(),
            "block_downsamples": [b.downsamples for b in self.blocks],
        }

    def arch(self) -> tuple[str, bool]:
        """A resviz architecture name for config.json (which readers parse), and whether it
        is the net's true name (its depth counted the paper's way: convs and linear layers,
        shortcut projections not counted)."""
        shortcut_convs = {id(m) for b in self.blocks if b.shortcut is not None for m in b.shortcut.modules()}
        depth = sum(1 for _, m in self.weighted if id(m) not in shortcut_convs)
        kind = "resnet" if self.blocks else "plain"
        try:
            parse_arch(f"{kind}{depth}")
            return f"{kind}{depth}", True
        except ConfigError:
            near = max(8, depth - (depth - 2) % 6)  # a CIFAR depth 6n+2 at most as deep
            return f"{kind}{min(near, 1202) if kind == 'resnet' else min(near, 110)}", False


def _unwrap(model: nn.Module) -> nn.Module:
    """The user's net inside a DDP/DataParallel wrapper."""
    inner = getattr(model, "module", None)
    return inner if isinstance(inner, nn.Module) and type(model).__name__ in _WRAPPERS else model


_WRAPPERS = ("DistributedDataParallel", "DataParallel")


def _numbered(block: nn.Module, prefix: str) -> list[nn.Module]:
    out, i = [], 1
    while isinstance(getattr(block, f"{prefix}{i}", None), nn.Module):
        out.append(getattr(block, f"{prefix}{i}"))
        i += 1
    return out


def _structural_block(block: nn.Module) -> tuple[nn.Module, nn.Module | None] | None:
    """(branch end, shortcut module) when ``block`` has a residual block's shape."""
    if not hasattr(block, "downsample"):
        return None
    convs, norms = _numbered(block, "conv"), _numbered(block, "bn")
    if len(convs) < 2 or len(norms) != len(convs) or not all(isinstance(n, _NORMS) for n in norms):
        return None
    branch = norms[-1]
    for extra in ("se", "drop_path"):  # timm: applied to F(x) before the addition
        m = getattr(block, extra, None)
        if isinstance(m, nn.Module) and not isinstance(m, nn.Identity):
            branch = m
    shortcut = block.downsample if isinstance(block.downsample, nn.Module) else None
    if shortcut is None and isinstance(getattr(block, "pad_shortcut", None), nn.Module):
        shortcut = block.pad_shortcut  # resviz's option A (zero-padding identity)
    return branch, shortcut


def _as_spec(item: BlockSpec | Mapping | Sequence) -> BlockSpec:
    if isinstance(item, BlockSpec):
        return item
    try:
        return BlockSpec(**item) if isinstance(item, Mapping) else BlockSpec(*item)
    except TypeError:
        raise ConfigError(
            f"blocks= takes BlockSpec(pattern, branch, shortcut) items (or dicts or tuples of them), not {item!r}"
        ) from None


def _named_blocks(named: dict[str, nn.Module], specs: Iterable) -> list[WatchedBlock]:
    found: list[WatchedBlock] = []
    for spec in map(_as_spec, specs):
        glob = _glob(spec.pattern)
        matched = [n for n in named if n and glob.fullmatch(n)]
        if not matched:
            raise ConfigError(
                f"blocks=: no module name matches {spec.pattern!r}; names look like "
                f"{', '.join(list(n for n in named if n)[:4])} (see model.named_modules())"
            )
        for name in matched:
            block = named[name]
            branch = block.get_submodule(spec.branch) if _has(block, spec.branch) else None
            if branch is None:
                raise ConfigError(f"blocks=: {name} has no submodule {spec.branch!r} to take F(x) from")
            shortcut = block.get_submodule(spec.shortcut) if spec.shortcut and _has(block, spec.shortcut) else None
            found.append(WatchedBlock(name, block, branch, shortcut, name.rpartition(".")[0]))
    return sorted(found, key=lambda b: list(named).index(b.name))


def _glob(pattern: str) -> re.Pattern:
    """A module-name glob: ``*`` within one dotted part (``layer*.*`` is every block of
    torchvision's stages, not their convs), ``**`` across parts, ``?`` one character."""
    parts = re.split(r"(\*\*|\*|\?)", pattern)
    table = {"**": ".*", "*": "[^.]*", "?": "[^.]"}
    return re.compile("".join(table.get(p, re.escape(p)) for p in parts))


def _has(module: nn.Module, target: str) -> bool:
    try:
        return isinstance(module.get_submodule(target), nn.Module)
    except AttributeError:
        return False


def _responses(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """Every 3x3 conv with the norm layer that follows it among its siblings."""
    out = []
    for parent_name, parent in model.named_modules():
        children = list(parent.named_children())
        for i, (name, conv) in enumerate(children):
            if not (isinstance(conv, nn.Conv2d) and conv.kernel_size == (3, 3)):
                continue
            norm = next((m for _, m in children[i + 1 :] if isinstance(m, _NORMS)), None)
            if norm is not None:
                out.append((f"{parent_name}.{name}" if parent_name else name, norm))
    return out


def find_structure(model: nn.Module, blocks: Iterable | None = None) -> Structure:
    """The blocks, response layers and weighted layers of ``model`` (see the module doc)."""
    model = _unwrap(model)
    named = dict(model.named_modules())
    if blocks is not None:
        specs = [blocks] if isinstance(blocks, (BlockSpec, Mapping)) else list(blocks)
        found, how = _named_blocks(named, specs), "blocks="
    else:
        found = []
        for name, module in named.items():
            parts = _structural_block(module)
            if parts is not None:
                found.append(WatchedBlock(name, module, parts[0], parts[1], name.rpartition(".")[0]))
        how = "structure"
    weighted = [(n, m) for n, m in named.items() if isinstance(m, (nn.Conv2d, nn.Linear))]
    return Structure(found, _responses(model), weighted, how if found else "none")
