"""Every encoder refuses a wrong dtype at the door, naming the argument and the fix."""

import pytest
import torch

from mmkit.encoders import (
    ActionClassifier,
    BagOfEmbeddings,
    FlowMLP,
    ImageCNN,
    KeypointNet,
    LogMelCNN,
    LSTMEncoder,
    MFCCEncoder,
    TransformerTextEncoder,
    VideoCNN3d,
)

PIXELS = r"must be a floating-point tensor, got torch.uint8: convert with `{}.float\(\) / 255`"
IDS = r"ids must hold integer token ids, got torch.float32: convert with `ids.long\(\)`"

CASES = [
    ("ImageCNN", lambda: ImageCNN(), torch.randint(0, 256, (2, 3, 32, 32), dtype=torch.uint8),
     PIXELS.format("x")),
    ("BagOfEmbeddings", lambda: BagOfEmbeddings(10, 4), torch.ones(2, 5), IDS),
    ("LSTMEncoder", lambda: LSTMEncoder(10, 4, 6), torch.ones(2, 5), IDS),
    ("TransformerTextEncoder", lambda: TransformerTextEncoder(10, dim=8, heads=2, layers=1),
     torch.ones(2, 5), IDS),
    ("MFCCEncoder", lambda: MFCCEncoder(13), torch.ones(2, 13, 20, dtype=torch.int16),
     r"features must be a floating-point tensor, got torch.int16: convert with `features.float\(\)`"),
    ("LogMelCNN", lambda: LogMelCNN(24), torch.ones(2, 24, 20, dtype=torch.int32),
     r"features must be a floating-point tensor, got torch.int32: convert with `features.float\(\)`"),
    ("FlowMLP", lambda: FlowMLP(6), torch.ones(2, 3, 2, 1, 1, dtype=torch.int64),
     r"flow must be a floating-point tensor, got torch.int64: convert with `flow.float\(\)`"),
    ("VideoCNN3d", lambda: VideoCNN3d(3), torch.zeros(2, 4, 3, 16, 16, dtype=torch.uint8),
     PIXELS.format("video")),
    ("KeypointNet", lambda: KeypointNet(11), torch.zeros(2, 1, 24, 24, dtype=torch.uint8),
     PIXELS.format("frames")),
    ("ActionClassifier", lambda: ActionClassifier(11), torch.zeros(2, 8, 11, 2, dtype=torch.int64),
     r"joints must be a floating-point tensor, got torch.int64: convert with `joints.float\(\)`"),
]


@pytest.mark.parametrize(("name", "build", "wrong", "match"), CASES, ids=[c[0] for c in CASES])
def test_wrong_dtype_names_the_fix(name, build, wrong, match):
    encoder = build()
    with pytest.raises(TypeError, match=match):
        encoder(wrong)
    # ... and the converted input goes through.
    right = wrong.long() if wrong.is_floating_point() else wrong.float() / (
        255 if wrong.dtype == torch.uint8 else 1)
    out = encoder(right)
    assert out.shape[0] == 2 and torch.isfinite(out).all()
