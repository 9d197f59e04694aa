"""A started node takes its start-up objects out of the garbage collector's walks (server.settle_collector).

In a fresh interpreter, so that the test process's own collector is left as it was."""

from __future__ import annotations

import json
import subprocess
import sys

from microq.server import GC_YOUNG_THRESHOLD

_PROBE = """
import gc, json
import microq.app, microq.server
before = len(gc.get_objects())
microq.server.settle_collector()
left = len(gc.get_objects())
class Cycle:
    pass
a, b = Cycle(), Cycle()
a.other, b.other = b, a
del a, b
print(json.dumps({"before": before, "frozen": gc.get_freeze_count(), "left": left,
                  "threshold": gc.get_threshold(), "collected": gc.collect(), "enabled": gc.isenabled()}))
"""


def test_start_up_objects_are_frozen_and_garbage_made_afterwards_is_still_collected():
    out = json.loads(subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True,
                                    check=True, timeout=60).stdout)
    assert out["frozen"] >= out["before"] // 2 and out["left"] < out["before"] // 10, out
    assert out["threshold"][0] == GC_YOUNG_THRESHOLD and out["enabled"], out
    assert out["collected"] >= 2, out  # the cycle made after the freeze is found and freed
