"""resviz: watch the ideas of "Deep Residual Learning for Image Recognition" happen.

He, Zhang, Ren, Sun, CVPR 2016 (arXiv:1512.03385). Importing this package is cheap on
purpose: torch, torchvision and Captum load only where they are needed, so the window
can appear before they are ready.
"""

__version__ = "0.1.0"

PAPER = 'K. He, X. Zhang, S. Ren, J. Sun, "Deep Residual Learning for Image Recognition", CVPR 2016'
PAPER_URL = "https://arxiv.org/abs/1512.03385"

# ``resviz.watch(model, run_dir)`` for the user's own training loop (issue #21), resolved on
# first use so that ``import resviz`` still loads no torch.
from ._lazy import lazy_exports  # noqa: E402

__getattr__ = lazy_exports("resviz.core.watch", {"watch": "watch", "Watch": "watch", "BlockSpec": "structure"})
