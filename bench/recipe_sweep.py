"""1cycle recipes for the seed's CNN, over seeds and thread counts: which gets to 90% soonest, and how far a result moves.

Two uses, each writing a record that 09_recipes loads, checks and shows:
- `--split holdout` (the default) compares `RECIPES` on a 10% holdout of the training set, never the test set.
- `--split test --threads 1 2` runs the recipes the notebook asserts on the test set, for several seeds with one thread
  and for the first seed with each other thread count too. A seed changes the initial weights and the data order; a
  thread count changes which kernels run and so the rounding, as another CPU does. The spread of those results is what
  the notebook's thresholds keep their margin from.

    .venv/bin/python bench/recipe_sweep.py --jobs 2 --save nbs/bench_runs/recipe_sweep.json
    .venv/bin/python bench/recipe_sweep.py --split test --threads 1 2 --jobs 2 --save nbs/bench_runs/spread.json

About 30 s a run of four epochs on an idle core with one thread; `--jobs 2` runs two at a time, each in its own process.
"""
import argparse, io, json, os, subprocess, sys, time
from concurrent.futures import ThreadPoolExecutor
from contextlib import redirect_stdout

import record  # bench/record.py: the script's folder is on sys.path

RECIPES = [dict(lr=5e-2, n_epochs=4, bs=512), dict(lr=5e-2, n_epochs=4, bs=512, label_smoothing=0.1),
           dict(lr=5e-2, n_epochs=4, bs=512, wd=0.1), dict(lr=5e-2, n_epochs=4, bs=256),
           dict(lr=3e-2, n_epochs=3, bs=128), dict(lr=3e-2, n_epochs=4, bs=128), dict(lr=3e-2, n_epochs=4, bs=128, wd=0.1)]

def claimed():
    "The runs 09_recipes makes on the test set and asserts a floor for: cosine annealing, then three 1cycle recipes"
    from slowai.recipes import SEED_RECIPE, BEST_RECIPE
    return [dict(sched='cosine', lr=6e-2, n_epochs=3, bs=512), dict(lr=1e-2, n_epochs=3, bs=512), SEED_RECIPE, BEST_RECIPE]

def run_recipe(recipe:dict, seed:int=42, split:str='holdout')->list:
    """Eval accuracy after each epoch of `train_1cycle(**recipe)` (or, with `sched='cosine'`, of `train` with a per-batch
    `CosineAnnealingLR`, as 09_recipes runs it), on the holdout (trained on the other 90%) or the test set"""
    from torch.optim import lr_scheduler
    from slowai.core import set_seed
    from slowai.data import fashion_mnist, DataLoaders
    from slowai.models import get_kaiming_initalized_model
    from slowai.recipes import train_1cycle, train
    from slowai.schedulers import BatchSchedulerCB
    recipe = dict(recipe)
    sched = recipe.pop('sched', '1cycle')
    set_seed(seed)
    model = get_kaiming_initalized_model()  # before the data: building loaders draws from torch's global generator
    d = fashion_mnist(bs=recipe['bs'], valid_pct=0.1 if split == 'holdout' else 0., seed=seed)
    if split == 'holdout': d = DataLoaders(train=d['train'], valid=d['valid'])
    with redirect_stdout(io.StringIO()):
        if sched == 'cosine':
            cos = BatchSchedulerCB(lr_scheduler.CosineAnnealingLR, T_max=recipe['n_epochs']*len(d['train']))
            learn = train(model, dls=d, cbs=[cos], **recipe)
        else: learn = train_1cycle(model, dls=d, **recipe)[0].learn
    return [h['MulticlassAccuracy'] for h in learn.metrics.history if h['phase'] == 'eval']

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--split', choices=['holdout', 'test'], default='holdout')
    ap.add_argument('--seeds', type=int, nargs='+', default=[42, 1, 2])
    ap.add_argument('--threads', type=int, nargs='+', default=[1], help='torch threads: every seed with the first, the first seed with the others')
    ap.add_argument('--jobs', type=int, default=1, help='runs at the same time, each in its own process')
    ap.add_argument('--save', help='write the record (JSON) here')
    ap.add_argument('--one', help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.one:  # a single run, in this process
        import torch; torch.set_num_threads(a.threads[0])
        r, seed = json.loads(a.one)
        t0 = time.time(); accs = run_recipe(r, seed, a.split)
        print(json.dumps(dict(recipe=r, seed=seed, threads=a.threads[0], accuracy=accs, secs=round(time.time() - t0, 1))))
        return
    cmd, commit = record.command(), record.commit()
    def run(job):
        r, seed, th = job
        p = subprocess.run([sys.executable, __file__, '--one', json.dumps([r, seed]), '--split', a.split, '--threads', str(th)],
                           capture_output=True, text=True, env={**os.environ, 'OMP_NUM_THREADS': str(th)})
        if p.returncode: sys.exit(f"recipe_sweep: the run {job} failed:\n{p.stderr[-2000:]}")
        row = json.loads(p.stdout.strip().splitlines()[-1])
        print(f"{json.dumps(r):60} seed {seed:>3} threads {th}  {' '.join(f'{x:.4f}' for x in row['accuracy'])}  ({row['secs']:.0f} s)", flush=True)
        return row
    recipes = RECIPES if a.split == 'holdout' else claimed()
    jobs = [(r, s, a.threads[0]) for r in recipes for s in a.seeds] + [(r, a.seeds[0], t) for r in recipes for t in a.threads[1:]]
    with ThreadPoolExecutor(a.jobs) as ex: rows = list(ex.map(run, jobs))
    if a.save:
        m = record.machine(); del m['threads']  # each run's own is in its row
        split = 'holdout: 10% of the training set' if a.split == 'holdout' else 'test'
        record.write(a.save, dict(command=cmd, commit=commit, machine=m, split=split, seeds=a.seeds, threads=a.threads, runs=rows))

if __name__ == '__main__': main()
