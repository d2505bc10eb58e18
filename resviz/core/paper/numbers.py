"""What the paper reports for CIFAR-10 (He et al. 2016, section 4.2), and nothing more.

Table 6 gives the test error of the ResNets only (best of 5 runs for ResNet-110, whose
mean and std the text gives as 6.61 ± 0.16). For plain nets the paper prints no number:
Fig. 6 (left) draws plain-20/32/44/56, and its caption says only that "the error of
plain-110 is higher than 60% and not displayed". Nothing here is read off a plot.
"""

from __future__ import annotations

__all__ = ["FULL_SCHEDULE", "PAPER_NOTES", "PAPER_PARAMS", "PAPER_TEST_ERROR", "paper_note", "paper_test_error"]

#: Table 6: test error (%) of ResNet-N on CIFAR-10.
PAPER_TEST_ERROR: dict[int, float] = {20: 8.75, 32: 7.51, 44: 7.17, 56: 6.97, 110: 6.43, 1202: 7.93}
#: Table 6: parameter counts as the paper prints them.
PAPER_PARAMS: dict[int, str] = {20: "0.27M", 32: "0.46M", 44: "0.66M", 56: "0.85M", 110: "1.7M", 1202: "19.4M"}
#: What the paper says beside a number, or instead of one: (kind, depth) -> text.
PAPER_NOTES: dict[tuple[str, int], str] = {
    ("resnet", 110): "best of 5 runs (mean 6.61 ± 0.16)",
    ("plain", 110): "higher than 60 % (Fig. 6 caption)",
}
#: The paper's schedule: 64k iterations, lr 0.1 divided by 10 at 32k and 48k (section 4.2).
FULL_SCHEDULE = 64_000


def paper_test_error(kind: str, depth: int) -> float | None:
    """Table 6's test error (%) for ``resnet``-``depth``; None where the paper gives none."""
    return PAPER_TEST_ERROR.get(depth) if kind == "resnet" else None


def paper_note(kind: str, depth: int) -> str | None:
    """What the paper says about the net besides Table 6's number, if anything."""
    return PAPER_NOTES.get((kind, depth))
