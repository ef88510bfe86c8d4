"""Every public name of every slowai module has a docstring of its own, and so does every public method and property of
its classes, the ones added with `@patch` included (nbdev's docs show a method without one as "Call self as a function.").
An override without a docstring has its parent's, as `inspect.getdoc` finds it.

Exempt: a callback's event handlers (`before_fit`, `after_batch`, `predict`, ... : the events are documented once, with
the `Learner`) and `nn.Module`'s `forward`/`extra_repr`. Ends with 'N passed, N failed'.

    python tools/check_api.py
"""
import importlib, inspect, pkgutil, re, sys, warnings

from common import finish, record

EVENT = re.compile(r'^(before|after|cleanup)_\w+$|^(predict|get_loss|backward|step|zero_grad)$')
MODULE_PROTOCOL = {'forward', 'extra_repr'}

def own_doc(o) -> bool:
    "`o` has a docstring of its own (a class's is not inherited; a function's is its own)"
    if inspect.isclass(o): return bool(o.__dict__.get('__doc__'))
    return bool(getattr(o, '__doc__', None))

def exempt(cls, name) -> bool:
    from torch import nn
    from slowai.learner import Callback, Learner
    if issubclass(cls, (Callback, Learner)) and EVENT.match(name): return True
    return issubclass(cls, nn.Module) and name in MODULE_PROTOCOL

def missing(modname):
    "`module.Name[.method]` for each public object of `modname` without a docstring of its own"
    mod = importlib.import_module(modname)
    for n in getattr(mod, '__all__', []):
        o = getattr(mod, n)
        if getattr(o, '__module__', None) != modname: continue  # re-exported from elsewhere: checked there
        if not (inspect.isclass(o) or callable(o)): continue
        if not own_doc(o): yield f'{modname}.{n}'
        if not inspect.isclass(o): continue
        for k, v in vars(o).items():
            if k.startswith('_') or exempt(o, k): continue
            f = v.fget if isinstance(v, property) else v.__func__ if isinstance(v, (staticmethod, classmethod)) else v
            if not inspect.isfunction(f): continue
            # an override without a docstring of its own has its parent's, as `inspect.getdoc` and nbdev's show_doc find it
            doc = f.__doc__ or (not isinstance(v, property) and inspect.getdoc(getattr(o, k)))
            if not doc: yield f'{modname}.{n}.{k}'

def main():
    import slowai
    warnings.simplefilter('ignore')
    mods = [f'slowai.{m.name}' for m in pkgutil.iter_modules(slowai.__path__) if not m.name.startswith('_')]
    for m in mods:
        bad = list(missing(m))
        if bad: record('FAIL', m, f"no docstring for {', '.join(bad)}: add a one-line docstring in the notebook that exports it")
        else: record('PASS', m, 'every public name, method and property has a docstring')
    return finish()

if __name__ == '__main__': sys.exit(main())
