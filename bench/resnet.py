"""Time and train the ResNet recipe of `nbs/13_resnet.ipynb` from the command line.

`python bench/resnet.py --time` measures seconds per training batch for a few widths and thread counts;
`python bench/resnet.py --epochs 5 --valid-pct 0.1` runs the recipe on the holdout (0: on the test set; `--fast`: bf16 and channels_last);
`--save nbs/resnet_runs/NAME.json` writes the run's record (the command with repo-relative paths, per-epoch history,
flip-TTA accuracy, wall times, machine, commit),
which `nbs/13_resnet.ipynb` shows for the runs too long for its own cells.
A run longer than one sitting: `--checkpoint PATH --stop-after N` saves after every epoch and stops after epoch N;
the same command with `--resume` (and a later `--stop-after`, or none) carries on, bit-identically, from PATH.
"""
import argparse, sys, time
from pathlib import Path
import torch
import torch.nn.functional as F
from slowai.core import set_seed
from slowai.learner import Callback
from slowai.checkpoints import CheckpointCB, StopAfterCB, read_checkpoint, load_checkpoint
from slowai.resnet import ResNet, n_params, train_resnet, results_row, tta, accuracy, batch_tfms, RESNET_RECIPE
import record

def time_widths(widths, threads, bs=256, n=8):
    for nt in threads:
        torch.set_num_threads(nt)
        for nfs in widths:
            set_seed(0)
            m = ResNet(nfs); opt = torch.optim.Adam(m.parameters(), 1e-3)
            x, y = torch.randn(bs, 1, 28, 28), torch.randint(0, 10, (bs,))
            for i in range(n + 2):
                if i == 2: t0 = time.perf_counter()
                F.cross_entropy(m(x), y).backward(); opt.step(); opt.zero_grad()
            dt = (time.perf_counter() - t0)/n
            print(f"threads={nt} nfs={nfs} params={n_params(m):,}: {dt*1000:.0f} ms/batch of {bs}, "
                  f"~{dt*54000/bs:.0f} s per epoch of 54k images", flush=True)

class ResumeCB(Callback):
    "Before anything else in `fit`, restore the checkpoint at `path` and start after its epoch"
    order = -200  # before the scheduler and recorder rebuild, and before the progress bar reads `learn.epochs`
    def __init__(self, path): self.path = path
    def before_fit(self, learn):
        ck = load_checkpoint(self.path, learn)
        learn.epochs = range(ck['epoch'] + 1, learn.n_epochs)

class SittingCB(Callback):
    "Keep the run's sittings (command, commit, first epoch, wall seconds) in the checkpoint's extra, saved after each epoch"
    def __init__(self, ckcb, sittings, t0): self.ckcb, self.sittings, self.t0 = ckcb, sittings, t0
    def before_fit(self, learn): self.sittings[-1]['first_epoch'] = learn.epochs.start
    def after_epoch(self, learn):
        self.sittings[-1]['wall_s'] = round(time.time() - self.t0, 1)
        self.ckcb.extra['sittings'] = self.sittings

RUN_FLAGS = ('epochs', 'nfs', 'valid_pct', 'threads', 'seed', 'lr', 'wd', 'label_smoothing', 'pct_start', 'bs', 'ema',
             'pad', 'flip', 'erase', 'no_aug', 'fast', 'save')  # what a resumed run must repeat

def sittings_so_far(a)->list:
    "The sittings recorded in `a.checkpoint` (checked against `a`'s flags), or `[]` for a fresh run; exits with one line on a mismatch"
    if not a.checkpoint: return []
    ck = Path(a.checkpoint)
    if not a.resume:
        if ck.exists(): sys.exit(f"resnet.py: {a.checkpoint} exists; add --resume to carry on from it, or remove it to start afresh")
        return []
    if not ck.is_file(): sys.exit(f"resnet.py: --resume: no checkpoint at {a.checkpoint}; run without --resume to start one")
    extra = read_checkpoint(ck)['extra']
    ours = {k: getattr(a, k) for k in RUN_FLAGS}
    show = lambda v: 'unset' if v is None else v
    if diff := [f"--{k.replace('_', '-')} {show(extra['args'].get(k))} there, {show(v)} here" for k, v in ours.items() if extra['args'].get(k) != v]:
        sys.exit(f"resnet.py: {a.checkpoint} was saved by a run with other flags ({'; '.join(diff)}); resume with its flags")
    return extra['sittings']

if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument('--time', action='store_true')
    p.add_argument('--epochs', type=int, default=5)
    p.add_argument('--nfs', default='16,32,64,128,256')
    p.add_argument('--valid-pct', type=float, default=0.1)
    p.add_argument('--threads', type=int, default=1)
    p.add_argument('--seed', type=int, default=42)
    for k in ('lr', 'wd', 'label_smoothing', 'pct_start'): p.add_argument('--' + k.replace('_', '-'), type=float, default=None)
    p.add_argument('--bs', type=int, default=None)
    p.add_argument('--ema', type=float, default=None, help='evaluate on a moving average of the weights with this decay (EMACB)')
    p.add_argument('--pad', type=int, default=1)
    p.add_argument('--flip', type=float, default=0.5)
    p.add_argument('--erase', type=float, default=0.1)
    p.add_argument('--no-aug', action='store_true', help='train without batch augmentation')
    p.add_argument('--fast', action='store_true', help='bf16 autocast and channels_last (MixedPrecisionCB)')
    p.add_argument('--save', default=None, help='write the run record to this JSON file')
    p.add_argument('--checkpoint', default=None, help='save a checkpoint here after every epoch')
    p.add_argument('--stop-after', type=int, default=None, help='stop after this many epochs of the run (with --checkpoint)')
    p.add_argument('--resume', action='store_true', help='carry on from --checkpoint, with the flags it was saved with')
    a = p.parse_args()
    if (a.stop_after or a.resume) and not a.checkpoint: p.error('--stop-after and --resume need --checkpoint')
    if a.time: time_widths([(8, 16, 32, 64, 128), (16, 32, 64, 128, 256)], [1, 2]); sys.exit()
    torch.set_num_threads(a.threads)
    kw = {k: getattr(a, k) for k in ('lr', 'wd', 'bs', 'label_smoothing', 'pct_start', 'ema') if getattr(a, k) is not None}
    kw['tfm'] = False if a.no_aug else batch_tfms(a.pad, a.flip, a.erase)
    nfs = tuple(int(o) for o in a.nfs.split(','))
    cmd, commit, t0 = record.command(path_flags=('--save', '--checkpoint')), record.commit(), time.time()
    sittings, cbs = sittings_so_far(a), []
    if a.checkpoint:   # a run in sittings: its record keeps the first sitting's commit and every sitting's command and time
        ckcb = CheckpointCB(a.checkpoint, args={k: getattr(a, k) for k in RUN_FLAGS})
        sittings.append(dict(command=cmd, commit=commit, first_epoch=0, wall_s=0.))
        cbs = [ResumeCB(a.checkpoint)]*a.resume + [ckcb, SittingCB(ckcb, sittings, t0)] + [StopAfterCB(a.stop_after)]*bool(a.stop_after)
    learn = train_resnet(a.epochs, nfs=nfs, valid_pct=a.valid_pct, seed=a.seed, fast=a.fast, extra_cbs=cbs, **kw)
    wall = time.time() - t0
    if a.checkpoint:
        sittings[-1]['wall_s'] = round(wall, 1)
        if (done := learn.epoch + 1 if learn.epochs else learn.epochs.start) < a.epochs:
            print(f"stopped after epoch {done} of {a.epochs}, saved in {record.repo_path(a.checkpoint)}; "
                  "carry on with the same command and --resume"); sys.exit()
        cmd, commit, wall = sittings[0]['command'], sittings[0]['commit'], sum(o['wall_s'] for o in sittings)
    split = 'holdout' if a.valid_pct else 'test'
    row = results_row(learn, split)
    probs, ys = tta(learn.model, learn.dls.valid)
    row['tta_accuracy'] = round(accuracy(probs, ys), 4)
    print(row, f'wall {wall/60:.1f} min', flush=True)
    if a.save:
        recipe = dict(RESNET_RECIPE, **{k: v for k, v in kw.items() if k != 'tfm'})
        rec = dict(command=cmd, commit=commit, split=split, epochs=a.epochs, nfs=list(nfs),
                   params=n_params(learn.model), seed=a.seed, recipe=recipe,
                   augmentation=None if a.no_aug else dict(pad=a.pad, flip=a.flip, erase=a.erase),
                   history=learn.metrics.history, epoch_times=learn.timer.times, wall_s=round(wall, 1),
                   fast=a.fast, result=row, machine=record.machine())
        if len(sittings) > 1: rec['sittings'] = sittings
        record.write(a.save, rec)
