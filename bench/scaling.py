"""Training throughput (images/s) of the seed's CNN on Fashion-MNIST: one process vs two under `accelerate launch`.

Each configuration trains one epoch (60,000 images, global batch 512, Adam, fp32) with `AccelerateCB`; the
throughput is timed inside the processes around the training epoch only (process start, imports and data loading
excluded; the launch's wall time is shown separately). Run: `.venv/bin/python bench/scaling.py`.
"""
import json, os, sys, tempfile, time
from pathlib import Path

import torch
from slowai.distributed import launch

SCRIPT = '''
import json, sys, torch, torch.nn.functional as F
from slowai.core import *
from slowai.data import *
from slowai.learner import *
from slowai.callbacks import *
from slowai.models import get_kaiming_initalized_model
from slowai.fast_optimizers import Adam
from slowai.distributed import AccelerateCB

set_seed(42)
dls = fashion_mnist(bs=512, seed=42)
acb, timer = AccelerateCB(), EpochTimerCB()
learn = Learner(get_kaiming_initalized_model(), dls, F.cross_entropy, lr=1e-2, cbs=[acb, timer], opt_func=Adam)
learn.fit(1, valid=False)
if is_main_process():
    json.dump(dict(world=acb.world, secs=timer.per_epoch(), n=dls.train.n), open(sys.argv[1], 'w'))
'''

def one(tmp, name, num_processes, threads):
    script, out = tmp/'bench.py', tmp/f'{name}.json'
    script.write_text(SCRIPT)
    t0 = time.perf_counter()
    res = launch(script, out, num_processes=num_processes, threads=threads, timeout=300)
    wall = time.perf_counter() - t0
    if res.returncode != 0: sys.exit(f"{name} failed:\n{res.stderr[-3000:]}")
    r = json.loads(out.read_text())
    assert r['world'] == num_processes, r
    return dict(name=name, procs=num_processes, threads=threads, ips=r['n']/r['secs'], secs=r['secs'], wall=wall)

if __name__ == '__main__':
    print(f"torch {torch.__version__}, {os.cpu_count()} CPU cores visible, CUDA available: {torch.cuda.is_available()}")
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        rows = [one(tmp, '1 process, 1 thread', 1, 1), one(tmp, '2 processes, 1 thread each', 2, 1)]
    base = rows[0]['ips']
    print(f"{'configuration':<28} {'images/s':>9} {'vs 1x1':>7} {'epoch s':>8} {'launch wall s':>14}")
    for r in rows:
        print(f"{r['name']:<28} {r['ips']:9.0f} {r['ips']/base:6.2f}x {r['secs']:8.1f} {r['wall']:14.1f}")
    print("Note: this machine has 2 CPU cores and no GPU, and it is shared with other jobs: the 2 processes get at\n"
          "most the 2 cores (1 process uses 1); the comparison shows the overhead of data-parallel training (gradient all-reduce over\n"
          "gloo, gathering metrics), not the speed-up of adding devices. On N GPUs each process has its own device.")
