"""Make data/pretrained/: the two small encoders that lesson 07 transfers to a new task.

    .venv/bin/python data/make_pretrained_encoders.py          # about two minutes on one core

- shapes_cnn.pt: an ImageCNN (``mmkit.encoders.pretrained.SHAPES_CNN_CONFIG``) with three
  linear heads, trained to name the shape, colour and size of 32x32 ShapesWorld scenes
  (seeds 500 and 501, a little pixel noise). Only the encoder is saved: the heads were the
  pretraining task, not part of what is transferred.
- tiny_bert.pt: a ``TinyBert`` trained by masked-language modelling, as BERT was: 15 % of
  the tokens of each caption (at least one) are replaced by <mask> and the model learns to
  name them. Captions of ShapesWorld scenes (seeds 600 and 601) with synonyms and varied
  word order, so that it sees more than one way of saying a thing.

Neither pretraining task is lesson 07's task (does a caption describe an image?). The script
prints the held-out scores of both pretraining tasks; data/README.md records them. Seeded
and run on one thread: the same torch version on the same kind of CPU gives the same files.
"""

import argparse
import io
import sys
from pathlib import Path

import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mmkit.data import ShapesWorld, to_tensors  # noqa: E402
from mmkit.encoders.image import ImageCNN  # noqa: E402
from mmkit.encoders.pretrained import (  # noqa: E402
    SHAPES_CNN_CONFIG,
    SHAPES_CNN_FILE,
    TINY_BERT_FILE,
    TinyBert,
    tiny_bert_vocabulary,
)
from mmkit.files import write_atomically  # noqa: E402
from mmkit.preprocess.text import encode_batch  # noqa: E402

ATTRIBUTES = ("shape", "colour", "size")


def scenes(n: int, seed: int) -> dict:
    world = ShapesWorld(n=n, seed=seed, task="shape", image_size=32, modalities=("image",),
                        noise={"image": 0.05})
    data = to_tensors(world, keys=("image",))
    for name in ATTRIBUTES:
        values = getattr(ShapesWorld, f"{name}s" if name != "colour" else "colours")
        data[name] = torch.tensor([values.index(world.attributes(i)[name]) for i in range(n)])
    return data


def pretrain_cnn(epochs: int) -> tuple[ImageCNN, dict]:
    torch.manual_seed(0)
    encoder = ImageCNN(**SHAPES_CNN_CONFIG)
    heads = torch.nn.ModuleDict({"shape": torch.nn.Linear(64, 3), "colour": torch.nn.Linear(64, 4),
                                 "size": torch.nn.Linear(64, 2)})
    params = [*encoder.parameters(), *heads.parameters()]
    optimizer = torch.optim.Adam(params, lr=2e-3)
    train, test = scenes(6000, seed=500), scenes(1000, seed=501)
    generator = torch.Generator().manual_seed(0)
    for _ in range(epochs):
        for rows in torch.randperm(6000, generator=generator).split(64):
            features = encoder(train["image"][rows])
            loss = sum(F.cross_entropy(heads[a](features), train[a][rows]) for a in ATTRIBUTES)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    encoder.eval()
    with torch.no_grad():
        features = encoder(test["image"])
        scores = {a: float((heads[a](features).argmax(1) == test[a]).float().mean())
                  for a in ATTRIBUTES}
    return encoder, scores


def captions(n: int, seed: int) -> list[str]:
    world = ShapesWorld(n=n, seed=seed, task="shape", modalities=("text",),
                        caption_variation={"synonyms": 0.3, "word_order": 0.5})
    return [world[i]["text"] for i in range(n)]


def masked(ids: torch.Tensor, mask_id: int, generator) -> tuple[torch.Tensor, torch.Tensor]:
    """15 % of the real tokens (at least one per caption) replaced by <mask>; returns the
    masked ids and where the masks are."""
    real = ids != 0
    draw = torch.rand(ids.shape, generator=generator).masked_fill(~real, 2.0)
    chosen = (draw < 0.15) & real
    chosen[torch.arange(len(ids)), draw.argmin(dim=1)] = True  # at least one per caption
    return ids.masked_fill(chosen, mask_id), chosen


def pretrain_bert(epochs: int) -> tuple[TinyBert, float]:
    torch.manual_seed(0)
    vocab = tiny_bert_vocabulary()
    model = TinyBert(len(vocab))
    mask_id = vocab.tokens.index("<mask>")
    train_ids = encode_batch(vocab, captions(8000, seed=600))[0]
    test_ids = encode_batch(vocab, captions(1000, seed=601))[0]
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    generator = torch.Generator().manual_seed(0)
    for _ in range(epochs):
        for rows in torch.randperm(len(train_ids), generator=generator).split(64):
            ids = train_ids[rows]
            inputs, chosen = masked(ids, mask_id, generator)
            logits = model.mlm_head(model.token_states(inputs))
            loss = F.cross_entropy(logits[chosen], ids[chosen])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    model.eval()
    with torch.no_grad():
        inputs, chosen = masked(test_ids, mask_id, torch.Generator().manual_seed(1))
        guess = model.mlm_head(model.token_states(inputs)).argmax(-1)
        accuracy = float((guess[chosen] == test_ids[chosen]).float().mean())
    model.vocab = vocab
    return model, accuracy


def save(path: Path, content: dict) -> None:
    buffer = io.BytesIO()
    torch.save(content, buffer)
    write_atomically(path, buffer.getvalue())
    print(f"wrote {path} ({path.stat().st_size / 1024:.0f} KB)")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "data" / "pretrained")
    parser.add_argument("--cnn-epochs", type=int, default=15)
    parser.add_argument("--bert-epochs", type=int, default=15)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)  # a script, not a lesson: one thread makes it reproducible
    args.out.mkdir(parents=True, exist_ok=True)

    cnn, scores = pretrain_cnn(args.cnn_epochs)
    print("image CNN, held-out accuracy per attribute:", {a: round(s, 3) for a, s in scores.items()})
    save(args.out / SHAPES_CNN_FILE, {
        "kind": "shapes_cnn", "config": dict(SHAPES_CNN_CONFIG),
        "state_dict": cnn.state_dict(),
        "trained_on": f"ShapesWorld shape+colour+size naming, 6000 scenes (seed 500), 32x32, "
                      f"{args.cnn_epochs} epochs",
        "held_out_accuracy": scores, "torch": str(torch.__version__)})

    bert, accuracy = pretrain_bert(args.bert_epochs)
    print(f"tiny BERT, held-out masked-token accuracy: {accuracy:.3f}")
    state = {k: v for k, v in bert.state_dict().items()}
    save(args.out / TINY_BERT_FILE, {
        "kind": "tiny_bert", "config": dict(bert.config), "vocab": bert.vocab.tokens,
        "state_dict": state,
        "trained_on": f"masked-language modelling on 8000 ShapesWorld captions (seed 600), "
                      f"{args.bert_epochs} epochs",
        "held_out_masked_accuracy": accuracy, "torch": str(torch.__version__)})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
