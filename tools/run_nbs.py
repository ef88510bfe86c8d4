"Re-execute notebooks in place, top to bottom, every flagged cell included, so their saved outputs come from the current code."
import os, sys, time
os.environ.setdefault('OMP_NUM_THREADS', '1')  # as tools/run_tests.py: the same numbers as the tests
from pathlib import Path
from execnb.shell import CaptureShell
from nbdev.config import get_config

cfg = get_config()
nbs = [Path(o) for o in sys.argv[1:]] or sorted(f for f in cfg.nbs_path.glob('*.ipynb') if not f.name.startswith(('_', '.')))
for fn in nbs:
    t0 = time.time()
    print(f"executing {fn} ...", flush=True)
    sh = CaptureShell()
    try: sh.execute(fn.absolute(), fn.absolute(), exc_stop=True)
    except Exception:
        sys.stderr.write(sh.prettytb(fname=fn) + '\n'); sys.exit(1)
    print(f"  done in {time.time()-t0:.0f} s", flush=True)
