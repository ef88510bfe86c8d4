"""Check that what a module does cannot depend on what else was imported, by reading the library's source:

- `@patch` (fastcore) and assignments to a class's attribute only ADD names. In the module that defines a class, a patch
  may add a name the class body (and earlier patches) did not define, overriding at most a name it inherits, as a
  method in the class body would; on a class defined in another module, it may only add a name the class and its
  bases do not have. `setattr` on a class, `import_module` and `__import__` are refused: what they change can't be read.
- No import cycles, and a module imports only modules of lower-numbered notebooks (its `#| default_exp`), imports
  inside functions included; the package's `__init__.py` may import any module.
- No module is longer than 450 lines.

Prints one line per module, then 'N passed, N failed'.

    python tools/check_structure.py
"""
import ast, importlib, json, re, sys
from pathlib import Path

from common import ROOT, cfg, finish, notebooks, record

LIB = ROOT/cfg.lib_path.name
MAX_LINES = 450  # code wrapped at 88 columns, as the site shows it: about what a reader takes in one sitting
SKIP = {'_modidx', '__init__', 'all'}


def notebook_order() -> dict:
    "module name -> its notebook's position in nbdev's order (by file name: 01_data < 01a_test_utils < 02_learner)"
    order = {}
    for i, nb in enumerate(notebooks()):
        for c in json.loads(nb.read_text())['cells']:
            if c['cell_type'] == 'code' and (m := re.match(r'\s*#\|\s*default_exp\s+(\S+)', ''.join(c['source']))):
                order[m.group(1)] = i
    return order


def imports(tree, mod: str) -> set:
    "The slowai modules `mod` imports, anywhere in it"
    lib, out = cfg.lib_path.name, set()
    for n in ast.walk(tree):
        if isinstance(n, ast.ImportFrom):
            base = n.module or ''
            if n.level: base = '.'.join(filter(None, [lib, base]))
            if base == lib: out |= {a.name for a in n.names}
            elif base.startswith(lib + '.'): out.add(base.split('.')[1])
        elif isinstance(n, ast.Import):
            out |= {a.name.split('.')[1] for a in n.names if a.name.startswith(lib + '.')}
    return out - {mod}


def patch_sites(tree) -> list:
    "`(lineno, class name, attribute)` for each `@patch`ed function and each `Class.attr = ...` at module level"
    sites = []
    for n in tree.body:
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for d in n.decorator_list:
                call = d if isinstance(d, ast.Call) else None
                f = call.func if call else d
                if (isinstance(f, ast.Name) and f.id == 'patch') or (isinstance(f, ast.Attribute) and f.attr == 'patch'):
                    nm = next((k.value.value for k in (call.keywords if call else []) if k.arg == 'nm'), n.name)
                    ann = n.args.args[0].annotation if n.args.args else None
                    for cls in (ast.unparse(ann).replace(' ', '').strip('()').split('|') if ann is not None else ['?']):
                        sites.append((n.lineno, cls, nm))
        elif isinstance(n, ast.Assign):
            for t in n.targets:
                if isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name): sites.append((n.lineno, t.value.id, t.attr))
    return sites


def class_bodies(tree) -> dict:
    "class name -> the names its body defines"
    out = {}
    for n in tree.body:
        if isinstance(n, ast.ClassDef):
            names = set()
            for b in n.body:
                if isinstance(b, (ast.FunctionDef, ast.AsyncFunctionDef)): names.add(b.name)
                elif isinstance(b, ast.Assign): names |= {t.id for t in b.targets if isinstance(t, ast.Name)}
                elif isinstance(b, ast.AnnAssign) and isinstance(b.target, ast.Name): names.add(b.target.id)
            out[n.name] = names
    return out


def check_module(mod: str, order: dict, graph: dict, sites: dict, bodies: dict) -> list:
    path = LIB/f'{mod}.py'
    text = path.read_text()
    tree = ast.parse(text)
    bad = []
    if (n := len(text.splitlines())) > MAX_LINES: bad.append(f"{n} lines, more than {MAX_LINES}: split it by job")
    for m in re.finditer(r'\b(import_module|__import__)\s*\(', text):
        bad.append(f"line {text[:m.start()].count(chr(10)) + 1}: {m.group(1)}(): import modules with import statements")
    classes = {n.name for n in ast.walk(tree) if isinstance(n, ast.ClassDef)} | {a.asname or a.name for n in ast.walk(tree)
               if isinstance(n, ast.ImportFrom) for a in n.names if a.name[:1].isupper()}
    for n in ast.walk(tree):   # setattr on a class (by name, or a `cls` argument); on an instance it is the instance's business
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == 'setattr' and n.args \
                and isinstance(n.args[0], ast.Name) and (n.args[0].id in classes or n.args[0].id == 'cls'):
            bad.append(f"line {n.lineno}: setattr() on class {n.args[0].id}: add a method with @patch, or define it in the class")
    graph[mod] = imports(tree, mod)
    if mod in order:
        for other in sorted(graph[mod]):
            if other in order and order[other] >= order[mod]:
                bad.append(f"imports slowai.{other}, whose notebook does not come before this one's")
    try: module = importlib.import_module(f'{cfg.lib_path.name}.{mod}')
    except Exception as e: return bad + [f"does not import: {type(e).__name__}: {e}"]
    seen = {}
    for line, cname, attr in sites[mod]:
        cls = getattr(module, cname, None)
        if not isinstance(cls, type): continue
        home = cls.__module__.split('.')[-1]
        if home == mod:   # our own class: a new name, or an override of one it inherits
            if attr in bodies[mod].get(cname, ()) or (cname, attr) in seen:
                bad.append(f"line {line}: replaces {cname}.{attr}, already defined in {seen.get((cname, attr), 'its class body')}")
        else:             # another module's class: only a name it does not have
            native = native_names(cls, sites, bodies)
            inherited = any(attr in native_names(b, sites, bodies) for b in cls.__mro__[1:])
            others = sorted(m for m, ss in sites.items() if m not in (mod, home) and any(c == cname and a == attr for _, c, a in ss))
            if attr in native or inherited or others:
                where = f"slowai.{others[0]}" if others else f"{cls.__module__}"
                bad.append(f"line {line}: replaces {cname}.{attr}, which {where} defines")
        seen[(cname, attr)] = f'line {line}'
    return bad


def native_names(cls, sites: dict, bodies: dict) -> set:
    "The names class `cls` has by itself: its body's and its own module's patches' for ours (as read, not as imported), `vars` for others"
    home = cls.__module__.split('.')
    if home[0] != cfg.lib_path.name: return set(vars(cls))
    m = home[-1]
    return bodies.get(m, {}).get(cls.__name__, set()) | {a for _, c, a in sites.get(m, []) if c == cls.__name__}


def cycles(graph: dict) -> list:
    "Import cycles among the modules, each as a list"
    found, state = [], {}
    def visit(m, stack):
        state[m] = 1; stack.append(m)
        for o in sorted(graph.get(m, ())):
            if state.get(o) == 1: found.append(stack[stack.index(o):] + [o])
            elif o in graph and not state.get(o): visit(o, stack)
        stack.pop(); state[m] = 2
    for m in sorted(graph):
        if not state.get(m): visit(m, [])
    return found


def main():
    sys.path.insert(0, str(ROOT))
    order, graph = notebook_order(), {}
    mods = sorted(p.stem for p in LIB.glob('*.py') if p.stem not in SKIP)
    trees = {m: ast.parse((LIB/f'{m}.py').read_text()) for m in mods}
    sites, bodies = {m: patch_sites(t) for m, t in trees.items()}, {m: class_bodies(t) for m, t in trees.items()}
    for mod in mods:
        bad = check_module(mod, order, graph, sites, bodies)
        record('FAIL' if bad else 'PASS', f'slowai.{mod}', '; '.join(bad))
    cyc = cycles(graph)
    record('FAIL' if cyc else 'PASS', 'import cycles', '; '.join(' -> '.join(c) for c in cyc) or 'none')
    return finish()


if __name__ == '__main__': sys.exit(main())
