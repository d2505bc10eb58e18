"""The Inspect tab (issue 5, the app's half): a trained net, an image, and what happens inside.

:class:`InspectTab` is what the main window's ``TABS`` names; :class:`InspectSession`
is its model (state and the worker thread), usable without the tab. No module here
imports torch at import time: the tab is built before torch has loaded.
"""

from .session import InspectSession
from .sources import DataChoice
from .tab import InspectTab

__all__ = ["InspectTab", "InspectSession", "DataChoice"]
