"""The Inspect tab's "Trained nets" and the sample photographs (issue #20).

Downloads come from a server on 127.0.0.1; no test reaches the internet.
"""

from __future__ import annotations

import dataclasses
import hashlib
import http.server
import socket
import threading
import time
import urllib.error
import urllib.request

import pytest
import torch
import torchvision
from conftest import inspect_tab, load_into
from PySide6 import QtWidgets

from resviz.core import zoo


@pytest.fixture
def hub(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, "_hub_dir", str(tmp_path / "hub"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    return tmp_path / "hub" / "checkpoints"


def _akamaster_bytes(tmp_path) -> bytes:
    """A pytorch_resnet_cifar10-format resnet20 (random weights), as bytes."""
    from resviz.core.models import build_model

    torch.manual_seed(0)
    state = {}
    for k, v in build_model("resnet20").state_dict().items():
        k = k.replace(".downsample.", ".shortcut.")
        state["module." + ("linear." + k[3:] if k.startswith("fc.") else k)] = v
    path = tmp_path / "aka.th"
    torch.save({"state_dict": state, "best_prec1": 90.0}, path)
    return path.read_bytes()


def _serve(body: bytes, *, delay: float = 0.0):
    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            try:
                for i in range(0, len(body), 4096):
                    self.wfile.write(body[i : i + 4096])
                    if delay:
                        self.wfile.flush()
                        time.sleep(delay)
            except (BrokenPipeError, ConnectionResetError):
                pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


def _point_entry(monkeypatch, name: str, body: bytes, url: str | None = None) -> None:
    entry = zoo.ZOO[name]
    file = dataclasses.replace(entry.file, sha256=hashlib.sha256(body).hexdigest(), url=url or entry.file.url)
    monkeypatch.setitem(zoo.ZOO, name, dataclasses.replace(entry, file=file))


def _choose(box, name: str) -> None:
    box._fill_zoo()
    box.zoo.setCurrentIndex(box.zoo.findData(name))
    assert box.zoo.currentData() == name


def test_trained_nets_lists_the_zoo_and_loads_a_cached_net(window, qtbot, hub, tmp_path, monkeypatch):
    body = _akamaster_bytes(tmp_path)
    hub.mkdir(parents=True)
    (hub / "resnet20-12fca82f.th").write_bytes(body)
    _point_entry(monkeypatch, "resnet20-cifar10", body)
    tab = inspect_tab(window)
    box = tab.model_box
    box._fill_zoo()
    names = [box.zoo.itemData(i) for i in range(box.zoo.count())]
    assert names == list(zoo.ZOO)
    assert box.zoo.itemText(0).endswith("(cached)") and "8.27% error" in box.zoo.itemText(0)
    assert "45 MB to download" in box.zoo.itemText(names.index("resnet18-imagenet"))
    _choose(box, "resnet20-cifar10")
    before = tab.session.loaded
    box.load_zoo.click()
    assert box.fetch.dialog is None  # cached: no download
    qtbot.waitUntil(lambda: tab.session.loaded is not before and tab.session.gallery is not None, timeout=30_000)
    assert tab.session.loaded.layout == "pytorch_resnet_cifar10" and tab.session.loaded.arch == "resnet20"


def test_an_uncached_net_downloads_with_progress_then_loads(window, qtbot, hub, tmp_path, monkeypatch):
    body = _akamaster_bytes(tmp_path)
    httpd = _serve(body, delay=0.002)
    try:
        _point_entry(monkeypatch, "resnet20-cifar10", body, f"http://127.0.0.1:{httpd.server_address[1]}/r.th")
        tab = inspect_tab(window)
        box = tab.model_box
        _choose(box, "resnet20-cifar10")
        seen: list[int] = []
        box.fetch.progress.connect(lambda done, total: seen.append(done))
        before = tab.session.loaded
        box.load_zoo.click()
        assert box.fetch.dialog is not None and box.fetch.dialog.isVisible()
        qtbot.waitUntil(lambda: tab.session.loaded is not before and tab.session.loaded is not None, timeout=60_000)
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert (hub / "resnet20-12fca82f.th").read_bytes() == body
    assert seen and seen[-1] == len(body) and len(seen) > 2
    assert tab.session.loaded.arch == "resnet20"
    qtbot.waitUntil(lambda: box.fetch.dialog is None, timeout=5_000)
    assert box.zoo.itemText(box.zoo.findData("resnet20-cifar10")).endswith("(cached)")


def test_cancel_stops_the_download_and_loads_nothing(window, qtbot, hub, tmp_path, monkeypatch):
    body = _akamaster_bytes(tmp_path)
    httpd = _serve(body, delay=0.05)  # about 14 s for the whole file
    try:
        _point_entry(monkeypatch, "resnet20-cifar10", body, f"http://127.0.0.1:{httpd.server_address[1]}/r.th")
        tab = inspect_tab(window)
        box = tab.model_box
        _choose(box, "resnet20-cifar10")
        messages: list[str] = []
        tab.session.message.connect(messages.append)
        box.load_zoo.click()
        qtbot.waitUntil(lambda: box.fetch.dialog is not None and box.fetch.dialog.value() >= 0, timeout=5_000)
        with qtbot.waitSignal(box.fetch.cancelled, timeout=10_000):
            box.fetch.dialog.findChild(QtWidgets.QPushButton).click()  # the dialog's Cancel
        box.fetch.wait(5)
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert "download of resnet20-cifar10 cancelled" in messages
    assert not (hub / "resnet20-12fca82f.th").exists()
    assert tab.session.loaded is None
    qtbot.waitUntil(lambda: box.fetch.dialog is None, timeout=5_000)


def test_offline_the_error_box_names_the_url_and_the_folder(window, qtbot, hub, monkeypatch):
    def no_network(request, timeout=None):
        raise urllib.error.URLError(socket.gaierror(-3, "Temporary failure in name resolution"))

    monkeypatch.setattr(urllib.request, "urlopen", no_network)
    tab = inspect_tab(window)
    box = tab.model_box
    _choose(box, "resnet50-imagenet")
    with qtbot.waitSignal(box.fetch.failed, timeout=10_000):
        box.load_zoo.click()
    qtbot.waitUntil(lambda: window.last_error is not None, timeout=5_000)
    assert zoo.ZOO["resnet50-imagenet"].file.url in window.last_error and str(hub) in window.last_error
    assert tab.session.loaded is None


def test_an_imagenet_net_is_offered_the_sample_photographs(window, qtbot, tmp_path):
    pytest.importorskip("skimage", reason="scikit-image (the sample photographs) is not installed")
    path = tmp_path / "resnet18.pth"
    torch.manual_seed(0)
    torch.save(torchvision.models.resnet18().state_dict(), path)
    tab = inspect_tab(window)
    gallery = tab.gallery
    assert gallery.photos.isHidden()
    load_into(tab, qtbot, path)
    assert tab.session.loaded.model.family == "imagenet"
    assert not gallery.photos.isHidden()
    names = [gallery.photos.item(i).text() for i in range(gallery.photos.count())]
    assert names == ["chelsea", "coffee", "astronaut", "rocket", "camera"]
    # Nothing of the user's was shown: the cat comes up by itself, as the net sees it (224 x 224).
    qtbot.waitUntil(lambda: tab.session.prepared is not None and tab.session.image.name == "chelsea", timeout=60_000)
    assert tab.session.prepared.display.shape == (224, 224, 3)
    # Another photograph, clicked.
    item = gallery.photos.item(1)
    gallery.photos.itemClicked.emit(item)
    qtbot.waitUntil(lambda: tab.session.image.name == "coffee", timeout=30_000)
