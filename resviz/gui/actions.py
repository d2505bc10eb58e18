"""The window's actions (menus, keyboard shortcuts, toolbar buttons) in one place.

A ``QAction`` carries its text, shortcut, tooltip and enabled state; the Run menu and
the buttons beside the training settings show the same actions, so they never
disagree about what can be done now.
"""

from __future__ import annotations

from PySide6 import QtGui, QtWidgets

__all__ = ["WindowActions"]

Key = QtGui.QKeySequence


class WindowActions:
    """Every QAction of the main window, and the menu bar built from them."""

    def __init__(self, window: QtWidgets.QMainWindow) -> None:
        def act(text: str, tip: str, shortcut: str | Key.StandardKey | None = None, *, checkable: bool = False):
            action = QtGui.QAction(text, window)
            action.setToolTip(tip)
            action.setStatusTip(tip)
            if shortcut is not None:
                action.setShortcut(Key(shortcut))
                action.setToolTip(f"{tip} ({Key(shortcut).toString(Key.SequenceFormat.NativeText)})")
            action.setCheckable(checkable)
            return action

        # File
        self.open_run = act(
            "&Open run folder…",
            "Show a run folder (or every run of an experiment folder) and follow it while it is written",
            Key.StandardKey.Open,
        )
        self.open_model = act("Open &model…", "Load a checkpoint or weights file into the Inspect tab", "Ctrl+Shift+O")
        self.open_image = act("Open &image…", "Show an image file in the Inspect tab", "Ctrl+Shift+I")
        self.export_plots = act("&Export plots…", "Save every plot as PNG and SVG into a folder", "Ctrl+E")
        self.export_csv = act(
            "Export &metrics (CSV)…",
            "Save the selected run's metrics as CSV rows: step, metric, index, value",
            "Ctrl+Shift+E",
        )
        self.runs_folder = act("&Runs folder…", "Choose where runs trained in the app are saved")
        self.preferences = act(
            "&Preferences…", "Training threads and other choices for this machine", Key.StandardKey.Preferences
        )
        self.quit = act("&Quit", "Stop training (saving a checkpoint) and close resviz", Key.StandardKey.Quit)
        # Run
        self.start = act("&Start", "Train with the settings on the left (queued if a run is training)", "Ctrl+R")
        self.pause = act(
            "&Pause", "Hold training before its next step; press again to resume", "Ctrl+P", checkable=True
        )
        self.stop = act("S&top", "Stop the run after this step and save a checkpoint; drop queued runs", "Ctrl+.")
        self.shortcuts = act(
            "Turn shortcuts &off",
            "Switch the shortcuts of the training nets now, each net its own way (marked on the curves)",
            "Ctrl+K",
        )
        # The Shortcuts button's menu: what a press does, spelt out for a mixed group.
        self.shortcuts_all_on = act("Every net: shortcuts on", "Switch every shortcut of every net on")
        self.shortcuts_all_off = act("Every net: shortcuts off", "Switch every shortcut of every net off")
        self.shortcuts_swap = act(
            "Each net: swap its shortcuts", "The plain nets gain shortcuts, the residual nets lose them (Ctrl+K)"
        )
        self.degradation = act(
            "&Degradation experiment",
            "Train plain and residual nets at two depths together, step by step, and compare with the paper",
            "Ctrl+D",
        )
        self.paper = act(
            "Reproduce the &paper…",
            "Train the nets of the paper's CIFAR-10 section and compare with Table 6, Fig. 6, Fig. 7 and its claims "
            "(says what it costs first)",
            "Ctrl+Shift+P",
        )
        self.continue_run = act("&Continue selected run", "Resume the selected stopped run from its last checkpoint")
        # Inspect (window-wide: each brings its view to the front and starts it, from any tab)
        self.lesion_study = act(
            "Run the &lesion study",
            "Test error with each block's residual branch deleted, and with each shortcut removed, one block "
            "at a time (Veit et al. 2016), on the Inspect tab's net",
            "Ctrl+Shift+L",
        )
        self.channel_features = act(
            "Find what &channels see",
            "One pass over the test images: every channel's strongest units of the Inspect tab's net, "
            "cropped to their receptive fields",
            "Ctrl+Shift+F",
        )
        # View
        self.log_scale = act(
            "&Log-scale error and loss", "Logarithmic y axes for the error and loss curves", "Ctrl+L", checkable=True
        )
        self.dark = act("&Dark theme", "Light text on dark backgrounds", checkable=True)
        self.light = act("L&ight theme", "Dark text on light backgrounds", checkable=True)
        themes = QtGui.QActionGroup(window)
        for a in (self.dark, self.light):
            themes.addAction(a)
        self.reset_layout = act("&Reset layout", "Put the panels back where they started")
        # Help
        self.getting_started = act("&Getting started", "The three things resviz is for, step by step", "F1")
        self.shortcuts_help = act("&Keyboard shortcuts", "Every key of the window, read from its actions")
        self.about = act("&About resviz", "What resviz is and the paper it follows")
        self.about_qt = act("About &Qt", "The Qt version this app runs on")

    def shortcut_choices(self) -> list[QtGui.QAction]:
        """The Shortcuts button's menu (and the Run menu's submenu)."""
        return [self.shortcuts_all_on, self.shortcuts_all_off, self.shortcuts_swap]

    def build_menus(self, window: QtWidgets.QMainWindow, docks: list[QtWidgets.QDockWidget]) -> None:
        bar = window.menuBar()
        file = bar.addMenu("&File")
        file.addActions([self.open_run, self.open_model, self.open_image, self.export_plots, self.export_csv])
        file.addSeparator()
        file.addActions([self.runs_folder, self.preferences])
        file.addSeparator()
        file.addAction(self.quit)
        run = bar.addMenu("&Run")
        run.addActions([self.start, self.pause, self.stop])
        run.addSeparator()
        run.addAction(self.shortcuts)
        run.addMenu("S&witch shortcuts").addActions(self.shortcut_choices())
        run.addActions([self.degradation, self.paper, self.continue_run])
        view = bar.addMenu("&View")
        view.addAction(self.log_scale)
        view.addSeparator()
        view.addActions([self.dark, self.light])
        view.addSeparator()
        for dock in docks:
            view.addAction(dock.toggleViewAction())
        view.addAction(self.reset_layout)
        help_menu = bar.addMenu("&Help")
        help_menu.addActions([self.getting_started, self.shortcuts_help])
        help_menu.addSeparator()
        help_menu.addActions([self.about, self.about_qt])
