"""Build the docs site into _docs/: nbdev's notebook processing into _proc/, then Quarto (`nbdev_docs`) or, where
Quarto is not on PATH, smalldocs, a pure-Python renderer of the same _quarto.yml project. Notebooks are only read."""
import json, os, re, shutil, subprocess, sys, time
from concurrent.futures import ThreadPoolExecutor
from contextlib import redirect_stdout
from io import StringIO
from pathlib import Path

from nbdev.config import get_config
from nbdev.doclinks import nbglob

NUM_PREFIX = re.compile(r'^\d+[a-zA-Z0-9]*_')  # nbdev's doclinks strip this from page names (`_nbpath2html`): 00_data -> data.html


def page_name(name: str) -> str:
    "The page name nbdev's links expect for a notebook file name: no number prefix, lower case (nbdev.doclinks._nbpath2html)."
    return NUM_PREFIX.sub('', name.lower())


def _proc_nb(src, dst, skip_flags):
    "Run nbdev's docs processors (FilterDefaults) over one notebook, as nbdev.serve_drv does, into _proc/."
    import nbdev.processors as P
    from execnb.nbio import read_nb, write_nb
    # nbdev executes every cell with an import in it to build show_doc output; a cell flagged with a tst_flag
    # (`#| slow`: a full training run) is not run by nbdev_test either, so it is not run here. Its saved outputs stay.
    do_eval = P._do_eval
    P._do_eval = lambda cell: None if set(cell.directives_) & set(skip_flags) else do_eval(cell)
    os.environ['IN_TEST'] = '1'
    t0 = time.time()
    with redirect_stdout(StringIO()):
        nb = read_nb(src)
        P.FilterDefaults()(nb)
        write_nb(nb, dst)
    return f"  processed {Path(src).name} in {time.time()-t0:.1f} s"


def process(cfg, proc: Path) -> tuple[list[str], list[str]]:
    "nbdev's `_proc/` step (nbdev.serve.proc_nbs), always from scratch: notebooks processed, other files copied, plus sidebar.yml."
    from nbdev.quarto import nbdev_sidebar
    nbs = cfg.nbs_path
    shutil.rmtree(proc, ignore_errors=True)
    proc.mkdir(parents=True)
    files = list(nbglob(nbs, func=Path, file_glob='', file_re=''))
    for extra in ('_quarto.yml', '_brand.yml'):
        if (nbs/extra).exists(): files.append(nbs/extra)
    jobs, skip_flags = [], set(cfg.get('tst_flags', '').split())
    for s in files:
        rel = s.relative_to(nbs)
        if any(p.startswith('.') or p in ('_proc', '_docs', '_site') for p in rel.parts) or rel.name == 'sidebar.yml': continue
        d = proc/rel
        d.parent.mkdir(parents=True, exist_ok=True)
        if s.suffix == '.ipynb': jobs.append((str(s), str(d), sorted(skip_flags)))
        else: shutil.copy2(s, d)
    print(f"==> processing {len(jobs)} notebooks with nbdev's docs processors into {proc.name}/", flush=True)
    # one fresh interpreter per notebook, as nbdev's spawned workers (the processors run an IPython shell in-process)
    def run(job):
        r = subprocess.run([sys.executable, __file__, '--proc', json.dumps(job)], capture_output=True, text=True)
        if r.returncode == 0: return None, r.stdout.rstrip()
        return Path(job[0]).name, f"  FAILED {Path(job[0]).name}: nbdev's processing raised:\n" + '\n'.join(
            '    ' + l for l in (r.stdout + r.stderr).strip().splitlines()[-25:])
    failed = []
    with ThreadPoolExecutor(max_workers=min(2, os.cpu_count() or 1)) as ex:
        for bad, line in ex.map(run, jobs):
            print(line, flush=True)
            if bad: failed.append(bad)
    # the sidebar in notebook order (index first), as nbdev_docs writes it, from the notebooks just processed;
    # written into _proc/, not nbs/, so the notebooks folder is only read
    buf = StringIO()
    with redirect_stdout(buf): nbdev_sidebar.__wrapped__(path=proc, printit=True, force=True)
    (proc/'sidebar.yml').write_text(buf.getvalue())
    return [Path(j[1]).name for j in jobs], failed


def output_file(nb: Path) -> str | None:
    "The page name nbdev's FrontmatterProc gave a processed notebook (`output-file: data.html`), which Quarto obeys."
    import yaml
    from execnb.nbio import read_nb
    cells = read_nb(nb).cells
    if not cells or cells[0].cell_type != 'raw': return None
    m = re.match(r'^---\n(.*?)\n---', cells[0].source.strip() + '\n', re.S)
    fm = (yaml.safe_load(m.group(1)) if m else None) or {}
    return fm.get('output-file')


def fix_page_names(proc: Path):
    """smalldocs names a page after its file and does not read `output-file`: rename `00_data.ipynb` to `data.ipynb`, so the
    page is data.html, as Quarto makes it and as nbdev's doc links (`data.html#dataloaders`) expect; fix the sidebar and links."""
    renames = {}
    for f in sorted(proc.rglob('*.ipynb')):
        out = output_file(f) or page_name(f.stem + '.html')
        new = f.with_name(Path(out).stem + '.ipynb')
        if new != f:
            if new.exists(): sys.exit(f"docs: {f.name} and {new.name} would both be the page {out}")
            f.rename(new); renames[f.stem] = new.stem
    if not renames: return
    pat = re.compile(r'(?<![\w/.-])(' + '|'.join(re.escape(o) for o in renames) + r')\.(ipynb|html|qmd)\b')
    for f in [*proc.rglob('*.ipynb'), *proc.rglob('*.yml'), *proc.rglob('*.md'), *proc.rglob('*.qmd')]:
        t = f.read_text(encoding='utf-8')
        new = pat.sub(lambda m: renames[m.group(1)] + '.' + m.group(2), t)
        if new != t: f.write_text(new, encoding='utf-8')


def render_quarto(cfg):
    "The path users have: nbdev_docs renders _proc/ with Quarto (our fresh _proc/ is its cache) and moves it to _docs/."
    bin_ = Path(sys.executable).parent
    subprocess.run([str(bin_/'nbdev_docs')], check=True, cwd=cfg.config_path)
    # nbdev_docs may rewrite README.md with Quarto's gfm; ours comes from tools/readme.py (what check_clean.sh compares)
    subprocess.run([sys.executable, str(cfg.config_path/'tools'/'readme.py')], check=True, cwd=cfg.config_path)


def render_smalldocs(cfg, proc: Path):
    "Render the processed project with smalldocs into _proc/_docs, then move it to _docs/ as nbdev_docs does."
    from smalldocs.site import build
    fix_page_names(proc)
    site = build(str(proc), quiet=True)
    # what smalldocs says it leaves to Quarto: output-file (handled above), the commonmark format and keep-md (Quarto only)
    expected = re.compile(r'output-file is not read|format commonmark is not built|keep-md is ignored')
    known = [w for w in site.warnings if expected.search(w)]
    for w in site.warnings:
        if not expected.search(w): print(f"  smalldocs warning: {w}")
    if known: print(f"  smalldocs: {len(known)} notes on Quarto-only settings (output-file handled by renaming; commonmark, keep-md)")
    out = proc/cfg.doc_path.name
    if not out.exists(): sys.exit(f"docs: smalldocs wrote nothing into {out}")
    shutil.rmtree(cfg.doc_path, ignore_errors=True)
    shutil.move(str(out), str(cfg.doc_path))


def main():
    t0 = time.time()
    cfg = get_config()
    proc = cfg.config_path/'_proc'
    names, failed = process(cfg, proc)
    quarto = shutil.which('quarto')
    if quarto and not os.environ.get('SLOWAI_DOCS_SMALLDOCS'):
        renderer = f"quarto ({quarto}) via nbdev_docs"
        print(f"==> rendering with {renderer}", flush=True)
        render_quarto(cfg)
    else:
        try: import smalldocs
        except ImportError: sys.exit("docs: quarto is not on PATH and smalldocs is not installed (it needs Python 3.11+): "
                                     "install Quarto, or `pip install -e '.[dev]'` on Python 3.11+")
        renderer = f"smalldocs {smalldocs.__version__} (pure Python; quarto is not on PATH)"
        print(f"==> rendering with {renderer}", flush=True)
        render_smalldocs(cfg, proc)
    pages = sorted(p.name for p in cfg.doc_path.glob('*.html'))
    print(f"==> docs built into {cfg.doc_path.name}/ in {time.time()-t0:.0f} s from {len(names) - len(failed)} of {len(names)} notebooks; renderer: {renderer}")
    print(f"    pages: {' '.join(pages)}")
    if failed:
        sys.exit(f"docs: FAILED: nbdev's processing failed for {', '.join(failed)} (see above), so the site lacks their pages. "
                 "nbdev runs every cell that imports something to build show_doc output: keep imports out of demo cells.")


if __name__ == '__main__':
    if sys.argv[1:2] == ['--proc']: print(_proc_nb(*json.loads(sys.argv[2])))
    else: main()
