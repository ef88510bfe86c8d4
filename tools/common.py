"""What the tools share, written once: the notebooks nbdev works on and their page names, the one-thread environment
notebooks run in, running a notebook through the venv's Jupyter kernel, and the checks' PASS/FAIL/SKIP lines with the
closing 'N passed, N failed[, N skipped]' line that test_all.py sums."""
import atexit, os, re, sys, tempfile, time, traceback, warnings
from pathlib import Path

from nbdev.config import get_config
from nbdev.doclinks import _nbpath2html, nbglob

cfg = get_config(path=Path(__file__).resolve().parent.parent)  # this repository, from any directory outside another nbdev project
ROOT, NBS = cfg.config_path, cfg.nbs_path
KERNEL, KERNEL_NAME = 'python3', 'Python 3 (slowai)'  # the kernelspec `make install` registers inside the venv
ANSI = re.compile(r'\x1b\[[0-9;]*m')


def notebooks(names=()) -> list[Path]:
    "The notebooks `names` (paths, or file names in nbs/), else nbdev's own list (nbglob: none under a name starting with `_` or `.`)."
    if names: return [Path(n).absolute() if Path(n).exists() else NBS/n for n in names]
    return sorted(nbglob(NBS, as_path=True))


def page_name(nb) -> str:
    "The page nbdev makes of a notebook (its FrontmatterProc's `output-file`, doclinks' links): 01_data.ipynb -> data.html."
    return _nbpath2html(Path(nb)).name


def by_page(page: str) -> Path:
    "The notebook whose page is `page` (`optimizers` or `optimizers.html`), whatever its number; NBS/page.ipynb if none is."
    page = page if page.endswith('.html') else page + '.html'
    return next((nb for nb in notebooks() if page_name(nb) == page), NBS/page.replace('.html', '.ipynb'))


def one_thread_env(**kw) -> dict:
    """os.environ with OMP_NUM_THREADS=1 (unless it is set): with one torch thread the training cells reproduce the
    numbers saved in the notebooks bit for bit."""
    return {**os.environ, 'OMP_NUM_THREADS': os.environ.get('OMP_NUM_THREADS', '1'), **kw}


# ---------------------------------------------------------------- the checks' lines and their count

COUNTS = re.compile(r'(\d+) passed, (\d+) failed(?:, (\d+) skipped)?\s*')
results = []  # (status: PASS, FAIL or SKIP, name, detail), one per check run in this process

class Skip(Exception): "A check that cannot run here: counted as skipped, with this reason."

def counts(passed: int, failed: int, skipped: int = 0) -> str:
    "The closing line of every test tool, which test_all.py reads (COUNTS) and sums."
    return f"{passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else '')

def record(status: str, name: str, detail: str = ''):
    results.append((status, name, detail))
    print(f"{status:4} {name}" + (f": {detail}" if detail else ''), flush=True)

def check(name: str):
    """Decorator: run the check now. It passes unless it raises (an AssertionError's message is the reason; `Skip` skips it);
    what it returns, a string or an object's `detail`, is printed after its name. The decorated name holds what it returned,
    or None where it failed or was skipped."""
    def deco(f):
        t0 = time.time()
        try: out = f()
        except Skip as e: record('SKIP', name, str(e)); return None
        except AssertionError as e: record('FAIL', name, str(e)); return None
        except Exception as e:
            record('FAIL', name, f"{type(e).__name__}: {e}\n{traceback.format_exc()[-2000:]}"); return None
        secs = time.time() - t0
        detail = (out if isinstance(out, str) else getattr(out, 'detail', '')) + (f" [{secs:.1f} s]" if secs >= 1 else '')
        record('PASS', name, detail.strip())
        return out
    return deco

def finish() -> int:
    "Name the failed checks again, then print the closing count line; the exit code: 1 if a check failed."
    n = {k: sum(r[0] == k for r in results) for k in ('PASS', 'FAIL', 'SKIP')}
    if n['FAIL']: print('\nFAILED:\n' + '\n'.join(f'  {r[1]}: {r[2].splitlines()[0] if r[2] else ""}' for r in results if r[0] == 'FAIL'))
    print(counts(n['PASS'], n['FAIL'], n['SKIP']))
    return 1 if n['FAIL'] else 0


# ---------------------------------------------------------------- notebooks through the venv's Jupyter kernel

def venv_kernelspec():
    "The kernelspec KERNEL, checked to be the one `make install` put in this venv (a user-wide `python3` would shadow it)."
    from jupyter_client.kernelspec import KernelSpecManager
    venv = Path(sys.prefix).resolve()
    assert sys.prefix != sys.base_prefix, f"run this with the venv's Python (.venv/bin/python), not {sys.executable}"
    ks = KernelSpecManager().get_kernel_spec(KERNEL)
    rd, exe = Path(ks.resource_dir).resolve(), Path(ks.argv[0])
    assert rd == venv/'share'/'jupyter'/'kernels'/KERNEL, \
        f"'{KERNEL}' resolves to {rd}, not the venv's share/jupyter/kernels/{KERNEL}: run `make install`, or remove the other one"
    assert exe.is_absolute() and exe.parent.resolve().is_relative_to(venv), f"its argv[0] {exe} is not inside {venv}"
    assert ks.display_name == KERNEL_NAME, f"its display name is {ks.display_name!r}, not {KERNEL_NAME!r}"
    return ks


def read_nb(fn: Path):
    "`fn` as nbformat reads it (what nbclient runs), without the warning for a cell with no id yet (nbdev_clean gives it one)."
    import nbformat
    from nbformat.warnings import MissingIDFieldWarning
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', MissingIDFieldWarning)
        return nbformat.read(fn, as_version=4)


def run_in_kernel(nb, cwd: Path, timeout: int = 600) -> str | None:
    """Execute the notebook node `nb` in place through the kernel KERNEL with nbclient, in `cwd`, with one torch thread
    and the kernel's own inline plots (no MPLBACKEND). Returns None, or what stopped it (a cell's error with its traceback).
    nbclient keeps the last state of each display (`update_display_data` replaces the output in place), as Jupyter shows it:
    fastprogress's final table, not the empty bar it started with."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError
    from jupyter_client import KernelManager
    env = {k: v for k, v in one_thread_env().items() if k != 'MPLBACKEND'}
    with tempfile.TemporaryDirectory(prefix='slowai-kernel-') as tmp:
        km = KernelManager(kernel_name=KERNEL, transport='ipc', ip=str(Path(tmp)/'kernel'))  # sockets here, not TCP ports
        client = NotebookClient(nb, km=km, kernel_name=KERNEL, timeout=timeout, record_timing=False,
                                resources={'metadata': {'path': str(cwd)}})
        try: client.execute(env=env, cleanup_kc=True)  # cleanup_kc: nbclient shuts down the kernel we hand it
        except CellExecutionError as e: return str(e).strip()
        except Exception as e: return f"the kernel did not run the notebook: {type(e).__name__}: {e}"
        finally:  # no kernel outlives the run; nbclient's exit hook, which would look for one, goes
            atexit.unregister(client._cleanup_kernel)
            if km.has_kernel: km.shutdown_kernel(now=True)
