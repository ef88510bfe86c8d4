"""Run every notebook as a test with nbdev's `test_nb` and end with 'N passed, N failed'.

Notebooks run in separate processes, `--jobs` at a time, each with one torch thread (OMP_NUM_THREADS=1, unless set):
a fixed thread count makes the real-data training cells reproduce the numbers saved in the notebooks bit for bit.
"""
import argparse, os, subprocess, sys, time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

def test_one(fn, flags):
    from nbdev.config import get_config
    from nbdev.test import test_nb
    cfg = get_config()
    ok, secs = test_nb(Path(fn).absolute(), skip_flags=cfg.tst_flags.split(), force_flags=flags.split(), basepath=cfg.config_path)
    sys.exit(0 if ok else 1)

def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument('notebooks', nargs='*', help='notebooks to test (default: every nbs/*.ipynb not starting with _)')
    p.add_argument('--flags', default='', help='space separated tst_flags to run (they are skipped otherwise)')
    p.add_argument('--jobs', type=int, default=2, help='notebooks run at the same time')
    p.add_argument('--one', help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.one: return test_one(a.one, a.flags)
    root = Path(__file__).resolve().parent.parent
    nbs = [Path(o).absolute() for o in a.notebooks] or sorted(
        f for f in (root/'nbs').glob('*.ipynb') if not f.name.startswith(('_', '.')))
    env = {**os.environ, 'OMP_NUM_THREADS': os.environ.get('OMP_NUM_THREADS', '1')}
    def run(fn):
        t0 = time.time()
        r = subprocess.run([sys.executable, __file__, '--one', str(fn), '--flags', a.flags], env=env, cwd=root,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        ok, secs = r.returncode == 0, time.time() - t0
        print(f"{'PASS' if ok else 'FAIL'}  {fn.name:<32} {secs:7.1f} s", flush=True)
        if not ok: print(r.stdout, flush=True)
        return ok
    t0 = time.time()
    with ThreadPoolExecutor(a.jobs) as ex: res = list(ex.map(run, nbs))
    n_ok = sum(res)
    print(f"notebooks: {time.time()-t0:.0f} s in all, {a.jobs} at a time")
    print(f"{n_ok} passed, {len(res)-n_ok} failed")
    sys.exit(0 if n_ok == len(res) else 1)

if __name__ == '__main__': main()
