"""What every bench record carries: the command (with paths relative to the repo), the commit, the machine.

`bench/resnet.py --save` and `bench/optimizers.py --save` write JSON records into `nbs/`, which the notebooks load,
check and show for the runs too long for their own cells.
"""
import json, os, platform, subprocess, sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent  # the repository

def repo_path(p)->str:
    "`p` relative to the repository root when it lies inside it, else just its file name: records carry no machine paths"
    p = Path(p).expanduser().resolve()
    try: return p.relative_to(ROOT).as_posix()
    except ValueError: return p.name

def command(argv=None, path_flags=('--save',))->str:
    "The command line that ran, as `python bench/NAME.py ...` with the values of `path_flags` made repo-relative"
    argv = list(sys.argv if argv is None else argv)
    out = ['python', repo_path(argv[0])]
    for i, a in enumerate(argv[1:], 1):
        flag, eq, val = a.partition('=')
        if eq and flag in path_flags: a = f"{flag}={repo_path(val)}"
        elif argv[i-1] in path_flags: a = repo_path(a)
        out.append(a)
    return ' '.join(out)

def machine()->dict:
    "CPU model, cores this process may use, GPU name (or `None`), torch version and threads"
    cpu = platform.processor()
    if Path('/proc/cpuinfo').exists():
        cpu = next((l.split(':', 1)[1].strip() for l in open('/proc/cpuinfo') if l.startswith('model name')), cpu)
    gpu = torch.cuda.get_device_name() if torch.cuda.is_available() else None
    return dict(cpu=cpu, cores=len(os.sched_getaffinity(0)), gpu=gpu, torch=torch.__version__, threads=torch.get_num_threads())

def commit()->str|None:
    "HEAD when the run starts, with '+changes' if the library or the benches differ from it"
    git = lambda *a: subprocess.run(['git', *a], capture_output=True, text=True, cwd=ROOT).stdout.strip()
    try: head, dirty = git('rev-parse', '--short', 'HEAD'), git('status', '--porcelain', '--', ':/slowai', ':/bench')
    except OSError: return None
    return (head + ('+changes' if dirty else '')) or None

def write(path, rec:dict):
    "Write `rec` as indented JSON to `path`, creating its folder"
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(rec, indent=1) + '\n')
    print('wrote', repo_path(path))
