"""The Paper tab: Table 6 and the claims of section 4.2, ours beside the paper's, live.

It follows the runs of the latest Reproduce-the-paper experiment (``Run.group ==
"paper"``, :class:`~resviz.gui.experiment_runs.LatestExperiment`): each refresh turns
every run's history into a :class:`~resviz.core.paper.results.NetResult` and asks the
engine for the table and the verdicts (:mod:`resviz.core.paper`), so a claim shows "waiting for ..." until both of its
nets have ended and its verdict the moment they have. When every net has ended, the
experiment's files (table6.md/json, claims.md, fig6, fig7) are written into its folder in
a thread, as ``resviz report --paper`` would.
"""

from __future__ import annotations

import html
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6 import QtCore, QtWidgets

from ...core.paper.claims import CLAIM_TITLES, PAPER_CLAIM_KINDS, Pending, paper_claims
from ...core.paper.numbers import PAPER_PARAMS, PAPER_TEST_ERROR
from ...core.paper.plan import PaperPlan
from ...core.paper.results import NetResult, merge_seeds, missing_result, result_of
from ...core.verdicts import rule_text, verdict
from ..experiment_runs import LatestExperiment
from ..runs import RunsModel
from ..theme import theme

if TYPE_CHECKING:
    from ..main_window import MainWindow

__all__ = ["GROUP", "PaperTab"]

#: The Run.group of the experiment's runs.
GROUP = "paper"


class PaperTab(QtWidgets.QWidget):
    """Table 6 and the claims of the latest paper experiment, refreshed as its runs train."""

    REFRESH_MS = 500  # runs change 25 times a second while training; the table need not

    def __init__(self, window: MainWindow | None = None, runs: RunsModel | None = None) -> None:
        super().__init__(window)
        self.setObjectName("paper_tab")
        self.runs = runs if runs is not None else window.runs
        self.plan: PaperPlan | None = None
        self.facts: dict = {}
        self.folder: Path | None = None
        self._writer: threading.Thread | None = None
        self._written_for: tuple | None = None
        #: write the files once every net has ended: a net was seen unfinished, or the folder
        #: had no table yet (an experiment reopened after it ended keeps the files it has;
        #: the button writes them again)
        self._write_when_ended = False
        layout = QtWidgets.QVBoxLayout(self)
        self.text = QtWidgets.QTextBrowser()
        self.text.setOpenExternalLinks(True)
        self.text.setObjectName("paper_text")
        layout.addWidget(self.text, 1)
        row = QtWidgets.QHBoxLayout()
        self.status = QtWidgets.QLabel()
        self.status.setWordWrap(True)
        self.save = QtWidgets.QPushButton("Write the files again")
        self.save.setToolTip(
            "table6.md/json, claims.md, fig6 and fig7 into the experiment's folder (as `resviz report --paper DIR`)"
        )
        self.save.clicked.connect(self.write_files)
        self.save.setEnabled(False)
        row.addWidget(self.status, 1)
        row.addWidget(self.save)
        layout.addLayout(row)
        self._poll = QtCore.QTimer(self, interval=200)
        self._poll.timeout.connect(self._on_poll_writer)
        self.latest = LatestExperiment(self.runs, GROUP, self.REFRESH_MS, parent=self)
        self.latest.changed.connect(self.update_text)
        theme().changed.connect(self.update_text)
        self.update_text()

    # -- the experiment ----------------------------------------------------------------

    def show_experiment(self, plan: PaperPlan, facts: dict, folder: Path | None) -> None:
        """The experiment the window just queued: its plan, what is known of its data, its folder."""
        self.plan, self.facts, self.folder = plan, dict(facts), folder
        self._written_for = None
        self._write_when_ended = folder is not None and not (folder / "table6.md").is_file()
        self.update_text()

    def results(self) -> dict[str, NetResult]:
        """Each planned net's numbers so far (``missing`` for nets not in the list); a net
        trained with several seeds is their mean (:func:`~resviz.core.paper.results.merge_seeds`)."""
        seeded = self.plan is not None and self.plan.seeds > 1
        # With seeds, each run is found by its net and its seed (the list's names may carry a #2).
        by_key = {
            (r.spec.name, r.config.get("seed", 0) if seeded else None): r
            for r in self.latest.runs
            if r.spec is not None
        }
        out = {}
        for name, cfg in self.plan.nets() if self.plan else []:
            run = by_key.get((cfg.spec.name, cfg.seed if seeded else None))
            out[name] = (
                missing_result(name, cfg.iters)
                if run is None
                else result_of(run.history, name=name, status=run.status, iters=cfg.iters, batch_size=cfg.batch_size)
            )
        return merge_seeds(out)

    @property
    def ended(self) -> bool:
        runs = self.latest.runs
        return bool(runs) and all(r.status in ("finished", "stopped", "failed", "cancelled") for r in runs)

    # -- drawing -----------------------------------------------------------------------

    def update_text(self) -> None:
        c = theme().colours
        intro = (
            "<h3>The paper's CIFAR-10 section (He et al. 2016, section 4.2)</h3>"
            "<p>Deeper ResNets are more accurate (Table 6); deeper plain nets have higher training error "
            "(Fig. 6, left); a ResNet beats the plain net of its depth; and ResNets' layer responses are "
            "smaller than plain nets', smaller still in deeper ResNets (Fig. 7).</p>"
        )
        if self.plan is None:
            paper = "".join(
                f"<tr><td>ResNet-{d}</td><td align='right'>{PAPER_PARAMS[d]}</td><td align='right'>{e:.2f}</td></tr>"
                for d, e in PAPER_TEST_ERROR.items()
            )
            self.text.setHtml(
                intro + "<p><b>Run › Reproduce the paper</b> trains them here and fills this tab in.</p>"
                "<p>Table 6 of the paper (CIFAR-10 test error):</p><table cellpadding='3'>"
                "<tr><th align='left'>net</th><th>params</th><th>error (%)</th></tr>" + paper + "</table>"
            )
            return
        results = self.results()
        from ...core.paper.table import (
            table_rows,  # counts parameters with torch (loaded by now)
        )

        rows = table_rows(results.values(), int(self.facts.get("classes") or 10), self.facts.get("test_images"))
        claims = paper_claims(self.plan, results, self.facts.get("test_images"))
        body = [
            intro,
            f"<p style='color:{c.muted}'>Budget: {html.escape(self.plan.budget())}</p>",
            self._table_html(rows),
            self._claims_html(claims, c),
        ]
        scroll = self.text.verticalScrollBar().value()
        self.text.setHtml("".join(body))
        self.text.verticalScrollBar().setValue(scroll)
        self.save.setEnabled(self.folder is not None and self._writer is None)
        key = tuple((r.status, r.history.last_step) for r in self.latest.runs)
        self._write_when_ended |= bool(self.latest.runs) and not self.ended
        if self.ended and self.folder is not None and self._written_for != key and self._write_when_ended:
            self._written_for = key
            self.write_files()

    @staticmethod
    def _num(v: float | None, sign: bool = False, se: float | None = None) -> str:
        """``7.51``, ``+0.26``, or ``7.51 ± 0.26`` with one standard error (core.verdicts)."""
        if v is None:
            return ""
        if se is not None:
            return f"{v:.2f} ± {se:.2f}"
        return f"{v:+.2f}" if sign else f"{v:.2f}"

    @staticmethod
    def _cell(text: str) -> str:
        """Table 6's text for a cell, blank where there is no number yet."""
        return "" if text == "—" else text

    def _table_html(self, rows) -> str:
        head = (
            "<tr><th align='left'>net</th><th>layers</th><th>params</th><th>paper's params</th>"
            "<th>test err %</th><th>paper's %</th><th>difference</th><th>train err %</th>"
            "<th align='left'>status</th></tr>"
        )
        out = []
        for r in rows:
            paper = self._num(r.paper_test_error) or (html.escape(r.paper_note.split(" (")[0]) if r.paper_note else "—")
            status = r.status if r.status in ("finished", "missing") else f"{r.status} {r.step:,}/{r.iters:,}"
            out.append(
                f"<tr><td>{r.net}</td><td align='right'>{r.layers}</td><td align='right'>{r.params / 1e6:.2f}M</td>"
                f"<td align='right'>{r.paper_params or '—'}</td><td align='right'><b>{self._cell(r.test_text)}</b></td>"
                f"<td align='right'>{paper}</td><td align='right'>{self._num(r.difference, True)}</td>"
                f"<td align='right'>{self._cell(r.train_text)}</td><td>{status}</td></tr>"
            )
        seeds = max((r.seeds for r in rows), default=1)
        spread = (
            f" With {seeds} seeds of each net: test error best (mean ± std) over the seeds, as Table 6 gives "
            "ResNet-110's; training error mean ± std; the claims use the standard error of the mean."
            if seeds > 1
            else ""
        )
        return (
            "<h4>Table 6: test error, ours beside the paper's</h4><table cellspacing='0' cellpadding='3'>"
            + head
            + "".join(out)
            + "</table>"
            + "<p>± is one standard error (binomial on the images measured: the whole test split, the "
            f"settled training window).{spread}</p>"
        )

    @staticmethod
    def _claims_html(claims, c) -> str:
        marks = {True: ("✓ holds", c.ok), False: ("✗ does not hold", c.error), None: ("≈ too close to call", c.muted)}
        parts = ["<h4>The claims, checked here</h4>"]
        for kind in PAPER_CLAIM_KINDS:
            of_kind = [x for x in claims if x.kind == kind]
            if not of_kind:
                continue
            items = []
            for claim in of_kind:
                if isinstance(claim, Pending):
                    items.append(
                        f"<li>{html.escape(claim.statement)}<br><span style='color:{c.muted}'>… waiting for "
                        f"{html.escape(claim.waiting_for)}</span></li>"
                    )
                else:
                    mark, colour = marks[claim.holds]
                    items.append(
                        f"<li>{html.escape(claim.statement)}<br><span style='color:{colour}'><b>{mark}</b></span>"
                        f" <span style='color:{c.muted}'>({html.escape(claim.evidence)})</span></li>"
                    )
            parts.append(f"<p><b>{CLAIM_TITLES[kind]}</b></p><ul>{''.join(items)}</ul>")
        parts.append(f"<p style='color:{c.muted}'>{html.escape(rule_text())}</p>")
        return "".join(parts)

    def verdicts(self) -> list[str]:
        """Each claim's verdict in words ('not judged yet' for pending ones), for tests and the status line."""
        if self.plan is None:
            return []
        claims = paper_claims(self.plan, self.results(), self.facts.get("test_images"))
        return ["not judged yet" if isinstance(x, Pending) else verdict(x.holds) for x in claims]

    # -- the files ---------------------------------------------------------------------

    def write_files(self) -> None:
        """Write the experiment's files into its folder, in a thread (matplotlib takes a while)."""
        if self.folder is None or self._writer is not None:
            return
        folder = self.folder
        self._write_result: str | None = None

        def write() -> None:
            from ...core.errors import ResvizError
            from ...core.paper.report import write_paper_report

            try:
                report = write_paper_report(folder)
                self._write_result = f"wrote {len(report.written)} files into {folder}" + "".join(
                    f"; {n}" for n in report.notes
                )
            except ResvizError as exc:
                self._write_result = f"could not write the files: {exc}"

        self.save.setEnabled(False)
        self.status.setText(f"writing Table 6, the claims and the figures into {folder} …")
        self._writer = threading.Thread(target=write, name="resviz-paper-files", daemon=True)
        self._writer.start()
        self._poll.start()

    def _on_poll_writer(self) -> None:
        if self._writer is None or self._writer.is_alive():
            return
        self._writer = None
        self._poll.stop()
        self.status.setText(self._write_result or "")
        self.save.setEnabled(self.folder is not None)

    def shutdown(self) -> None:
        """Let a file writer in flight end (the window calls this when it closes)."""
        if self._writer is not None:
            self._writer.join(10.0)
