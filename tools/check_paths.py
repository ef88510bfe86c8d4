"""Check that nothing we publish names a folder of the machine that made it: the notebooks (their code, text and saved
outputs), the records next to them (nbs/resnet_runs/*.json), README.md and the built site in _docs/.

A path of this machine is one under its home, its temp dir (tempfile.gettempdir()), this repository or the folder that holds
it; and, on any machine, one under /root/, /home/<user>/, /Users/<user>/, /tmp/, /var/tmp/ or /work/. URLs are not paths:
`https://github.com/slowai/slowai/...` and `example.org/tmp/` do not count; `file:///tmp/...` does.

Prints one line per path found (file:line: the path, where it is, what to do), then `N passed, N failed` (one per file).

    python tools/check_paths.py
"""
import os, re, sys, tempfile
from pathlib import Path

from common import ROOT, counts, notebooks, page_name
TEXT = {'.ipynb', '.json', '.md', '.qmd', '.yml', '.yaml', '.css', '.html', '.js', '.txt', '.xml', '.svg', '.py', '.csv', '.tsv'}
SKIP_DIRS = {'.ipynb_checkpoints', '__pycache__', '_proc'}


def machine_dirs() -> list[str]:
    "This machine's home, temp dir, repository and the folder holding it, as written and with links resolved; longest first."
    dirs = set()
    for p in (Path.home(), Path(tempfile.gettempdir()), ROOT, ROOT.parent):
        for q in (str(p), str(p.resolve()), os.path.abspath(p)):
            if q.count('/') >= 1 and len(q) > 2: dirs.add(q.rstrip('/'))
    return sorted(dirs, key=len, reverse=True)


# a path starts where a word, a URL's host or another path does not end (`https://x.org/tmp/`, `a/tmp/` are not paths)
START = r'(?<![\w.~/:%-])(?:file://)?'
GENERAL = r'/(?:root|tmp|var/tmp|work|home/[\w.-]+|Users/[\w.-]+)/'
REST = r'''[^\s'"<>()\[\]{},;`|&\\]*(?<![.:])'''  # the rest, up to a quote, bracket, space, entity or JSON escape; no final . or :
PATH = re.compile(START + '(?:' + '|'.join(re.escape(d) + r'(?![\w-]|\.\w)' for d in machine_dirs()) + '|' + GENERAL + ')' + REST)
# pictures in notebooks and pages are base64, where any five letters may turn up: they are not read
DATA_URI = re.compile(r'data:[\w/+.-]*;base64,[A-Za-z0-9+/=]+')
NB_PICTURE = re.compile(r'^\s*"(?:image/(?:png|jpeg|gif|webp)|application/pdf)":\s*"')
NB_CELL = re.compile(r'^\s*"cell_type":\s*"(\w+)"')
NB_PART = re.compile(r'^\s*"(outputs|source|metadata|attachments)":')


def files():
    "What is published: every text file under nbs/, README.md, and _docs/ when it is built (None when it is not)."
    out = []
    for d in (ROOT/'nbs', ROOT/'_docs'):
        if not d.is_dir(): continue
        for p in sorted(d.rglob('*')):
            rel = p.relative_to(d).parts
            if p.is_file() and p.suffix in TEXT and not any(q.startswith('.') or q in SKIP_DIRS for q in rel): out.append(p)
    if (ROOT/'README.md').exists(): out.append(ROOT/'README.md')
    return out


def what_to_do(f: Path, where: tuple) -> str:
    rel = f.relative_to(ROOT).as_posix()
    kind, cell, part = where
    if rel.startswith('_docs/'):
        src = [nb for nb in notebooks() if page_name(nb) == f.name]
        return f"built from {src[0].relative_to(ROOT).as_posix() if src else 'nbs/'}: fix it there, then `make docs`"
    if rel == 'README.md': return 'README.md is made from nbs/index.ipynb (tools/readme.py): fix the notebook, then `make check-clean` shows the diff'
    if f.suffix == '.ipynb':
        if part == 'outputs':
            return (f'a saved output of cell {cell} shows it: print paths relative to the repository (or not at all), '
                    f'then re-run the notebook (`make nbs NB={f.name}`)')
        if kind == 'markdown': return f'the text of cell {cell} names it: write the path relative to the repository, or as a placeholder'
        return f'the code of cell {cell} names it: use a path relative to the repository, or one made at run time (tempfile)'
    if f.suffix == '.json' and f.parent != ROOT/'nbs':
        return 'a run record keeps it: have the code that writes the record store paths relative to the repository, then write it again'
    return 'write the path relative to the repository'


def check(f: Path) -> list[str]:
    hits, cell, kind, part = [], -1, None, None
    with open(f, encoding='utf-8', errors='replace') as fh:
        for n, line in enumerate(fh, 1):
            if f.suffix == '.ipynb':
                if m := NB_CELL.match(line): cell, kind, part = cell + 1, m.group(1), None
                if m := NB_PART.match(line): part = m.group(1)
                if NB_PICTURE.match(line): continue
            seen = set()
            for m in PATH.finditer(DATA_URI.sub('data:', line)):
                p = m.group(0)
                if p in seen: continue
                seen.add(p)
                hits.append(f'{f.relative_to(ROOT).as_posix()}:{n}: {p}: {what_to_do(f, (kind, cell, part))}')
    return hits


def main():
    fs = files()
    passed = failed = 0
    for f in fs:
        hits = check(f)
        for h in hits: print(h)
        passed, failed = passed + (not hits), failed + bool(hits)
    skipped = 0 if (ROOT/'_docs').is_dir() else 1
    if skipped: print('SKIP _docs/: not built, so not checked (`make docs` builds it)')
    print(f"checked {len(fs)} files for paths under {', '.join(machine_dirs())} and /root/ /home/*/ /Users/*/ /tmp/ /var/tmp/ /work/")
    print(counts(passed, failed, skipped))
    return 1 if failed else 0


if __name__ == '__main__': sys.exit(main())
