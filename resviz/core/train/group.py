"""Lockstep groups: the nets of a comparison train together, one step of each in turn.

The paper's Fig. 1 and 6 overlay a plain net and its residual twin. Trained one after the
other, that overlay only exists at the end (issue #11). A :class:`LockstepGroup` advances
every net of the group by one step in turn from one thread, so at any moment its nets are
at the same iteration (or have ended) and their curves grow together.

* Each net is an ordinary :class:`~resviz.core.train.trainer.Trainer` with its own run
  folder, status, checkpoints, events, sinks and :class:`TrainControl`; the group is a
  folder of runs. A net that fails (a NaN loss, a non-finite checkpoint, a full disk)
  ends alone; the others go on.
* One :class:`~resviz.core.data.DataSet` object, moved to the device once, is read by
  every net. Twins with the same seed draw the same batches and the same crops and flips
  (each net's generators are seeded from its config), so the only difference between
  plain20 and resnet20 is the shortcut.
* Scheduling: each round every live net applies its pending requests without blocking
  (stop, pause, shortcut switches), then the nets at the lowest step among those not
  paused train one step each. So a net paused on its own lets the others go on and, once
  resumed, catches up before they move again; a group resumed from checkpoints at
  different steps catches up the same way, the ones behind first.
* On CUDA each net steps on its own CUDA stream. The step has no host synchronisation, so
  each launch returns at once and the kernels of small nets overlap on the GPU. Compiled
  steps with CUDA graphs (the default on CUDA, :mod:`resviz.core.train.compiled`) replay on
  the one current stream instead, in turn.

Only :mod:`resviz.core` is imported (no matplotlib, Captum or Qt): the group runs headless
on a GPU box from a checkout (``benchmarks/gpu_check.sh``)::

    data = load_dataset(folder)                    # e.g. the unpacked CIFAR-10 JPEG folder
    configs = [TrainConfig(arch=a, data=folder, iters=2000, device="cuda")
               for a in ("plain20", "plain56", "resnet20", "resnet56")]
    group = LockstepGroup(configs, dataset=data)   # run_dirs=[...] to keep run folders
    statuses = group.run()                         # ["finished", "finished", ...]
    group.seconds                                  # each net's share of the wall time
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import torch

from ..data import DataSet, load_dataset
from ..device import resolve_device
from ..errors import ConfigError
from ..records import Sink
from ..runs.reader import RunReader
from ..runs.store import RunStore
from .config import TrainConfig
from .control import GroupControl, TrainControl
from .trainer import Trainer

__all__ = ["LockstepGroup", "unfinished_runs"]

log = logging.getLogger(__name__)

#: How long a group whose every live net is paused sleeps between looks at the controls.
_PAUSED_POLL_S = 0.05


class LockstepGroup:
    """Several nets trained together, step by step; ``run()`` returns each net's status.

    ``configs`` are the nets (all on one device); ``run_dirs`` one folder per net, or None
    for nets that write nothing (a benchmark); ``dataset`` is shared by every net (loaded
    from the first config when None: then every config must name the same data);
    ``sinks`` one sequence per net (a progress bar, the app's queue) beside its run folder;
    ``controls`` one :class:`TrainControl` per net (made when None). :attr:`control` steers
    the whole group. ``streams`` (CUDA only): one CUDA stream per net, on by default.

    Every run folder is checked before any is written (``force`` as in ``resviz train``).
    """

    def __init__(
        self,
        configs: Sequence[TrainConfig],
        *,
        run_dirs: Sequence[str | Path | None] | None = None,
        dataset: DataSet | None = None,
        sinks: Sequence[Sequence[Sink]] | None = None,
        controls: Sequence[TrainControl] | None = None,
        force: bool = False,
        streams: bool | None = None,
    ) -> None:
        configs = list(configs)
        n = len(configs)
        run_dirs = list(run_dirs) if run_dirs is not None else [None] * n
        sinks, controls = _per_net(sinks, n, "sinks"), _per_net(controls, n, "controls")
        if len(run_dirs) != n:
            raise ConfigError(f"a lockstep group of {n} nets needs {n} run folders, not {len(run_dirs)}")
        for config in configs:
            config.validate()
        _check_folders(run_dirs, force)
        device = _one_device(configs)
        dataset = (dataset or _load_shared(configs)).to(device)
        trainers = _build(
            lambda i: Trainer(
                configs[i], run_dir=run_dirs[i], sinks=sinks[i] or (), control=controls[i], dataset=dataset, force=force
            ),
            n,
        )
        self._adopt(trainers, dataset, streams)

    @classmethod
    def resume(
        cls,
        run_dirs: Sequence[str | Path],
        *,
        dataset: DataSet | None = None,
        sinks: Sequence[Sequence[Sink]] | None = None,
        controls: Sequence[TrainControl] | None = None,
        streams: bool | None = None,
        fresh: Sequence[tuple[TrainConfig, str | Path, str]] = (),
    ) -> LockstepGroup:
        """Continue stopped, failed or killed runs together, each from its newest usable checkpoint.

        ``fresh`` are nets of the same group that have nothing to continue from (killed before
        their first checkpoint, or before their folder was made): (config, run folder, why),
        trained from step 0 into their folder beside the others (issue #17), placed after
        ``run_dirs`` in the group's order; ``sinks`` and ``controls`` cover both.

        Nets whose checkpoints are at different steps catch up first (the ones behind
        train alone until all are level), then the group is in lockstep again. Each folder
        is refused as :meth:`Trainer.resume` refuses it (finished, written by a live
        process, no readable checkpoint); :func:`unfinished_runs` picks the ones to pass.
        """
        run_dirs, fresh = list(run_dirs), list(fresh)
        n = len(run_dirs) + len(fresh)
        sinks, controls = _per_net(sinks, n, "sinks"), _per_net(controls, n, "controls")
        configs = []
        for path in run_dirs:
            with RunReader(path) as reader:
                configs.append(TrainConfig.from_dict(reader.config))
        configs += [config for config, _, _ in fresh]
        device = _one_device(configs)
        dataset = (dataset or _load_shared(configs)).to(device)

        def build(i: int) -> Trainer:
            if i < len(run_dirs):
                return Trainer.resume(run_dirs[i], sinks=sinks[i] or (), control=controls[i], dataset=dataset)
            config, path, why = fresh[i - len(run_dirs)]
            return Trainer(
                config,
                run_dir=path,
                sinks=sinks[i] or (),
                control=controls[i],
                dataset=dataset,
                force=True,  # its folder holds no checkpoint: nothing of its training is lost
                _notes=[f"{Path(path).name} {why}: trained again from step 0"],
            )

        trainers = _build(build, n)
        group = cls.__new__(cls)
        group._adopt(trainers, dataset, streams)
        return group

    def _adopt(self, trainers: list[Trainer], dataset: DataSet, streams: bool | None) -> None:
        if not trainers:
            raise ConfigError("a lockstep group needs at least one net")
        self.trainers = trainers
        self.dataset = dataset
        self.device = trainers[0].device
        #: Steers every net at once (stop, pause, resume, shortcuts); each net's own is
        #: ``trainers[i].control``.
        self.control = GroupControl([t.control for t in trainers])
        #: Seconds each net spent in its own calls (its share of the wall time; on CUDA
        #: the host's share, since kernels run asynchronously).
        self.seconds = [0.0] * len(trainers)
        # Not with CUDA graphs: the compiled steps' graphs share one memory pool (CUDA graph
        # trees), which assumes they replay in order on one stream; on per-net streams one
        # net's replay could reuse memory another's is still running on. A graph replay is
        # one launch anyway, so the host keeps ahead of the GPU without the overlap.
        graphs = any(t.train_step.cuda_graphs for t in trainers)
        use_streams = self.device.type == "cuda" and streams is not False and not graphs
        self._streams = [torch.cuda.Stream(self.device) for _ in trainers] if use_streams else [None] * len(trainers)

    # -- facts -------------------------------------------------------------------------

    @property
    def names(self) -> list[str]:
        """What each net is called (``plain20``, ``resnet20``), in the group's order."""
        return [t.config.label for t in self.trainers]

    @property
    def statuses(self) -> list[str]:
        return [t.status for t in self.trainers]

    @property
    def steps(self) -> list[int]:
        return [t.step for t in self.trainers]

    @property
    def ended(self) -> bool:
        return all(t.ended for t in self.trainers)

    # -- the loop ----------------------------------------------------------------------

    def run(self) -> list[str]:
        """Train every net until each has finished, stopped or failed; their statuses.

        An exception that is no training failure (a bug, a second Ctrl+C) fails the net it
        came from; every other net is stopped cleanly (it writes its checkpoint) and the
        exception is raised.
        """
        main = torch.cuda.current_stream(self.device) if self._streams[0] is not None else None
        for stream in self._streams:
            if stream is not None:  # the nets' weights and the data set were made on the main stream
                stream.wait_stream(main)
        try:
            for i, trainer in enumerate(self.trainers):
                self._call(i, trainer.start)
            while self.advance():
                pass
        except BaseException:
            self._stop_the_rest()
            raise
        finally:
            for stream in self._streams:
                if stream is not None:
                    main.wait_stream(stream)
        return self.statuses

    def advance(self) -> bool:
        """One round: every live net obeys its requests, then the ones furthest behind train one step.

        False once every net has ended.
        """
        live = [i for i, t in enumerate(self.trainers) if not t.ended]
        if not live:
            return False
        for i in live:  # requests take effect here, between rounds: a group stop leaves every net at one step
            self._call(i, lambda t=self.trainers[i]: t.obey(wait=False))
        ready = [i for i in live if not self.trainers[i].ended and self.trainers[i].status != "paused"]
        if not ready:
            paused = [i for i in live if not self.trainers[i].ended]
            if paused:  # every live net is paused: wait for a resume without spinning
                self.trainers[paused[0]].control.wait_while_paused(_PAUSED_POLL_S)
            return bool(paused)
        behind = min(self.trainers[i].step for i in ready)
        for i in ready:
            trainer = self.trainers[i]
            if trainer.step == behind:
                self._call(i, trainer.advance)
        return True

    def _call(self, i: int, fn: Callable[[], object]) -> None:
        stream = self._streams[i]
        started = time.perf_counter()
        with torch.cuda.stream(stream) if stream is not None else contextlib.nullcontext():
            fn()
        self.seconds[i] += time.perf_counter() - started

    def _stop_the_rest(self) -> None:
        """After an exception: stop every live net cleanly, never masking the exception."""
        for i, trainer in enumerate(self.trainers):
            if trainer.ended:
                continue
            trainer.control.stop()
            try:
                self._call(i, lambda t=trainer: t.obey(wait=False))
            except Exception:  # the first exception is the one to report
                log.exception("could not stop %s cleanly", trainer.config.label)
                trainer.close()


def unfinished_runs(run_dirs: Sequence[str | Path]) -> list[Path]:
    """The run folders of ``run_dirs`` that have not finished: what a group resume continues."""
    out = []
    for path in run_dirs:
        with RunReader(path) as reader:
            if reader.status().status != "finished":
                out.append(reader.path)
    return out


def _per_net(values: Sequence | None, n: int, what: str) -> list:
    if values is None:
        return [None] * n
    values = list(values)
    if len(values) != n:
        raise ConfigError(f"a lockstep group of {n} nets needs {n} {what}, not {len(values)}")
    return values


def _check_folders(run_dirs: list[str | Path | None], force: bool) -> None:
    """Refuse every unusable folder before any is written (the rule of ``resviz train``)."""
    given = [Path(d).expanduser().resolve() for d in run_dirs if d is not None]
    if len(set(given)) != len(given):
        raise ConfigError("two nets of a lockstep group cannot share a run folder")
    for path in given:
        RunStore.check_new(path, force=force)


def _one_device(configs: Sequence[TrainConfig]) -> torch.device:
    """The device every net trains on; a group spread over devices is refused."""
    devices = {_canonical(resolve_device(c.device)) for c in configs}
    if len(devices) > 1:
        raise ConfigError(
            f"the nets of a lockstep group train on one device, not {', '.join(sorted(map(str, devices)))}"
        )
    return devices.pop()


def _canonical(device: torch.device) -> torch.device:
    if device.type == "cuda" and device.index is None:
        return torch.device("cuda", torch.cuda.current_device())
    return device


def _load_shared(configs: Sequence[TrainConfig]) -> DataSet:
    """The one data set every config names (loaded once)."""
    keys = {(c.data, c.data_root, c.image_size) for c in configs}
    if len(keys) > 1:
        raise ConfigError("the nets of a lockstep group train on one data set; give them the same data, root and size")
    c = configs[0]
    return load_dataset(c.data, root=c.data_root, download=c.download, size=c.image_size)


def _build(make: Callable[[int], Trainer], n: int) -> list[Trainer]:
    """``make(i)`` for every net; if one fails, the folders already opened are closed again."""
    built: list[Trainer] = []
    try:
        for i in range(n):
            built.append(make(i))
    except BaseException:
        for trainer in built:
            trainer.close()
        raise
    return built
