"""Build the docs site into _docs/: nbdev's notebook processing into _proc/, then Quarto (`nbdev_docs`) or, where
Quarto is not on PATH, smalldocs, a pure-Python renderer of the same _quarto.yml project. Notebooks are only read.
The site fetches nothing from other hosts: KaTeX is served from the site (`make katex`), the theme's web-font import is dropped;
and smalldocs' search finds the entries with every word of a query. The library's source is on the site too (source/),
and each name's "source" link points there."""
import os, re, shutil, subprocess, sys, time, traceback
from contextlib import redirect_stderr, redirect_stdout
from io import StringIO
from pathlib import Path
from urllib.parse import urljoin

import nbdev.processors as P
from common import cfg, notebooks, page_name

# KaTeX is served from the site itself: Debian's libjs-katex (`make katex`), or any KaTeX dist folder (npm's katex/dist)
KATEX_DIR = Path(os.environ.get('SLOWAI_KATEX') or '/usr/share/javascript/katex')
KATEX_URL = 'site_libs/katex/'  # where the site keeps it, unless html-math-method in _quarto.yml names another url
PROC, FAILED = cfg.config_path/'_proc', '.failed'  # nbdev's processed notebooks; the mark of those that failed
SITE_URL = (cfg.doc_host + cfg.doc_baseurl).rstrip('/') + '/'  # the site's address, nbdev's links


def add_links(cell):
    "nbdev's `add_links`, with markdown outputs linked as markdown cells are: nothing inside a ``` block (show_doc's signature)."
    from nbdev.doclinks import NbdevLookup
    nl = NbdevLookup()
    if cell.cell_type == 'markdown': cell.source = nl.linkify(cell.source)
    for o in cell.get('outputs', []):
        md = o.get('data', {}).get('text/markdown')
        if md is None: continue
        text = md if isinstance(md, str) else ''.join(md)
        new = nl.linkify(text) + ('\n' if text.endswith('\n') else '')
        o['data']['text/markdown'] = new if isinstance(md, str) else new.splitlines(keepends=True)


def _star_params():
    """show_doc's signatures write `*args, **kwargs`, as Python does, where fastcore's DocmentText writes `args:VAR_POSITIONAL`;
    a class with object's own `__init__` shows no parameters, an exception with BaseException's shows `*args`."""
    import inspect
    from fastcore import docments as D
    if getattr(D, '_slowai_stars', False): return  # once per process
    D._slowai_stars, fmt, P = True, D.DocmentText._fmt_param, inspect.Parameter
    def kinds(obj):
        try: return {n: q.kind for n, q in inspect.signature(obj).parameters.items()}
        except (TypeError, ValueError): return {}
    def _fmt_param(self, nm, p):
        kind, anno = kinds(self.obj).get(nm), p.get('anno', D.empty)
        if anno in (P.VAR_POSITIONAL, P.VAR_KEYWORD): kind, p = anno, {**p, 'anno': D.empty}
        return {P.VAR_POSITIONAL: '*', P.VAR_KEYWORD: '**'}.get(kind, '') + fmt(self, nm, p)
    D.DocmentText._fmt_param = _fmt_param
    # a class that keeps object's __init__ takes nothing, and an exception that keeps BaseException's takes `*args` only:
    # say so, rather than show the `*args, **kwargs` those generic initialisers are written with
    params = D.DocmentText.params.fget
    def _params(self):
        init = getattr(self.obj, '__init__', None) if inspect.isclass(self.obj) else None
        if type(init).__name__ == 'wrapper_descriptor':  # written in C: object's, or an exception's
            return [('*args', '')] if issubclass(self.obj, BaseException) else []
        return params(self)
    D.DocmentText.params = property(_params)
    fmt_sig = D._fmt_sig
    D._fmt_sig = lambda name, params, ret_str, maxline, prefix='def': (
        fmt_sig(name, params, ret_str, maxline, prefix) if params else f"{prefix} {name}({ret_str}")


class exec_show_docs(P.exec_show_docs):
    """nbdev runs every cell that imports something to build show_doc output, so a `#| slow` cell (a training run) with an
    import would run here, though nbdev_test leaves it out; nbdev's one way to keep a cell from running, `#| eval: false`,
    would keep `nbdev_test --flags slow` from running it too. This leaves out the cells flagged with a tst_flag; their
    saved outputs stay."""
    def __call__(self, cell):
        if not set(cell.directives_) & set(cfg.tst_flags.split()): super().__call__(cell)


class DocProcs(P.FilterDefaults):
    "nbdev's docs processors (settings.ini's `procs`/`skip_procs` still apply), with our `add_links` and `exec_show_docs`."
    def base_procs(self):
        swap = {P.exec_show_docs: exec_show_docs, P.add_links: add_links}
        return [swap.get(p, p) for p in super().base_procs()]

    def __call__(self, nb):
        """Process `nb` quietly (what its cells print is not the build's). A failure names the notebook and says why, and
        leaves a mark in _proc/.failed/ (raising would cancel the notebooks still queued): process() leaves its page out."""
        _star_params()  # show_doc's signatures read as Python writes them
        t0, out, rel = time.time(), StringIO(), Path(nb.path_).resolve().relative_to(cfg.nbs_path)
        try:
            with redirect_stdout(out), redirect_stderr(out): super().__call__(nb)
        except Exception:
            tail = (out.getvalue() + traceback.format_exc()).strip().splitlines()[-25:]
            print(f"  FAILED {rel}: nbdev's processing raised:\n" + '\n'.join('    ' + l for l in tail), flush=True)
            (PROC/FAILED/rel).parent.mkdir(parents=True, exist_ok=True); (PROC/FAILED/rel).touch()
        else: print(f"  processed {rel} in {time.time()-t0:.1f} s", flush=True)


def process() -> tuple[list[Path], list[str]]:
    """nbdev's `_proc/` step as `nbdev_docs` runs it (`proc_nbs`: spawned workers, the other files copied, nbs/sidebar.yml
    as it is), from scratch, with DocProcs. The notebooks are only read. Returns them, and the names of those that failed."""
    import nbdev.serve
    nbdev.serve.FilterDefaults = DocProcs  # what proc_nbs hands each worker to process a notebook with
    nbs = notebooks()
    print(f"==> processing {len(nbs)} notebooks with nbdev's docs processors (proc_nbs) into {PROC.name}/", flush=True)
    nbdev.serve.proc_nbs(cfg.nbs_path, n_workers=min(2, os.cpu_count() or 1), force=True)
    failed = sorted(p.relative_to(PROC/FAILED) for p in (PROC/FAILED).rglob('*.ipynb'))
    for rel in failed: (PROC/rel).unlink(missing_ok=True)
    shutil.rmtree(PROC/FAILED, ignore_errors=True)
    return nbs, [str(rel) for rel in failed]


def fix_page_names(proc: Path):
    """smalldocs names a page after its file and does not read the `output-file` nbdev's FrontmatterProc gives it: rename
    `01_data.ipynb` to `data.ipynb`, so the page is data.html, as Quarto makes it and as nbdev's doc links
    (`data.html#dataloaders`) expect; fix the sidebar and links."""
    renames = {}
    for f in sorted(proc.rglob('*.ipynb')):
        new = f.with_name(Path(page_name(f)).stem + '.ipynb')
        if new != f:
            if new.exists(): sys.exit(f"docs: {f.name} and {new.name} would both be the page {page_name(f)}")
            f.rename(new); renames[f.stem] = new.stem
    if not renames: return
    pat = re.compile(r'(?<![\w/.-])(' + '|'.join(re.escape(o) for o in renames) + r')\.(ipynb|html|qmd)\b')
    for f in [*proc.rglob('*.ipynb'), *proc.rglob('*.yml'), *proc.rglob('*.md'), *proc.rglob('*.qmd')]:
        t = f.read_text(encoding='utf-8')
        new = pat.sub(lambda m: renames[m.group(1)] + '.' + m.group(2), t)
        if new != t: f.write_text(new, encoding='utf-8')


def katex_url(cfg) -> str:
    "Where the site serves KaTeX from: the url of html-math-method in _quarto.yml (what Quarto uses), else site_libs/katex/."
    import yaml
    qy = yaml.safe_load((cfg.nbs_path/'_quarto.yml').read_text(encoding='utf-8')) or {}
    m = ((qy.get('format') or {}).get('html') or {}).get('html-math-method')
    url = m.get('url') if isinstance(m, dict) else None
    if url and re.match(r'^[a-z]+:|^/|\.\.', url):
        sys.exit(f"docs: html-math-method url {url!r} in _quarto.yml: give a folder inside the site, such as {KATEX_URL}")
    return (url or KATEX_URL).rstrip('/') + '/'


def katex_files() -> dict[str, Path]:
    "KaTeX's script, stylesheet, auto-render extension and fonts, by their path in the site's KaTeX folder; exits when missing."
    d = KATEX_DIR
    auto = next((d/'contrib'/n for n in ('auto-render.min.js', 'auto-render.js') if (d/'contrib'/n).is_file()), None)
    if not all(p.exists() for p in (d/'katex.min.js', d/'katex.min.css', d/'fonts')) or auto is None:
        sys.exit(f"docs: KaTeX is not in {d} (katex.min.js, katex.min.css, contrib/auto-render.js, fonts/), and the formulas need it: "
                 "`make katex` installs Debian's libjs-katex as root, or set SLOWAI_KATEX to a KaTeX dist folder (npm's katex/dist)")
    files = {'katex.min.js': d/'katex.min.js', 'katex.min.css': d/'katex.min.css', f'contrib/{auto.name}': auto}
    return files | {f'fonts/{f.name}': f for f in sorted((d/'fonts').iterdir()) if f.suffix in ('.woff2', '.woff', '.ttf')}


def serve_katex(site: Path, url: str, files: dict[str, Path]) -> int:
    "Copy KaTeX into the site at url; smalldocs' pages, which name a CDN, are pointed at that copy. Returns how many pages were."
    dest = site/url
    shutil.rmtree(dest, ignore_errors=True)
    for rel, src in files.items():
        (dest/rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dest/rel)  # follows Debian's symlinks: katex.min.js -> katex.js, fonts/ -> fonts-katex
    try: from smalldocs.layout import KATEX as cdn  # the CDN folder smalldocs writes into a page with maths
    except ImportError: return 0
    auto = next(r for r in files if r.startswith('contrib/'))
    names = {'katex.min.css': 'katex.min.css', 'katex.min.js': 'katex.min.js', 'contrib/auto-render.min.js': auto}
    pat = re.compile(re.escape(cdn) + '/(' + '|'.join(re.escape(n) for n in names) + ')"')
    n = 0
    for f in site.rglob('*.html'):
        t = f.read_text(encoding='utf-8')
        rel = Path(os.path.relpath(dest, f.parent)).as_posix() + '/'
        new = pat.sub(lambda m: rel + names[m.group(1)] + '"', t)
        if new != t: f.write_text(new, encoding='utf-8'); n += 1
    return n


# the theme's web font, `@import url(https://fonts.googleapis.com/css2?family=...;...&display=swap);`, fetched from another host
REMOTE_IMPORT = re.compile(r'@import\s+(?:url\(\s*(["\']?)https?://[^)]*?\1\s*\)|(["\'])https?://.*?\2)[^;]*;')

def drop_remote_imports(site: Path) -> list[str]:
    "Take the web-font imports out of the site's stylesheets: the theme's font stack falls back to the reader's system fonts."
    dropped = []
    for f in sorted(site.rglob('*.css')):
        t = f.read_text(encoding='utf-8')
        new = REMOTE_IMPORT.sub('', t)
        if new != t:
            f.write_text(new, encoding='utf-8')
            dropped.append(f.relative_to(site).as_posix())
    return dropped


# smalldocs hands the whole query to Fuse as one fuzzy pattern, so `OneCycleLR momentum` finds nothing. This script runs after
# Fuse has loaded and before smalldocs' search starts: a query of several words finds the entries that match every word
# (each matched as a one-word query is), in any order, the best ranked first.
SEARCH_JS = r"""// slowai: a search of several words finds the entries that match every word, in any order
(function () {
  const Fuse = window.Fuse;
  if (!Fuse || Fuse.allWords) return;
  class AllWords extends Fuse {
    search(query, opts) {
      const words = String(query).trim().split(/\s+/).filter((w) => w.length > 1);
      if (words.length < 2) return super.search(query, opts);
      let hits = null;  // refIndex -> [result, sum of its ranks]
      for (const w of words) {
        const found = new Map(super.search(w).map((h, rank) => [h.refIndex, [h, rank]]));
        hits = hits === null ? found
          : new Map([...hits].filter(([i]) => found.has(i)).map(([i, [h, r]]) => [i, [h, r + found.get(i)[1]]]));
        if (!hits.size) break;
      }
      const out = [...hits.values()].sort((a, b) => a[1] - b[1]).map(([h]) => h);
      return opts && opts.limit ? out.slice(0, opts.limit) : out;
    }
  }
  AllWords.allWords = true;
  window.Fuse = AllWords;
})();
"""
SEARCH_FILE = 'site_libs/search-all-words.js'
FUSE_TAG = re.compile(r'(<script src="([^"]*)site_libs/fuse/fuse\.min\.js"></script>)')

def all_words_search(site: Path) -> int:
    "Ship the search script and load it right after Fuse on every page with smalldocs' search. Returns how many pages."
    (site/SEARCH_FILE).write_text(SEARCH_JS, encoding='utf-8')
    n = 0
    for f in site.rglob('*.html'):
        t = f.read_text(encoding='utf-8')
        new = FUSE_TAG.sub(lambda m: f'{m.group(1)}<script src="{m.group(2)}{SEARCH_FILE}"></script>', t, count=1)
        if new != t: f.write_text(new, encoding='utf-8'); n += 1
    return n


# show_doc links each name to its source at `{git_url}/blob/{branch}/{path}#L{line}` (nbdev.doclinks._qual_sym). No public
# repository is known (settings.ini's git_url is empty), so the site carries the source itself: one page per module, an
# anchor per line, and every such link points there, whatever git_url says.
SRC_DIR = 'source'  # slowai/learner.py -> _docs/source/slowai/learner.py.html, beside a plain copy _docs/source/slowai/learner.py
SRC_CSS = """body{margin:0;font:14px/1.45 system-ui,sans-serif;color:#222}header{padding:.6em 1em;border-bottom:1px solid #ddd}
pre{margin:0;padding:.5em 0;font:13px/1.45 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;overflow-x:auto}
.src-line{display:block;padding-right:1em;white-space:pre}.src-line:target{background:#fff3b0}
.src-no{display:inline-block;width:4em;padding-right:1em;text-align:right;color:#999;text-decoration:none;user-select:none}"""


def highlight(text: str) -> tuple[list[str], str]:
    "The lines of Python `text` as HTML, highlighted with Pygments where it is installed, and the stylesheet for them."
    from html import escape
    n = len(text.splitlines())
    try:
        from pygments.formatters import HtmlFormatter
        from pygments.lexers import PythonLexer
        from pygments.token import STANDARD_TYPES
    except ImportError: return [escape(l) for l in text.splitlines()], ''
    lines, cur = [], []
    for tok, val in PythonLexer(stripnl=False, ensurenl=False).get_tokens(text):
        while tok not in STANDARD_TYPES: tok = tok.parent
        cls = STANDARD_TYPES[tok]
        for i, part in enumerate(val.split('\n')):  # a token over several lines (a docstring) is cut at each line's end
            if i: lines.append(''.join(cur)); cur = []
            if part: cur.append(f'<span class="{cls}">{escape(part)}</span>' if cls else escape(part))
    lines.append(''.join(cur))
    return lines[:n], HtmlFormatter(style='default').get_style_defs('pre')


def source_pages(cfg, dest: Path) -> dict[str, str]:
    "Write a page and a plain copy of every module of the library into `dest`/SRC_DIR. Returns {path: page}, both from `dest`."
    from html import escape
    root, out = cfg.config_path, {}
    for py in sorted(cfg.lib_path.rglob('*.py')):
        if '__pycache__' in py.parts: continue
        rel = py.relative_to(root).as_posix()
        page = dest/SRC_DIR/(rel + '.html')
        page.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(py, page.with_name(py.name))
        lines, css = highlight(py.read_text(encoding='utf-8'))
        up = '../' * (len(Path(SRC_DIR, rel).parts) - 1)
        body = ''.join(f'<span class="src-line" id="L{i}"><a class="src-no" href="#L{i}">{i}</a>{l}</span>' for i, l in enumerate(lines, 1))
        page.write_text(f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">'
                        f'<title>{escape(rel)} – {escape(cfg.title)}</title><style>{SRC_CSS}\n{css}</style></head>\n<body><header>'
                        f'<a href="{up}index.html">{escape(cfg.title)}</a> / <strong>{escape(rel)}</strong> (<a href="{escape(py.name)}">plain text</a>)'
                        f'</header>\n<pre><code>{body}</code></pre>\n</body></html>\n', encoding='utf-8')
        out[rel] = f'{SRC_DIR}/{rel}.html'
    return out


def relink(proc: Path, pat: re.Pattern, target) -> tuple[int, int]:
    """Rewrite the markdown links `pat` finds in the processed notebooks, before rendering, so that the renderer sees links to
    files it has: `target(match)` gives (the page, from `proc`; its anchor), or None to leave the link. Returns (links, notebooks)."""
    n = n_nbs = 0
    for f in sorted(proc.rglob('*.ipynb')):
        def sub(m):
            nonlocal n
            if (to := target(m)) is None: return m[0]
            n += 1
            return f']({Path(os.path.relpath(proc/to[0], f.parent)).as_posix()}{to[1] or ""})'
        t = f.read_text(encoding='utf-8')
        if (new := pat.sub(sub, t)) != t: f.write_text(new, encoding='utf-8'); n_nbs += 1
    return n, n_nbs


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
    expected = re.compile(r'output-file is not read|format commonmark is not built|keep-md is ignored|html-math-method is ignored')
    known = [w for w in site.warnings if expected.search(w)]
    for w in site.warnings:
        if not expected.search(w): print(f"  smalldocs warning: {w}")
    if known: print(f"  smalldocs: {len(known)} notes on Quarto-only settings (output-file handled by renaming, "
                           "html-math-method by serving KaTeX; commonmark, keep-md)")
    out = proc/cfg.doc_path.name
    if not out.exists(): sys.exit(f"docs: smalldocs wrote nothing into {out}")
    shutil.rmtree(cfg.doc_path, ignore_errors=True)
    shutil.move(str(out), str(cfg.doc_path))


def main():
    t0 = time.time()
    proc = PROC
    katex, katex_at = katex_files(), katex_url(cfg)  # before the long part: a build without KaTeX stops here and says why
    names, failed = process()
    srcs = source_pages(cfg, proc)
    # show_doc's source links, `[source]({git_url}/blob/{branch}/slowai/learner.py#L37)` (nbdev.doclinks._qual_sym), go to the
    # site's source pages; a link to a file that is not a module of the library stays, for test_docs.py to report
    at = re.escape(urljoin(cfg.git_url + '/', f'blob/{cfg.branch}/'))
    n_links, n_src_nbs = relink(proc, re.compile(r'\]\(' + at + r'([^)#"\s]+)(#L\d+)?\)'), lambda m: (srcs[m[1]], m[2]) if m[1] in srcs else None)
    # nbdev links each backticked name to its page at the site's address (doc_host + doc_baseurl); on the site the page is a
    # sibling, so the link becomes relative and works wherever the site is served
    at = re.escape(SITE_URL)
    n_rel, _ = relink(proc, re.compile(r'\]\(' + at + r'([^)#\s]*)(#[^)\s]*)?\)'), lambda m: (m[1], m[2]))
    print(f"==> {n_rel} links to the site's own pages made relative", flush=True)
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
    # the site asks no other host: its own KaTeX, no web-font import; and smalldocs' search matches every word of a query
    n_math = serve_katex(cfg.doc_path, katex_at, katex)
    print(f"==> KaTeX from {KATEX_DIR} served from {katex_at}" + (f"; {n_math} pages pointed at it instead of the CDN" if n_math else ''))
    if dropped := drop_remote_imports(cfg.doc_path): print(f"==> web-font imports dropped (system fonts instead) from {', '.join(dropped)}")
    if 'smalldocs' in renderer: print(f"==> search matches every word of a query on {all_words_search(cfg.doc_path)} pages ({SEARCH_FILE})")
    # what a renderer copies of source/ depends on it (smalldocs: the pages linked to): all of it, whichever rendered
    shutil.copytree(proc/SRC_DIR, cfg.doc_path/SRC_DIR, dirs_exist_ok=True)
    print(f"==> the source of {len(srcs)} modules served from {SRC_DIR}/; {n_links} source links in {n_src_nbs} notebooks point there")
    pages = sorted(p.name for p in cfg.doc_path.glob('*.html'))
    print(f"==> docs built into {cfg.doc_path.name}/ in {time.time()-t0:.0f} s from {len(names) - len(failed)} of {len(names)} notebooks; renderer: {renderer}")
    print(f"    pages: {' '.join(pages)}")
    if failed:
        sys.exit(f"docs: FAILED: nbdev's processing failed for {', '.join(failed)} (see above), so the site lacks their pages. "
                 "nbdev runs every cell that imports something to build show_doc output: keep imports out of demo cells.")


if __name__ == '__main__':
    import docs  # run as the module `docs`: nbdev's workers find DocProcs by that name (their `__main__` is IPython's)
    docs.main()
