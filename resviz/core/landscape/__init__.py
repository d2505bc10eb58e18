"""Loss landscapes around trained weights (Li et al. 2018, arXiv:1712.09913; issue #13).

* :func:`make_directions` -> :class:`Directions`: filter-normalised random directions,
  fixed by a seed and the parameters' shapes (so a net and its plain twin share them);
* :func:`loss_landscape` -> :class:`Landscape`: training loss and error on a 1D or 2D
  grid, the model's weights moved in place and restored, cancellable, with progress;
* :func:`landscape_figure`: curves, or contour plots side by side on one colour scale;
* :func:`nonconvex_share`: what a sweep shows as one number, the same for every net.
"""

from __future__ import annotations

from .directions import Directions, filter_normalize, make_directions, moved_parameters, random_direction
from .figure import contour_levels, landscape_figure
from .measures import nonconvex_share, second_differences
from .sweep import BN_NOTE, Landscape, grid_axis, landscapes_csv, landscapes_json, loss_landscape

__all__ = [
    "BN_NOTE",
    "Directions",
    "Landscape",
    "contour_levels",
    "filter_normalize",
    "grid_axis",
    "landscape_figure",
    "landscapes_csv",
    "landscapes_json",
    "loss_landscape",
    "make_directions",
    "moved_parameters",
    "nonconvex_share",
    "random_direction",
    "second_differences",
]
