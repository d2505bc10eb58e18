"""Dark and light palettes for the widgets and the plots, and one colour per run.

Qt's Fusion style with an explicit palette looks the same on every desktop, so a
screenshot from this machine shows what a user sees. pyqtgraph does not follow the Qt
palette, so plots subscribe to :data:`Theme.changed` and restyle themselves.

Run colours come from the Okabe-Ito set (Okabe & Ito 2008, "Color Universal Design"),
which stays distinguishable for the common colour-vision deficiencies; each theme gets
the shades that keep contrast against its plot background.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from PySide6 import QtCore, QtGui, QtWidgets

__all__ = ["ThemeColours", "Theme", "THEMES", "theme"]


@dataclass(frozen=True)
class ThemeColours:
    """The colours one theme gives widgets, plots and runs."""

    name: str
    window: str
    base: str
    alt_base: str
    text: str
    muted: str
    button: str
    highlight: str
    link: str
    plot_background: str
    plot_foreground: str
    grid_alpha: float
    error: str
    ok: str
    runs: tuple[str, ...]
    heatmap: str  # a pyqtgraph colour map name


THEMES: dict[str, ThemeColours] = {
    "dark": ThemeColours(
        name="dark",
        window="#2b2d31",
        base="#1e1f22",
        alt_base="#26282c",
        text="#e6e6e6",
        muted="#a0a4ab",
        button="#35373c",
        highlight="#3d7bd9",
        link="#7fb4ff",
        plot_background="#1a1b1e",
        plot_foreground="#d8d8d8",
        grid_alpha=0.25,
        error="#ff7b72",
        ok="#7ee787",
        # Okabe-Ito, brightened where the original is too dark on near-black.
        runs=("#56b4e9", "#e69f00", "#2fc09a", "#f0e442", "#ff8a3d", "#d98fc0", "#7fa8ff", "#bbbbbb"),
        heatmap="viridis",
    ),
    "light": ThemeColours(
        name="light",
        window="#efeff1",
        base="#ffffff",
        alt_base="#f5f5f7",
        text="#1b1b1f",
        muted="#5c6068",
        button="#e4e4e8",
        highlight="#2f6fd1",
        link="#1a5fb4",
        plot_background="#ffffff",
        plot_foreground="#202020",
        grid_alpha=0.18,
        error="#c0262d",
        ok="#1a7f37",
        # Okabe-Ito, darkened where the original is too pale on white (yellow, sky blue).
        runs=("#0072b2", "#d55e00", "#009e73", "#b59a00", "#cc79a7", "#56b4e9", "#e69f00", "#555555"),
        heatmap="viridis",
    ),
}


class Theme(QtCore.QObject):
    """The current theme; widgets that draw their own colours connect to :attr:`changed`."""

    changed = QtCore.Signal()

    def __init__(self) -> None:
        super().__init__()
        self._colours = THEMES["dark"]

    @property
    def colours(self) -> ThemeColours:
        return self._colours

    @property
    def name(self) -> str:
        return self._colours.name

    def run_colour(self, index: int) -> QtGui.QColor:
        """The colour of the run with this colour index in the current theme."""
        runs = self._colours.runs
        return QtGui.QColor(runs[index % len(runs)])

    def apply(self, name: str, app: QtWidgets.QApplication | None = None) -> None:
        """Switch to ``name`` ("dark" or "light"): palette, plot defaults, then ``changed``."""
        self._colours = THEMES.get(name, THEMES["dark"])
        app = app or QtWidgets.QApplication.instance()
        if app is not None:
            # Once per process: setStyle deletes the style in use, and a widget of a closed
            # window not yet deleted (deleteLater) that still points at it crashed the
            # process when the next window was made (a segfault seen in the test suite).
            if app.style() is None or app.style().name().lower() != "fusion":
                app.setStyle("Fusion")
            app.setPalette(_palette(self._colours))
        self._plots_follow()

    def _plots_follow(self) -> None:
        import pyqtgraph as pg

        pg.setConfigOptions(background=self._colours.plot_background, foreground=self._colours.plot_foreground)
        self.changed.emit()

    @contextmanager
    def plots_as(self, name: str) -> Iterator[ThemeColours]:
        """Draw the plots in theme ``name`` for the duration (an export in the light
        "publication" style from a dark window), then back; the widgets' palette stays, and
        nothing is repainted on screen in between because the event loop does not run."""
        previous = self._colours
        wanted = THEMES.get(name, previous)
        if wanted is previous:
            yield previous
            return
        self._colours = wanted
        self._plots_follow()
        try:
            yield wanted
        finally:
            self._colours = previous
            self._plots_follow()


def _palette(c: ThemeColours) -> QtGui.QPalette:
    role, group = QtGui.QPalette.ColorRole, QtGui.QPalette.ColorGroup
    p = QtGui.QPalette()
    for r, col in (
        (role.Window, c.window),
        (role.WindowText, c.text),
        (role.Base, c.base),
        (role.AlternateBase, c.alt_base),
        (role.ToolTipBase, c.base),
        (role.ToolTipText, c.text),
        (role.PlaceholderText, c.muted),
        (role.Text, c.text),
        (role.Button, c.button),
        (role.ButtonText, c.text),
        (role.BrightText, c.error),
        (role.Highlight, c.highlight),
        (role.HighlightedText, "#ffffff"),
        (role.Link, c.link),
    ):
        p.setColor(r, QtGui.QColor(col))
    # Disabled controls must still be legible, only dimmer.
    for r in (role.WindowText, role.Text, role.ButtonText):
        p.setColor(group.Disabled, r, QtGui.QColor(c.muted))
    return p


_THEME: Theme | None = None


def theme() -> Theme:
    """The app's one :class:`Theme` (created on first use)."""
    global _THEME
    if _THEME is None:
        _THEME = Theme()
    return _THEME
