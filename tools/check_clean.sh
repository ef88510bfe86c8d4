#!/usr/bin/env bash
# The nbdev CI recipe: exporting the library, cleaning the notebooks and regenerating the README must change nothing.
set -euo pipefail
if ! git rev-parse --git-dir >/dev/null 2>&1; then echo "not a git checkout: skipping the no-diff checks"; exit 0; fi
state() { git status --porcelain --untracked-files=all; git diff; }
before=$(state)
nbdev_export
nbdev_clean
python tools/readme.py
after=$(state)
if [ "$before" != "$after" ]; then
  echo "FAILED: nbdev_export / nbdev_clean / tools/readme.py changed files. Run them, review and commit the result:"
  diff <(echo "$before") <(echo "$after") || true
  exit 1
fi
echo "clean: library in sync with the notebooks, notebooks clean, README in sync with index.ipynb"
