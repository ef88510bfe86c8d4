"""`make test`'s test run: every notebook (tools/run_tests.py), one notebook through the Jupyter kernel (test_kernel.py),
the README's Python snippets (test_readme.py), a docstring for every public name (check_api.py), extension only by adding,
no import cycles and modules of at most 450 lines (check_structure.py), the docs site
(test_docs.py), and no machine paths in the notebooks, README and site (check_paths.py).

Streams each, then sums their closing 'N passed, N failed[, N skipped]' lines into one, and exits non-zero if any failed.
"""
import subprocess, sys, time

from common import COUNTS, ROOT, counts

STEPS = [('notebooks', ['tools/run_tests.py', '--flags', 'slow']),
         ('kernel', ['tools/test_kernel.py']),
         ('readme', ['tools/test_readme.py']),
         ('wheel', ['tools/test_wheel.py']),
         ('api', ['tools/check_api.py']),
         ('structure', ['tools/check_structure.py']),
         ('docs', ['tools/test_docs.py']),
         ('paths', ['tools/check_paths.py'])]  # after docs: it reads _docs/ too

def run(name, args):
    print(f"==> {name}: {' '.join(args)}", flush=True)
    p = subprocess.Popen([sys.executable, *args], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    got = None
    for line in p.stdout:
        print(line, end='', flush=True)
        if m := COUNTS.fullmatch(line): got = [int(o or 0) for o in m.groups()]
    p.wait()
    if got is None: got = [0, 1, 0]; print(f"==> {name}: no closing count (exit code {p.returncode}): counted as a failure")
    elif p.returncode and not got[1]: got[1] = 1; print(f"==> {name}: exit code {p.returncode}: counted as a failure")
    return got

t0 = time.time()
tot = [sum(o) for o in zip(*(run(n, a) for n, a in STEPS))]
print(f"==> tests took {time.time()-t0:.0f} s")
print(counts(*tot))
sys.exit(1 if tot[1] else 0)
