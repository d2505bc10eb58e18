"""Fig. 4, Table 2 and the claims of the paper's ImageNet section, from the experiment's runs.

* Fig. 4: plain nets on the left, ResNets on the right, against epochs; "thin curves denote
  training error, and bold curves denote validation error of the center crops" (the
  paper's caption), one colour per depth.
* Table 2: top-1 error, ours by 10-crop testing of each net's newest checkpoint
  (:mod:`resviz.core.inspect.tencrop`) with the centre-crop error beside it, and the
  paper's 10-crop numbers.
* The claims of section 4.1, each with a verdict: held, did not hold, or untested (a net
  missing or unfinished). A budget far below the paper's makes the verdicts say little,
  and the file says so.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ..outputs import write_text_atomic
from .imagenet import PAPER_TABLE2

__all__ = ["ImageNetResult", "collect_results", "judge_claims", "write_imagenet_report"]


@dataclass
class ImageNetResult:
    name: str
    kind: str  # plain or resnet
    depth: int
    status: str
    step: int
    iters: int
    centre_error: float | None
    ten_crop_error: float | None

    @property
    def error(self) -> float | None:
        """The number Table 2 compares: the 10-crop error, else the centre-crop one."""
        return self.ten_crop_error if self.ten_crop_error is not None else self.centre_error


def collect_results(folder: Path, names: list[str], *, ten_crop: bool = True, workers: int | None = 0):
    """One result per net run found in ``folder`` (10-crop tested when ``ten_crop``)."""
    from ..runs.history import load_history
    from ..runs.reader import RunReader, is_run_folder

    out = []
    for name in names:
        run = folder / name
        if not is_run_folder(run):
            continue
        with RunReader(run) as reader:
            config, status = reader.config, reader.status().status
            has_ckpt = bool(reader.checkpoints())
        history = load_history(run)
        kind = "plain" if name.startswith("plain") else "resnet"
        ten = None
        if ten_crop and has_ckpt:
            from ..inspect import load_model
            from ..inspect.tencrop import ten_crop_error

            loaded = load_model(str(run))
            ten = ten_crop_error(loaded.model, loaded.preprocess, config["data"], workers=workers).error
        out.append(
            ImageNetResult(
                name,
                kind,
                int(name[len(kind) :]),
                status,
                history.last_step,
                int(config["iters"]),
                history.last_scalar("test_error"),
                ten,
            )
        )
    return out


def judge_claims(results: list[ImageNetResult]) -> list[dict]:
    """Section 4.1's claims with our verdicts."""
    err = {(r.kind, r.depth): r.error for r in results if r.status == "finished"}

    def claim(text, a, b, holds):
        if a not in err or b not in err or err[a] is None or err[b] is None:
            return {"claim": text, "verdict": "untested", "ours": None}
        ours = f"{err[a]:.2f} vs {err[b]:.2f}"
        return {"claim": text, "verdict": "held" if holds(err[a], err[b]) else "did not hold", "ours": ours}

    return [
        claim(
            "degradation: plain-34 has higher validation error than plain-18 (paper 28.54 vs 27.94)",
            ("plain", 34),
            ("plain", 18),
            lambda a, b: a > b,
        ),
        claim(
            "reversed by residual learning: ResNet-34 beats ResNet-18 (paper 25.03 vs 27.88)",
            ("resnet", 34),
            ("resnet", 18),
            lambda a, b: a < b,
        ),
        claim(
            "ResNet-34 beats plain-34 (paper 25.03 vs 28.54, 3.5 points)",
            ("resnet", 34),
            ("plain", 34),
            lambda a, b: a < b,
        ),
        claim(
            "at 18 layers the two are comparably accurate, within 1 point (paper 27.88 vs 27.94)",
            ("resnet", 18),
            ("plain", 18),
            lambda a, b: abs(a - b) <= 1.0,
        ),
    ]


def _cell(r: ImageNetResult | None, kind: str, depth: int) -> str:
    paper = f"paper {PAPER_TABLE2[(kind, depth)]:.2f}"
    if r is None:
        return f"— ({paper})"
    ten = "—" if r.ten_crop_error is None else f"{r.ten_crop_error:.2f}"
    centre = "—" if r.centre_error is None else f"{r.centre_error:.2f}"
    return f"{ten} 10-crop, {centre} centre ({paper}; {r.step}/{r.iters} it., {r.status})"


def table2_markdown(results: list[ImageNetResult], depths: tuple[int, ...]) -> str:
    by = {(r.kind, r.depth): r for r in results}
    lines = [
        "# Table 2: top-1 error (%) on the validation (test) folder",
        "",
        "| | plain | ResNet |",
        "|---|---|---|",
    ]
    for d in depths:
        lines.append(
            f"| {d} layers | {_cell(by.get(('plain', d)), 'plain', d)} | {_cell(by.get(('resnet', d)), 'resnet', d)} |"
        )
    return "\n".join(lines) + "\n"


def claims_markdown(claims: list[dict], results: list[ImageNetResult]) -> str:
    lines = ["# Section 4.1's claims", ""]
    for c in claims:
        ours = f" (ours: {c['ours']})" if c["ours"] else ""
        lines.append(f"- **{c['verdict']}**: {c['claim']}{ours}")
    iters = max((r.iters for r in results), default=0)
    lines += [
        "",
        f"Budget: {iters:,} iterations per net; the paper trained for up to 600,000 iterations on ImageNet's "
        "1.28 million images. At a smaller budget or on a smaller folder these verdicts say little.",
    ]
    return "\n".join(lines) + "\n"


def draw_fig4(folder: Path, results: list[ImageNetResult], train_images: int, batch: int, out: Path) -> Path | None:
    """Fig. 4 (left plain, right ResNet): training error thin, validation error bold, by epoch."""
    from .figures import matplotlib_missing

    if matplotlib_missing():
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..runs.history import load_history

    fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
    colours = {18: "C0", 34: "C3"}
    for ax, kind, title in ((axes[0], "plain", "plain"), (axes[1], "resnet", "ResNet")):
        for r in (r for r in results if r.kind == kind):
            h = load_history(folder / r.name)
            for name, width, label in (("train_error", 0.8, "train"), ("test_error", 2.2, "val")):
                steps, values = h.scalar(name)
                if len(steps):
                    epochs = steps * batch / max(train_images, 1)
                    ax.plot(
                        epochs, values, lw=width, color=colours.get(r.depth, "C2"), label=f"{title}-{r.depth} {label}"
                    )
        ax.set_title(title)
        ax.set_xlabel("epochs")
        ax.legend(fontsize=7)
    axes[0].set_ylabel("error (%)")
    fig.suptitle("Fig. 4: training (thin) and validation (bold, centre crop) error")
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out


def write_imagenet_report(folder: Path, results, depths, train_images: int, batch: int) -> list[Path]:
    """fig4.png, table2.md, claims.md and summary.json into ``folder``; the files written."""
    claims = judge_claims(results)
    written = []
    for name, text in (
        ("table2.md", table2_markdown(results, depths)),
        ("claims.md", claims_markdown(claims, results)),
    ):
        write_text_atomic(folder / name, text)
        written.append(folder / name)
    summary = {"nets": [r.__dict__ | {"error": r.error} for r in results], "claims": claims}
    write_text_atomic(folder / "summary.json", json.dumps(summary, indent=2))
    written.append(folder / "summary.json")
    fig = draw_fig4(folder, results, train_images, batch, folder / "fig4.png")
    if fig is not None:
        written.append(fig)
    return written
