"""resviz.watch on a user's own loop (issue #21): oracles, the run folder, bad use."""

from __future__ import annotations

import copy
import json
import logging

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import resviz
from resviz.core.errors import ConfigError, RunError
from resviz.core.models import build_model
from resviz.core.models.blocks import Probe
from resviz.core.runs.reader import RunReader

torch.set_num_threads(1)


def _tv_resnet18():
    torchvision = pytest.importorskip("torchvision")
    torch.manual_seed(0)
    return torchvision.models.resnet18(num_classes=10)


def _batch(n=2, size=32, seed=1):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 3, size, size, generator=g), torch.randint(0, 10, (n,), generator=g)


def _train(model, watch=None, steps=1, n=2, size=32, lr=0.1):
    """A plain loop; returns per step (loss, {name: grad clone}) and leaves the last grads in place."""
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    seen = []
    for i in range(steps):
        x, y = _batch(n, size, seed=i)
        logits = model(x)
        loss = F.cross_entropy(logits, y)
        loss.backward()
        if watch is not None:
            watch.step(loss=loss, logits=logits, targets=y, lr=lr)
        seen.append((loss.detach().clone(), {k: p.grad.clone() for k, p in model.named_parameters()}))
        if i < steps - 1:
            opt.step()
            opt.zero_grad()
    return seen


def _block_inputs(model, names):
    """Each named block's input on the next forward (clones: the blocks overwrite nothing of
    their input, but the test must not depend on it)."""
    got, handles = {}, []
    for name in names:
        block = model.get_submodule(name)
        handles.append(block.register_forward_pre_hook(lambda m, a, name=name: got.__setitem__(name, a[0].clone())))
    return got, handles


def _ratio(f, s):
    return (f.flatten(1).norm(dim=1) / s.flatten(1).norm(dim=1)).mean().item()


def _hand_ratio_tv(block, x):
    """torchvision BasicBlock: F(x) = bn2(conv2(relu(bn1(conv1(x))))), shortcut downsample(x) or x."""
    f = block.bn2(block.conv2(torch.relu(block.bn1(block.conv1(x)))))
    return _ratio(f, block.downsample(x) if block.downsample is not None else x)


def _hand_ratio_timm(block, x):
    """timm BasicBlock: F(x) = drop_path(se(bn2(conv2(aa(act1(drop_block(bn1(conv1(x))))))))) where present."""
    f = block.bn2(block.conv2(block.aa(block.act1(block.drop_block(block.bn1(block.conv1(x)))))))
    if block.se is not None:
        f = block.se(f)
    if block.drop_path is not None:
        f = block.drop_path(f)
    return _ratio(f, block.downsample(x) if block.downsample is not None else x)


def _check_oracle(model, tmp_path, hand):
    w = resviz.watch(model, tmp_path / "run", every=1)
    names = [b.name for b in w.structure.blocks]
    inputs, handles = _block_inputs(model, names)
    _train(model, w, steps=1)
    for h in handles:
        h.remove()
    with torch.no_grad():  # BN in training mode normalises by the same batch statistics again
        want = [hand(model.get_submodule(n), inputs[n]) for n in names]
    grads = [torch.linalg.vector_norm(m.weight.grad).item() for _, m in w.structure.weighted]
    w.close()
    rec = RunReader(tmp_path / "run").read_all()[0][-1]
    assert len(names) == 8
    assert rec.vectors["residual_ratio"].tolist() == pytest.approx(want, rel=1e-6)
    assert rec.vectors["grad_norm"].tolist() == pytest.approx(grads, rel=1e-6)
    assert len(grads) == 21  # 20 convs (3 of them projections) and the head
    return rec


def test_torchvision_resnet18_ratios_and_grad_norms_equal_a_hand_computation(tmp_path):
    model = _tv_resnet18()
    rec = _check_oracle(model, tmp_path, _hand_ratio_tv)
    layout = json.loads((tmp_path / "run" / "layout.json").read_text())
    assert layout["residual_ratio"][:3] == ["layer1.0", "layer1.1", "layer2.0"]
    assert layout["block_downsamples"] == [False, False, True, False, True, False, True, False]
    assert layout["block_levels"] == ["low", "low", "mid", "mid", "mid", "mid", "high", "high"]
    assert len(rec.vectors["response_std"]) == 16  # every 3x3 conv of the blocks; the 7x7 stem is not one


def test_timm_resnet18_ratios_and_grad_norms_equal_a_hand_computation(tmp_path):
    timm = pytest.importorskip("timm", reason="timm is a test-only dependency (the test extra)")
    torch.manual_seed(0)
    model = timm.create_model("resnet18", num_classes=10, pretrained=False)
    _check_oracle(model, tmp_path, _hand_ratio_timm)


def test_timm_se_and_drop_path_are_part_of_the_branch(tmp_path):
    """F(x) is taken after se and drop_path (both run before the addition in timm)."""
    timm = pytest.importorskip("timm", reason="timm is a test-only dependency (the test extra)")
    torch.manual_seed(0)
    model = timm.create_model("seresnet18", num_classes=10, pretrained=False, drop_path_rate=0.1)
    w = resviz.watch(model, tmp_path / "run", every=1)
    assert all(b.branch is b.module.drop_path for b in w.structure.blocks[1:])  # rate 0 on the first block
    assert all(b.module.se is not None for b in w.structure.blocks)
    w.close()


def test_resviz_own_blocks_measure_what_the_trainers_probe_does(tmp_path):
    torch.manual_seed(0)
    model = build_model("resnet8", num_classes=10)
    x, _ = _batch(4, 16)
    probe = Probe()
    model.attach_probe(probe)
    with torch.no_grad():
        model(x)
    model.attach_probe(None)
    w = resviz.watch(model, tmp_path / "run", every=1)
    assert [b.name for b in w.structure.blocks] == model.block_names()
    assert w.structure.arch() == ("resnet8", True)
    with torch.no_grad():
        model(x)
    ratios, stds = w.probes.take(torch.device("cpu"))
    w.close()
    assert ratios.tolist() == pytest.approx(torch.stack(probe.residual_ratio).tolist(), rel=1e-6)
    assert stds.tolist() == pytest.approx(torch.stack(probe.response_std).tolist(), rel=1e-6)


def test_watching_changes_nothing_the_model_computes(tmp_path):
    """Loss and every gradient bit-identical with and without watch (torch.equal), over
    steps that probe and steps that do not."""
    base = _tv_resnet18()
    twin = copy.deepcopy(base)
    plain = _train(base, steps=4)
    w = resviz.watch(twin, tmp_path / "run", every=2)
    watched = _train(twin, w, steps=4)
    w.close()
    for (loss_a, grads_a), (loss_b, grads_b) in zip(plain, watched, strict=True):
        assert torch.equal(loss_a, loss_b)
        assert grads_a.keys() == grads_b.keys()
        assert all(torch.equal(grads_a[k], grads_b[k]) for k in grads_a)


def test_close_removes_every_hook_and_probes_only_every_kth_step(tmp_path):
    model = _tv_resnet18()
    w = resviz.watch(model, tmp_path / "run", every=3)
    assert any(m._forward_hooks for m in model.modules())
    calls = []
    w.probes.take = lambda device, take=w.probes.take: calls.append(w.steps) or take(device)
    _train(model, w, steps=7)
    assert calls == [3, 6]
    model(_batch()[0])  # the forward of step 8, which is not probed: the hooks measure nothing
    assert not w.probes.measured and w.probes.probing is False
    w.close()
    for m in model.modules():
        assert not (m._forward_hooks or m._forward_pre_hooks or m._backward_hooks or m._backward_pre_hooks)
    status = json.loads((tmp_path / "run" / "status.json").read_text())
    assert status["status"] == "finished" and status["step"] == 7


def test_the_run_folder_is_read_by_the_reader_report_and_export(tmp_path, capsys):
    from resviz.cli import main

    model = build_model("resnet8", num_classes=10)
    with resviz.watch(model, tmp_path / "mine", every=2, iters=6) as w:
        _train(model, w, steps=6, size=16, n=4)
        path = w.checkpoint()
    with RunReader(tmp_path / "mine") as r:
        records, events = r.read_all()
        assert [rec.step for rec in records] == [2, 4, 6]
        assert r.config["batch_size"] == 4 and r.config["iters"] == 6 and r.config["arch"] == "resnet8"
        assert r.config["watch"]["blocks_found_by"] == "structure"
        assert r.versions()["device"].startswith("cpu")
        assert [e.kind for e in events] == ["start", "checkpoint", "finished"]
        assert r.status().status == "finished"
        assert r.checkpoints() == [path]
    assert set(records[0].scalars) == {"loss", "train_error", "lr", "images_per_s"}
    assert main(["export", str(tmp_path / "mine")]) == 0
    out = capsys.readouterr().out
    assert "residual_ratio" in out and "grad_norm" in out
    assert main(["report", str(tmp_path / "mine"), "--out", str(tmp_path / "fig.png")]) == 0
    assert (tmp_path / "fig.png").stat().st_size > 0


def test_the_checkpoint_loads_for_inspection(tmp_path):
    from resviz.core.inspect.loading import load_model

    model = _tv_resnet18()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    with resviz.watch(model, tmp_path / "run") as w:
        path = w.checkpoint(optimizer=opt)
    loaded = load_model(tmp_path / "run")
    assert loaded.source == str(path) and loaded.arch == "resnet18"
    ours = loaded.model.state_dict()
    assert all(torch.equal(ours[k], v) for k, v in model.state_dict().items() if k in ours)
    assert torch.load(path, weights_only=True)["optimizer"]["param_groups"][0]["lr"] == 0.1


def test_an_exception_in_the_with_block_marks_the_run_failed(tmp_path):
    model = build_model("resnet8", num_classes=10)
    with pytest.raises(ZeroDivisionError), resviz.watch(model, tmp_path / "run"):
        1 / 0  # noqa: B018
    with RunReader(tmp_path / "run") as r:
        status = r.status()
    assert status.status == "failed" and status.reason == "ZeroDivisionError: division by zero"
    assert not any(m._forward_hooks for m in model.modules())


def test_a_net_without_residual_blocks_gets_the_rest_and_one_line(tmp_path, caplog):
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 8 * 8, 10)
    )
    with caplog.at_level(logging.WARNING, "resviz.watch"), resviz.watch(model, tmp_path / "run", every=1) as w:
        _train(model, w, steps=2, size=8)
        grad = [torch.linalg.vector_norm(model[i].weight.grad).item() for i in (0, 4)]
    hints = [r.message for r in caplog.records if "no residual blocks found" in r.message]
    assert len(hints) == 1 and "blocks=" in hints[0]
    rec = RunReader(tmp_path / "run").read_all()[0][-1]
    assert "residual_ratio" not in rec.vectors
    assert rec.vectors["grad_norm"].tolist() == pytest.approx(grad, rel=1e-6)
    assert len(rec.vectors["response_std"]) == 1 and {"loss", "train_error"} <= set(rec.scalars)


class _Net(nn.Module):
    """A residual net whose blocks resviz cannot recognise: ``out = relu(body(x) + proj(x))``."""

    class Unit(nn.Module):
        def __init__(self, cin, cout):
            super().__init__()
            self.body = nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout))
            self.proj = nn.Conv2d(cin, cout, 1) if cin != cout else None

        def forward(self, x):
            return torch.relu(self.body(x) + (self.proj(x) if self.proj is not None else x))

    def __init__(self):
        super().__init__()
        self.units = nn.Sequential(self.Unit(3, 4), self.Unit(4, 4))
        self.head = nn.Linear(4, 10)

    def forward(self, x):
        return self.head(self.units(x).mean((2, 3)))


def test_blocks_named_by_glob_with_their_branch_and_shortcut(tmp_path):
    torch.manual_seed(0)
    model = _Net()
    spec = resviz.BlockSpec("units.*", branch="body", shortcut="proj")
    w = resviz.watch(model, tmp_path / "run", every=1, blocks=[spec])
    assert [b.name for b in w.structure.blocks] == ["units.0", "units.1"]
    x, _ = _batch(2, 8)
    with torch.no_grad():
        h = model.units[0](x)
        want = [_ratio(model.units[0].body(x), model.units[0].proj(x)), _ratio(model.units[1].body(h), h)]
        model(x)
    ratios, _ = w.probes.take(torch.device("cpu"))
    w.close()
    assert ratios.tolist() == pytest.approx(want, rel=1e-6)
    with pytest.raises(ConfigError, match="no module name matches 'stages.\\*'"):
        resviz.watch(model, tmp_path / "other", blocks=[("stages.*", "body")])
    with pytest.raises(ConfigError, match="has no submodule 'bn9'"):
        resviz.watch(model, tmp_path / "other", blocks=[{"pattern": "units.*", "branch": "bn9"}])


def test_watching_one_model_twice_is_refused(tmp_path):
    model = build_model("resnet8", num_classes=10)
    w = resviz.watch(model, tmp_path / "a")
    with pytest.raises(ConfigError, match="already watched .*close that watch first"):
        resviz.watch(model, tmp_path / "b")
    w.close()
    resviz.watch(model, tmp_path / "b").close()  # closed: may be watched again


def test_a_folder_another_process_writes_is_refused(tmp_path):
    from live_writer import hold_writer_lock

    model = build_model("resnet8", num_classes=10)
    with resviz.watch(model, tmp_path / "run"):
        pass
    proc = hold_writer_lock(tmp_path / "run")
    try:
        (tmp_path / "run" / "status.json").write_text(json.dumps({"status": "running", "pid": proc.pid}))
        with pytest.raises(RunError, match=f"cannot write .*pid {proc.pid} on this host is still writing it"):
            resviz.watch(model, tmp_path / "run", force=True)
    finally:
        proc.kill()
        proc.wait(10)
        proc.stdout.close()
    with pytest.raises(RunError, match="already holds a run: choose a new folder, or pass force=True"):
        resviz.watch(model, tmp_path / "run")
    assert not any(m._forward_hooks for m in model.modules())  # a refused watch leaves no hook behind


def test_step_before_backward_records_what_it_can_and_says_so_once(tmp_path, caplog):
    model = build_model("resnet8", num_classes=10)
    with caplog.at_level(logging.WARNING, "resviz.watch"), resviz.watch(model, tmp_path / "run", every=1) as w:
        for i in range(3):
            x, y = _batch(2, 16, seed=i)
            logits = model(x)
            w.step(loss=F.cross_entropy(logits, y), logits=logits, targets=y)
    said = [r.message for r in caplog.records if "no gradients" in r.message]
    assert len(said) == 1 and "after loss.backward()" in said[0]
    records = RunReader(tmp_path / "run").read_all()[0]
    assert len(records) == 3
    assert all(torch.isnan(torch.as_tensor(r.vectors["grad_norm"])).all() for r in records)
    assert all("loss" in r.scalars and len(r.vectors["residual_ratio"]) == 3 for r in records)


def test_a_non_finite_loss_is_recorded_and_flagged_never_raised(tmp_path, caplog):
    model = build_model("resnet8", num_classes=10)
    with caplog.at_level(logging.WARNING, "resviz.watch"), resviz.watch(model, tmp_path / "run", every=1) as w:
        x, y = _batch(2, 16)
        logits = model(x)
        loss = F.cross_entropy(logits, y) * float("nan")
        loss.backward()
        w.step(loss=loss, logits=logits, targets=y)
        w.step(loss=torch.tensor(2.0), logits=logits, targets=y)
    records, events = RunReader(tmp_path / "run").read_all()
    assert "loss" not in records[0].scalars and records[1].scalars["loss"] == 2.0
    flagged = [e for e in events if e.kind == "nonfinite"]
    assert len(flagged) == 1 and flagged[0].step == 1 and flagged[0].detail["loss"] == "nan"
    assert sum("non-finite" in r.message for r in caplog.records) == 1


def test_a_compiled_model_is_refused_with_the_way_out(tmp_path):
    model = build_model("resnet8", num_classes=10)
    with pytest.raises(ConfigError, match=r"call resviz.watch\(model, ...\) before torch.compile"):
        resviz.watch(torch.compile(model), tmp_path / "run")
    assert not (tmp_path / "run").exists()


@pytest.mark.slow
def test_hooks_registered_before_compile_measure_the_compiled_model(tmp_path):
    """Dynamo traces the hooks into the graph (the probing flag is guarded on: one graph
    probing, one not). The "eager" backend runs what dynamo captured without inductor's
    code generation, which takes minutes on a loaded CPU and plays no part in the hooks."""
    torch.manual_seed(0)
    model = build_model("resnet8", num_classes=10)
    eager = copy.deepcopy(model)
    w = resviz.watch(model, tmp_path / "run", every=2)
    compiled = torch.compile(model, backend="eager")
    want = resviz.watch(eager, tmp_path / "eager", every=2)
    _train(compiled, w, steps=2, size=16, n=4)
    _train(eager, want, steps=2, size=16, n=4)
    w.close()
    want.close()
    got = RunReader(tmp_path / "run").read_all()[0][-1].vectors
    ref = RunReader(tmp_path / "eager").read_all()[0][-1].vectors
    for name in ("residual_ratio", "response_std", "grad_norm"):
        assert got[name].tolist() == pytest.approx(ref[name].tolist(), rel=1e-4), name
