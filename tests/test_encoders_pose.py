"""Pose: heatmap targets, decoding, PCK by hand, the keypoint net and the action encoder."""

import pytest
import torch
import torch.nn.functional as F

from mmkit import exercises
from mmkit.data import StickFigures
from mmkit.encoders import ActionClassifier, KeypointNet
from mmkit.encoders.pose import (
    decode_heatmaps,
    gaussian_heatmaps,
    heatmap_loss,
    keypoint_rcnn_weights_path,
    normalize_pose,
    pck,
    spatial_softmax,
)


def test_heatmap_peaks_at_the_joint():
    joints = torch.tensor([[[3.0, 7.0], [10.0, 2.0], [0.0, 15.0]]])  # (1, J=3, 2) as (x, y)
    maps = gaussian_heatmaps(joints, size=16, sigma=1.5)
    assert maps.shape == (1, 3, 16, 16)
    for j, (x, y) in enumerate(joints[0].long().tolist()):
        assert maps[0, j, y, x] == 1.0  # row y, column x
        assert maps[0, j].argmax() == y * 16 + x
    # a joint between pixels: the peak is at the nearest pixel, and the map is symmetric
    half = gaussian_heatmaps(torch.tensor([[4.5, 6.0]]), 12)
    assert torch.allclose(half[0, 6, 4], half[0, 6, 5]) and half[0, 6, 4] < 1


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_argmax_recovers_integer_joints_exactly(seed):
    generator = torch.Generator().manual_seed(seed)
    joints = torch.randint(0, 20, (5, 11, 2), generator=generator).float()
    maps = gaussian_heatmaps(joints, size=20, sigma=1.0)
    assert torch.equal(decode_heatmaps(maps, "argmax"), joints)


@pytest.mark.parametrize("seed", [0, 1])
def test_soft_argmax_recovers_subpixel_joints(seed):
    generator = torch.Generator().manual_seed(seed)
    joints = 8 + 16 * torch.rand(4, 11, 2, generator=generator, dtype=torch.float64)
    maps = gaussian_heatmaps(joints, size=32, sigma=1.5)  # far from the edges: not cut off
    assert torch.allclose(decode_heatmaps(maps, "soft_argmax"), joints, atol=1e-6)
    # argmax rounds to the nearest pixel
    assert (decode_heatmaps(maps, "argmax") - joints).abs().max() <= 0.5 + 1e-9


def test_soft_argmax_of_a_spatial_softmax_sums_to_one_and_decodes():
    logits = torch.full((1, 1, 9, 9), -50.0)
    logits[0, 0, 2, 6] = 50.0
    probabilities = spatial_softmax(logits)
    assert torch.allclose(probabilities.sum(dim=(-2, -1)), torch.ones(1, 1))
    assert torch.allclose(decode_heatmaps(probabilities, "soft_argmax"), torch.tensor([[[6.0, 2.0]]]))


def test_pck_by_hand():
    true = torch.zeros(2, 3, 2)
    pred = torch.tensor([
        [[0.0, 1.0], [1.2, 0.0], [0.0, 0.3]],  # distances 1.0, 1.2, 0.3; height 10 -> 1.0
        [[3.0, 4.0], [2.0, 0.0], [0.0, 2.1]],  # distances 5.0, 2.0, 2.1; height 20 -> 2.0
    ])
    height = torch.tensor([10.0, 20.0])
    # by hand: figure 0 finds joints 0 (1.0 <= 1.0) and 2; figure 1 finds joint 1: 3 of 6
    assert pck(pred, true, height).item() == pytest.approx(0.5)
    assert pck(pred, true, height, alpha=0.2).item() == pytest.approx(5 / 6)  # 5.0 > 4
    assert pck(pred, true, 50.0).item() == pytest.approx(1.0)
    clips = torch.stack([pred, pred], dim=1)  # (N=2, T=2, J, 2), one height per clip
    assert pck(clips, torch.zeros_like(clips), height[:, None]).item() == pytest.approx(0.5)


def test_pck_bad_inputs():
    x = torch.zeros(2, 3, 2)
    with pytest.raises(ValueError, match="same shape"):
        pck(x, torch.zeros(2, 4, 2), 10.0)
    with pytest.raises(ValueError, match=r"\(x, y\) last"):
        pck(torch.zeros(2, 3), torch.zeros(2, 3), 10.0)
    with pytest.raises(ValueError, match="height must be > 0"):
        pck(x, x, torch.tensor([10.0, 0.0]))
    with pytest.raises(ValueError, match="one value per figure"):
        pck(x, x, torch.ones(3))
    with pytest.raises(ValueError, match="method must be one of"):
        decode_heatmaps(torch.rand(1, 2, 4, 4), "mean")
    with pytest.raises(ValueError, match="no positive value"):
        decode_heatmaps(torch.zeros(1, 2, 4, 4), "soft_argmax")
    with pytest.raises(ValueError, match="sigma must be a finite number > 0"):
        gaussian_heatmaps(x, 8, sigma=0)


def test_keypoint_net_shapes_and_a_few_steps_of_learning():
    figures = StickFigures(n=6, image_size=24, frames=2, seed=0)
    frames = torch.cat([figures[i]["video"] for i in range(6)])  # (12, 1, 24, 24)
    joints = torch.cat([figures[i]["joints"] for i in range(6)])  # (12, 11, 2)
    torch.manual_seed(0)
    net = KeypointNet(11)
    assert net(frames).shape == (12, 11, 24, 24)
    assert net.predict(frames).shape == (12, 11, 2)
    target = gaussian_heatmaps(joints, 24)
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-2)
    losses = []
    for _ in range(15):
        optimizer.zero_grad()
        loss = heatmap_loss(net(frames), target)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]
    with pytest.raises(ValueError, match=r"must be \(B, 1, H, W\)"):
        net(torch.rand(2, 3, 24, 24))


def test_normalize_pose_removes_position_and_size():
    figures = StickFigures(n=2, image_size=32, frames=4, seed=1)
    joints = figures[0]["joints"][None]
    moved = joints * 1.7 + torch.tensor([3.0, -2.0])
    assert torch.allclose(normalize_pose(moved), normalize_pose(joints), atol=1e-5)
    torso = normalize_pose(joints)[0, :, 0] - normalize_pose(joints)[0, :, 2]  # head - hips
    assert torch.allclose(torso.norm(dim=-1).mean(), torch.tensor(1.0), atol=1e-5)


def test_action_classifier_shape_and_bad_input():
    encoder = ActionClassifier(11, out_dim=5)
    joints = 10 * torch.rand(3, 8, 11, 2)
    assert encoder(joints).shape == (3, 5) and encoder.out_dim == 5
    with pytest.raises(ValueError, match=r"must be \(B, T, 11, 2\)"):
        encoder(torch.rand(3, 8, 10, 2))


def test_keypoint_rcnn_path_names_torchvision_file():
    import torchvision.models.detection.keypoint_rcnn as krcnn

    path = keypoint_rcnn_weights_path()
    assert path.parent.name == "checkpoints"
    assert path.name == krcnn.KeypointRCNN_ResNet50_FPN_Weights.COCO_V1.url.rsplit("/", 1)[1]


def _right(pred, true, height, alpha=0.1):
    return ((pred - true).norm(dim=-1) <= alpha * height[:, None]).float().mean()


@pytest.mark.parametrize(("fn", "passed", "words"), [
    (_right, True, "checker's own made-up figures"),
    (pck, False, "that is the kit's pck"),  # `my_pck = pck` must not pass the exercise
    (lambda p, t, h, a=0.1: pck(p, t, h, a), True, "correct"),  # the kit's answer is right, though
    (lambda p, t, h, a=0.1: ((p - t).norm(dim=-1) <= a * 32).float().mean(), False, "image size"),
    (lambda p, t, h, a=0.1: ((p - t).norm(dim=-1) <= a * h.mean()).float().mean(), False,
     "one mean height"),
    (lambda p, t, h, a=0.1: ((p - t).abs() <= a * h[:, None, None]).all(-1).float().mean(), False,
     "Euclidean"),
    (lambda p, t, h, a=0.1: ((p - t).norm(dim=-1) <= h[:, None]).float().mean(), False,
     "forgets alpha"),
    (lambda p, t, h, a=0.1: ((p - t).norm(dim=-1) < a * h[:, None]).float().mean(), False, "uses <"),
    (lambda p, t, h, a=0.1: ((p - t).norm(dim=-1) <= a * h[:, None]).float().sum(), False,
     "more than 1"),
    (lambda p, t, h, a=0.1: ((p - t).norm(dim=-1) <= a * h[:, None]).float().mean(0), False,
     "average over every joint"),
    (lambda p, t, h, a=0.1: ((p - t).norm(dim=-1) <= a * h[:, None] / 2).float().mean(), False,
     "expected"),
])
def test_check_pck(fn, passed, words):
    feedback = exercises.check_pck(fn)
    assert feedback.passed is passed
    assert words in feedback.message


def test_keypoint_explorer_updates_without_a_browser():
    from mmkit.widgets import Explorer, keypoint_explorer

    explorer = keypoint_explorer()  # untrained net on 8 default clips
    assert isinstance(explorer, Explorer)
    before_png = explorer.image.value
    before_frame = explorer.plots["frame"].get_array().copy()
    before_map = explorer.plots["heatmap"].get_array().copy()
    explorer.controls["frame"].value = 3
    assert not (explorer.plots["frame"].get_array() == before_frame).all()
    assert explorer.image.value != before_png
    figures = StickFigures(n=8, image_size=24, frames=8, seed=0, noise=0.05)
    truth = figures[0]["joints"][3]
    assert torch.allclose(torch.as_tensor(explorer.plots["truth"].get_offsets()).float(), truth)
    explorer.controls["joint"].value = "head"
    assert not (explorer.plots["heatmap"].get_array() == before_map).all()
    assert "head:" in explorer.status.value and "of 11 joints" in explorer.status.value


def test_keypoint_explorer_bad_inputs():
    from mmkit.widgets import keypoint_explorer

    with pytest.raises(ValueError, match="pass joints"):
        keypoint_explorer(videos=torch.rand(2, 3, 1, 24, 24))
    with pytest.raises(ValueError, match=r"must be \(N, T, J, 2\)"):
        keypoint_explorer(videos=torch.rand(2, 3, 1, 24, 24), joints=torch.rand(2, 4, 11, 2))


def test_heatmap_loss_is_cross_entropy_with_probability_targets_and_reduces():
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(3, 4, 6, 5, generator=g)
    target = torch.rand(3, 4, 6, 5, generator=g)
    probabilities = (target / target.sum(dim=(-2, -1), keepdim=True)).flatten(-2)
    reference = F.cross_entropy(logits.flatten(-2).flatten(0, 1), probabilities.flatten(0, 1),
                                reduction="none").view(3, 4)
    torch.testing.assert_close(heatmap_loss(logits, target), reference.mean())
    torch.testing.assert_close(heatmap_loss(logits, target, reduction="none"), reference.mean(dim=1))
    torch.testing.assert_close(heatmap_loss(logits, target, reduction="sum"), reference.mean(dim=1).sum())
    with pytest.raises(ValueError, match="reduction must be one of 'mean', 'sum', 'none'"):
        heatmap_loss(logits, target, reduction="max")
