"""Device names as the status line and the CLI show them."""

from __future__ import annotations

import pytest
import torch

from resviz.core.device import describe_device, resolve_device
from resviz.core.errors import ConfigError


@pytest.mark.parametrize("threads,text", [(1, "cpu (1 thread)"), (2, "cpu (2 threads)")])
def test_the_cpu_is_named_with_its_thread_count(threads, text):
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(threads)
        assert describe_device(torch.device("cpu")) == text
    finally:
        torch.set_num_threads(before)


def test_an_unknown_device_says_which_names_exist():
    with pytest.raises(ConfigError, match="use auto, cpu, cuda or mps"):
        resolve_device("tpu")
