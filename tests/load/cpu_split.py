"""Where the CPU goes: hookguard, PostgreSQL and h2load, per request.

  .venv/bin/python tests/load/cpu_split.py [hookguard-server flags...]

Runs AuthorizeWebhook (2 KB, 4x16 streams, 5 s) against PostgreSQL and reads
the CPU time (utime + stime from /proc) of the server, of every process of
the postgres user, and of h2load, divided by the requests answered.
"""
import os
import subprocess
import sys
import tempfile
import time

import loadlib
from pathlib import Path
def ticks(pids):
    t=0
    for p in pids:
        try:
            f=open(f'/proc/{p}/stat').read().rsplit(')',1)[1].split()
            t+=int(f[11])+int(f[12])
        except FileNotFoundError: pass
    return t
def pg_pids():
    return [int(x) for x in subprocess.run(['pgrep','-u','postgres'],capture_output=True,text=True).stdout.split()]
extra = sys.argv[1:]
pg = loadlib.start_postgres_with_fixtures()
try:
    s = loadlib.hookguard(pg.soci, args=extra)
    with s:
        loadlib.wait_serving(s.target)
        pb, _ = loadlib.proto_modules()
        body = loadlib.vapi_body('call_alice_1', 2048)
        frame = Path(tempfile.mkdtemp()) / 'aw.bin'
        frame.write_bytes(loadlib.grpc_frame(pb.AuthorizeWebhookRequest(
            request=pb.HttpRequest(body=body, headers={'x-vapi-signature': loadlib.sign(body)}),
            expected_owner_id='1')))
        loadlib.h2load('w', s.port, 'AuthorizeWebhook', frame, clients=4, streams=16, seconds=1)
        a0, p0, w0 = ticks([s.proc.pid]), ticks(pg_pids()), time.time()
        cpu0 = os.times()
        r = loadlib.h2load('x', s.port, 'AuthorizeWebhook', frame, clients=4, streams=16, seconds=5, warmup=0.01)
        a1, p1, w1 = ticks([s.proc.pid]), ticks(pg_pids()), time.time()
        cpu1 = os.times()
        hz = os.sysconf('SC_CLK_TCK')
        n = r.requests + 1
        h2 = (cpu1.children_user + cpu1.children_system - cpu0.children_user - cpu0.children_system)
        print(f'{r.rps:.0f} req/s; CPU per request: hookguard {(a1-a0)/hz/n*1e6:.0f} us, postgres {(p1-p0)/hz/n*1e6:.0f} us, h2load {h2/n*1e6:.0f} us; wall {w1-w0:.1f}s')
finally:
    pg.__exit__(None,None,None)
