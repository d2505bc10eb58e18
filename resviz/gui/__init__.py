"""resviz's desktop app: PySide6 + pyqtgraph widgets over resviz.core (no ML logic here)."""
