"""`make test`'s wheel step: the wheel installs and works outside the clone, as `pip install dist/slowai_lib-*.whl` gives it.

1. Builds the sdist and, from it, the wheel (`python -m build --no-isolation`: the venv's setuptools, nothing downloaded) into
   a temporary folder, and reads the wheel: the package `slowai` and its metadata (name slowai-lib, dependencies, extras).
2. Creates a fresh venv in a temporary folder outside the source tree. Installing torch into it would cost minutes and
   gigabytes, so it gets the dependencies already installed in .venv, without slowai itself: a folder of symlinks to
   everything in .venv's site-packages except slowai's own entries (the package, its dist-info, the editable install's
   finder and .pth), added by a .pth file in the fresh venv's site-packages (`site.addsitedir`, so their .pth files work).
   `import slowai` must fail there before the wheel is in.
3. `pip install --no-deps` the wheel into it; `pip check` is clean there.
4. From a temporary working directory outside the tree, with the fresh venv's Python: slowai comes from the fresh venv,
   a short fit (a small net on slowai.test_utils' 3-class problem, `TrainCB`, our `Adam`) learns, `lr_find(show=False)` returns
   the suggestion and its figure, an `export`/`load_learner` round trip (the seed's CNN from `build('cnn')`, one epoch on
   synthetic images: the same outputs and `predict_item`), and the venv's console script `slowai-train --help` runs.
One line per check (PASS/FAIL/SKIP name: detail), then 'N passed, N failed[, N skipped]'. Takes about half a minute.

    .venv/bin/python tools/test_wheel.py
"""
import json, os, re, site, subprocess, sys, tempfile, time, venv, zipfile
from functools import partial
from pathlib import Path
from types import SimpleNamespace

from common import ROOT, cfg, check, finish, record

DIST = cfg.lib_name                          # slowai-lib: the distribution
PKG = cfg.lib_path.name                      # slowai: the package it installs
WHEEL_STEM = re.sub(r'[-_.]+', '_', DIST)    # slowai_lib: how a wheel's file name spells the distribution
OWN = re.compile(r'slowai', re.I)            # slowai's own entries in .venv's site-packages: left out of the fresh venv

def run(cmd, cwd, env=None, timeout=300):
    return subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)

# ---------------------------------------------------------------- 1. the wheel

def build_wheel(out: Path) -> Path:
    r = run([sys.executable, '-m', 'build', '--no-isolation', '--outdir', out, ROOT], cwd=ROOT)
    assert r.returncode == 0, f"python -m build failed:\n{(r.stdout + r.stderr)[-3000:]}"
    whl = sorted(out.glob('*.whl'))
    want = f'{WHEEL_STEM}-{cfg.version}-py3-none-any.whl'
    assert [w.name for w in whl] == [want], f"built {[w.name for w in whl]}, expected {want}"
    sdist = out/f'{WHEEL_STEM}-{cfg.version}.tar.gz'
    assert sdist.is_file(), f"no sdist {sdist.name} in {sorted(o.name for o in out.iterdir())}"
    return SimpleNamespace(path=whl[0], detail=f"{whl[0].stat().st_size/1024:.0f} KiB wheel, {sdist.stat().st_size/1024:.0f} KiB sdist")

def wheel_contents(whl: Path) -> str:
    with zipfile.ZipFile(whl) as z: names, meta = z.namelist(), z.read(f'{WHEEL_STEM}-{cfg.version}.dist-info/METADATA').decode()
    top = sorted({n.split('/')[0] for n in names})
    want = [PKG, f'{WHEEL_STEM}-{cfg.version}.data', f'{WHEEL_STEM}-{cfg.version}.dist-info']   # .data: the command scripts
    assert top == want, f"the wheel's top level is {top}: only {PKG}/, its commands (.data) and its dist-info belong there"
    mods = sorted(n.split('/', 1)[1] for n in names if n.startswith(PKG + '/'))
    tree = sorted(p.relative_to(cfg.lib_path).as_posix() for p in cfg.lib_path.rglob('*.py') if '__pycache__' not in p.parts)
    assert mods == tree, f"the wheel's {PKG}/ differs from the tree's: missing {sorted(set(tree) - set(mods))}, extra {sorted(set(mods) - set(tree))}"
    field = lambda k: re.findall(rf'^{k}: (.*)$', meta, re.M)
    assert field('Name') == [DIST], f"Name: {field('Name')}, expected {DIST}"
    reqs = [(re.match(r'[A-Za-z0-9_.-]+', r).group().lower(), re.search(r'extra == "([^"]+)"', r)) for r in field('Requires-Dist')]
    needs = {n for n, e in reqs if e is None}                          # what every install brings
    extra = lambda x: {n for n, e in reqs if e and e.group(1) == x}    # what an extra adds
    for dep in ('torch', 'torchvision', 'numpy', 'pillow', 'fastcore', 'fastprogress', 'matplotlib', 'torcheval', 'datasets'):
        assert dep in needs, f"{dep} is not a dependency: {sorted(needs)}"
    extras = field('Provides-Extra')
    for e in ('accelerate', 'tensorboard', 'dev'): assert e in extras, f"no extra {e!r}: {extras}"
    for e in ('accelerate', 'tensorboard'):
        assert e not in needs and e in extra(e) and e in extra('dev'), f"{e}: not only in its extra and dev's ({sorted(needs)}, {sorted(extra(e))})"
    with zipfile.ZipFile(whl) as z: names = z.namelist()
    for cmd in ('slowai-train', 'slowai-predict'):   # the commands: launcher scripts (see scripts/)
        assert f'{WHEEL_STEM}-{cfg.version}.data/scripts/{cmd}' in names, f"no command {cmd} in the wheel's scripts"
    return f"{len(mods)} modules; Name: {DIST}; {len(needs)} dependencies ({', '.join(sorted(needs))}); extras {', '.join(extras)}"

def z_read(whl, name):
    with zipfile.ZipFile(whl) as z: return z.read(name).decode()

# ---------------------------------------------------------------- 2. the fresh venv, with .venv's dependencies

def fresh_venv(tmp: Path) -> Path:
    "A venv in `tmp`, with .venv's site-packages less slowai's entries on its path; returns its Python."
    env_dir, links = tmp/'venv', tmp/'deps'
    venv.EnvBuilder(with_pip=False, symlinks=True).create(env_dir)
    py = env_dir/'bin'/'python'
    sp = Path(run([py, '-c', 'import sysconfig; print(sysconfig.get_paths()["purelib"])'], cwd=tmp).stdout.strip())
    assert sp.is_dir() and sp.is_relative_to(env_dir), f"the fresh venv's site-packages {sp} is not inside {env_dir}"
    ours = [Path(p) for p in site.getsitepackages() if Path(p).is_dir()]
    assert ours, 'no site-packages in this interpreter: run with .venv/bin/python'
    links.mkdir()
    left_out = []
    for d in ours:
        for e in sorted(d.iterdir()):
            if OWN.search(e.name): left_out.append(e.name); continue
            if not (links/e.name).exists(): (links/e.name).symlink_to(e)
    (sp/'_dependencies_of_dot_venv.pth').write_text(f"import site; site.addsitedir({str(links)!r})\n")
    return SimpleNamespace(py=py, sp=sp, detail=f"{len(list(links.iterdir()))} entries of .venv's site-packages linked; left out: {', '.join(left_out)}")

def no_slowai_yet(py, work, env):
    r = run([py, '-c', f'import {PKG}; print({PKG}.__file__)'], cwd=work, env=env)
    assert r.returncode != 0, f"`import {PKG}` works in the fresh venv before the wheel is in: from {r.stdout.strip()}"
    assert 'ModuleNotFoundError' in r.stderr, r.stderr[-800:]
    return f"`import {PKG}` fails there before the install (ModuleNotFoundError)"

def pip_install(py, whl, work, env, sp):
    r = run([py, '-m', 'pip', 'install', '--no-deps', '--no-index', '-q', whl], cwd=work, env=env)
    assert r.returncode == 0, f"pip install --no-deps {whl.name} failed:\n{(r.stdout + r.stderr)[-3000:]}"
    assert (sp/PKG/'__init__.py').is_file(), f"no {PKG}/__init__.py in {sp} after the install"
    return f"pip install --no-deps {whl.name}"

def pip_check(py, work, env):
    r = run([py, '-m', 'pip', 'check'], cwd=work, env=env)
    assert r.returncode == 0, f"pip check in the fresh venv:\n{(r.stdout + r.stderr)[-3000:]}"
    return r.stdout.strip()

# ---------------------------------------------------------------- 4. using it, outside the tree

# Runs with the fresh venv's Python in a scratch directory; prints one JSON line per check: [status, name, detail].
USE = r'''
import json, math, os, sys, tempfile, traceback
from pathlib import Path
def say(status, name, detail=''): print(json.dumps([status, name, str(detail)]), flush=True)
def check(name):
    def deco(f):
        try: say('PASS', name, f() or '')
        except Exception as e: say('FAIL', name, f"{type(e).__name__}: {e}\n{traceback.format_exc()[-1500:]}")
        return f
    return deco
prefix, tree = Path(sys.prefix).resolve(), Path(sys.argv[1]).resolve()

@check('slowai comes from the fresh venv, not the source tree')
def _():
    import slowai
    from importlib.metadata import version, distribution
    f = Path(slowai.__file__).resolve()
    assert f.is_relative_to(prefix), f"slowai is {f}, outside the fresh venv {prefix}"
    assert not f.is_relative_to(tree), f"slowai is {f}, in the source tree"
    assert slowai.__version__ == version(sys.argv[2]) == sys.argv[3], (slowai.__version__, version(sys.argv[2]))
    assert Path(distribution(sys.argv[2]).locate_file('')).resolve().is_relative_to(prefix)
    return f"{f.relative_to(prefix)}, {sys.argv[2]} {slowai.__version__}"

import torch, torch.nn as nn, torch.nn.functional as F
from slowai.data import DataLoaders, TensorDataLoader
from slowai.learner import Learner, MetricsCB, MulticlassAccuracy, TrainCB
from slowai.optimizers import Adam
from slowai.test_utils import cls_dls  # the tiny 3-class problem the notebooks test with
def learner():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 3))
    return Learner(model, cls_dls(), F.cross_entropy, lr=1e-2, cbs=[TrainCB(), MetricsCB(MulticlassAccuracy())], opt_func=Adam)
learn = learner()

@check('a short fit learns (TrainCB, our Adam, MetricsCB)')
def _():
    learn.metrics_cb = next(cb for cb in learn.cbs if isinstance(cb, MetricsCB))
    learn.metrics_cb._log = lambda row: None
    learn.fit(4)
    ev = [r for r in learn.metrics_cb.history if r['phase'] == 'eval']
    assert len(ev) == 4 and ev[-1]['loss'] < ev[0]['loss'], f"valid losses {[round(r['loss'], 4) for r in ev]}"
    assert ev[-1]['MulticlassAccuracy'] > 0.9, f"valid accuracy {ev[-1]['MulticlassAccuracy']:.3f}"
    return f"valid loss {ev[0]['loss']:.3f} -> {ev[-1]['loss']:.3f}, accuracy {ev[-1]['MulticlassAccuracy']:.3f}"

@check('lr_find(show=False) returns the suggestion and its figure')
def _():
    import matplotlib.figure
    import slowai.schedulers  # lr_find comes with the schedulers, as in fastai's callback.schedule
    res = learner().lr_find(show=False, num_it=40)
    lr, fig = res
    assert isinstance(lr, float) and math.isfinite(lr) and 1e-7 <= lr <= 10, f"suggested lr {lr!r}"
    assert isinstance(fig, matplotlib.figure.Figure), f"figure {type(fig)}"
    return f"lr {lr:.2e}, {type(fig).__name__}"

@check('export and load_learner round trip: the same outputs and predictions')
def _():
    from slowai.all import build, load_learner  # from whichever module has them
    g = torch.Generator().manual_seed(0)
    ys = torch.randint(0, 10, (320,), generator=g)
    pats = torch.randn(10, 28, 28, generator=g)
    xs = (128 + 50*pats[ys] + 30*torch.randn(320, 28, 28, generator=g)).clamp(0, 255).to(torch.uint8)
    m, s = xs.float().mean().item(), xs.float().std().item()
    dls = DataLoaders(train=TensorDataLoader(xs[:256], ys[:256], bs=64, shuffle=True, seed=0, mean=m, std=s),
                      valid=TensorDataLoader(xs[256:], ys[256:], bs=64, mean=m, std=s))
    torch.manual_seed(0)
    learn = Learner(build('cnn'), dls, F.cross_entropy, lr=1e-2, cbs=[TrainCB()], opt_func=Adam)
    learn.fit(1)
    fn = Path(tempfile.mkdtemp())/'model.slowai'
    learn.export(fn)
    back = load_learner(fn)
    xb = dls['valid'].batch(slice(0, 64))[0]
    learn.model.eval(); back.model.eval()
    with torch.no_grad(): a, b = learn.model(xb), back.model(xb)
    assert torch.equal(a, b), f"outputs differ by up to {(a - b).abs().max().item():.3g}"
    pa, pb = learn.predict_item(xs[300]), back.predict_item(xs[300])
    assert pa.index == pb.index and torch.equal(pa.probs, pb.probs), f"predict_item: {pa} vs {pb}"
    return f"build('cnn'), export {fn.stat().st_size/1024:.0f} KiB, load_learner: outputs of 64 images equal, predict of a uint8 image equal (class {pb.index})"
'''

def use(py, work, env):
    "Run USE with the fresh venv's Python; record its checks"
    t0 = time.time()
    r = run([py, '-c', USE, ROOT, DIST, cfg.version], cwd=work, env=env)
    print(f"     the checks in the fresh venv took {time.time() - t0:.1f} s")
    got = 0
    for line in r.stdout.splitlines():
        try: status, name, detail = json.loads(line)
        except ValueError: continue
        record(status, name, detail); got += 1
    if r.returncode or not got: record('FAIL', 'the checks in the fresh venv ran', f"exit {r.returncode}, {got} checks:\n{(r.stdout + r.stderr)[-3000:]}")

def console_script(env_dir, work, env):
    exe = env_dir/'bin'/'slowai-train'
    assert exe.is_file(), f"no {exe.name} in the fresh venv's bin/"
    first = exe.read_text().splitlines()[0]
    assert first.startswith('#!') and Path(first[2:].strip()).parent == env_dir/'bin', f"{exe.name} runs {first}, not the fresh venv's Python"
    r = run([exe, '--help'], cwd=work, env=env)
    assert r.returncode == 0 and 'usage' in r.stdout.lower(), f"exit {r.returncode}:\n{(r.stdout + r.stderr)[-2000:]}"
    return f"exit 0, {len(r.stdout.splitlines())} lines of help"


def main():
    t0 = time.time()
    with tempfile.TemporaryDirectory(prefix='slowai-wheel-') as tmp:
        tmp = Path(tmp).resolve()
        assert not tmp.is_relative_to(ROOT), f"the temporary folder {tmp} is inside the source tree"
        whl = check(f'the sdist and the wheel build ({WHEEL_STEM}-{cfg.version}-py3-none-any.whl)')(partial(build_wheel, tmp/'dist'))
        if whl: check(f'the wheel holds {PKG}/ as in the tree, named {DIST}, with its dependencies, extras and commands')(partial(wheel_contents, whl.path))
        made = whl and check("a fresh venv outside the tree, with .venv's dependencies but not slowai")(partial(fresh_venv, tmp))
        if made:
            py, sp, work = made.py, made.sp, tmp/'work'
            work.mkdir()
            env = {k: v for k, v in os.environ.items() if k not in ('PYTHONPATH', 'PYTHONHOME', 'PYTHONSTARTUP', 'PYTHONSAFEPATH')}
            env.update(VIRTUAL_ENV=str(py.parent.parent), PATH=f"{py.parent}{os.pathsep}{env.get('PATH', '')}", OMP_NUM_THREADS='1',
                       MPLBACKEND='Agg', PIP_DISABLE_PIP_VERSION_CHECK='1', PYTHONNOUSERSITE='1')
            check(f'{PKG} is not importable in the fresh venv before the install')(partial(no_slowai_yet, py, work, env))
            if check('the wheel installs with pip --no-deps')(partial(pip_install, py, whl.path, work, env, sp)):
                check('pip check is clean in the fresh venv')(partial(pip_check, py, work, env))
                use(py, work, env)
                check("the fresh venv's command slowai-train --help runs")(partial(console_script, py.parent.parent, work, env))
    print(f"wheel checks took {time.time() - t0:.0f} s")
    return finish()


if __name__ == '__main__': sys.exit(main())
