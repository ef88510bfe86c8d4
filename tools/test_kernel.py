"""Run a notebook as JupyterLab runs it: through the kernel that `make install` registers ("Python 3 (slowai)", named
`python3`, in the venv's share/jupyter), with nbclient, on a copy in a scratch directory; nbs/ is only read. The cells
`nbdev_test` leaves out (`nbdev_export()`, `#| eval: false`, the `tst_flags` flags) are left out here too, and the copy
gets one last cell that prints the kernel's `sys.prefix`. Also checks that `jupyter lab --version` runs.
Ends with 'N passed, N failed'.

Usage: .venv/bin/python tools/test_kernel.py [nbs/03_models.ipynb]   # default: the notebook of the page models.html
"""
import hashlib, subprocess, sys, tempfile, time
from pathlib import Path

import nbformat
from nbdev.process import extract_directives
from common import KERNEL, ROOT, by_page, cfg, check, finish, read_nb, run_in_kernel, venv_kernelspec

VENV = Path(sys.prefix).resolve()
PREFIX_MARK = 'kernel sys.prefix: '
def rel(p:Path): return p.relative_to(ROOT) if p.is_relative_to(ROOT) else p
def first(c)->str: return next((l for l in c.source.splitlines() if l.strip()), '')

def skipped_by_nbdev_test(cell)->bool:
    "Whether `nbdev_test` (without --flags) leaves this code cell out"
    if 'nbdev_export' + '(' in cell.source: return True
    d = extract_directives(nbformat.from_dict(dict(cell)), remove=False)
    return d.get('eval:', [''])[0].lower() == 'false' or bool(set(cfg.tst_flags.split()) & d.keys())

def kinds(outputs)->list:
    "What a cell's outputs are: stream names and mime types, in order"
    return [o.get('name') or o.output_type if o.output_type in ('stream', 'error') else '+'.join(sorted(o.get('data', {})))
            for o in outputs]

def main(src:Path):
    print(f"running {rel(src)} through the kernel '{KERNEL}' with nbclient (OMP_NUM_THREADS=1)", flush=True)
    before = hashlib.sha256(src.read_bytes()).hexdigest()

    @check(f"the kernelspec '{KERNEL}' is the one `make install` registers in {rel(VENV)}")
    def _():
        ks = venv_kernelspec()
        return f"{ks.resource_dir}, argv[0] {ks.argv[0]}"

    @check('`jupyter lab --version` runs')
    def _():
        p = subprocess.run([str(VENV/'bin'/'jupyter'), 'lab', '--version'], capture_output=True, text=True, timeout=120)
        assert p.returncode == 0 and p.stdout.strip(), f"exit code {p.returncode}: {(p.stderr or p.stdout).strip()[-500:]}"
        return f"JupyterLab {p.stdout.strip()}"

    nb = read_nb(src)
    saved = [kinds(c.outputs) for c in nb.cells if c.cell_type == 'code' and not skipped_by_nbdev_test(c)]
    n_left = sum(c.cell_type == 'code' for c in nb.cells) - len(saved)
    nb.cells = [c for c in nb.cells if c.cell_type != 'code' or not skipped_by_nbdev_test(c)]
    nb.cells.append(nbformat.v4.new_code_cell(f"import sys; print({PREFIX_MARK!r} + sys.prefix)"))
    for c in nb.cells:
        if c.cell_type == 'code': c.outputs, c.execution_count = [], None  # a fresh run: no saved output survives
    with tempfile.TemporaryDirectory(prefix='slowai-kernel-') as tmp:
        t0 = time.time()
        err = run_in_kernel(nb, cwd=Path(tmp))  # one torch thread; the kernel's own inline plots, as in Lab
        secs, err = time.time() - t0, err and err.splitlines()[-1]  # the error outputs say more, below
        copy = Path(tmp)/src.name
        nbformat.write(nb, copy)
        ran = read_nb(copy)
        code = [c for c in ran.cells if c.cell_type == 'code']

        @check(f"the {len(code)-1} cells ran without an error ({n_left} left out as nbdev_test does), in {secs:.1f} s")
        def _():
            errs = [(c, o) for c in code for o in c.outputs if o.output_type == 'error']
            assert not errs, f"the cell `{first(errs[0][0])}`: {errs[0][1].ename}: {errs[0][1].evalue}"
            assert not err, err
            not_run = [first(c) for c in code if c.source.strip() and c.execution_count is None]
            assert not not_run, f"{len(not_run)} cells did not run, from `{not_run[0]}` on"

        @check("the kernel's Python is the venv's")
        def _():
            out = ''.join(o.get('text', '') for o in code[-1].outputs if o.output_type == 'stream')
            got = out.split(PREFIX_MARK)[-1].strip() if PREFIX_MARK in out else None
            assert got, "the last cell, which prints it, did not run"
            assert Path(got).resolve() == VENV, f"the kernel's sys.prefix is {got}, not {VENV}"
            return f"sys.prefix {got}"

        @check("outputs exist: text results and inline figures, wherever the saved notebook has outputs")
        def _():
            new = [kinds(c.outputs) for c in code[:-1]]
            assert len(new) == len(saved), f"{len(new)} code cells ran, the saved notebook has {len(saved)}"
            lost = [first(c) for c, s, n in zip(code, saved, new) if s and not n]
            assert not lost, f"{len(lost)} cells have outputs in {src.name} but made none, the first `{lost[0]}`"
            ks = {k for o in new for k in o}
            assert any('text/plain' in k for k in ks) and any('image/png' in k for k in ks), f"output kinds: {sorted(ks)}"
            return f"{sum(map(len, new))} outputs in {sum(map(bool, new))} cells: " + ', '.join(sorted(ks))

    @check(f"{rel(src)} is left as it was")
    def _(): assert hashlib.sha256(src.read_bytes()).hexdigest() == before, f"{src} changed while the test ran"

    return finish()

if __name__ == '__main__':
    sys.exit(main(Path(sys.argv[1]).resolve() if len(sys.argv) > 1 else by_page('models')))
