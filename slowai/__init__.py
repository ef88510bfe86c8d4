__version__ = "0.1.0"
# The modules that give `Learner` its methods (`predict`, `get_preds`, `validate`, `save`, `load`; `lr_find`,
# `fit_one_cycle`; `export`) come with the package, so a `Learner` has them whichever slowai module was imported first.
from . import export, inference, schedulers
