"""Parse workers die with the process that started them, however it ends (`kill -9` too).

On Linux the kernel does it: each worker asks for SIGKILL when its parent goes
(PR_SET_PDEATHSIG), and so does the multiprocessing forkserver, whose children the workers are
when the indexing process runs threads. Elsewhere, and as a second line, a worker's watchdog
thread exits it once its parent pid is no longer its parent.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import os
import signal
import sys
import threading
import time

_PR_SET_PDEATHSIG = 1


def _kill_me_with_my_parent() -> None:
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def guard_forkserver() -> None:
    """In the forkserver: no thread (it forks), the kernel's signal only."""
    _kill_me_with_my_parent()


def guard_worker(parent: int) -> None:
    """A pool initializer: `parent` is the pid that started the pool. A forked worker inherits
    the parent's paused collector (updater._collector_paused): it collects again."""
    gc.enable()
    _kill_me_with_my_parent()
    if not _alive(parent):
        os._exit(1)  # gone before we got here
    watch = threading.Thread(
        target=_watch, args=(os.getppid(), parent), daemon=True, name="orphan-watch"
    )
    watch.start()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _watch(direct: int, starter: int) -> None:
    """Exit once the direct parent (the starter, or the forkserver) or the starter is gone."""
    while True:
        time.sleep(0.5)
        if os.getppid() != direct or not _alive(starter):
            os._exit(1)
