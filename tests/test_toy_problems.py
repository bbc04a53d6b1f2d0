import pytest
import torch

from mmkit import toy_problems


def test_parabola_gradient_matches_autograd():
    theta = torch.linspace(-3, 3, 13, dtype=torch.float64, requires_grad=True)
    (grad,) = torch.autograd.grad(toy_problems.parabola_loss(theta).sum(), theta)
    torch.testing.assert_close(toy_problems.parabola_grad(theta.detach()), grad)


def test_bowl_gradient_matches_autograd_and_minimum_is_zero():
    bowl = toy_problems.QuadraticBowl(curvatures=(2.0, 5.0), minimum=(0.5, -1.0))
    theta = torch.randn(6, 2, dtype=torch.float64, requires_grad=True)
    (grad,) = torch.autograd.grad(bowl.loss(theta).sum(), theta)
    torch.testing.assert_close(bowl.grad(theta.detach()), grad)
    assert bowl.loss(bowl.minimum).item() == 0.0
    assert bowl.max_stable_lr == pytest.approx(0.4)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"curvatures": (1.0, -1.0)}, "curvatures must be > 0"),
    ({"minimum": (1.0, 2.0, 3.0)}, "two numbers"),
])
def test_bowl_rejects_bad_shapes(kwargs, match):
    with pytest.raises(ValueError, match=match):
        toy_problems.QuadraticBowl(**kwargs)


def test_bowl_loss_wants_pairs():
    with pytest.raises(ValueError, match="size 2"):
        toy_problems.QuadraticBowl().loss(torch.ones(3, dtype=torch.float64))
