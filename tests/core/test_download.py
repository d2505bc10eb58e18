"""resviz.core.download against a real HTTP server on 127.0.0.1 (the standard library's, in a thread)."""

from __future__ import annotations

import hashlib
import http.server
import os
import socket
import threading
import time
from pathlib import Path

import pytest

from resviz.core import download
from resviz.core.download import DownloadCancelled, DownloadError, RemoteFile, fetch, hub_cache_dir

BODY = bytes(range(256)) * 1000  # 256,000 bytes
SHA = hashlib.sha256(BODY).hexdigest()


class _Handler(http.server.BaseHTTPRequestHandler):
    """Serves BODY at /good (with Range), /norange (ignores Range), /truncated (half, then
    hangs up), /corrupt (other bytes), /slow (a chunk every 50 ms); anything else is 404."""

    protocol_version = "HTTP/1.1"
    requests: list[tuple[str, str | None]] = []

    def log_message(self, *args):  # keep the test output clean
        pass

    def do_GET(self):
        rng = self.headers.get("Range")
        type(self).requests.append((self.path, rng))
        if self.path == "/corrupt":
            return self._send(200, b"x" + BODY[1:])
        if self.path == "/good" and rng:
            start = int(rng.removeprefix("bytes=").rstrip("-"))
            if start >= len(BODY):
                return self._send(416, b"")
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(BODY) - 1}/{len(BODY)}")
            self.send_header("Content-Length", str(len(BODY) - start))
            self.end_headers()
            self.wfile.write(BODY[start:])
            return None
        if self.path in ("/good", "/norange"):
            return self._send(200, BODY)
        if self.path == "/nolength":  # the length is known only when the server hangs up
            self.send_response(200)
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(BODY)
            self.close_connection = True
            return None
        if self.path == "/truncated":
            self.send_response(200)
            self.send_header("Content-Length", str(len(BODY)))
            self.end_headers()
            self.wfile.write(BODY[: len(BODY) // 2])
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True
            return None
        if self.path == "/slow":
            self.send_response(200)
            self.send_header("Content-Length", str(len(BODY)))
            self.end_headers()
            try:
                for i in range(0, len(BODY), 1000):
                    self.wfile.write(BODY[i : i + 1000])
                    self.wfile.flush()
                    time.sleep(0.05)
            except (BrokenPipeError, ConnectionResetError):
                pass
            return None
        return self._send(404, b"not here")

    def _send(self, code: int, body: bytes):
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def server():
    _Handler.requests = []
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
    thread.join(5)


def _remote(base: str, path: str, sha: str = SHA) -> RemoteFile:
    return RemoteFile(f"{base}{path}", "weights-0123abcd.pth", sha)


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_a_good_download_lands_verified_with_progress(server, tmp_path):
    seen: list[tuple[int, int | None]] = []
    path = fetch(_remote(server, "/good"), tmp_path, progress=lambda d, t: seen.append((d, t)))
    assert path == tmp_path / "weights-0123abcd.pth"
    assert path.read_bytes() == BODY
    assert _leftovers(tmp_path) == ["weights-0123abcd.pth"]  # no .part left
    assert seen[0] == (0, len(BODY)) and seen[-1] == (len(BODY), len(BODY))
    assert all(a[0] <= b[0] for a, b in zip(seen, seen[1:], strict=False))
    # A second fetch uses the cache: no request.
    n = len(_Handler.requests)
    assert fetch(_remote(server, "/good"), tmp_path) == path and len(_Handler.requests) == n


def test_the_published_hash_prefix_is_enough(server, tmp_path):
    assert fetch(_remote(server, "/good", SHA[:8]), tmp_path).read_bytes() == BODY


def test_a_hash_mismatch_is_deleted_and_refused(server, tmp_path):
    with pytest.raises(DownloadError) as e:
        fetch(_remote(server, "/corrupt"), tmp_path)
    msg = str(e.value)
    assert "does not match its published SHA-256" in msg and "deleted" in msg and SHA[:8] in msg
    assert "\n" not in msg
    assert _leftovers(tmp_path) == []


def test_a_cached_file_whose_hash_differs_is_refused_and_kept(tmp_path):
    (tmp_path / "weights-0123abcd.pth").write_bytes(b"x" + BODY[1:])
    with pytest.raises(DownloadError, match=r"does not match its published SHA-256.*not loaded"):
        fetch(RemoteFile("http://127.0.0.1:9/none", "weights-0123abcd.pth", SHA), tmp_path, offline=True)
    assert _leftovers(tmp_path) == ["weights-0123abcd.pth"]  # the user's file: not ours to delete


def test_a_truncated_connection_leaves_a_part_that_the_next_attempt_resumes(server, tmp_path):
    with pytest.raises(DownloadError, match=r"closed after 125 KiB of 250 KiB.*run it again to resume") as e:
        fetch(_remote(server, "/truncated"), tmp_path)
    assert "\n" not in str(e.value)
    part = tmp_path / ".weights-0123abcd.pth.part"
    assert _leftovers(tmp_path) == [part.name] and part.stat().st_size == len(BODY) // 2
    # The same file from a server that honours Range: only the rest is asked for.
    path = fetch(_remote(server, "/good"), tmp_path)
    assert path.read_bytes() == BODY
    assert _Handler.requests[-1] == ("/good", f"bytes={len(BODY) // 2}-")
    assert _leftovers(tmp_path) == ["weights-0123abcd.pth"]


def test_a_server_without_range_support_restarts_cleanly(server, tmp_path):
    part = tmp_path / ".weights-0123abcd.pth.part"
    part.write_bytes(b"junk that is not the start of the file")
    path = fetch(_remote(server, "/norange"), tmp_path)
    assert path.read_bytes() == BODY  # the junk was overwritten, not prepended
    assert _Handler.requests[-1][1] is not None  # it did ask for a range


def test_a_complete_part_answered_416_restarts(server, tmp_path):
    (tmp_path / ".weights-0123abcd.pth.part").write_bytes(BODY + b"extra")
    assert fetch(_remote(server, "/good"), tmp_path).read_bytes() == BODY


def test_a_404_names_the_url_and_the_folder(server, tmp_path):
    with pytest.raises(DownloadError) as e:
        fetch(_remote(server, "/missing"), tmp_path)
    msg = str(e.value)
    assert "404" in msg and f"{server}/missing" in msg and f"put it in {tmp_path}" in msg
    assert _leftovers(tmp_path) == []


def test_cancel_stops_a_slow_download_and_keeps_the_part(server, tmp_path):
    stop = threading.Event()
    done: list[int] = []

    def progress(n, total):
        done.append(n)
        if n >= 3000:
            stop.set()

    t0 = time.monotonic()
    with pytest.raises(DownloadCancelled, match="cancelled"):
        fetch(_remote(server, "/slow"), tmp_path, progress=progress, cancel=stop)
    assert time.monotonic() - t0 < 5  # the whole file would take 12.8 s
    assert not (tmp_path / "weights-0123abcd.pth").exists()
    assert 3000 <= (tmp_path / ".weights-0123abcd.pth.part").stat().st_size < len(BODY)


def test_a_callable_cancels_too(server, tmp_path):
    with pytest.raises(DownloadCancelled):
        fetch(_remote(server, "/good"), tmp_path, cancel=lambda: True)
    assert _leftovers(tmp_path) == []  # cancelled before the first byte: nothing written


def test_a_stalled_server_times_out(server, tmp_path):
    with pytest.raises(DownloadError, match=r"stopped after .*timed out.*resume"):
        fetch(_remote(server, "/slow"), tmp_path, timeout=0.01)


def test_offline_flag_and_refused_connection_say_where_to_put_the_file(tmp_path):
    folder = tmp_path / "cache"
    remote = RemoteFile("https://example.invalid/w/weights-0123abcd.pth", "weights-0123abcd.pth", SHA)
    with pytest.raises(DownloadError) as e:
        fetch(remote, folder, offline=True)
    msg = str(e.value)
    assert "--offline" in msg and remote.url in msg and f"put it in {folder}" in msg and "\n" not in msg
    assert not folder.exists()  # nothing created
    # A port nobody listens on: the connection is refused.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    refused = RemoteFile(f"http://127.0.0.1:{port}/x", "weights-0123abcd.pth", SHA)
    with pytest.raises(DownloadError, match=r"cannot reach .*refused.*put it in"):
        fetch(refused, folder)
    assert _leftovers(folder) == []


def test_a_file_over_the_size_limit_is_refused_before_and_while_it_arrives(server, tmp_path):
    with pytest.raises(DownloadError, match="is 250 KiB, more than the 1000 bytes"):
        fetch(_remote(server, "/good"), tmp_path, limit=1000)
    assert _leftovers(tmp_path) == []
    # No Content-Length: counted as the bytes arrive, and deleted.
    with pytest.raises(DownloadError, match="sent more than the 1000 bytes.*deleted"):
        fetch(_remote(server, "/nolength"), tmp_path, limit=1000)
    assert _leftovers(tmp_path) == []
    assert fetch(_remote(server, "/nolength"), tmp_path).read_bytes() == BODY


def test_the_cache_is_torch_hubs_without_importing_torch(monkeypatch, tmp_path):
    import sys

    monkeypatch.delitem(sys.modules, "torch", raising=False)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "th"))
    assert hub_cache_dir() == tmp_path / "th" / "hub" / "checkpoints"
    monkeypatch.delenv("TORCH_HOME")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert hub_cache_dir() == tmp_path / "xdg" / "torch" / "hub" / "checkpoints"


def test_the_cache_follows_torch_hub_when_torch_is_loaded(monkeypatch, tmp_path):
    import torch

    monkeypatch.setattr(torch.hub, "_hub_dir", str(tmp_path / "hub"))
    assert hub_cache_dir() == Path(torch.hub.get_dir()) / "checkpoints" == tmp_path / "hub" / "checkpoints"


def test_bad_entries_are_refused():
    with pytest.raises(ValueError, match="hex"):
        RemoteFile("http://x/y", "y", "1234")
    with pytest.raises(ValueError, match="plain file name"):
        RemoteFile("http://x/y", "../y", SHA)
    assert download.DEFAULT_TIMEOUT > 0


def _hold_part_lock(folder: Path):
    """Another process downloading weights-0123abcd.pth: its .part, locked (flock locks an
    open file description, so a second open in this process contends like another process)."""
    import fcntl

    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder / ".weights-0123abcd.pth.part", os.O_RDWR | os.O_CREAT, 0o644)
    fcntl.flock(fd, fcntl.LOCK_EX)
    os.write(fd, BODY[:1000])  # its first bytes
    return fd


def test_a_fetch_waits_for_another_process_and_takes_the_file_it_verified(server, tmp_path):
    fd = _hold_part_lock(tmp_path)
    got: list = []
    thread = threading.Thread(target=lambda: got.append(fetch(_remote(server, "/good"), tmp_path)))
    thread.start()
    time.sleep(0.5)
    assert thread.is_alive() and got == []  # waiting: not appending to the other's .part
    assert _Handler.requests == []  # and not downloading a second copy
    # the other process finishes: its .part, complete, becomes the file
    os.ftruncate(fd, 0)
    os.pwrite(fd, BODY, 0)
    os.replace(tmp_path / ".weights-0123abcd.pth.part", tmp_path / "weights-0123abcd.pth")
    os.close(fd)
    thread.join(10)
    assert got == [tmp_path / "weights-0123abcd.pth"] and got[0].read_bytes() == BODY
    assert _Handler.requests == []  # the file the other verified, not a download of its own
    assert _leftovers(tmp_path) == ["weights-0123abcd.pth"]  # no .part made for waiting


def test_a_fetch_waiting_for_another_process_can_be_cancelled(server, tmp_path):
    fd = _hold_part_lock(tmp_path)
    try:
        stop = threading.Event()
        threading.Timer(0.3, stop.set).start()
        t0 = time.monotonic()
        with pytest.raises(DownloadCancelled):
            fetch(_remote(server, "/good"), tmp_path, cancel=stop)
        assert time.monotonic() - t0 < 5
        assert (tmp_path / ".weights-0123abcd.pth.part").stat().st_size == 1000  # the other's, untouched
    finally:
        os.close(fd)


def test_a_fetch_after_a_failed_one_downloads_afresh(server, tmp_path):
    """The other process's download failed its hash and was deleted: the waiter locks a new
    .part and downloads itself."""
    fd = _hold_part_lock(tmp_path)
    got: list = []
    thread = threading.Thread(target=lambda: got.append(fetch(_remote(server, "/good"), tmp_path)))
    thread.start()
    time.sleep(0.3)
    (tmp_path / ".weights-0123abcd.pth.part").unlink()  # refused by its hash, deleted
    os.close(fd)
    thread.join(10)
    assert got and got[0].read_bytes() == BODY
    assert [p for p, _ in _Handler.requests] == ["/good"]
    assert _leftovers(tmp_path) == ["weights-0123abcd.pth"]
