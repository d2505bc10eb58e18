"""Ranges of the numbers a user can give, checked before any work starts (issue #9).

Torch-free, so the CLI and the app validate settings before the slow import of torch.
Each limit sits far above any real use and far below what breaks the machine: found by
attack, ``--threads 100000`` made OpenMP segfault.
"""

from __future__ import annotations

import math

from .errors import ConfigError

__all__ = [
    "MAX_THREADS",
    "check_threads",
    "check_finite",
    "MAX_ITERS",
    "MAX_BATCH_SIZE",
    "IMAGE_SIZE_RANGE",
    "SEED_RANGE",
    "check_whole",
    "check_number",
    "RATE_RANGE",
    "check_rate",
    "MAX_IG_STEPS",
    "MAX_IMAGE_BYTES",
    "MAX_CHECKPOINT_BYTES",
    "check_ig_steps",
    "MAX_CIFAR_DEPTH",
    "LONG_JOB_SECONDS",
]

#: More threads than any machine resviz runs on has cores; OpenMP crashes far above it.
MAX_THREADS = 512


def check_threads(value: int | None, option: str = "--threads") -> int | None:
    """``value`` when it is None or a whole number in [1, MAX_THREADS]; else ConfigError."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_THREADS:
        raise ConfigError(f"{option} must be a whole number from 1 to {MAX_THREADS}, not {value!r}")
    return value


def check_finite(value: float, option: str) -> float:
    """``value`` when it is a finite number; NaN and infinities get a ConfigError naming ``option``."""
    try:
        ok = math.isfinite(float(value))
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ConfigError(f"{option} must be a finite number, not {value!r}")
    return float(value)


# -- training settings (TrainConfig.validate) --------------------------------------------

#: Iterations of one run: the paper's longest schedule is 64k (CIFAR) / 600k (ImageNet).
MAX_ITERS = 1_000_000_000
#: Images per mini-batch: the paper uses 128 (CIFAR) and 256 (ImageNet).
MAX_BATCH_SIZE = 65_536
#: Side of the square training images for digits and folders: the paper's nets see 32
#: (CIFAR) and 224 (ImageNet); below 8 the CIFAR nets' two stride-2 stages leave nothing.
IMAGE_SIZE_RANGE = (8, 512)
#: Seeds torch's generators accept: any 64-bit integer, signed or unsigned.
SEED_RANGE = (-(2**63), 2**64 - 1)


def check_whole(value: object, option: str, low: int, high: int) -> int:
    """``value`` when it is a whole number (not a bool) in [low, high]; else ConfigError."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigError(f"{option} must be a whole number from {low:,} to {high:,}, not {value!r}")
    return value


def check_number(
    value: object, option: str, *, low: float, high: float = math.inf, low_open: bool = False, high_open: bool = False
) -> float:
    """``value`` when it is a finite number in the range; else ConfigError naming ``option``."""
    if isinstance(value, bool):
        raise ConfigError(f"{option} must be a finite number, not {value!r}")
    number = check_finite(value, option)
    too_low = number <= low if low_open else number < low
    too_high = number >= high if high_open else number > high
    if too_low or too_high:
        if high == math.inf:
            bound = f"greater than {low:g}" if low_open else f"{low:g} or more"
        else:
            bound = f"in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
        raise ConfigError(f"{option} must be {bound}, not {value!r}")
    return number


#: What the SGD step can hold: torch takes the learning rate and the weight decay as the
#: float32 ``alpha`` of ``param.add_(grad, alpha=-lr)``, so 1e39 crashed the first step with
#: "value cannot be converted to type float without overflow" (issue #17), and a rate below
#: float32's smallest normal number (1.18e-38) is zero or a denormal there. The top sits
#: far above any real use (the paper: 0.1 and 1e-4) and leaves the step's products
#: (lr x gradient, weight decay x weight) room below float32's 3.4e38.
RATE_RANGE = (1.1754943508222875e-38, 1e6)


def check_rate(value: object, option: str, *, zero: bool = False) -> float:
    """A learning rate (``zero=False``) or a weight decay (``zero=True``: 0 turns it off) the
    SGD step can hold: finite, within :data:`RATE_RANGE`; else ConfigError saying the range."""
    number = check_number(value, option, low=0.0, low_open=not zero)
    low, high = RATE_RANGE
    if not (number == 0.0 and zero) and not low <= number <= high:
        zero_part = "0 or " if zero else ""
        raise ConfigError(
            f"{option} must be {zero_part}from {low:.3g} to {high:g} (what the SGD step can hold), not {value!r}"
        )
    return number


# -- the inspector: attributions and the files it reads ------------------------------------

#: Integrated Gradients steps. Sundararajan et al. 2017 (arXiv:1703.01365, section 4) find
#: 20 to 300 enough; Captum's Gauss-Legendre weights for n steps build an n x n matrix, so
#: ``--steps 100000000`` asked for 71 PiB. 1,000 costs 8 MB and a fifth of a second.
MAX_IG_STEPS = 1000

#: Bytes read from an image file before decoding: far above any real image (a 100-megapixel
#: photo is tens of MB; Pillow refuses more than 179 megapixels anyway), far below what a
#: device such as /dev/zero would feed a reader until memory runs out.
MAX_IMAGE_BYTES = 256 * 2**20

#: Bytes of a weights file, on disk and as its zip archive declares them uncompressed.
#: ResNet-152 with SGD momentum is about 0.5 GB (60 M parameters, weights and momentum in
#: float32; with Adam's two moments 0.7 GB); a zip that inflates to 2 GiB peaked at 2.7 GB
#: of memory before this check existed.
MAX_CHECKPOINT_BYTES = 1536 * 2**20


#: The deepest CIFAR net built from a file: the paper's deepest, 1202 layers (section 4.2).
#: A weights file naming block layer1.3000 would otherwise build an 18,008-layer net.
MAX_CIFAR_DEPTH = 1202


def check_ig_steps(value: int, option: str = "--steps") -> int:
    """Integrated Gradients steps in [1, MAX_IG_STEPS]; else ConfigError."""
    return check_whole(value, option, 1, MAX_IG_STEPS)


# -- long jobs ---------------------------------------------------------------------------

#: An experiment estimated to take longer than this never starts unasked: the CLI needs
#: ``--yes`` (or a "y" at its prompt on a terminal), the app a ticked confirmation (issue #12:
#: "nothing starts an hours-long job without saying so").
LONG_JOB_SECONDS = 3600.0
