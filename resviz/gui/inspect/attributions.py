"""Attributions overlaid on the image: side by side across low / mid / high for layer
methods (Grad-CAM, conductance ...), one map for input-space methods (Saliency, IG ...).

The method menu lists Captum's methods in three groups (issue #13): level methods, shown
at each level; input methods, one map of the pixels; neuron methods, each level's most
active channel attributed to the pixels. After shortcut surgery a second row shows the
intact net's maps (as loaded, for the same image, method and level) above the altered
net's: the intact ones come from the inspector's cache, so they cost nothing.

The maps come from Captum through the session; here they are only normalised for
display (:func:`resviz.core.inspect.display.heatmap`, numpy, once per map) and blended
with the image at the chosen opacity and colour map, so the slider never waits on the net.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6 import QtCore, QtGui, QtWidgets

from ...core.archs import LEVELS
from ...core.inspect.display import overlay
from ...core.inspect.methods import METHODS, method_spec
from .canvas import ImageCanvas, error_colour
from .results import INPUT_KEY
from .session import InspectSession

if TYPE_CHECKING:
    from ...core.inspect import AttributionMap

__all__ = ["AttributionView", "COLOUR_MAPS"]

#: Colour maps offered for heatmaps: perceptually uniform ones first, then the jet of
#: the Grad-CAM paper (Selvaraju et al. 2017, arXiv:1610.02391), a diverging and grey.
COLOUR_MAPS: tuple[str, ...] = ("inferno", "viridis", "magma", "turbo", "jet", "RdBu_r", "gray")

_LEVEL_WORDS = {"low": "low level", "mid": "mid level", "high": "high level"}

#: The method menu's groups: a header, and which methods it holds.
METHOD_GROUPS: tuple[tuple[str, object], ...] = (
    ("Level methods: low · mid · high side by side", lambda m: m.uses_level and not m.uses_channel),
    ("Input methods: one map of the pixels", lambda m: not m.uses_level),
    ("Neuron methods: each level's most active channel", lambda m: m.uses_channel),
)


def fill_method_menu(combo: QtWidgets.QComboBox, specs=None) -> None:
    """``combo`` gets every method of ``specs`` (default: all) under its group's header;
    headers and separators cannot be chosen."""
    specs = list(METHODS.values() if specs is None else specs)
    for title, belongs in METHOD_GROUPS:
        group = [m for m in specs if belongs(m)]
        if not group:
            continue
        if combo.count():
            combo.insertSeparator(combo.count())
        combo.addItem(title)
        header = combo.model().item(combo.count() - 1)
        header.setFlags(QtCore.Qt.ItemFlag.NoItemFlags)  # a heading, not a choice
        font = QtGui.QFont(combo.font())
        font.setBold(True)
        header.setData(font, QtCore.Qt.ItemDataRole.FontRole)
        for spec in group:
            combo.addItem(spec.label, spec.name)
            combo.setItemData(combo.count() - 1, _method_tip(spec), QtCore.Qt.ItemDataRole.ToolTipRole)
    # The list opens as wide as its longest line: Qt elides a popup to the box's width, and
    # the headers read "Neuron methods: each… most active channel" (issue 19).
    view = combo.view()
    view.setTextElideMode(QtCore.Qt.TextElideMode.ElideNone)
    bold = QtGui.QFont(combo.font())
    bold.setBold(True)
    metrics = QtGui.QFontMetrics(bold)
    widest = max((metrics.horizontalAdvance(combo.itemText(i)) for i in range(combo.count())), default=0)
    view.setMinimumWidth(widest + 48)  # the check/indent margin and a scroll bar


class AttributionView(QtWidgets.QWidget):
    """Method, target class, colour map and opacity controls over one to three overlays."""

    def __init__(self, session: InspectSession, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.setObjectName("attributions")
        self.method = QtWidgets.QComboBox()
        fill_method_menu(self.method)
        self.method.setToolTip(
            "Attribution method (Captum). Level methods are shown at the low, mid and high "
            "levels side by side; input methods attribute to the pixels; neuron methods explain "
            "each level's most active channel"
        )
        self.target = QtWidgets.QComboBox()
        self.target.setToolTip(
            "The class whose evidence is shown: the top-1 prediction, or any class (also: click a prediction bar)"
        )
        self.target.setSizeAdjustPolicy(QtWidgets.QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.target.setMinimumContentsLength(8)
        self.cmap = QtWidgets.QComboBox()
        for name in COLOUR_MAPS:
            self.cmap.addItem(name, name)
        self.cmap.setToolTip("Colour map of the heatmaps")
        for combo, chars in ((self.method, 8), (self.cmap, 5)):
            combo.setSizeAdjustPolicy(QtWidgets.QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(chars)
        self.opacity = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
        self.opacity.setRange(0, 100)
        self.opacity.setValue(50)
        self.opacity.setMinimumWidth(60)
        self.opacity.setToolTip("Heatmap opacity over the image: 0 shows the image only, 100 the heatmap only")
        controls = QtWidgets.QHBoxLayout()
        controls.setContentsMargins(0, 0, 0, 0)
        for label, widget, stretch in (
            ("Method", self.method, 2),
            ("Target", self.target, 1),
            ("Colours", self.cmap, 0),
            ("Opacity", self.opacity, 1),
        ):
            text = QtWidgets.QLabel(label)
            text.setBuddy(widget)
            controls.addWidget(text)
            controls.addWidget(widget, stretch)
        self.panels: dict[str, ImageCanvas] = {}  # the net as it is now
        self.intact_panels: dict[str, ImageCanvas] = {}  # the net as loaded, after surgery
        self.intact_header = QtWidgets.QLabel()
        self.intact_header.setToolTip(
            "The same image, method and level on the net as it was loaded, before any "
            "switch of the block strip (from the cache: it costs nothing)"
        )
        self.altered_header = QtWidgets.QLabel()
        self.altered_header.setToolTip("The net as the block strip has switched it now")
        grid = QtWidgets.QGridLayout()
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setVerticalSpacing(1)
        grid.addWidget(self.intact_header, 0, 0, 1, 4)
        grid.addWidget(self.altered_header, 2, 0, 1, 4)
        for col, key in enumerate((*LEVELS, INPUT_KEY)):
            for panels, row, tip in ((self.intact_panels, 1, "Intact net, as loaded. "), (self.panels, 3, "")):
                canvas = ImageCanvas("the attribution appears here", min_side=56)
                canvas.setToolTip(tip + _panel_tip(key))
                panels[key] = canvas
                grid.addWidget(canvas, row, col)
        grid.setRowStretch(3, 1)
        self._grid = grid
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(controls)
        layout.addLayout(grid, 1)
        self._heat: dict[int, object] = {}  # id(map) -> (map, heatmap): normalised once per map

        self.method.currentIndexChanged.connect(self._on_method)
        self.target.activated.connect(self._on_target)
        self.cmap.currentIndexChanged.connect(self.redraw)
        self.opacity.valueChanged.connect(self.redraw)
        session.attribution_changed.connect(self._on_map)
        session.settings_changed.connect(self._on_settings)
        session.look_changed.connect(self._fill_targets)
        session.model_changed.connect(self._fill_targets)
        session.image_changed.connect(self.redraw)
        session.blocks_changed.connect(self._on_settings)
        session.busy_changed.connect(lambda _busy: self._captions())
        self._on_settings()

    # -- controls --------------------------------------------------------------------------

    def _on_method(self) -> None:
        self.session.set_method(self.method.currentData())

    def _on_target(self) -> None:
        self.session.set_target(self.target.currentData())

    def _fill_targets(self) -> None:
        """Top-1 first, then the top-5, then every class by index."""
        s = self.session
        self.target.blockSignals(True)
        try:
            self.target.clear()
            look = s.look
            top = look.predictions[0].name if look is not None and look.predictions else None
            self.target.addItem(f"top-1 prediction ({top})" if top else "top-1 prediction", None)
            if look is not None:
                for pr in look.predictions[1:]:
                    self.target.addItem(f"{pr.name} ({100 * pr.probability:.0f} %)", pr.index)
            if s.classes:
                self.target.insertSeparator(self.target.count())
                for i, name in enumerate(s.classes):
                    self.target.addItem(f"{i} · {name}", i)
            self._select_target()
        finally:
            self.target.blockSignals(False)

    def _select_target(self) -> None:
        wanted = self.session.target
        for i in range(self.target.count()):
            if self.target.itemData(i) == wanted and (wanted is not None or i == 0):
                self.target.setCurrentIndex(i)
                return

    def _on_settings(self) -> None:
        s = self.session
        i = self.method.findData(s.method)
        if i >= 0 and i != self.method.currentIndex():
            self.method.blockSignals(True)
            self.method.setCurrentIndex(i)
            self.method.blockSignals(False)
        self.target.blockSignals(True)
        self._select_target()
        self.target.blockSignals(False)
        self._show_panels()
        self.redraw()

    def before_after(self) -> bool:
        """Whether the intact net's maps are shown above the altered net's (after surgery)."""
        return self.session.switches_changed() > 0

    def _show_panels(self) -> None:
        uses_level = method_spec(self.session.method).uses_level
        both = self.before_after()
        for key in self.panels:
            wanted = (key != INPUT_KEY) == uses_level
            self.panels[key].setVisible(wanted)
            self.intact_panels[key].setVisible(wanted and both)
        self.intact_header.setVisible(both)
        self.altered_header.setVisible(both)
        self._grid.setRowStretch(1, 1 if both else 0)  # a hidden row must not take the room
        if both:
            n = self.session.switches_changed()
            self.intact_header.setText("<b>Intact net</b>, as loaded (before surgery)")
            self.altered_header.setText(
                f"<b style='color:{error_colour()}'>After surgery</b>: {n} switch{'es' if n != 1 else ''} "
                "changed in the block strip"
            )

    def set_colour_map(self, name: str) -> None:
        i = self.cmap.findData(name)
        if i >= 0:
            self.cmap.setCurrentIndex(i)

    def colour_map(self) -> str:
        return self.cmap.currentData()

    def alpha(self) -> float:
        return self.opacity.value() / 100.0

    # -- drawing ---------------------------------------------------------------------------

    def _on_map(self, key: str) -> None:
        if not key:
            self._heat.clear()
            self.redraw()
        elif key in self.panels:
            shown = {id(m) for m in (*self.session.maps.values(), *self.session.intact_maps.values())}
            self._heat = {k: v for k, v in self._heat.items() if k in shown}
            self._draw(key)
            self._draw(key, intact=True)
            self._captions()

    def redraw(self) -> None:
        for key in self.panels:
            self._draw(key)
            self._draw(key, intact=True)
        self._captions()

    def current_map(self, key: str, *, intact: bool = False) -> AttributionMap | None:
        """The map shown in panel ``key`` (of the intact net: ``intact``) when it belongs to
        the current method."""
        maps = self.session.intact_maps if intact else self.session.maps
        m = maps.get(key)
        return m if m is not None and m.method == self.session.method else None

    def _draw(self, key: str, *, intact: bool = False) -> None:
        canvas = (self.intact_panels if intact else self.panels)[key]
        m, prepared = self.current_map(key, intact=intact), self.session.prepared
        if m is None or prepared is None:
            canvas.set_rgb(None)
            return
        entry = self._heat.get(id(m))
        if entry is None or entry[0] is not m:
            entry = self._heat[id(m)] = (m, m.heatmap())
        if prepared.display.shape[:2] != entry[1].shape:
            canvas.set_rgb(None)  # a map of the previous image, its replacement is on its way
            return
        signed = m.sign == "all"
        canvas.set_rgb(overlay(prepared.display, entry[1], cmap=self.colour_map(), alpha=self.alpha(), signed=signed))

    def _captions(self) -> None:
        s = self.session
        both = self.before_after()
        for intact, panels in ((False, self.panels), (True, self.intact_panels)):
            prefix = ("intact · " if intact else "after surgery · ") if both else ""
            for key, canvas in panels.items():
                m = self.current_map(key, intact=intact)
                # Two rows of captions share the width: the short words there.
                where = prefix + (key if both and key != INPUT_KEY else _LEVEL_WORDS.get(key, "input pixels"))
                if m is None:
                    canvas.set_caption(f"{where} …" if s.busy and s.image is not None else where)
                    continue
                module = "" if both else _level_module_name(s, key)
                when = "cached" if m.cached else f"{m.seconds * 1000:.0f} ms"
                what = (
                    f"ch. {m.channel}"
                    if m.channel is not None
                    else f"‘{m.target_name}’"
                    if both
                    else f"for ‘{m.target_name}’"
                )
                canvas.set_caption(f"{where}{module} · {what} · {when}")


def _level_module_name(session: InspectSession, key: str) -> str:
    look = session.look
    if look is None or key not in look.activations:
        return ""
    return f" ({look.activations[key].module})"


def _method_tip(spec) -> str:
    if spec.uses_channel:
        where = "one channel of each level to the input pixels (by default its most active one here)"
    elif spec.uses_level:
        where = "at each level's output"
    else:
        where = "to the input pixels"
    captum = f"NoiseTunnel over {spec.inner}" if spec.inner else spec.captum
    return f"{spec.label}: Captum's {captum}, attributing {where}"


def _panel_tip(key: str) -> str:
    if key == INPUT_KEY:
        return "Attribution to the input pixels, over the image as the net sees it"
    return (
        f"Attribution at the {_LEVEL_WORDS[key]} (the output of the stage that makes it), upsampled to "
        "the image and laid over it"
    )
