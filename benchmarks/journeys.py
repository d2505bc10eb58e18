"""The three journeys resviz exists for, as a person makes them, in a real X window (issue 19).

(a) train the default plain + residual pair, press Ctrl+K while they train, switch theme,
    export the plots; (b) inspect the finished run: Load its checkpoint, open an image,
    look at the levels and at what a channel sees; (c) quit, relaunch, find the runs.

The app runs under Xvfb on the display you pass (``--display :64``), driven by xdotool
through its keys and menus (XTEST events, as a keyboard sends them), with its own settings
and runs folder under ``OUT``; a screenshot of the whole screen is saved at every step as
``OUT/NN-step.png`` and listed in ``OUT/journeys.json``. ``OUT`` must be outside the
repository (screenshots of a session are not committed). Look at every screenshot.

    python benchmarks/journeys.py --display :64 --out /tmp/journeys [--size 1600x1000] [--iters 200]

Needs Xvfb, xdotool and imagemagick's ``import`` (the project's machines have them).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TITLE = "resviz — deep residual learning"


class Journey:
    """One X display, one app process at a time, numbered screenshots."""

    def __init__(self, display: str, out: Path, size: str) -> None:
        self.display, self.out, self.size = display, out, size
        self.env = dict(os.environ)
        self.env.update(
            DISPLAY=display,
            QT_QPA_PLATFORM="xcb",
            XDG_CONFIG_HOME=str(out / "config"),
            XDG_DATA_HOME=str(out / "data"),
            RESVIZ_RUNS_DIR=str(out / "runs"),
            OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "1"),
            PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""),
        )
        self.env.pop("QT_QPA_PLATFORMTHEME", None)
        self.shots: list[dict] = []
        self.xvfb: subprocess.Popen | None = None
        self.app: subprocess.Popen | None = None
        self.window: str | None = None

    # -- the display and the app --------------------------------------------------------------

    def start_display(self) -> None:
        self.xvfb = subprocess.Popen(
            ["Xvfb", self.display, "-screen", "0", f"{self.size}x24", "-nolisten", "tcp"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(1.5)
        if self.xvfb.poll() is not None:
            raise SystemExit(f"Xvfb could not start on {self.display} (is the display taken?)")

    def launch(self) -> None:
        log = open(self.out / f"app-{len(self.shots):02d}.log", "w")  # noqa: SIM115 (kept while the app runs)
        self.app = subprocess.Popen(
            [sys.executable, "-m", "resviz"], env=self.env, stdout=log, stderr=subprocess.STDOUT, cwd=self.out
        )
        self.window = None
        end = time.time() + 60
        while time.time() < end and self.window is None:
            time.sleep(1)
            found = self.xdo("search", "--name", TITLE, check=False).split()
            self.window = found[0] if found else None
        if self.window is None:
            raise SystemExit("the window did not appear within 60 s; see the app log in OUT")
        self.xdo("windowmove", self.window, "0", "0", check=False)
        self.focus()
        time.sleep(15)  # torch loads in the background; Start is enabled once it has

    def focus(self) -> None:
        self.xdo("windowfocus", "--sync", self.window, check=False)

    def close_dialog(self, title: str) -> None:
        """Escape in the window called ``title`` (no window manager gives a dialog the keys)."""
        found = self.xdo("search", "--name", title, check=False).split()
        if found:
            self.xdo("windowfocus", "--sync", found[-1], check=False)
            self.key("Escape")
        self.focus()

    def quit(self) -> None:
        self.focus()
        self.key("ctrl+q")
        try:
            self.app.wait(40)
        except subprocess.TimeoutExpired:
            self.app.send_signal(signal.SIGTERM)
            self.app.wait(10)

    def stop(self) -> None:
        for proc in (self.app, self.xvfb):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()

    # -- input and output ---------------------------------------------------------------------

    def xdo(self, *args: str, check: bool = True) -> str:
        done = subprocess.run(["xdotool", *args], env=self.env, capture_output=True, text=True)
        if check and done.returncode:
            raise SystemExit(f"xdotool {' '.join(args)}: {done.stderr.strip()}")
        return done.stdout

    def key(self, *keys: str, pause: float = 0.6) -> None:
        for k in keys:
            self.xdo("key", k)
            time.sleep(pause)

    def type(self, text: str) -> None:
        self.xdo("type", "--delay", "20", text)
        time.sleep(0.4)

    def click(self, x: int, y: int) -> None:
        self.xdo("mousemove", str(x), str(y))
        time.sleep(0.2)
        self.xdo("click", "1")
        time.sleep(0.8)

    def shot(self, name: str, note: str) -> Path:
        path = self.out / f"{len(self.shots):02d}-{name}.png"
        subprocess.run(["import", "-window", "root", str(path)], env=self.env, check=True)
        self.shots.append({"file": path.name, "step": note, "t": round(time.time(), 1)})
        print(f"{path.name}: {note}", flush=True)
        return path

    def file_dialog(self, path: Path | str, title: str) -> None:
        """Type a path into the Qt file dialog called ``title`` that has just opened, and
        accept it. A first Return may only take the completer's suggestion: while the dialog
        is still there, Return again."""
        time.sleep(2)
        self.key("ctrl+a", pause=0.2)
        self.type(str(path))
        for _ in range(3):
            self.key("Return", pause=1.5)
            if not self.xdo("search", "--onlyvisible", "--name", title, check=False).split():
                break
        time.sleep(1)


def runs_status(root: Path) -> dict[str, str]:
    """Every run folder under ``root`` -> its status.json's status."""
    out = {}
    for status in root.rglob("status.json"):
        try:
            out[status.parent.name] = json.loads(status.read_text()).get("status", "?")
        except (OSError, ValueError):
            out[status.parent.name] = "?"
    return out


def wait_for(what, seconds: float, every: float = 2.0) -> bool:
    end = time.time() + seconds
    while time.time() < end:
        if what():
            return True
        time.sleep(every)
    return False


def write_digit(path: Path) -> None:
    """A test digit as a PNG, scaled up as a person's image would be."""
    from PySide6 import QtGui

    sys.path.insert(0, str(REPO))
    from resviz.core.data import load_dataset

    digits = load_dataset("digits")
    pixels = digits.test.images[3][0]  # uint8 3 x 16 x 16, grey: one channel says it all
    h, w = pixels.shape
    image = QtGui.QImage(pixels.contiguous().numpy().tobytes(), w, h, w, QtGui.QImage.Format.Format_Grayscale8)
    image.scaled(128, 128).save(str(path))


def seed_settings(out: Path, iters: int) -> None:
    """The app's settings before its first launch: a shorter schedule than the default, so the
    journey's training ends in minutes on a busy 2-core machine: fewer iterations, batches of
    32 (everything else as shipped)."""
    conf = out / "config" / "resviz" / "resviz.conf"
    conf.parent.mkdir(parents=True, exist_ok=True)
    conf.write_text(f"[train]\niters={iters}\nbatch_size=32\neval_every={max(10, iters // 6)}\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--display", required=True, help="an X display number free for Xvfb, e.g. :64")
    parser.add_argument("--out", required=True, type=Path, help="folder for screenshots (outside the repository)")
    parser.add_argument("--size", default="1600x1000", help="screen size (default 1600x1000; try 1280x800)")
    parser.add_argument("--iters", type=int, default=150, help="training iterations of the pair (default 150)")
    args = parser.parse_args()
    out = args.out.resolve()
    if out == REPO or REPO in out.parents:
        parser.error(f"--out {out} is inside the repository; screenshots of a session are not committed")
    for tool in ("Xvfb", "xdotool", "import"):
        if shutil.which(tool) is None:
            parser.error(f"{tool} is not installed")
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    seed_settings(out, args.iters)
    image = out / "digit.png"
    write_digit(image)
    j = Journey(args.display, out, args.size)
    started = time.time()
    try:
        j.start_display()
        # (a) train the default pair, Ctrl+K while they train, a theme switch, an export
        j.launch()
        j.shot("launch", "first launch: the default comparison, nothing trained yet")
        j.key("F1", pause=1.5)
        j.shot("getting-started", "Help › Getting started (F1)")
        j.close_dialog("Getting started")
        j.key("ctrl+r")
        if not wait_for(lambda: any(s == "running" for s in runs_status(out / "runs").values()), 40):
            j.focus()
            j.key("ctrl+r")  # torch was still loading: Start was not enabled yet
            wait_for(lambda: any(s == "running" for s in runs_status(out / "runs").values()), 60)
        time.sleep(25)
        j.shot("training", "Start (Ctrl+R): plain20 and resnet20 train side by side")
        j.key("ctrl+k", pause=3)
        j.shot("ctrl-k", "Ctrl+K on the plain + residual group while it trains")
        j.key("alt+v", "i", pause=2)  # View › Light theme, while training
        j.shot("light-theme", "View › Light theme switched while training")
        j.key("alt+v", "d", pause=2)
        finished = wait_for(
            lambda: (
                (s := runs_status(out / "runs")) and all(v in ("finished", "failed", "stopped") for v in s.values())
            ),
            900,
            5,
        )
        time.sleep(3)
        j.shot("finished", f"training ended ({'finished' if finished else 'still running after 15 min'})")
        (out / "export").mkdir()  # the folder chooser takes an existing folder
        j.key("ctrl+e")
        j.file_dialog(out / "export", "Export every plot")
        j.focus()
        time.sleep(4)
        j.shot("exported", "File › Export plots (Ctrl+E) into OUT/export")
        j.key("ctrl+shift+l", pause=3)
        j.shot("lesion-key", "Ctrl+Shift+L from the Train tab: the lesion study comes to the front")
        # (b) inspect the finished run: its checkpoint, an image, the levels, what a channel sees
        j.key("ctrl+shift+o")
        checkpoints = sorted((out / "runs").rglob("step_*.pt"))
        j.file_dialog(checkpoints[-1] if checkpoints else out / "runs", "Open a model")
        j.focus()
        time.sleep(8)
        j.shot("inspect-loaded", f"File › Open model: {checkpoints[-1].name if checkpoints else 'no checkpoint'}")
        j.key("ctrl+shift+i")
        j.file_dialog(image, "Open an image")
        j.focus()
        time.sleep(10)
        j.shot("inspect-image", "File › Open image: a digit, its levels low · mid · high")
        j.key("ctrl+shift+f", pause=3)
        time.sleep(25)
        j.shot("what-a-channel-sees", "Ctrl+Shift+F: what a channel sees at each level")
        # (c) quit, relaunch, find the runs
        j.quit()
        j.launch()
        j.shot("relaunch", "after a restart: the runs list")
        j.key("alt+h", "k", pause=2)  # Help › Keyboard shortcuts
        j.shot("shortcuts", "Help › Keyboard shortcuts")
        j.close_dialog("Keyboard shortcuts")
        j.quit()
    finally:
        j.stop()
        (out / "journeys.json").write_text(
            json.dumps({"size": args.size, "seconds": round(time.time() - started), "shots": j.shots}, indent=2)
        )
    print(json.dumps({"out": str(out), "shots": len(j.shots), "seconds": round(time.time() - started)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
