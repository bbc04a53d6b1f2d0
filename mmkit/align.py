"""Contrastive alignment (对比学习, lesson 11): one embedding space for images, text and sound.

CLIP (Radford et al., 2021) trains an image encoder and a text encoder together so that a
matching (image, caption) pair lands close in one space and every other pairing of the
batch lands far apart:

    contrastive_loss     the symmetric loss, with open_clip's ``ClipLoss()`` semantics; with
                         ``negative_text_features``, hard negatives added to the image->text
                         side (NegCLIP, Yuksekgonul et al., 2023)
    DualEncoder          two encoders, two projection heads, L2-normalised outputs and a
                         learnable temperature kept, as CLIP keeps it, as a log-scale that is
                         clamped (the logits are never multiplied by more than 100)
    clip_objective       (model, batch) -> loss, for ``mmkit.train.fit(objective=...)``
    zero_shot_classifier one embedding per class from prompts ("a photo of a {}"), averaged
                         over templates (prompt ensembling); classify with ``zero_shot_predict``
    modality_gap         the distance between the centroids of two modalities' embeddings
                         (Liang et al., 2022), and ``shift_along_gap`` to move one across it
    swap_accuracy        how often an image prefers its caption to a hard negative

Any two encoders that map a batch to (B, out_dim) fit: the kit's ImageCNN and
TransformerTextEncoder for image-text, an MFCC encoder for sound.
"""

import math
import numbers

import torch
import torch.nn.functional as F
from torch import nn

from mmkit.checks import check_choice, check_int, check_positive, check_tensor
from mmkit.preprocess.text import Vocabulary, encode_batch

MAX_LOGIT_SCALE = 100.0  # CLIP's clamp: a temperature never below 0.01


def _check_features(x, name: str) -> torch.Tensor:
    check_tensor(x, name, floating=True, ndim=2)
    return x


def _check_pair(a, b, name_a: str, name_b: str, same_rows: bool = True) -> None:
    _check_features(a, name_a)
    _check_features(b, name_b)
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"{name_a} and {name_b} must have the same embedding size, got "
                         f"{tuple(a.shape)} and {tuple(b.shape)}")
    if same_rows and a.shape[0] != b.shape[0]:
        raise ValueError(f"{name_a} and {name_b} must hold one row per pair (row i of one "
                         f"matches row i of the other), got {a.shape[0]} and {b.shape[0]} rows")


def _logit_scale(logit_scale, like: torch.Tensor) -> torch.Tensor:
    if isinstance(logit_scale, torch.Tensor):
        if logit_scale.numel() != 1:
            raise ValueError(f"logit_scale must be one number, got shape "
                             f"{tuple(logit_scale.shape)}")
        value = float(logit_scale.detach())
        if not math.isfinite(value) or value <= 0:
            raise ValueError(f"logit_scale must be a finite number > 0, got {value}")
        return logit_scale.reshape(())
    return torch.tensor(check_positive(logit_scale, "logit_scale"), dtype=like.dtype,
                        device=like.device)


def contrastive_loss(image_features: torch.Tensor, text_features: torch.Tensor, logit_scale,
                     negative_text_features: torch.Tensor | None = None) -> torch.Tensor:
    """The symmetric CLIP loss of a batch of B matching pairs (row i with row i).

    image_features, text_features: (B, D), already L2-normalised. logit_scale: the number
    the cosine similarities are multiplied by (1 / temperature; a tensor to learn it).
    Logits ``logit_scale * image_features @ text_features.T`` (B, B): row i scores image i
    against every caption, column j caption j against every image; the right answer is the
    diagonal. The loss is the mean of the two cross-entropies, over rows (image->text) and
    over columns (text->image): open_clip's ``ClipLoss()(image_features, text_features,
    logit_scale)``.

    negative_text_features: (M, D) extra captions that match no image (hard negatives);
    they are added as extra columns of the image->text side only, so each image must also
    beat them. The text->image side is unchanged.
    """
    _check_pair(image_features, text_features, "image_features", "text_features")
    scale = _logit_scale(logit_scale, image_features)
    texts = text_features
    if negative_text_features is not None:
        _check_pair(image_features, negative_text_features, "image_features",
                    "negative_text_features", same_rows=False)
        texts = torch.cat([text_features, negative_text_features])
    logits_per_image = scale * image_features @ texts.T  # (B, B + M)
    logits_per_text = scale * text_features @ image_features.T  # (B, B)
    target = torch.arange(len(image_features), device=image_features.device)
    return (F.cross_entropy(logits_per_image, target)
            + F.cross_entropy(logits_per_text, target)) / 2


class DualEncoder(nn.Module):
    """Two encoders into one space: each side -> (B, dim) unit vectors.

    image_encoder, text_encoder: modules with an ``out_dim``, one per side. CLIP's sides
        are images and captions; any two modalities work (handwritten digits and spoken
        ones: ``modalities=("image", "mfcc")``).
    dim: the size of the shared space; each encoder gets a linear projection head into it.
    vocab: the Vocabulary of the text encoder, so that the text side takes strings too.
    temperature: the starting temperature; CLIP starts at 0.07. It is learned as
        ``log_scale`` = log(1 / temperature), and ``logit_scale`` = exp(log_scale) is
        clamped to MAX_LOGIT_SCALE (100), as CLIP does, so training cannot make the logits
        arbitrarily sharp. learn_temperature=False keeps it fixed.
    modalities: the batch keys of the two sides, ("image", "text") by default.
    """

    def __init__(self, image_encoder: nn.Module, text_encoder: nn.Module, dim: int = 32,
                 vocab: Vocabulary | None = None, temperature: float = 0.07,
                 learn_temperature: bool = True, modalities=("image", "text")):
        super().__init__()
        check_int(dim, "dim", minimum=1)
        temperature = check_positive(temperature, "temperature")
        if vocab is not None and not isinstance(vocab, Vocabulary):
            raise TypeError(f"vocab must be a mmkit Vocabulary or None, got {type(vocab).__name__}")
        if (not isinstance(modalities, (list, tuple)) or len(modalities) != 2
                or not all(isinstance(m, str) for m in modalities) or modalities[0] == modalities[1]):
            raise TypeError(f"modalities must be two different batch keys, got {modalities!r}")
        self.image_encoder = image_encoder
        self.text_encoder = text_encoder
        self.image_projection = nn.Linear(_out_dim(image_encoder, "image_encoder"), dim)
        self.text_projection = nn.Linear(_out_dim(text_encoder, "text_encoder"), dim)
        self.log_scale = nn.Parameter(torch.tensor(math.log(1 / temperature)),
                                      requires_grad=bool(learn_temperature))
        self.vocab = vocab
        self.dim = dim
        self.modalities = tuple(modalities)

    @property
    def logit_scale(self) -> torch.Tensor:
        """exp(log_scale), clamped to [1, 100] (no gradient beyond the clamp, as in CLIP)."""
        return self.log_scale.clamp(0.0, math.log(MAX_LOGIT_SCALE)).exp()

    @property
    def temperature(self) -> float:
        return float(1 / self.logit_scale.detach())

    def encode_image(self, images: torch.Tensor) -> torch.Tensor:
        """The first side (images) -> unit vectors (B, dim)."""
        return F.normalize(self.image_projection(self.image_encoder(images)), dim=-1)

    def encode_text(self, texts) -> torch.Tensor:
        """The second side: token ids (B, L), or a list of strings (needs ``vocab``) ->
        unit vectors (B, dim)."""
        if isinstance(texts, (list, tuple)):
            if self.vocab is None:
                raise ValueError("encode_text got strings but the model has no vocab: build "
                                 "it with DualEncoder(..., vocab=...) or pass token ids")
            if not texts or not all(isinstance(t, str) for t in texts):
                raise TypeError(f"texts must be a non-empty list of strings or a tensor of "
                                f"token ids, got {texts!r}"[:200])
            texts = encode_batch(self.vocab, list(texts))[0].to(self.log_scale.device)
        return F.normalize(self.text_projection(self.text_encoder(texts)), dim=-1)

    def encode(self, modality: str, x) -> torch.Tensor:
        """Either side by its batch key: ``encode("image", images)``."""
        check_choice(modality, "modality", self.modalities)
        return self.encode_image(x) if modality == self.modalities[0] else self.encode_text(x)

    def forward(self, batch: dict) -> tuple[torch.Tensor, torch.Tensor]:
        """batch[modalities[0]], batch[modalities[1]] -> their embeddings (B, dim) each."""
        for key in self.modalities:
            if key not in batch:
                raise ValueError(f"the batch has no {key!r}; it has {sorted(batch)}")
        return (self.encode_image(batch[self.modalities[0]]),
                self.encode_text(batch[self.modalities[1]]))

    @torch.no_grad()
    def embed(self, modality: str, data, batch_size: int = 512) -> torch.Tensor:
        """The embeddings of many inputs of one side (a tensor, or a list of strings for
        text), in eval mode, without gradients, in batches; on the CPU."""
        check_choice(modality, "modality", self.modalities)
        batch_size = check_int(batch_size, "batch_size", minimum=1)
        if len(data) == 0:
            raise ValueError(f"data is empty: nothing to embed for {modality!r}")
        was_training = self.training
        self.eval()
        try:
            device = self.log_scale.device
            parts = [self.encode(modality, data[i:i + batch_size] if isinstance(data, list)
                                 else data[i:i + batch_size].to(device)).cpu()
                     for i in range(0, len(data), batch_size)]
        finally:
            self.train(was_training)
        return torch.cat(parts)


def _out_dim(encoder, name: str) -> int:
    out_dim = getattr(encoder, "out_dim", None)
    if isinstance(out_dim, bool) or not isinstance(out_dim, int) or out_dim < 1:
        raise ValueError(f"{name} must have an int attribute out_dim (the size of its "
                         f"feature), got {out_dim!r}; every mmkit encoder has one")
    return out_dim


def clip_objective(model: DualEncoder, batch: dict) -> torch.Tensor:
    """The training objective for ``fit(model, data, objective=clip_objective)``: the
    contrastive loss of the batch's two sides at the model's learned scale; with a
    "negative_text" entry (for other modalities "negative_" + the second key: hard
    negatives, (B, L) token ids of one swapped caption per row or (B, k, L) for k), those
    too."""
    image_features, text_features = model(batch)
    negatives = None
    key = "negative_" + model.modalities[1]
    if key in batch:
        ids = batch[key]
        if isinstance(ids, torch.Tensor) and ids.dim() == 3:  # (B, k, L): k negatives a row
            ids = ids.flatten(0, 1)
        negatives = model.encode_text(ids)
    return contrastive_loss(image_features, text_features, model.logit_scale, negatives)


@torch.no_grad()
def zero_shot_classifier(model: DualEncoder, classnames, templates=("a photo of a {}",)):
    """One unit vector per class, (n_classes, dim): each template filled with the class name
    ("a photo of a {}" -> "a photo of a red circle"), embedded, averaged over the templates
    (prompt ensembling) and normalised again, as CLIP's zero-shot notebook does."""
    if isinstance(classnames, str) or not classnames:
        raise TypeError(f"classnames must be a non-empty list of names, got {classnames!r}")
    if isinstance(templates, str) or not templates:
        raise TypeError(f"templates must be a non-empty list of strings with '{{}}', got "
                        f"{templates!r}")
    for template in templates:
        if not isinstance(template, str) or "{}" not in template:
            raise ValueError(f"each template needs a '{{}}' for the class name, got {template!r}")
    prompts = [template.format(name) for name in classnames for template in templates]
    embedded = model.embed(model.modalities[1], prompts).reshape(len(classnames), len(templates), -1)
    return F.normalize(embedded.mean(dim=1), dim=-1)


def zero_shot_predict(image_features: torch.Tensor, class_embeddings: torch.Tensor):
    """The class whose embedding is most similar to each image: (N,) indices."""
    _check_pair(image_features, class_embeddings, "image_features", "class_embeddings",
                same_rows=False)
    return (image_features @ class_embeddings.T).argmax(dim=1)


def modality_gap(a: torch.Tensor, b: torch.Tensor) -> float:
    """||mean of the normalised a - mean of the normalised b||: how far apart two
    modalities' clouds sit on the unit sphere (0: the same centre; at most 2)."""
    _check_pair(a, b, "a", "b", same_rows=False)
    return float((F.normalize(a, dim=-1).mean(0) - F.normalize(b, dim=-1).mean(0)).norm())


def shift_along_gap(a: torch.Tensor, b: torch.Tensor, amount: float) -> torch.Tensor:
    """a moved by ``amount`` times the gap vector (centroid of b - centroid of a), then
    normalised again: amount=1 puts a's centroid (nearly) on b's (Liang et al., 2022)."""
    _check_pair(a, b, "a", "b", same_rows=False)
    if isinstance(amount, bool) or not isinstance(amount, numbers.Real) or not math.isfinite(amount):
        raise TypeError(f"amount must be a finite number, got {amount!r}")
    a, b = F.normalize(a, dim=-1), F.normalize(b, dim=-1)
    return F.normalize(a + float(amount) * (b.mean(0) - a.mean(0)), dim=-1)


def swap_accuracy(image_features: torch.Tensor, text_features: torch.Tensor,
                  negative_text_features: torch.Tensor) -> float:
    """The fraction of images more similar to their caption (row i) than to its hard
    negative (row i of negative_text_features); 0.5 is a coin toss."""
    _check_pair(image_features, text_features, "image_features", "text_features")
    _check_pair(image_features, negative_text_features, "image_features",
                "negative_text_features")
    positive = (image_features * text_features).sum(dim=1)
    negative = (image_features * negative_text_features).sum(dim=1)
    return float((positive > negative).float().mean())


def similarity_softmax(image_features: torch.Tensor, text_features: torch.Tensor,
                       temperature: float) -> dict:
    """What the loss sees in a batch of B pairs, at a given temperature:
    "similarity" (B, B) cosines (row i: image i against every caption); "image_to_text" the
    softmax of each row of similarity / temperature; "text_to_image" the softmax of each
    column (each column sums to 1); "row_loss", "column_loss" (B,) each pair's
    cross-entropy -log p(right partner); "loss" their mean, the symmetric loss."""
    _check_pair(image_features, text_features, "image_features", "text_features")
    temperature = check_positive(temperature, "temperature")
    similarity = image_features @ text_features.T
    logits = similarity / temperature
    rows, columns = logits.log_softmax(dim=1), logits.log_softmax(dim=0)
    row_loss, column_loss = -rows.diagonal(), -columns.diagonal()
    return {"similarity": similarity, "image_to_text": rows.exp(), "text_to_image": columns.exp(),
            "row_loss": row_loss, "column_loss": column_loss,
            "loss": (row_loss.mean() + column_loss.mean()) / 2}


def retrieve(query_features: torch.Tensor, gallery_features: torch.Tensor, k: int):
    """The k gallery items most similar to each query: (scores (Q, k), indices (Q, k)),
    best first."""
    _check_pair(query_features, gallery_features, "query_features", "gallery_features",
                same_rows=False)
    k = min(check_int(k, "k", minimum=1), len(gallery_features))
    return torch.topk(query_features @ gallery_features.T, k, dim=1)


# ---- a small trained pair of models, for the explorers' default state ----------------------

def default_alignment_models(seed: int = 0, steps: int = 400, fine_tune_steps: int = 100):
    """Two small dual encoders on ShapesWorld scenes of 1-2 objects (16x16 px images would be
    too small: 32x32), trained with ``fit(max_steps=...)`` in a few seconds, seeded:
    "plain" with the contrastive loss, "hard negatives" a copy fine-tuned with each
    caption's swapped version as an extra negative (two-object scenes). Returns
    (models, gallery): gallery {"image": (N, 3, 32, 32), "text": N captions}, 200 test
    scenes whose captions each fit exactly one of them."""
    import copy

    from mmkit.data import Scenes, to_tensors
    from mmkit.data.scenes import swapped_caption
    from mmkit.encoders.image import ImageCNN
    from mmkit.encoders.text import TransformerTextEncoder
    from mmkit.train import fit

    train_scenes = Scenes(n=1500, seed=seed + 1, n_objects=(1, 2))
    train = to_tensors(train_scenes, keys=("image", "text"))
    vocab = Vocabulary.build(train["text"])
    train["text"] = encode_batch(vocab, train["text"])[0]
    torch.manual_seed(seed)
    plain = DualEncoder(ImageCNN(3, (8, 16), out_dim=32, pooled_size=4),
                        TransformerTextEncoder(len(vocab), dim=16, heads=2, layers=1, max_len=16),
                        dim=16, vocab=vocab)
    # lr 2e-3: at 5e-3 the gallery R@1 after 300-450 steps swung between 0.17 and 0.33 with
    # the thread count and the CPU's kernels; the gentler rate lands near 0.33 on all of them.
    fit(plain, train, objective=clip_objective, max_steps=steps, lr=2e-3, batch_size=64,
        seed=seed, progress=False)
    pairs = [i for i in range(train_scenes.n) if train_scenes.truth(i)["mentioned"]]
    negatives = []
    for k, i in enumerate(pairs):
        truth = train_scenes.truth(i)
        kind = ("relation", "attributes")[k % 2]
        negatives.append(swapped_caption(truth["objects"], truth["mentioned"], kind))
    index = torch.tensor(pairs)
    hard_data = {"image": train["image"][index], "text": train["text"][index],
                 "negative_text": encode_batch(vocab, negatives)[0]}
    hard = copy.deepcopy(plain)
    fit(hard, hard_data, objective=clip_objective, max_steps=fine_tune_steps, lr=2e-3,
        batch_size=64, seed=seed, progress=False)
    test_scenes = Scenes(n=800, seed=seed + 2, n_objects=(1, 2))
    chosen = test_scenes.gallery(200)
    images = to_tensors(test_scenes, keys=("image",))["image"][torch.tensor(chosen)]
    gallery = {"image": images, "text": [test_scenes.captions[i] for i in chosen]}
    return {"plain": plain.eval(), "hard negatives": hard.eval()}, gallery
