"""The neuron view: one channel of a level attributed to the pixels of the image shown.

Pick a channel (in the activation grids or in "what a channel sees") and Captum's
NeuronGradient or NeuronIntegratedGradients explains that channel's mean activation over
its map in terms of the input pixels (:mod:`resviz.core.inspect.attribution`): *what in
this image drives it*, beside what the channel responds to over the whole test split.
The view follows the session's ``neuron_changed``; the job runs in the session's worker.
"""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets

from ...core.inspect.display import overlay
from ...core.inspect.methods import METHODS
from .canvas import ImageCanvas
from .session import InspectSession

__all__ = ["NeuronView", "NEURON_METHODS"]

#: The neuron methods the view offers (MethodSpec.uses_channel), in METHODS' order.
NEURON_METHODS: tuple[str, ...] = tuple(name for name, spec in METHODS.items() if spec.uses_channel)
_CMAP = "inferno"
_ALPHA = 0.6


class NeuronView(QtWidgets.QWidget):
    """The picked channel's attribution over the image, and the neuron method's menu."""

    def __init__(self, session: InspectSession, parent: QtWidgets.QWidget | None = None, *, min_side: int = 72) -> None:
        super().__init__(parent)
        self.session = session
        self.canvas = ImageCanvas("click a channel to see what in this image drives it", min_side=min_side)
        self.canvas.setToolTip(
            "The picked channel's mean activation attributed to the input pixels (Captum's neuron methods): "
            "what in the image shown drives this channel"
        )
        self.method = QtWidgets.QComboBox()
        for name in NEURON_METHODS:
            self.method.addItem(METHODS[name].label, name)
        self.method.setToolTip(
            "Neuron Gradient: the gradient of the channel's mean activation; Neuron Integrated "
            "Gradients: summed along the path from the training-mean image"
        )
        self.method.setSizeAdjustPolicy(QtWidgets.QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.method.setMinimumContentsLength(8)
        self.header = QtWidgets.QLabel("What in this image drives it:")
        self.header.setToolTip(self.canvas.toolTip())
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.header)
        layout.addWidget(self.canvas, 1)
        layout.addWidget(self.method)
        self.method.currentIndexChanged.connect(lambda _i: session.set_neuron_method(self.method.currentData()))
        session.neuron_changed.connect(self._on_neuron)
        session.image_changed.connect(self._on_neuron)
        session.busy_changed.connect(lambda _busy: self._on_neuron())
        self._heat: tuple[object, object] | None = None  # (map, heatmap): normalised once per map
        self._on_neuron()

    def shown_channel(self) -> tuple[str, int] | None:
        """The (level, channel) whose map is drawn now (None: none yet)."""
        n = self.session.neuron
        return None if n is None or self.session.prepared is None else (n.level, n.channel)

    def _on_neuron(self) -> None:
        s = self.session
        i = self.method.findData(s.neuron_method)
        if i >= 0 and i != self.method.currentIndex():
            self.method.blockSignals(True)
            self.method.setCurrentIndex(i)
            self.method.blockSignals(False)
        n, prepared = s.neuron, s.prepared
        if s.channel is None:
            self.canvas.set_rgb(None, "")
            return
        level, channel = s.channel
        if n is None or prepared is None or (n.level, n.channel) != s.channel:
            self.canvas.set_rgb(None, f"{level} ch. {channel} …" if s.image is not None else f"{level} ch. {channel}")
            self.canvas.set_placeholder("attributing the channel …" if s.image is not None else "pick an image first")
            return
        if self._heat is None or self._heat[0] is not n.map:
            self._heat = (n.map, n.map.heatmap())
        heat = self._heat[1]
        if heat.shape != prepared.display.shape[:2]:
            self.canvas.set_rgb(None)
            return
        when = "cached" if n.map.cached else f"{n.map.seconds * 1000:.0f} ms"
        self.canvas.set_rgb(
            overlay(prepared.display, heat, cmap=_CMAP, alpha=_ALPHA, signed=n.map.sign == "all"),
            f"{level} ch. {channel} · {when}",
        )

    def sizeHint(self) -> QtCore.QSize:
        return QtCore.QSize(140, 160)
