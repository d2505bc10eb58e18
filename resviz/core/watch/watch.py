"""``resviz.watch``: watch a residual net trained by the user's own loop (issue #21).

Call :meth:`Watch.step` once per optimizer step, after ``loss.backward()``. Per step only
device-side sums happen (loss, wrong predictions): no ``.item()``, no host sync. Every
``every`` steps one step is probed: the forward hooks (:mod:`.hooks`) measure residual
ratios and response stds during its forward pass, :meth:`step` takes every weight
gradient's norm from ``param.grad`` with one ``torch._foreach_norm`` (no backward hooks:
they break on in-place ops), and everything of the record reaches the host in one
transfer, as the trainer's telemetry does (DESIGN.md, "the hot path"). Under DDP the same
vector is averaged over ranks with one all-reduce on probing steps only; rank 0 writes.

The run folder is a normal one (:class:`~resviz.core.runs.store.RunStore`: config,
layout, SQLite metrics, status with pid/host and the writer lock), so the app follows it
live and ``resviz report``/``export`` and the Runs list read it unchanged. config.json is a
:class:`~resviz.core.train.config.TrainConfig` (what readers parse) plus a ``watch`` entry
describing the user's net and its blocks.
"""

from __future__ import annotations

import logging
import math
import time
import weakref
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from ..device import describe_device
from ..errors import ConfigError, RunError
from ..limits import MAX_BATCH_SIZE, MAX_ITERS
from ..records import Event, Record, StatusChange
from ..runs.files import write_json_atomic
from ..runs.store import RunStore
from ..runs.writer import refuse_live_writer
from ..train.config import TrainConfig
from ..train.snapshot import save_training_checkpoint, versions
from .hooks import Probes
from .structure import NO_BLOCKS_HINT, _unwrap, find_structure

__all__ = ["Watch", "watch"]

log = logging.getLogger("resviz.watch")

#: Nets watched now (a second watch on one net would double every hook).
_watched: weakref.WeakKeyDictionary[nn.Module, Path] = weakref.WeakKeyDictionary()


def watch(model: nn.Module, run_dir: str | Path, every: int = 10, blocks: Iterable | None = None, **options) -> Watch:
    """Watch ``model`` trained by your own loop, writing the run folder ``run_dir``.

    ``every``: probe one step in this many (record residual ratios, responses, gradient
    norms). ``blocks``: :class:`~resviz.core.watch.structure.BlockSpec` items naming the
    residual blocks of a net whose blocks resviz does not recognise. Options: ``iters``
    (the steps you plan, for the app's progress), ``data`` (what it trains on, a name
    shown in the run's config), ``force`` (replace a finished run in ``run_dir``).
    """
    return Watch(model, run_dir, every=every, blocks=blocks, **options)


def _distributed() -> tuple[int, int]:
    """(rank, world size) of an initialised process group, else (0, 1)."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def _is_compiled(model: nn.Module) -> bool:
    return type(model).__name__ == "OptimizedModule" or getattr(model, "_compiled_call_impl", None) is not None


class Watch:
    """Measures a user's training loop into a run folder; see :func:`watch`."""

    def __init__(
        self,
        model: nn.Module,
        run_dir: str | Path,
        *,
        every: int = 10,
        blocks: Iterable | None = None,
        iters: int | None = None,
        data: str = "your own data",
        force: bool = False,
    ) -> None:
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise ConfigError(f"every must be a whole number of steps >= 1, not {every!r}")
        if not isinstance(model, nn.Module):
            raise ConfigError(f"resviz.watch takes a torch.nn.Module, not a {type(model).__name__}")
        if _is_compiled(model):
            raise ConfigError(
                "resviz.watch cannot hook a model compiled already: call resviz.watch(model, ...) before torch.compile"
            )
        net = _unwrap(model)
        if net in _watched:
            raise ConfigError(
                f"this model is already watched (writing {_watched[net]}): close that watch first (watch.close())"
            )
        self.every = every
        self.run_dir = Path(run_dir).expanduser()
        self.model = net
        self.structure = find_structure(net, blocks)
        self.layout = self.structure.layout()
        self.rank, self.world = _distributed()
        self.notes: list[str] = []
        self.steps = 0
        self.status = "running"
        self._said: set[str] = set()
        arch, exact = self.structure.arch()
        self._config = self._make_config(arch, exact, iters, data, net)
        self.store: RunStore | None = None
        if self.rank == 0:
            self.store = self._create_store(force)
        if not self.structure.blocks:
            self._say("no-blocks", NO_BLOCKS_HINT)
        self.probes = Probes(self.structure)
        _watched[net] = self.run_dir
        self._device: torch.device | None = None
        self._configured = False
        self._reset_interval()
        self.probes.probing = self._probing(1)
        if self.store is not None:
            self._event(
                "start",
                source="resviz.watch",
                model=type(net).__name__,
                blocks=len(self.structure.blocks),
                world_size=self.world,
                notes=self.notes,
            )

    # -- the run folder -----------------------------------------------------------------

    def _make_config(self, arch: str, exact: bool, iters: int | None, data: str, net: nn.Module) -> dict[str, Any]:
        cfg = TrainConfig(
            arch=arch,
            data=str(data) or "your own data",
            iters=iters if iters is not None else MAX_ITERS,
            telemetry_every=self.every,
            eval_every=MAX_ITERS,
            checkpoint_every=MAX_ITERS,
            compile="off",
            bf16=False,
            channels_last=False,
        ).to_dict()
        cfg["watch"] = {
            "model": f"{type(net).__module__}.{type(net).__qualname__}",
            "arch_is_exact": exact,
            "blocks_found_by": self.structure.found_by,
            "blocks": [b.name for b in self.structure.blocks],
            "branch": [_name_in(b.module, b.branch) for b in self.structure.blocks],
            "shortcut": [_name_in(b.module, b.shortcut) if b.shortcut else None for b in self.structure.blocks],
            "every": self.every,
        }
        return cfg

    def _create_store(self, force: bool) -> RunStore:
        path = self.run_dir
        if (path / "config.json").exists():
            refuse_live_writer(path, "write")  # as `resviz train --force` refuses a live run (issue #9)
            if not force:
                raise RunError(f"{path} already holds a run: choose a new folder, or pass force=True to replace it")
        return RunStore.create(
            path,
            config=self._config,
            layout=self.layout,
            versions={**versions("unknown"), "world_size": self.world},
            force=force,
        )

    # -- the hot path -----------------------------------------------------------------

    def _probing(self, step: int) -> bool:
        """Whether the forward pass of optimizer step ``step`` (1-based) is probed."""
        return step % self.every == 0

    def _reset_interval(self) -> None:
        self._loss_sum: Tensor | None = None
        self._loss_steps = 0
        self._wrong: Tensor | None = None
        self._seen = 0
        self._images = 0
        self._interval_start = time.perf_counter()

    def step(
        self,
        loss: Tensor | float | None = None,
        logits: Tensor | None = None,
        targets: Tensor | None = None,
        lr: float | None = None,
        images: int | None = None,
    ) -> None:
        """Count one optimizer step; call it after ``loss.backward()`` (before ``zero_grad``).

        ``logits`` and ``targets`` give the training error, ``lr`` the learning rate,
        ``images`` the batch size where neither ``targets`` nor ``logits`` says it.
        """
        if self.status != "running":
            raise ConfigError(f"this watch of {self.run_dir} is closed ({self.status}); make a new one")
        self.steps += 1
        if loss is not None:
            t = loss.detach().float().reshape(()) if isinstance(loss, Tensor) else torch.tensor(float(loss))
            self._loss_sum = t if self._loss_sum is None else self._loss_sum + t.to(self._loss_sum.device)
            self._loss_steps += 1
        if logits is not None and targets is not None:
            if logits.ndim == 2 and targets.ndim == 1 and len(logits) == len(targets):
                wrong = (logits.detach().argmax(dim=1) != targets).sum()
                self._wrong = wrong if self._wrong is None else self._wrong + wrong
                self._seen += len(targets)
            else:
                self._say("error-shape", "training error not recorded: logits must be N x classes, targets N labels")
        batch = images or (len(targets) if targets is not None else len(logits) if logits is not None else 0)
        self._images += int(batch)
        if self._probing(self.steps):
            self._record(lr)
        self.probes.probing = self._probing(self.steps + 1)

    def _grads(self, device: torch.device) -> Tensor:
        """Every weighted layer's weight-gradient norm (one fused kernel), NaN where no grad."""
        grads = [getattr(m, "weight", None) for _, m in self.structure.weighted]
        grads = [w.grad if isinstance(w, Tensor) else None for w in grads]
        missing = [n for (n, _), g in zip(self.structure.weighted, grads, strict=True) if g is None]
        if missing:
            self._say(
                "no-grads",
                f"no gradients in {len(missing)} of {len(grads)} layers ({', '.join(missing[:3])} ...): call "
                "watch.step() after loss.backward() and before optimizer.zero_grad(); their norms are recorded as NaN",
            )
        present = [g.detach() for g in grads if g is not None]
        norms = iter(torch._foreach_norm(present) if present else [])
        nan = torch.full((), float("nan"), device=device)
        return torch.stack([next(norms).float().to(device) if g is not None else nan for g in grads])

    def _record(self, lr: float | None) -> None:
        device = self._device_of()
        ratios, stds = self.probes.take(device)
        zero = torch.zeros((), device=device)
        parts = [
            (self._loss_sum if self._loss_sum is not None else zero).to(device).float().reshape(1),
            (self._wrong if self._wrong is not None else zero).to(device).float().reshape(1),
            ratios.float(),
            stds.float(),
            self._grads(device) if self.structure.weighted else torch.empty(0, device=device),
        ]
        flat = torch.cat(parts)
        if self.world > 1:  # one collective per record: means over ranks (gradients are equal already)
            import torch.distributed as dist

            dist.all_reduce(flat, op=dist.ReduceOp.SUM)
            flat = flat / self.world
        host = flat.cpu().double().numpy()  # the one device-to-host transfer of the record
        elapsed = time.perf_counter() - self._interval_start
        scalars: dict[str, float] = {}
        flags: dict[str, Any] = {}
        if self._loss_steps:
            loss = host[0] / self._loss_steps
            if math.isfinite(loss):
                scalars["loss"] = float(loss)
            else:
                flags["loss"] = str(loss)
        if self._seen:
            scalars["train_error"] = float(100.0 * host[1] / self._seen)
        if lr is not None:
            scalars["lr"] = float(lr)
        if self._images and elapsed > 0:
            scalars["images_per_s"] = float(self._images * self.world / elapsed)
        n_b, n_r = len(ratios), len(stds)
        vectors = {}
        if n_b and not all(math.isnan(v) for v in host[2 : 2 + n_b]):
            vectors["residual_ratio"] = host[2 : 2 + n_b].astype("float32")
        if n_r and not all(math.isnan(v) for v in host[2 + n_b : 2 + n_b + n_r]):
            vectors["response_std"] = host[2 + n_b : 2 + n_b + n_r].astype("float32")
        grads = host[2 + n_b + n_r :]
        if len(grads):
            vectors["grad_norm"] = grads.astype("float32")
            bad = sum(1 for g in grads if math.isinf(g))  # NaN is a layer without a gradient
            if bad:
                flags["grad_norm"] = f"{bad} layers infinite"
        if flags:
            self._say(
                "nonfinite", f"non-finite values at step {self.steps}: {flags} (recorded as an event; training goes on)"
            )
        if self.store is not None:
            self._configure(lr)
            self.store.record(Record(step=self.steps, scalars=scalars, vectors=vectors))
            if flags:
                self._event("nonfinite", **flags)
        self._reset_interval()

    def _device_of(self) -> torch.device:
        if self._device is None:
            p = next(self.model.parameters(), None)
            self._device = p.device if p is not None else torch.device("cpu")
        return self._device

    def _configure(self, lr: float | None) -> None:
        """Complete config.json (batch size, lr, device) and versions.json (the device) at
        the first record, with what only the loop knows."""
        if self._configured or self.store is None:
            return
        self._configured = True
        cfg = dict(self._config)
        batch = self._images // self.every  # the first record closes the first `every` steps
        if 1 <= batch <= MAX_BATCH_SIZE:
            cfg["batch_size"] = int(batch)
        if lr is not None and math.isfinite(lr) and lr > 0:
            cfg["lr"] = float(lr)
        kind = self._device_of().type
        cfg["device"] = kind if kind in ("cpu", "cuda", "mps") else "auto"
        TrainConfig.from_dict(cfg)  # what readers will parse
        write_json_atomic(self.store.path / "config.json", cfg)
        write_json_atomic(
            self.store.path / "versions.json",
            {**versions(describe_device(self._device_of())), "world_size": self.world},
        )
        self._config = cfg

    # -- messages, events, the end ------------------------------------------------------

    def _say(self, key: str, message: str) -> None:
        """Log ``message`` once per watch (a user's loop must not scroll with repeats)."""
        if key in self._said:
            return
        self._said.add(key)
        self.notes.append(message)
        if self.rank == 0:
            log.warning("resviz.watch: %s", message)

    def _event(self, kind: str, **detail: Any) -> None:
        if self.store is not None:
            self.store.event(Event(step=self.steps, kind=kind, detail=detail))

    def checkpoint(self, optimizer: torch.optim.Optimizer | None = None) -> Path | None:
        """Save the net (and ``optimizer``'s state) as ``checkpoints/step_N.pt``, which the
        Inspect tab loads; None on ranks other than 0, or when the weights are not finite.

        ``model`` holds the state dict of the innermost module that holds every weighted
        layer (``module`` names it: "" for the watched model itself)."""
        if self.store is None:
            return None
        root = self._net_root()
        state = {k: v.detach().cpu() for k, v in self.model.get_submodule(root).state_dict().items()}
        if not all(bool(torch.isfinite(v).all()) for v in state.values() if v.is_floating_point()):
            self._say("ckpt-nonfinite", f"no checkpoint at step {self.steps}: the weights are not finite")
            return None
        ckpt: dict[str, Any] = {"step": self.steps, "model": state, "module": root}
        if optimizer is not None:
            ckpt["optimizer"] = optimizer.state_dict()
        path = save_training_checkpoint(self.store.checkpoint_dir, ckpt)
        self._event("checkpoint", path=str(path.relative_to(self.store.path)))
        return path

    def _net_root(self) -> str:
        """The innermost module holding every weighted layer: the net inside a wrapper (a
        LightningModule's ``self.net``), whose state dict is what loaders know (``conv1.weight``)."""
        parts = [n.split(".") for n, _ in self.structure.weighted]
        common: list[str] = []
        for names in zip(*parts, strict=False) if parts else ():
            if len(set(names)) != 1:
                break
            common.append(names[0])
        if parts and len(common) == min(len(p) for p in parts):
            common = common[:-1]  # one weighted layer alone: keep its parent
        return ".".join(common)

    def close(self, status: str = "finished", reason: str | None = None) -> None:
        """End the run (``finished``; ``failed`` or ``stopped`` with a reason) and remove every hook."""
        if self.status != "running":
            return
        self.status = status
        self.probes.remove()
        _watched.pop(self.model, None)
        if self.store is None:
            return
        try:
            self._event("stop" if status == "stopped" else status, **({"reason": reason} if reason else {}))
            self.store.status(StatusChange(status, reason, self.steps))
        finally:
            self.store.close()

    def __enter__(self) -> Watch:
        return self

    def __exit__(self, kind, exc, tb) -> None:
        if kind is None:
            self.close()
        elif issubclass(kind, KeyboardInterrupt):
            self.close("stopped", "interrupted (Ctrl+C)")
        else:
            self.close("failed", f"{kind.__name__}: {exc}")


def _name_in(parent: nn.Module, child: nn.Module) -> str:
    return next((n for n, m in parent.named_modules() if m is child), "")
