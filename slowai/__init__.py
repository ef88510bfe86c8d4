__version__ = "0.1.0"

# the optimizers' multi-tensor and compiled paths (nbs/05_fast_optimizers.ipynb), on by default: `foreach=False` turns them off
from . import fast_optimizers
__all__ = ['fast_optimizers']
