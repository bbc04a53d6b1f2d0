"""The lesson-12 explorer's default data and model: small, seeded, trained in about a second.

Like ``mmkit.demo_models`` (the earlier explorers' defaults): the same weights for the same
seed on any machine, trained through ``mmkit.train.fit`` with ``max_steps=``, on the CPU.
"""

import torch

from mmkit.checks import check_int
from mmkit.data.referring import ReferringQuestions
from mmkit.data.tensors import to_tensors
from mmkit.preprocess.text import Vocabulary, encode_batch
from mmkit.token_models import referring_classifier
from mmkit.train import fit

KEYS = ("image", "text", "label", "mask")


def question_vocabulary() -> Vocabulary:
    """Padding, unknown, and every word a referring question can use, in a fixed order."""
    return Vocabulary(["<pad>", "<unk>", *ReferringQuestions.words])


def referring_data(sizes: dict, seed: int = 0, image_size: int = 32) -> tuple[dict, Vocabulary]:
    """Referring questions rendered once into tensors per split: ({split: {"image",
    "text" (ids), "label", "mask" (the named object)}}, vocabulary).

    sizes: {split name: number of questions}, e.g. {"train": 1500, "test": 16}; split i
    uses seed + 2 * i + 1, so no scene is in two splits.
    """
    if not isinstance(sizes, dict) or not sizes:
        raise TypeError(f"sizes must be a non-empty dict {{split name: n}}, got {sizes!r}")
    vocab = question_vocabulary()
    splits = {}
    for i, (name, n) in enumerate(sizes.items()):
        questions = ReferringQuestions(n=check_int(n, f"sizes[{name!r}]", minimum=1),
                                       image_size=image_size, seed=check_int(seed, "seed")
                                       + 2 * i + 1)
        split = to_tensors(questions, keys=KEYS)
        split["question"] = split["text"]
        split["text"] = encode_batch(vocab, split["text"])[0]
        splits[name] = split
    return splits, vocab


def referring_model(train: dict, vocab_size: int, seed: int = 0, steps: int = 150,
                    num_queries: int | None = None, lr: float = 5e-3):
    """A cross-attention question answerer (``referring_classifier``), with a
    ``QueryPooler`` of ``num_queries`` queries if given, trained for ``steps`` steps of 128
    questions on ``train``; returned in eval mode."""
    model = referring_classifier(vocab_size, "cross-attention", num_queries=num_queries,
                                 seed=seed)
    tensors = {key: train[key] for key in ("image", "text", "label")}
    fit(model, tensors, max_steps=check_int(steps, "steps", minimum=1), lr=lr, batch_size=128,
        seed=seed, progress=False, device="cpu")
    model.classes = ReferringQuestions.classes  # the answers' names, for the explorer
    return model.eval()


def explorer_defaults(seed: int = 0, n_train: int = 1500, n_test: int = 16,
                      num_queries: int | None = 8) -> tuple:
    """(model, test data, vocab) for ``vit_attention_explorer()``: a model with eight learned
    queries trained for 200 steps (learning rate 0.003, as lesson 12 trains them) on
    ``n_train`` questions, and ``n_test`` questions it never saw."""
    data, vocab = referring_data({"train": n_train, "test": n_test}, seed=seed)
    with torch.random.fork_rng(devices=[]):
        model = referring_model(data["train"], len(vocab), seed=seed, steps=200,
                                num_queries=num_queries, lr=3e-3)
    return model, data["test"], vocab
