"""The Inspect tab: drop, paste and pick images; predictions, activations and attributions appear."""

from __future__ import annotations

import numpy as np
from conftest import drop_paths, inspect_tab, load_into, wait_for_view
from PIL import Image
from PySide6 import QtCore, QtGui

from resviz.core.runs import RunReader


def _digit_png(digits, index: int, path, side: int = 48):
    """A test digit saved as an ordinary RGB PNG, larger than the net's input."""
    rgb = digits.test.images[index].permute(1, 2, 0).numpy()
    Image.fromarray(rgb).resize((side, side), Image.NEAREST).save(path)
    return path


def test_dropping_a_checkpoint_and_an_image_shows_predictions_and_heatmaps(window, qtbot, tiny_run, digits, tmp_path):
    checkpoint = RunReader(tiny_run).checkpoints()[-1]
    image = _digit_png(digits, 7, tmp_path / "seven.png")
    assert window.tabs.currentIndex() == 0
    assert drop_paths(window, [checkpoint, image])
    tab = window.files_tab()
    assert window.tabs.currentWidget() is tab  # the Inspect tab came to the front
    wait_for_view(tab, qtbot)
    s = tab.session
    assert s.loaded.arch == "resnet8" and s.loaded.classes == digits.classes
    assert s.image.name == "seven.png" and s.prepared.display.shape == (16, 16, 3)  # as the net sees it
    assert len(tab.predictions.predictions()) == 5
    probs = [p.probability for p in s.look.predictions]
    assert probs == sorted(probs, reverse=True) and 0 < sum(probs) <= 1.0 + 1e-6
    # Grad-CAM side by side at the three levels, each drawn over the image
    for level in ("low", "mid", "high"):
        panel = tab.attributions.panels[level]
        assert panel.isVisible() and panel.has_image
        assert f"for ‘{s.look.predictions[0].name}’" in panel.caption()
    assert not tab.attributions.panels["input"].isVisible()
    # the channel grids: the most active first, and a click enlarges one
    grid = tab.activations.grids["high"]
    assert len(grid._tiles) == 16 and grid.activations.total_channels == 64
    assert list(grid.activations.means) == sorted(grid.activations.means, reverse=True)
    tab.activations.enlarge("high", 2)
    assert (
        tab.activations.enlarged.has_image
        and f"ch. {int(grid.activations.channels[2])}" in tab.activations.enlarged.caption()
    )
    assert tab.image.has_image and "seven.png · 48×48 → 16×16" in tab.image_info.text()


def test_drags_the_window_takes_and_leaves(window, tmp_path):
    for name in ("a.png", "b.JPG", "w.pt", "w.safetensors"):
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "notes.txt").write_text("x")
    mime = QtCore.QMimeData()
    for name, accepted in (
        ("a.png", True),
        ("b.JPG", True),
        ("w.pt", True),
        ("w.safetensors", True),
        ("notes.txt", False),
    ):
        mime.setUrls([QtCore.QUrl.fromLocalFile(str(tmp_path / name))])
        enter = QtGui.QDragEnterEvent(
            window.rect().center(),
            QtCore.Qt.DropAction.CopyAction,
            mime,
            QtCore.Qt.MouseButton.LeftButton,
            QtCore.Qt.KeyboardModifier.NoModifier,
        )
        window.dragEnterEvent(enter)
        assert enter.isAccepted() == accepted, name


def test_paste_an_image_a_file_and_text(window, qtbot, tiny_run, digits, tmp_path):
    tab = inspect_tab(window)
    load_into(tab, qtbot, tiny_run)  # a run folder: its latest checkpoint
    clipboard = QtGui.QGuiApplication.clipboard()
    rgba = np.zeros((20, 20, 4), dtype=np.uint8)
    rgba[4:16, 8:12] = (255, 255, 255, 255)  # a white bar on a transparent ground
    qimage = QtGui.QImage(rgba.data, 20, 20, 80, QtGui.QImage.Format.Format_RGBA8888).copy()
    clipboard.setImage(qimage)
    # Ctrl+V right after clicking the tab: the focus is on the tab bar, outside the page
    qtbot.keyClick(window.tabs.tabBar(), QtCore.Qt.Key.Key_V, QtCore.Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(
        lambda: tab.session.image is not None and tab.session.image.name == "the pasted image", timeout=30_000
    )
    wait_for_view(tab, qtbot)
    # transparency flattened onto white, as for a dropped file
    assert tuple(tab.session.image.rgb[0, 0]) == (255, 255, 255)

    path = _digit_png(digits, 3, tmp_path / "copied.png")
    mime = QtCore.QMimeData()
    mime.setUrls([QtCore.QUrl.fromLocalFile(str(path))])
    clipboard.setMimeData(mime)
    tab.paste()
    qtbot.waitUntil(lambda: tab.session.image.name == "copied.png", timeout=30_000)
    wait_for_view(tab, qtbot)

    shown = tab.session.image
    clipboard.setText("just some words")
    tab.paste()
    assert "holds text, not an image" in window.last_error and tab.image_problem.isVisible()
    assert tab.session.image is shown  # nothing lost


def test_gallery_pick_method_switch_and_the_cache(window, qtbot, tiny_run, digits):
    tab = inspect_tab(window)
    load_into(tab, qtbot, RunReader(tiny_run).checkpoints()[0])  # an earlier checkpoint
    assert tab.gallery.list.count() == min(240, len(digits.test))
    tab.gallery.pick(5)
    wait_for_view(tab, qtbot)
    assert tab.session.image.name.startswith("digits test image 5 (labelled ")
    assert np.array_equal(tab.session.image.rgb, digits.test.images[5].permute(1, 2, 0).numpy())
    first = {k: m.attribution.copy() for k, m in tab.session.maps.items()}

    tab.attributions.method.setCurrentIndex(tab.attributions.method.findData("saliency"))
    wait_for_view(tab, qtbot)
    assert tab.attributions.panels["input"].isVisible() and not tab.attributions.panels["low"].isVisible()
    saliency = tab.session.maps["input"]
    assert saliency.method == "saliency" and saliency.attribution.shape == (3, 16, 16)

    tab.attributions.method.setCurrentIndex(tab.attributions.method.findData("gradcam"))
    wait_for_view(tab, qtbot)
    for key, values in first.items():
        assert tab.session.maps[key].cached and np.array_equal(tab.session.maps[key].attribution, values)
    assert "cached" in tab.attributions.panels["mid"].caption()

    # another target class: the maps are for it, and the bars outline it
    second = tab.session.look.predictions[1]
    tab.session.set_target(second.index)
    wait_for_view(tab, qtbot)
    assert all(m.target == second.index for m in tab.session.maps.values())
    assert tab.attributions.target.currentData() == second.index

    # the opacity slider only re-blends: 0 shows the image itself
    tab.attributions.opacity.setValue(0)
    shown = tab.attributions.panels["low"]._image
    expected = QtGui.QImage(tab.session.prepared.display.data, 16, 16, 48, QtGui.QImage.Format.Format_RGB888)
    assert shown == expected


def test_choices_are_remembered(window, qtbot):
    tab = inspect_tab(window)
    tab.attributions.method.setCurrentIndex(tab.attributions.method.findData("ig"))
    tab.attributions.set_colour_map("viridis")
    tab.attributions.opacity.setValue(70)
    tab.lesion.limit.setValue(300)
    from resviz.gui import settings

    qtbot.waitUntil(lambda: settings.value("inspect/opacity", 0) == 70, timeout=15_000)  # written soon after
    window.save_settings()  # as closing does
    from resviz.gui.app import create_window

    again = create_window()
    qtbot.addWidget(again)
    other = again.files_tab()
    assert other.session.method == "ig" and other.attributions.method.currentData() == "ig"
    assert other.attributions.colour_map() == "viridis" and other.attributions.opacity.value() == 70
    assert other.lesion.limit.value() == 300
    again.close()


def test_every_inspect_control_has_a_tooltip(window, qtbot, tiny_run):
    from PySide6 import QtWidgets

    tab = inspect_tab(window)
    load_into(tab, qtbot, tiny_run)  # the block strip's switches exist once a net is loaded
    kinds = (
        QtWidgets.QComboBox,
        QtWidgets.QSpinBox,
        QtWidgets.QLineEdit,
        QtWidgets.QAbstractButton,
        QtWidgets.QSlider,
        QtWidgets.QListWidget,
        QtWidgets.QProgressBar,
    )
    controls = [
        w
        for w in tab.findChildren(QtWidgets.QWidget)
        if isinstance(w, kinds)
        and not isinstance(w, QtWidgets.QScrollBar)
        and not isinstance(w.parent(), (QtWidgets.QComboBox, QtWidgets.QAbstractSpinBox))
    ]
    missing = [
        w.text() if isinstance(w, QtWidgets.QAbstractButton) else (w.objectName() or type(w).__name__)
        for w in controls
        if not w.toolTip() and not (isinstance(w, QtWidgets.QToolButton) and w.defaultAction())
    ]
    assert len(controls) > 25 and not missing
    assert len(tab.strip.cells) == 3 and all(c.shortcut.toolTip() and c.residual.toolTip() for c in tab.strip.cells)
    for view in (tab.image, tab.predictions, *tab.attributions.panels.values(), *tab.activations.grids.values()):
        assert view.toolTip(), type(view).__name__
