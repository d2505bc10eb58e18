"""Property-based fuzzing of the two parsers of untrusted files (issue #9): every mutated
image and weights file is either accepted or refused with a ResvizError in one line, never
a crash. The mutations are those of ``tests/fuzz_cases.py``; ``benchmarks/fuzz.py`` runs the
same ones >= 10,000 times. Derandomized, with no example database: CI sees the same cases."""

from __future__ import annotations

import fuzz_cases
import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from resviz.core.errors import CheckpointError, ImageError

_FRACTION = st.floats(0, 1, exclude_max=True, allow_nan=False)


def _ops(seed_names: list[str]):
    op = st.one_of(
        st.tuples(st.just("truncate"), _FRACTION),
        st.tuples(st.just("flip"), _FRACTION, st.integers(0, 7)),
        st.tuples(st.just("splice"), st.sampled_from(seed_names), _FRACTION, _FRACTION),
        st.tuples(st.just("field"), st.integers(0, 255), st.sampled_from(fuzz_cases.BIG_VALUES)),
        st.tuples(st.just("word"), _FRACTION, st.sampled_from(fuzz_cases.BIG_VALUES)),
        st.tuples(st.just("insert"), _FRACTION, st.binary(min_size=1, max_size=8)),
        st.tuples(st.just("delete"), _FRACTION, st.integers(1, 64)),
    )
    return st.lists(op, min_size=1, max_size=3)


_FUZZ = settings(
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

IMAGES = fuzz_cases.image_seeds()


def _one_line(exc: Exception) -> None:
    msg = str(exc)
    assert msg and "\n" not in msg and "Traceback" not in msg and "weights_only" not in msg, msg


@settings(_FUZZ, max_examples=300)
@given(name=st.sampled_from(sorted(IMAGES)), ops=_ops(sorted(IMAGES)))
@example(name="TIFF", ops=[("flip", 0.1862150960850123, 7)])  # found by benchmarks/fuzz.py: Pillow's TypeError
def test_mutated_images_are_decoded_or_refused(name, ops):
    from resviz.core.inspect import decode_image

    data = fuzz_cases.apply(IMAGES[name], ops, IMAGES)
    try:
        image = decode_image(data, name=f"{name}-case")
    except ImageError as exc:
        _one_line(exc)
        assert f"{name}-case" in str(exc)
        return
    rgb = image.rgb
    assert rgb.dtype == np.uint8 and rgb.ndim == 3 and rgb.shape[2] == 3 and rgb.shape[0] * rgb.shape[1] > 0


def test_every_seed_image_decodes_unmutated():
    from resviz.core.inspect import decode_image

    for name, seed in IMAGES.items():
        assert decode_image(seed.data).rgb.shape == (12, 16, 3), name


@pytest.fixture(scope="module")
def checkpoints():
    return fuzz_cases.checkpoint_seeds()


@pytest.mark.parametrize("name", fuzz_cases.CHECKPOINT_KINDS)
def test_every_seed_checkpoint_loads_unmutated(tmp_path, checkpoints, name):
    from resviz.core.inspect import load_model

    path = tmp_path / f"w.{'safetensors' if name == 'safetensors' else 'pt'}"
    path.write_bytes(checkpoints[name].data)
    assert load_model(path).arch == "resnet8"


@settings(_FUZZ, max_examples=200)
@given(name=st.sampled_from(fuzz_cases.CHECKPOINT_KINDS), ops=_ops(list(fuzz_cases.CHECKPOINT_KINDS)), data=st.data())
def test_mutated_checkpoints_are_loaded_or_refused(tmp_path_factory, checkpoints, name, ops, data):
    from resviz.core.inspect import load_model

    suffix = data.draw(st.sampled_from([".pt", ".safetensors"] if name == "safetensors" else [".pt", ".pth"]))
    path = tmp_path_factory.mktemp("fuzz") / f"w{suffix}"
    path.write_bytes(fuzz_cases.apply(checkpoints[name], ops, checkpoints))
    try:
        loaded = load_model(path)
    except CheckpointError as exc:
        _one_line(exc)
        return
    assert loaded.model.num_classes == len(loaded.classes) >= 1


# -- issue #17: output paths and checkpoint metadata --


@settings(_FUZZ, max_examples=60)
@given(
    target=st.sampled_from(fuzz_cases.OUTPUT_TARGETS),
    how=st.sampled_from(fuzz_cases.OUTPUT_DECORATIONS),
    kind=st.sampled_from([None, "figure"]),
)
def test_every_output_name_is_refused_or_written_where_it_says(tmp_path_factory, target, how, kind):
    scenario = fuzz_cases.output_scenario(tmp_path_factory.mktemp("out"))
    verdict, detail = fuzz_cases.output_verdict(scenario, target, how, kind)
    assert verdict in ("refused", "correct"), (target, how, kind, detail)


def test_output_names_that_must_be_refused(tmp_path):
    """Hand-picked oracles: what each target must give (a swapped verdict fails)."""
    expected = {
        ("input-stem", "plain", "figure"): "refused",  # writes input.png
        ("link-run-file", "plain", None): "refused",
        ("hardlink-input", "plain", None): "refused",
        ("run-new", "plain", "figure"): "refused",
        ("new", "stem", "figure"): "correct",  # written as new.png
        ("link-other", "plain", "figure"): "correct",  # the link is replaced, other.txt kept
        ("hardlink-run-file", "plain", None): "correct",  # the entry is replaced, the run's file kept
        ("new", "slash", "figure"): "refused",
    }
    for i, ((target, how, kind), want) in enumerate(expected.items()):
        scenario = fuzz_cases.output_scenario(tmp_path / str(i))
        verdict, detail = fuzz_cases.output_verdict(scenario, target, how, kind)
        assert verdict == want, (target, how, kind, detail)


@pytest.mark.parametrize("change", fuzz_cases.metadata_cases(), ids=repr)
def test_forged_checkpoint_metadata_is_refused_or_harmless(tmp_path, change):
    verdict, detail = fuzz_cases.metadata_verdict(tmp_path / "m.pt", [change])
    assert verdict in ("refused", "correct"), detail
    if change[0] in ("step", "mean", "image_shape") and change != ("step", True):
        assert verdict == "refused", detail  # each of these contradicts the file or is out of range
