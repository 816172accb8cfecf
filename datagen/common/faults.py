"""A test-only fault hook: stop the process with SIGKILL at a named point, so kill tests are exact.

`DATAGEN_TEST_KILL_AT=<point>` (or `<point>:<n>`, the n-th time the point is reached) makes
`kill_point(<point>)` send SIGKILL to this very process there. Unset (always, outside tests), a
point costs one dictionary lookup. The points sit where a kill would be most harmful: between
reading a file and rewriting it, between the files of one output set, before a temp file is
renamed into place. Tests use it to prove that a kill at any of those instants leaves either the
old file or the new one (tests/engine/test_kill_points.py).
"""

from __future__ import annotations

import os
import signal

KILL_ENV = "DATAGEN_TEST_KILL_AT"
_reached: dict[str, int] = {}


def kill_point(name: str) -> None:
    """SIGKILL this process if `$DATAGEN_TEST_KILL_AT` names this point (and its count is reached)."""
    want = os.environ.get(KILL_ENV)
    if not want:
        return
    point, _, nth = want.rpartition(":")
    if not nth.isdigit():
        point, nth = want, "1"
    if point != name:
        return
    _reached[name] = _reached.get(name, 0) + 1
    if _reached[name] >= int(nth):
        os.kill(os.getpid(), signal.SIGKILL)
