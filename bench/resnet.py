"""Time and train the ResNet recipe of `nbs/09_resnet.ipynb` from the command line.

`python bench/resnet.py --time` measures seconds per training batch for a few widths and thread counts;
`python bench/resnet.py --epochs 5 --valid-pct 0.1` runs the recipe on the holdout (0: on the test set; `--fast`: bf16 and channels_last);
`--save nbs/resnet_runs/NAME.json` writes the run's record (the command with repo-relative paths, per-epoch history,
flip-TTA accuracy, wall times, machine, commit),
which `nbs/09_resnet.ipynb` shows for the runs too long for its own cells.
"""
import argparse, sys, time
import torch
import torch.nn.functional as F
from slowai.core import set_seed
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
    p.add_argument('--pad', type=int, default=1)
    p.add_argument('--flip', type=float, default=0.5)
    p.add_argument('--erase', type=float, default=0.1)
    p.add_argument('--no-aug', action='store_true', help='train without batch augmentation')
    p.add_argument('--fast', action='store_true', help='bf16 autocast and channels_last (MixedPrecisionCB)')
    p.add_argument('--save', default=None, help='write the run record to this JSON file')
    a = p.parse_args()
    if a.time: time_widths([(8, 16, 32, 64, 128), (16, 32, 64, 128, 256)], [1, 2]); sys.exit()
    torch.set_num_threads(a.threads)
    kw = {k: getattr(a, k) for k in ('lr', 'wd', 'bs', 'label_smoothing', 'pct_start') if getattr(a, k) is not None}
    kw['tfm'] = False if a.no_aug else batch_tfms(a.pad, a.flip, a.erase)
    nfs = tuple(int(o) for o in a.nfs.split(','))
    commit, t0 = record.commit(), time.time()
    learn = train_resnet(a.epochs, nfs=nfs, valid_pct=a.valid_pct, seed=a.seed, fast=a.fast, **kw)
    wall = time.time() - t0
    split = 'holdout' if a.valid_pct else 'test'
    row = results_row(learn, split)
    probs, ys = tta(learn.model, learn.dls.valid)
    row['tta_accuracy'] = round(accuracy(probs, ys), 4)
    print(row, f'wall {wall/60:.1f} min', flush=True)
    if a.save:
        recipe = dict(RESNET_RECIPE, **{k: v for k, v in kw.items() if k != 'tfm'})
        rec = dict(command=record.command(), commit=commit, split=split, epochs=a.epochs, nfs=list(nfs),
                   params=n_params(learn.model), seed=a.seed, recipe=recipe,
                   augmentation=None if a.no_aug else dict(pad=a.pad, flip=a.flip, erase=a.erase),
                   history=learn.metrics.history, epoch_times=learn.timer.times, wall_s=round(wall, 1),
                   fast=a.fast, result=row, machine=record.machine())
        record.write(a.save, rec)
