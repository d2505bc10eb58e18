"""Run > Reproduce the paper, and the Paper tab (issue #12, the app's half).

:class:`PaperDialog` chooses the data, the depths and the budget and shows what it will
cost before anything starts; :class:`PaperTab` shows Table 6 and the claims of section 4.2
filling in as the nets finish, ours beside the paper's. The numbers and verdicts are the
engine's (:mod:`resviz.core.paper`), the same as ``resviz experiment paper``. No module
here imports torch at import time: the tab is built before torch has loaded.
"""

from .dialog import PaperDialog
from .tab import PaperTab

__all__ = ["PaperDialog", "PaperTab"]
