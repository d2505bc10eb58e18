"""The non-convexity figure the Landscape tab reports for each swept map (issue 19)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from resviz.core.landscape import nonconvex_share, second_differences


def test_second_differences_by_hand():
    (d2,) = second_differences(np.array([4.0, 1.0, 0.0, 1.0, 5.0]))
    np.testing.assert_allclose(d2, [2.0, 2.0, 3.0])  # 4-2+0, 1-0+1, 0-2+5
    grid = np.array([[0.0, 1.0, 4.0], [1.0, 2.0, 5.0], [4.0, 5.0, 9.0]])
    along_a, along_b = second_differences(grid)
    np.testing.assert_allclose(along_a, [[1.0 - 4.0 + 5.0]])  # row 1: 1, 2, 5
    np.testing.assert_allclose(along_b, [[1.0 - 4.0 + 5.0]])  # column 1: 1, 2, 5


def test_a_bowl_is_convex_and_a_rough_surface_is_not():
    a = np.linspace(-1, 1, 9)
    bowl = a[None, :] ** 2 + a[:, None] ** 2
    assert nonconvex_share(bowl) == 0.0
    # a 1D line with one bump: interior points 1..5 of [0, 1, 3, 2, 3, 5, 8]
    line = np.array([0.0, 1.0, 3.0, 2.0, 3.0, 5.0, 8.0])
    # d2 = [1, -3, 2, 1, 1]: one of five points curves downwards
    assert nonconvex_share(line) == pytest.approx(1 / 5)
    # a checkerboard: every interior point is a pit or a peak; peaks curve down both ways
    board = np.indices((5, 5)).sum(axis=0) % 2 * 1.0
    assert nonconvex_share(board) == pytest.approx(4 / 9)  # interior 3x3: the 4 ones are peaks


def test_the_share_does_not_swap_pits_and_peaks():
    pit = np.array([1.0, 0.0, 1.0])
    peak = np.array([0.0, 1.0, 0.0])
    assert nonconvex_share(pit) == 0.0 and nonconvex_share(peak) == 1.0


def test_flat_noise_and_degenerate_grids():
    flat = np.full((5, 5), 2.0) + np.random.default_rng(0).normal(0, 1e-12, (5, 5))
    flat[0, 0] = 3.0  # a range of 1: noise of 1e-12 is far below the flatness threshold
    assert nonconvex_share(flat) == 0.0
    assert math.isnan(nonconvex_share(np.array([1.0, 2.0])))
    assert math.isnan(nonconvex_share(np.array([1.0, np.nan, 2.0, 3.0])))
    with pytest.raises(ValueError):
        second_differences(np.zeros((3, 3, 3)))
