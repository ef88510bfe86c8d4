"Run every notebook as a test with nbdev's `test_nb`, one at a time, and end with 'N passed, N failed'."
import argparse, sys, time, warnings
from pathlib import Path
from nbdev.config import get_config
from nbdev.test import test_nb

p = argparse.ArgumentParser(description=__doc__)
p.add_argument('notebooks', nargs='*', help='notebooks to test (default: every nbs/*.ipynb not starting with _)')
p.add_argument('--flags', default='', help='space separated tst_flags to run (they are skipped otherwise)')
a = p.parse_args()

cfg = get_config()
nbs = [Path(o).absolute() for o in a.notebooks] or sorted(
    f.absolute() for f in cfg.nbs_path.glob('*.ipynb') if not f.name.startswith(('_', '.')))
res, t0 = [], time.time()
for fn in nbs:
    ok, secs = test_nb(fn, skip_flags=cfg.tst_flags.split(), force_flags=a.flags.split(), basepath=cfg.config_path)
    print(f"{'PASS' if ok else 'FAIL'}  {fn.name:<32} {secs:7.1f} s", flush=True)
    res.append(ok)
n_ok = sum(res)
print(f"notebooks: {time.time()-t0:.0f} s in all")
print(f"{n_ok} passed, {len(res)-n_ok} failed")
sys.exit(0 if n_ok == len(res) else 1)
