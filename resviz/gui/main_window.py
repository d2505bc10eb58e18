"""The main window: tabs (Train, Inspect), the runs list, menus, status bar.

The window owns the objects the views share: the :class:`~resviz.gui.runs.RunsModel`,
the :class:`~resviz.gui.session.TrainingSession` and the
:class:`~resviz.gui.engine.EngineLoader`. Views subscribe to them; the window's
``_on_*`` handlers turn actions into session calls and errors into messages that say
what to do.
"""

from __future__ import annotations

import importlib
import logging

from PySide6 import QtCore, QtGui, QtWidgets

from .. import PAPER, PAPER_URL, __version__
from ..core.errors import ConfigError, ResvizError
from . import settings
from .actions import WindowActions
from .degradation import GROUP, DegradationPanel, fit_dock
from .engine import EngineLoader
from .paper.tab import GROUP as PAPER_GROUP
from .runs import Run, RunsModel
from .runs_view import RunsView
from .session import TrainingSession
from .status import StatusBar
from .steering import Steering
from .theme import theme
from .window_files import RunFilesMixin

__all__ = ["MainWindow", "TABS"]

log = logging.getLogger(__name__)

#: The window's tabs, in order: (title, "module:callable"), the callable taking the window
#: and returning the tab's widget. Adding a tab is one line here, e.g. the Inspector of
#: issue 5: ("Inspect", "resviz.gui.inspect:InspectTab"). A tab module must not import
#: torch at module level (the window appears before torch has loaded; use
#: ``window.engine.ready``).
TABS: tuple[tuple[str, str], ...] = (
    ("Train", "resviz.gui.train_tab:TrainTab"),
    ("Inspect", "resviz.gui.inspect:InspectTab"),
    ("Landscape", "resviz.gui.landscape_tab:LandscapeTab"),  # follows the Inspect tab's net (issue #13)
    ("Paper", "resviz.gui.paper:PaperTab"),
)


def _tab_factory(spec: str):
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name)


class MainWindow(RunFilesMixin, QtWidgets.QMainWindow):
    """resviz's window. ``engine`` loads torch in the background (started by the app)."""

    #: Seconds to wait for the training thread when closing (it saves a checkpoint first).
    CLOSE_TIMEOUT = 15.0

    def __init__(self, engine: EngineLoader | None = None) -> None:
        super().__init__()
        self.setWindowTitle("resviz — deep residual learning, live")
        self.setObjectName("resviz_main_window")
        self.engine = engine or EngineLoader(parent=self)
        self.runs = RunsModel()
        self.session = TrainingSession(self.runs, self.engine, settings.runs_root, parent=self)
        self.actions = WindowActions(self)
        self.last_error: str | None = None
        self._default_state: QtCore.QByteArray | None = None
        self._error_box: QtWidgets.QMessageBox | None = None

        self.tabs = QtWidgets.QTabWidget()
        self.tabs.setDocumentMode(True)
        self.setCentralWidget(self.tabs)
        for title, spec in TABS:
            self.add_tab(_tab_factory(spec)(self), title)
        self.train_tab = self.tabs.widget(0)
        self.steering = Steering(self.actions, self.session, self.runs, self.train_tab.controls.scope)
        self.paper_tab = self.tabs.findChild(QtWidgets.QWidget, "paper_tab")
        self.paper_dialog = None

        self.runs_view = RunsView(self.runs)
        self.runs_view.customContextMenuRequested.connect(self._on_runs_menu)
        self.runs_dock = self._dock("Runs", "runs_dock", self.runs_view)
        self.degradation = DegradationPanel(self.runs)
        self.degradation_dock = self._dock("Degradation experiment", "degradation_dock", self.degradation)
        self.degradation.wants_height.connect(lambda h: fit_dock(self, self.degradation_dock, self.runs_dock, h))
        self.actions.build_menus(self, [self.runs_dock, self.degradation_dock])

        self.status = StatusBar(self)
        self.setStatusBar(self.status)
        self.setAcceptDrops(True)
        self._connect()
        self._restore_settings()
        self._on_engine_state()
        self._update_actions()
        QtCore.QTimer.singleShot(0, self.list_runs_folder)  # after the first paint (issue #19)

    # -- building ------------------------------------------------------------------------

    def add_tab(self, widget: QtWidgets.QWidget, title: str) -> int:
        """Add a tab (the Inspector adds itself this way, or through :data:`TABS`)."""
        return self.tabs.addTab(widget, title)

    def _dock(self, title: str, name: str, widget: QtWidgets.QWidget) -> QtWidgets.QDockWidget:
        dock = QtWidgets.QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        dock.setFeatures(
            QtWidgets.QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QtWidgets.QDockWidget.DockWidgetFeature.DockWidgetFloatable
            | QtWidgets.QDockWidget.DockWidgetFeature.DockWidgetClosable
        )
        self.addDockWidget(QtCore.Qt.DockWidgetArea.RightDockWidgetArea, dock)
        return dock

    def _connect(self) -> None:
        a = self.actions
        a.open_run.triggered.connect(self._on_open_run)
        a.export_plots.triggered.connect(self._on_export_plots)
        a.export_csv.triggered.connect(self._on_export_csv)
        a.runs_folder.triggered.connect(self._on_runs_folder)
        a.preferences.triggered.connect(self._on_preferences)
        a.quit.triggered.connect(self.close)
        a.start.triggered.connect(self._on_start)
        a.pause.triggered.connect(self.steering.pause)
        a.stop.triggered.connect(self.steering.stop)
        for action, how in ((a.shortcuts, "swap"), (a.shortcuts_swap, "swap"), (a.shortcuts_all_on, "on")):
            action.triggered.connect(lambda _=False, how=how: self._on_shortcuts(how))
        a.shortcuts_all_off.triggered.connect(lambda: self._on_shortcuts("off"))
        a.degradation.triggered.connect(self._on_degradation)
        a.paper.triggered.connect(self._on_paper)
        a.continue_run.triggered.connect(self._on_continue)
        a.log_scale.toggled.connect(self._on_log_scale)
        a.dark.triggered.connect(lambda: self.set_theme("dark"))
        a.light.triggered.connect(lambda: self.set_theme("light"))
        a.reset_layout.triggered.connect(self._on_reset_layout)
        a.about.triggered.connect(self._on_about)
        a.getting_started.triggered.connect(lambda: self._open_help("GettingStartedDialog"))
        a.shortcuts_help.triggered.connect(lambda: self._open_help("ShortcutsDialog"))
        a.about_qt.triggered.connect(QtWidgets.QApplication.aboutQt)
        self.engine.ready.connect(self._on_engine_state)
        self.engine.failed.connect(self._on_engine_failed)
        self.session.active_changed.connect(self._update_actions)
        # the progress line goes when training ends (it stayed, stale, in every tab: issue #19)
        self.session.active_changed.connect(lambda: self.status.show_progress(self.session.active))
        self.session.progress.connect(self._on_progress)
        self.session.message.connect(self._on_message)
        self.session.error.connect(self.show_error)
        self.runs.current_changed.connect(self._update_actions)
        self.runs.current_changed.connect(lambda _run: self.status.show_progress(self.session.active))
        self.train_tab.controls.scope.currentIndexChanged.connect(self._update_actions)

    def _on_preferences(self) -> None:
        from .preferences import PreferencesDialog

        PreferencesDialog(self).exec()

    # -- engine ----------------------------------------------------------------------------

    def _on_engine_state(self) -> None:
        if self.engine.is_ready:
            self.status.set_engine(f"Ready · {_device_summary()}")
            if self.engine.seconds:
                self.status.engine_label.setToolTip(
                    f"torch, torchvision and Captum loaded in {self.engine.seconds:.1f} s, after the window opened"
                )
        elif self.engine.error:
            self.status.set_engine("Engine failed to load")
        else:
            self.status.set_engine("Loading torch, torchvision and Captum in the background …")
        self._update_actions()

    def _on_engine_failed(self, message: str) -> None:
        self._on_engine_state()
        self.show_error("The training engine did not load", message)

    # -- actions -------------------------------------------------------------------------

    def _update_actions(self, *_args) -> None:
        a = self.actions
        ready = self.engine.is_ready
        a.start.setEnabled(ready)
        a.degradation.setEnabled(ready)
        a.paper.setEnabled(ready)
        self.steering.update()  # pause, stop, shortcuts, continue: the run or the group they act on
        current = self.runs.current
        a.export_csv.setEnabled(current is not None and current.run_dir is not None)
        if not ready:
            a.start.setToolTip("Start is enabled once torch has loaded (a few seconds after the window opens)")
        else:
            a.start.setToolTip(a.start.statusTip() + " (Ctrl+R)")

    def _on_start(self) -> None:
        controls = self.train_tab.controls
        try:
            configs = controls.configs()
            self.session.enqueue(configs)
        except ConfigError as exc:
            self._settings_problem(str(exc))
            return
        controls.show_problem(None)

    def _on_degradation(self) -> None:
        controls = self.train_tab.controls
        try:
            configs = controls.degradation_configs()
            new_runs = self.session.enqueue(configs, group=GROUP)
        except ConfigError as exc:
            self._settings_problem(str(exc))
            return
        controls.show_problem(None)
        for run in self.runs:  # a new experiment shows its own nets; earlier runs stay, unticked
            run.set_visible(run in new_runs)
        self.degradation_dock.show()
        self.degradation_dock.raise_()

    def _on_paper(self) -> None:
        """Run > Reproduce the paper: the dialog says what it costs; Start queues the nets."""
        from .paper import PaperDialog

        if self.paper_dialog is None:
            self.paper_dialog = PaperDialog(self)
            self.paper_dialog.accepted.connect(self._on_paper_accepted)
        self.paper_dialog.open()  # window-modal, no nested event loop: training and plots go on

    def _on_paper_accepted(self) -> None:
        from ..core.device import resolve_device
        from ..core.paper.report import write_plan

        dialog = self.paper_dialog
        runs: list[Run] = []
        try:
            plan = dialog.plan()
            configs = dict(plan.nets())
            # The plan's lockstep groups (all nets on a GPU, one depth each elsewhere), queued
            # one after another into one experiment folder.
            for names in plan.groups(resolve_device(plan.device).type):
                runs += self.session.enqueue(
                    [configs[n] for n in names],
                    group=PAPER_GROUP,
                    folder=runs[0].experiment if runs else None,
                    names=names,  # the plan's folders (resnet20-seed1), where the report reads them
                )
        except ResvizError as exc:
            self.show_error("Cannot reproduce the paper", str(exc))
            if not runs:
                return
        shape = dialog.estimated.shape if dialog.estimated is not None else None
        facts = {"test_images": shape.test, "classes": shape.classes} if shape is not None else {}
        folder = settings.runs_root() / runs[0].experiment if runs and runs[0].experiment else None
        if folder is not None:
            try:
                folder.mkdir(parents=True, exist_ok=True)
                write_plan(folder, plan, facts)  # so `resviz report --paper` and the tab's files find the plan
            except (OSError, ResvizError) as exc:
                self.show_error("Cannot write the experiment's folder", f"{folder}: {exc}")
                folder = None
        self.paper_tab.show_experiment(plan, facts, folder)
        self.status.showMessage(
            f"queued {len(runs)} nets of the paper's CIFAR-10 section; the Paper tab fills in as they finish", 10_000
        )

    def _settings_problem(self, message: str) -> None:
        self.last_error = message
        self.train_tab.controls.show_problem(message)
        self.status.showMessage(f"Cannot start: {message}", 10_000)

    def _on_shortcuts(self, how: str) -> None:
        self.status.showMessage(self.steering.switch_shortcuts(how), 5000)
        self._update_actions()

    def _on_continue(self) -> None:
        try:
            self.steering.continue_selected()
        except ResvizError as exc:
            self.show_error("Cannot continue the run", str(exc))

    def _on_progress(self, run: Run) -> None:
        self.status.show_progress(run)
        if self.steering.shortcuts_stale():
            self._update_actions()

    def _on_message(self, text: str) -> None:
        self.status.showMessage(text, 8000)
        if self.session.active is None:
            self.status.show_progress(None)

    def show_error(self, title: str, message: str) -> None:
        """Tell the user what went wrong and what to do, without blocking the window."""
        self.last_error = message
        self.status.showMessage(f"{title}: {message}", 15_000)
        box = QtWidgets.QMessageBox(
            QtWidgets.QMessageBox.Icon.Warning, title, message, QtWidgets.QMessageBox.StandardButton.Ok, self
        )
        box.setAttribute(QtCore.Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()  # window-modal sheet, not a nested event loop: training goes on
        self._error_box = box

    # -- view ------------------------------------------------------------------------------

    def set_theme(self, name: str) -> None:
        theme().apply(name)
        (self.actions.dark if theme().name == "dark" else self.actions.light).setChecked(True)
        settings.settings().setValue("view/theme", theme().name)

    def _on_log_scale(self, on: bool) -> None:
        self.train_tab.curves.set_log_scale(on)

    def _on_reset_layout(self) -> None:
        if self._default_state is not None:
            self.restoreState(self._default_state)
        self.runs_dock.show()
        self.resizeDocks([self.runs_dock], [320], QtCore.Qt.Orientation.Horizontal)

    def _open_help(self, name: str) -> QtWidgets.QDialog:
        """Help › Getting started / Keyboard shortcuts (non-modal: training goes on)."""
        from . import help as help_pages

        dialog = getattr(help_pages, name)(self)
        dialog.setAttribute(QtCore.Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        return dialog

    def _on_about(self) -> None:
        QtWidgets.QMessageBox.about(
            self,
            "About resviz",
            f"<h3>resviz {__version__}</h3>"
            f"<p>Watch the ideas of <a href='{PAPER_URL}'>{PAPER}</a> happen: the degradation of deep "
            "plain nets, residual functions that stay small, gradients reaching early layers through "
            "shortcuts, and what a trained net sees at its low, mid and high levels.</p>"
            f"<p>arXiv:1512.03385 · <a href='{PAPER_URL}'>{PAPER_URL}</a></p>",
        )

    # -- settings and closing ----------------------------------------------------------------

    def _restore_settings(self) -> None:
        s = settings.settings()
        # The experiment's panel appears when the experiment starts (Run > Degradation experiment).
        self.degradation_dock.hide()
        self._default_state = self.saveState()
        geometry = s.value("window/geometry")
        if isinstance(geometry, QtCore.QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        else:
            self._default_geometry()
        state = s.value("window/state")
        if isinstance(state, QtCore.QByteArray) and not state.isEmpty():
            self.restoreState(state)
        for name, splitter in getattr(self.train_tab, "splitters", dict)().items():
            sizes = s.value(f"window/splitter_{name}")
            if isinstance(sizes, QtCore.QByteArray) and not sizes.isEmpty():
                splitter.restoreState(sizes)
        self.set_theme(settings.value("view/theme", "dark"))
        self.actions.log_scale.setChecked(settings.value("view/log_scale", False))

    def _default_geometry(self) -> None:
        """1600 x 960 (room for four plot panels), shrunk to fit smaller screens."""
        width, height = 1600, 960
        screen = self.screen() or QtGui.QGuiApplication.primaryScreen()
        if screen is not None:
            avail = screen.availableGeometry()
            width, height = min(width, int(avail.width() * 0.95)), min(height, int(avail.height() * 0.92))
        self.resize(width, height)
        self.resizeDocks([self.runs_dock], [320], QtCore.Qt.Orientation.Horizontal)

    def save_settings(self) -> None:
        s = settings.settings()
        s.setValue("window/geometry", self.saveGeometry())
        s.setValue("window/state", self.saveState())
        for name, splitter in getattr(self.train_tab, "splitters", dict)().items():
            s.setValue(f"window/splitter_{name}", splitter.saveState())
        s.setValue("view/log_scale", self.actions.log_scale.isChecked())
        self.train_tab.controls.save()
        self._each_tab("save_state")
        s.sync()

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:
        """Stop training, let every net of the group write its final checkpoint, then close."""
        self.save_settings()
        if self.session.busy:
            self.status.showMessage("Stopping training and saving a checkpoint …")
            QtWidgets.QApplication.processEvents(QtCore.QEventLoop.ProcessEventsFlag.ExcludeUserInputEvents)
        if not self.session.shutdown(self.CLOSE_TIMEOUT):
            log.warning("closing while the training thread is still busy; its last checkpoint stays valid")
        self._each_tab("shutdown")  # the Inspect tab's worker threads
        event.accept()

    def _each_tab(self, method: str) -> None:
        """Call ``method()`` on every tab that has it (saving state, stopping threads)."""
        for i in range(self.tabs.count()):
            call = getattr(self.tabs.widget(i), method, None)
            if callable(call):
                call()


def _device_summary() -> str:
    """Which device ``auto`` will pick (torch is imported by now)."""

    import torch

    if torch.cuda.is_available():
        return f"CUDA: {torch.cuda.get_device_name(0)}"
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return "Apple MPS"
    from ..core.cores import usable_cores

    return f"CPU ({usable_cores()} cores)"
