"""Sample photographs for the ImageNet nets, from scikit-image's bundled data (issue #20).

A net trained on ImageNet is best watched on a real photograph; rather than files of our
own, resviz offers the photographs that ship inside scikit-image's wheel (``skimage/data``,
no download through pooch), each free to use:

- chelsea: Stefan van der Walt's cat, CC0;
- coffee: a cup of coffee at Pikolo Espresso Bar, photo Rachel Michetti, CC0;
- astronaut: Eileen Collins, NASA, public domain;
- rocket: the launch of DSCOVR on a Falcon 9, SpaceX, public domain;
- camera: "cameraman", photo Lav Varshney, CC0 (grey).

(The licences are scikit-image's own notes in ``skimage/data/_fetchers.py``.) The files are
located with :func:`importlib.util.find_spec` and read with resviz's own decoder: scikit-image
is never imported (its import costs about a second), and without it the error says what
to install. ``sample:chelsea`` names one wherever an image path is taken.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

from .errors import ImageError

__all__ = ["Sample", "SAMPLES", "SAMPLE_PREFIX", "is_sample_name", "sample_path", "samples_available"]

#: ``--image sample:chelsea``.
SAMPLE_PREFIX = "sample:"


@dataclass(frozen=True)
class Sample:
    """One bundled photograph: its name, file inside ``skimage/data``, subject and licence."""

    name: str
    filename: str
    subject: str
    licence: str


SAMPLES: dict[str, Sample] = {
    s.name: s
    for s in (
        Sample("chelsea", "chelsea.png", "a tabby cat (Chelsea)", "CC0, Stefan van der Walt"),
        Sample("coffee", "coffee.png", "a cup of coffee", "CC0, Rachel Michetti"),
        Sample("astronaut", "astronaut.png", "astronaut Eileen Collins", "public domain, NASA"),
        Sample("rocket", "rocket.jpg", "a Falcon 9 launch", "public domain, SpaceX"),
        Sample("camera", "camera.png", "a man with a camera on a tripod (grey)", "CC0, Lav Varshney"),
    )
}


def is_sample_name(text: object) -> bool:
    """True for ``sample:chelsea`` (any name: :func:`sample_path` says which exist)."""
    return isinstance(text, str) and text.strip().startswith(SAMPLE_PREFIX)


def _data_folder() -> Path | None:
    """``skimage/data`` of the installed scikit-image, found without importing it."""
    try:
        spec = importlib.util.find_spec("skimage")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def samples_available() -> list[Sample]:
    """The samples whose files are present (none without scikit-image)."""
    folder = _data_folder()
    if folder is None:
        return []
    return [s for s in SAMPLES.values() if (folder / s.filename).is_file()]


def sample_path(name: str) -> Path:
    """The file of the sample ``name`` (with or without ``sample:``), or an ImageError saying what to do."""
    key = name.strip().removeprefix(SAMPLE_PREFIX).strip().lower()
    sample = SAMPLES.get(key)
    if sample is None:
        raise ImageError(f"there is no sample photograph called {key!r}: choose one of {', '.join(SAMPLES)}")
    folder = _data_folder()
    if folder is None:
        raise ImageError(
            f"the sample photographs come with scikit-image, which is not installed: pip install scikit-image "
            f"(or give an image file instead of sample:{key})"
        )
    path = folder / sample.filename
    if not path.is_file():
        raise ImageError(f"{path} is missing from this scikit-image installation: reinstall scikit-image")
    return path
