"""Training speed of the fast path: fp32, channels_last, bf16 autocast, both, and compiled, side by side in one process.

For the seed's CNN and the full-width ResNet, one `Learner` per path trains on the same random batches (256 images
of 28x28, forward, loss, backward and our `Adam` step): `TrainCB` is fp32; `MixedPrecisionCB` gives channels_last
(`torch.float32`), bf16 autocast (`to_channels_last=False`) and both; `--compile` adds both on a `torch.compile`d
model. The paths take turns, round after round, so a machine that slows down slows them all; each path's median
time per batch is divided into fp32's. Ends with `speedup: N.NNx`, the best path's ratio on the ResNet.
Torch runs one thread by default (`--threads 0` keeps torch's default).
Run: `.venv/bin/python bench/cpu_speed.py [--rounds 5] [--batches 3] [--compile] [--save nbs/bench_runs/cpu_speed.json]`.
"""
import argparse, statistics, time, warnings
import torch
import torch.nn.functional as F

from slowai.core import set_seed
from slowai.data import DataLoaders, TensorDataLoader
from slowai.learner import Learner, TrainCB
from slowai.callbacks import MixedPrecisionCB, fast_dtype
from slowai.models import get_kaiming_initalized_model
from slowai.fast_optimizers import Adam
from slowai.resnet import ResNet
import record  # bench/record.py: the script's folder is on sys.path

PATHS = {'fp32': lambda: TrainCB(), 'channels_last': lambda: MixedPrecisionCB(torch.float32),
         'bf16': lambda: MixedPrecisionCB(torch.bfloat16, to_channels_last=False), 'bf16 + channels_last': lambda: MixedPrecisionCB(torch.bfloat16)}

def learners(build, n_batches, bs, compile_):
    "One learner per path, each with the same initial weights and the same random batches"
    set_seed(0)
    x, y = torch.randn(n_batches*bs, 1, 28, 28), torch.randint(0, 10, (n_batches*bs,))
    init = build().state_dict()
    res = {}
    paths = dict(PATHS, **({'compiled, bf16 + channels_last': PATHS['bf16 + channels_last']} if compile_ else {}))
    for name, cb in paths.items():
        m = build(); m.load_state_dict(init)
        if name.startswith('compiled'): m = torch.compile(m)
        dls = DataLoaders(train=TensorDataLoader(x, y, bs=bs), valid=TensorDataLoader(x[:bs], y[:bs], bs=bs))
        res[name] = Learner(m, dls, F.cross_entropy, lr=1e-3, cbs=[cb()], opt_func=Adam)
    return res

def time_paths(learns, rounds):
    "Median seconds per training batch of each learner, the paths taking turns every round (the first round warms up)"
    times = {k: [] for k in learns}
    for r in range(rounds + 1):
        for k, learn in learns.items():
            t0 = time.perf_counter(); learn.fit(1, valid=False)
            if r: times[k].append((time.perf_counter() - t0)/len(learn.dls.train))
    return {k: statistics.median(v) for k, v in times.items()}

if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument('--rounds', type=int, default=5)
    p.add_argument('--batches', type=int, default=3, help='batches per timed epoch')
    p.add_argument('--bs', type=int, default=256)
    p.add_argument('--threads', type=int, default=1)
    p.add_argument('--compile', action='store_true', help='also time a torch.compile-d model (slow to compile)')
    p.add_argument('--save', default=None)
    a = p.parse_args()
    if a.threads: torch.set_num_threads(a.threads)
    warnings.filterwarnings('ignore', message='.*training in fp32')
    print(f"native half type on this CPU: {fast_dtype('cpu')}; {torch.get_num_threads()} thread(s); batches of {a.bs}")
    rows = []
    for model, build in [('cnn', get_kaiming_initalized_model), ('resnet', ResNet)]:
        ms = time_paths(learners(build, a.batches, a.bs, a.compile), a.rounds)
        for k, t in ms.items():
            rows.append(dict(model=model, path=k, ms_per_batch=round(t*1000, 1), speedup=round(ms['fp32']/t, 2)))
            print(f"{model:7s} {k:32s} {t*1000:8.1f} ms/batch  {ms['fp32']/t:5.2f}x fp32", flush=True)
    best = max((r for r in rows if r['model'] == 'resnet'), key=lambda r: r['speedup'])
    print(f"speedup: {best['speedup']:.2f}x ({best['path']} on the ResNet)")
    if a.save: record.write(a.save, dict(command=record.command(), commit=record.commit(), machine=record.machine(),
                                         bs=a.bs, rounds=a.rounds, batches=a.batches, rows=rows, best=best))
