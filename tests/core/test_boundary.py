"""resviz.core never imports Qt: it must run headless, in workers, and under torchrun."""

import subprocess
import sys


def _python(code: str) -> subprocess.CompletedProcess:
    """``code`` in a fresh interpreter: what it imports is what a fresh process would."""
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)


def test_importing_core_loads_no_qt():
    code = (
        "import sys, pkgutil, importlib, resviz.core as c\n"
        "for m in pkgutil.walk_packages(c.__path__, 'resviz.core.'): importlib.import_module(m.name)\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('PySide6', 'pyqtgraph') or m.startswith('resviz.gui')]\n"
        "print(bad); sys.exit(1 if bad else 0)\n"
    )
    res = _python(code)
    assert res.returncode == 0, res.stdout + res.stderr


def test_importing_resviz_and_its_cli_is_light():
    """The window must not wait for torch: the package and CLI parser import without it."""
    code = "import sys, resviz, resviz.cli; resviz.cli.build_parser(); print('torch' in sys.modules)"
    res = _python(code)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "False"


def test_names_and_config_need_no_torch():
    """The app fills its menus and checks settings while torch is still loading."""
    code = (
        "import sys; from resviz.core.archs import ARCHITECTURES, parse_arch; "
        "from resviz.core.train.config import TrainConfig; from resviz.core.records import Record; "
        "TrainConfig(arch='plain56'); print('torch' in sys.modules)"
    )
    res = _python(code)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "False"


def test_a_lockstep_group_needs_neither_plots_nor_captum():
    """benchmarks/gpu_check.sh runs a group on a GPU box with only torch (issue #11)."""
    code = (
        "import sys; from resviz.core.train.group import LockstepGroup; import resviz.core.experiment\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('matplotlib', 'captum', 'PySide6', 'pyqtgraph')]\n"
        "print(bad); sys.exit(1 if bad else 0)\n"
    )
    res = _python(code)
    assert res.returncode == 0, res.stdout + res.stderr
