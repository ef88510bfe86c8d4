"""The main job against its peers: the seed's recipe trained by a plain torch loop, by slowai three ways, and by
fastai and Lightning where they are installed, each in its own process, interleaved, one torch thread.

    .venv/bin/python bench/peers.py [--rounds 3] [--epochs 6] [--only NAME ...] [--save nbs/bench_runs/peers.json]

The recipe is the course's: the seed CNN (`get_kaiming_initalized_model`, seeded the same everywhere), Adam with betas
(0.9, 0.99) and eps 1e-5, 1cycle to lr 5e-2 over every batch, batch size 512, 6 epochs, cross-entropy, an evaluation
of the test set after every epoch, on the same in-memory Fashion-MNIST tensors. The contestants:

- `torch`: a plain loop written here: torch's fused Adam and OneCycleLR, batches sliced from the tensors.
- `train_1cycle`: the README's quick start, `train_1cycle(get_kaiming_initalized_model(), **SEED_RECIPE)`, with the
  seed's callbacks: metrics, the progress table, the divergence guard, the recorder and the activation statistics.
- `learner`: a bare `Learner` with `TrainCB`, `DeviceCB` and `MetricsCB(MulticlassAccuracy())`, `fit_one_cycle`.
- `slowai-train`: the command's default run (`slowai.cli.run`, which also checkpoints every epoch and writes its files).
- `fastai` and `lightning`: their own loops on the same tensors, where the package is installed (else one line says so).

Each round runs every contestant once, in a new process, in turn. A process reports the CPU time (user + system) of
its training from its own resource usage, divided by the epochs, its system time, its minor page faults and the test
accuracy after the last epoch. Ratios are to the plain loop of the same round; every round is printed and the worst
round is what a target is held to. `--save` writes the record that `nbs/06a_recipes.ipynb` loads, checks and shows.
"""
import argparse, contextlib, io, json, os, resource, statistics, subprocess, sys, tempfile, time
from pathlib import Path

import torch
import torch.nn.functional as F

CONTESTANTS = ['torch', 'train_1cycle', 'learner', 'slowai-train', 'fastai', 'lightning']
LR, BS, BETAS, EPS, SEED = 5e-2, 512, (0.9, 0.99), 1e-5, 42

def usage()->tuple:
    "(CPU seconds, system seconds, minor page faults) of this process so far"
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime, r.ru_stime, r.ru_minflt

def seed_model():
    "The seed's CNN with the same initial weights in every process"
    from slowai.models import get_kaiming_initalized_model
    torch.manual_seed(SEED)
    return get_kaiming_initalized_model()

def quiet(f):
    "`f()` with its printing kept out of the bench's output"
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()): return f()

# --- the contestants: each trains `epochs` epochs and returns the test accuracy after the last one ---

def plain_loop(epochs):
    "A hand-written loop: shuffled slices of the uint8 tensors, normalised per batch, fused Adam, OneCycleLR"
    from slowai.data import fashion_mnist_tensors, FMNIST_STATS
    (xt, yt), (xv, yv) = fashion_mnist_tensors()['train'], fashion_mnist_tensors()['test']
    mean, std = FMNIST_STATS['train']
    model = seed_model()
    opt = torch.optim.Adam(model.parameters(), lr=LR, betas=BETAS, eps=EPS, fused=True)
    n_batches = -(-len(xt)//BS)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=LR, total_steps=epochs*n_batches)
    g = torch.Generator().manual_seed(SEED)
    batch = lambda x, y, i: (((x[i].float() - mean)/std).unsqueeze(1), y[i])
    for _ in range(epochs):
        model.train()
        order, train_loss = torch.randperm(len(xt), generator=g), 0.
        for k in range(n_batches):
            xb, yb = batch(xt, yt, order[k*BS:(k+1)*BS])
            loss = F.cross_entropy(model(xb), yb)
            loss.backward(); opt.step(); opt.zero_grad(); sched.step()
            train_loss += loss.detach()*len(yb)
        model.eval(); correct, valid_loss = 0, 0.
        with torch.no_grad():
            for k in range(0, len(xv), BS):
                xb, yb = batch(xv, yv, slice(k, k + BS))
                preds = model(xb)
                valid_loss += F.cross_entropy(preds, yb)*len(yb); correct += (preds.argmax(1) == yb).sum()
    return correct.item()/len(xv)

def slowai_1cycle(epochs):
    "The README's quick start"
    from slowai.learner import Callback
    from slowai.recipes import SEED_RECIPE, train_1cycle
    class Keep(Callback):
        def after_fit(self, learn): self.learn = learn
    keep = Keep()
    quiet(lambda: train_1cycle(seed_model(), **{**SEED_RECIPE, 'n_epochs': epochs}, extra_cbs=[keep]))
    return keep.learn.metrics.history[-1]['MulticlassAccuracy']

def slowai_learner(epochs):
    "A bare `Learner`: the step, the device and the metrics"
    from slowai.data import fashion_mnist
    from slowai.learner import Learner, TrainCB, DeviceCB, MetricsCB, MulticlassAccuracy
    from slowai.fast_optimizers import Adam
    learn = Learner(seed_model(), fashion_mnist(bs=BS, seed=SEED), F.cross_entropy, lr=LR, opt_func=Adam,
                    cbs=[TrainCB(), DeviceCB(), MetricsCB(MulticlassAccuracy())])
    quiet(lambda: learn.fit_one_cycle(epochs, LR))
    return learn.metrics.history[-1]['MulticlassAccuracy']

def slowai_train(epochs):
    "The command's default run, in this process"
    import matplotlib; matplotlib.use('Agg')
    from slowai.cli import run
    with tempfile.TemporaryDirectory() as out: learn = quiet(lambda: run(epochs=epochs, out=out))
    return learn.metrics.history[-1]['MulticlassAccuracy']

def fastai_loop(epochs):
    "fastai's `Learner.fit_one_cycle` with its Adam, on `TensorDataLoader`s of the same tensors"
    from fastai.learner import Learner
    from fastai.data.core import DataLoaders
    from fastai.optimizer import Adam
    from fastai.metrics import accuracy
    import fastai.callback.schedule   # adds `fit_one_cycle`
    from slowai.data import fashion_mnist
    dls = fashion_mnist(bs=BS, seed=SEED)
    learn = Learner(DataLoaders(dls['train'], dls['test']), seed_model(), loss_func=F.cross_entropy,
                    opt_func=Adam, metrics=accuracy)
    quiet(lambda: learn.fit_one_cycle(epochs, LR, wd=0., pct_start=0.3, div_final=25e4))   # torch's OneCycleLR
    return float(learn.recorder.values[-1][-1])

def lightning_loop(epochs):
    "Lightning's `Trainer` with torch's Adam and OneCycleLR, on `TensorDataLoader`s of the same tensors"
    import lightning as L
    from slowai.data import fashion_mnist
    dls = fashion_mnist(bs=BS, seed=SEED)
    class Module(L.LightningModule):
        def __init__(self): super().__init__(); self.model, self.correct = seed_model(), 0
        def training_step(self, b, i): return F.cross_entropy(self.model(b[0]), b[1])
        def validation_step(self, b, i):
            preds = self.model(b[0])
            self.log('valid_loss', F.cross_entropy(preds, b[1]))
            self.correct += (preds.argmax(1) == b[1]).sum().item()
        def on_validation_epoch_start(self): self.correct = 0
        def configure_optimizers(self):
            opt = torch.optim.Adam(self.parameters(), lr=LR, betas=BETAS, eps=EPS, fused=True)
            sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=LR, total_steps=epochs*len(dls['train']))
            return [opt], [{'scheduler': sched, 'interval': 'step'}]
    m = Module()
    trainer = L.Trainer(max_epochs=epochs, accelerator='cpu', devices=1, logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False, num_sanity_val_steps=0)
    quiet(lambda: trainer.fit(m, dls['train'], dls['test']))
    return m.correct/dls['test'].n

RUNS = {'torch': plain_loop, 'train_1cycle': slowai_1cycle, 'learner': slowai_learner, 'slowai-train': slowai_train,
        'fastai': fastai_loop, 'lightning': lightning_loop}
NEEDS = {'fastai': 'fastai', 'lightning': 'lightning'}

def child(name, epochs):
    "Train one contestant in this process and print what it cost, as one JSON line"
    from slowai.data import fashion_mnist_tensors
    from slowai.learner import MulticlassAccuracy
    fashion_mnist_tensors(); MulticlassAccuracy()   # decoded and imported before the clock starts, for everyone
    (c0, s0, f0), w0 = usage(), time.perf_counter()
    acc = RUNS[name](epochs)
    (c1, s1, f1), w1 = usage(), time.perf_counter()
    print(json.dumps(dict(cpu_s=(c1 - c0)/epochs, sys_s=s1 - s0, minflt=f1 - f0, wall_s=(w1 - w0)/epochs,
                          accuracy=acc)))

def installed(name, paths=())->bool:
    "Is the contestant's package importable, here or from `paths` (without importing it)?"
    import importlib.util
    if name not in NEEDS: return True
    return importlib.util.find_spec(NEEDS[name]) is not None or any((Path(d)/NEEDS[name]).is_dir() for d in paths)

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--rounds', type=int, default=3)
    p.add_argument('--epochs', type=int, default=6)
    p.add_argument('--only', nargs='*', choices=CONTESTANTS, help='these contestants (the plain loop always runs)')
    p.add_argument('--save', help='write the record (JSON) here')
    p.add_argument('--peer-path', action='append', default=[], help="a folder where fastai or Lightning is installed "
                   "(`pip install --target`), put on the path of their processes only; may be repeated")
    p.add_argument('--child', choices=CONTESTANTS, help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.child: return child(a.child, a.epochs)
    import record
    torch.set_num_threads(1)   # as in the contestants' processes, for the record's machine line
    cmd, commit = record.command(path_flags=('--save', '--peer-path')), record.commit()
    names = ['torch'] + [n for n in (a.only or CONTESTANTS) if n != 'torch']
    for n in [n for n in names if not installed(n, a.peer_path)]: print(f"{n}: not installed here, skipped"); names.remove(n)
    env = {**os.environ, 'OMP_NUM_THREADS': '1', 'MKL_NUM_THREADS': '1', 'PYTHONUNBUFFERED': '1'}
    peer_env = {**env, 'PYTHONPATH': os.pathsep.join([*a.peer_path, env.get('PYTHONPATH', '')]).rstrip(os.pathsep)}
    runs, load = {n: [] for n in names}, []
    for r in range(a.rounds):
        for n in names:
            load.append(os.getloadavg()[0])
            out = subprocess.run([sys.executable, __file__, '--child', n, '--epochs', str(a.epochs)],
                                 env=peer_env if n in NEEDS else env,
                                 capture_output=True, text=True)
            if out.returncode: sys.exit(f"{n} failed:\n{out.stderr[-3000:]}")
            runs[n].append(json.loads(out.stdout.strip().splitlines()[-1]))
            o = runs[n][-1]
            print(f"round {r+1} {n:<13} {o['cpu_s']:6.2f} cpu s/epoch {o['sys_s']:6.2f} sys s {o['minflt']:>9,} faults"
                  f"  accuracy {o['accuracy']:.4f}", flush=True)
    print(f"\n{a.epochs} epochs of the seed's recipe, 1 torch thread, {a.rounds} rounds, load average "
          f"{min(load):.1f} to {max(load):.1f} on {os.cpu_count()} cores, torch {torch.__version__}")
    print(f"{'who':<13} {'cpu s/epoch':>11} {'vs torch: median':>17} {'worst':>6} {'faults/fit':>11} {'sys s':>6} "
          f"{'accuracy':>15}")
    ratios = {}
    for n, v in runs.items():
        ratios[n] = [o['cpu_s']/t['cpu_s'] for o, t in zip(v, runs['torch'])]
        accs = [o['accuracy'] for o in v]
        print(f"{n:<13} {statistics.median(o['cpu_s'] for o in v):>11.2f} {statistics.median(ratios[n]):>16.3f}x "
              f"{max(ratios[n]):>5.3f}x {statistics.median(o['minflt'] for o in v):>11,.0f} "
              f"{statistics.median(o['sys_s'] for o in v):>6.2f} {min(accs):>7.4f}-{max(accs):.4f}")
    if a.save:
        record.write(a.save, dict(command=cmd, commit=commit, machine=record.machine(), epochs=a.epochs,
                                  rounds=a.rounds, load_average=[min(load), max(load)], runs=runs, ratios=ratios))

if __name__ == '__main__': main()
