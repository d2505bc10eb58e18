"""The zoo: ``resviz zoo``, ``zoo download`` and ``--checkpoint zoo:NAME`` (issue #20).

No test reaches the internet: a refusal is forced with ``--offline`` or a ``urlopen`` that
fails as DNS does, and a download comes from a server on 127.0.0.1.
"""

from __future__ import annotations

import dataclasses
import hashlib
import http.server
import json
import socket
import threading
import urllib.error
import urllib.request

import pytest
import torch

from resviz.cli import main
from resviz.core import zoo
from resviz.core.inspect import load_model
from resviz.core.inspect.hub import resolve_weights
from resviz.core.inspect.loading import CIFAR10_CLASSES
from resviz.core.models import build_model


@pytest.fixture
def hub(tmp_path, monkeypatch):
    """torch's hub cache in a temp folder (both ways resviz finds it: torch loaded or not)."""
    monkeypatch.setattr(torch.hub, "_hub_dir", str(tmp_path / "hub"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    return tmp_path / "hub" / "checkpoints"


@pytest.fixture
def no_network(monkeypatch):
    def fail(request, timeout=None):
        raise urllib.error.URLError(socket.gaierror(-3, "Temporary failure in name resolution"))

    monkeypatch.setattr(urllib.request, "urlopen", fail)


def _error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert err and err[-1].startswith("resviz: error: ") and "Traceback" not in "\n".join(err)
    return err[-1]


def _akamaster_file(path, depth: int = 20, seed: int = 0) -> torch.nn.Module:
    """Our resnet``depth`` saved as pytorch_resnet_cifar10 saves it: ``{"state_dict": {"module.…"}}``,
    with its ``linear`` head and ``shortcut`` names and a ``best_prec1`` beside."""
    torch.manual_seed(seed)
    ours = build_model(f"resnet{depth}").eval()
    state = {}
    for k, v in ours.state_dict().items():
        k = k.replace(".downsample.", ".shortcut.")
        state["module." + ("linear." + k[3:] if k.startswith("fc.") else k)] = v
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"state_dict": state, "best_prec1": 91.73}, path)
    return ours


def _publish(monkeypatch, name: str, path) -> None:
    """Make the zoo entry ``name`` expect the SHA-256 of ``path`` (a stand-in for the real file)."""
    entry = zoo.ZOO[name]
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    monkeypatch.setitem(zoo.ZOO, name, dataclasses.replace(entry, file=dataclasses.replace(entry.file, sha256=digest)))


def test_the_zoo_lists_every_net_with_its_numbers(hub, capsys):
    assert main(["zoo"]) == 0
    out = capsys.readouterr().out
    for name in ("resnet20-cifar10", "resnet1202-cifar10", "resnet18-imagenet", "resnet152-imagenet"):
        assert name in out
    assert out.count("not measured here") == len(zoo.ZOO) == 11
    assert "8.27%" in out and "30.24%" in out and str(hub) in out
    assert main(["zoo", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed["folder"] == str(hub)
    assert [n["name"] for n in listed["nets"]] == list(zoo.ZOO)
    assert all(n["cached"] is None for n in listed["nets"])
    # A file in the cache is listed as cached.
    _akamaster_file(hub / "resnet20-12fca82f.th")
    assert main(["zoo", "--json"]) == 0
    cached = {n["name"]: n["cached"] for n in json.loads(capsys.readouterr().out)["nets"]}
    assert cached["resnet20-cifar10"] == str(hub / "resnet20-12fca82f.th") and cached["resnet32-cifar10"] is None


def test_the_cifar_entries_are_pytorch_resnet_cifar10s_files():
    cifar = [e for e in zoo.ZOO.values() if e.dataset == "CIFAR-10"]
    assert [e.arch for e in cifar] == ["resnet20", "resnet32", "resnet44", "resnet56", "resnet110", "resnet1202"]
    for e in cifar:
        assert e.file.url.endswith(f"/pretrained_models/{e.file.filename}")
        assert e.file.filename == f"{e.arch}-{e.file.sha256}.th" and len(e.file.sha256) == 8
        assert e.weights is None and "BSD-2-Clause" in e.licence
    assert [e.published_error for e in cifar] == [8.27, 7.37, 6.90, 6.61, 6.32, 6.18]


def test_the_imagenet_entries_are_torchvisions_default_weights():
    for depth in (18, 34, 50, 101, 152):
        e = zoo.ZOO[f"resnet{depth}-imagenet"]
        w = resolve_weights(f"ResNet{depth}_Weights.DEFAULT")
        assert e.weights == w.name and e.file.url == w.url and e.file.filename == w.filename
        from torchvision.models import get_weight

        meta = get_weight(w.name).meta
        assert e.published_error == pytest.approx(100 - meta["_metrics"]["ImageNet-1K"]["acc@1"], abs=1e-6)
        assert e.size_mb == pytest.approx(meta["_file_size"], abs=0.01)


def test_every_entry_refused_offline_in_one_line_naming_url_and_folder(hub, capsys, no_network):
    for name, entry in zoo.ZOO.items():
        for extra in (["--offline"], []):  # the flag, and a network that is not there
            assert main(["eval", "--checkpoint", f"zoo:{name}", "--data", "digits", *extra]) == 2
            line = _error_line(capsys)
            assert entry.file.url in line and f"put it in {hub}" in line, line
    assert not hub.exists() or not any(hub.iterdir())  # nothing half-written


def test_an_unknown_zoo_name_lists_the_names(capsys):
    assert main(["eval", "--checkpoint", "zoo:resnet21-cifar10", "--data", "digits"]) == 2
    line = _error_line(capsys)
    assert "no net called 'resnet21-cifar10'" in line and "resnet20-cifar10" in line


def test_a_file_placed_by_hand_loads_offline_as_pytorch_resnet_cifar10(hub, monkeypatch):
    path = hub / "resnet20-12fca82f.th"
    ours = _akamaster_file(path, seed=3)
    _publish(monkeypatch, "resnet20-cifar10", path)
    loaded = load_model("zoo:resnet20-cifar10", download=False)
    assert loaded.layout == "pytorch_resnet_cifar10" and loaded.arch == "resnet20"
    assert loaded.classes == CIFAR10_CLASSES and loaded.source == str(path)
    assert any("pytorch_resnet_cifar10" in n and "BSD-2-Clause" in n for n in loaded.notes)
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        assert torch.allclose(loaded.model(x), ours(x), atol=1e-5)


def test_a_cached_file_whose_hash_differs_is_refused(hub, capsys):
    _akamaster_file(hub / "resnet20-12fca82f.th")  # random weights: not the published file
    assert main(["eval", "--checkpoint", "zoo:resnet20-cifar10", "--data", "digits", "--offline"]) == 2
    line = _error_line(capsys)
    assert "does not match its published SHA-256 (expected 12fca82f" in line and "not loaded" in line


@pytest.mark.slow  # unpacks the shared CIFAR-10 archive (a session fixture; minutes on 2 busy cores)
def test_eval_of_a_zoo_net_on_the_cifar_folder_runs_offline(hub, monkeypatch, capsys, cifar10_folder, no_network):
    path = hub / "resnet20-12fca82f.th"
    ours = _akamaster_file(path, seed=1)
    _publish(monkeypatch, "resnet20-cifar10", path)
    argv = ["eval", "--checkpoint", "zoo:resnet20-cifar10", "--data", str(cifar10_folder), "--offline"]
    assert main(argv + ["--limit", "40", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["n_images"] == 40 and "pytorch_resnet_cifar10" in result["model"]
    # The same 40 images through our net directly, normalised as pytorch_resnet_cifar10 trained.
    from resviz.core.inspect.datasets import load_data_for
    from resviz.core.inspect.evaluation import evaluation_images

    loaded, data = load_data_for(load_model(path), str(cifar10_folder), root=None, splits=("test",))
    subset = evaluation_images(data.test, 40)
    with torch.no_grad():
        logits = ours(loaded.preprocess.batch(subset.images))
    wrong = int((logits.argmax(1) != subset.labels).sum())
    loss = float(torch.nn.functional.cross_entropy(logits, subset.labels))
    assert result["wrong"] == wrong and result["error"] == pytest.approx(100 * wrong / 40, abs=0.01)
    assert result["loss"] == pytest.approx(loss, rel=1e-4)


def test_zoo_download_fetches_from_the_entrys_url_with_a_progress_line(hub, monkeypatch, capsys, tmp_path):
    src = tmp_path / "served.th"
    _akamaster_file(src, seed=2)
    body = src.read_bytes()

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        entry = zoo.ZOO["resnet20-cifar10"]
        url = f"http://127.0.0.1:{httpd.server_address[1]}/resnet20-12fca82f.th"
        digest = hashlib.sha256(body).hexdigest()
        monkeypatch.setitem(
            zoo.ZOO,
            "resnet20-cifar10",
            dataclasses.replace(entry, file=dataclasses.replace(entry.file, url=url, sha256=digest)),
        )
        assert main(["zoo", "download", "resnet20-cifar10"]) == 0
    finally:
        httpd.shutdown()
        httpd.server_close()
    captured = capsys.readouterr()
    assert captured.out.strip() == f"resnet20-cifar10: {hub / 'resnet20-12fca82f.th'}"
    assert "resnet20-cifar10 [########################] 100%" in captured.err
    assert (hub / "resnet20-12fca82f.th").read_bytes() == body


def test_zoo_download_needs_a_known_name(capsys):
    assert main(["zoo", "download"]) == 2
    assert "needs a NAME" in _error_line(capsys)
    assert main(["zoo", "fetch", "x"]) == 2
    assert "unknown zoo action 'fetch'" in _error_line(capsys)
    assert main(["zoo", "download", "resnet20-cifar10", "nope"]) == 2
    assert "no net called 'nope'" in _error_line(capsys)


@pytest.mark.parametrize(
    "argv",
    [
        ["lesion", "--data", "digits", "--limit", "20", "--json"],
        ["features", "--data", "digits", "--limit", "20", "--level", "low", "--channels", "4", "--out", "{tmp}/f.png"],
        ["landscape", "--data", "digits", "--grid", "3", "--images", "16", "--dims", "1", "--out", "{tmp}/l.png"],
    ],
    ids=["lesion", "features", "landscape"],
)
def test_every_verb_that_takes_a_checkpoint_takes_a_zoo_name(hub, monkeypatch, capsys, tmp_path, argv, no_network):
    path = hub / "resnet20-12fca82f.th"
    _akamaster_file(path, seed=4)
    _publish(monkeypatch, "resnet20-cifar10", path)
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    assert main([argv[0], "--checkpoint", "zoo:resnet20-cifar10", "--offline", *argv[1:]]) == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    if argv[0] == "lesion":
        result = json.loads(out)
        assert result["n_images"] == 20 and len(result["residual_error"]) == 9  # resnet20: 3 stages of 3 blocks
    else:
        figure = tmp_path / argv[-1].rsplit("/", 1)[1]
        assert figure.stat().st_size > 1000
