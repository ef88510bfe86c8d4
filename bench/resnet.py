"""Time and train the ResNet recipe of `nbs/08_resnet.ipynb` from the command line.

`python bench/resnet.py --time` measures seconds per training batch for a few widths and thread counts;
`python bench/resnet.py --epochs 5 --valid-pct 0.1` runs the recipe on the holdout (0: on the test set).
"""
import argparse, time
import torch
import torch.nn.functional as F
from slowai.data import set_seed
from slowai.resnet import ResNet, n_params, train_resnet, results_row, tta, accuracy

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
    p.add_argument('--nfs', default='8,16,32,64,128')
    p.add_argument('--valid-pct', type=float, default=0.1)
    p.add_argument('--threads', type=int, default=1)
    p.add_argument('--lr', type=float, default=None)
    p.add_argument('--wd', type=float, default=None)
    p.add_argument('--no-aug', action='store_true', help='train without batch augmentation')
    a = p.parse_args()
    if a.time: time_widths([(8, 16, 32, 64, 128), (16, 32, 64, 128, 256)], [1, 2])
    else:
        torch.set_num_threads(a.threads)
        kw = {k: v for k, v in dict(lr=a.lr, wd=a.wd).items() if v is not None}
        if a.no_aug: kw['tfm'] = False
        learn = train_resnet(a.epochs, nfs=tuple(int(o) for o in a.nfs.split(',')), valid_pct=a.valid_pct, **kw)
        print(results_row(learn, f'valid_pct={a.valid_pct}'))
        p_, y_ = tta(learn.model, learn.dls.valid)
        print('flip TTA accuracy:', accuracy(p_, y_))
