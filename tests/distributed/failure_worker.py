"""Run under mpiexec by test_distributed.py: a rank that dies or never arrives.

``timeout``: rank 1 leaves without taking part; rank 0's all_reduce must raise
DistBackendError once the group's 2 s timeout passes (run with mpiexec's
-disable-auto-cleanup, so that rank 0 lives on to see it). ``crash``: rank 1 raises while
rank 0 waits in a collective with the default 30-minute timeout: mpiexec must end the job
at once with a non-zero status."""
import datetime
import os
import sys
import time

import ember
import ember.distributed as dist

mode = sys.argv[1]
timeout = datetime.timedelta(seconds=2 if mode == "timeout" else 1800)
dist.init_process_group("gloo", timeout=timeout)
rank = dist.get_rank()
if rank == 1:
    if mode == "timeout":
        sys.stdout.flush()
        os._exit(3)
    raise RuntimeError("rank 1 fails on purpose")
start = time.monotonic()
try:
    dist.all_reduce(ember.ones(4))
except dist.DistBackendError as e:
    print(f"rank {rank} raised after {time.monotonic() - start:.1f} s: {e}", flush=True)
    sys.exit(0)
print(f"rank {rank} finished all_reduce without its peer", flush=True)
