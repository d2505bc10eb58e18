"""One evaluation reads each test image once: Fig. 7's probed pass counts its own errors (issue #18).

The oracle for every count is a plain forward pass in eval mode over the same images, done
here by hand; the oracle for the responses is :func:`measure_responses` on Fig. 7's batch.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from resviz.core.data import normalise
from resviz.core.inspect.subset import stratified_subset
from resviz.core.train.distributed import SINGLE
from resviz.core.train.evaluation import TestEvaluation, eval_batch_size
from resviz.core.train.responses import measure_responses, response_indices


def _hand_wrong(model, images, labels, mean) -> int:
    model.eval()
    with torch.no_grad():
        wrong = int((model(normalise(images, mean)).argmax(dim=1) != labels).sum())
    model.train()
    return wrong


class _Seen:
    """Counts the images the model is asked to look at."""

    def __init__(self, model) -> None:
        self.images = 0
        model.register_forward_pre_hook(self._hook)

    def _hook(self, _module, args) -> None:
        self.images += int(args[0].shape[0])


@pytest.fixture
def net(trained_resnet14):
    """A copy: the counting hooks stay off the session's shared net."""
    return copy.deepcopy(trained_resnet14).train()


def test_fig7s_batch_lies_inside_the_subset_and_the_split(digits):
    labels = digits.test.labels
    fig7 = response_indices(labels, 50)
    subset = stratified_subset(labels, 100).numpy()
    # each class takes its images in one fixed order, so the 50 are the first of the 100
    assert len(fig7) == 50 and np.isin(fig7, subset).all()
    assert np.bincount(labels[fig7].numpy(), minlength=10).tolist() == [5] * 10


def test_a_subset_evaluation_reads_its_images_once_and_counts_as_a_plain_pass(net, digits):
    test, mean = digits.test, digits.mean
    ev = TestEvaluation(net, test, mean, SINGLE, subset=100, responses=50)
    seen = _Seen(net)
    wrong, stds = ev.run(full=False)
    assert seen.images == 100  # not 150: the probed 50 were not read again
    subset = ev.subset_index
    assert int(wrong) == _hand_wrong(net, test.images[subset], test.labels[subset], mean)
    fig7 = torch.as_tensor(response_indices(test.labels, 50))
    np.testing.assert_allclose(stds, measure_responses(net, test.images[fig7], mean).numpy(), rtol=1e-5)
    assert net.training  # the mode is given back


def test_the_final_evaluation_reads_the_whole_split_once(net, digits):
    test, mean = digits.test, digits.mean
    ev = TestEvaluation(net, test, mean, SINGLE, subset=100, responses=50)
    seen = _Seen(net)
    wrong, _ = ev.run(full=True)
    assert seen.images == len(test) == 359
    assert int(wrong) == _hand_wrong(net, test.images, test.labels, mean)
    assert 0 < int(wrong) < 359  # a trained net, far from both ends: the count can be wrong either way


def test_a_subset_smaller_than_fig7s_batch_is_read_apart(net, digits):
    test, mean = digits.test, digits.mean
    ev = TestEvaluation(net, test, mean, SINGLE, subset=20, responses=50)
    seen = _Seen(net)
    wrong, stds = ev.run(full=False)
    assert seen.images == 20 + 50  # the 50 are not all inside the 20: two passes
    subset = ev.subset_index
    assert int(wrong) == _hand_wrong(net, test.images[subset], test.labels[subset], mean)
    assert stds.shape == (13,) and np.isfinite(stds).all()  # resnet14: 1 + 2 x 6 3x3 layers


def test_the_count_takes_an_in_place_all_reduce(net, digits):
    """DDP sums the ranks' counts in place; a tensor made under inference mode would refuse."""
    ev = TestEvaluation(net, digits.test, digits.mean, SINGLE, subset=100, responses=50)
    for full in (False, True):
        wrong, _ = ev.run(full)
        before = int(wrong)
        wrong.add_(1)
        assert int(wrong) == before + 1


def test_the_cpu_evaluates_in_batches_of_100():
    assert eval_batch_size(torch.device("cpu")) == 100
    assert eval_batch_size(torch.device("meta")) == 500
