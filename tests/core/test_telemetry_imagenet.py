"""The telemetry on the ImageNet nets (issue #22): basic blocks (resnet18) and bottlenecks
(resnet50), at a tiny input, against hooks and gradient hooks as in test_telemetry."""

from __future__ import annotations

import pytest
import torch

from resviz.core.models import build_model
from resviz.core.train.compiled import TrainStep
from resviz.core.train.telemetry import Telemetry


@pytest.mark.parametrize(("arch", "blocks", "convs3x3"), [("resnet18", 8, 16), ("resnet50", 16, 16)])
def test_ratios_and_gradient_norms_of_basic_and_bottleneck_nets(arch, blocks, convs3x3):
    torch.manual_seed(0)
    model = build_model(arch, num_classes=5).train()
    telemetry = Telemetry(model, torch.device("cpu"))
    assert len(telemetry.layout["residual_ratio"]) == blocks  # 2-2-2-2 basic, 3-4-6-3 bottleneck
    # The 3x3 layers: two per basic block, one (the middle) per bottleneck; the 7x7 stem is not 3x3.
    assert len(telemetry.layout["response_std"]) == convs3x3

    inputs, ratios, grads = {}, [], {}
    hooks = []
    for i, b in enumerate(model.blocks()):
        last_bn = b.bn3 if hasattr(b, "bn3") else b.bn2  # the residual branch F(x) ends here

        def _ratio(m, args, out, i=i, b=b):
            f = out.detach().flatten(1).norm(dim=1)
            s = b.shortcut(inputs[i]).detach().flatten(1).norm(dim=1)
            ratios.append((f / s).mean().item())

        hooks.append(b.conv1.register_forward_pre_hook(lambda m, a, i=i: inputs.__setitem__(i, a[0].detach())))
        hooks.append(last_bn.register_forward_hook(_ratio))
    names = telemetry.layout["grad_norm"]
    for name in names:
        hooks.append(
            model.get_submodule(name).weight.register_hook(
                lambda g, name=name: grads.__setitem__(name, torch.linalg.vector_norm(g).item())
            )
        )
    x, y = torch.randn(2, 3, 32, 32), torch.tensor([0, 3])
    step = TrainStep(model, torch.optim.SGD(model.parameters(), lr=0.0), torch.device("cpu"))
    telemetry.add(step(x, y, probing=True))
    for h in hooks:
        h.remove()
    record = telemetry.collect(step=1, lr=0.1, elapsed=1.0)
    assert record.vectors["residual_ratio"].tolist() == pytest.approx(ratios, rel=1e-4)
    assert record.vectors["grad_norm"].tolist() == pytest.approx([grads[n] for n in names], rel=1e-4)
    stds = record.vectors["response_std"]
    assert len(stds) == convs3x3 and (stds > 0).all()
