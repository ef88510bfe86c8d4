"""Images/s of the naive Hugging Face pipeline vs `slowai.data.fashion_mnist`'s tensor slicing.

Naive: `load_fashion_mnist()` (the hub's schema: PNG-encoded images) + `.with_transform` turning each item's PIL image
into a normalised float tensor + torch `DataLoader(bs=512, shuffle=True)` with the default collate.
Fast: `fashion_mnist(bs=512)['train']`, iterated over whole epochs.
Building the `DatasetDict` (encoding 70k PNGs; the script prints how long it took) happens once, before and outside
the timing, as does decoding the IDX files for the fast path. The fast path is timed with torch at one thread and at torch's default:
each batch is a few large tensor ops that torch splits over its threads, and on a shared, oversubscribed machine
every split waits for a descheduled thread, so one thread can be many times faster than two. The naive
path is per-item Python on tiny tensors, which torch does not split, so it runs once, at the default.
Run: `.venv/bin/python bench/data.py [--reps 5] [--naive-batches 30] [--threads 1,2]`.
"""
import argparse, os, statistics, time

import torch
from torch.utils.data import DataLoader
from torchvision.transforms.functional import to_tensor

from slowai.data import FMNIST_STATS, fashion_mnist, load_fashion_mnist

p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
p.add_argument('--reps', type=int, default=5, help='timed repeats of each pipeline (the median is reported)')
p.add_argument('--naive-batches', type=int, default=30, help='batches per naive repeat')
p.add_argument('--fast-epochs', type=int, default=1, help='full epochs per fast repeat')
p.add_argument('--bs', type=int, default=512)
p.add_argument('--threads', default=None, help="comma-separated torch thread counts for the fast path (default: 1 and torch's)")
a = p.parse_args()
default_threads = torch.get_num_threads()
threads = [int(o) for o in a.threads.split(',')] if a.threads else sorted({1, default_threads})
torch.manual_seed(0)

MEAN, STD = (v/255 for v in FMNIST_STATS['train'])

def to_tensors(b):
    "The naive per-item transform: PIL image -> normalised float tensor [1,28,28]"
    return {'image': [(to_tensor(im) - MEAN)/STD for im in b['image']], 'label': b['label']}

def naive_loader():
    t0 = time.perf_counter()
    dsd = load_fashion_mnist()
    print(f"building the DatasetDict (not timed): {time.perf_counter()-t0:.1f} s")
    return DataLoader(dsd['train'].with_transform(to_tensors), batch_size=a.bs, shuffle=True)

def time_naive(dl, n_batches):
    "images/s over the first `n_batches` batches of a fresh epoch"
    n, t0 = 0, time.perf_counter()
    for i, b in enumerate(dl):
        x, y = b['image'], b['label']
        n += len(x)
        if i + 1 == n_batches: break
    return n/(time.perf_counter() - t0), x, y

def time_fast(dl, n_epochs):
    "images/s over `n_epochs` full epochs"
    n, t0 = 0, time.perf_counter()
    for _ in range(n_epochs):
        for x, y in dl: n += len(x)
    return n/(time.perf_counter() - t0), x, y

naive, fast = naive_loader(), fashion_mnist(bs=a.bs, seed=0)['train']
# warm-up, and check both produce the same kind of batch
_, xn, yn = time_naive(naive, 2); time_fast(fast, 1); xf, yf = next(iter(fast))
assert xn.shape == xf.shape == (a.bs, 1, 28, 28) and xn.dtype == xf.dtype == torch.float32, (xn.shape, xf.shape)
assert yn.dtype == yf.dtype == torch.int64
assert abs(xn.mean() - xf.mean()) < 0.2 and abs(xn.std() - xf.std()) < 0.2  # same normalisation, roughly

res = {'naive': [], **{t: [] for t in threads}}
for _ in range(a.reps):  # alternate, so drift in the machine's load hits all alike
    torch.set_num_threads(default_threads)
    res['naive'].append(time_naive(naive, a.naive_batches)[0])
    for t in threads:
        torch.set_num_threads(t)
        res[t].append(time_fast(fast, a.fast_epochs)[0])
torch.set_num_threads(default_threads)

print(f"\nFashion-MNIST train, bs={a.bs}, torch {torch.__version__}, median of {a.reps} (min..max), "
      f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
print(f"{'pipeline':<52} {'images/s':>10} {'min..max':>20} {'vs naive':>9}")
rows = [(f'naive: HF with_transform + DataLoader, {default_threads} thr', 'naive', f'{a.naive_batches} batches')]
rows += [(f'fast: fashion_mnist() tensor slicing, {t} thr', t, f'{a.fast_epochs} epoch(s)') for t in threads]
base = statistics.median(res['naive'])
for name, k, what in rows:
    v = res[k]; m = statistics.median(v)
    print(f"{name:<52} {m:>10,.0f} {min(v):>9,.0f}..{max(v):<9,.0f} {m/base:>8.0f}x  ({what})")
print("target: fast >= 50x naive")
