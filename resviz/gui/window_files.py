"""The main window's file side: run folders in and out, dropped files, exports, the runs list's menu.

A mixin of :class:`~resviz.gui.main_window.MainWindow` (it uses the window's ``session``,
``runs``, ``runs_view``, ``actions``, ``status`` and ``show_error``), kept apart so each
module holds one idea.
"""

from __future__ import annotations

from pathlib import Path

import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from ..core.errors import ResvizError
from ..core.runs.reader import experiment_runs, run_folders_in
from . import settings
from .export import export_metrics, export_plots, safe_name
from .following import experiment_group
from .runs import Run

__all__ = ["RunFilesMixin"]


class RunFilesMixin:
    """Opening and following run folders (menu, drag and drop), exporting plots and metrics."""

    #: The last "Delete the run?" question (tests answer it).
    confirm_box: QtWidgets.QMessageBox | None = None

    def open_run_folder(self, path: str | Path) -> Run | None:
        """Show and follow a run folder, or every run of an experiment folder (see
        :meth:`open_experiment_folder`); errors become a message, never an exception."""
        path = Path(path).expanduser()
        if experiment_runs(path):
            runs = self.open_experiment_folder(path)
            return runs[-1] if runs else None
        try:
            run = self.session.follow(path)
        except ResvizError as exc:
            self.show_error("Cannot open the run folder", _with_experiments_inside(path, str(exc)))
            return None
        settings.settings().setValue("paths/last_open", str(Path(path).parent))
        return run

    def open_experiment_folder(self, path: str | Path) -> list[Run]:
        """Every run of an experiment folder, as one group; a paper experiment's plan goes to
        the Paper tab and a degradation experiment's runs to the Degradation panel, so both
        show again after a restart what they showed while it trained."""
        folder = Path(path).expanduser()
        try:
            runs = self.session.follow_experiment(folder)
        except ResvizError as exc:
            self.show_error("Cannot open the experiment folder", str(exc))
            return []
        group = experiment_group(folder)
        if group == "paper":
            from ..core.paper.report import read_plan

            try:
                plan, facts, notes = read_plan(folder)
            except ResvizError as exc:  # a damaged paper.json: the runs are open all the same
                self.show_error("Cannot show the paper experiment", f"{exc}. Its runs are open in the list.")
            else:
                self.paper_tab.show_experiment(plan, facts, folder)
                self.tabs.setCurrentWidget(self.paper_tab)
                if notes:
                    self.status.showMessage("; ".join(notes), 10_000)
        elif group == "degradation":
            self.degradation_dock.show()
            self.degradation_dock.raise_()
        settings.settings().setValue("paths/last_open", str(folder.parent))
        return runs

    def _on_open_run(self) -> None:
        start = settings.value("paths/last_open", str(settings.runs_root()))
        folder = QtWidgets.QFileDialog.getExistingDirectory(self, "Open a run or experiment folder", start)
        if folder:
            self.open_run_folder(folder)

    def _on_runs_menu(self, pos: QtCore.QPoint) -> None:
        run = self.runs_view.table.run_at(self.runs_view.indexAt(pos).row())
        if run is None:
            return
        self.runs.set_current(run)
        menu = QtWidgets.QMenu(self)
        menu.addAction("Show only this run", lambda: self._show_only(run))
        menu.addAction("Show all runs", lambda: self._show_only(None))
        menu.addSeparator()
        menu.addAction(self.actions.continue_run)
        menu.addAction(self.actions.export_csv)
        if run.run_dir is not None and self.files_tab() is not None:
            menu.addAction("Inspect its latest checkpoint", lambda: self._inspect_run(run))
        if run.run_dir is not None:
            menu.addAction(
                "Open the run folder",
                lambda: QtGui.QDesktopServices.openUrl(QtCore.QUrl.fromLocalFile(str(run.run_dir))),
            )
        menu.addSeparator()
        remove = menu.addAction("Remove from list", lambda: self.remove_run(run))
        remove.setToolTip("Take the run off the list; its folder stays on disk (it is listed again at the next launch)")
        delete = menu.addAction("Delete…", lambda: self.delete_run(run))
        delete.setToolTip("Delete the run's folder from disk, after asking (never while a process writes it)")
        busy = run in self.session.active_runs or run in self.session.queued
        remove.setEnabled(not busy)
        delete.setEnabled(not busy and run.run_dir is not None)
        menu.setToolTipsVisible(True)
        menu.popup(self.runs_view.viewport().mapToGlobal(pos))

    # -- the runs folder's runs (issue #19) -------------------------------------------------

    def list_runs_folder(self) -> list[Run]:
        """List the runs root's runs (experiments as groups), newest first; each is read and
        drawn once shown (ticked or selected: RunsModel.add_listed)."""
        from .listing import listed_run, runs_on_disk

        listed: list[Run] = []
        known = {r.run_dir.resolve() for r in (*self.runs, *self.runs.listed) if r.run_dir is not None}
        # Oldest first into the list: each group goes on top (RunsTableModel), newest ends first.
        for experiment, run_dirs in reversed(runs_on_disk(settings.runs_root())):
            folder = run_dirs[0].parent
            group = experiment_group(folder) if experiment else None
            peers: list[Run] = []
            for run_dir in run_dirs:
                if run_dir.resolve() in known:  # opened already (File > Open before the listing)
                    continue
                try:
                    run = listed_run(run_dir, self.session._unique_name, self.runs.next_colour())
                except ResvizError:
                    continue  # a broken folder: File > Open says what is wrong with it
                if experiment:
                    run.group, run.experiment = group, experiment
                    peers.append(run)
                    run.peers = peers
                self.runs.add_listed(run)
                listed.append(run)
        if listed:
            if self.runs.current is None:
                # The newest, selected and ticked: in the bars and heatmaps *and* in the
                # error/loss/response plots (selected alone left those plots empty at launch);
                # an experiment with all its nets, which it exists to compare.
                newest = self.runs_view.table.run_at(0)
                for run in newest.peers:
                    run.set_visible(True)
                self.runs.set_current(newest)
                if newest.group == "degradation":  # and its verdicts, found again with its runs
                    self.degradation_dock.show()
            self.status.showMessage(
                f"{len(listed)} runs of {settings.runs_root()} listed: tick one to show it, right-click for more",
                8000,
            )
        return listed

    def remove_run(self, run: Run) -> None:
        """Take ``run`` off the list (its folder stays)."""
        try:
            self.session.forget(run)
        except ResvizError as exc:
            self.show_error("Cannot remove the run", str(exc))

    def delete_run(self, run: Run) -> None:
        """Ask, then delete ``run``'s folder (refused while a process writes it)."""
        if run.run_dir is None:
            return
        box = QtWidgets.QMessageBox(
            QtWidgets.QMessageBox.Icon.Question,
            "Delete the run?",
            f"Delete {run.name} and its folder {run.run_dir} from disk, with its checkpoints and metrics? "
            "This cannot be undone.",
            QtWidgets.QMessageBox.StandardButton.Yes | QtWidgets.QMessageBox.StandardButton.No,
            self,
        )
        box.setDefaultButton(QtWidgets.QMessageBox.StandardButton.No)
        box.setAttribute(QtCore.Qt.WidgetAttribute.WA_DeleteOnClose)
        box.button(QtWidgets.QMessageBox.StandardButton.Yes).clicked.connect(lambda: self._delete_confirmed(run))
        box.open()  # window-modal sheet, not a nested event loop: training goes on
        self.confirm_box = box

    def _delete_confirmed(self, run: Run) -> None:
        from .listing import delete_run_folder

        if run in self.session.active_runs or run in self.session.queued:
            self.show_error("Cannot delete the run", f"{run.name} is training here; stop it first")
            return
        try:
            delete_run_folder(run.run_dir, before=lambda: self.session.forget(run))
        except ResvizError as exc:  # nothing was deleted: it stays listed
            self.show_error("Cannot delete the run", str(exc))
            return
        self.status.showMessage(f"deleted {run.run_dir}", 8000)

    def _show_only(self, only: Run | None) -> None:
        for run in self.runs:
            run.set_visible(only is None or run is only)

    def files_tab(self) -> QtWidgets.QWidget | None:
        """The tab that takes dropped files (the Inspect tab: images and weights)."""
        for i in range(self.tabs.count()):
            tab = self.tabs.widget(i)
            if callable(getattr(tab, "open_paths", None)):
                return tab
        return None

    def _takes(self, path: Path) -> bool:
        tab = self.files_tab()
        return path.is_dir() or (tab is not None and path.suffix.lower() in tab.FILE_SUFFIXES)

    def dragEnterEvent(self, event: QtGui.QDragEnterEvent) -> None:
        if any(self._takes(p) for p in _local_paths(event.mimeData())):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QtGui.QDropEvent) -> None:
        self.open_paths([p for p in _local_paths(event.mimeData()) if self._takes(p)])
        event.acceptProposedAction()

    def open_paths(self, paths: list[Path]) -> None:
        """What a drop does, also for paths named on the command line (``resviz-gui RUN``):
        folders open as runs; images and weights files (and, on the Inspect tab, run
        folders too) go to the Inspect tab, which comes to the front."""
        refused = [p for p in paths if not self._takes(p)]
        if refused:
            self.show_error(
                "Cannot open", f"{refused[0]} is neither a folder, an image nor a weights file resviz opens"
            )
        paths = [p for p in paths if self._takes(p)]
        tab = self.files_tab()
        if tab is not None and (self.tabs.currentWidget() is tab or any(not p.is_dir() for p in paths)):
            self.tabs.setCurrentWidget(tab)
            tab.open_paths(paths)
        else:
            for folder in paths:
                self.open_run_folder(folder)

    def _inspect_run(self, run: Run) -> None:
        tab = self.files_tab()
        if tab is not None:
            self.tabs.setCurrentWidget(tab)
            tab.inspect_run(run)

    # -- export ----------------------------------------------------------------------------

    def plots(self) -> dict[str, pg.PlotItem]:
        """Every plot in the window by export name."""
        out: dict[str, pg.PlotItem] = {}
        for i in range(self.tabs.count()):
            plots = getattr(self.tabs.widget(i), "plots", None)
            if callable(plots):
                out.update(plots())
        return out

    def export_plots_to(self, folder: str | Path) -> list[Path]:
        written = export_plots(self.plots(), folder)
        self.status.showMessage(f"saved {len(written)} files in {folder}", 8000)
        return written

    def _on_export_plots(self) -> None:
        start = settings.value("paths/last_export", str(Path.home()))
        folder = QtWidgets.QFileDialog.getExistingDirectory(self, "Export every plot (PNG and SVG) into", start)
        if not folder:
            return
        settings.settings().setValue("paths/last_export", folder)
        try:
            self.export_plots_to(folder)
        except ResvizError as exc:
            self.show_error("Export failed", str(exc))

    def export_metrics_to(self, run: Run, path: str | Path) -> int:
        rows = export_metrics(run, path)
        self.status.showMessage(f"saved {rows:,} rows of {run.name} to {path}", 8000)
        return rows

    def _on_export_csv(self) -> None:
        run = self.runs.current
        if run is None:
            return
        start = Path(settings.value("paths/last_export", str(Path.home()))) / f"{safe_name(run.name)}.csv"
        path, _ = QtWidgets.QFileDialog.getSaveFileName(self, f"Export {run.name}'s metrics", str(start), "CSV (*.csv)")
        if not path:
            return
        settings.settings().setValue("paths/last_export", str(Path(path).parent))
        try:
            self.export_metrics_to(run, path)
        except ResvizError as exc:
            self.show_error("Export failed", str(exc))

    def _on_runs_folder(self) -> None:
        folder = QtWidgets.QFileDialog.getExistingDirectory(
            self, "Save runs trained in the app into", str(settings.runs_root())
        )
        if folder:
            settings.settings().setValue("runs/root", folder)
            self.status.showMessage(f"new runs go to {folder}", 8000)


def _with_experiments_inside(folder: Path, message: str) -> str:
    """Which experiment folders ``folder`` holds (a runs root, say), in place of ``message``
    (why it is not a run folder); ``message`` when it holds none."""
    try:
        inside = sorted(c.name for c in folder.iterdir() if c.is_dir() and run_folders_in(c))
    except OSError:
        return message
    if not inside:
        return message
    names = ", ".join(inside[:3]) + (f" and {len(inside) - 3} more" if len(inside) > 3 else "")
    return f"{folder} holds experiment folders ({names}), not runs: open one of them"


def _local_paths(mime: QtCore.QMimeData) -> list[Path]:
    return [Path(u.toLocalFile()) for u in mime.urls() if u.isLocalFile()]
