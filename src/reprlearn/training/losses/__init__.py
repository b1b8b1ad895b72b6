"""Self-supervised losses, one per file: NT-Xent (SimCLR), VICReg, BYOL's normalised MSE."""

from reprlearn.training.losses.byol import byol_loss
from reprlearn.training.losses.nt_xent import nt_xent
from reprlearn.training.losses.vicreg import vicreg_loss

__all__ = ["byol_loss", "nt_xent", "vicreg_loss"]
