"""Time to 90% on Fashion-MNIST: the seed's 1cycle recipe (6 epochs) vs slowai's best recipe, side by side.

Run by hand: `.venv/bin/python bench/time_to_accuracy.py [--target 0.9]`. Prints, for each recipe, the eval accuracy
after every epoch, the epochs and wall-clock seconds until it first reaches the target, and the ratio.
"""
import argparse, io
from contextlib import redirect_stdout
from itertools import accumulate
import torch
from slowai.core import set_seed
from slowai.models import get_kaiming_initalized_model
from slowai.callbacks import EpochTimerCB
from slowai.recipes import train_1cycle, SEED_RECIPE, BEST_RECIPE

def run(recipe, target):
    set_seed(42)
    timer = EpochTimerCB()
    with redirect_stdout(io.StringIO()):
        rec, _ = train_1cycle(get_kaiming_initalized_model(), extra_cbs=[timer], **recipe)
    accs = [h['MulticlassAccuracy'] for h in rec.learn.metrics.history if h['phase'] == 'eval']
    elapsed = list(accumulate(t for _, _, t in timer.times))  # seconds since the fit began, at the end of each epoch
    times = [s for s, (_, kind, _) in zip(elapsed, timer.times) if kind == 'eval']
    hit = next((i for i, a in enumerate(accs) if a >= target), None)
    return accs, times, hit

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument('--target', type=float, default=0.90)
    a = ap.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; target eval accuracy {a.target}")
    res = {}
    for name, recipe in [('seed', SEED_RECIPE), ('best', BEST_RECIPE)]:
        accs, times, hit = run(recipe, a.target)
        res[name] = (hit, times[hit] if hit is not None else None)
        print(f"{name:5} {recipe}")
        print(f"      eval accuracy per epoch: {' '.join(f'{x:.4f}' for x in accs)}")
        print(f"      reached {a.target}: " + (f"epoch {hit+1}, after {times[hit]:.1f} s" if hit is not None else "never"))
    (hs, ts), (hb, tb) = res['seed'], res['best']
    if ts is not None and tb is not None:
        print(f"time to {a.target}: seed {ts:.1f} s ({hs+1} epochs), best {tb:.1f} s ({hb+1} epochs): "
              f"best takes {tb/ts:.2f}x the seed's time ({ts/tb:.2f}x faster)")
