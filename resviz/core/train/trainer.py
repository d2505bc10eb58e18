"""The training loop shared by the app's worker thread, ``resviz train`` and torchrun.

One :class:`Trainer` trains one net on one data set with the paper's recipe (section 4.2,
see :class:`~resviz.core.train.config.TrainConfig`) and sends what it measures to sinks:
a :class:`~resviz.core.runs.RunStore` on disk and/or a queue the GUI drains.

The step itself never synchronises with the device (no ``.item()``): losses and errors
accumulate on the device and telemetry is fetched once per record (every
``telemetry_every`` steps), which is also where a diverging loss is noticed. Control
requests (pause, stop, shortcut switches) are host-side flags checked between steps.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

import torch

from ..data import BatchStream, DataSet, augment_batch, load_dataset, normalise
from ..device import describe_device, resolve_device
from ..errors import ConfigError, RunError
from ..models import build_model
from ..records import Event, Sink, StatusChange
from ..runs.store import RunStore
from .compiled import TrainStep, use_channels_last, use_compile
from .config import TrainConfig
from .control import TrainControl
from .distributed import SINGLE, DistContext
from .evaluation import TestEvaluation
from .schedule import LearningRate
from .snapshot import (
    augment_seed,
    restore_training_state,
    resume_point,
    save_training_checkpoint,
    training_state,
    training_state_is_finite,
    versions,
)
from .telemetry import Telemetry

__all__ = ["Trainer", "Diverged", "ENDED"]

#: The statuses a run ends in.
ENDED = ("finished", "stopped", "failed")


class Diverged(Exception):
    """The loss, the weights or the optimizer state became NaN or infinite."""


class Trainer:
    """Trains one net; ``run()`` blocks until the schedule ends, a stop, or a failure."""

    def __init__(
        self,
        config: TrainConfig,
        *,
        run_dir: str | Path | None = None,
        sinks: Sequence[Sink] = (),
        control: TrainControl | None = None,
        dataset: DataSet | None = None,
        force: bool = False,
        dist: DistContext = SINGLE,
        _resume: dict | None = None,
        _notes: Sequence[str] = (),
    ) -> None:
        config.validate()
        if _resume is None:
            config = config.with_absolute_paths()  # config.json must work from any folder (issue #9)
            # The recipe resolved, so a resume keeps it (a run from before issue #22 has none: cifar's).
            config = replace(config, recipe=config.recipe_name)
        elif config.recipe is None:
            config = replace(config, recipe="cifar")  # a run made before the ImageNet recipe existed
        self.dist = dist
        #: What the user should know about how this run started (fallbacks taken on resume).
        self.notes: list[str] = list(_notes)
        writes = run_dir is not None and dist.is_main  # only rank 0 writes the run folder
        if writes and _resume is None:
            RunStore.check_new(run_dir, force=force)  # fail before the slow work
        if config.batch_size % dist.world_size:
            raise ConfigError(
                f"the global batch of {config.batch_size} does not split over {dist.world_size} processes; "
                "choose a batch size divisible by the number of processes"
            )
        self.config = config
        self.control = control or TrainControl()
        if config.threads:
            torch.set_num_threads(config.threads)
        self.device = (
            torch.device("cuda", dist.local_rank)
            if dist.backend == "nccl"
            else resolve_device("cpu" if dist.distributed else config.device)
        )
        self.dataset = dataset or load_dataset(
            config.data,
            root=config.data_root,
            download=config.download,
            size=config.image_size,
            recipe=config.recipe_name,
            stream=config.stream,
            workers=config.workers,
        )
        # Seed a private RNG stream for initialisation: other threads (the app runs several
        # trainers) must neither disturb nor be disturbed by it.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(config.seed)
            self.model = build_model(
                config.arch,
                num_classes=self.dataset.num_classes,
                shortcut=config.shortcut,
                plain=True if config.plain else None,
            )
        self.model.to(self.device).train()
        self._cuda = self.device.type == "cuda"
        self._channels_last = use_channels_last(config.channels_last, self.device)
        if self._channels_last:
            self.model.to(memory_format=torch.channels_last)
        self.optimizer = torch.optim.SGD(
            self.model.parameters(),
            lr=config.lr,
            momentum=config.momentum,
            weight_decay=config.weight_decay,
            fused=True if self._cuda else None,  # one kernel for the whole update on a GPU
        )
        self.train_data = self.dataset.train.to(self.device)
        self.test_data = self.dataset.test.to(self.device)
        self.mean = self.dataset.mean.to(self.device)
        # A streamed folder (issue #22, data.streamset) shards and batches itself, by the same rules.
        streamed = hasattr(self.train_data, "batch_stream")
        self.evaluation = TestEvaluation(
            self.model,
            self.test_data,
            self.mean,
            dist,
            subset=config.eval_subset,
            channels_last=self._channels_last,
            bf16=config.bf16 and self._cuda,
        )
        #: Seconds spent evaluating (test error and Fig. 7's responses), apart from training.
        self.eval_seconds = 0.0
        #: Seconds this net spent in its own training steps since the last record: in a
        #: lockstep group the wall clock also runs while the other nets step (issue #18).
        self._step_seconds = 0.0
        # One generator orders the batches (identical on every rank), another draws the
        # crops and flips (different per rank, so no two ranks augment alike).
        self.generator = torch.Generator(device=self.device).manual_seed(config.seed)
        self.stream = (
            self.train_data.batch_stream(config.batch_size, config.seed, dist.rank, dist.world_size)
            if streamed
            else BatchStream(self.train_data, config.batch_size, self.generator, dist.rank, dist.world_size)
        )
        self.aug_generator = torch.Generator(device=self.device).manual_seed(augment_seed(config.seed, 0, dist.rank))
        self.lr = LearningRate(config)
        self.telemetry = Telemetry(self.model, self.device, dist)
        self.step = 0
        self.last_checkpoint_step: int | None = None
        self.status = "created"
        self.reason: str | None = None
        self._interval_start = time.perf_counter()  # images/s counts from the last record
        self._stop_agreed = False
        if _resume is not None:
            restore_training_state(self, _resume)
        # The step (wrapped for DDP under torchrun), compiled where config.compile says.
        self.train_step = TrainStep(
            self.model,
            self.optimizer,
            self.device,
            bf16=config.bf16,
            dist=dist,
            compile=use_compile(
                config.compile, self.device, distributed=dist.distributed, images=config.iters * config.batch_size
            ),
        )
        self.net: torch.nn.Module = self.train_step.net  # the step's forward, or its DDP wrapper
        self.store: RunStore | None = None
        if writes:
            if _resume is not None:
                self.store = RunStore.reopen(run_dir, after_step=self.step)
                for aside in self.store.stale_asides:
                    self.notes.append(
                        f"{aside} holds the files of a run that an earlier --force replaced and was stopped before "
                        "it could delete them; delete that folder if you do not need them"
                    )
                if self.store.removed_leftovers:
                    names = ", ".join(p.name for p in self.store.removed_leftovers)
                    self.notes.append(
                        f"removed {len(self.store.removed_leftovers)} leftover temporary file(s) of a write that "
                        f"was cut short: {names}"
                    )
            else:
                self.store = RunStore.create(
                    run_dir, config=config.to_dict(), layout=self.layout, versions=self.versions(), force=force
                )
                if self.store.replaced_note:
                    self.notes.append(self.store.replaced_note)
        self.sinks: list[Sink] = ([self.store] if self.store else []) + list(sinks)
        self._resumed = _resume is not None
        self._store_closed = False

    # -- facts -------------------------------------------------------------------------

    @property
    def eval_shard(self):
        """This rank's share of the fixed evaluation subset; None where evaluations read the whole split."""
        return self.evaluation.subset_shard

    @property
    def test_shard(self):
        """This rank's share of the whole test split."""
        return self.evaluation.test_shard

    @property
    def layout(self) -> dict[str, list]:
        """Names of every index of the vector metrics (see records.VECTOR_METRICS)."""
        return self.telemetry.layout

    @property
    def run_dir(self) -> Path | None:
        return self.store.path if self.store else None

    def versions(self) -> dict[str, str]:
        return {**versions(describe_device(self.device)), "world_size": self.dist.world_size}

    # -- resuming ----------------------------------------------------------------------

    @classmethod
    def resume(
        cls,
        run_dir: str | Path,
        *,
        sinks: Sequence[Sink] = (),
        control: TrainControl | None = None,
        dataset: DataSet | None = None,
        overrides: dict | None = None,
        dist: DistContext = SINGLE,
    ) -> Trainer:
        """Continue a stopped, failed or killed run from its newest usable checkpoint.

        Refuses a run another process may still be writing (the same rule as ``--force``),
        and says what it had to give up (issue #9, "silent fallbacks"): see
        :func:`~resviz.core.train.snapshot.resume_point`.
        """
        config, state, notes = resume_point(run_dir, overrides)
        return cls(
            config,
            run_dir=run_dir,
            sinks=sinks,
            control=control,
            dataset=dataset,
            dist=dist,
            _resume=state,
            _notes=notes,
        )

    # -- the loop: start, then advance one step at a time until the run has ended ------
    #
    # run() is the one-net loop. A LockstepGroup (group.py) drives several trainers through
    # the same calls, one step of each in turn, so their curves grow together (issue #11).

    @property
    def ended(self) -> bool:
        """The run is finished, stopped or failed (and its run folder closed)."""
        return self.status in ENDED

    def run(self) -> str:
        """Train until the schedule ends, a stop request, or divergence; the final status."""
        self.start()
        while not self.ended:
            self.obey()
            self.advance()
        return self.status

    def start(self) -> None:
        """Mark the run running, compile its step where it is compiled (:meth:`warm_up`),
        and say so (a ``start`` or ``resume`` event, with the compile time apart)."""

        def body() -> None:
            cfg = self.config
            self._set_status("running")
            compile_s = self.warm_up()  # reported on its own, never counted into images/s
            self._emit_event(
                "resume" if self._resumed else "start",
                device=describe_device(self.device),
                arch=cfg.arch,
                from_checkpoint=self._resumed,
                world_size=self.dist.world_size,
                notes=self.notes,
                backend=self.dist.backend,
                compiled=self.train_step.compiled,
                compile_s=round(compile_s, 3),
            )
            self._interval_start = time.perf_counter()

        self._guarded(body)

    def warm_up(self) -> float:
        """Compile the step's graphs before the clock of images/s starts (0 s when eager).

        :meth:`start` calls it, so a lockstep group warms every member in its own
        ``start``. It changes nothing a step depends on (TrainStep.warm_up), and a second
        call returns at once.
        """
        n = self.stream.rank_batch
        x = normalise(self.train_data.images[:n], self.mean)
        if self._channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        return self.train_step.warm_up(x, self.train_data.labels[:n])

    def obey(self, *, wait: bool = True) -> None:
        """Between two steps: end the run if its schedule is done or a stop was asked for,
        else apply pending shortcut switches and pauses. A pause blocks here while ``wait``
        (the one-net loop); without it (a group, whose other nets go on) the run is only
        marked paused and :meth:`advance` trains nothing until it is resumed."""

        def body() -> None:
            if self.step >= self.config.iters:
                self._finish("finished")
            elif self._obey_control(wait):
                self._finish("stopped")

        if not self.ended:
            self._guarded(body)

    def advance(self) -> bool:
        """Train one step unless the run has ended or is paused; True if it did.

        Divergence and an unwritable run folder end the run ``failed`` here; anything else
        (a bug, Ctrl+C) fails it and is raised.
        """
        if self.ended or self.status == "paused" or self.step >= self.config.iters:
            return False
        return self._guarded(lambda: self._train_step() or True) is True

    def _guarded(self, body: Callable[[], bool | None]) -> bool | None:
        """``body()``, with a failure ending the run ``failed``; the store closes once the run has ended."""
        try:
            return body()
        except Diverged as exc:
            self._fail(str(exc))
        except RunError as exc:  # the run folder cannot be written (a full disk): say what is safe
            self._fail(f"{exc}; {self._last_checkpoint()}")
        except BaseException as exc:
            self._fail(f"{type(exc).__name__}: {exc}")
            raise
        finally:
            if self.ended:
                self.close()
        return None

    def _obey_control(self, wait: bool = True) -> bool:
        """Apply pending requests between steps; True when the loop must stop."""
        if self.dist.distributed:
            # Ranks must stop at the same step or the next collective hangs: under torchrun
            # a stop is agreed on at each record (see _record); pauses are for the app.
            return self._stop_agreed
        ctl = self.control
        pending = ctl.take_shortcuts()
        if pending is not None:
            self.model.set_shortcuts(pending)
            self._emit_event("shortcuts", shortcuts=self.model.shortcuts())
        if ctl.pause_requested and not ctl.stop_requested:
            if self.status != "paused":
                self._emit_event("pause")
                self._set_status("paused")
            if not wait:
                return False
            while not ctl.wait_while_paused(0.1):
                pass
        if self.status == "paused":
            if not ctl.stop_requested:
                self._emit_event("resume")
                self._set_status("running")
            self._interval_start = time.perf_counter()  # paused time is not training time
        return ctl.stop_requested

    def _train_step(self) -> None:
        started = time.perf_counter()
        cfg = self.config
        step = self.step + 1  # the number of updates done once this one is
        evaluate = step % cfg.eval_every == 0 or step == cfg.iters
        checkpoint = step % cfg.checkpoint_every == 0 and step != cfg.iters
        record = step % cfg.telemetry_every == 0 or evaluate or checkpoint
        lr, dropped = self.lr.at(self.step)
        if dropped:
            self._emit_event("lr_drop", lr=lr)
        for group in self.optimizer.param_groups:
            group["lr"] = lr

        images, labels = next(self.stream)
        x = augment_batch(normalise(images, self.mean), self.dataset.augment, self.aug_generator)
        if self._channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        self.telemetry.add(self.train_step(x, labels, probing=record))
        self.step = step
        self._step_seconds += time.perf_counter() - started
        if record:
            self._record(evaluate, lr)
        if checkpoint:
            self.save_checkpoint()

    def _record(self, evaluate: bool, lr: float) -> None:
        elapsed = time.perf_counter() - self._interval_start
        started = time.perf_counter()
        full = self.step >= self.config.iters or self.eval_shard is None
        test_wrong, response_std = self.evaluation.run(full) if evaluate else (None, None)
        # The evaluation's own time (it ends in a host copy, so a GPU has finished it): the
        # record's telemetry below is training's, taken at evaluations and between them alike.
        evaluating = time.perf_counter() - started
        count = len(self.test_data) if full else self.config.eval_subset
        rec = self.telemetry.collect(self.step, lr, elapsed, test_wrong, count)
        rec.scalars["step_seconds"], self._step_seconds = self._step_seconds, 0.0
        if evaluate:
            rec.scalars["test_images"] = float(count)  # the n of the test error (core.verdicts)
            rec.vectors["test_response_std"] = response_std
            rec.scalars["eval_seconds"] = evaluating
            self.eval_seconds += evaluating
        if not math.isfinite(rec.scalars["loss"]):
            raise Diverged(
                f"the loss became {rec.scalars['loss']} by step {self.step} (diverged); "
                f"{self._last_checkpoint(good=True)}. "
                f"Lower the learning rate (now {lr:g}) or use --warmup"
            )
        for sink in self.sinks:
            sink.record(rec)
        if self.dist.distributed:
            self._stop_agreed = self.dist.any(self.control.stop_requested, self.device)
        if self.lr.observe(self.step, rec.scalars["train_error"]):
            self._emit_event("warmup_end", train_error=rec.scalars["train_error"])
        self._interval_start = time.perf_counter()

    # -- checkpoints and endings -------------------------------------------------------

    def save_checkpoint(self) -> Path | None:
        """Write a checkpoint of the current step (into the run folder, if there is one).

        Only finite weights are written: a loss can still look finite on the step that
        turned the weights to NaN, and ``--lr 1000 --checkpoint-every 1`` kept three NaN
        checkpoints as "good" (issue #9). The check is one fused reduction on the device.
        """
        if self.store is None or self.last_checkpoint_step == self.step:
            return None
        if not training_state_is_finite(self):
            raise Diverged(
                f"the weights or the optimizer's momentum are not finite (NaN or infinite) at step {self.step} "
                f"(diverged), so no checkpoint was written for it; {self._last_checkpoint(good=True)}. "
                f"Lower the learning rate (now {self.lr.current:g}) or use --warmup"
            )
        path = save_training_checkpoint(self.store.checkpoint_dir, training_state(self))
        self.last_checkpoint_step = self.step
        self._emit_event("checkpoint", path=str(path.relative_to(self.store.path)))
        return path

    def _last_checkpoint(self, good: bool = False) -> str:
        """ "the last checkpoint is step N" for failure messages (what a resume would start from)."""
        last = self.last_checkpoint_step
        if last is None:
            return "no checkpoint was written before it"
        if not self.store.checkpoint_dir.is_dir():  # the run folder was deleted or replaced meanwhile
            return f"the checkpoints (the last was step {last}) went with {self.store.checkpoint_dir}"
        return f"the last {'good ' if good else ''}checkpoint is step {last}"

    def _finish(self, status: str) -> None:
        self.dist.sync_buffers(self.model)  # replicas end identical, BN statistics included
        if self.telemetry.pending_steps:
            # What was measured since the last record (a stop between records).
            rec = self.telemetry.collect(self.step, self.lr.current, time.perf_counter() - self._interval_start)
            if math.isfinite(rec.scalars["loss"]):
                for sink in self.sinks:
                    sink.record(rec)
        self.save_checkpoint()
        self._emit_event("stop" if status == "stopped" else "finished")
        self._set_status(status)

    def _fail(self, reason: str) -> None:
        # Best effort: on a full disk the event or status.json may not be writable either,
        # and a second error must not bury the first (issue #9).
        self._emit_event("failed", best_effort=True, reason=reason)
        self._set_status("failed", reason, best_effort=True)

    def release_distributed(self) -> None:
        """After training under torchrun: let go of DDP, so the process group can really end
        (call before :func:`~resviz.core.train.distributed.shutdown_distributed`)."""
        self.train_step.release_distributed()
        self.net = self.train_step.net

    def close(self) -> None:
        """Close the run folder (once; the run can write nothing after)."""
        if hasattr(self.stream, "close"):
            self.stream.close()  # a streamed folder's decoding workers
        if self.store is None or self._store_closed:
            return
        self._store_closed = True
        try:
            self.store.close()
        except RunError as exc:
            if self.status != "failed":
                self.status, self.reason = "failed", f"{exc}; {self._last_checkpoint()}"

    def _emit_event(self, kind: str, *, best_effort: bool = False, **detail) -> None:
        ev = Event(step=self.step, kind=kind, detail=detail)
        self._deliver(lambda sink: sink.event(ev), best_effort)

    def _set_status(self, status: str, reason: str | None = None, *, best_effort: bool = False) -> None:
        self.status, self.reason = status, reason
        change = StatusChange(status, reason, self.step)
        self._deliver(lambda sink: sink.status(change), best_effort)

    def _deliver(self, send, best_effort: bool) -> None:
        for sink in self.sinks:
            try:
                send(sink)
            except RunError:
                if not best_effort:
                    raise
