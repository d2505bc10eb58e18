"""The telemetry's numbers against values computed another way.

A tiny block with set weights gives |F(x)| / |x| and the response stds by hand; on a whole
net, forward hooks and ``torch.linalg.vector_norm`` of each weight's gradient are the
oracle for what the trainer records, in depth order, under the layout's names.
"""

from __future__ import annotations

import statistics

import pytest
import torch
import torch.nn.functional as F

from resviz.core.models import BasicBlock, Probe, build_model
from resviz.core.train.compiled import TrainStep
from resviz.core.train.telemetry import Telemetry

# Sample 0 has |x| = 5 and |relu(x)| = 3; sample 1 has |x| = 3 and |relu(x)| = 2.
X = torch.zeros(2, 1, 3, 3)
X[0, 0, 0, :] = torch.tensor([3.0, -4.0, 0.0])
X[1, 0, 0, :] = torch.tensor([-1.0, 2.0, -2.0])
#: mean over the batch of |F(x)| / |x| with F(x) = relu(x): (3/5 + 2/3) / 2
RATIO = (3 / 5 + 2 / 3) / 2
#: the same with numerator and denominator swapped: (5/3 + 3/2) / 2
SWAPPED = (5 / 3 + 3 / 2) / 2


def _pass_through(bn: torch.nn.BatchNorm2d) -> None:
    """Eval-mode BN that leaves values as they are: (x - 0) / sqrt((1 - eps) + eps) * 1 + 0."""
    bn.running_mean.zero_()
    bn.running_var.fill_(1.0 - bn.eps)
    bn.weight.fill_(1.0)
    bn.bias.zero_()


def _tiny_block() -> BasicBlock:
    """One channel, identity shortcut, F(x) = 0.5 * relu(2 x) = relu(x)."""
    block = BasicBlock(1, 1)
    with torch.no_grad():
        for conv, gain in ((block.conv1, 2.0), (block.conv2, 0.5)):
            conv.weight.zero_()
            conv.weight[0, 0, 1, 1] = gain  # the centre tap only: each pixel times ``gain``
        _pass_through(block.bn1)
        _pass_through(block.bn2)
    return block.eval()


def _probe(block: BasicBlock, x: torch.Tensor) -> tuple[Probe, torch.Tensor]:
    probe = Probe()
    block.probe = probe
    with torch.no_grad():
        out = block(x)
    block.probe = None
    return probe, out


def test_residual_ratio_of_a_block_with_set_weights_is_the_hand_computed_one():
    assert abs(RATIO - SWAPPED) > 0.5  # the oracle tells |F(x)| / |x| from |x| / |F(x)|
    block = _tiny_block()
    probe, out = _probe(block, X)
    assert len(probe.residual_ratio) == 1
    assert probe.residual_ratio[0].item() == pytest.approx(RATIO, rel=1e-5)
    # The block's output is relu(F(x) + x): 3 + 3 = 6 where x = 3, and 0 where x < 0.
    expected = torch.zeros_like(X)
    expected[0, 0, 0, 0] = 6.0
    expected[1, 0, 0, 1] = 4.0
    torch.testing.assert_close(out, expected, rtol=1e-5, atol=1e-6)


def test_the_ratio_is_measured_with_the_shortcut_off_too():
    block = _tiny_block()
    block.shortcut_on = False
    probe, out = _probe(block, X)
    assert probe.residual_ratio[0].item() == pytest.approx(RATIO, rel=1e-5)
    torch.testing.assert_close(out, torch.relu(X), rtol=1e-5, atol=1e-6)  # relu(F(x)) alone


def test_a_zeroed_residual_branch_has_ratio_exactly_zero():
    block = _tiny_block()
    with torch.no_grad():
        block.bn2.weight.zero_()  # F(x) = 0 * ... + 0
    probe, out = _probe(block, X)
    assert probe.residual_ratio[0].item() == 0.0
    assert probe.response_std[1].item() == 0.0
    torch.testing.assert_close(out, torch.relu(X))


def test_response_std_is_the_std_of_each_3x3_layers_output_after_bn():
    probe, _ = _probe(_tiny_block(), X)
    values = X.flatten().tolist()
    first = [2 * v for v in values]  # conv1 (x2) then a pass-through BN
    second = [max(v, 0.0) for v in values]  # relu, conv2 (x0.5), BN: relu(x)
    assert len(probe.response_std) == 2
    assert probe.response_std[0].item() == pytest.approx(statistics.stdev(first), rel=1e-5)
    assert probe.response_std[1].item() == pytest.approx(statistics.stdev(second), rel=1e-5)


RESNET8_LAYERS = [
    "conv1",
    "layer1.0.conv1",
    "layer1.0.conv2",
    "layer2.0.conv1",
    "layer2.0.conv2",
    "layer3.0.conv1",
    "layer3.0.conv2",
    "fc",
]


def test_a_records_vectors_equal_hooks_and_gradient_norms_in_depth_order():
    torch.manual_seed(0)
    model = build_model("resnet8").train()
    telemetry = Telemetry(model, torch.device("cpu"))
    assert telemetry.layout["grad_norm"] == RESNET8_LAYERS
    assert telemetry.layout["response_std"] == RESNET8_LAYERS[:-1]  # the 3x3 convs, stem included
    assert telemetry.layout["residual_ratio"] == ["layer1.0", "layer2.0", "layer3.0"]

    blocks = model.blocks()
    stds: list[float] = []
    ratios: list[float] = []
    inputs: dict[int, torch.Tensor] = {}
    hooks = [
        bn.register_forward_hook(lambda m, i, o: stds.append(o.detach().std().item()))
        for bn in [model.bn1] + [bn for b in blocks for bn in (b.bn1, b.bn2)]
    ]
    for i, b in enumerate(blocks):
        # conv1's input is the block's input (the probing forward calls block.probed, not the block)
        hooks.append(b.conv1.register_forward_pre_hook(lambda m, args, i=i: inputs.__setitem__(i, args[0].detach())))

        def _ratio(m, args, out, i=i):  # bn2's output is F(x), before the addition
            f = out.detach().flatten(1).norm(dim=1)
            s = blocks[i].shortcut(inputs[i]).flatten(1).norm(dim=1)
            ratios.append((f / s).mean().item())

        hooks.append(b.bn2.register_forward_hook(_ratio))

    seen: dict[str, torch.Tensor] = {}
    hooks.append(model.fc.register_forward_hook(lambda m, i, o: seen.__setitem__("logits", o.detach())))
    grad_norms: dict[str, float] = {}
    for name in RESNET8_LAYERS:  # the step drops the gradients after the update: catch them in flight
        hooks.append(
            model.get_submodule(name).weight.register_hook(
                lambda g, name=name: grad_norms.__setitem__(name, torch.linalg.vector_norm(g).item())
            )
        )

    x, y = torch.randn(8, 3, 16, 16), torch.arange(8) % 10
    step = TrainStep(model, torch.optim.SGD(model.parameters(), lr=0.0), torch.device("cpu"))
    telemetry.add(step(x, y, probing=True))
    for h in hooks:
        h.remove()
    record = telemetry.collect(step=1, lr=0.1, elapsed=0.5)
    logits = seen["logits"]
    loss = F.cross_entropy(logits, y)

    assert len(stds) == 7 and len(ratios) == 3  # the hooks saw each layer once
    grads = [grad_norms[name] for name in RESNET8_LAYERS]
    assert record.vectors["grad_norm"].tolist() == pytest.approx(grads, rel=1e-5)
    assert record.vectors["response_std"].tolist() == pytest.approx(stds, rel=1e-5)
    assert record.vectors["residual_ratio"].tolist() == pytest.approx(ratios, rel=1e-5)
    wrong = int((logits.argmax(1) != y).sum())
    assert record.scalars["loss"] == pytest.approx(loss.item(), rel=1e-6)
    assert record.scalars["train_error"] == pytest.approx(100.0 * wrong / 8)
    assert record.scalars["images_per_s"] == pytest.approx(8 / 0.5)
