"""One training step as one callable (forward, loss, backward, telemetry, update), eager or compiled.

Issue #11's fast path. On a GPU the paper's CIFAR nets are tiny (16 to 64 channels on
32x32 maps), so an eager step is launch-bound: hundreds of small kernels, each a few
microseconds of Python and driver time. ``torch.compile`` fuses the forward and backward
graphs (TorchDynamo + AOTAutograd + Inductor) and, with ``mode="reduce-overhead"``, replays
each as a CUDA graph, one launch per graph (references: the torch.compile docs,
https://pytorch.org/docs/stable/torch.compiler.html; CUDA graph trees,
https://pytorch.org/docs/stable/torch.compiler_cudagraph_trees.html; CUDA graphs,
https://pytorch.org/docs/stable/notes/cuda.html#cuda-graphs).

What keeps a step free of host synchronisation and recompilation:

* The telemetry-probing forward is functional: :func:`probed_forward` makes its own
  :class:`~resviz.core.models.Probe` inside the traced function and returns the per-block
  residual ratios and the 3x3 layers' response stds as outputs, instead of leaving tensors
  in a Python list on the model. ``probing`` is a Python bool, so Dynamo keeps one graph
  for plain steps and one for probing steps; :meth:`TrainStep.warm_up` compiles both
  before training starts, and probing every k steps then switches between cached graphs.
* The optimizer runs eagerly (``fused=True`` on CUDA: a handful of kernels), so the learning
  rate is a plain number that the warm-up and the milestone drops change freely.
* Nothing reads a device value: loss and wrong-prediction count come back as device
  scalars that :class:`~resviz.core.train.telemetry.Telemetry` adds up on the device.

Switching a shortcut in the app changes a Python attribute the graphs were traced with,
so the next step recompiles once for the new setting (Dynamo's guards), up to Dynamo's
cache limit per frame, after which that setting runs eagerly.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..models import Probe, ResNet
from .config import COMPILE_SETTINGS
from .distributed import SINGLE, DistContext

__all__ = [
    "COMPILE_SETTINGS",
    "CPU_COMPILE_MIN_IMAGES",
    "StepForward",
    "StepOutput",
    "TrainStep",
    "probed_forward",
    "use_channels_last",
    "use_compile",
    "use_inductor_cache",
]


#: On the CPU, "auto" compiles only runs of at least this many training images (iters x
#: batch): there a cold compile (minutes) is a few percent of the run (see use_compile).
CPU_COMPILE_MIN_IMAGES = 5_000_000


def use_compile(
    setting: str | bool, device: torch.device, *, distributed: bool = False, images: int | None = None
) -> bool:
    """Whether a run with ``compile=setting`` on ``device`` compiles its step.

    "auto" compiles on CUDA in a single process: a launch-bound step gains several-fold
    from CUDA graphs (benchmarks/gpu_check.sh measures it). Under DDP "auto" stays eager:
    CUDA graphs do not capture DDP's gradient all-reduce hooks (``"on"`` compiles without
    them). On the CPU "auto" compiles only long runs (``images`` = iters x batch of at
    least :data:`CPU_COMPILE_MIN_IMAGES`, e.g. the paper's 64k x 128 schedule):
    benchmarks/throughput.py on the project's 2-core machine (AMD EPYC, shared; resnet20,
    batch 128, one thread, 12 ABAB rounds; numbers in its docstring) gives the compiled
    channels-last step 1.14x the images/s of the eager channels-last one (356 against 312),
    while a cold compile of the two graphs took 149 s (12 s warm, from the cache): longer
    than the app's default run of 600 iterations, a few percent of a 10-hour one.
    """
    if isinstance(setting, bool):
        return setting
    if setting == "on":
        return True
    if setting == "off":
        return False
    if device.type == "cuda":
        return not distributed
    return device.type == "cpu" and not distributed and images is not None and images >= CPU_COMPILE_MIN_IMAGES


#: Whether channels-last pays on the CPU: on the project's machine (benchmarks/throughput.py,
#: resnet20, batch 128, one thread, 12 ABAB rounds) eager NHWC trained at 312-318 images/s
#: against 251-252 in NCHW, 1.25x; the compiled step is NHWC too (356-360).
CPU_CHANNELS_LAST = True


def use_channels_last(setting: bool, device: torch.device) -> bool:
    """Whether a run with ``channels_last=setting`` keeps activations NHWC on ``device``.

    On CUDA, cuDNN's and Inductor's convolutions are fastest in NHWC (tensor cores read
    it directly). On the CPU, oneDNN prefers it too; see :data:`CPU_CHANNELS_LAST`.
    """
    if not setting:
        return False
    return device.type == "cuda" or (device.type == "cpu" and CPU_CHANNELS_LAST)


def use_inductor_cache() -> Path:
    """Point Inductor's on-disk caches (FX graphs, kernels, Triton's binaries beneath) into
    resviz's cache folder, so the next launch finds its compiled step there (warm start).

    Must run before the first compile. Importing ``torch._dynamo`` already fills
    ``TORCHINDUCTOR_CACHE_DIR`` with torch's default (a folder under /tmp, lost at reboot);
    that default is replaced, a folder the user chose is kept.
    """
    from ..paths import cache_dir

    try:
        from torch._inductor.runtime.cache_dir_utils import default_cache_dir

        default = os.path.abspath(default_cache_dir())
    except ImportError:  # a torch that moved it: its default is still torchinductor_<user>
        default = None
    current = os.environ.get("TORCHINDUCTOR_CACHE_DIR")
    if (
        current is None
        or os.path.abspath(current) == default
        or (default is None and os.path.basename(current).startswith("torchinductor_"))
    ):
        os.environ["TORCHINDUCTOR_CACHE_DIR"] = str(cache_dir() / "inductor")
    if "TORCHINDUCTOR_COMPILE_THREADS" not in os.environ:
        # Inductor sizes its pool of compile processes by the host's cores (up to 32); in a
        # container with a 2-core quota on a big host those 32 processes share two cores.
        from torch._inductor import config as inductor_config

        from ..cores import usable_cores

        inductor_config.compile_threads = min(inductor_config.compile_threads, usable_cores())
    return Path(os.environ["TORCHINDUCTOR_CACHE_DIR"])


def probed_forward(model: ResNet, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """Logits, residual ratio per block and response std per 3x3 layer, all on the device.

    The same numbers, in the same order (:func:`~resviz.core.train.telemetry.model_layout`),
    as attaching a :class:`Probe` to the model, but as outputs of a pure function, which is
    what a compiled graph can return.
    """
    probe = Probe()
    h = model.stem(x, probe)
    for block in model.blocks():
        h = block.probed(h, probe)
    return model.head(h), torch.stack(probe.residual_ratio), torch.stack(probe.response_std)


class StepForward(nn.Module):
    """The step's forward pass: loss and wrong count, plus telemetry on probing steps.

    A module (not a function) so that DistributedDataParallel can wrap it and see every
    forward, the probing ones included; its only parameters are the model's.
    """

    def __init__(self, model: ResNet, *, bf16: bool = False) -> None:
        super().__init__()
        self.model = model
        self.bf16 = bf16

    def forward(self, x: Tensor, labels: Tensor, probing: bool = False) -> tuple[Tensor, ...]:
        """(loss, wrong) or, when probing, (loss, wrong, residual ratios, response stds)."""
        with torch.autocast(x.device.type, dtype=torch.bfloat16, enabled=self.bf16):
            if probing:
                logits, ratios, stds = probed_forward(self.model, x)
            else:
                logits = self.model(x)
            loss = F.cross_entropy(logits, labels)
        wrong = (logits.detach().argmax(dim=1) != labels).sum()
        if probing:
            return loss, wrong, ratios.float(), stds.float()
        return loss, wrong


@dataclass
class StepOutput:
    """What one step measured, left on the device (read once per record by Telemetry)."""

    loss: Tensor  # scalar, the batch's mean cross-entropy
    wrong: Tensor  # scalar, wrong top-1 predictions in the batch
    batch: int  # images in the batch (on this rank)
    residual_ratio: Tensor | None = None  # probing steps only
    response_std: Tensor | None = None
    grad_norm: Tensor | None = None


class TrainStep:
    """Forward, backward and SGD update of ``model``: ``step(x, labels, probing)``.

    The trainer builds one per run; a lockstep group calls each member's ``step`` in turn
    (on CUDA the calls return before the GPU finishes, so small nets overlap).
    """

    def __init__(
        self,
        model: ResNet,
        optimizer: torch.optim.Optimizer,
        device: torch.device,
        *,
        bf16: bool = False,
        compile: bool = False,
        dist: DistContext = SINGLE,
    ) -> None:
        self.model = model
        self.optimizer = optimizer
        self.device = device
        self.compiled = compile
        self.cuda_graphs = compile and device.type == "cuda" and not dist.distributed
        self.compile_seconds = 0.0
        self._warmed = False
        self.net: nn.Module = StepForward(model, bf16=bf16 and device.type == "cuda")
        if dist.distributed:
            from torch.nn.parallel import DistributedDataParallel

            # Unused parameters exist only where a projection shortcut is switched off.
            unused = any(b.downsample is not None and not b.shortcut_on for b in model.blocks())
            self.net = DistributedDataParallel(
                self.net,
                device_ids=[dist.local_rank] if device.type == "cuda" else None,
                find_unused_parameters=unused,
            )
        self._forward = self.net
        if compile:
            use_inductor_cache()
            # dynamic=False: the batch never changes shape (BatchStream drops partial
            # batches), so one static graph per variant; reduce-overhead = CUDA graphs.
            mode = "reduce-overhead" if self.cuda_graphs else None
            self._forward = torch.compile(self.net, mode=mode, dynamic=False)
        self._weights = [m.weight for _, m in model.weighted_layers()]

    def release_distributed(self) -> None:
        """Drop the DistributedDataParallel wrapper (after the last step, before the process
        group is destroyed).

        ``destroy_process_group`` only forgets torch's own references to the group; DDP's
        reducer keeps the Gloo group (and its worker threads) alive until interpreter
        finalization, where tearing it down aborts the process now and then ("terminate
        called without an active exception", seen on a loaded 2-core machine; see
        pytorch/pytorch#179291). Released here, the group dies while Python is alive.
        """
        from torch.nn.parallel import DistributedDataParallel

        if isinstance(self.net, DistributedDataParallel):
            self.net = self.net.module
            self._forward = self.net

    def step(self, x: Tensor, labels: Tensor, probing: bool = False) -> StepOutput:
        """One update on the batch; never waits for the device."""
        if self.cuda_graphs:
            # A new iteration: outputs of the last replay may be overwritten from here on.
            torch.compiler.cudagraph_mark_step_begin()
        out = self._forward(x, labels, probing)
        out[0].backward()
        result = StepOutput(loss=out[0].detach().clone(), wrong=out[1].clone(), batch=int(labels.shape[0]))
        if probing:
            result.residual_ratio, result.response_std = out[2].clone(), out[3].clone()
            grads = [w.grad if w.grad is not None else torch.zeros_like(w) for w in self._weights]
            result.grad_norm = torch.stack(torch._foreach_norm(grads)).float()
        self.optimizer.step()
        # Gradients go now, not before the next backward: a CUDA graph's outputs must not
        # stay alive into the next replay (cudagraph trees, "mark step begin").
        self.optimizer.zero_grad(set_to_none=True)
        return result

    __call__ = step

    def warm_up(self, x: Tensor, labels: Tensor) -> float:
        """Compile (and record) both graphs before training; seconds spent (0 when eager).

        Runs forward and backward of a plain and a probing step three times each (CUDA
        graph trees warm up on the first call, record on the second, replay from the
        third), then puts back the BN statistics those passes moved and drops the
        gradients: the parameters never change, so step 1 is the same as without it.
        A second call does nothing and returns the first one's seconds.
        """
        if not self.compiled or self._warmed:
            return self.compile_seconds
        saved = [b.detach().clone() for b in self.model.buffers()]
        started = time.perf_counter()
        for probing in (False, True):
            for _ in range(3):
                if self.cuda_graphs:
                    torch.compiler.cudagraph_mark_step_begin()
                out = self._forward(x, labels, probing)
                out[0].backward()
                self.optimizer.zero_grad(set_to_none=True)
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
        self.compile_seconds = time.perf_counter() - started
        self._warmed = True
        with torch.no_grad():
            for b, s in zip(self.model.buffers(), saved, strict=True):
                b.copy_(s)
        return self.compile_seconds
