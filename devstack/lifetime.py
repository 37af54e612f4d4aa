"""Tie a process's life to its parent's, so no part of the local stack outlives whoever started it.

Invariants:

- On Linux, :func:`die_with_parent` asks the kernel (``prctl(PR_SET_PDEATHSIG, SIGTERM)``) to send
  this process SIGTERM when its parent exits, however the parent exits (SIGKILL included) and whether
  or not the parent forwards signals to its children. The kernel watches the parent *thread* that
  started the process: start children from a thread that lives as long as the parent (the main one).
- A parent that died before the request was made cannot be watched any more; the caller learns it
  from the return value and should stop at once. Elsewhere than Linux only that check is made.
- The request survives ``exec`` (of anything but set-user-ID programs) and is not inherited by
  children: each process that should die with its parent asks for itself.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys

PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def die_with_parent(expected_parent_pid: int) -> bool:
    """Ask for SIGTERM when the parent dies; False if ``expected_parent_pid`` is no longer our parent."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
    # Checked after the request, so a parent dying in between is noticed here or signals us later.
    return os.getppid() == expected_parent_pid
