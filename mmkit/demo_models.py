"""The explorers' default data and models: small, seeded, trained in about a second.

Every explorer opens without arguments, and these give it something worth looking at: the
same weights for the same seed, on any machine. They train through ``mmkit.train.fit``
(``max_steps=``) like everything else in the kit, on the CPU (the models are tiny), and
build their weights inside ``torch.random.fork_rng``, so the learner's random state is left
as it was.
"""

import numpy as np
import torch

from mmkit import fusion
from mmkit.checks import check_choice, check_int, check_positive
from mmkit.data.shapes_world import COLOURS, DIRECTIONS, ShapesWorld
from mmkit.encoders.image import ImageCNN
from mmkit.encoders.text import BagOfEmbeddings, TransformerTextEncoder
from mmkit.models import MultimodalClassifier, UnimodalClassifier
from mmkit.preprocess.splits import shapes_world_splits
from mmkit.preprocess.text import Vocabulary
from mmkit.train import fit

# ShapesWorld set-ups of the explorers.
XOR = {"task": "xor", "modalities": ("image", "text"), "noise": {"image": 0.05}}
# Binary, and no small model gets it all right: the size of a shape in a noisy 8x8 image,
# with a caption that says the size but loses 70 % of its words.
SIZE = {"task": "size", "modalities": ("image", "text"), "image_size": 8,
        "noise": {"image": 0.5, "text": 0.7}}
# Four colours in 16x16 images noisy enough that a quickly trained CNN makes mistakes to rate.
COLOUR = {"task": "colour", "modalities": ("image", "text"), "image_size": 16,
          "noise": {"image": 0.3}}
# Captions that name the direction in varied words and orders.
DIRECTION_CAPTIONS = {"task": "direction", "noise": {"text": 0.1},
                      "caption_variation": {"synonyms": 0.5, "word_order": 0.5},
                      "modalities": ("text",)}
FUSIONS = ("concat", "late", "attention")


def quick_fit(model, data: dict, steps: int, *, seed: int = 0, lr: float = 1e-2):
    """``steps`` Adam steps of cross-entropy on minibatches of 64 from ``data`` (its tensor
    entries), on the CPU, seeded; returns the model in eval mode."""
    tensors = {key: value for key, value in data.items() if isinstance(value, torch.Tensor)}
    fit(model, tensors, max_steps=check_int(steps, "steps", minimum=1), lr=lr, batch_size=64,
        seed=seed, progress=False, device="cpu")
    return model.eval()


def image_text_classifier(vocab_size: int, fusion_method: str = "concat", num_classes: int = 2,
                          *, seed: int = 0):
    """A one-block image CNN and a bag of embeddings (16 features each), fused by
    ``fusion_method`` ("concat", "late" or "attention"), with a 16-unit hidden layer
    (none for late fusion, whose per-modality heads already give class scores).
    Its weights depend on ``seed`` only."""
    check_choice(fusion_method, "fusion_method", FUSIONS)
    dims = {"image": 16, "text": 16}
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(check_int(seed, "seed"))
        encoders = {"image": ImageCNN(3, (8,), out_dim=16, pooled_size=1),
                    "text": BagOfEmbeddings(check_int(vocab_size, "vocab_size", minimum=2), 16)}
        fused = {"concat": lambda: fusion.ConcatFusion(dims),
                 "late": lambda: fusion.LateFusion(dims, num_classes),
                 "attention": lambda: fusion.AttentionFusion(dims, dim=16, hidden=8)}
        return MultimodalClassifier(encoders, fused[fusion_method](), num_classes, hidden=16)


def image_classifier(num_classes: int, *, seed: int = 0):
    """The same one-block CNN alone, with a 16-unit hidden layer."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(check_int(seed, "seed"))
        return UnimodalClassifier(ImageCNN(3, (8,), out_dim=16, pooled_size=1), "image",
                                  num_classes, hidden=16)


@torch.no_grad()
def _probabilities(model, data: dict) -> np.ndarray:
    return torch.softmax(model(data), dim=1).double().numpy()


def roc_scores(seed: int = 0, steps: int = 150) -> tuple[np.ndarray, dict]:
    """Two small models on ShapesWorld size (``SIZE``: noisy 8x8 images, captions missing
    70 % of their words), trained for ``steps`` steps each, scored on 300 unseen scenes.

    Returns (y_true, {name: scores}): the label (1 = large) and each model's probability of
    "large" — an image CNN alone, and the CNN with the caption (concatenation fusion).
    """
    data, vocab = shapes_world_splits({"train": 600, "test": 300}, seed=seed, **SIZE)
    models = {"image": image_classifier(2, seed=seed),
              "image + text": image_text_classifier(len(vocab), "concat", seed=seed)}
    scores = {}
    for name, model in models.items():
        quick_fit(model, data["train"], steps, seed=seed)
        scores[name] = _probabilities(model, data["test"])[:, 1]
    return data["test"]["label"].numpy(), scores


def feedback_predictions(seed: int = 0, steps: int = 150) -> tuple[dict, np.ndarray, list]:
    """Predictions to rate: an image CNN trained for ``steps`` steps on ShapesWorld colour
    (``COLOUR``: noisy 16x16 images), on 60 scenes it never saw; it gets most right.

    Returns (data, probabilities, classes): data has "image" (N, 3, 16, 16), "caption"
    (N strings, which name the true colour) and "label" (N,); probabilities (N, 4).
    """
    data, _ = shapes_world_splits({"train": 300, "test": 60}, seed=seed + 4,
                                  keep_captions=True, **COLOUR)
    model = quick_fit(image_classifier(len(COLOURS), seed=seed),
                      {k: data["train"][k] for k in ("image", "label")}, steps, seed=seed)
    test = data["test"]
    return ({"image": test["image"], "caption": test["caption"], "label": test["label"]},
            _probabilities(model, {"image": test["image"]}), list(COLOURS))


def fusion_data(seed: int = 0, n_train: int = 600, n_test: int = 200,
                image_size: int = 8) -> tuple[dict, dict, int]:
    """ShapesWorld xor (image + text: no modality alone beats chance) as tensors:
    (train, test, vocab_size)."""
    data, vocab = shapes_world_splits({"train": n_train, "test": n_test}, seed=seed,
                                      image_size=image_size, **XOR)
    return data["train"], data["test"], len(vocab)


def fusion_models(train: dict, vocab_size: int, seed: int = 0, steps: int = 200) -> dict:
    """Concat, late and attention fusion of the same two small encoders, each trained for
    ``steps`` steps on ``train``: {name: model}."""
    return {name: quick_fit(image_text_classifier(vocab_size, name, seed=seed), train, steps,
                            seed=seed)
            for name in FUSIONS}


def explain_data(seed: int = 0, n_train: int = 600, n_test: int = 8) -> tuple[dict, dict, Vocabulary]:
    """ShapesWorld xor at 16x16 (image + caption; the label needs both) as tensors:
    (train, test, vocab), the vocabulary every ShapesWorld word. Each split also holds
    "mask", the shapes' pixels."""
    vocab = Vocabulary(["<pad>", "<unk>", *ShapesWorld.words])
    data, _ = shapes_world_splits({"train": n_train, "test": n_test}, seed=seed, vocab=vocab,
                                  keys=("image", "text", "label", "mask"), image_size=16,
                                  **XOR)
    return data["train"], data["test"], vocab


def explain_model(train: dict, vocab_size: int, seed: int = 0, steps: int = 250):
    """Concatenation of the two small encoders, trained for ``steps`` steps on ``train``."""
    keys = ("image", "text", "label")
    return quick_fit(image_text_classifier(vocab_size, "concat", seed=seed),
                     {k: train[k] for k in keys}, steps, seed=seed)


def attention_model(seed: int = 0, steps: int = 60) -> tuple:
    """A two-layer, two-head Transformer text classifier trained for ``steps`` steps on 512
    ShapesWorld captions to name the direction of motion: (model, vocab). A short training
    is enough for the heads to stop attending uniformly."""
    data, vocab = shapes_world_splits({"train": 512}, seed=seed, keys=("text", "label"),
                                      **DIRECTION_CAPTIONS)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(check_int(seed, "seed"))
        encoder = TransformerTextEncoder(len(vocab), dim=16, heads=2, layers=2, max_len=16)
        model = UnimodalClassifier(encoder, "text", len(DIRECTIONS))
    quick_fit(model, data["train"], steps, seed=seed)
    model.classes = DIRECTIONS
    return model, vocab


def attention_captions(n: int = 16, seed: int = 0) -> list[str]:
    """``n`` direction captions that ``attention_model(seed)`` never saw."""
    world = ShapesWorld(n=check_int(n, "n", minimum=1), seed=seed + 1000, **DIRECTION_CAPTIONS)
    return [world[i]["text"] for i in range(len(world))]


def keypoint_clips(n: int = 8, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``n`` StickFigures clips (24x24, 8 frames, noise 0.05): (videos (N, T, 1, H, W),
    joints (N, T, J, 2), heights (N,))."""
    from mmkit.data.stick_figures import StickFigures

    figures = StickFigures(n=check_int(n, "n", minimum=1), image_size=24, frames=8, seed=seed,
                           noise=0.05)
    samples = [figures[i] for i in range(len(figures))]
    return (torch.stack([s["video"] for s in samples]), torch.stack([s["joints"] for s in samples]),
            torch.tensor([s["height"] for s in samples]))


def untrained_keypoint_net(num_joints: int, in_channels: int = 1, seed: int = 0):
    """A freshly seeded, untrained KeypointNet."""
    from mmkit.encoders.pose import KeypointNet

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(check_int(seed, "seed"))
        return KeypointNet(num_joints=num_joints, in_channels=in_channels)


def feature_map_images(n: int = 16) -> torch.Tensor:
    """``n`` ShapesWorld images (32x32, noise 0.1), (N, 3, 32, 32)."""
    data, _ = shapes_world_splits({"images": check_int(n, "n", minimum=1)}, keys=("image",),
                                  task="shape", modalities=("image",), noise={"image": 0.1})
    return data["images"]["image"]


def untrained_image_cnn(seed: int = 0):
    """A freshly seeded, untrained ImageCNN (the same filters every time)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(check_int(seed, "seed"))
        return ImageCNN()


def shapes_world_scene(index: int, noise: float, *, n: int = 64, image_size: int = 32,
                       seed: int = 0) -> dict:
    """Scene ``index`` of a ShapesWorld with every modality corrupted at ``noise`` (the
    caption loses at most half its words). Building a ShapesWorld only draws the scene
    descriptions (milliseconds); the one sample asked for is rendered on demand."""
    noise = check_positive(noise, "noise", allow_zero=True)
    levels = {"image": noise, "video": noise, "audio": noise, "text": min(noise, 0.5)}
    return ShapesWorld(n=n, image_size=image_size, seed=seed, noise=levels)[index]
