"""The degradation experiment: what the paper expects, next to what happened here.

Section 4.1 / Fig. 1 and 6 of He et al.: a deeper plain net has *higher* training
error than a shallower one (the degradation problem), each residual net trains better
than the plain net of its depth, and the deeper residual net trains better than the
shallower one. The plan and the verdicts are the engine's
(:mod:`resviz.core.experiment`, the same as ``resviz experiment degradation``); this
panel shows them live, saying "waiting" until every run has ended.
"""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets

from ..core.experiment import claim_statements, degradation_claims
from .experiment_runs import LatestExperiment
from .runs import Run, RunsModel
from .theme import theme

__all__ = ["GROUP", "DegradationPanel", "fit_dock"]

#: The Run.group of the experiment's runs.
GROUP = "degradation"


class DegradationPanel(QtWidgets.QWidget):
    """Claims and observations for the runs of the last degradation experiment."""

    #: The height (px) the text needs at the panel's width, when it changed and does not fit:
    #: the window makes the dock that tall (issue #19: it opened 100 px tall, the table cut off).
    wants_height = QtCore.Signal(int)

    def __init__(self, runs: RunsModel, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.runs = runs
        self._asked = 0
        outer = QtWidgets.QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        self.scroll = scroll = QtWidgets.QScrollArea()  # the claims outgrow a short dock
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        outer.addWidget(scroll)
        inner = QtWidgets.QWidget()
        scroll.setWidget(inner)
        layout = QtWidgets.QVBoxLayout(inner)
        layout.setContentsMargins(6, 6, 6, 6)
        self.text = QtWidgets.QLabel()
        self.text.setWordWrap(True)
        self.text.setTextFormat(QtCore.Qt.TextFormat.RichText)
        self.text.setAlignment(QtCore.Qt.AlignmentFlag.AlignTop | QtCore.Qt.AlignmentFlag.AlignLeft)
        self.text.setToolTip("The paper's expectations (section 4.1, Fig. 6) checked against these runs")
        layout.addWidget(self.text)
        layout.addStretch(1)
        # Runs change 25 times a second while training; the verdicts need not (debounced).
        self.latest = LatestExperiment(runs, GROUP, parent=self)
        self.latest.changed.connect(self.update_text)
        theme().changed.connect(self.update_text)
        self.update_text()

    @property
    def experiment(self) -> list[Run]:
        """The runs of the latest degradation experiment."""
        return self.latest.runs

    def errors(self) -> dict[str, float | None]:
        """Final training error per run (engine names), None while a run has not ended."""
        out: dict[str, float | None] = {}
        for run in self.experiment:
            if run.spec is None:
                continue
            done = run.status in ("finished", "stopped")
            # Keyed by the engine's run names (plain20, resnet56), as `resviz experiment` keys them.
            out[run.spec.name] = run.history.settled("train_error") if done else None
        return out

    def depths(self) -> list[int]:
        return sorted({run.depth for run in self.experiment if run.depth is not None})

    def update_text(self) -> None:
        c = theme().colours
        intro = (
            "<b>Paper (He et al. 2016, section 4.1, Fig. 6):</b> deeper <i>plain</i> nets have higher "
            "training error than shallower ones — not overfitting, an optimisation difficulty. With "
            "shortcuts the deeper net trains better."
        )
        if not self.experiment:
            self.text.setText(intro + "<p>Run <b>Run › Degradation experiment</b> (Ctrl+D) to test it here.</p>")
            return
        rows = []
        for run in self.experiment:
            err = run.history.settled("train_error")
            test = run.history.last_scalar("test_error")
            rows.append(
                f"<tr><td>{run.name}</td><td>{run.status}</td>"
                f"<td align='right'>{'' if err is None else f'{err:.1f}'}</td>"
                f"<td align='right'>{'' if test is None else f'{test:.1f}'}</td></tr>"
            )
        table = (
            "<table cellspacing='0' cellpadding='2'><tr><th align='left'>run</th><th align='left'>status</th>"
            "<th>train err %</th><th>test err %</th></tr>" + "".join(rows) + "</table>"
        )
        self.text.setText(f"{intro}<p>{table}</p><p><b>Here:</b></p><ul>{self._claims_html(c)}</ul>")
        self.ask_for_room()

    def ask_for_room(self) -> None:
        """Emit :attr:`wants_height` when the text grew taller than the panel shows."""
        inner = self.scroll.widget()
        width = self.scroll.viewport().width()
        need = inner.layout().totalHeightForWidth(width) if width > 0 else -1
        if need <= 0:
            need = inner.sizeHint().height()
        if need != self._asked and need > self.scroll.viewport().height():
            self._asked = need
            self.wants_height.emit(need)

    def _claims_html(self, c) -> str:
        depths = self.depths()
        if len(depths) < 2:
            return "<li>needs plain and residual runs at two depths or more</li>"
        errors = self.errors()
        waiting = [k for k, v in errors.items() if v is None]
        if waiting or len(errors) < 2 * len(depths):
            # The statements alone, each marked as waiting.
            return "".join(
                f"<li>{statement}<br><span style='color:{c.muted}'>… waiting for the runs to end</span></li>"
                for _, statement in claim_statements(depths)
            )
        claims = degradation_claims(errors, depths)  # type: ignore[arg-type]
        items = []
        for claim in claims:
            if claim.holds is None:
                mark, colour = "≈ too close to call", c.muted
            elif claim.holds:
                mark, colour = "✓ seen here", c.ok
            else:
                mark, colour = "✗ not seen here", c.error
            items.append(
                f"<li>{claim.statement}<br><span style='color:{colour}'><b>{mark}</b></span> "
                f"<span style='color:{c.muted}'>({claim.evidence})</span></li>"
            )
        if any(claim.kind == "depth_helps" and claim.holds is False for claim in claims):
            items.append(
                f"<li style='color:{c.muted}'>The paper's deeper-ResNet result is at convergence (64k "
                "iterations); short budgets may not show it: train longer or use the 0.01 warm-up.</li>"
            )
        return "".join(items)


def fit_dock(
    window: QtWidgets.QMainWindow, dock: QtWidgets.QDockWidget, above: QtWidgets.QDockWidget, content: int
) -> None:
    """Make the panel's ``dock`` as tall as its ``content`` (px; at most 70 % of the window),
    taking the room from ``above`` when the two share a column."""
    if not dock.isVisible() or dock.isFloating():
        return
    view = dock.widget().scroll.viewport()
    want = min(content + dock.height() - view.height(), int(window.height() * 0.7))
    # Both docks of the column: given one, Qt shares the change out in proportion.
    docks = [d for d in (above, dock) if d.isVisible() and window.dockWidgetArea(d) == window.dockWidgetArea(dock)]
    total = sum(d.height() for d in docks)
    sizes = [want] if len(docks) == 1 else [max(total - want, 80), want]
    window.resizeDocks(docks, sizes, QtCore.Qt.Orientation.Vertical)
