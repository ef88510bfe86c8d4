"""Run the README's Python: every ```python block of README.md, in order, in one fresh process, as a reader would.

Usage: .venv/bin/python tools/test_readme.py [README.md]

The blocks share one namespace, as cells of one notebook do; a block whose last statement is an expression shows its
value the way Jupyter does. Where README.md shows output under a block (the indented lines that follow it), what the
block printed must be the same, line for line. The process runs in a scratch directory with OMP_NUM_THREADS=1 and
matplotlib's Agg backend. The first failing block is named by its README.md line and first line, with the error;
the blocks after it are not run. Ends with 'N passed, N failed[, N skipped]'.
"""
import difflib, json, re, subprocess, sys, tempfile, time
from pathlib import Path

from common import ROOT, counts, one_thread_env

# Runs in the fresh process: argv[1] is a JSON list of blocks, argv[2] a file that gets one JSON line per block run.
RUNNER = r'''
import ast, contextlib, io, json, sys, time, traceback
try: from IPython.core.formatters import PlainTextFormatter; show = PlainTextFormatter()  # Jupyter's text/plain
except ImportError: show = repr
blocks, ns = json.load(open(sys.argv[1])), {'__name__': '__main__'}
with open(sys.argv[2], 'w') as res:
    for b in blocks:
        out, err, t0 = io.StringIO(), None, time.time()
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
                tree = ast.parse('\n'*(b['line'] - 1) + b['code'], b['file'])  # line numbers as in README.md
                last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
                exec(compile(tree, b['file'], 'exec'), ns)
                if last is not None:
                    v = eval(compile(ast.Expression(last.value), b['file'], 'eval'), ns)
                    if v is not None: print(show(v))
        except BaseException as e:
            tb = e.__traceback__.tb_next  # from the block's own frame on
            lines = [f.lineno for f in traceback.extract_tb(tb) if f.filename == b['file']]
            if isinstance(e, SyntaxError) and e.filename == b['file']: lines, tb = [e.lineno], None
            err = dict(error=f"{type(e).__name__}: {e}", line=lines[-1] if lines else None,
                       tb=''.join(traceback.format_exception(type(e), e, tb)))
        res.write(json.dumps(dict(out=out.getvalue(), err=err, secs=time.time() - t0)) + '\n'); res.flush()
        if err: break
'''

def blocks(md:Path)->list:
    "The ```python blocks of `md`: code, the line its code starts on, and the output shown under it (or None)"
    lines, res, i = md.read_text().splitlines(), [], 0
    while i < len(lines):
        if lines[i].strip() != '```python': i += 1; continue
        start = i = i + 1
        while i < len(lines) and lines[i].strip() != '```': i += 1
        if i == len(lines): raise ValueError(f"{md}:{start}: a ```python block is never closed")
        code, i, shown = '\n'.join(lines[start:i]), i + 1, []
        while i < len(lines) and (not lines[i].strip() or lines[i].startswith('    ')): shown.append(lines[i]); i += 1
        shown = [l[4:].rstrip() for l in shown if l.strip()]
        res.append(dict(code=code, line=start + 1, file=str(md), shown=shown or None))
    return res

def norm(txt:str)->list:
    "Lines as README.md shows them: no colour codes, no trailing spaces, no blank lines"
    return [l.rstrip() for l in re.sub(r"\x1b\[[0-9;]*m", '', txt).splitlines() if l.strip()]

def name(md:Path, b:dict)->str:
    "How a block is named in what we print: README.md's line number and the block's first line"
    return f"{md.name} line {b['line']} `{next((l for l in b['code'].splitlines() if l.strip()), '')}`"

def main(md:Path):
    bs = blocks(md)
    if not bs: print(f"FAIL {md}: no ```python blocks"); print(counts(0, 1)); return 1
    shown = md.relative_to(ROOT) if md.is_relative_to(ROOT) else md
    print(f"running the {len(bs)} ```python blocks of {shown} in one process (OMP_NUM_THREADS=1, matplotlib Agg)", flush=True)
    env = one_thread_env(MPLBACKEND='Agg', PYTHONUNBUFFERED='1')
    passed = failed = 0
    with tempfile.TemporaryDirectory(prefix='slowai-readme-') as tmp:
        (Path(tmp)/'blocks.json').write_text(json.dumps(bs))
        t0 = time.time()
        p = subprocess.run([sys.executable, '-c', RUNNER, 'blocks.json', 'results.jsonl'], cwd=tmp, env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        res = [json.loads(l) for l in (Path(tmp)/'results.jsonl').read_text().splitlines()] \
              if (Path(tmp)/'results.jsonl').exists() else []
    for b, r in zip(bs, res):
        if r['err']:
            at = f" (at line {r['err']['line']})" if r['err']['line'] and r['err']['line'] != b['line'] else ''
            print(f"FAIL {name(md, b)}{at}: {r['err']['error']}")
            print('\n'.join('    ' + l for l in r['err']['tb'].rstrip().splitlines()[-6:]))
            failed += 1; continue
        if b['shown'] is not None and norm(r['out']) != b['shown']:
            print(f"FAIL {name(md, b)}: printed output differs from the output README.md shows under it")
            print('\n'.join('    ' + l for l in difflib.unified_diff(b['shown'], norm(r['out']), 'README.md', 'printed', lineterm='')))
            failed += 1; continue
        what = 'printed what README.md shows' if b['shown'] is not None else 'ran (README.md shows no output for it)'
        print(f"ok   {name(md, b)}: {what}, {r['secs']:.1f} s"); passed += 1
    if len(res) < len(bs) and not (res and res[-1]['err']):  # the process died mid-block
        b = bs[len(res)]
        print(f"FAIL {name(md, b)}: the Python process exited with code {p.returncode}")
        if p.stdout.strip(): print('\n'.join('    ' + l for l in p.stdout.rstrip().splitlines()[-10:]))
        failed += 1; res.append(None)
    skipped = len(bs) - len(res)
    if skipped: print(f"not run: the {skipped} later block{'s'[:skipped-1]}, after the failure")
    print(f"the README's Python took {time.time()-t0:.0f} s")
    print(counts(passed, failed, skipped))
    return 1 if failed else 0

if __name__ == '__main__':
    sys.exit(main(Path(sys.argv[1]).resolve() if len(sys.argv) > 1 else ROOT/'README.md'))
