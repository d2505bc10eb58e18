"""Fig. 7 as the paper measured it: responses of the trained net on a fixed test batch, BN in eval mode."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from resviz.core.checkpoint import load_checkpoint
from resviz.core.models import build_model
from resviz.core.runs.files import checkpoint_files
from resviz.core.runs.history import load_history
from resviz.core.train import TrainConfig, Trainer, responses
from resviz.core.train.responses import measure_responses, response_indices


def test_the_fixed_batch_takes_every_class_in_turn_and_the_same_images_every_time():
    labels = np.repeat(np.arange(10), 100)  # sorted by class, as many splits are on disk
    idx = response_indices(labels, 500, seed=0)
    assert len(idx) == 500 == len(set(idx.tolist()))
    assert np.bincount(labels[idx], minlength=10).tolist() == [50] * 10
    assert np.array_equal(idx, response_indices(labels, 500, seed=0))  # fixed for the run
    assert not np.array_equal(idx, response_indices(labels, 500, seed=1))
    # 23 images of 10 classes: the first 20 hold two of each, then three classes get a third
    counts = np.bincount(labels[response_indices(labels, 23)], minlength=10)
    assert sorted(counts.tolist()) == [2] * 7 + [3] * 3
    assert len(response_indices(labels[:40], 500)) == 40  # a split smaller than the batch: all of it


def _bn_after_3x3(model) -> list[torch.nn.Module]:
    """The BN behind every 3x3 conv, in depth order: where Fig. 7 reads the response."""
    out = [model.bn1]
    for block in model.blocks():
        out += [block.bn1, block.bn2]
    return out


def _hand_stds(model, images: torch.Tensor) -> list[float]:
    """Forward hooks on an eval-mode copy: std of each BN output over the whole batch."""
    seen: list[float] = []
    hooks = [
        bn.register_forward_hook(lambda m, i, o: seen.append(float(o.double().std()))) for bn in _bn_after_3x3(model)
    ]
    model.eval()
    with torch.no_grad():
        model(images)
    for h in hooks:
        h.remove()
    return seen


def test_the_recorded_metric_equals_hooks_on_the_trained_net_over_the_same_batch(digits, tmp_path):
    cfg = TrainConfig(
        arch="resnet8",
        iters=30,
        batch_size=32,
        telemetry_every=5,
        eval_every=15,
        checkpoint_every=1000,
        device="cpu",
        seed=3,
    )
    trainer = Trainer(cfg, run_dir=tmp_path / "run", dataset=digits)
    assert trainer.run() == "finished"
    assert trainer.layout["test_response_std"] == trainer.layout["response_std"]
    history = load_history(tmp_path / "run")
    steps, values = history.vector("test_response_std")
    assert steps.tolist() == [15, 30]  # at every evaluation, stored and read back
    model = build_model("resnet8", num_classes=10)
    model.load_state_dict(load_checkpoint(checkpoint_files(tmp_path / "run" / "checkpoints")[-1])["model"])
    idx = torch.as_tensor(response_indices(digits.test.labels))
    images = digits.test.images[idx].float() / 255 - digits.mean  # the trainer's normalisation
    expected = _hand_stds(model, images)
    assert len(expected) == 7
    np.testing.assert_allclose(values[-1], expected, rtol=2e-4)
    # ... and it is not the training-batch measurement (BN in training mode)
    train_std = history.latest_vector("response_std")
    assert np.abs(train_std - values[-1]).max() > 1e-3


def test_chunks_combine_to_the_single_pass_std(trained_resnet14, digits, monkeypatch):
    images = digits.test.images[:64]
    whole = measure_responses(trained_resnet14, images, digits.mean)
    monkeypatch.setattr(responses, "_CHUNK_PIXELS", 7 * 16 * 16)  # 7 images per chunk, the last one of 1
    chunked = measure_responses(trained_resnet14, images, digits.mean)
    np.testing.assert_allclose(chunked.numpy(), whole.numpy(), rtol=1e-4)
    hand = _hand_stds(trained_resnet14, images.float() / 255 - digits.mean)
    np.testing.assert_allclose(whole.numpy(), hand, rtol=1e-4)


def test_the_model_keeps_its_mode_and_no_probe_stays_attached(trained_resnet14, digits):
    trained_resnet14.train()
    measure_responses(trained_resnet14, digits.test.images[:8], digits.mean)
    assert trained_resnet14.training and all(b.probe is None for b in trained_resnet14.blocks())
    trained_resnet14.eval()
    measure_responses(trained_resnet14, digits.test.images[:8], digits.mean)
    assert not trained_resnet14.training


@pytest.mark.parametrize("count", [1, 2])
def test_a_batch_of_one_or_two_images_is_finite(trained_resnet14, digits, count):
    out = measure_responses(trained_resnet14, digits.test.images[:count], digits.mean)
    assert torch.isfinite(out).all() and (out > 0).all()
