"""Turn a list of dict samples into one dict batch of tensors.

A batch is a dict of tensors keyed by modality name, plus "label" (see DESIGN.md):
    image (B, 3, H, W), audio (B, L), video (B, T, C, H, W)   stacked
    f"{m}_present" (B,) bool                                   False where m was missing
    text  list of B strings, or with a vocab (a mmkit.preprocess.text.Vocabulary): (B,
          max_len) int64 token ids, padded with the vocabulary's pad index, plus
          "text_lengths" (B,) int64 and "text_mask" (B, max_len) bool, True at real tokens.
          The vocabulary tokenizes and encodes, exactly as ``encode_batch`` does: one text
          pipeline, so a caption gets the same ids in a DataLoader and in a notebook.
    label (B,) int64
    other tensors (e.g. "mask") stacked; numbers as a tensor; anything else (e.g.
    "attributes") kept as a list.

A modality missing from a sample (its key absent) becomes zeros (an empty text) and its
present flag says so, so encoders see a fixed shape and fusion can ignore the gap. A
modality absent from *every* sample of a batch cannot be sized and is left out.

With a DataLoader: ``DataLoader(ds, batch_size=32, collate_fn=functools.partial(collate,
vocab=vocab))``.
"""

from collections.abc import Mapping, Sequence
from numbers import Integral

import torch

MODALITIES = ("image", "text", "audio", "video")


def _stack(key: str, values: list, present: list[bool]) -> torch.Tensor:
    """Stack tensors, with zeros where a sample has none; all shapes must agree."""
    example = next(v for v, p in zip(values, present, strict=True) if p)
    for i, (value, p) in enumerate(zip(values, present, strict=True)):
        if p and (not isinstance(value, torch.Tensor) or value.shape != example.shape):
            got = tuple(value.shape) if isinstance(value, torch.Tensor) else type(value).__name__
            raise ValueError(
                f"samples[{i}][{key!r}] must be a tensor of shape {tuple(example.shape)} like "
                f"the first sample that has {key!r}, got {got}"
            )
    filled = [v if p else torch.zeros_like(example) for v, p in zip(values, present, strict=True)]
    return torch.stack(filled)


def _encode_texts(texts: list[str], vocab) -> dict[str, torch.Tensor]:
    ids, lengths, mask = vocab.encode_batch(texts)
    return {"text": ids, "text_lengths": lengths, "text_mask": mask}


def collate(samples, vocab=None) -> dict:
    """Collate dict samples into a dict batch (see the module docstring for every key).

    Args:
        samples: a non-empty list of dicts, e.g. ``[dataset[i] for i in range(8)]``.
        vocab: None (texts stay strings) or a ``mmkit.preprocess.text.Vocabulary`` fitted
            on the training captions (texts become padded ids).
    """
    if not isinstance(samples, Sequence) or isinstance(samples, str):
        raise TypeError(f"samples must be a list of dicts, got {type(samples).__name__}")
    if len(samples) == 0:
        raise ValueError("samples is empty; pass at least one sample")
    for i, sample in enumerate(samples):
        if not isinstance(sample, Mapping):
            raise TypeError(f"samples[{i}] must be a dict, got {type(sample).__name__}")
    # Duck-typed, so the data stage need not import preprocessing: any Vocabulary works.
    if vocab is not None and not callable(getattr(vocab, "encode_batch", None)):
        raise TypeError(
            f"vocab must be None or a mmkit.preprocess.text.Vocabulary (e.g. "
            f"Vocabulary.build(train_captions)), got {type(vocab).__name__}"
        )

    seen = dict.fromkeys(key for sample in samples for key in sample)  # first-seen order
    keys = [m for m in MODALITIES if m in seen] + [k for k in seen if k not in MODALITIES]
    batch = {}
    for key in keys:
        present = [key in sample for sample in samples]
        values = [sample.get(key) for sample in samples]
        if key in MODALITIES:
            if key == "text":
                texts = [v if p else "" for v, p in zip(values, present, strict=True)]
                batch.update(_encode_texts(texts, vocab) if vocab is not None else {"text": texts})
            else:
                batch[key] = _stack(key, values, present)
            batch[f"{key}_present"] = torch.tensor(present, dtype=torch.bool)
        elif not all(present):
            missing = present.index(False)
            raise ValueError(
                f"samples[{missing}] has no {key!r}, but other samples do; only the modalities "
                f"{', '.join(MODALITIES)} may be missing"
            )
        elif key == "label":
            for i, v in enumerate(values):
                is_index = isinstance(v, Integral) or (
                    isinstance(v, torch.Tensor) and v.numel() == 1 and not v.is_floating_point()
                )
                if not is_index or isinstance(v, bool):
                    raise TypeError(
                        f"samples[{i}]['label'] must be an int class index, got "
                        f"{type(v).__name__} {v!r}"
                    )
            batch["label"] = torch.tensor([int(v) for v in values], dtype=torch.long)
        elif all(isinstance(v, torch.Tensor) for v in values):
            batch[key] = _stack(key, values, present)
        elif all(isinstance(v, int | float) for v in values):
            batch[key] = torch.tensor(values)  # bools, ints (int64) or floats (float32)
        else:
            batch[key] = values
    return batch
