"""Which 1cycle recipe reaches 90% soonest with the seed's CNN? Chosen on a 10% holdout of the training set, never the test set.

Run by hand: `.venv/bin/python bench/recipe_sweep.py` (about 30 s a run on 2 idle cores with one thread). Prints the
holdout accuracy after each epoch for each recipe. 04_schedulers quotes what it printed.
"""
import io, json, sys, time
from contextlib import redirect_stdout
import torch
from slowai.data import fashion_mnist, set_seed, DataLoaders
from slowai.models import get_kaiming_initalized_model
from slowai.schedulers import train_1cycle

RECIPES = [dict(lr=5e-2, n_epochs=4, bs=512), dict(lr=5e-2, n_epochs=4, bs=512, label_smoothing=0.1),
           dict(lr=5e-2, n_epochs=4, bs=512, wd=0.1), dict(lr=8e-2, n_epochs=4, bs=512), dict(lr=3e-2, n_epochs=4, bs=512),
           dict(lr=5e-2, n_epochs=4, bs=256), dict(lr=5e-2, n_epochs=3, bs=256, wd=0.1),
           dict(lr=3e-2, n_epochs=3, bs=128), dict(lr=3e-2, n_epochs=3, bs=128, wd=0.1),
           dict(lr=3e-2, n_epochs=2, bs=128, wd=0.1), dict(lr=3e-2, n_epochs=4, bs=128),
           dict(lr=3e-2, n_epochs=4, bs=128, wd=0.1), dict(lr=2e-2, n_epochs=3, bs=64)]

def holdout_run(recipe, seed=42):
    set_seed(seed)
    d = fashion_mnist(bs=recipe.get('bs', 512), valid_pct=0.1, seed=seed)
    dls = DataLoaders(train=d['train'], valid=d['valid'])   # evaluate on the holdout, not the test set
    with redirect_stdout(io.StringIO()):
        rec, _ = train_1cycle(get_kaiming_initalized_model(), dls=dls, **recipe)
    return [h['MulticlassAccuracy'] for h in rec.learn.metrics.history if h['train'] == 'eval']

if __name__ == '__main__':
    if '--threads' in sys.argv: torch.set_num_threads(int(sys.argv[sys.argv.index('--threads') + 1]))
    for r in RECIPES:
        t0 = time.time(); accs = holdout_run(r)
        print(f"{json.dumps(r):70} {' '.join(f'{a:.4f}' for a in accs)}  ({time.time()-t0:.0f} s)", flush=True)
