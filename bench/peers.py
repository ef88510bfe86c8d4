"""The main job against its peers: the seed's recipe trained by a plain torch loop, by slowai three ways, and by
fastai and Lightning where they are installed, each in its own process, interleaved, one torch thread.

    .venv/bin/python bench/peers.py [--rounds 3] [--epochs 6] [--only NAME ...] [--save nbs/bench_runs/peers.json]
    .venv/bin/python bench/peers.py --recipe resnet [--rounds 3] [--batches 24] [--save nbs/bench_runs/peers_resnet.json]
    .venv/bin/python bench/peers.py --profile [--epochs 6] [--save nbs/bench_runs/peers_profile.json]

The recipe is the course's: the seed CNN (`get_kaiming_initalized_model`, seeded the same everywhere), Adam with betas
(0.9, 0.99) and eps 1e-5, 1cycle to lr 5e-2 over every batch, batch size 512, 6 epochs, cross-entropy, an evaluation
of the test set after every epoch, on the same in-memory Fashion-MNIST tensors. The contestants:

- `torch`: a plain loop written here: torch's fused Adam and OneCycleLR, batches sliced from the tensors.
- `train_1cycle`: the README's quick start, `train_1cycle(get_kaiming_initalized_model(), **SEED_RECIPE)`, with the
  seed's callbacks: metrics, the progress table, the divergence guard, the recorder and the activation statistics.
- `learner`: a bare `Learner` with `TrainCB`, `DeviceCB` and `MetricsCB(MulticlassAccuracy())`, `fit_one_cycle`.
- `slowai-train`: the command's default run (`slowai.cli.run`, which also checkpoints every epoch and writes its files).
- `fastai` and `lightning`: their own loops on the same tensors, where the package is installed (else one line says so).

Each round runs every contestant once, in a new process, in turn. A process reports, from its own resource usage, the
CPU time (user + system) of its training, from the start of the first epoch to the end of the last (the plain loop's
epochs, `Learner.fit`, fastai's `Learner.fit`, Lightning's `Trainer.fit`), divided by the epochs; the system time and
minor page faults of the training; the test accuracy after the last epoch; and the same figures for the whole job
(building the model, and `slowai-train`'s checkpoints and files, included). Ratios are to the plain loop of the same round; every round is printed and the worst
round is what a target is held to. `--save` writes the record that `nbs/09_recipes.ipynb` loads, checks and shows.

`--recipe resnet` runs the ResNet recipe chosen for five epochs instead (three times as wide, batch 128, flips on the
device in draws of 8 images, label smoothing 0.1, Adam with weight decay 1e-2, 1cycle to 1e-2, bf16 autocast and
channels_last where the CPU has bf16), for `--batches` batches and an evaluation of 512 test images: `torch-resnet`, a
plain loop with the same model, augmentation and precision and torch's fused AdamW, against `train_resnet`. Its
figures are CPU seconds per training batch.

`--profile` says where the time of `train_1cycle` goes instead: its CPU and system time and page faults, and, from
`cProfile`, the functions that took the most time of their own, with their share of the whole.
"""
import argparse, contextlib, io, json, os, resource, statistics, subprocess, sys, tempfile, time
from pathlib import Path

import torch
import torch.nn.functional as F

LR, BS, BETAS, EPS, SEED = 5e-2, 512, (0.9, 0.99), 1e-5, 42

def usage()->tuple:
    "(CPU seconds, system seconds, minor page faults) of this process so far"
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime, r.ru_stime, r.ru_minflt

FIT = {}   # the usage at the start of the training and at its end, set by `fit_clock`

class fit_clock:
    "Context manager: the usage when the outermost training starts and when it ends (nested ones are ignored)"
    depth = 0
    def __enter__(self):
        fit_clock.depth += 1
        if fit_clock.depth == 1: FIT['start'] = usage()
    def __exit__(self, *exc):
        fit_clock.depth -= 1
        if fit_clock.depth == 0: FIT['end'] = usage()

def clocked(cls, name:str):
    "Time `cls.name` (a training method: `Learner.fit`, ...) with `fit_clock`, in this bench's processes only"
    f = getattr(cls, name)
    def g(*args, **kwargs):
        with fit_clock(): return f(*args, **kwargs)
    setattr(cls, name, g)

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
    with fit_clock():
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
    from slowai.recipes import SEED_RECIPE, train_1cycle
    rec, _ = quiet(lambda: train_1cycle(seed_model(), **{**SEED_RECIPE, 'n_epochs': epochs}))
    return rec.learn.metrics.history[-1]['MulticlassAccuracy']

def slowai_learner(epochs):
    "A bare `Learner`: the step, the device and the metrics"
    from slowai.data import fashion_mnist
    from slowai.learner import Learner, TrainCB, DeviceCB, MetricsCB, MulticlassAccuracy
    from slowai.fast_optimizers import Adam
    import slowai.schedulers   # `Learner.fit_one_cycle`
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

RESNET = dict(nfs=(48, 96, 192, 384, 768), bs=128, lr=1e-2, wd=1e-2, label_smoothing=0.1, pct_start=0.25, chunk=8)

def resnet_data(batches):
    "The first `batches` batches of the training set and 512 test images, as uint8 tensors"
    from slowai.data import fashion_mnist_tensors
    (xt, yt), (xv, yv) = fashion_mnist_tensors()['train'], fashion_mnist_tensors()['test']
    n = batches*RESNET['bs']
    return (xt[:n], yt[:n]), (xv[:512], yv[:512])

def resnet_plain(batches):
    "A hand-written loop: the ResNet, flips on the batch, bf16 autocast and channels_last, fused AdamW, OneCycleLR"
    from slowai.data import FMNIST_STATS
    from slowai.resnet import ResNet, batch_tfms
    from slowai.callbacks import fast_dtype
    (xt, yt), (xv, yv) = resnet_data(batches)
    (mean, std), bs = FMNIST_STATS['train'], RESNET['bs']
    torch.manual_seed(SEED)
    model = ResNet(RESNET['nfs']).to(memory_format=torch.channels_last)
    tfm, dt = batch_tfms(pad=0, erase=0.), fast_dtype('cpu')
    opt = torch.optim.AdamW(model.parameters(), lr=RESNET['lr'], betas=BETAS, eps=EPS, weight_decay=RESNET['wd'],
                            fused=True)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=RESNET['lr'], total_steps=batches,
                                                pct_start=RESNET['pct_start'])
    prep = lambda x: ((x.float() - mean)/std).unsqueeze(1).contiguous(memory_format=torch.channels_last)
    autocast = lambda: torch.autocast('cpu', dtype=dt or torch.bfloat16, enabled=dt is not None)
    order = torch.randperm(len(xt), generator=torch.Generator().manual_seed(SEED))
    with fit_clock():
        model.train()
        for k in range(batches):
            i = order[k*bs:(k+1)*bs]
            x = torch.cat([tfm(c) for c in prep(xt[i]).split(RESNET['chunk'])])
            with autocast(): loss = F.cross_entropy(model(x), yt[i], label_smoothing=RESNET['label_smoothing'])
            loss.backward(); opt.step(); opt.zero_grad(); sched.step()
        model.eval(); correct = 0
        with torch.no_grad(), autocast():
            for k in range(0, len(xv), bs): correct += (model(prep(xv[k:k+bs])).argmax(1) == yv[k:k+bs]).sum()
    return correct.item()/len(xv)

def resnet_slowai(batches):
    "`train_resnet` with the same recipe, on the same images"
    from slowai.data import DataLoaders, TensorDataLoader, FMNIST_STATS
    from slowai.resnet import train_resnet, batch_tfms
    (xt, yt), (xv, yv) = resnet_data(batches)
    kw = dict(bs=RESNET['bs'], mean=FMNIST_STATS['train'][0], std=FMNIST_STATS['train'][1])
    dls = DataLoaders(train=TensorDataLoader(xt, yt, shuffle=True, seed=SEED, **kw), test=TensorDataLoader(xv, yv, **kw))
    learn = quiet(lambda: train_resnet(1, nfs=RESNET['nfs'], bs=RESNET['bs'], tfm=batch_tfms(pad=0, erase=0.), dls=dls,
                                       fast=True, seed=SEED))
    return learn.metrics.history[-1]['MulticlassAccuracy']

RUNS = {'torch': plain_loop, 'train_1cycle': slowai_1cycle, 'learner': slowai_learner, 'slowai-train': slowai_train,
        'fastai': fastai_loop, 'lightning': lightning_loop, 'torch-resnet': resnet_plain, 'train_resnet': resnet_slowai}
RECIPES = {'seed': ['torch', 'train_1cycle', 'learner', 'slowai-train', 'fastai', 'lightning'],
           'resnet': ['torch-resnet', 'train_resnet']}
NEEDS = {'fastai': 'fastai', 'lightning': 'lightning'}

def child(name, n):
    "Train one contestant in this process and print, as JSON, what its training cost per epoch (or per batch, `n`)"
    from slowai.data import fashion_mnist_tensors
    from slowai.learner import Learner, MulticlassAccuracy
    fashion_mnist_tensors(); MulticlassAccuracy()   # decoded and imported before the clock starts, for everyone
    clocked(Learner, 'fit')
    if name == 'fastai':
        import fastai.learner; clocked(fastai.learner.Learner, 'fit')
    if name == 'lightning':
        import lightning; clocked(lightning.Trainer, 'fit')
    c0, s0, f0 = usage()
    acc = RUNS[name](n)
    c1, s1, f1 = usage()
    (fc0, fs0, ff0), (fc1, fs1, ff1) = FIT['start'], FIT['end']
    print(json.dumps(dict(cpu_s=(fc1 - fc0)/n, sys_s=fs1 - fs0, minflt=ff1 - ff0, accuracy=acc,
                          whole_cpu_s=c1 - c0, whole_sys_s=s1 - s0, whole_minflt=f1 - f0)))

def profile(epochs)->dict:
    "Where `train_1cycle`'s time goes: totals, and the functions with the most time of their own (cProfile)"
    import cProfile, pstats
    from slowai.data import fashion_mnist_tensors
    from slowai.learner import MulticlassAccuracy
    fashion_mnist_tensors(); MulticlassAccuracy()
    pr = cProfile.Profile()
    (c0, s0, f0), w0 = usage(), time.perf_counter()
    pr.enable(); acc = slowai_1cycle(epochs); pr.disable()
    (c1, s1, f1), w1 = usage(), time.perf_counter()
    st = pstats.Stats(pr).stats   # (file, line, name) -> (calls, primitive calls, own time, cumulative time, callers)
    total = sum(v[2] for v in st.values())
    top = sorted(st.items(), key=lambda kv: -kv[1][2])[:12]
    ours = sorted([kv for kv in st.items() if f'slowai{os.sep}' in kv[0][0]], key=lambda kv: -kv[1][3])[:20]
    name = lambda k: f"{Path(k[0]).name}:{k[2]}" if k[0] != '~' else k[2]
    row = lambda k, v, t: dict(function=name(k), calls=v[0], seconds=v[t], share=v[t]/total)
    return dict(cpu_s=c1 - c0, sys_s=s1 - s0, minflt=f1 - f0, wall_s=w1 - w0, accuracy=acc, profiled_s=total,
                own_time=[row(k, v, 2) for k, v in top], slowai_cumulative=[row(k, v, 3) for k, v in ours])

def installed(name, paths=())->bool:
    "Is the contestant's package importable, here or from `paths` (without importing it)?"
    import importlib.util
    if name not in NEEDS: return True
    return importlib.util.find_spec(NEEDS[name]) is not None or any((Path(d)/NEEDS[name]).is_dir() for d in paths)

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--recipe', choices=list(RECIPES), default='seed', help="the seed's CNN, or the ResNet's")
    p.add_argument('--rounds', type=int, default=3)
    p.add_argument('--epochs', type=int, default=6, help="epochs of the seed's recipe")
    p.add_argument('--batches', type=int, default=24, help="training batches of the ResNet recipe")
    p.add_argument('--only', nargs='*', choices=list(RUNS), help='these contestants (the plain loop always runs)')
    p.add_argument('--save', help='write the record (JSON) here')
    p.add_argument('--peer-path', action='append', default=[], help="a folder where fastai or Lightning is installed "
                   "(`pip install --target`), put on the path of their processes only; may be repeated")
    p.add_argument('--profile', action='store_true', help="where train_1cycle's time goes, in this process")
    p.add_argument('--child', choices=list(RUNS), help=argparse.SUPPRESS)
    a = p.parse_args()
    resnet = a.recipe == 'resnet'
    n = a.batches if resnet else a.epochs   # what a child's figures are divided by
    if a.child: return child(a.child, a.batches if a.child in RECIPES['resnet'] else a.epochs)
    if a.profile: return profiled(a)
    import record
    torch.set_num_threads(1)   # as in the contestants' processes, for the record's machine line
    cmd, commit = record.command(path_flags=('--save', '--peer-path')), record.commit()
    base, *others = RECIPES[a.recipe]
    names = [base] + [o for o in (a.only or others) if o in others]
    for o in [o for o in names if not installed(o, a.peer_path)]: print(f"{o}: not installed here, skipped"); names.remove(o)
    env = {**os.environ, 'OMP_NUM_THREADS': '1', 'MKL_NUM_THREADS': '1', 'PYTHONUNBUFFERED': '1'}
    peer_env = {**env, 'PYTHONPATH': os.pathsep.join([*a.peer_path, env.get('PYTHONPATH', '')]).rstrip(os.pathsep)}
    runs, load, unit = {o: [] for o in names}, [], 'batch' if resnet else 'epoch'
    for r in range(a.rounds):
        for o in names:
            load.append(os.getloadavg()[0])
            out = subprocess.run([sys.executable, __file__, '--child', o, '--epochs', str(a.epochs), '--batches',
                                  str(a.batches)], env=peer_env if o in NEEDS else env, capture_output=True, text=True)
            if out.returncode: sys.exit(f"{o} failed:\n{out.stderr[-3000:]}")
            runs[o].append(json.loads(out.stdout.strip().splitlines()[-1]))
            v = runs[o][-1]
            print(f"round {r+1} {o:<13} {v['cpu_s']:6.2f} cpu s/{unit} {v['sys_s']:6.2f} sys s {v['minflt']:>9,} faults"
                  f"  accuracy {v['accuracy']:.4f}", flush=True)
    what = f"{a.batches} batches of the ResNet recipe" if resnet else f"{a.epochs} epochs of the seed's recipe"
    print(f"\n{what}, 1 torch thread, {a.rounds} rounds, load average {min(load):.1f} to {max(load):.1f} on "
          f"{os.cpu_count()} cores, torch {torch.__version__}")
    print(f"{'who':<13} {'cpu s/' + unit:>11} {'vs ' + base + ': median':>17} {'worst':>6} {'faults/fit':>11} "
          f"{'sys s':>6} {'accuracy':>15} {'whole job cpu s':>16}")
    ratios = {}
    for o, v in runs.items():
        ratios[o] = [x['cpu_s']/t['cpu_s'] for x, t in zip(v, runs[base])]
        accs = [x['accuracy'] for x in v]
        print(f"{o:<13} {statistics.median(x['cpu_s'] for x in v):>11.3f} {statistics.median(ratios[o]):>16.3f}x "
              f"{max(ratios[o]):>5.3f}x {statistics.median(x['minflt'] for x in v):>11,.0f} "
              f"{statistics.median(x['sys_s'] for x in v):>6.2f} {min(accs):>7.4f}-{max(accs):.4f} "
              f"{statistics.median(x['whole_cpu_s'] for x in v):>16.2f}")
    if a.save:
        record.write(a.save, dict(command=cmd, commit=commit, machine=record.machine(), recipe=a.recipe, per=unit,
                                  epochs=a.epochs, batches=a.batches, rounds=a.rounds, load_average=[min(load), max(load)],
                                  runs=runs, ratios=ratios))

def profiled(a):
    "Run and print `profile`, and save it with `--save`"
    import record
    torch.set_num_threads(1)
    cmd, commit = record.command(), record.commit()
    r = profile(a.epochs)
    print(f"train_1cycle, {a.epochs} epochs, 1 torch thread: {r['cpu_s']:.2f} s CPU, {r['sys_s']:.2f} s of it in the "
          f"kernel, {r['minflt']:,} page faults, accuracy {r['accuracy']:.4f}")
    print("own time:")
    for o in r['own_time']: print(f"{o['share']:6.1%} {o['seconds']:7.2f} s {o['calls']:>7} calls  {o['function']}")
    print("slowai's functions, with what they call:")
    for o in r['slowai_cumulative']: print(f"{o['share']:6.1%} {o['seconds']:7.2f} s {o['calls']:>7} calls  {o['function']}")
    if a.save: record.write(a.save, dict(command=cmd, commit=commit, machine=record.machine(), epochs=a.epochs,
                                         load_average=os.getloadavg()[0], **r))

if __name__ == '__main__': main()
