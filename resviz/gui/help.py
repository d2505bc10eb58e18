"""Help › Keyboard shortcuts and Help › Getting started.

The shortcut list is read from the window's own actions, buttons and shortcuts when it
opens, so it cannot drift from what the keys do (issue 19). Getting started walks the
three things resviz is for: train a plain and a residual net and toggle shortcuts,
inspect what a trained net sees, and come back to earlier runs.
"""

from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

__all__ = ["ShortcutsDialog", "GettingStartedDialog", "shortcut_rows", "GETTING_STARTED"]

_TEXT = QtGui.QKeySequence.SequenceFormat.NativeText


def _plain(text: str) -> str:
    """Menu text as read: no mnemonic ampersands, no trailing ellipsis."""
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&").rstrip("…").strip()


def _where(action: QtGui.QAction, window: QtWidgets.QWidget) -> str:
    """The menu an action sits in ("File", "Run" ...), else the tab or panel it belongs to."""
    bar = window.menuBar() if isinstance(window, QtWidgets.QMainWindow) else None
    if bar is not None:
        for top in bar.actions():
            menu = top.menu()
            if menu is not None and action in menu.actions():
                return _plain(top.text())
    return _owner(action.parent(), window)


def _owner(widget, window: QtWidgets.QWidget) -> str:
    """The tab (or dock) a widget is in, by its title."""
    tabs = getattr(window, "tabs", None)
    while isinstance(widget, QtWidgets.QWidget) and widget is not window:
        if isinstance(widget, QtWidgets.QDockWidget):
            return widget.windowTitle()
        parent = widget.parentWidget()
        if tabs is not None and parent is not None and parent.parentWidget() is tabs:
            index = tabs.indexOf(widget)
            if index >= 0:
                return f"{tabs.tabText(index)} tab"
        widget = parent
    return "window"


def shortcut_rows(window: QtWidgets.QWidget) -> list[tuple[str, str, str]]:
    """(keys, what it does, where) for every action, button and QShortcut of ``window``
    that has a key, sorted by where and then keys."""
    rows: set[tuple[str, str, str]] = set()
    for action in window.findChildren(QtGui.QAction):
        for keys in action.shortcuts():
            if keys.isEmpty() or not action.text():
                continue
            what = _plain(action.text())
            tip = action.statusTip() or ""
            rows.add((keys.toString(_TEXT), f"{what} — {tip}" if tip and tip != what else what, _where(action, window)))
    for button in window.findChildren(QtWidgets.QAbstractButton):
        keys = button.shortcut()
        if keys.isEmpty():
            continue
        what, tip = _plain(button.text()), button.toolTip().split("\n")[0]
        what = f"{what} — {tip}" if what and tip and tip != what else what or tip
        rows.add((keys.toString(_TEXT), what, _owner(button, window)))
    for shortcut in window.findChildren(QtGui.QShortcut):
        keys = shortcut.key()
        if keys.isEmpty():
            continue
        what = shortcut.whatsThis() or shortcut.objectName().replace("_", " ") or "shortcut"
        rows.add((keys.toString(_TEXT), what, _owner(shortcut.parent(), window)))
    return sorted(rows, key=lambda r: (r[2], r[0]))


class ShortcutsDialog(QtWidgets.QDialog):
    """Help › Keyboard shortcuts: a table read from the window's actions when opened."""

    def __init__(self, window: QtWidgets.QWidget) -> None:
        super().__init__(window)
        self.setObjectName("shortcuts_help")
        self.setWindowTitle("Keyboard shortcuts")
        rows = shortcut_rows(window)
        self.table = QtWidgets.QTableWidget(len(rows), 3)
        self.table.setHorizontalHeaderLabels(["Keys", "Does", "Where"])
        for r, row in enumerate(rows):
            for c, text in enumerate(row):
                item = QtWidgets.QTableWidgetItem(text)
                item.setToolTip(text)
                self.table.setItem(r, c, item)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QtWidgets.QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
        self.table.resizeRowsToContents()
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.table)
        close = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        layout.addWidget(close)
        self.resize(820, 560)


#: Help › Getting started: the three journeys, in the words of the window.
GETTING_STARTED = """
<h3>Getting started</h3>
<p>resviz makes <i>Deep Residual Learning for Image Recognition</i> (He et al. 2016) watchable.
People use it for three things.</p>
<h4>1 · Train a plain and a residual net, and toggle shortcuts</h4>
<ol>
<li>In the <b>Train</b> tab the form on the left is set for the default comparison:
a plain and a residual 20-layer net on the built-in digits.</li>
<li><b>Start</b> (Ctrl+R) trains both side by side; <b>Run › Degradation experiment</b> (Ctrl+D)
trains plain and residual nets at two depths: the deeper plain net ends <i>above</i> the
shallower one — the degradation problem.</li>
<li><b>Shortcuts</b> (Ctrl+K) switches the training nets' shortcuts while they train; the switch is
marked on the curves (dash-dotted line, labelled above the plot).</li>
<li>The curves, residual ratio, gradient-norm and response panels fill in as the nets train.
<b>File › Export plots</b> (Ctrl+E) saves every plot for a paper or slides.</li>
</ol>
<h4>2 · Inspect what a trained net sees</h4>
<ol>
<li>Open the <b>Inspect</b> tab, pick a run and its checkpoint, and press <b>Load</b>.</li>
<li>Drop an image on the window (or <b>File › Open image</b>, Ctrl+Shift+I, or paste one).</li>
<li>Read the activations and attributions at the <b>low, mid and high</b> levels;
<b>What a channel sees</b> (Ctrl+Shift+F) and the <b>lesion study</b> (Ctrl+Shift+L) go deeper.</li>
</ol>
<h4>3 · Come back to your runs</h4>
<ol>
<li>Runs are saved in the runs folder (<b>File › Preferences</b>); the <b>Runs</b> list shows them.</li>
<li><b>File › Open run folder</b> (Ctrl+O) shows any run or experiment folder and follows it while it is written.</li>
<li>Tick a run in the list to show it in the plots; right-click for more.</li>
</ol>
<p><b>Help › Keyboard shortcuts</b> lists every key.</p>
"""


class GettingStartedDialog(QtWidgets.QDialog):
    """Help › Getting started: :data:`GETTING_STARTED` in a scrollable page."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("getting_started")
        self.setWindowTitle("Getting started")
        self.text = QtWidgets.QTextBrowser()
        self.text.setOpenExternalLinks(True)
        self.text.setHtml(GETTING_STARTED)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.text)
        close = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        layout.addWidget(close)
        self.resize(640, 620)
        self.setWindowModality(QtCore.Qt.WindowModality.NonModal)
