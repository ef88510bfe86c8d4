"""`make gpu-check`: short checks of slowai's GPU paths, on synthetic data, where CUDA is present.

One line per check, `PASS name: detail` or `FAIL name: detail`, then 'N passed, N failed':
- fp16: a small conv net fits with `MixedPrecisionCB(torch.float16)` (autocast and a GradScaler): losses finite, falling;
- bf16: the same with `MixedPrecisionCB(torch.bfloat16)`;
- the compiled Adam on CUDA (`slowai.fast_optimizers.Adam(compiled=True)`) against the readable `slowai.optimizers.Adam`:
  a few steps on a 2**17-element parameter, within 1e-5 relative, with the compiled kernel having run;
- metrics on the device (`MetricsCB(MulticlassAccuracy())`) and normalisation on the device (`TensorDataLoader(...,
  device='cuda')`), against the same on the CPU;
- batch augmentation on the device (`slowai.resnet.BatchAugmentCB`);
- a checkpoint resume on the GPU, bit-identical: 2 epochs straight against 1, a checkpoint, a fresh learner,
  `load_checkpoint` and the second epoch (`SkipToEpochCB`), deterministic algorithms on; weights compared with torch.equal.
Where there is no CUDA it prints one line saying so and exits 0. `--device cpu` runs the same checks on the CPU (to debug
them here; fp16 and the compile are slow there). The repository's own slowai is used (its root goes first on sys.path).
About a minute on a GPU, most of it the compile.

    python tools/gpu_check.py [--device cuda]
"""
import argparse, math, os, sys, tempfile, time, warnings
from functools import partial
from pathlib import Path

os.environ.setdefault('CUBLAS_WORKSPACE_CONFIG', ':4096:8')  # before CUDA starts: deterministic cuBLAS for the resume check
from common import ROOT, check, finish, record
sys.path.insert(0, str(ROOT))

# ---------------------------------------------------------------- synthetic data and a small conv net

def images(n, c=1, seed=0, size=28, n_cls=10):
    "uint8 images `[n,size,size]` (or `[n,c,size,size]`) of `n_cls` classes, each a fixed random pattern under noise, and labels"
    import torch
    g = torch.Generator().manual_seed(seed)
    pats = torch.randn(n_cls, c, size, size, generator=torch.Generator().manual_seed(1234))
    y = torch.randint(0, n_cls, (n,), generator=g)
    x = (128 + 45*pats[y] + 30*torch.randn(n, c, size, size, generator=g)).clamp(0, 255).to(torch.uint8)
    return (x[:, 0] if c == 1 else x), y

def dls(device=None, n=2048, bs=256, c=1, seed=0, order_seed=None):
    from slowai.data import DataLoaders, TensorDataLoader
    x, y = images(n + 512, c=c, seed=seed)
    m, s = (x.float().mean().item(), x.float().std().item()) if c == 1 else (tuple(x.float().mean((0, 2, 3)).tolist()), tuple(x.float().std((0, 2, 3)).tolist()))
    return DataLoaders(train=TensorDataLoader(x[:n], y[:n], bs=bs, shuffle=True, seed=seed if order_seed is None else order_seed, mean=m, std=s, device=device),
                       valid=TensorDataLoader(x[n:], y[n:], bs=bs, mean=m, std=s, device=device))

def convnet(c=1, n_cls=10):
    from torch import nn
    return nn.Sequential(nn.Conv2d(c, 16, 3, 2, 1), nn.BatchNorm2d(16), nn.ReLU(), nn.Conv2d(16, 32, 3, 2, 1), nn.BatchNorm2d(32), nn.ReLU(),
                         nn.Conv2d(32, 64, 3, 2, 1), nn.BatchNorm2d(64), nn.ReLU(), nn.AvgPool2d(4), nn.Flatten(), nn.Linear(64, n_cls))
    # 28 -> 14 -> 7 -> 4, averaged: AvgPool2d, whose CUDA backward is deterministic (AdaptiveAvgPool2d's is not)

def learner(dev, train_cb, extra=(), data=None, c=1, lr=3e-3):
    import torch.nn.functional as F
    from slowai.learner import DeviceCB, Learner, MetricsCB, MulticlassAccuracy
    from slowai.optimizers import Adam
    met = MetricsCB(MulticlassAccuracy())
    met._log = lambda row: None  # the rows are checked, not printed
    learn = Learner(convnet(c), data or dls(c=c), F.cross_entropy, lr=lr, cbs=[DeviceCB(dev), train_cb, met, *extra], opt_func=Adam)
    return learn, met

def losses(met, kind='train'): return [r['loss'] for r in met.history if r['phase'] == kind]

# ---------------------------------------------------------------- the checks

def run_checks(dev):
    import torch
    from slowai.core import set_seed

    def mixed(dtype):
        from slowai.callbacks import MixedPrecisionCB
        set_seed(0)
        cb = MixedPrecisionCB(dtype)
        learn, met = learner(dev, cb)
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter('always')
            learn.fit(3)
        tr, va = losses(met), losses(met, 'eval')
        assert all(math.isfinite(l) for l in tr + va), f"losses not finite: train {tr}, valid {va}"
        assert tr[-1] < tr[0] and va[-1] < va[0], f"losses do not fall: train {tr}, valid {va}"
        assert cb.dtype == dtype, f"autocast dtype {cb.dtype}, asked for {dtype} ({[str(o.message) for o in w]})"
        p = next(learn.model.parameters())
        assert p.device.type == dev.type and p.dtype == torch.float32, f"weights {p.dtype} on {p.device}: fp32 on {dev} expected"
        extra = ''
        if dtype == torch.float16:
            assert isinstance(cb.scaler, torch.amp.GradScaler), f"no GradScaler for fp16: {cb.scaler!r}"
            scale = cb.scaler.get_scale()
            assert math.isfinite(scale) and scale > 0, f"loss scale {scale}"
            extra = f", GradScaler scale {scale:g}"
        acc = met.history[-1]['MulticlassAccuracy']
        return f"train loss {tr[0]:.3f} -> {tr[-1]:.3f}, valid {va[0]:.3f} -> {va[-1]:.3f}, accuracy {acc:.3f}{extra}"

    @check(f'fp16 fit with MixedPrecisionCB(torch.float16) on {dev}')
    def _(): return mixed(torch.float16)

    @check(f'bf16 fit with MixedPrecisionCB(torch.bfloat16) on {dev}')
    def _(): return mixed(torch.bfloat16)

    @check(f'compiled Adam on {dev} against the readable slowai.optimizers.Adam, 2**17 elements, 5 steps')
    def _():
        import slowai.fast_optimizers as fo, slowai.optimizers as so
        fast_name, fast, ref_name, ref = 'slowai.fast_optimizers.Adam(compiled=True)', partial(fo.Adam, compiled=True), 'slowai.optimizers.Adam', so.Adam
        g = torch.Generator(device='cpu').manual_seed(0)
        p0 = torch.randn(2**17, generator=g)
        grads = [torch.randn(2**17, generator=g).to(dev) for _ in range(5)]
        with warnings.catch_warnings(record=True) as w:  # a failed compile warns once, then the eager path runs
            warnings.simplefilter('always')
            outs = []
            for make in (fast, ref):
                p = torch.nn.Parameter(p0.clone().to(dev))
                opt = make([p], lr=1e-2, wd=1e-2)
                for gr in grads:
                    p.grad = gr.clone(); opt.step(); opt.zero_grad()
                outs.append(p.detach())
        failed = [str(o.message)[:200] for o in w if 'torch.compile failed' in str(o.message)]  # ours, not torch's own notes
        assert not failed, f"the compile failed, so the eager path ran: {failed[0]}"
        kernels = {k: v is not None for k, v in getattr(fo, '_COMPILED', {}).items()}
        assert not kernels or any(kernels.values()), f"no compiled kernel ran: {kernels}"
        fast_p, ref_p = outs
        moved = (ref_p - p0.to(dev)).abs().max().item()
        rel = ((fast_p - ref_p).abs().max()/ref_p.abs().max()).item()
        assert moved > 1e-3, f"the parameter hardly moved ({moved:.2e}): the comparison would prove nothing"
        assert rel <= 1e-5, f"{fast_name} and {ref_name} differ by {rel:.2e} relative (max |p|), more than 1e-5"
        return f"{fast_name} vs {ref_name}: max difference {rel:.1e} relative; compiled kernels {sorted(k for k, v in kernels.items() if v) or '(not listed)'}"

    @check(f'metrics on {dev} (MetricsCB(MulticlassAccuracy())) and normalisation on {dev} (TensorDataLoader(device=...)) match the CPU')
    def _():
        from slowai.learner import TrainCB
        on, off = dls(device=dev, c=3), dls(c=3)
        xb, yb = next(iter(on['train']))
        xc, yc = next(iter(off['train']))
        assert xb.device.type == dev.type and xb.dtype == torch.float32, f"batch {xb.dtype} on {xb.device}, not float32 on {dev}"
        diff = (xb.cpu() - xc).abs().max().item()
        assert diff < 1e-5 and torch.equal(yb.cpu(), yc), f"normalised batches on {dev} and the CPU differ by {diff:.2e}"
        m, s = xb.mean((0, 2, 3)), xb.std((0, 2, 3))
        assert (m.abs() < 0.2).all() and ((s - 1).abs() < 0.2).all(), f"per-channel mean {m.tolist()}, std {s.tolist()}: not normalised"
        set_seed(0)
        learn, met = learner(dev, TrainCB(), data=on, c=3)
        learn.fit(2)
        devs = {str(m_.device) for m_ in met.all_metrics.values()}
        assert all(d.startswith(dev.type) for d in devs), f"metrics on {devs}, not {dev}"
        # the last epoch's valid accuracy, against argmax on the CPU over the same predictions
        learn.model.eval()
        with torch.no_grad(): preds = torch.cat([learn.model(x).cpu() for x, _ in on['valid']])
        ys = torch.cat([y.cpu() for _, y in on['valid']])
        acc_cpu = (preds.argmax(1) == ys).float().mean().item()
        acc = met.history[-1]['MulticlassAccuracy']
        assert abs(acc - acc_cpu) < 1e-6, f"MulticlassAccuracy on {dev} {acc:.6f}, on the CPU {acc_cpu:.6f}"
        return f"batch on {xb.device}, |{dev} - cpu| {diff:.1e}; per-channel mean {max(m.abs().tolist()):.3f}, std {s.min().item():.3f}..{s.max().item():.3f}; metrics on {sorted(devs)}, accuracy {acc:.4f} = CPU's"

    @check(f'batch augmentation on {dev} (slowai.resnet.BatchAugmentCB) in a fit')
    def _():
        from slowai.learner import Callback, TrainCB
        from slowai.resnet import BatchAugmentCB
        class Spy(Callback):
            order = BatchAugmentCB.order + 1
            seen = []
            def before_batch(self, learn):
                if learn.training: self.seen.append(learn.batch[0])
        set_seed(0)
        data = dls(device=dev)
        learn, met = learner(dev, TrainCB(), extra=[BatchAugmentCB(), Spy()], data=data)
        learn.fit(2)
        xs = Spy.seen
        assert xs and all(x.device.type == dev.type for x in xs), f"augmented batches on {sorted({str(x.device) for x in xs})}, not {dev}"
        tr = losses(met)
        assert all(math.isfinite(l) for l in tr) and tr[-1] < tr[0], f"train losses {tr}"
        # the transform changes the images: the first augmented batch differs from the same batch unaugmented
        set_seed(0)
        d2 = dls(device=dev)
        raw = next(iter(d2['train']))[0]
        changed = (xs[0] != raw).float().mean().item()
        assert 0 < changed, "BatchAugmentCB left the first batch unchanged"
        return f"{len(xs)} batches augmented on {xs[0].device}, {changed:.0%} of the first batch's pixels changed; train loss {tr[0]:.3f} -> {tr[-1]:.3f}"

    @check(f'a checkpoint resume on {dev} is bit-identical: 2 epochs straight = 1 + checkpoint + fresh learner + load_checkpoint + 1')
    def _():
        from slowai.checkpoints import CheckpointCB, StopAfterCB, SkipToEpochCB, load_checkpoint
        from slowai.learner import TrainCB
        from slowai.resnet import BatchAugmentCB
        def make(seed):
            set_seed(seed, deterministic=True)
            return learner(dev, TrainCB(), extra=[BatchAugmentCB()], data=dls(device=dev, n=1024, order_seed=seed))
        with warnings.catch_warnings(record=True) as w:  # what torch says it cannot do deterministically, to name if they differ
            warnings.simplefilter('always')
            a, ma = make(0)
            a.fit(2)
            with tempfile.TemporaryDirectory() as tmp:
                ck = Path(tmp)/'ck.pt'
                b, mb = make(0)
                b.fit(2, cbs=[CheckpointCB(ck), StopAfterCB(1)])
                c, mc = make(1)   # other initial weights and data order: all must come from the checkpoint
                info = load_checkpoint(ck, c)
                c.fit(2, cbs=[SkipToEpochCB(info['epoch'] + 1)])
        nondet = sorted({str(o.message).split(' does not have a deterministic')[0][:80] for o in w if 'deterministic' in str(o.message)})
        sa, sc = a.model.state_dict(), c.model.state_dict()
        differ = [k for k in sa if not torch.equal(sa[k], sc[k])]
        assert not differ, (f"{len(differ)} of {len(sa)} tensors differ after resuming, e.g. {differ[:3]}: max "
                            f"{max((sa[k].float() - sc[k].float()).abs().max().item() for k in differ):.2e}; nondeterministic ops: {nondet or 'none reported'}")
        assert ma.history == mc.history, f"metrics differ: straight {ma.history}, resumed {mc.history}"
        pa, pc = a.opt.state_dict()['state'], c.opt.state_dict()['state']
        assert all(torch.equal(pa[i][k], pc[i][k]) for i in pa for k in pa[i] if torch.is_tensor(pa[i][k])), 'optimizer states differ'
        return (f"{len(sa)} tensors equal (torch.equal), optimizer states equal, {len(ma.history)} metric rows equal; deterministic algorithms, "
                f"CUBLAS_WORKSPACE_CONFIG={os.environ.get('CUBLAS_WORKSPACE_CONFIG')}" + (f"; torch warned of {nondet}" if nondet else ''))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--device', default='cuda', help="where to run the checks (default cuda; 'cpu' to debug them without a GPU)")
    a = ap.parse_args()
    try: import torch
    except ImportError as e: record('FAIL', 'imports', str(e)); return finish()
    dev = torch.device(a.device)
    if dev.type == 'cuda' and not torch.cuda.is_available():
        print(f"no CUDA GPU here (torch {torch.__version__}, torch.cuda.is_available() is False): the GPU checks did not run")
        return 0
    t0 = time.time()
    try: import slowai.learner, slowai.callbacks, slowai.resnet, slowai.checkpoints  # noqa: F401
    except Exception as e:
        record('FAIL', 'imports', f"{type(e).__name__}: {e} (slowai from {ROOT})"); return finish()
    name = torch.cuda.get_device_name(dev) if dev.type == 'cuda' else 'CPU'
    print(f"slowai from {Path(slowai.__file__).parent}; torch {torch.__version__} on {name}", flush=True)
    warnings.filterwarnings('ignore', message='.*(deterministic|warn_only).*')  # the resume check asks for determinism, warn_only
    run_checks(dev)
    print(f"gpu checks took {time.time() - t0:.0f} s")
    return finish()


if __name__ == '__main__': sys.exit(main())
