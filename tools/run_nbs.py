"""Re-execute notebooks in place (`make nbs`), so their saved outputs, which the docs show, come from the current code.

Each notebook runs top to bottom, every cell (`#| slow` ones too), through the venv's Jupyter kernel "python3" with
nbclient, in nbs/, with one torch thread and 600 s a cell; then nbdev's `nbdev_clean --fname` cleans it.
Why a kernel and not execnb (nbdev_test's shell): ProgressCB shows fastprogress's HTML table only under a real kernel,
and that table, in its final state, is what the pages show. A notebook whose cell fails is left as it was.

    python tools/run_nbs.py [nbs/02_learner.ipynb | 02_learner.ipynb ...]   # default: nbdev's list of notebooks
"""
import subprocess, sys, time
from pathlib import Path

import nbformat
from common import NBS, notebooks, read_nb, run_in_kernel, venv_kernelspec

NBDEV_CLEAN = Path(sys.executable).with_name('nbdev_clean')


def main():
    try: ks = venv_kernelspec()
    except AssertionError as e: sys.exit(f"run_nbs: {e}")
    for fn in notebooks(sys.argv[1:]):
        t0 = time.time()
        print(f"executing {fn.name} in the kernel {ks.display_name!r} ...", flush=True)
        nb = read_nb(fn)
        if err := run_in_kernel(nb, cwd=NBS): sys.exit(f"{fn.name} failed, left as it was:\n{err}")
        nbformat.write(nb, fn)
        subprocess.run([str(NBDEV_CLEAN), '--fname', str(fn)], check=True)
        print(f"  done in {time.time()-t0:.0f} s, cleaned with nbdev_clean", flush=True)


if __name__ == '__main__': main()
