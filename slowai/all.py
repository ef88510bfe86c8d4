"Everything in one import: `from slowai.all import *`, as fastai's `all` modules"
from .core import *
from .data import *
from .learner import *
from .inference import *
from .callbacks import *
from .models import *
from .optimizers import *
from .fast_optimizers import *   # the same names: the fast subclasses the library trains with
from .schedulers import *
from .recipes import *
from .checkpoints import *
from .tracker import *
from .resnet import *
