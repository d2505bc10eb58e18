"""The runs list: every run trained here or opened from a folder, with its status.

A ``QAbstractTableModel`` over :class:`~resviz.gui.runs.RunsModel`: the checkbox shows
or hides a run's curves, the swatch is its colour in every plot, selecting a row makes
it the run the bars and heatmaps show. The context menu continues, exports or removes.
"""

from __future__ import annotations

from functools import partial

from PySide6 import QtCore, QtGui, QtWidgets

from .runs import Run, RunsModel
from .theme import theme

__all__ = ["RunsTableModel", "RunsView"]

_COLUMNS = ("Run", "Status", "Train", "Test")
_TIPS = (
    "Tick to show the run's curves; the swatch is its colour in every plot",
    "queued, starting, running, paused, finished, stopped, failed (hover for the reason) or cancelled,\n"
    "and the iterations done",
    "Training error (%) over the last 5 % of the records: the curve's settled value",
    "Test error (%) at the last evaluation",
)
Role = QtCore.Qt.ItemDataRole


class RunsTableModel(QtCore.QAbstractTableModel):
    """Rows are runs, newest group first, each group's runs in the order they were added."""

    def __init__(self, runs: RunsModel, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.runs = runs
        self._rows: list[Run] = []
        self._slots: dict[Run, object] = {}
        runs.run_added.connect(self._on_run_added)
        runs.run_removed.connect(self._on_run_removed)
        runs.run_listed.connect(self._on_run_added)  # listed from the runs folder: a row, unticked
        runs.run_unlisted.connect(self._on_run_removed)
        theme().changed.connect(self._on_theme_changed)
        for run in [*runs.listed, *runs]:
            self._on_run_added(run)

    def run_at(self, row: int) -> Run | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def row_of(self, run: Run) -> int:
        return self._rows.index(run) if run in self._rows else -1

    # -- following the runs ----------------------------------------------------------

    def _on_run_added(self, run: Run) -> None:
        if run in self._slots:  # a listed run, shown now: its row is there
            return
        # Newest first: a run joins its group's rows (a comparison, an experiment), else
        # goes on top, so the runs listed at launch and those made since read newest first.
        peers = [self._rows.index(p) for p in run.peers if p is not run and p in self._rows]
        row = max(peers) + 1 if peers else 0
        self.beginInsertRows(QtCore.QModelIndex(), row, row)
        self._rows.insert(row, run)
        self.endInsertRows()
        slot = partial(self._on_run_changed, run)
        for signal in (run.changed, run.status_changed, run.style_changed):
            signal.connect(slot)
        self._slots[run] = slot

    def _on_run_removed(self, run: Run) -> None:
        row = self.row_of(run)
        if row < 0:
            return
        slot = self._slots.pop(run)
        for signal in (run.changed, run.status_changed, run.style_changed):
            signal.disconnect(slot)
        self.beginRemoveRows(QtCore.QModelIndex(), row, row)
        self._rows.pop(row)
        self.endRemoveRows()

    def _on_run_changed(self, run: Run) -> None:
        row = self.row_of(run)
        if row >= 0:
            self.dataChanged.emit(self.index(row, 0), self.index(row, len(_COLUMNS) - 1))

    def _on_theme_changed(self) -> None:
        if self._rows:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._rows) - 1, 0))

    # -- the model interface -----------------------------------------------------------

    def rowCount(self, parent: QtCore.QModelIndex | None = None) -> int:
        return 0 if parent is not None and parent.isValid() else len(self._rows)

    def columnCount(self, parent: QtCore.QModelIndex | None = None) -> int:
        return 0 if parent is not None and parent.isValid() else len(_COLUMNS)

    def headerData(self, section: int, orientation: QtCore.Qt.Orientation, role: int = Role.DisplayRole):
        if orientation == QtCore.Qt.Orientation.Horizontal:
            if role == Role.DisplayRole:
                return _COLUMNS[section]
            if role == Role.ToolTipRole:
                return _TIPS[section]
        return None

    def flags(self, index: QtCore.QModelIndex) -> QtCore.Qt.ItemFlag:
        flags = QtCore.Qt.ItemFlag.ItemIsEnabled | QtCore.Qt.ItemFlag.ItemIsSelectable
        if index.column() == 0:
            flags |= QtCore.Qt.ItemFlag.ItemIsUserCheckable
        return flags

    def data(self, index: QtCore.QModelIndex, role: int = Role.DisplayRole):
        run = self.run_at(index.row())
        if run is None:
            return None
        col = index.column()
        if role == Role.DisplayRole:
            return self._text(run, col)
        if role == Role.CheckStateRole and col == 0:
            return QtCore.Qt.CheckState.Checked if run.visible else QtCore.Qt.CheckState.Unchecked
        if role == Role.DecorationRole and col == 0:
            return _swatch(theme().run_colour(run.colour_index))
        if role == Role.ToolTipRole:
            return self._tooltip(run, col)
        if role == Role.ForegroundRole and col == 1 and run.status == "failed":
            return QtGui.QColor(theme().colours.error)
        if role == Role.TextAlignmentRole and col >= 2:
            return int(QtCore.Qt.AlignmentFlag.AlignRight | QtCore.Qt.AlignmentFlag.AlignVCenter)
        return None

    def setData(self, index: QtCore.QModelIndex, value, role: int = Role.EditRole) -> bool:
        run = self.run_at(index.row())
        if run is None or index.column() != 0 or role != Role.CheckStateRole:
            return False
        checked = value in (QtCore.Qt.CheckState.Checked, QtCore.Qt.CheckState.Checked.value, 2, True)
        run.set_visible(bool(checked))
        return True

    @staticmethod
    def _text(run: Run, col: int) -> str | None:
        h = run.history
        if col == 0:
            return run.name
        if col == 1:
            return f"{run.status} · {h.last_step:,}" if len(h) else run.status
        if col == 2:
            value = h.settled("train_error")
            return "" if value is None else f"{value:.1f}"
        if col == 3:
            value = h.last_scalar("test_error")
            return "" if value is None else f"{value:.1f}"
        return None

    @staticmethod
    def _tooltip(run: Run, col: int) -> str:
        if col == 1 and run.reason:
            return f"{run.status}: {run.reason}"
        lines = [run.name]
        if run.run_dir is not None:
            lines.append(str(run.run_dir))
        lines.append("trained in this window" if run.origin == "app" else "followed from its folder")
        if run.device:
            lines.append(f"device: {run.device}")
        return "\n".join(lines)


def _swatch(colour: QtGui.QColor) -> QtGui.QPixmap:
    pixmap = QtGui.QPixmap(12, 12)
    pixmap.fill(colour)
    return pixmap


class RunsView(QtWidgets.QTableView):
    """The table; selection follows the runs model's current run and sets it."""

    def __init__(self, runs: RunsModel, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.runs = runs
        self.table = RunsTableModel(runs, self)
        self.setModel(self.table)
        self.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.SingleSelection)
        self.setContextMenuPolicy(QtCore.Qt.ContextMenuPolicy.CustomContextMenu)
        self.verticalHeader().hide()
        self.setAlternatingRowColors(True)
        self.setShowGrid(False)
        self.setWordWrap(False)
        header = self.horizontalHeader()
        header.setSectionResizeMode(0, QtWidgets.QHeaderView.ResizeMode.Stretch)
        # Fixed widths that fit "finished · 64,000" and "99.9": contents-sized columns
        # would jump about as the numbers grow while training.
        metrics = self.fontMetrics()
        widths = {
            1: metrics.horizontalAdvance("finished · 64,000") + 12,
            2: metrics.horizontalAdvance("Train") + 16,
            3: metrics.horizontalAdvance("Train") + 16,
        }
        for col, width in widths.items():
            header.setSectionResizeMode(col, QtWidgets.QHeaderView.ResizeMode.Fixed)
            header.resizeSection(col, width)
        self.setToolTip("Runs trained here or opened from folders. Right-click for more.")
        self.selectionModel().currentRowChanged.connect(self._on_row_changed)
        runs.current_changed.connect(self._on_current_changed)

    def selected_run(self) -> Run | None:
        return self.table.run_at(self.currentIndex().row())

    def _on_row_changed(self, current: QtCore.QModelIndex, _previous: QtCore.QModelIndex) -> None:
        run = self.table.run_at(current.row())
        if run is not None:
            self.runs.set_current(run)

    def _on_current_changed(self, run: Run | None) -> None:
        row = -1 if run is None else self.table.row_of(run)
        if row >= 0 and row != self.currentIndex().row():
            self.selectRow(row)
