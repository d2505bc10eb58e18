"""``resviz screenshot OUT.png``: the main window rendered offscreen, optionally mid-training,
or on its Inspect tab with a model and an image (``--inspect``), optionally after surgery
(``--surgery``), with what each channel sees (``--features``), a channel's neuron view
(``--channel``), or on the Landscape tab after a sweep (``--landscape``).

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
from ._numbers import finite_float


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "screenshot",
        help="render the app's window offscreen (optionally while training) and save it as an image",
        description=(
            "Render the main window without a display and save it. With --train, a run starts and "
            "trains for --seconds first; with --open, run folders are shown as they are on disk. "
            "With --inspect, the Inspect tab shows a model (--checkpoint, else the trained or opened "
            "run) looking at an image, optionally after a lesion study (--lesion N)."
        ),
    )
    p.add_argument("out", metavar="OUT.png", help="image file to write (.png or .jpg)")
    p.add_argument("--train", metavar="ARCH", help="train this net first, e.g. resnet20 or plain20")
    p.add_argument(
        "--compare", action="store_true", help="with --train, also train the twin of the same depth (plain vs residual)"
    )
    p.add_argument("--seconds", type=finite_float, default=20.0, help="how long to train before the shot (default 20)")
    p.add_argument("--iters", type=int, default=400, help="iterations of the --train run (default 400)")
    p.add_argument(
        "--open", metavar="RUN_DIR", nargs="+", default=[], help="run folders (or experiment folders) to show"
    )
    p.add_argument(
        "--inspect",
        metavar="IMAGE",
        nargs="?",
        const="",
        default=None,
        help="show the Inspect tab with this image, or a sample photograph (sample:chelsea) "
        "(no IMAGE: a test image of the gallery, see --gallery)",
    )
    p.add_argument(
        "--checkpoint",
        metavar="C",
        help="the model for the Inspect tab: a checkpoint, weights file, run folder or torchvision weights "
        "name (default: the --train run once trained, else the first --open folder)",
    )
    p.add_argument(
        "--gallery", type=int, default=0, metavar="N", help="which gallery test image --inspect shows (default 0)"
    )
    p.add_argument("--method", default="gradcam", metavar="M", help="the attribution method shown (default gradcam)")
    p.add_argument(
        "--lesion", type=int, metavar="N", help="with --inspect, run the lesion study on N test images first"
    )
    p.add_argument(
        "--surgery",
        metavar="SWITCHES",
        help="with --inspect, switch blocks first: S2 turns block 2's shortcut off, F1 deletes block 1's "
        "residual branch; comma-separated (the attributions then show before and after)",
    )
    p.add_argument(
        "--features",
        type=int,
        metavar="N",
        help="with --inspect, show what each channel sees, from a pass over N test images",
    )
    p.add_argument(
        "--channel",
        metavar="LEVEL:C",
        help="with --inspect, pick channel C of a level (low, mid, high) for the neuron view; with "
        "--features, enlarged in the feature grid",
    )
    p.add_argument(
        "--landscape",
        choices=("net", "twin"),
        help="show the Landscape tab after sweeping the net (twin: and its twin from the same comparison)",
    )
    p.add_argument(
        "--landscape-dims", type=int, default=2, metavar="1|2", help="the --landscape sweep's directions (default 2)"
    )
    p.add_argument(
        "--landscape-grid", type=int, default=11, metavar="G", help="points per axis of --landscape (default 11)"
    )
    p.add_argument(
        "--landscape-images",
        type=int,
        default=200,
        metavar="N",
        help="training images per point of --landscape (default 200)",
    )
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


def _check_inspect(args: argparse.Namespace, folders: list[Path]) -> None:
    """Fail now, before torch loads, on Inspect options that cannot work."""
    from ..core.inspect.methods import method_spec
    from ..core.samples import is_sample_name, sample_path

    method_spec(args.method)
    needs_tab = (args.lesion, args.surgery, args.features, args.channel, args.landscape)
    if args.inspect is None and args.checkpoint is None and all(v is None for v in needs_tab):
        return
    if args.inspect is None:
        args.inspect = ""  # --checkpoint or --lesion alone: show the tab with a gallery image
    if args.checkpoint is None and not args.train and not folders:
        raise ConfigError("--inspect needs a model: give --checkpoint C, or --train ARCH, or --open RUN_DIR")
    if args.inspect and is_sample_name(args.inspect):
        args.inspect = str(sample_path(args.inspect))  # sample:chelsea, scikit-image's photograph (issue #20)
    if args.inspect and not Path(args.inspect).expanduser().is_file():
        raise ResvizError(f"--inspect {args.inspect}: no such image file")
    if args.gallery < 0:
        raise ConfigError(f"--gallery must be 0 or more, not {args.gallery}")
    if args.lesion is not None and args.lesion < 1:
        raise ConfigError(f"--lesion must be at least 1 test image, not {args.lesion}")
    if args.features is not None and args.features < 10:
        raise ConfigError(f"--features must be at least 10 test images, not {args.features}")
    args.switches = _switches(args.surgery)
    args.picked = _channel(args.channel)
    if args.landscape_dims not in (1, 2):
        raise ConfigError(f"--landscape-dims must be 1 or 2, not {args.landscape_dims}")
    if not 3 <= args.landscape_grid <= 51:
        raise ConfigError(f"--landscape-grid must be 3 to 51 points, not {args.landscape_grid}")
    if not 10 <= args.landscape_images <= 50_000:
        raise ConfigError(f"--landscape-images must be 10 to 50,000, not {args.landscape_images}")


def _switches(text: str | None) -> list[tuple[str, int]]:
    """``S2,F1`` -> [("S", 2), ("F", 1)]: which switch of which block to turn off."""
    out = []
    for part in [p.strip() for p in (text or "").split(",") if p.strip()]:
        kind, number = part[:1].upper(), part[1:]
        if kind not in ("S", "F") or not number.isdigit():
            raise ConfigError(
                f"--surgery {text}: write S<block> (shortcut off) or F<block> (residual branch "
                f"deleted), comma-separated, not {part!r}"
            )
        out.append((kind, int(number)))
    return out


def _channel(text: str | None) -> tuple[str, int] | None:
    """``mid:3`` -> ("mid", 3)."""
    if text is None:
        return None
    level, _, number = text.partition(":")
    if level not in ("low", "mid", "high") or not number.isdigit():
        raise ConfigError(f"--channel must look like mid:3 (a level: low, mid or high, and a channel), not {text!r}")
    return level, int(number)


def run(args: argparse.Namespace) -> int:
    from ..core.outputs import check_output
    from ..core.runs.reader import RunReader

    out = Path(args.out).expanduser()
    _check_out(out)
    # Never into a run folder nor over the image, weights or folders shown (issue #9).
    check_output(out, inputs=[args.inspect or None, args.checkpoint, *args.open], what="screenshot")
    size = _size(args.size)
    if args.seconds < 0:
        raise ConfigError(f"--seconds must be 0 or more, not {args.seconds}")
    if args.train:
        from ..core.archs import parse_arch

        parse_arch(args.train)  # a bad name fails now, not after torch has loaded
    from ..core.runs.reader import check_run_folder, experiment_runs
    from ..core.runs.writer import LIVE_STATUSES

    # A run folder, or an experiment's folder (one run folder per net), as File > Open takes them.
    shown, folders = [], []
    for f in args.open:
        path = Path(f).expanduser()
        runs = experiment_runs(path)
        shown.append(path if runs else check_run_folder(path))
        folders += runs or [path]
    for folder in folders:
        # A broken config.json, or a finished run whose metrics cannot be read, fails here in
        # one line, not as an empty plot in a shot that exits 0 (issue #17).
        with RunReader(folder) as reader:
            if reader.status().status not in LIVE_STATUSES:
                reader.require_metrics()
    _check_inspect(args, folders)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from ..gui.display import display_problem

    problem = display_problem()  # QT_QPA_PLATFORM=nonexistent: Qt would abort (SIGABRT, issue #17)
    if problem is not None:
        raise ResvizError(problem)
    with tempfile.TemporaryDirectory(prefix="resviz-shot-") as tmp:
        return _shoot(args, out, size, shown, folders, Path(tmp))


def _shoot(
    args: argparse.Namespace, out: Path, size: tuple[int, int], shown: list[Path], folders: list[Path], tmp: Path
) -> int:
    from ..gui import settings

    settings.use_private_settings(tmp / "settings")  # reproducible: never the user's layout
    os.environ.setdefault("RESVIZ_RUNS_DIR", str(tmp / "runs"))
    _quiet_offscreen_notice()
    from ..gui.app import create_window, make_app

    app = make_app()
    window = create_window()
    window.set_theme(args.theme)
    window.resize(*size)
    window.last_error = None
    window.show()
    window.engine.start()
    _wait(app, lambda: window.engine.is_ready or window.engine.error is not None, 180.0)
    if window.engine.error:
        raise ResvizError(window.engine.error)
    for folder in shown:
        window.open_run_folder(folder)
    trained = []
    if args.train:
        controls = window.train_tab.controls
        from ..core.archs import parse_arch

        spec = parse_arch(args.train)
        # The form shows what trains (a reader of the shot compares the two).
        if (i := controls.depth.findData(spec.depth)) >= 0:
            controls.depth.setCurrentIndex(i)
        controls.shortcuts.setChecked(not spec.plain)
        controls.compare.setChecked(args.compare)
        controls.iters.setValue(args.iters)
        configs = [controls.base_config(arch=spec.name)]
        if args.compare:
            configs.insert(0, controls.base_config(arch=spec.twin.name))
        trained = window.session.enqueue([replace(c, iters=args.iters) for c in configs])
    # The shot waits for --seconds of training, or less once the training has ended: nothing
    # changes after it (`--seconds 1e9` waited for ever, issue #17). An Inspect shot only
    # needs the run to end (or reach --seconds) to have a checkpoint.
    inspecting = args.inspect is not None
    waits_for_training = bool(args.train) or inspecting
    _wait(app, lambda: waits_for_training and not window.session.busy, args.seconds if args.train else 1.0)
    if inspecting:
        _show_inspect(app, window, args, folders)
    _check_shown(window, trained)
    from ..gui.plots.redraw import redraw_queue

    redraw_queue().flush_all()  # panels still waiting for their turn draw now
    app.processEvents()
    from ..core.outputs import atomic_output, figure_format

    # Through a temporary file, as every output (issue #17): a link at OUT is replaced.
    with atomic_output(out) as tmp:
        if not window.grab().save(str(tmp), figure_format(out).upper()):
            raise ResvizError(f"cannot write {out}: Qt could not save the image there")
    window.close()
    print(f"resviz: wrote {out} ({size[0]}x{size[1]})")
    return 0


def _check_shown(window, trained: list) -> None:
    """Refuse a shot of something that failed: the shot exits non-zero rather than saving a
    picture of an error (issue #17: a runs folder that was a file, an unreadable database).

    One rule: whatever the window reported as an error while the shot was prepared, and any
    run the shot trained that failed, is the shot's error.
    """
    failed = [run for run in trained if run.status == "failed"]
    if failed:
        raise ResvizError(f"the run {failed[0].name} failed, so the shot does not show it: {failed[0].reason}")
    if window.last_error:
        raise ResvizError(
            f"the window reported an error, so the shot does not show what was asked: {window.last_error}"
        )


def _show_inspect(app, window, args: argparse.Namespace, folders: list[Path]) -> None:
    """Bring up the Inspect tab with a model, an image and (optionally) a lesion study."""
    source = args.checkpoint
    if source is None and args.train:
        window.session.stop()  # the run writes its final checkpoint as it stops
        _wait(app, lambda: not window.session.busy, 120.0)
        source = str(window.runs.runs[-1].run_dir)
    elif source is None:
        source = str(folders[0])
    tab = window.files_tab()
    window.tabs.setCurrentWidget(tab)
    session = tab.session
    window.last_error = None
    session.set_method(args.method)
    session.load_model(source)
    _wait(app, lambda: session.loaded is not None or window.last_error is not None, 180.0)
    _wait(app, lambda: not session.busy, 60.0)
    if session.loaded is None:
        raise ResvizError(window.last_error or f"could not load {source} in time")
    if args.inspect:
        session.open_image(Path(args.inspect).expanduser())
        _wait(app, lambda: session.image is not None or window.last_error is not None, 60.0)
        if session.image is None:
            raise ResvizError(window.last_error or f"could not open {args.inspect}")
    else:
        count = tab.gallery.list.count()
        if args.gallery >= count:  # it showed the last image instead (issue #17)
            raise ResvizError(f"--gallery {args.gallery}: the gallery holds test images 0 to {count - 1}")
        tab.gallery.pick(args.gallery)
    _wait(app, lambda: session.look is not None and not session.busy, 180.0)
    if args.picked is not None and session.look is not None:
        level, channel = args.picked
        total = session.look.activations[level].total_channels
        if channel >= total:
            raise ResvizError(f"--channel {level}:{channel}: the {level} level has channels 0 to {total - 1}")
    _surgery(app, tab, args.switches)
    if args.picked is None:
        tab.activations.enlarge("mid", 0)  # a channel large, instead of "click a channel"
    else:
        session.pick_channel(*args.picked)
    if args.lesion:
        tab.views.setCurrentWidget(tab.lesion)
        tab.lesion.limit.setValue(args.lesion)
        session.run_lesion(args.lesion)
        _wait(app, lambda: not session.study.running, 600.0)
    if args.features:
        tab.views.setCurrentWidget(tab.features)
        tab.features.images.setValue(args.features)
        session.run_features(args.features, 9)
        _wait(app, lambda: not session.features.running, 600.0)
        if args.picked is not None:
            tab.features.open_channel(*args.picked)
    _wait(app, lambda: not session.busy, 120.0)
    if args.landscape:
        _show_landscape(app, window, args)
    _wait(app, lambda: False, 0.5)


def _surgery(app, tab, switches: list[tuple[str, int]]) -> None:
    """Turn the listed switches off, as clicks on the block strip do."""
    session = tab.session
    for kind, index in switches:
        if index >= len(session.blocks):
            raise ResvizError(f"--surgery: the net has blocks 0 to {len(session.blocks) - 1}, not {index}")
        (session.set_shortcut if kind == "S" else session.set_residual)(index, False)
    _wait(app, lambda: not session.busy and session.switches_changed() == len(set(switches)), 120.0)


def _show_landscape(app, window, args: argparse.Namespace) -> None:
    """The Landscape tab after a sweep of the net (and its twin)."""
    tab = next(
        window.tabs.widget(i)
        for i in range(window.tabs.count())
        if window.tabs.widget(i).objectName() == "landscape_tab"
    )
    window.tabs.setCurrentWidget(tab)
    tab.dims.setCurrentIndex(tab.dims.findData(args.landscape_dims))
    tab.grid.setValue(args.landscape_grid)
    tab.images.setValue(args.landscape_images)
    if args.landscape == "twin" and tab.twin.checkpoint is None:
        raise ResvizError(f"--landscape twin: {tab.twin.note}")
    tab.run(twin=args.landscape == "twin")
    _wait(app, lambda: not tab.study.running, 600.0)


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
