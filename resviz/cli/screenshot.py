"""``resviz screenshot OUT.png``: the main window rendered offscreen, optionally mid-training.

For the README's images and for tests: the window is built with fresh settings (never
the user's), the engine loads, an optional run trains for ``--seconds``, and the window
is grabbed into an image. Needs no display (Qt's offscreen platform).
"""

from __future__ import annotations

import argparse
import os
import tempfile
from dataclasses import replace
from pathlib import Path

from ..core.errors import ConfigError, ResvizError


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "screenshot",
        help="render the app's window offscreen (optionally while training) and save it as an image",
        description=(
            "Render the main window without a display and save it. With --train, a run starts and "
            "trains for --seconds first; with --open, run folders are shown as they are on disk."
        ),
    )
    p.add_argument("out", metavar="OUT.png", help="image file to write (.png or .jpg)")
    p.add_argument("--train", metavar="ARCH", help="train this net first, e.g. resnet20 or plain20")
    p.add_argument("--compare", action="store_true",
                   help="with --train, also train the twin of the same depth (plain vs residual)")
    p.add_argument("--seconds", type=float, default=20.0, help="how long to train before the shot (default 20)")
    p.add_argument("--iters", type=int, default=400, help="iterations of the --train run (default 400)")
    p.add_argument("--open", metavar="RUN_DIR", nargs="+", default=[], help="run folders to show")
    p.add_argument("--theme", choices=("dark", "light"), default="dark", help="palette (default dark)")
    p.add_argument("--size", default="1600x960", metavar="WxH", help="window size in pixels (default 1600x960)")
    p.set_defaults(run=run)


def _size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise ConfigError(f"--size must look like 1600x960, not {text!r}") from None
    if not (400 <= w <= 8000 and 300 <= h <= 8000):
        raise ConfigError(f"--size {text} is out of range: use 400x300 to 8000x8000")
    return w, h


def _check_out(path: Path) -> None:
    if path.suffix.lower() not in (".png", ".jpg", ".jpeg"):
        raise ConfigError(f"{path} must end in .png or .jpg")
    if not path.parent.is_dir():
        raise ResvizError(f"cannot write {path}: the folder {path.parent} does not exist")
    if not os.access(path.parent, os.W_OK):
        raise ResvizError(f"cannot write {path}: the folder {path.parent} is not writable")


def run(args: argparse.Namespace) -> int:
    out = Path(args.out).expanduser()
    _check_out(out)
    size = _size(args.size)
    if args.seconds < 0:
        raise ConfigError(f"--seconds must be 0 or more, not {args.seconds}")
    if args.train:
        from ..core.archs import parse_arch

        parse_arch(args.train)  # a bad name fails now, not after torch has loaded
    folders = [Path(f).expanduser() for f in args.open]
    for folder in folders:
        if not (folder / "config.json").is_file():
            raise ResvizError(f"{folder} is not a run folder (no config.json); pass folders made by resviz train")
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    with tempfile.TemporaryDirectory(prefix="resviz-shot-") as tmp:
        return _shoot(args, out, size, folders, Path(tmp))


def _shoot(args: argparse.Namespace, out: Path, size: tuple[int, int], folders: list[Path], tmp: Path) -> int:
    from ..gui import settings

    settings.use_private_settings(tmp / "settings")  # reproducible: never the user's layout
    os.environ.setdefault("RESVIZ_RUNS_DIR", str(tmp / "runs"))
    _quiet_offscreen_notice()
    from ..gui.app import create_window, make_app

    app = make_app()
    window = create_window()
    window.set_theme(args.theme)
    window.resize(*size)
    window.show()
    window.engine.start()
    _wait(app, lambda: window.engine.is_ready or window.engine.error is not None, 180.0)
    if window.engine.error:
        raise ResvizError(window.engine.error)
    for folder in folders:
        window.open_run_folder(folder)
    if args.train:
        controls = window.train_tab.controls
        arch = args.train.strip().lower()
        configs = [controls.base_config(arch=arch)]
        if args.compare:
            twin = arch.replace("resnet", "plain") if arch.startswith("resnet") else arch.replace("plain", "resnet")
            configs.insert(0, controls.base_config(arch=twin))
        window.session.enqueue([replace(c, iters=args.iters) for c in configs])
    _wait(app, lambda: False, args.seconds if args.train else 1.0)
    from ..gui.plots.redraw import redraw_queue

    redraw_queue().flush_all()  # panels still waiting for their turn draw now
    app.processEvents()
    if not window.grab().save(str(out)):
        raise ResvizError(f"cannot write {out}: Qt could not save the image there")
    window.close()
    print(f"resviz: wrote {out} ({size[0]}x{size[1]})")
    return 0


def _wait(app, done, seconds: float) -> None:
    """Run the event loop until ``done()`` or ``seconds`` have passed."""
    import time

    from PySide6 import QtCore

    end = time.monotonic() + seconds
    while not done() and time.monotonic() < end:
        app.processEvents(QtCore.QEventLoop.ProcessEventsFlag.AllEvents, 50)
        time.sleep(0.01)


def _quiet_offscreen_notice() -> None:
    """Drop the offscreen platform's one harmless notice; pass every other message on."""
    from PySide6 import QtCore

    previous = None

    def handler(mode, context, message):
        if message.startswith("This plugin does not support propagateSizeHints"):
            return
        if previous is not None:
            previous(mode, context, message)
        else:
            import sys

            sys.stderr.write(message + "\n")

    previous = QtCore.qInstallMessageHandler(handler)
