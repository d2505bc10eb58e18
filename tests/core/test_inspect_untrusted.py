"""Weights files from strangers (issue #9): sizes checked before loading, code never run and
never advised, fields of the wrong type or shape refused in one line, what does not fit named."""

from __future__ import annotations

import io
import os
import pickle
import threading
import zipfile

import pytest
import torch

from resviz.core.checkpoint import checkpoint_dict
from resviz.core.errors import CheckpointError
from resviz.core.inspect import load_model
from resviz.core.models import build_model


def _refusal(fn, timeout: float = 20.0, unblock=None) -> str:
    """The CheckpointError message ``fn()`` raises; fails on a hang or any other outcome."""
    box: dict = {}

    def target():
        try:
            fn()
        except BaseException as exc:  # noqa: BLE001  inspected below
            box["exc"] = exc

    t = threading.Thread(target=target, daemon=True)
    t.start()
    t.join(timeout)
    if t.is_alive() and unblock is not None:
        unblock()
    assert not t.is_alive(), "hung instead of refusing"
    exc = box.get("exc")
    assert isinstance(exc, CheckpointError), repr(exc)
    msg = str(exc)
    assert "\n" not in msg and "weights_only" not in msg and "Traceback" not in msg, msg
    return msg


@pytest.fixture(scope="module")
def resnet8():
    return build_model("resnet8")


@pytest.fixture(scope="module")
def good(resnet8, digits):
    return checkpoint_dict(resnet8, classes=digits.classes, mean=digits.mean, dataset="digits", step=10)


# -- item 2: not a regular file, or too large -------------------------------------------------


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes (POSIX)")
def test_a_fifo_checkpoint_is_refused_without_waiting(tmp_path):
    fifo = tmp_path / "w.pt"
    os.mkfifo(fifo)

    def unblock():
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))

    msg = _refusal(lambda: load_model(fifo), timeout=10.0, unblock=unblock)
    assert "named pipe (FIFO)" in msg and "does not exist" not in msg


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_a_device_checkpoint_is_refused(tmp_path):
    (tmp_path / "zero.pt").symlink_to("/dev/zero")
    assert "is a device, not a file" in _refusal(lambda: load_model(tmp_path / "zero.pt"))


def test_a_symlink_loop_is_not_said_to_be_missing(tmp_path):
    (tmp_path / "loop.pt").symlink_to(tmp_path / "loop.pt")
    msg = _refusal(lambda: load_model(tmp_path / "loop.pt"))
    assert "symbolic link loop" in msg and "does not exist" not in msg
    assert "does not exist" in _refusal(lambda: load_model(tmp_path / "gone.pt"))


def test_a_file_larger_than_the_limit_is_refused_before_torch_reads_it(tmp_path, monkeypatch, good):
    from resviz.core.inspect import weightsfile

    torch.save(good, tmp_path / "w.pt")
    monkeypatch.setattr(weightsfile, "MAX_CHECKPOINT_BYTES", 1000)

    def never(*a, **k):
        raise AssertionError("torch.load was called on an oversized file")

    monkeypatch.setattr(torch, "load", never)
    msg = _refusal(lambda: load_model(tmp_path / "w.pt"))
    assert "more than the 1000 bytes resviz reads" in msg


def _inflating_zip(path, good, extra_bytes: int) -> None:
    """A real torch checkpoint with one more member: ``extra_bytes`` zeros, deflated to a few KB."""
    buf = io.BytesIO()
    torch.save(good, buf)
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as src, zipfile.ZipFile(path, "w") as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info.filename))
        prefix = src.namelist()[0].split("/")[0]
        dst.writestr(f"{prefix}/data/999", b"\0" * extra_bytes, compress_type=zipfile.ZIP_DEFLATED)


def test_a_zip_that_would_inflate_past_the_limit_is_refused_unread(tmp_path, monkeypatch, good):
    from resviz.core.inspect import weightsfile

    path = tmp_path / "bomb.pt"
    _inflating_zip(path, good, 8 * 2**20)
    assert path.stat().st_size < 2**20  # small on disk: only the declared size tells
    monkeypatch.setattr(weightsfile, "MAX_CHECKPOINT_BYTES", 4 * 2**20)
    real_load = torch.load
    monkeypatch.setattr(torch, "load", lambda *a, **k: pytest.fail("torch.load was called on a zip bomb"))
    msg = _refusal(lambda path=path: load_model(path))
    assert "bomb.pt declares 8.3 MiB uncompressed, more than the 4 MiB" in msg
    monkeypatch.setattr(torch, "load", real_load)
    monkeypatch.setattr(weightsfile, "MAX_CHECKPOINT_BYTES", 64 * 2**20)
    assert load_model(path).arch == "resnet8"  # the same file under a larger limit loads


def test_a_damaged_zip_is_refused_in_one_line(tmp_path, good):
    buf = io.BytesIO()
    torch.save(good, buf)
    data = buf.getvalue()
    (tmp_path / "cut.pt").write_bytes(data[: len(data) // 2])
    assert "cut.pt" in _refusal(lambda: load_model(tmp_path / "cut.pt"))


# -- item 5: code is never run, never advised -------------------------------------------------


class _System:
    def __reduce__(self):
        return (os.system, ("echo this must never run",))


class _Eval:
    def __reduce__(self):
        import builtins

        return (builtins.eval, ("1 + 1",))


def _needs_code(msg: str) -> None:
    assert "wants to run code" in msg and "was not loaded" in msg and "never runs code" in msg, msg


@pytest.mark.parametrize("zip_format", [True, False])
def test_pickles_that_want_to_run_code_are_refused_plainly(tmp_path, zip_format, resnet8):
    for name, payload in (("system", _System()), ("eval", _Eval())):
        path = tmp_path / f"{name}.pt"
        torch.save({"state_dict": resnet8.state_dict(), "x": payload}, path, _use_new_zipfile_serialization=zip_format)
        msg = _refusal(lambda path=path: load_model(path))
        _needs_code(msg)
    assert "posix.system" in _refusal(lambda: load_model(tmp_path / "system.pt"))


def test_a_raw_pickle_is_refused_without_torch_s_warning(tmp_path, resnet8):
    # pytest turns warnings into errors here: torch's "Detected pickle protocol 4" would fail it.
    with open(tmp_path / "raw.pkl", "wb") as f:
        pickle.dump({"x": _System()}, f, protocol=2)
    _needs_code(_refusal(lambda: load_model(tmp_path / "raw.pkl")))
    with open(tmp_path / "raw4.pt", "wb") as f:
        pickle.dump({k: v.numpy() for k, v in resnet8.state_dict().items()}, f, protocol=4)
    msg = _refusal(lambda: load_model(tmp_path / "raw4.pt"))
    assert "not a PyTorch weights file" in msg


def test_a_torchscript_archive_is_refused_as_a_program(tmp_path, resnet8):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # torch 2.14 deprecates scripting, not loading
        torch.jit.save(torch.jit.script(torch.nn.Linear(2, 2)), tmp_path / "script.pt")
    msg = _refusal(lambda: load_model(tmp_path / "script.pt"))
    assert "TorchScript" in msg and "program" in msg


@pytest.mark.parametrize(
    "text",
    [
        "Weights only load failed. ... weights_only=False ...\n\nUnsupported GLOBAL posix.system",
        "Trying to load unsupported GLOBAL posix.system whose module posix is blocked.",
        "WeightsUnpickler error: Unsupported global: GLOBAL __main__.Evil was not an allowed global by default.",
        "unsupported global: global nt.system",
        "Trying to call reduce for unrecognized function <built-in function eval>",
        "Can only build Tensor, Parameter, OrderedDict or types allowlisted via `add_safe_globals`, but got <class 'x.Y'>",
        "Can only create new object for nn.Parameter or classes allowlisted via `add_safe_globals` but got <class 'x.Y'>",
        "``torch.distributed.tensor`` must be imported to load DTensors",
    ],
)
def test_every_wording_of_a_refused_global_is_recognised(tmp_path, monkeypatch, good, text):
    torch.save(good, tmp_path / "w.pt")

    def refuse(*a, **k):
        raise pickle.UnpicklingError(text)

    monkeypatch.setattr(torch, "load", refuse)
    _needs_code(_refusal(lambda: load_model(tmp_path / "w.pt")))


def test_torch_s_advice_never_reaches_the_user(tmp_path, monkeypatch, good):
    # What torch 2.14 says about a damaged legacy file: its advice first, the reason last.
    text = (
        "Weights only load failed. In PyTorch 2.6, we changed the default value of the `weights_only` argument "
        "in `torch.load` from `False` to `True`. Re-running `torch.load` with `weights_only` set to `False` will "
        "likely succeed, but it can result in arbitrary code execution. Do it only if you got the file from a "
        "trusted source.\nPlease file an issue with the following so that we can make `weights_only=True` "
        "compatible with your use case: WeightsUnpickler error: \n\nUnsupported operand 149\n\nCheck the "
        "documentation of torch.load to learn more about types accepted by default with weights_only "
        "https://pytorch.org/docs/stable/generated/torch.load.html."
    )
    torch.save(good, tmp_path / "w.pt")

    def refuse(*a, **k):
        raise pickle.UnpicklingError(text)

    monkeypatch.setattr(torch, "load", refuse)
    msg = _refusal(lambda: load_model(tmp_path / "w.pt"))
    assert "(Unsupported operand 149)" in msg and "PyTorch 2.6" not in msg


# -- item 4: fields of the wrong type or shape, weights that do not fit ------------------------


@pytest.mark.parametrize(
    "field,value,words",
    [
        ("mean", "abc", "'mean' is a str"),
        ("mean", torch.zeros(2, 3), "'mean' has shape (2, 3)"),
        ("mean", torch.full((3, 16, 16), float("nan")), "'mean' holds NaN or infinite values"),
        ("shortcuts", "yes", "'shortcuts' is a str"),
        ("shortcuts", [True, False], "'shortcuts' has 2 entries for 3 blocks"),
        ("shortcuts", [1, 2, 3], "'shortcuts' must be true/false values"),
        ("residuals", {}, "'residuals' is a dict"),
        ("classes", 5, "'classes' is an int"),
        ("classes", {"a": 1}, "'classes' is a dict"),
        ("classes", [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], "'classes' must be names (strings)"),
        ("num_classes", "x", "'num_classes' is a str"),
        ("num_classes", 7, "'num_classes' says 7 but its head has 10"),
        ("arch", 5, "'arch' is an int"),
        ("arch", "resnet999", "records the architecture 'resnet999'"),
        ("step", "x", "'step' is a str"),
        ("dataset", 5, "'dataset' is an int"),
        ("config", [1, 2], "'config' is a list"),
        ("model", {}, "its weights are an empty dict"),
        ("model", "x", "without weights"),
    ],
)
def test_checkpoint_fields_of_the_wrong_type_or_shape(tmp_path, good, field, value, words):
    torch.save({**good, field: value}, tmp_path / "w.pt")
    msg = _refusal(lambda: load_model(tmp_path / "w.pt"))
    assert words in msg and "w.pt" in msg, msg


def test_weights_that_are_no_dense_float_tensors_are_named(tmp_path, good):
    sd = good["model"]
    cases = [
        ({**sd, "conv1.weight": "x"}, "conv1.weight is a str, not a tensor"),
        ({**sd, "conv1.weight": sd["conv1.weight"].to(torch.complex64)}, "conv1.weight is complex64"),
        ({**sd, "fc.bias": sd["fc.bias"].to(torch.int64)}, "fc.bias is int64"),
        ({**sd, "conv1.weight": torch.zeros(sd["conv1.weight"].shape, device="meta")}, "conv1.weight is on meta"),
    ]
    for state, words in cases:
        torch.save({**good, "model": state}, tmp_path / "w.pt")
        msg = _refusal(lambda: load_model(tmp_path / "w.pt"))
        assert words in msg and "Error(s) in loading" not in msg, msg


def test_an_empty_dict_is_not_found_dict(tmp_path):
    torch.save({}, tmp_path / "empty.pt")
    msg = _refusal(lambda: load_model(tmp_path / "empty.pt"))
    assert "empty dict" in msg and "found dict" not in msg
    torch.save({"state_dict": {}}, tmp_path / "empty2.pt")
    assert "empty dict" in _refusal(lambda: load_model(tmp_path / "empty2.pt"))


def test_a_state_dict_that_does_not_fit_names_the_keys(tmp_path, resnet8):
    sd = dict(resnet8.state_dict())
    sd["layer2.0.conv1.weight"] = torch.zeros(32, 16, 5, 5)
    del sd["layer3.0.bn2.running_var"]
    sd["layer1.0.extra"] = torch.zeros(1)
    torch.save(sd, tmp_path / "w.pt")
    msg = _refusal(lambda: load_model(tmp_path / "w.pt"))
    assert "layer2.0.conv1.weight is (32, 16, 5, 5) in the file but (32, 16, 3, 3)" in msg
    assert "missing layer3.0.*" in msg and "unexpected layer1.0.*" in msg


def test_a_file_cannot_make_resviz_build_an_enormous_net(tmp_path, resnet8, good):
    # Blocks numbered up to 3,000 in every stage would be an 18,008-layer net.
    sd = dict(resnet8.state_dict())
    for stage in (1, 2, 3):
        sd[f"layer{stage}.3000.bn1.weight"] = torch.ones(1)
    torch.save(sd, tmp_path / "deep.pt")
    assert "up to 1202 layers" in _refusal(lambda: load_model(tmp_path / "deep.pt"))
    torch.save({**good, "arch": "resnet600002"}, tmp_path / "arch.pt")
    assert "up to 1202 layers" in _refusal(lambda: load_model(tmp_path / "arch.pt"))
    torch.save(resnet8.state_dict(), tmp_path / "w.pt")
    assert "up to 1202 layers" in _refusal(lambda: load_model(tmp_path / "w.pt", arch="resnet600002"))


def test_weights_named_by_something_else_than_strings(tmp_path, resnet8, good):
    torch.save({**good, "model": {**resnet8.state_dict(), 7: torch.zeros(1)}}, tmp_path / "ours.pt")
    assert "named by an int (7)" in _refusal(lambda: load_model(tmp_path / "ours.pt"))
    torch.save({**resnet8.state_dict(), 7: torch.zeros(1)}, tmp_path / "bare.pt")
    assert load_model(tmp_path / "bare.pt").arch == "resnet8"  # a bare dict: the odd entry is left out


def test_a_head_without_classes_is_refused(tmp_path, resnet8):
    sd = dict(resnet8.state_dict())
    sd["fc.weight"], sd["fc.bias"] = torch.zeros(0, 64), torch.zeros(0)
    torch.save(sd, tmp_path / "w.pt")
    assert "no ResNet" in _refusal(lambda: load_model(tmp_path / "w.pt"))
