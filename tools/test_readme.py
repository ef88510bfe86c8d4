"""Run the README's Python as a reader would: every ```python block of README.md, in order, in one fresh IPython shell
(execnb's CaptureShell, what nbdev_test runs notebooks in), in a scratch directory, with OMP_NUM_THREADS=1.

The blocks share one namespace, as cells of one notebook do, and a block whose last line is an expression shows its value
as Jupyter does. Where README.md shows output under a block (the indented lines that follow it), what the block printed
and showed must be the same, line for line. The first failing block is named by its README.md line and first line, with
the error; the blocks after it are not run. Ends with 'N passed, N failed[, N skipped]'.

Usage: .venv/bin/python tools/test_readme.py [README.md]
"""
import os
os.environ.setdefault('OMP_NUM_THREADS', '1')  # before anything imports torch
import difflib, sys, tempfile, time, traceback
from pathlib import Path

from common import ANSI, ROOT, finish, record


def blocks(md: Path) -> list:
    "The ```python blocks of `md`: code, the line its code starts on, and the output shown under it (or None)"
    lines, res, i = md.read_text().splitlines(), [], 0
    while i < len(lines):
        if lines[i].strip() != '```python': i += 1; continue
        start = i = i + 1
        while i < len(lines) and lines[i].strip() != '```': i += 1
        if i == len(lines): raise ValueError(f"{md}:{start}: a ```python block is never closed")
        code, i, shown = '\n'.join(lines[start:i]), i + 1, []
        while i < len(lines) and (not lines[i].strip() or lines[i].startswith('    ')): shown.append(lines[i]); i += 1
        res.append(dict(code=code, line=start + 1, shown=[l[4:].rstrip() for l in shown if l.strip()] or None))
    return res


def printed(outputs) -> list:
    "What a block printed and showed, as README.md shows a cell's outputs (tools/readme.py: markdown apart), as text lines"
    txt = ''.join(''.join(o['text']) if o['output_type'] == 'stream' else ''.join(o.get('data', {}).get('text/plain', ''))
                  for o in outputs if o['output_type'] != 'error' and 'text/markdown' not in o.get('data', {}))
    return [l.rstrip() for l in ANSI.sub('', txt).splitlines() if l.strip()]


def main(md: Path) -> int:
    from execnb.shell import CaptureShell
    bs = blocks(md)
    if not bs: record('FAIL', str(md), 'no ```python blocks'); return finish()
    print(f"running the {len(bs)} ```python blocks of {md.name} in one IPython shell (OMP_NUM_THREADS=1)", flush=True)
    t0, cwd, failed = time.time(), os.getcwd(), False
    with tempfile.TemporaryDirectory(prefix='slowai-readme-') as tmp:
        os.chdir(tmp)
        sh = CaptureShell()
        try:
            for b in bs:
                name = f"{md.name} line {b['line']} `{b['code'].strip().splitlines()[0]}`"
                if failed: record('SKIP', name, 'not run, after the failure'); continue
                t1, out = time.time(), sh.run(b['code'])
                if sh.exc:
                    at = [f.lineno for f in traceback.extract_tb(sh.exc.__traceback__)
                          if f.filename.startswith('<ipython-input')]
                    where = f"at line {b['line'] + at[-1] - 1}: " if at else ''
                    record('FAIL', name, f"{where}{type(sh.exc).__name__}: {sh.exc}")
                    tb = ''.join(traceback.format_exception(sh.exc)).rstrip().splitlines()[-6:]
                    print('\n'.join('    ' + l for l in tb))
                    failed = True; continue
                if b['shown'] is not None and printed(out) != b['shown']:
                    record('FAIL', name,
                           'printed output differs from the output README.md shows under it')
                    diff = difflib.unified_diff(b['shown'], printed(out), 'README.md', 'printed',
                                                lineterm='')
                    print('\n'.join('    ' + l for l in diff))
                    continue
                what = ('printed what README.md shows' if b['shown'] is not None
                        else 'ran (README.md shows no output for it)')
                record('PASS', name, f"{what}, {time.time() - t1:.1f} s")
        finally: os.chdir(cwd)
    print(f"the README's Python took {time.time()-t0:.0f} s")
    return finish()


if __name__ == '__main__':
    sys.exit(main(Path(sys.argv[1]).resolve() if len(sys.argv) > 1 else ROOT/'README.md'))
