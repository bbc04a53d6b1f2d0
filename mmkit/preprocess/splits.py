"""ShapesWorld → tensors → vocabulary → splits: the preparation most lessons and explorers
start from, written once.

    data, vocab = shapes_world_splits({"train": 600, "test": 200}, task="xor",
                                      modalities=("image", "text"), image_size=8)
    data["train"]["text"]   # (600, L) padded word ids, from a vocabulary fitted on train

Each split is its own ShapesWorld with its own seed, so no scene appears in two splits, and
the vocabulary is fitted on the first split only (the training split): the test captions
never decide which words the model knows.
"""

from mmkit.checks import check_int
from mmkit.data.shapes_world import ShapesWorld
from mmkit.data.tensors import to_tensors
from mmkit.preprocess.text import Vocabulary, encode_batch


def shapes_world_splits(sizes: dict, *, seed: int = 0, keys=("image", "text", "label"),
                        vocab: Vocabulary | None = None, keep_captions: bool = False,
                        **world) -> tuple[dict, Vocabulary | None]:
    """ShapesWorld scenes rendered once into a dict of tensors per split.

    sizes: {split name: number of scenes}, the training split first, e.g.
        {"train": 600, "test": 200}. Split i is ShapesWorld(seed=seed + 2 * i + 1).
    keys: what to keep of each sample ("image", "text", "audio", "video", "label", "mask",
        ...). A "text" key is encoded into padded ids (N, L).
    vocab: the Vocabulary for the captions; None fits one on the first split's captions.
    keep_captions: also keep the caption strings, under "caption".
    world: ShapesWorld's other arguments (task, modalities, image_size, noise, ...).

    Returns ({split: {key: tensor or list}}, vocab); vocab is None without "text".
    """
    if not isinstance(sizes, dict) or not sizes:
        raise TypeError(f"sizes must be a non-empty dict {{split name: n}}, got {sizes!r}")
    for name, n in sizes.items():
        check_int(n, f"sizes[{name!r}]", minimum=1)
    seed = check_int(seed, "seed")
    keys = (keys,) if isinstance(keys, str) else tuple(keys)
    if vocab is not None and not isinstance(vocab, Vocabulary):
        raise TypeError(f"vocab must be a mmkit.preprocess.text.Vocabulary or None, got "
                        f"{type(vocab).__name__}")
    raw = {name: to_tensors(ShapesWorld(n=n, seed=seed + 2 * i + 1, **world), keys=keys)
           for i, (name, n) in enumerate(sizes.items())}
    if "text" not in keys:
        return raw, None
    if vocab is None:
        vocab = Vocabulary.build(next(iter(raw.values()))["text"])
    for split in raw.values():
        captions = split["text"]
        split["text"] = encode_batch(vocab, captions)[0]
        if keep_captions:
            split["caption"] = captions
    return raw, vocab
