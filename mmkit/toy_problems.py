"""Small loss functions with a known minimum, for watching gradient descent move.

Each one gives its loss and its gradient in closed form, so a lesson can compare a
hand-derived gradient with autograd and see exactly why a learning rate diverges.
"""

import torch

from mmkit.checks import check_tensor


def parabola_loss(theta: torch.Tensor) -> torch.Tensor:
    """The article's example L(θ) = (θ - 1)², minimum 0 at θ = 1."""
    return (theta - 1) ** 2


def parabola_grad(theta: torch.Tensor) -> torch.Tensor:
    """dL/dθ = 2(θ - 1). Gradient descent converges for 0 < lr < 1 (its curvature is 2)."""
    return 2 * (theta - 1)


class QuadraticBowl:
    """L(θ) = ½ Σ_i c_i (θ_i - m_i)², an elongated 2-D bowl.

    The curvatures c_i differ, so the bowl is steep in one direction and flat in the other:
    gradient descent converges only if lr < 2 / max(c_i), and it zig-zags across the steep
    direction long before that. This is why one learning rate rarely fits every weight.
    """

    def __init__(self, curvatures=(1.0, 4.0), minimum=(1.0, -0.5)):
        self.curvatures = torch.tensor(curvatures, dtype=torch.float64)
        self.minimum = torch.tensor(minimum, dtype=torch.float64)
        if self.curvatures.shape != (2,) or self.minimum.shape != (2,):
            raise ValueError("curvatures and minimum must each hold two numbers")
        if (self.curvatures <= 0).any():
            raise ValueError(f"curvatures must be > 0, got {curvatures}")

    @property
    def max_stable_lr(self) -> float:
        return 2.0 / float(self.curvatures.max())

    def loss(self, theta: torch.Tensor) -> torch.Tensor:
        """theta: (..., 2) -> loss (...)."""
        check_tensor(theta, "theta", floating=True, min_ndim=1, finite=False)
        if theta.shape[-1] != 2:
            raise ValueError(f"theta must end in a dimension of size 2, got shape {tuple(theta.shape)}")
        diff = theta - self.minimum.to(theta.dtype)
        return 0.5 * (self.curvatures.to(theta.dtype) * diff**2).sum(-1)

    def grad(self, theta: torch.Tensor) -> torch.Tensor:
        """∇L = c ⊙ (θ - m), same shape as theta."""
        check_tensor(theta, "theta", floating=True, min_ndim=1, finite=False)
        return self.curvatures.to(theta.dtype) * (theta - self.minimum.to(theta.dtype))
