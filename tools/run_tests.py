"""Test notebooks with nbdev's `nbdev_test`, one notebook per call, `--n_workers` calls at a time, with one torch thread
(OMP_NUM_THREADS=1, unless set: the training cells then reproduce the numbers saved in the notebooks bit for bit).

On top of nbdev_test, only what test_all.py needs: a PASS/FAIL line per notebook with its time, the failing notebook's
traceback right under it (nbdev_test's own output, kept apart from the other notebooks'), and a closing 'N passed, N failed'.

    python tools/run_tests.py [--flags slow] [--n_workers 2] [nbs/00_core.ipynb ...]
"""
import argparse, subprocess, sys, time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from common import ROOT, counts, notebooks, one_thread_env, page_name

NBDEV_TEST = Path(sys.executable).with_name('nbdev_test')
# the notebooks that take minutes, by page name (the number may change), longest first: started first, the short ones
# fill in beside them
SLOW_FIRST = ['faults', 'cli', 'recipes', 'resnet', 'accelerate', 'optimizers', 'checkpoints', 'fast_optimizers']


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('notebooks', nargs='*', help="notebooks to test (default: nbdev's, every nbs/*.ipynb not starting with _ or .)")
    p.add_argument('--flags', default='', help="nbdev_test's --flags: space separated tst_flags to run (skipped otherwise)")
    p.add_argument('--n_workers', type=int, default=2, help='notebooks tested at the same time')
    a = p.parse_args()
    nbs, env = notebooks(a.notebooks), one_thread_env()
    rank = {f'{p}.html': i for i, p in enumerate(SLOW_FIRST)}
    nbs.sort(key=lambda fn: rank.get(page_name(fn), len(rank)))  # the longest start first

    def run(fn: Path) -> str:
        t0 = time.time()
        r = subprocess.run([str(NBDEV_TEST), '--path', str(fn), '--flags', a.flags], env=env, cwd=ROOT,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        # nbdev_test passes a notebook it leaves out (`.notest` beside it) or cannot find: skipped, or failed if it is missing
        status = 'FAIL' if r.returncode or not fn.exists() else 'SKIP' if 'No files were eligible' in r.stdout else 'PASS'
        print(f"{status}  {fn.name:<32} {time.time()-t0:7.1f} s", flush=True)
        if status != 'PASS': print(r.stdout.rstrip(), flush=True)
        return status

    t0 = time.time()
    with ThreadPoolExecutor(a.n_workers) as ex: res = list(ex.map(run, nbs))
    print(f"notebooks: {time.time()-t0:.0f} s in all, {a.n_workers} at a time (nbdev_test --flags '{a.flags}')")
    print(counts(res.count('PASS'), res.count('FAIL'), res.count('SKIP')))
    return 1 if 'FAIL' in res else 0


if __name__ == '__main__': sys.exit(main())
