"""How the plots read: re-theming, marker styles, legends outside the data, hints, exports (issue 19)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest

from resviz.core.records import Event, Record
from resviz.gui.plots.curves import CurvesPanel
from resviz.gui.plots.gradients import GradientsPanel
from resviz.gui.plots.redraw import redraw_queue
from resviz.gui.plots.responses import ResponsePanel
from resviz.gui.runs import Run, RunsModel
from resviz.gui.theme import THEMES, theme


def _run(name: str, colour: int = 0) -> Run:
    run = Run(name, config={"arch": "resnet8", "iters": 40}, status="running")
    run.colour_index = colour
    vectors = {"grad_norm": np.array([1.0, 0.5, 0.25]), "response_std": np.array([1.0, 0.9, 1.1])}
    run.apply(
        [
            Record(step=10, scalars={"train_error": 50.0, "loss": 2.0}, vectors=vectors),
            Record(step=20, scalars={"train_error": 40.0, "test_error": 45.0, "loss": 1.5}, vectors=vectors),
        ]
    )
    return run


@pytest.fixture
def panels(qtbot):
    """One of each overlay panel on its own; cut from the global theme afterwards."""
    theme().apply("dark")
    runs = RunsModel()
    made = [cls(runs) for cls in (CurvesPanel, GradientsPanel, ResponsePanel)]
    for panel in made:
        qtbot.addWidget(panel)
        panel.resize(700, 520)
        panel.show()
    yield runs, made
    redraw_queue().flush_all()  # nothing left to draw once qtbot closes the panels
    for panel in made:
        theme().changed.disconnect(panel._on_theme_changed)
    theme().apply("dark")


def _label_colours(panel) -> set[str]:
    """The colours the legend's label text is drawn in (read back from the rendered HTML)."""
    out = set()
    for legend in panel._legends:
        for _, label in legend.items:
            html = label.item.toHtml().lower()
            out |= {c for c in ("#d8d8d8", "#202020") if f"color:{c}" in html}
    return out


def test_switching_theme_recolours_legend_labels_already_shown(panels, qtbot):
    runs, made = panels
    runs.add(_run("plain8"))
    runs.add(_run("resnet8", 1))
    qtbot.wait(50)
    for panel in made:
        assert _label_colours(panel) == {"#d8d8d8"}  # dark theme's plot foreground
    theme().apply("light")
    for panel in made:
        # every label already in the legend is redrawn in the light theme's text colour
        assert _label_colours(panel) == {"#202020"}, type(panel).__name__
    assert THEMES["light"].plot_foreground == "#202020"


def test_export_is_wide_light_and_titled_with_quantity_and_runs(panels, qtbot, tmp_path):
    from PySide6 import QtGui

    from resviz.gui.export import ExportOptions, export_plot, export_plots

    runs, (curves, gradients, _responses) = panels
    runs.add(_run("plain8"))
    runs.add(_run("resnet8", 1))
    qtbot.wait(50)
    path = export_plot(curves.error, tmp_path / "error.png", options=ExportOptions())
    image = QtGui.QImage(str(path))
    assert image.width() == 1800 and image.height() > 400  # the default: ~2x a panel on screen
    assert image.pixelColor(2, 2).name() == "#ffffff"  # publication style: light, from a dark window
    assert image.pixelColor(image.width() - 3, image.height() - 3).name() == "#ffffff"
    assert image.text("Title") == "Error % (thin: training, bold: test) — plain8, resnet8"
    # a plot of the selected run names that run only, and its quantity in full
    heat = export_plot(gradients.heat_plot, tmp_path / "heat.png", options=ExportOptions(width=1600))
    assert QtGui.QImage(str(heat)).width() == 1600
    assert QtGui.QImage(str(heat)).text("Title") == "Gradient norm per layer over iterations (log10) — resnet8"
    # the key of runs goes under plots of every run, not under the selected run's heatmap
    assert curves.error.export_legend is curves.legend and gradients.heat_plot.export_legend is None
    # the on-screen style keeps the dark background; the window is back in its theme after
    screen = export_plot(curves.loss, tmp_path / "loss.png", options=ExportOptions(width=900, style="screen"))
    image = QtGui.QImage(str(screen))
    assert image.width() == 900 and image.pixelColor(2, 2).name() == THEMES["dark"].plot_background
    assert theme().name == "dark" and _label_colours(curves) == {"#d8d8d8"}
    assert curves.error.titleLabel.isVisible()  # the title hidden for the band is back
    svg = export_plots({"error": curves.error}, tmp_path / "svg", ExportOptions(formats="svg"))
    assert [p.suffix for p in svg] == [".svg"]
    assert "<title>Error % (thin: training, bold: test) — plain8, resnet8</title>" in svg[0].read_text()


def test_export_options_refuse_nonsense_and_are_remembered():
    from resviz.core.errors import ResvizError
    from resviz.gui.export import ExportOptions

    with pytest.raises(ResvizError, match="out of range"):
        ExportOptions(width=50)
    with pytest.raises(ResvizError, match="style"):
        ExportOptions(style="neon")
    ExportOptions(width=2400, style="screen", formats="png").save()
    assert ExportOptions.remembered() == ExportOptions(2400, "screen", "png")


def test_legend_text_is_as_large_as_the_axes_text(panels):
    from PySide6 import QtWidgets

    _runs, made = panels
    axis_points = QtWidgets.QApplication.font().pointSizeF()
    for panel in made:
        for legend in panel._legends:
            assert float(legend.opts["labelTextSize"].removesuffix("pt")) >= axis_points


def _events(run: Run) -> None:
    run.apply(
        [
            Event(step=20, kind="shortcuts", detail={"shortcuts": [True, True, True]}),
            Event(step=30, kind="lr_drop", detail={"lr": 0.01}),
        ]
    )


def test_shortcut_and_lr_markers_differ_and_their_labels_sit_above_the_plot(panels, qtbot):
    from PySide6 import QtCore

    runs, (curves, *_rest) = panels
    a, b = runs.add(_run("plain8")), runs.add(_run("resnet8", 1))
    _events(a)
    _events(b)
    qtbot.waitUntil(lambda: len(curves._items[b].markers) == 4, timeout=5000)
    pens = {kind: line.pen for line, plot, kind, *_ in curves._items[a].markers if plot is curves.error}
    assert pens["shortcuts"].style() == QtCore.Qt.PenStyle.DashDotLine
    assert pens["lr_drop"].style() == QtCore.Qt.PenStyle.DotLine
    assert pens["shortcuts"].color().name() == theme().run_colour(0).name()
    assert pens["lr_drop"].color().name() == THEMES["dark"].muted  # one schedule: a neutral line
    assert pens["shortcuts"].widthF() > pens["lr_drop"].widthF()
    # labels on the top axis, one per step for both runs, not on the lines inside the plot
    assert curves.marker_labels == [(20.0, "shortcuts on"), (30.0, "lr 0.01")]
    assert curves.error.getAxis("top").isVisible()
    assert curves.error.getAxis("top").style["hideOverlappingLabels"] is not True  # one at step 2 still shows
    assert all(getattr(line, "label", None) is None for line, *_ in curves._items[a].markers)
    tips = [line.toolTip() for line, *_ in curves._items[b].markers]
    assert "resnet8: lr 0.01 at iteration 30" in tips
    legend = [label.text for _, label in curves.legend.items]
    assert "shortcut switch" in legend and "lr drop" in legend
    # hidden runs take their labels and the keys with them
    a.set_visible(False)
    b.set_visible(False)
    assert not curves.error.getAxis("top").isVisible()
    assert "shortcut switch" not in [label.text for _, label in curves.legend.items]


def test_legends_sit_outside_every_plot_area(panels, qtbot):
    runs, made = panels
    for i, name in enumerate(("plain8", "resnet8", "plain14", "resnet14", "plain20", "resnet20")):
        runs.add(_run(name, i))
    for panel in made:
        panel.resize(520, 330)  # short, as a quarter of a 1600x1000 window

    def apart(panel) -> bool:
        """Every legend visible, holding its labels, clear of every plot's data area."""
        for legend in panel._legends:
            box = legend.sceneBoundingRect()
            if not legend.isVisible():
                return False
            # the row is as tall as the legend's entries: none is cut off in a short panel
            if not all(box.contains(label.sceneBoundingRect().center()) for _, label in legend.items):
                return False
            if any(box.intersects(plot.getViewBox().sceneBoundingRect()) for plot in panel.plots.values()):
                return False
        return True

    for panel in made:  # the layout settles over a few events; a real overlap never does
        qtbot.waitUntil(lambda panel=panel: apart(panel), timeout=5000)


def test_empty_plots_say_what_will_appear_instead_of_numbered_axes(panels, qtbot):
    runs, (curves, gradients, responses) = panels
    hints = {**gradients._hints, **responses._hints, "loss": curves._hints["loss"]}
    assert set(hints) == {"grad_norm", "grad_norm_history", "response_std", "response_std_sorted", "loss"}
    for name, item in gradients._hints.items():
        assert item.isVisible() and "appear" in item.toPlainText(), name
        assert not gradients.plots[name].getAxis("left").style["showValues"]
    run = runs.add(_run("resnet8"))
    qtbot.waitUntil(lambda: not gradients._hints["grad_norm"].isVisible(), timeout=5000)
    assert gradients.plots["grad_norm"].getAxis("left").style["showValues"]
    assert not curves._hints["loss"].isVisible()
    runs.remove(run)
    qtbot.waitUntil(lambda: gradients._hints["grad_norm"].isVisible(), timeout=5000)


def test_a_cut_title_carries_the_whole_text_as_tooltip(qtbot):
    from resviz.gui.plots.items import Plot

    widget = pg.GraphicsLayoutWidget()
    qtbot.addWidget(widget)
    plot = Plot()
    widget.addItem(plot)
    widget.resize(220, 200)
    widget.show()
    full = "3×3 response std (Fig. 7) · test; some training batch"
    plot.setTitle(full)
    qtbot.waitUntil(lambda: plot.titleLabel.text.endswith("…"), timeout=3000)
    assert plot.titleLabel.toolTip() == full
    widget.resize(900, 200)
    qtbot.waitUntil(lambda: plot.titleLabel.text == full, timeout=3000)
    assert plot.titleLabel.toolTip() == ""


def test_the_method_menu_opens_wide_enough_for_its_headers(qtbot):
    from PySide6 import QtGui, QtWidgets

    from resviz.gui.inspect.attributions import METHOD_GROUPS, fill_method_menu

    combo = QtWidgets.QComboBox()
    qtbot.addWidget(combo)
    combo.resize(160, 24)
    fill_method_menu(combo)
    bold = QtGui.QFont(combo.font())
    bold.setBold(True)
    longest = max(QtGui.QFontMetrics(bold).horizontalAdvance(title) for title, _ in METHOD_GROUPS)
    assert combo.view().minimumWidth() > longest > combo.width()


def test_an_export_that_fails_midway_keeps_the_earlier_file(panels, tmp_path, monkeypatch):
    """A full disk or a crash while writing a PNG left half a file where a good export had
    been; the export is now written beside it and moved into place at the end."""
    from resviz.core.errors import ResvizError
    from resviz.gui import export
    from resviz.gui.export import ExportOptions, export_plot

    runs, (curves, _gradients, _responses) = panels
    runs.add(_run("plain8"))
    target = tmp_path / "error.png"
    export_plot(curves.error, target, options=ExportOptions())
    good = target.read_bytes()
    assert good.startswith(b"\x89PNG")

    def half_then_full_disk(plot, path, *args):
        path.write_bytes(good[:100])  # the first bytes land, then the disk is full
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(export, "_export_png", half_then_full_disk)
    with pytest.raises(ResvizError, match="No space left on device"):
        export_plot(curves.error, target, options=ExportOptions())
    assert target.read_bytes() == good  # the earlier export, whole
    assert sorted(p.name for p in tmp_path.iterdir()) == ["error.png"]  # and no temporary left
