"make demo: train the seed's Kaiming-initialised CNN on Fashion-MNIST and print the per-epoch table."
import torch.nn.functional as F
from slowai.data import fashion_mnist, set_seed
from slowai.models import get_kaiming_initalized_model
from slowai.learner import Learner, MomentumCB, DeviceCB, MetricsCB, ProgressCB, TerminateOnNaNCB, MulticlassAccuracy

set_seed(42)
learn = Learner(get_kaiming_initalized_model(), fashion_mnist(bs=512, seed=42), F.cross_entropy, lr=0.2,
                cbs=[MomentumCB(0.85), DeviceCB(), MetricsCB(MulticlassAccuracy()), ProgressCB(), TerminateOnNaNCB()])
learn.fit(3)
