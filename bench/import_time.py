"""How long `import slowai.learner` takes next to `import torch`, which it cannot avoid. Target: within 0.5 s of torch.

Each import runs in a fresh process (nothing cached in memory but the OS's file cache), timed inside it around the
import statement alone, so the interpreter's own start is not counted. The three statements take turns, round after round
(`import torch`, `import slowai.learner`, `import slowai`, then again in the next order), so a machine that slows down
slows them all; the first round warms the file cache and is not counted. Reports each one's median and spread, and
slowai.learner's difference from torch and ratio to it. Then one `python -X importtime` run names the packages that the
time beyond torch goes to (their own import time, summed per top-level package).
`--save` writes a record like the other bench scripts (command, commit, machine).
Run: `.venv/bin/python bench/import_time.py [--runs 7] [--save nbs/bench_runs/import_time.json]`.
"""
import argparse, os, re, statistics, subprocess, sys, time
from collections import defaultdict

import record  # bench/record.py: the script's folder is on sys.path

STATEMENTS = ['import torch', 'import slowai.learner', 'import slowai']
TARGET_S = 0.5  # slowai.learner may take this much longer than torch
TIMER = "import time; t0 = time.perf_counter(); {stmt}; print(time.perf_counter() - t0)"


def env():
    "The environment of a user's shell: no PYTHONPATH, one thread (as the other benches), no display"
    e = {k: v for k, v in os.environ.items() if k not in ('PYTHONPATH', 'PYTHONSTARTUP')}
    return {**e, 'OMP_NUM_THREADS': e.get('OMP_NUM_THREADS', '1'), 'MPLBACKEND': 'Agg'}


def time_import(stmt: str) -> float:
    "Seconds `stmt` takes in a fresh interpreter, timed inside it"
    r = subprocess.run([sys.executable, '-c', TIMER.format(stmt=stmt)], capture_output=True, text=True, env=env(), cwd=record.ROOT)
    if r.returncode: sys.exit(f"`{stmt}` failed:\n{r.stderr[-2000:]}")
    return float(r.stdout.strip().splitlines()[-1])


def time_all(runs: int) -> dict:
    "`runs` timed imports of each statement, taking turns in a rotating order after one warm-up round"
    times = {s: [] for s in STATEMENTS}
    for r in range(runs + 1):
        order = STATEMENTS[r % len(STATEMENTS):] + STATEMENTS[:r % len(STATEMENTS)]
        for s in order:
            t = time_import(s)
            if r: times[s].append(t)
    return times


def beyond_torch(top: int = 6) -> tuple[float, list]:
    """One `-X importtime` run of `import torch; import slowai.learner`: the import time after torch's, in all and as the
    `top` top-level packages' own times (summed over their modules)"""
    r = subprocess.run([sys.executable, '-X', 'importtime', '-c', 'import torch; import slowai.learner'],
                       capture_output=True, text=True, env=env(), cwd=record.ROOT)
    lines = [m.groups() for m in re.finditer(r'^import time:\s+(\d+) \|\s+(\d+) \| ( *)(\S+)$', r.stderr, re.M)]  # ( *): the nesting
    end_torch = next((i for i, (_, _, ind, name) in enumerate(lines) if name == 'torch' and not ind), None)
    if end_torch is None: sys.exit(f"no `import torch` line in python -X importtime's output:\n{r.stderr[-2000:]}")
    per = defaultdict(int)
    for self_us, _, _, name in lines[end_torch + 1:]: per[name.split('.')[0]] += int(self_us)
    return sum(per.values())/1e6, sorted(((k, round(v/1e6, 3)) for k, v in per.items()), key=lambda kv: -kv[1])[:top]


if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--runs', type=int, default=7, help='timed runs of each statement (the median is reported)')
    p.add_argument('--save', help='write the record (JSON) here')
    a = p.parse_args()
    cmd, commit, t0 = record.command(), record.commit(), time.time()
    times = time_all(a.runs)
    med = {s: statistics.median(v) for s, v in times.items()}
    for s, v in times.items():
        print(f"{s:24s} median {med[s]:.3f} s  (min {min(v):.3f}, max {max(v):.3f}, {len(v)} runs)")
    torch_s, learner_s = med['import torch'], med['import slowai.learner']
    diff, ratio = learner_s - torch_s, learner_s/torch_s
    print(f"slowai.learner - torch: {diff:+.3f} s; ratio {ratio:.2f}x; target: within {TARGET_S} s: {'met' if diff <= TARGET_S else 'NOT met'}")
    after, extra = beyond_torch()
    print(f"-X importtime, after torch: {after:.3f} s in all; by package: " + ', '.join(f"{k} {v:.3f} s" for k, v in extra))
    print(f"took {time.time() - t0:.0f} s")
    if a.save:
        record.write(a.save, dict(command=cmd, commit=commit, machine=record.machine(), runs=a.runs,
                                  load_average=os.getloadavg()[0], times=times, median_s=med, learner_minus_torch_s=diff,
                                  learner_over_torch=ratio, target_s=TARGET_S, met=diff <= TARGET_S,
                                  importtime_after_torch_s=after, importtime_by_package_s=dict(extra)))
