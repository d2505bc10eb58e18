"""The twin of a trained net: the same depth with the shortcuts the other way (plain vs
residual), trained in the same comparison.

He et al. 2016 (section 4.1) compare each plain net with the residual net of the same depth
and recipe; Li et al. 2018 (Fig. 5) draw their loss surfaces side by side. The app's runs
list (and the experiment folder on disk, ``<time>-<group>/<run>``, the layout ``resviz
experiment`` writes) knows which run that is: the same family and depth, the other kind,
the same data; first one in the same folder with the same seed, then the one started closest
in time. This module finds it, and its checkpoint at the same step when there is one (else
its latest).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core.archs import spec_of
from ..core.errors import ResvizError

__all__ = ["TwinSearch", "find_twin"]


@dataclass(frozen=True)
class TwinSearch:
    """The twin's checkpoint (None: not found) and a line saying what was found or why not."""

    checkpoint: Path | None
    note: str


def _run_folder_of(path: Path) -> Path | None:
    from ..core.runs.reader import is_run_folder

    for folder in (path, *path.parents):
        if is_run_folder(folder):
            return folder
    return None


def _config(folder: Path) -> dict[str, Any] | None:
    from ..core.runs.reader import RunReader

    try:
        with RunReader(folder) as reader:
            return dict(reader.config)
    except (ResvizError, OSError, ValueError):
        return None


def _checkpoints(folder: Path) -> list[Path]:
    from ..core.runs.reader import RunReader

    try:
        with RunReader(folder) as reader:
            return reader.checkpoints()
    except (ResvizError, OSError):
        return []


#: Folders beside the net's run folder that are looked into, at most.
_MAX_BESIDE = 500


def _started(folder: Path) -> float:
    """When a run began: its config.json is written first."""
    try:
        return (folder / "config.json").stat().st_mtime
    except OSError:
        return 0.0


def _step(path: Path) -> int | None:
    m = re.search(r"(\d+)", path.stem)
    return int(m.group(1)) if m else None


def find_twin(source: str | Path, runs: Iterable[tuple[Path | None, dict[str, Any]]]) -> TwinSearch:
    """The twin of the net loaded from ``source`` (a checkpoint in a run folder), looked for
    among ``runs`` ((run folder, config) of the runs list) and the folders beside its own."""
    path = Path(str(source)).expanduser()
    own = _run_folder_of(path) if path.exists() else None
    if own is None:
        return TwinSearch(
            None,
            "no twin: the net was not loaded from a run folder, so nothing records the "
            "comparison it belongs to (load a checkpoint of a run resviz trained)",
        )
    config = _config(own) or {}
    spec = spec_of(config)
    if spec is None:
        return TwinSearch(None, f"no twin: {own.name}'s config names no net resviz knows")
    twin = spec.twin
    candidates: dict[Path, dict[str, Any]] = {}
    for folder, cfg in runs:
        if folder is not None:
            candidates[Path(folder).resolve()] = dict(cfg)
    try:
        beside = sorted(own.parent.iterdir()) if own.parent.is_dir() else []
    except OSError:  # a folder this user cannot list holds no twin for them
        beside = []
    for folder in beside[:_MAX_BESIDE]:  # a runs root of thousands of runs is not read whole
        # An entry that cannot be read (a symbolic link loop: resolve() raises RuntimeError;
        # a folder without permission) is not a twin; it must not end the search (issue #17).
        try:
            resolved = folder.resolve()
            if resolved not in candidates and folder.is_dir():
                cfg = _config(folder)
                if cfg is not None:
                    candidates[resolved] = cfg
        except (OSError, RuntimeError):
            continue
    candidates.pop(own.resolve(), None)

    def fits(cfg: dict[str, Any]) -> bool:
        other = spec_of(cfg)
        return (
            other is not None
            and other.name == twin.name
            and other.family == twin.family
            and cfg.get("data") == config.get("data")
            and cfg.get("image_size") == config.get("image_size")
        )

    found = [(folder, cfg) for folder, cfg in candidates.items() if fits(cfg)]
    if not found:
        return TwinSearch(
            None,
            f"no {twin.name} run found beside {own.name} or in the runs list: train the twin "
            f"(the same depth, shortcuts {'off' if twin.plain else 'on'}) and try again",
        )
    started = _started(own)

    def rank(f: tuple[Path, dict[str, Any]]) -> tuple:
        # The same folder and seed first (an experiment's pair), then the one started closest
        # in time: the app's comparisons sit side by side in the runs root.
        return (
            f[0].parent == own.resolve().parent,
            f[1].get("seed") == config.get("seed"),
            -abs(_started(f[0]) - started),
        )

    folder, cfg = max(found, key=rank)
    same_folder, same_seed = rank((folder, cfg))[:2]
    how = ("in the same folder" if same_folder else "in another folder") + ("" if same_seed else ", another seed")
    checkpoints = _checkpoints(folder)
    if not checkpoints:
        return TwinSearch(None, f"{twin.name} ({folder.name}) has no checkpoint yet: wait for it to write one")
    step = _step(path)
    at_step = [c for c in checkpoints if step is not None and _step(c) == step]
    chosen = at_step[-1] if at_step else checkpoints[-1]
    when = "at the same step" if at_step else f"its latest checkpoint, {chosen.name}"
    return TwinSearch(chosen, f"twin: {twin.name} (run {folder.name} {how}, {when})")
