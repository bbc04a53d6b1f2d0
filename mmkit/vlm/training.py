"""Teaching the tiny VLM: its data as tensors, the losses, and the stages, all through
``mmkit.train.fit``.

    0. the vision encoder learns what is in each cell of the image (``cell_objective``),
       then is frozen;
    1. the language model learns the language alone, from text (``next_token_objective``
       on rows without features): what LLaVA downloads as a pretrained LLM;
    2. alignment: the projector alone learns to turn patches into tokens the decoder can
       read, on captions (``freeze_for_stage(model, "alignment")``);
    3. instruction tuning: projector and decoder together, on questions and answers
       (``freeze_for_stage(model, "instruction")``).

Each text row is "<bos> prompt <sep> answer <eos>"; the loss is the next-token
cross-entropy on the answer and <eos> only (the prompt is given, not predicted).
"""

import functools

import torch
import torch.nn.functional as F

from mmkit.checks import check_choice, check_int
from mmkit.train import fit
from mmkit.vlm.model import TinyVLM

SPECIALS = ("<pad>", "<unk>", "<bos>", "<sep>", "<eos>")


def build_vocabulary(rows):
    """The word-level Vocabulary of the prompts and answers of the training ``rows``
    (dicts with "prompt" and "answer"), with the specials a TinyVLM needs."""
    from mmkit.preprocess.text import Vocabulary

    if isinstance(rows, dict) or not isinstance(rows, (list, tuple)) or not rows:
        raise TypeError("rows must be a non-empty list of dicts with 'prompt' and 'answer'")
    texts = [f"{row['prompt']} {row['answer']}" for row in rows]
    return Vocabulary.build(texts, specials=SPECIALS)


def encode_rows(vocab, rows, max_length: int | None = None) -> dict:
    """Rows {"prompt", "answer"} -> {"ids" (n, L) "<bos> prompt <sep> answer <eos>" padded
    with <pad>, "answer_mask" (n, L) True on the answer's tokens and <eos> (the tokens the
    loss is computed on)}. Words the vocabulary lacks become <unk>."""
    if isinstance(rows, dict) or not isinstance(rows, (list, tuple)) or not rows:
        raise TypeError("rows must be a non-empty list of dicts with 'prompt' and 'answer'")
    special = {t: vocab.token_to_index(t) for t in SPECIALS[2:]}
    sequences, starts = [], []
    for i, row in enumerate(rows):
        if not isinstance(row, dict) or "prompt" not in row or "answer" not in row:
            raise ValueError(f"rows[{i}] must be a dict with 'prompt' and 'answer'")
        prompt = [special["<bos>"], *vocab.encode(row["prompt"]), special["<sep>"]]
        sequences.append(prompt + vocab.encode(row["answer"]) + [special["<eos>"]])
        starts.append(len(prompt))
    length = max(len(s) for s in sequences)
    if max_length is not None and length > check_int(max_length, "max_length", minimum=2):
        raise ValueError(f"a row has {length} tokens, more than max_length={max_length}")
    ids = torch.full((len(rows), length), vocab.pad_index, dtype=torch.long)
    answer_mask = torch.zeros(len(rows), length, dtype=torch.bool)
    for i, (sequence, start) in enumerate(zip(sequences, starts, strict=True)):
        ids[i, :len(sequence)] = torch.tensor(sequence)
        answer_mask[i, start:len(sequence)] = True
    return {"ids": ids, "answer_mask": answer_mask}


def next_token_loss(logits: torch.Tensor, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Teacher forcing: the logits at position t (B, T, vocab) predict the true token t + 1
    (ids (B, T)); the mean cross-entropy over the targets where ``mask`` (B, T) is True.
    The last position predicts nothing, the first token is never a target."""
    targets = ids[:, 1:].masked_fill(~mask[:, 1:], -100)  # -100: ignored by cross_entropy
    return F.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]), targets.reshape(-1),
                           ignore_index=-100)


def _trimmed(batch: dict) -> dict:
    """Cut the columns that are padding in every row of the batch: a batch of short
    questions should not pay for the longest caption."""
    used = int(batch["answer_mask"].any(dim=0).nonzero().max()) + 1
    return {**batch, "ids": batch["ids"][:, :used], "answer_mask": batch["answer_mask"][:, :used]}


def next_token_objective(model: TinyVLM, batch: dict) -> torch.Tensor:
    """For ``fit(objective=...)``: batch {"ids", "answer_mask", and "features" (the frozen
    encoder's patch features) or none: text only}."""
    batch = _trimmed(batch)
    logits = model(batch["ids"], features=batch.get("features"))
    return next_token_loss(logits, batch["ids"], batch["answer_mask"])


def freeze_for_stage(model: TinyVLM, stage: str) -> int:
    """Which weights learn in each stage (LLaVA's recipe); returns how many do.

    "language": the decoder alone (embeddings, blocks, head), from text;
    "alignment": the projector and the patch positions only, the decoder frozen;
    "instruction": projector and decoder. The vision encoder stays frozen throughout.
    """
    check_choice(stage, "stage", ("language", "alignment", "instruction"))
    projector = [model.projector, model.patch_position]
    decoder = [model.embedding, model.text_position, model.blocks, model.norm, model.head]
    learning = {"language": decoder, "alignment": projector,
                "instruction": projector + decoder}[stage]
    model.requires_grad_(False)
    for part in learning:
        part.requires_grad_(True)
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def cell_objective(encoder, batch: dict) -> torch.Tensor:
    """For ``fit(encoder, ..., objective=cell_objective)``: what is in each cell of the
    image. The sum of the cross-entropies of colour, shape and size ("nothing" included)
    and the squared error of the centre's offset in cells that hold one. batch: {"image",
    "colour", "shape", "size" (B, grid, grid), "offset" (B, grid, grid, 2)}, from
    ``mmkit.data.scene_qa.cell_labels``; encoder: a SceneEncoder."""
    logits = encoder.cell_logits(batch["image"])
    loss = sum(F.cross_entropy(logits[key].flatten(0, 1), batch[key].flatten())
               for key in ("colour", "shape", "size"))
    here = batch["colour"].flatten() > 0
    offset = torch.sigmoid(logits["offset"]).flatten(0, 1)[here]
    return loss + F.mse_loss(offset, batch["offset"].flatten(0, 2)[here]) if here.any() else loss


def training_data(model: TinyVLM, features: torch.Tensor | None, rows) -> dict:
    """The tensors ``fit`` trains on: {"ids", "answer_mask"} of ``encode_rows``, and, with
    ``features`` (one row per scene, from ``model.encode_images``), "features" (one per
    text row: rows[i]["scene"] picks it). features=None: text only."""
    data = encode_rows(model.vocab, rows, model.max_text_length)
    if features is not None:
        if not isinstance(features, torch.Tensor) or features.dim() != 3:
            raise ValueError(f"features must be (scenes, N, d), got {tuple(features.shape)}")
        scenes = torch.tensor([row["scene"] for row in rows])
        if scenes.max() >= len(features):
            raise ValueError(f"a row refers to scene {int(scenes.max())}, but features holds "
                             f"{len(features)} scenes")
        data["features"] = features[scenes]
    return data


class LengthBuckets:
    """Shuffled minibatches for ``fit`` (an iterable of dict batches), short rows and long
    rows apart. A random batch of 64 rows almost always holds a long caption, and every
    row is padded to it; with the rows longer than ``split_at`` tokens in batches of their
    own, a batch of questions costs what questions need. (Finer buckets would put one kind
    of question in each batch: the updates would then pull the model one way at a time.)

    Each pass (epoch) draws a new order from (seed, pass number): rows are shuffled within
    their bucket, cut into batches, and the batches shuffled; a bucket's last batch may be
    smaller. split_at=None: one bucket, plain shuffled batches. Batches are cut to their
    longest row.
    """

    def __init__(self, data: dict, batch_size: int = 64, seed: int = 0,
                 split_at: int | None = None):
        from mmkit.data.tensors import count_rows

        count_rows(data, "data", labels=False)
        self.data = data
        self.batch_size = check_int(batch_size, "batch_size", minimum=1)
        self.seed = check_int(seed, "seed")
        # A row's length: up to its last target token (the <eos>).
        last = torch.arange(data["ids"].shape[1]) * data["answer_mask"]
        lengths = last.max(dim=1).values + 1
        self.long = lengths > (check_int(split_at, "split_at") if split_at is not None
                               else lengths.max())
        self.passes = 0

    def __iter__(self):
        from mmkit.data.tensors import take_rows

        generator = torch.Generator().manual_seed(self.seed * 1000 + self.passes)
        self.passes += 1
        batches = []
        for bucket in (~self.long, self.long):
            rows = bucket.nonzero()[:, 0]
            if len(rows) == 0:
                continue
            rows = rows[torch.randperm(len(rows), generator=generator)]
            batches += list(rows.split(self.batch_size))
        for k in torch.randperm(len(batches), generator=generator).tolist():
            yield _trimmed(take_rows(self.data, batches[k]))


def fit_in_phases(model, data: dict, phases, *, objective=None, batch_size: int = 64,
                  seed: int = 0, split_at: int | None = None, progress: bool = True):
    """``fit`` once per (steps, lr) phase with one Adam optimiser carried through (its
    moment estimates kept), e.g. a short warm-up at a low rate, the bulk at a high one,
    and a cool-down at a low one, where the last gains come. Returns the Histories.

    objective: None for text rows ({"ids", "answer_mask", ...}: ``next_token_objective``,
    batches from ``LengthBuckets(data, batch_size, seed, split_at)``); any other objective
    takes ``data`` as ``fit`` does (shuffled minibatches of the dict of tensors).
    """
    if isinstance(phases, (str, dict)) or not phases:
        raise TypeError(f"phases must be a list of (steps, lr) pairs, got {phases!r}")
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad])
    if objective is None:
        objective, batches = next_token_objective, LengthBuckets(data, batch_size, seed, split_at)
    else:
        batches = data
    histories = []
    for k, (steps, lr) in enumerate(phases):
        for group in optimizer.param_groups:
            group["lr"] = lr
        histories.append(fit(model, batches, objective=objective, optimizer=optimizer,
                             max_steps=check_int(steps, "steps", minimum=1), lr=lr,
                             batch_size=batch_size, seed=seed + k, progress=progress))
    return histories


@functools.lru_cache(maxsize=2)
def demo_vlm(seed: int = 0):
    """The decoding stepper's default model: the lesson's recipe, shortened (1,500 scenes,
    fewer steps), trained in seconds through ``fit``; seeded, so the same weights every time
    (and kept: a second call returns the same model). Returns (model in eval mode, 16
    unseen test scenes (16, 3, 32, 32))."""
    from mmkit.data.scene_qa import cell_labels, qa_rows
    from mmkit.data.scenes import Scenes
    from mmkit.vlm.model import SceneEncoder

    seed = check_int(seed, "seed")
    train, test = Scenes(n=1500, seed=seed), Scenes(n=16, seed=seed + 1)
    images = torch.stack([train[i]["image"] for i in range(len(train))])
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        encoder = SceneEncoder(keep=3, seed=seed)
        fit(encoder, {"image": images, **cell_labels(train, grid=encoder.grid)},
            objective=cell_objective, max_steps=300, lr=3e-3, seed=seed, progress=False,
            device="cpu")
        rows = qa_rows(train, seed=seed, repeats=2)
        rows += [r for r in rows if r["type"] == "position"]
        model = TinyVLM(encoder, build_vocabulary(rows))
        features = model.encode_images(images)
        freeze_for_stage(model, "instruction")
        fit_in_phases(model, training_data(model, features, rows),
                      [(100, 1e-3), (500, 3e-3), (150, 5e-4)], seed=seed, split_at=12,
                      progress=False)
    test_images = torch.stack([test[i]["image"] for i in range(len(test))])
    return model.eval(), test_images
