"""resviz.integrations.lightning.ResvizCallback with a real lightning.Trainer on the CPU (issue #21)."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch
import torch.nn.functional as F

from resviz.core.models import build_model
from resviz.core.runs import RunReader

pl = pytest.importorskip("lightning.pytorch", reason="Lightning is an optional extra (pip install resviz[lightning])")

# Lightning 2.6 itself uses an API torch 2.14 deprecates, and tells the data loader has few
# workers (the test's data is 24 tensors): neither is about resviz.
pytestmark = [
    pytest.mark.filterwarnings(r"ignore:`isinstance\(treespec, LeafSpec\)` is deprecated:FutureWarning"),
    pytest.mark.filterwarnings("ignore:.*does not have many workers:UserWarning"),
]


class _Module(pl.LightningModule):
    def __init__(self, fail_at: int | None = None):
        super().__init__()
        torch.manual_seed(0)
        self.net = build_model("resnet8", num_classes=10)
        self.fail_at = fail_at
        self.grad_norms: list[list[float]] = []

    def training_step(self, batch, batch_idx):
        if batch_idx == self.fail_at:
            raise RuntimeError("boom")
        x, y = batch
        logits = self.net(x)
        return {"loss": F.cross_entropy(logits, y), "logits": logits.detach()}

    def on_before_optimizer_step(self, optimizer):
        # What the optimizer is about to use: the callback must record these very norms.
        layers = [m for m in self.net.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]
        self.grad_norms.append([torch.linalg.vector_norm(m.weight.grad).item() for m in layers])

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.05)


def _loader(n=24):
    g = torch.Generator().manual_seed(0)
    data = torch.utils.data.TensorDataset(
        torch.randn(n, 3, 16, 16, generator=g), torch.randint(0, 10, (n,), generator=g)
    )
    return torch.utils.data.DataLoader(data, batch_size=4, num_workers=0)


def _trainer(callback, steps=4):
    return pl.Trainer(
        max_steps=steps,
        accelerator="cpu",
        devices=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        callbacks=[callback],
    )


def test_a_lightning_fit_writes_a_watched_run(tmp_path):
    from resviz.core.inspect.loading import load_model
    from resviz.integrations.lightning import ResvizCallback

    module = _Module()
    _trainer(ResvizCallback(tmp_path / "run", every=2)).fit(module, _loader())
    with RunReader(tmp_path / "run") as r:
        records, events = r.read_all()
        assert r.status().status == "finished"
        assert r.config["iters"] == 4 and r.config["batch_size"] == 4 and r.config["arch"] == "resnet8"
        assert [b.split(".", 1)[1] for b in r.layout["residual_ratio"]] == module.net.block_names()
    assert [rec.step for rec in records] == [2, 4]
    assert [e.kind for e in events] == ["start", "checkpoint", "finished"]
    for rec, norms in zip(records, module.grad_norms[1::2], strict=True):
        assert rec.vectors["grad_norm"].tolist() == pytest.approx(norms, rel=1e-6)
        assert {"loss", "train_error", "lr", "images_per_s"} <= set(rec.scalars)
        assert len(rec.vectors["residual_ratio"]) == 3 and all(v > 0 for v in rec.vectors["residual_ratio"])
    assert load_model(tmp_path / "run").arch == "resnet8"
    assert not any(m._forward_hooks for m in module.modules())


def test_an_exception_in_fit_marks_the_run_failed(tmp_path):
    from resviz.integrations.lightning import ResvizCallback

    with pytest.raises(RuntimeError, match="boom"):
        _trainer(ResvizCallback(tmp_path / "run", every=1)).fit(_Module(fail_at=2), _loader())
    with RunReader(tmp_path / "run") as r:
        status = r.status()
        assert [rec.step for rec in r.read_all()[0]] == [1, 2]
    assert status.status == "failed" and status.reason == "RuntimeError: boom"


def test_importing_resviz_never_imports_lightning():
    code = (
        "import sys, resviz, resviz.core.watch, resviz.integrations; resviz.watch\n"
        "print([m for m in sys.modules if m.split('.')[0] in ('lightning', 'pytorch_lightning')])"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "[]"
