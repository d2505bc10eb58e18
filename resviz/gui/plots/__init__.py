"""Live plot panels (pyqtgraph): curves, residual ratios, response stds, gradient norms."""

from .base import PlotPanel
from .curves import CurvesPanel
from .gradients import GradientsPanel
from .residuals import ResidualsPanel
from .responses import ResponsePanel

__all__ = ["PlotPanel", "CurvesPanel", "ResidualsPanel", "ResponsePanel", "GradientsPanel"]
