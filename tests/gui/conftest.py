"""GUI fixtures: private settings and runs folders, and a main window whose engine has loaded."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from resviz.core.train.config import TrainConfig

# Qt's offscreen screen is 800x600 by default, smaller than the window's minimum size; give
# it a common desktop size so window geometry behaves as on a real screen.
if os.environ.get("QT_QPA_PLATFORM") == "offscreen":
    os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={Path(__file__).with_name('offscreen-screen.json')}"

#: Tiny runs: resnet8 (n=1) on 16x16 digits, a handful of steps, telemetry often.
TINY = dict(iters=30, batch_size=32, telemetry_every=2, eval_every=10, checkpoint_every=1000, threads=1)


def tiny_config(arch: str = "resnet8", **overrides) -> TrainConfig:
    return TrainConfig(arch=arch, **{**TINY, **overrides})


@pytest.fixture(autouse=True)
def private_settings(tmp_path, monkeypatch):
    """Never read or write the user's QSettings or runs folder."""
    from resviz.gui import settings

    settings.use_private_settings(tmp_path / "settings")
    monkeypatch.setenv("RESVIZ_RUNS_DIR", str(tmp_path / "runs"))
    return tmp_path / "settings"


@pytest.fixture
def app(qapp):
    from resviz.gui.app import make_app

    return make_app()


@pytest.fixture
def window(app, qtbot):
    """The main window, shown offscreen, with torch & co. loaded."""
    from resviz.gui.app import create_window

    win = create_window()
    qtbot.addWidget(win)
    win.show()
    win.engine.start()
    qtbot.waitUntil(lambda: win.engine.is_ready or win.engine.error is not None, timeout=90_000)
    assert win.engine.error is None, win.engine.error
    yield win
    win.close()  # stops a training thread (and waits for its checkpoint)


def set_tiny(controls, iters: int = 30) -> None:
    """Make the form train tiny nets: depth 8, a few steps, small batches."""
    i = controls.depth.findData(8)
    controls.depth.setCurrentIndex(i)
    controls.iters.setValue(iters)
    controls.batch_size.setValue(32)
    controls.telemetry_every.setValue(2)
    controls.eval_every.setValue(10)


@pytest.fixture(autouse=True)
def _user_settings_untouched():
    """Guard: no test may write the settings file every QSettings() of the app falls back to
    (the session's own, see tests/conftest.py): each test keeps to its private settings."""
    user = Path(os.environ["XDG_CONFIG_HOME"]) / "resviz" / "resviz.conf"
    before = user.stat().st_mtime if user.exists() else None
    yield
    after = user.stat().st_mtime if user.exists() else None
    assert after == before, f"a test wrote the default settings (not its private ones) at {user}"


def curve_len(item) -> int:
    """How many points a pyqtgraph curve holds now."""
    x = item.getData()[0]
    return 0 if x is None else len(x)


def trained_experiment(folder: Path, *archs: str, iters: int = 4) -> Path:
    """An experiment's folder as the app and ``resviz experiment`` lay it out: ``folder/<arch>``
    run folders, each net trained ``iters`` steps on digits."""
    from resviz.core.data import load_dataset
    from resviz.core.train import Trainer

    digits = load_dataset("digits")
    for arch in archs:
        Trainer(tiny_config(arch, iters=iters), run_dir=folder / arch, dataset=digits).run()
    return folder


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory, digits):
    """A run folder for the Inspect tab: resnet8 trained 40 steps on digits, checkpoints at 20 and 40."""
    from resviz.core.train import Trainer

    run_dir = tmp_path_factory.mktemp("inspect") / "resnet8-run"
    config = tiny_config(iters=40, checkpoint_every=20, eval_every=40, telemetry_every=10, device="cpu")
    Trainer(config, run_dir=run_dir, dataset=digits).run()
    return run_dir


def inspect_tab(window):
    """The window's Inspect tab, brought to the front."""
    tab = window.files_tab()
    window.tabs.setCurrentWidget(tab)
    return tab


def load_into(tab, qtbot, source, **kwargs):
    """Load ``source`` in the Inspect tab and wait until the session holds it."""
    before = tab.session.loaded
    tab.session.load_model(source, **kwargs)
    qtbot.waitUntil(lambda: tab.session.loaded is not before and tab.session.gallery is not None, timeout=30_000)
    return tab.session.loaded


def wait_for_view(tab, qtbot, timeout: int = 30_000) -> None:
    """Wait until predictions and every attribution map of the current method are in."""
    from resviz.core.inspect.methods import method_spec

    keys = ("low", "mid", "high") if method_spec(tab.session.method).uses_level else ("input",)

    def ready():
        s = tab.session
        return (
            s.look is not None
            and s.prepared is not None
            and not s.busy
            and all(tab.attributions.current_map(k) is not None for k in keys)
        )

    qtbot.waitUntil(ready, timeout=timeout)


def drop_paths(window, paths) -> bool:
    """Drag local ``paths`` over the window and drop them; True if the drag was accepted."""
    from PySide6 import QtCore, QtGui

    mime = QtCore.QMimeData()
    mime.setUrls([QtCore.QUrl.fromLocalFile(str(p)) for p in paths])
    point = window.rect().center()
    # Qt's signatures: QDragEnterEvent takes a QPoint, QDropEvent a QPointF.
    enter = QtGui.QDragEnterEvent(
        point,
        QtCore.Qt.DropAction.CopyAction,
        mime,
        QtCore.Qt.MouseButton.LeftButton,
        QtCore.Qt.KeyboardModifier.NoModifier,
    )
    window.dragEnterEvent(enter)
    if enter.isAccepted():
        drop = QtGui.QDropEvent(
            QtCore.QPointF(point),
            QtCore.Qt.DropAction.CopyAction,
            mime,
            QtCore.Qt.MouseButton.LeftButton,
            QtCore.Qt.KeyboardModifier.NoModifier,
        )
        window.dropEvent(drop)
    return enter.isAccepted()


@pytest.fixture(scope="session")
def twin_runs(tmp_path_factory, digits):
    """One comparison's folder: resnet8 and its plain twin, 20 steps each, a checkpoint at 20."""
    from resviz.core.train import Trainer

    folder = tmp_path_factory.mktemp("comparison") / "20250101-000000-degradation"
    runs = {}
    for name, plain in (("plain8", True), ("resnet8", False)):
        config = tiny_config(
            iters=20, checkpoint_every=20, eval_every=20, telemetry_every=10, device="cpu", plain=plain
        )
        Trainer(config, run_dir=folder / name, dataset=digits).run()
        runs[name] = folder / name
    return runs
