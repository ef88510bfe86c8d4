"""Epoch time of `Learner` + the usual callbacks vs a plain PyTorch loop doing the same work.

Both train the seed's CNN for one epoch on Fashion-MNIST (bs 512, `torch.optim.SGD` lr 0.2 momentum 0.9,
`F.cross_entropy`) from the same initial weights and the same data order, then evaluate on the test set, and both
report accuracy and the batch-size-weighted mean loss for train and eval. The runs alternate (plain, learner, plain,
...) after one warm-up run of each; the median epoch time is reported, as wall-clock and as this process's CPU time
(steadier on a shared machine when torch runs one thread). Target: the Learner costs at most 5% more.
A second table times the same two loops with a tiny linear model, so the step costs almost nothing and what is left
is the Learner's own per-batch cost (callbacks, metrics), measured directly rather than as a small difference of
two noisy numbers; divided by the CNN's plain step time it predicts the overhead.
Torch runs one thread by default here: the question is the Learner's Python cost per batch, and on a shared,
oversubscribed 2-core machine two threads make every op wait for a descheduled thread, which swamps it (runs of the
same loop then vary 4x). `--threads 0` keeps torch's default.
`--save` writes the record that 03_learner loads, checks and shows.
Run: `.venv/bin/python bench/learner.py [--reps 5] [--threads 1] [--save nbs/bench_runs/learner.json]`.
"""
import argparse, contextlib, io, os, statistics, time, warnings
from copy import deepcopy
from functools import partial

import torch
from torch import nn
import torch.nn.functional as F

from slowai.core import set_seed, default_device, to_device
from slowai.data import fashion_mnist
from slowai.models import get_kaiming_initalized_model
from slowai.learner import Learner, TrainCB, MetricsCB, DeviceCB, MulticlassAccuracy
from slowai.callbacks import ProgressCB
import record  # bench/record.py: the script's folder is on sys.path

p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
p.add_argument('--reps', type=int, default=5, help='timed runs of each (the median is reported)')
p.add_argument('--threads', type=int, default=1, help="torch intra-op threads (0: torch's default)")
p.add_argument('--save', help='write the record (JSON) here')
a = p.parse_args()
cmd, commit = record.command(), record.commit()
if a.threads: torch.set_num_threads(a.threads)

set_seed(42)
dev = default_device()
dls = fashion_mnist(bs=512, seed=42)
dl_state = deepcopy(dls['train'].state_dict())
init = deepcopy(get_kaiming_initalized_model().state_dict())
opt_func = partial(torch.optim.SGD, momentum=0.9)

tiny_init = deepcopy(nn.Sequential(nn.Flatten(), nn.Linear(28*28, 10)).state_dict())

def fresh_model(tiny=False):
    "The same initial weights and the same shuffling order for every run"
    dls['train'].load_state_dict(deepcopy(dl_state))
    if tiny: m = nn.Sequential(nn.Flatten(), nn.Linear(28*28, 10)); m.load_state_dict(tiny_init)
    else: m = get_kaiming_initalized_model(); m.load_state_dict(init)
    return m

def plain(tiny=False):
    "A hand-written loop: train one epoch, then evaluate; accuracy and weighted loss for both"
    model = fresh_model(tiny).to(dev)
    opt = opt_func(model.parameters(), lr=0.2)
    rows = []
    for training, dl in ((True, dls['train']), (False, dls['test'])):
        model.train(training)
        correct, tot_loss, n = 0, 0., 0
        with torch.set_grad_enabled(training):
            for xb, yb in dl:
                xb, yb = xb.to(dev), yb.to(dev)
                preds = model(xb)
                loss = F.cross_entropy(preds, yb)
                if training:
                    loss.backward(); opt.step(); opt.zero_grad()
                correct += (preds.argmax(1) == yb).sum()
                tot_loss += loss.detach()*len(xb); n += len(xb)
        rows.append({'MulticlassAccuracy': (correct/n).item(), 'loss': (tot_loss/n).item()})
    return model, rows

def learner(tiny=False):
    "The same with `Learner` and TrainCB, MetricsCB, DeviceCB, ProgressCB (output captured)"
    learn = Learner(fresh_model(tiny), dls, F.cross_entropy, lr=0.2, opt_func=opt_func,
                    cbs=[TrainCB(), DeviceCB(dev), MetricsCB(MulticlassAccuracy()), ProgressCB()])
    with contextlib.redirect_stdout(io.StringIO()): learn.fit(1)
    return learn.model, [{k: r[k] for k in ('MulticlassAccuracy', 'loss')} for r in learn.metrics.history]

def timed(f, *args):
    "(wall s, cpu s), result"
    t0, c0 = time.perf_counter(), time.process_time(); res = f(*args)
    return (time.perf_counter() - t0, time.process_time() - c0), res

# warm-up, and check both did the same work
_, (m_p, rows_p) = timed(plain); _, (m_l, rows_l) = timed(learner)
for (k, v1), v2 in zip(m_p.state_dict().items(), m_l.state_dict().values()):
    assert torch.allclose(v1.float(), v2.float(), atol=1e-5), f"{k} differs: not the same training"
for r1, r2 in zip(rows_p, rows_l):
    for k in r1: assert abs(r1[k] - r2[k]) < 1e-4, (k, r1, r2)

def bench(tiny=False):
    times = {'plain': [], 'learner': []}
    for _ in range(a.reps):
        times['plain'].append(timed(plain, tiny)[0])
        times['learner'].append(timed(learner, tiny)[0])
    return times

def med(v, i): return statistics.median(o[i] for o in v)

def report(title, times):
    print(f"\n{title}")
    print(f"{'loop':<9} {'wall s':>7} {'min..max':>13} {'ms/batch':>9} {'cpu s':>7} {'ms/batch':>9}")
    for k, v in times.items():
        w = [o[0] for o in v]
        print(f"{k:<9} {med(v, 0):>7.3f} {min(w):>6.2f}..{max(w):<5.2f} {1e3*med(v, 0)/nb:>9.2f} {med(v, 1):>7.3f} {1e3*med(v, 1)/nb:>9.2f}")
    rw, rc = (med(times['learner'], i)/med(times['plain'], i) for i in (0, 1))
    pairs = [l[0]/p[0] for p, l in zip(times['plain'], times['learner'])]
    print(f"learner / plain: wall {rw:.3f}, cpu {rc:.3f} (medians); alternating pairs (wall) "
          f"median {statistics.median(pairs):.3f}, range {min(pairs):.3f}..{max(pairs):.3f}")
    return rw, rc

nb = len(dls['train']) + len(dls['test'])
print(f"1 epoch = {len(dls['train'])} train + {len(dls['test'])} eval batches of 512, {dev}, torch {torch.__version__}, "
      f"{torch.get_num_threads()} threads, {a.reps} runs each, load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
print(f"train/eval accuracy: plain {rows_p[0]['MulticlassAccuracy']:.4f}/{rows_p[1]['MulticlassAccuracy']:.4f}, "
      f"learner {rows_l[0]['MulticlassAccuracy']:.4f}/{rows_l[1]['MulticlassAccuracy']:.4f}")
cnn = bench()
rw, rc = report("the seed's CNN (target: learner / plain <= 1.05)", cnn)
timed(plain, True); timed(learner, True)  # warm-up
tiny = bench(True)
report("a tiny linear model: what is left is the loops' own cost", tiny)
own = {}
for i, nm in ((0, 'wall'), (1, 'cpu')):
    extra = (med(tiny['learner'], i) - med(tiny['plain'], i))/nb
    own[nm] = dict(ms_per_batch=1e3*extra, share_of_cnn_batch=extra/(med(cnn['plain'], i)/nb))
    print(f"learner's own cost ({nm}): {1e3*extra:.2f} ms/batch = {extra/(med(cnn['plain'], i)/nb):.1%} of a plain CNN batch")
if a.save:
    summ = lambda t: {k: dict(wall_s=med(v, 0), cpu_s=med(v, 1), wall_runs=[o[0] for o in v]) for k, v in t.items()}
    record.write(a.save, dict(command=cmd, commit=commit, machine=record.machine(), reps=a.reps, batches_per_epoch=nb,
                              load_average=os.getloadavg()[0], cnn=summ(cnn), tiny=summ(tiny), learner_own_cost=own))
