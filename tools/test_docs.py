"""Build the docs site (tools/docs.py) and check it as a reader would: a page for every notebook, with its title, tables
and plots; the sidebar as nbs/sidebar.yml lays it out (every notebook in exactly one place, in sections); every local link
and picture resolves; nothing is fetched from another host; formulas use the site's own KaTeX; show_doc signatures are
plain Python; source links go to the site's own copy of the library, and nothing points to a repository nobody can confirm.
Then headless Chromium, with every host but 127.0.0.1 unreachable, loads the pages from a static server there: the recipes
page's screenshot and images, no request to another host on any page, the optimizers page's formulas rendered, a code line
of 100 characters and wide tables at a laptop's width, and a search of two words. Pages are named as nbdev names them
(01_data.ipynb -> data.html), so no check depends on a notebook's number. Ends with `N passed, N failed, N skipped`.

    python tools/test_docs.py                    # build, then test
    python tools/test_docs.py --no-build         # test the _docs/ that is there
    python tools/test_docs.py --no-build --screenshot learner.html   # full-page PNG of one page, to look at
"""
import argparse, json, os, re, select, shutil, subprocess, sys, tempfile, threading, time
from functools import lru_cache, partial
from html.parser import HTMLParser
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

import yaml
from common import NBS, ROOT, Skip, by_page, cfg, check, finish, notebooks, page_name, record
# where the site keeps its copy of the library's source; where it serves KaTeX from; its address
from docs import SITE_URL, SRC_DIR, katex_url

DOCS = cfg.doc_path
NO_REPO = 'github.com/slowai'  # the repository settings.ini once named, which nobody can confirm exists
SIDEBAR = NBS/'sidebar.yml'    # the sidebar nbdev uses as it is (settings.ini: custom_sidebar = True)
TRAINING = ('optimizers', 'recipes')  # pages that must exist and train, with the loss table ProgressCB writes and its plots
LOSS_COLS = ['MulticlassAccuracy', 'loss', 'epoch', 'phase']
MIN_IMAGES = 1  # a training page shows at least its loss plot
BROWSER_PAGE = 'recipes.html'  # the page the browser looks at first: pictures, tables, a screenshot
CODE_PAGE = 'learner.html'  # a page with code cells and show_doc signatures
MATH_PAGE = 'optimizers.html'  # its formulas must render, with KaTeX from the site
SEARCH_QUERY, SEARCH_PAGE = 'OneCycleLR momentum', 'schedulers.html'  # a search of two words, and a page that has both
WIDE_PAGES = ('fast_optimizers.html', 'resnet.html', 'resnet_search.html')  # pages with tables wider than the text column
LAPTOP, CODE_CHARS = 1280, 100  # a common laptop's window width, where a code line of CODE_CHARS shows without scrolling

# ---------------------------------------------------------------- reading the site

# <link rel=...> that only name a page (the browser fetches nothing for them)
NOT_FETCHED = {'canonical', 'alternate', 'author', 'license', 'help', 'next', 'prev', 'search', 'bookmark', 'me'}

class Page(HTMLParser):
    "What a reader meets on one HTML page: links, pictures, ids, title, description, sidebar, tables, code blocks."
    def __init__(self, path: Path):
        super().__init__(convert_charrefs=True)
        self.path, self.urls, self.ids, self.sidebar, self.tables, self.imgs = path, [], set(), [], [], []
        self.fetched, self.styles, self.scripts, self.pres = [], [], [], []  # what the browser loads; inline CSS, JS; <pre> texts
        self.h1 = self.desc = ''
        self._stack, self._in, self._table, self._uls = [], None, None, []
        self.text = path.read_text(encoding='utf-8')
        self.feed(self.text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if 'id' in a: self.ids.add(a['id'])
        if a.get('name') and tag == 'a': self.ids.add(a['name'])
        for k in ('href', 'src'):
            if a.get(k) is not None and tag in ('a', 'link', 'script', 'img', 'source', 'iframe'): self.urls.append((tag, a[k]))
        if tag == 'img': self.imgs.append(a.get('src', ''))
        if tag in ('script', 'img', 'source', 'iframe', 'video', 'audio', 'embed', 'input', 'track'):
            self.fetched += [(tag, a[k]) for k in ('src', 'poster') if a.get(k)]
            self.fetched += [(tag, u.split()[0]) for u in (a.get('srcset') or '').split(',') if u.strip()]
        if tag == 'link' and a.get('href') and not set((a.get('rel') or '').lower().split()) <= NOT_FETCHED: self.fetched.append((tag, a['href']))
        if tag == 'object' and a.get('data'): self.fetched.append((tag, a['data']))
        if a.get('style'): self.styles.append(a['style'])
        if tag in ('style', 'script'): self._raw = [tag, '']
        if tag == 'pre': self.pres.append('')
        cls = (a.get('class') or '').split()
        if tag == 'nav' and a.get('id') == 'quarto-sidebar': self._in = ('sidebar', len(self._stack))
        if tag == 'ul' and self._in: self._uls.append((len(self._stack), 'collapse' not in cls or 'show' in cls))
        if tag == 'a' and self._in and 'sidebar-item-toggle' not in cls:  # an entry: [href (none for a section), text, depth, shown]
            self.sidebar.append([a.get('href'), '', len(self._uls) - 1, all(s for _, s in self._uls)])
        if tag == 'h1' and 'title' in cls: self._cap = ['h1', '']
        if tag == 'div' and 'description' in cls and not self.desc: self._cap = ['desc', '']
        if tag == 'table' and 'dataframe' in cls: self._table = []
        if tag == 'th' and self._table is not None: self._table.append('')
        if tag not in ('img', 'br', 'hr', 'meta', 'link', 'input', 'source', 'col', 'wbr'): self._stack.append(tag)

    def handle_endtag(self, tag):
        if getattr(self, '_raw', None) and tag == self._raw[0]:
            (self.styles if tag == 'style' else self.scripts).append(self._raw[1]); self._raw = None
        if tag == 'table' and self._table is not None: self.tables.append(self._table); self._table = None
        if getattr(self, '_cap', None) and tag in ('h1', 'div'):
            k, v = self._cap
            if k == 'h1' and tag == 'h1': self.h1 = ' '.join(v.split()); self._cap = None
            elif k == 'desc' and tag == 'div': self.desc = ' '.join(v.split()); self._cap = None
        if self._stack and tag in self._stack:
            while self._stack and self._stack.pop() != tag: pass
            while self._uls and self._uls[-1][0] >= len(self._stack): self._uls.pop()
        if self._in and len(self._stack) <= self._in[1]: self._in = None

    def handle_data(self, data):
        if getattr(self, '_raw', None): self._raw[1] += data
        if 'pre' in self._stack and self.pres: self.pres[-1] += data
        if self._in and self._in[0] == 'sidebar' and self.sidebar and self._stack and self._stack[-1] in ('a', 'span'):
            self.sidebar[-1][1] += data
        if getattr(self, '_cap', None): self._cap[1] += data
        if self._table is not None and self._stack and self._stack[-1] == 'th' and self._table: self._table[-1] += data.strip()


def nb_page(nb: Path) -> Path: return DOCS/nb.relative_to(NBS).parent/page_name(nb)

@lru_cache(maxsize=None)  # a notebook's facts, read once per run
def nb_facts(nb: Path):
    "Title and description (nbdev's frontmatter, as the page gets them), and the image and loss-table outputs a notebook shows."
    from nbdev.frontmatter import FrontmatterProc
    from nbdev.process import NBProcessor
    n = NBProcessor(nb, procs=FrontmatterProc, process=True).nb
    imgs = tables = 0
    for c in n.cells:
        if c.cell_type != 'code' or 'hide' in c.directives_ or c.directives_.get('include:', [''])[0] == 'false': continue
        for o in c.get('outputs', []):
            data = o.get('data', {})
            imgs += any(k in data for k in ('image/png', 'image/jpeg', 'image/svg+xml'))
            tables += 'class="dataframe"' in ''.join(data.get('text/html', ''))
    return n.frontmatter_.get('title', ''), n.frontmatter_.get('description', ''), imgs, tables

def md_text(s: str) -> str:
    "Markdown inline text as a reader sees it: no backticks, emphasis or link syntax; quotes straightened."
    s = re.sub(r'\[([^\]]*)\]\([^)]*\)', r'\1', s)
    return plain(re.sub(r'`|\*\*?(?=\S)|(?<=\S)\*\*?', '', s))

def plain(s: str) -> str:
    "Text with its whitespace collapsed and typographic quotes and dashes (smartypants) made plain."
    return ' '.join(s.translate(str.maketrans({'\u2018': "'", '\u2019': "'", '\u201c': '"', '\u201d': '"', '\u2013': '-', '\u2014': '-'})).split())


_pages = {}
def page(path: Path) -> Page:
    if path not in _pages: _pages[path] = Page(path)
    return _pages[path]

# ---------------------------------------------------------------- the headless browser, over the DevTools pipe

def find_chromium():
    for n in (os.environ.get('CHROMIUM'), 'chromium', 'chromium-browser', 'google-chrome'):
        if n and shutil.which(n): return shutil.which(n)

class Chromium:
    "Headless Chromium driven through the DevTools protocol on a pipe (--remote-debugging-pipe): no port, no extra package."
    def __init__(self, exe, user_data_dir, width=LAPTOP, height=1000):
        r_in, self._w = os.pipe()   # we write, Chromium reads fd 3
        self._r, w_out = os.pipe()  # Chromium writes fd 4, we read
        def fds(): os.dup2(r_in, 3); os.dup2(w_out, 4)
        args = [exe, '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run',
                '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage', '--hide-scrollbars',
                f'--user-data-dir={user_data_dir}', f'--window-size={width},{height}',
                # only 127.0.0.1 may be contacted: every other host name fails to resolve
                '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1', '--remote-debugging-pipe', 'about:blank']
        self.proc = subprocess.Popen(args, pass_fds=(3, 4), preexec_fn=fds, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        os.close(r_in); os.close(w_out)
        self._id, self._buf, self.events, self.tabs = 0, b'', [], {}
        self.width, self.height = width, height

    def _read(self, deadline):
        while b'\0' not in self._buf:
            left = deadline - time.time()
            if left <= 0: raise TimeoutError('no answer from Chromium')
            if select.select([self._r], [], [], left)[0]:
                chunk = os.read(self._r, 1 << 20)
                if not chunk: raise RuntimeError(f'Chromium exited: {self.proc.stderr.read().decode()[-2000:]}')
                self._buf += chunk
        msg, self._buf = self._buf.split(b'\0', 1)
        return json.loads(msg)

    def send(self, method, params=None, session=None, timeout=60):
        self._id += 1
        msg = {'id': self._id, 'method': method, 'params': params or {}}
        if session: msg['sessionId'] = session
        os.write(self._w, json.dumps(msg).encode() + b'\0')
        deadline = time.time() + timeout
        while True:
            m = self._read(deadline)
            if m.get('id') == self._id:
                if 'error' in m: raise RuntimeError(f"{method}: {m['error']}")
                return m.get('result', {})
            self.events.append(m)

    def wait_event(self, method, timeout=60, session=None):
        deadline = time.time() + timeout
        while True:
            for i, e in enumerate(self.events):
                if e.get('method') == method and session in (None, e.get('sessionId')): return self.events.pop(i)
            self.events.append(self._read(deadline))

    def open(self, url, timeout=60):
        "Open url in a new tab; return its session, once the page has loaded and its fonts are in (KaTeX's come after the load)."
        tid = self.send('Target.createTarget', {'url': 'about:blank'})['targetId']
        s = self.send('Target.attachToTarget', {'targetId': tid, 'flatten': True})['sessionId']
        self.tabs[s] = tid
        for m in ('Page.enable', 'Network.enable', 'Runtime.enable'): self.send(m, session=s)
        self.send('Emulation.setDeviceMetricsOverride', {'width': self.width, 'height': self.height, 'deviceScaleFactor': 1, 'mobile': False}, s)
        self.send('Page.navigate', {'url': url}, s)
        self.wait_event('Page.loadEventFired', timeout, session=s)
        self.eval('document.fonts.ready.then(() => new Promise(r => setTimeout(r, 200)))', s)
        return s

    def requests(self, session):
        "What one tab asked for: {request id: url}, the failed requests (url, error) and the HTTP errors (status url)."
        ev = [e for e in self.events if e.get('sessionId') == session]
        reqs = {e['params']['requestId']: e['params']['request']['url'] for e in ev if e.get('method') == 'Network.requestWillBeSent'}
        failed = [(reqs.get(e['params']['requestId'], '?'), e['params'].get('errorText')) for e in ev if e.get('method') == 'Network.loadingFailed']
        errors = [f"{e['params']['response']['status']} {e['params']['response']['url']}" for e in ev
                  if e.get('method') == 'Network.responseReceived' and e['params']['response']['status'] >= 400]
        return reqs, failed, errors

    def close_tab(self, session):
        self.send('Target.closeTarget', {'targetId': self.tabs.pop(session)})
        self.events = [e for e in self.events if e.get('sessionId') != session]

    def eval(self, expr, session, timeout=60):
        r = self.send('Runtime.evaluate', {'expression': expr, 'awaitPromise': True, 'returnByValue': True}, session, timeout)
        if 'exceptionDetails' in r: raise RuntimeError(f"page script failed: {r['exceptionDetails']}")
        return r['result'].get('value')

    def screenshot(self, session, path, full=False):
        if full:
            h = min(int(self.eval('document.documentElement.scrollHeight', session)), 16000)
            self.send('Emulation.setDeviceMetricsOverride', {'width': self.width, 'height': h, 'deviceScaleFactor': 1, 'mobile': False}, session)
        import base64
        data = self.send('Page.captureScreenshot', {'format': 'png', 'captureBeyondViewport': full}, session)['data']
        Path(path).write_bytes(base64.b64decode(data))
        return path

    def close(self):
        try: self.send('Browser.close', timeout=10)
        except Exception: pass
        try: self.proc.wait(10)
        except subprocess.TimeoutExpired: self.proc.kill(); self.proc.wait()
        for fd in (self._r, self._w):
            try: os.close(fd)
            except OSError: pass


class Server:
    "python's http.server for _docs/ on 127.0.0.1, on a free port, in a thread; it notes every request that failed."
    def __init__(self, root):
        self.failed = []
        outer = self
        class Handler(SimpleHTTPRequestHandler):
            def log_message(self, fmt, *args): pass
            def log_request(self, code='-', size='-'):
                if str(code).isdigit() and int(code) >= 400: outer.failed.append(f'{code} {self.path}')
        self.httpd = ThreadingHTTPServer(('127.0.0.1', 0), partial(Handler, directory=str(root)))
        self.url = f'http://127.0.0.1:{self.httpd.server_address[1]}/'
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
    def __enter__(self): self.thread.start(); return self
    def __exit__(self, *a): self.httpd.shutdown(); self.httpd.server_close(); self.thread.join(10)

PAGE_FACTS = """(async () => {
  const imgs = [...document.images];
  await Promise.all(imgs.map(i => i.complete ? 0 : new Promise(r => { i.addEventListener('load', r); i.addEventListener('error', r); })));
  const main = document.querySelector('main') || document.body;
  const t = document.querySelector('table.dataframe');
  return {
    imgs: imgs.map(i => ({src: i.src.slice(0, 60), nw: i.naturalWidth, w: i.getBoundingClientRect().width, complete: i.complete})),
    mainWidth: main.getBoundingClientRect().width,
    tables: document.querySelectorAll('table.dataframe').length,
    tableCollapse: t ? getComputedStyle(t).borderCollapse : null,
    tableHeaders: t ? [...t.querySelectorAll('thead th')].map(th => th.textContent.trim()) : [],
    // the sidebar's section titles and page links that a reader sees (laid out, not folded away)
    sections: [...document.querySelectorAll('#quarto-sidebar .sidebar-item-section > .sidebar-item-container > a.sidebar-link')]
      .filter(a => a.getClientRects().length).map(a => a.textContent.trim()),
    pages: [...document.querySelectorAll('#quarto-sidebar li:not(.sidebar-item-section) > .sidebar-item-container > a')].filter(a => a.getClientRects().length).length,
  };
})()"""

def not_blank(png: Path):
    "A screenshot is not blank when it has many colours and the commonest colour covers well under the whole picture."
    from PIL import Image
    im = Image.open(png).convert('RGB')
    small = im.resize((im.width // 4 or 1, im.height // 4 or 1))
    colors = small.getcolors(maxcolors=1 << 20) or []
    n = small.width * small.height
    top = max(c for c, _ in colors) if colors else n
    return len(colors), top / n, im.size

# ---------------------------------------------------------------- the checks

@lru_cache(maxsize=None)  # read nbs/sidebar.yml once; a tuple, so no caller can change it
def sidebar_plan() -> tuple:
    "nbs/sidebar.yml's entries in order: (depth, notebook, None) for a page, (depth, its page's notebook or None, title) for a section."
    def walk(contents, depth):
        for c in contents or []:
            if isinstance(c, str): yield depth, NBS/c, None
            else:
                yield depth, (NBS/c['href'] if c.get('href') else None), c.get('section')
                yield from walk(c.get('contents'), depth + 1)
    sidebar = yaml.safe_load(SIDEBAR.read_text(encoding='utf-8'))['website']['sidebar']
    return tuple(walk(sidebar['contents'], 0))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--no-build', action='store_true', help='test the _docs/ that is there')
    ap.add_argument('--screenshot', metavar='PAGE', help='only take a full-page screenshot of PAGE into _proc/screenshots/')
    args = ap.parse_args()
    shots = ROOT/'_proc'/'screenshots'

    if args.screenshot:
        shots.mkdir(parents=True, exist_ok=True)
        with Server(DOCS) as srv, tempfile.TemporaryDirectory() as ud:
            b = Chromium(find_chromium() or sys.exit('chromium is not installed'), ud)
            try: print(b.screenshot(b.open(srv.url + args.screenshot), shots/f'{Path(args.screenshot).stem}.full.png', full=True))
            finally: b.close()
        return

    if not args.no_build:
        t0 = time.time()
        r = subprocess.run([sys.executable, str(ROOT/'tools'/'docs.py')], cwd=ROOT)
        record('PASS' if r.returncode == 0 else 'FAIL', 'make docs builds the site', f'{time.time()-t0:.0f} s, exit {r.returncode}')
        if r.returncode and not (DOCS/'index.html').exists(): return finish()  # else check what was built

    nbs = notebooks()

    @check('the site was built into _docs/')
    def _():
        assert (DOCS/'index.html').exists(), f'{DOCS}/index.html is missing: run `make docs`'
        return f"{len(list(DOCS.rglob('*.html')))} html pages"

    for nb in nbs:
        @check(f'{nb.relative_to(NBS)} has its page {nb_page(nb).relative_to(DOCS)}, with its title and description')
        def _(nb=nb):
            p = nb_page(nb)
            assert p.exists(), f'{p.relative_to(ROOT)} was not built from {nb.relative_to(ROOT)}'
            title, desc, imgs, tables = nb_facts(nb)
            pg = page(p)
            assert plain(pg.h1) == md_text(title), f'page title {pg.h1!r}, notebook title {title!r}'
            if desc: assert plain(pg.desc) == md_text(desc), f'page description {pg.desc!r}, notebook description {desc!r}'
            n_img = sum(s.startswith('data:image') or s.endswith(('.png', '.svg', '.jpg')) for s in pg.imgs)
            assert n_img >= imgs, f'{n_img} pictures on the page, {imgs} image outputs saved in the notebook'
            assert len(pg.tables) >= tables, f'{len(pg.tables)} dataframe tables on the page, {tables} in the notebook'
            return f'{pg.h1!r}, {n_img} pictures, {len(pg.tables)} tables'

    @check(f'{SIDEBAR.relative_to(ROOT)} places every notebook exactly once, and names only notebooks')
    def _():
        listed = [nb for _, nb, _ in sidebar_plan() if nb]
        missing, extra = [n.name for n in nbs if n not in listed], [n.name for n in listed if n not in nbs]
        twice = sorted({n.name for n in listed if listed.count(n) > 1})
        assert not (missing or extra or twice), f'not in it: {missing}; named twice: {twice}; no such notebook: {extra}'
        return f'{len(listed)} notebooks in {sum(t is not None for _, _, t in sidebar_plan())} sections'

    @check(f'the sidebar is {SIDEBAR.relative_to(ROOT)}: its sections shown open, each page under its section by its title, in its order')
    def _():
        want = [[nb_page(nb).relative_to(DOCS).as_posix() if nb else None, title or md_text(nb_facts(nb)[0]), depth, True]
                for depth, nb, title in sidebar_plan()]
        got = [[h, plain(t), d, shown] for h, t, d, shown in page(DOCS/'index.html').sidebar]
        assert got == want, f'sidebar {got}, expected {want}'
        return ' | '.join(('  ' * d) + t for _, t, d, _ in got)

    for stem in TRAINING:
        @check(f'{stem}.html shows the loss tables ({" | ".join(LOSS_COLS)}) and at least {MIN_IMAGES} plot')
        def _(stem=stem):
            nb = by_page(stem)
            assert nb.exists(), f'no notebook makes {stem}.html: the site must have the {stem} page with its loss tables and plots'
            assert (DOCS/f'{stem}.html').exists(), f'no {stem}.html in _docs/, from {nb.name}'
            pg = page(DOCS/f'{stem}.html')
            loss = [t for t in pg.tables if t[:len(LOSS_COLS)] == LOSS_COLS or t == [''] + LOSS_COLS]
            assert loss, f'no <table class="dataframe"> with columns {LOSS_COLS} on {stem}.html (tables: {pg.tables})'
            n_img = sum(s.startswith('data:image') or s.endswith(('.png', '.svg', '.jpg')) for s in pg.imgs)
            want = max(MIN_IMAGES, nb_facts(nb)[2])
            assert n_img >= want, f'{n_img} pictures on {stem}.html, expected at least {want}'
            return f'{len(loss)} loss tables, {n_img} pictures'

    @check('every local link, stylesheet, script and picture resolves (nbdev doc links to the site URL included)')
    def _():
        bad, n = [], 0
        for f in sorted(DOCS.rglob('*.html')):
            pg = page(f)
            for tag, url in pg.urls:
                u = url.strip()
                if not u or u.startswith(('data:', 'mailto:', 'javascript:', 'tel:')): continue
                if u.startswith(SITE_URL): u = os.path.relpath(DOCS/unquote(u[len(SITE_URL):]).split('#')[0], f.parent) + ('#' + u.split('#', 1)[1] if '#' in u else '')
                sp = urlsplit(u)
                if sp.scheme or sp.netloc: continue
                n += 1
                target = f if not sp.path else (f.parent/unquote(sp.path)).resolve()
                if sp.path.endswith('/') or target.is_dir(): target = target/'index.html'
                if not target.exists(): bad.append(f'{f.relative_to(DOCS)}: <{tag}> {url} -> missing {target}'); continue
                if sp.fragment and target.suffix == '.html' and unquote(sp.fragment) not in page(target).ids:
                    bad.append(f'{f.relative_to(DOCS)}: {url} -> no id {sp.fragment!r} in {target.relative_to(DOCS)}')
        for css in sorted(DOCS.rglob('*.css')):
            for u in re.findall(r'url\(\s*["\']?([^"\')]+)', css.read_text(encoding='utf-8', errors='replace')):
                if u.startswith(('data:', 'http:', 'https:', '#')): continue
                n += 1
                if not (css.parent/unquote(urlsplit(u).path)).exists(): bad.append(f'{css.relative_to(DOCS)}: url({u}) missing')
        assert not bad, f'{len(bad)} of {n} local references do not resolve:\n  ' + '\n  '.join(bad[:40])
        return f'{n} local references'

    @check(f"source links point to the site's own copy of the library ({SRC_DIR}/), at the line that defines the name")
    def _():
        bad, n, mods = [], 0, set()
        for f in sorted(DOCS.rglob('*.html')):
            if f.relative_to(DOCS).parts[0] == SRC_DIR: continue
            for tag, url in page(f).urls:
                sp = urlsplit(url)
                if tag != 'a' or sp.scheme or sp.netloc or not sp.path.endswith('.py.html'): continue
                target = (f.parent/unquote(sp.path)).resolve()
                try: rel = target.relative_to((DOCS/SRC_DIR).resolve()).as_posix()[:-len('.html')]
                except ValueError: bad.append(f'{f.name}: {url} is not in {SRC_DIR}/'); continue
                n += 1; mods.add(rel)
                src, copy = ROOT/rel, target.with_suffix('')
                if not src.is_file(): bad.append(f'{f.name}: {url}: no {rel} in the repository'); continue
                if not copy.is_file() or copy.read_bytes() != src.read_bytes(): bad.append(f'{f.name}: {url}: {copy.relative_to(DOCS)} is not a copy of {rel}')
                line = int(sp.fragment[1:]) if re.fullmatch(r'L\d+', sp.fragment) else None
                lines = src.read_text(encoding='utf-8').splitlines()
                if line is None: bad.append(f'{f.name}: {url}: no #L<line>')
                elif not (0 < line <= len(lines) and re.match(r'\s*(async\s+def|def|class)\s+\w', lines[line - 1])):
                    bad.append(f'{f.name}: {url}: line {line} of {rel} defines nothing: {lines[line - 1] if 0 < line <= len(lines) else "past the end"!r}')
        assert n, f'no source links into {SRC_DIR}/ on the site'
        assert not bad, f'{len(bad)} of {n}:\n  ' + '\n  '.join(bad[:20])
        return f'{n} source links into {len(mods)} modules ({", ".join(sorted(Path(m).name for m in mods))})'

    @check(f'no link or text on the site points to {NO_REPO}' + (f' or to git_url {cfg.git_url}' if cfg.git_url else '')
          + f', and no link to its own pages goes through {SITE_URL} (an address nobody has confirmed: they are relative)')
    def _():
        # no public repository is known: the site must not send a reader to one (source links, "Report an issue", ...)
        words = [NO_REPO] + ([cfg.git_url.split('://', 1)[-1]] if cfg.git_url else [])
        links, texts, n = [], [], 0
        for f in sorted(DOCS.rglob('*.html')):
            for tag, url in page(f).urls:
                n += 1
                if any(w in url for w in words + [SITE_URL.split('://', 1)[-1]]): links.append(f'{f.relative_to(DOCS)}: <{tag}> {url}')
        for f in sorted(p for p in DOCS.rglob('*') if p.is_file() and p.suffix in ('.html', '.json', '.js', '.css', '.py', '.xml', '.txt', '.md')):
            t = f.read_text(encoding='utf-8', errors='replace')
            texts += [f'{f.relative_to(DOCS)}: ...{t[max(0, i - 40):i + 60]}...' for w in words if (i := t.find(w)) >= 0]
        assert not links, f'{len(links)} links:\n  ' + '\n  '.join(links[:20])
        assert not texts, f'named in {len(texts)} files:\n  ' + '\n  '.join(texts[:20])
        return f'{n} links on {len(list(DOCS.rglob("*.html")))} pages, none to it'

    @check('the search index covers every page')
    def _():
        idx = json.loads((DOCS/'search.json').read_text(encoding='utf-8'))
        indexed = {e.get('href', '').split('#')[0] for e in idx}
        missing = [nb_page(nb).relative_to(DOCS).as_posix() for nb in nbs if nb_page(nb).exists()
                   and nb_page(nb).relative_to(DOCS).as_posix() not in indexed]
        assert not missing, f'pages missing from search.json: {missing}'
        return f'{len(idx)} entries'

    @check('nbs/styles.css is on every page and styles the dataframe tables')
    def _():
        css = (DOCS/'styles.css').read_text(encoding='utf-8')
        assert 'table.dataframe' in css, 'styles.css has no rule for table.dataframe'
        missing = [f.name for f in DOCS.glob('*.html') if 'href="styles.css"' not in page(f).text]
        assert not missing, f'pages without styles.css: {missing}'

    @check('the site loads nothing from another host: no http(s) URL in a <link>, <script>, <img>, @import or url() of any page or stylesheet')
    def _():
        bad, n = [], 0
        for f in sorted(DOCS.rglob('*.html')):
            pg, rel = page(f), f.relative_to(DOCS)
            n += len(pg.fetched)
            bad += [f'{rel}: <{tag}> {u}' for tag, u in pg.fetched if REMOTE.match(u)]
            bad += [f'{rel}: <style> {u}' for css in pg.styles for u in css_remote(css)]
            bad += [f'{rel}: <script> imports {m.group(1)}' for js in pg.scripts for m in JS_REMOTE.finditer(js)]
        for css in sorted(DOCS.rglob('*.css')):
            refs = css_remote(css.read_text(encoding='utf-8', errors='replace'))
            n += 1
            bad += [f'{css.relative_to(DOCS)}: {u}' for u in refs]
        assert not bad, f'{len(bad)} references to other hosts would be fetched:\n  ' + '\n  '.join(bad[:40])
        return f'{n} fetched references and stylesheets, all on the site (links to other sites are not fetched and stay)'

    @check('pages with formulas load KaTeX from the site: script, stylesheet, auto-render and fonts in ' + katex_url(cfg))
    def _():
        at = katex_url(cfg)
        maths = [f for f in sorted(DOCS.rglob('*.html')) if 'class="math' in page(f).text]
        assert maths, 'no page has formulas (class="math"): optimizers.html has some'
        bad = []
        for f in maths:
            local = [(f.parent/unquote(urlsplit(u).path)).resolve() for _, u in page(f).fetched if not REMOTE.match(u)]
            for want in ('katex.min.js', 'katex.min.css', 'auto-render'):
                if not any(p.name.startswith(want) and p.is_file() and (DOCS/at).resolve() in p.parents for p in local):
                    bad.append(f'{f.relative_to(DOCS)} loads no {want} from {at}')
        fonts = sorted(p.name for p in (DOCS/at/'fonts').glob('KaTeX_*.woff2'))
        assert len(fonts) >= 10, f'{len(fonts)} KaTeX fonts in {at}fonts/ (katex.min.css names about 20)'
        assert not bad, '\n  '.join(bad)
        return f'{len(maths)} pages with formulas ({", ".join(f.name for f in maths)}); {len(fonts)} fonts'

    @check('show_doc signatures are plain Python: no markdown link (`](http`, nbdev\'s [`name`](page.html)), no VAR_POSITIONAL/VAR_KEYWORD in any <pre> block, no made-up parameters')
    def _():
        bad, n, stars, sigs = [], 0, 0, set()
        for f in sorted(DOCS.rglob('*.html')):
            if f.relative_to(DOCS).parts[0] == SRC_DIR: continue   # the library's own source, as it is
            for pre in page(f).pres:
                n += 1
                sigs.add(' '.join(pre.split()))
                stars += len(re.findall(r'(?<![*\w])\*{1,2}[A-Za-z_]\w*', pre))
                for m in re.finditer(r'\]\(https?:|`\]\(|VAR_POSITIONAL|VAR_KEYWORD', pre):
                    bad.append(f'{f.relative_to(DOCS)}: {m.group()!r} in ...{" ".join(pre[max(0, m.start() - 70):m.start() + 30].split())}...')
        assert n, 'no <pre> blocks on the site'
        assert not bad, f'{len(bad)} code blocks with markdown or parameter kinds in them:\n  ' + '\n  '.join(bad[:30])
        # a plain class takes nothing and an exception only *args: no generic `*args, **kwargs` for them
        for want in ('def Callback():', 'def CancelFitException( *args ):'):
            assert any(want in p for p in sigs), f'no page has the signature {want!r}'
        return f'{n} code blocks, {stars} star parameters (*args, **kwargs) among them'

    @check(f'search.json has a {SEARCH_PAGE} entry with every word of "{SEARCH_QUERY}" (what the browser search below must find)')
    def _():
        idx = json.loads((DOCS/'search.json').read_text(encoding='utf-8'))
        words = SEARCH_QUERY.lower().split()
        hits = [e['href'] for e in idx if all(w in ' '.join((e.get('title', ''), e.get('section', ''), e.get('text', ''))).lower() for w in words)]
        assert any(h.split('#')[0] == SEARCH_PAGE for h in hits), f'no {SEARCH_PAGE} entry has all of {words}: entries with them: {hits}'
        return f'{len(hits)} entries have every word: {", ".join(hits)}'

    browser_test(shots)
    return finish()


# what a page would fetch from another host: absolute or protocol-relative URLs
REMOTE = re.compile(r'\s*(?:https?:)?//', re.I)
CSS_REMOTE = re.compile(r'''@import\s+["']((?:https?:)?//[^"']+)|url\(\s*["']?((?:https?:)?//[^"')\s]+)''', re.I)  # @import url(...) is a url()
JS_REMOTE = re.compile(r'''\bimport\b[^;'"]*?\(?\s*["']((?:https?:)?//[^"']+)''')

def css_remote(css: str) -> list[str]:
    "The URLs on other hosts that a stylesheet imports or loads (fonts, pictures)."
    return sorted({a or b for a, b in CSS_REMOTE.findall(css)})


MATH_FACTS = r"""(() => {
  const main = document.querySelector('main') || document.body;
  const spans = [...main.querySelectorAll('span.math')];
  const raw = [...main.innerText.matchAll(/\\[(\[]/g)].map(m => main.innerText.slice(Math.max(0, m.index - 30), m.index + 40));
  return {katex: main.querySelectorAll('.katex').length, spans: spans.length,
    unrendered: spans.filter(s => !s.querySelector('.katex')).map(s => s.textContent.slice(0, 60)),
    errors: [...main.querySelectorAll('.katex-error')].map(e => e.textContent.slice(0, 60)), raw,
    fonts: [...new Set([...document.fonts].filter(f => f.family.includes('KaTeX') && f.status === 'loaded').map(f => f.family))]};
})()"""

# every table wider than the text column: its scroll container, and where its right edge is once that is scrolled to the end
TABLE_FACTS = r"""(() => {
  const main = document.querySelector('main') || document.body, mr = main.getBoundingClientRect();
  const scrolls = (e) => /(auto|scroll)/.test(getComputedStyle(e).overflowX);
  const out = [];
  [...main.querySelectorAll('table')].forEach((t, i) => {
    const r = t.getBoundingClientRect();
    const self = scrolls(t) && t.scrollWidth > t.clientWidth + 1;
    if (!self && r.right <= mr.right + 1) return;
    let c = self ? t : t.parentElement;
    while (c && c !== document.body && !scrolls(c)) c = c.parentElement;
    const f = {i, cls: t.className, width: Math.round(self ? t.scrollWidth : r.width), column: Math.round(mr.width)};
    if (!c || c === document.body) { f.container = null; out.push(f); return; }
    c.scrollLeft = c.scrollWidth;
    const cr = c.getBoundingClientRect(), tr = t.getBoundingClientRect();
    Object.assign(f, {container: c === t ? 'the table' : (c.className || c.tagName), containerRight: Math.round(cr.right),
      columnRight: Math.round(mr.right), seen: self ? c.scrollLeft + c.clientWidth >= c.scrollWidth - 1 : tr.right <= cr.right + 1});
    c.scrollLeft = 0;
    out.push(f);
  });
  return {tables: out, pageScrollsSideways: document.documentElement.scrollWidth > document.documentElement.clientWidth + 1,
          docWidth: document.documentElement.scrollWidth, window: document.documentElement.clientWidth};
})()"""

# a code line of n characters, put in a copy of the page's first code cell and of its first show_doc signature, in the same
# place: how wide the line is, whether its block scrolls, and where the block ends against the text column
CODE_FITS = r"""((n) => {
  const main = document.querySelector('main') || document.body, mr = main.getBoundingClientRect();
  const line = 'learn = Learner(model, dls, F.cross_entropy, cbs=[TrainCB(), ProgressCB(plot=True)], lr=1e-2)  # '.padEnd(n, '-').slice(0, n);
  const blocks = {};
  for (const [k, sel] of [['code cell', 'pre.cell-code'], ['show_doc signature', '.cell-output-markdown pre']]) {
    const pre = main.querySelector(sel);
    if (!pre) { blocks[k] = null; continue; }
    const box = pre.closest('div.sourceCode') || pre, copy = box.cloneNode(true);
    box.after(copy);
    const p = copy.matches('pre') ? copy : copy.querySelector('pre'), code = p.querySelector('code') || p;
    code.textContent = line;
    const r = document.createRange(); r.selectNodeContents(code);
    blocks[k] = {line: Math.round(r.getBoundingClientRect().width), scroll: p.scrollWidth, client: p.clientWidth,
                 right: Math.round(p.getBoundingClientRect().right), font: getComputedStyle(code).fontSize};
    copy.remove();
  }
  return {blocks, column: Math.round(mr.width), right: Math.round(mr.right)};
})(%d)"""

SEARCH_BOX = r"""(() => {
  const boxes = [...document.querySelectorAll('.smalldocs-search')];
  const box = boxes.find((b) => b.offsetParent !== null) || boxes[0];
  if (!box) return false;
  const input = box.querySelector('input'), res = box.querySelector('.smalldocs-search-results');
  box.classList.add('sd-open'); input.value = ''; res.innerHTML = ''; res.classList.remove('show'); input.focus();
  window.__searchBox = box;
  return document.activeElement === input;
})()"""
SEARCH_RESULTS = r"""(async () => {
  const res = window.__searchBox.querySelector('.smalldocs-search-results');
  for (let i = 0; i < 100 && !res.querySelector('.search-result, .search-none'); i++) await new Promise((r) => setTimeout(r, 50));
  return [...res.querySelectorAll('.search-result')].map((a) => a.getAttribute('href'));
})()"""

def foreign_hosts(urls):
    return sorted({urlsplit(u).hostname for u in urls if urlsplit(u).hostname not in (None, '127.0.0.1')})


def browser_test(shots):
    "Headless Chromium on the site from 127.0.0.1, every other host unreachable: what a reader sees, page by page."
    exe = find_chromium()
    with Server(DOCS) as srv, tempfile.TemporaryDirectory(prefix='chromium-') as ud:
        b = Chromium(exe, ud) if exe else None
        if b: shots.mkdir(parents=True, exist_ok=True)
        try: _browser_checks(b, srv, shots)
        finally: b and b.close()


def _browser_checks(b, srv, shots):
    def bcheck(name):
        "A check that needs the browser: skipped where there is none."
        def deco(f):
            def run():
                if b is None: raise Skip('chromium is not installed (Debian: `apt-get install chromium`, which `make test-docs` does as root)')
                return f()
            return check(name)(run)
        return deco

    @bcheck(f'headless Chromium shows {BROWSER_PAGE} from 127.0.0.1: screenshot not blank, every picture loaded, no failed request, '
            'the sidebar\'s sections and pages shown')
    def _():
        assert (DOCS/BROWSER_PAGE).exists(), f'no {BROWSER_PAGE} to load'
        s = b.open(srv.url + BROWSER_PAGE)
        facts = b.eval(PAGE_FACTS, s)
        shot = b.screenshot(s, shots/(Path(BROWSER_PAGE).stem + '.png'))
        full = b.screenshot(s, shots/(Path(BROWSER_PAGE).stem + '.full.png'), full=True)
        reqs, failed, errors = b.requests(s)
        ncol, top, size = not_blank(shot)
        assert ncol > 50 and top < 0.97, f'the screenshot {shot} looks blank: {ncol} colours, the commonest covers {top:.0%}'
        imgs = facts['imgs']
        assert imgs, 'no pictures on the page'
        broken = [i['src'] for i in imgs if not (i['complete'] and i['nw'] > 0)]
        assert not broken, f'{len(broken)} pictures did not load (naturalWidth 0): {broken}'
        too_wide = [i for i in imgs if i['w'] > facts['mainWidth'] + 1]
        assert not too_wide, f'pictures wider than the text column ({facts["mainWidth"]:.0f}px): {too_wide}'
        hdr = facts['tableHeaders']
        assert facts['tables'] >= 1 and (hdr[:len(LOSS_COLS)] == LOSS_COLS or hdr == [''] + LOSS_COLS), f'loss table headers in the browser: {hdr}'
        assert facts['tableCollapse'] == 'collapse', 'styles.css is not applied to the dataframe table'
        plan = sidebar_plan()
        want = [t for _, _, t in plan if t]
        assert facts['sections'] == want, f"the sidebar shows the sections {facts['sections']}, {SIDEBAR.name} has {want}"
        assert facts['pages'] == len(plan) - len(want), f"the sidebar shows {facts['pages']} pages of {len(plan) - len(want)}"
        local_failed = [f for f in failed if urlsplit(f[0]).hostname == '127.0.0.1']
        assert not local_failed, f'failed requests to 127.0.0.1: {local_failed}'
        # /favicon.ico is the browser's own guess, not a link on the page: the site declares no icon
        http = [e for e in errors + srv.failed if not e.endswith('/favicon.ico')]
        assert not http, f'HTTP errors: {http}'
        other = foreign_hosts(reqs.values())
        assert not other, f'the page asked for hosts other than 127.0.0.1 (unreachable here, so not contacted): {other}'
        return (f"{len(imgs)} pictures loaded (natural widths {[i['nw'] for i in imgs]}), {facts['tables']} loss tables, "
                f"{len(want)} sidebar sections and {facts['pages']} pages shown, "
                f"screenshot {size[0]}x{size[1]} with {ncol} colours: {shot.relative_to(ROOT)}, full page {full.relative_to(ROOT)}")

    @bcheck('headless Chromium: no page asks for anything from a host other than 127.0.0.1')
    def _():
        pages = sorted(f.relative_to(DOCS).as_posix() for f in DOCS.rglob('*.html') if 'site_libs' not in f.parts)
        for want in (BROWSER_PAGE, MATH_PAGE): assert want in pages, f'no {want} in _docs/'
        bad, n = [], 0
        for p in pages:
            s = b.open(srv.url + p)
            reqs, failed, _ = b.requests(s)
            n += len(reqs)
            other = [u for u in reqs.values() if foreign_hosts([u])]
            if other: bad.append(f'{p}: {", ".join(sorted(set(other))[:5])}')
            b.close_tab(s)
        assert not bad, 'pages that asked for other hosts (unreachable here, so not contacted):\n  ' + '\n  '.join(bad)
        return f'{len(pages)} pages, {n} requests, all to 127.0.0.1'

    @bcheck(f'headless Chromium: {MATH_PAGE} renders its formulas with the site\'s KaTeX (.katex in the page, no \\( left in its text)')
    def _():
        assert (DOCS/MATH_PAGE).exists(), f'no {MATH_PAGE} to load'
        s = b.open(srv.url + MATH_PAGE)
        m = b.eval(MATH_FACTS, s)
        reqs, failed, _ = b.requests(s)
        katex = sorted(Path(urlsplit(u).path).name for u in reqs.values() if '/katex/' in u and urlsplit(u).hostname == '127.0.0.1')
        assert m['spans'], f'no formulas (span.math) on {MATH_PAGE}'
        assert m['katex'], f'no .katex element on {MATH_PAGE}: KaTeX did not render (asked of 127.0.0.1: {katex}; failed: {failed})'
        assert not m['unrendered'], f"{len(m['unrendered'])} of {m['spans']} formulas not rendered: {m['unrendered'][:5]}"
        assert not m['errors'], f"KaTeX could not parse: {m['errors'][:5]}"
        assert not m['raw'], f"raw TeX delimiters left in the text of main: {m['raw'][:5]}"
        assert m['fonts'], f'no KaTeX font loaded (requests for KaTeX files: {katex})'
        assert not foreign_hosts(reqs.values()), f'{MATH_PAGE} asked other hosts: {foreign_hosts(reqs.values())}'
        b.eval("document.querySelector('main .katex').scrollIntoView({block: 'center', behavior: 'instant'})", s)
        shot = b.screenshot(s, shots/(Path(MATH_PAGE).stem + '.math.png'))
        return (f"{m['katex']} formulas rendered of {m['spans']}, fonts {', '.join(m['fonts'])}; "
                f"{len(katex)} KaTeX files from 127.0.0.1; screenshot {shot.relative_to(ROOT)}")

    @bcheck(f'headless Chromium at {LAPTOP} px: wide tables on {", ".join(WIDE_PAGES)} scroll inside the text column to their right edge')
    def _():
        wide, bad = [], []
        for p in WIDE_PAGES:
            assert (DOCS/p).exists(), f'no {p} to load'
            s = b.open(srv.url + p)
            f = b.eval(TABLE_FACTS, s)
            if f['pageScrollsSideways']: bad.append(f"{p}: the page itself scrolls sideways ({f['docWidth']} px in a {f['window']} px window)")
            for t in f['tables']:
                wide.append(f"{p} table {t['i']} ({t['width']} px in a {t['column']} px column)")
                if t['container'] is None: bad.append(f"{p}: table {t['i']} ({t['cls']}, {t['width']} px) has no scroll container: cut at the column edge")
                elif t['containerRight'] > t['columnRight'] + 1: bad.append(f"{p}: table {t['i']} scrolls in {t['container']}, which runs {t['containerRight'] - t['columnRight']} px past the column")
                elif not t['seen']: bad.append(f"{p}: table {t['i']}'s right edge is not reached by scrolling {t['container']}")
        assert wide, f'no table on {", ".join(WIDE_PAGES)} is wider than the text column: this check would check nothing'
        assert not bad, '\n  '.join(bad)
        return f'{len(wide)} wide tables, each scrolls to its right edge: ' + '; '.join(wide)

    @bcheck(f'headless Chromium: searching "{SEARCH_QUERY}" finds {SEARCH_PAGE}, and a query finds only entries with every word')
    def _():
        s = b.open(srv.url + 'index.html')
        def search(q):
            assert b.eval(SEARCH_BOX, s), 'no smalldocs search box to type into (.smalldocs-search input)'
            b.send('Input.insertText', {'text': q}, s)
            return b.eval(SEARCH_RESULTS, s)
        both = search(SEARCH_QUERY)
        assert any(h.split('#')[0].endswith(SEARCH_PAGE) for h in both), f'"{SEARCH_QUERY}" found {both or "nothing"}, not {SEARCH_PAGE}'
        one = search(SEARCH_QUERY.split()[0])
        assert one, f'"{SEARCH_QUERY.split()[0]}" alone found nothing'
        none = search(SEARCH_QUERY.split()[0] + ' zqxjvwk')
        assert not none, f'"{SEARCH_QUERY.split()[0]} zqxjvwk" found {none}: a word no page has must find nothing'
        return f'"{SEARCH_QUERY}": {len(both)} results ({", ".join(both[:4])}...); "{SEARCH_QUERY.split()[0]}": {len(one)}; with a word no page has: none'


    @bcheck(f'headless Chromium at {LAPTOP} px: a code line of {CODE_CHARS} characters shows whole in the text column, '
            f'in a code cell and in a show_doc signature on {CODE_PAGE}')
    def _():
        assert (DOCS/CODE_PAGE).exists(), f'no {CODE_PAGE} to load'
        s = b.open(srv.url + CODE_PAGE)
        got = b.eval(CODE_FITS % CODE_CHARS, s)
        missing = [k for k, v in got['blocks'].items() if v is None]
        assert not missing, f'no {", ".join(missing)} on {CODE_PAGE} to measure'
        bad = [f"{k}: the line takes {v['line']} px, {v['scroll']} px with its padding, in a {v['client']} px block ({v['font']}); "
               f"the column is {got['column']} px" for k, v in got['blocks'].items() if v['scroll'] > v['client'] or v['right'] > got['right'] + 1]
        assert not bad, 'scrolls sideways:\n  ' + '\n  '.join(bad)
        return '; '.join(f"{k}: {v['line']} px of {v['client']} px ({v['font']})" for k, v in got['blocks'].items()) + f"; column {got['column']} px"


if __name__ == '__main__': sys.exit(main())
