"""Time slowai's optimizers against torch.optim, side by side, one step at a time.

    .venv/bin/python bench/optimizers.py [--threads N] [--rounds R] [--steps S] [--no-compiled] [--save FILE]

Two parameter sets: the seed's CNN (`get_kaiming_initalized_model()`, 30,402 parameters in 14 tensors) and 10M
parameters in 50 tensors of 200k. Gradients are fixed random tensors, so only the optimizer step is timed. Each
optimizer gets `--steps` warm-up steps, then the rounds run round-robin over all optimizers (so that a change in the
machine's load hits all of them alike) and the median over every timed step is reported, with ratios to torch's
fused step (or to its `foreach=False` step where torch has no fused one). Numbers on a shared machine are noisy:
run it two or three times. `--save nbs/bench_runs/optimizers.json` writes the run's record (command, commit, machine,
load, ms per step of every variant, the compiled kernel's first step), which `nbs/07_fast_optimizers.ipynb` loads,
checks and shows. Ours: the readable classes of `slowai.optimizers` (`nbs/06_optimizers.ipynb`, the rows
'foreach=False (teaching)'), and their fast subclasses of the same names in `slowai.fast_optimizers`
(`nbs/07_fast_optimizers.ipynb`, the rows '(fast path)' and, for Adam, 'compiled=True'), which the library trains with.
"""
import argparse, gc, os, statistics, time
from functools import partial

import torch
from slowai.models import get_kaiming_initalized_model
from slowai import optimizers as readable, fast_optimizers as fast
import record

def param_sets():
    torch.manual_seed(0)
    cnn = [p.detach().clone() for p in get_kaiming_initalized_model().parameters()]
    big = [torch.randn(200_000) for _ in range(50)]
    return {'CNN': cnn, '10M x 50': big}

def torch_variants(cls, **kw):
    "torch's implementations of one optimizer: foreach off, on, and fused where torch supports it on this device"
    return [(f'torch {cls.__name__} foreach=False', partial(cls, foreach=False, **kw)),
            (f'torch {cls.__name__} foreach=True', partial(cls, foreach=True, **kw)),
            (f'torch {cls.__name__} fused=True', partial(cls, fused=True, **kw))]

def families(compiled=True):
    "(family, [(name, opt_func)]): ours and torch's on the same math (or torch's closest)"
    lr = 1e-3
    ours = lambda n: [(f'slowai {n} (fast path)', partial(getattr(fast, n), lr=lr)),
                      (f'slowai {n} foreach=False (teaching)', partial(getattr(readable, n), lr=lr))]
    adam = ours('Adam')
    if compiled: adam.insert(1, ('slowai Adam compiled=True', partial(fast.Adam, lr=lr, compiled=True)))
    return [
        ('Adam', adam + torch_variants(torch.optim.Adam, lr=lr, betas=(0.9, 0.99), eps=1e-5)),
        ('SGD', ours('SGD') + torch_variants(torch.optim.SGD, lr=lr)),
        ('MomentumSGD', ours('MomentumSGD') + torch_variants(torch.optim.SGD, lr=lr*0.1, momentum=0.9)),
        ('RMSProp', ours('RMSProp') + torch_variants(torch.optim.RMSprop, lr=lr, alpha=0.99, eps=1e-5))]

def time_steps(opt, n):
    ts = []
    for _ in range(n):
        t = time.perf_counter(); opt.step(); ts.append(time.perf_counter() - t)
    return ts

def bench_family(tensors, variants, rounds, steps):
    "Median ms per step of each variant, round-robin; `None` where torch refuses (no fused kernel)"
    opts, first = {}, {}
    for name, f in variants:
        ps = [torch.nn.Parameter(t.clone()) for t in tensors]
        for p in ps: p.grad = torch.randn_like(p)*1e-2
        try: opt = f(ps)
        except (RuntimeError, ValueError, TypeError): opts[name] = None; continue
        t = time.perf_counter()
        try: opt.step()
        except RuntimeError: opts[name] = None; continue
        first[name] = time.perf_counter() - t
        time_steps(opt, steps)  # warm-up
        opts[name] = opt
    times = {k: [] for k, o in opts.items() if o is not None}
    for _ in range(rounds):
        for k in times: times[k] += time_steps(opts[k], steps)
    return {k: (statistics.median(v)*1e3 if k in times else None, first.get(k)) for k, v in
            [(k, times.get(k, [])) for k in opts]}

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--threads', type=int, default=None, help="torch threads (default: torch's)")
    ap.add_argument('--rounds', type=int, default=5)
    ap.add_argument('--steps', type=int, default=10, help='steps per optimizer per round (and warm-up steps)')
    ap.add_argument('--no-compiled', action='store_true', help="skip Adam(compiled=True) (it compiles on first use)")
    ap.add_argument('--save', default=None, help='write the run record to this JSON file')
    a = ap.parse_args()
    if a.threads: torch.set_num_threads(a.threads)
    rec = dict(command=record.command(), commit=record.commit(), machine=record.machine(),
               load_average=round(os.getloadavg()[0], 1), rounds=a.rounds, steps=a.steps, sets={})
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads on {os.cpu_count()} CPUs, load average "
          f"{os.getloadavg()[0]:.1f}, {a.rounds} rounds x {a.steps} steps, median ms per step")
    for set_name, tensors in param_sets().items():
        n = sum(t.numel() for t in tensors)
        print(f"\n== {set_name}: {n:,} parameters in {len(tensors)} tensors ==")
        ms_set = rec['sets'][set_name] = dict(params=n, tensors=len(tensors), ms_per_step={}, first_step_s={})
        print(f"{'optimizer':<45}{'ms/step':>9}{'vs torch best':>15}{'vs fused':>10}{'vs foreach=False':>18}")
        for fam, variants in families(not a.no_compiled):
            res = bench_family(tensors, variants, a.rounds, a.steps)
            ms_set['ms_per_step'][fam] = {k: (None if ms is None else round(ms, 4)) for k, (ms, _) in res.items()}
            ms_set['first_step_s'][fam] = {k: round(first, 3) for k, (_, first) in res.items() if first is not None}
            torch_ms = {k: v[0] for k, v in res.items() if k.startswith('torch') and v[0] is not None}
            best = min(torch_ms.values())
            fused = next((v for k, v in torch_ms.items() if 'fused' in k), None)
            fe0 = next(v for k, v in torch_ms.items() if 'foreach=False' in k)
            for k, (ms, first) in res.items():
                if ms is None: print(f"{k:<45}{'n/a':>9}"); continue
                r_f = f"{ms/fused:9.2f}x" if fused else f"{'-':>10}"
                extra = f"   (first step {first:.1f} s: compile)" if 'compiled' in k else ''
                print(f"{k:<45}{ms:9.2f}{ms/best:14.2f}x{r_f}{ms/fe0:17.2f}x{extra}")
            print()
            gc.collect()
    rec['load_average_end'] = round(os.getloadavg()[0], 1)
    if a.save: record.write(a.save, rec)

if __name__ == '__main__': main()
