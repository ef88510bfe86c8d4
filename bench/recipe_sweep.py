"""Which 1cycle recipe gets the seed's CNN to 90% soonest? Chosen on a 10% holdout of the training set, never the test set.

Each recipe runs once per seed (the seed sets the initial weights, the holdout split and the data order) and the holdout
accuracy after every epoch is printed. `--save` writes the record that 04_schedulers loads, checks and shows.

    .venv/bin/python bench/recipe_sweep.py [--seeds 42 1 2] [--threads 1] [--jobs 2] [--save nbs/bench_runs/recipe_sweep.json]

About 30 s a run on an idle core with one thread; `--jobs 2` runs two recipes at a time in separate processes.
"""
import argparse, io, json, os, subprocess, sys, time
from concurrent.futures import ThreadPoolExecutor
from contextlib import redirect_stdout
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import record

RECIPES = [dict(lr=5e-2, n_epochs=4, bs=512), dict(lr=5e-2, n_epochs=4, bs=512, label_smoothing=0.1),
           dict(lr=5e-2, n_epochs=4, bs=512, wd=0.1), dict(lr=5e-2, n_epochs=4, bs=256),
           dict(lr=3e-2, n_epochs=3, bs=128), dict(lr=3e-2, n_epochs=4, bs=128), dict(lr=3e-2, n_epochs=4, bs=128, wd=0.1),
           dict(lr=3e-2, n_epochs=5, bs=128), dict(lr=3e-2, n_epochs=6, bs=128), dict(lr=2e-2, n_epochs=3, bs=64)]

def holdout_run(recipe:dict, seed:int=42)->list:
    "Holdout accuracy after each epoch of `train_1cycle(**recipe)`, trained on the other 90% of the training set"
    import torch
    from slowai.data import fashion_mnist, set_seed, DataLoaders
    from slowai.models import get_kaiming_initalized_model
    from slowai.schedulers import train_1cycle
    set_seed(seed)
    d = fashion_mnist(bs=recipe.get('bs', 512), valid_pct=0.1, seed=seed)
    dls = DataLoaders(train=d['train'], valid=d['valid'])   # evaluate on the holdout, not the test set
    with redirect_stdout(io.StringIO()):
        rec, _ = train_1cycle(get_kaiming_initalized_model(), dls=dls, seed=seed, **recipe)
    return [h['MulticlassAccuracy'] for h in rec.learn.metrics.history if h['train'] == 'eval']

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--seeds', type=int, nargs='+', default=[42, 1, 2])
    ap.add_argument('--threads', type=int, default=1, help='torch threads in each run')
    ap.add_argument('--jobs', type=int, default=1, help='runs at the same time, each in its own process')
    ap.add_argument('--save', help='write the record (JSON) here')
    ap.add_argument('--one', help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.one:  # a single run, in this process
        import torch; torch.set_num_threads(a.threads)
        r, seed = json.loads(a.one)
        t0 = time.time(); accs = holdout_run(r, seed)
        print(json.dumps(dict(recipe=r, seed=seed, holdout=accs, secs=round(time.time() - t0, 1))))
        return
    cmd, commit = record.command(), record.commit()
    def run(job):
        p = subprocess.run([sys.executable, __file__, '--one', json.dumps(job), '--threads', str(a.threads)],
                           capture_output=True, text=True, env={**os.environ, 'OMP_NUM_THREADS': str(a.threads)})
        if p.returncode: sys.exit(f"recipe_sweep: the run {job} failed:\n{p.stderr[-2000:]}")
        row = json.loads(p.stdout.strip().splitlines()[-1])
        print(f"{json.dumps(row['recipe']):60} seed {row['seed']:>3}  {' '.join(f'{x:.4f}' for x in row['holdout'])}  ({row['secs']:.0f} s)", flush=True)
        return row
    jobs = [(r, s) for r in RECIPES for s in a.seeds]
    with ThreadPoolExecutor(a.jobs) as ex: rows = list(ex.map(run, jobs))
    if a.save:
        m = record.machine(); m['threads'] = a.threads
        record.write(a.save, dict(command=cmd, commit=commit, machine=m, split='holdout: 10% of the training set',
                                  seeds=a.seeds, runs=rows))

if __name__ == '__main__': main()
