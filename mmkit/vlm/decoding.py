"""Autoregressive decoding (自回归解码): one token at a time, each fed back as input.

At every step the decoder gives a score (logit) for each word of the vocabulary; how the
next word is chosen from them is the decoding strategy:

    greedy       the most likely word (temperature=0, or top_k=1)
    temperature  divide the logits by T before the softmax: T < 1 sharpens, T > 1 flattens
    top-k        sample among the k most likely words only
    top-p        sample among the fewest most likely words whose probability adds up to p
                 (nucleus sampling, Holtzman et al., 2020)

``next_token_probabilities`` applies them in that order (temperature, top-k, top-p), as
Hugging Face's ``generate`` does, and ``generate`` runs the loop, with or without a KV cache.
"""

import torch

from mmkit.checks import check_int, check_positive, check_tensor
from mmkit.vlm.model import KVCache, TinyVLM


def next_token_probabilities(logits: torch.Tensor, temperature: float = 1.0,
                             top_k: int | None = None, top_p: float | None = None) -> torch.Tensor:
    """Probabilities (..., vocab) to sample the next token from, after the filters.

    temperature: > 0 divides the logits; 0 is greedy: all the probability on the largest
    logit (the first, on a tie). top_k: keep the k largest (None: all). top_p in (0, 1]:
    keep the most likely tokens, most likely first, up to and including the one that
    brings their total to p. Filtered tokens get probability 0; the rest are renormalised.
    """
    check_tensor(logits, "logits", floating=True, min_ndim=1)
    temperature = check_positive(temperature, "temperature", allow_zero=True)
    if top_k is not None:
        top_k = check_int(top_k, "top_k", minimum=1)
    if top_p is not None:
        top_p = check_positive(top_p, "top_p")
        if top_p > 1:
            raise ValueError(f"top_p must be in (0, 1], got {top_p}")
    if temperature == 0:
        return torch.nn.functional.one_hot(logits.argmax(-1), logits.shape[-1]).to(logits.dtype)
    probabilities = (logits / temperature).softmax(dim=-1)
    keep = torch.ones_like(probabilities, dtype=torch.bool)
    order = probabilities.argsort(dim=-1, descending=True, stable=True)
    rank = order.argsort(dim=-1)  # 0 for the most likely token
    if top_k is not None:
        keep &= rank < top_k
    if top_p is not None:
        sorted_p = probabilities.gather(-1, order)
        before = sorted_p.cumsum(dim=-1) - sorted_p  # the mass of the tokens ranked above
        keep &= (before < top_p).gather(-1, rank)
    kept = probabilities * keep
    return kept / kept.sum(dim=-1, keepdim=True)


def encode_prompts(model: TinyVLM, prompt, batch: int) -> list[list[int]]:
    """Token ids "<bos> prompt <sep>" for each of ``batch`` rows: one str for all, or a
    list of str, one per row. A word the vocabulary lacks is an error, not a silent <unk>."""
    prompts = [prompt] * batch if isinstance(prompt, str) else prompt
    if not isinstance(prompts, (list, tuple)) or not all(isinstance(p, str) for p in prompts):
        raise TypeError(f"prompt must be a str or a list of str, got {type(prompt).__name__}")
    if len(prompts) != batch:
        raise ValueError(f"prompt must be one str, or one per image ({batch}), got "
                         f"{len(prompts)} prompts")
    rows = []
    for p in prompts:
        words = p.lower().split()
        unknown = [w for w in words if w not in model.vocab]
        if unknown:
            raise ValueError(f"the prompt {p!r} has words the model never learned: {unknown}")
        rows.append([model.bos, *(model.vocab.token_to_index(w) for w in words), model.sep])
    return rows


def _step_logits(model, ids, features, blind, cache, return_attention):
    """Logits of the next token after ``ids`` (B, T): with a cache, only the new tokens
    are run through the decoder; without, the whole sequence again."""
    if cache is None:
        out = model(ids, features=features, blind=blind, return_attention=return_attention)
    else:
        new = ids if len(cache) == 0 else ids[:, -1:]
        out = model(new, features=features, blind=blind, cache=cache,
                    return_attention=return_attention)
    logits, attention = out if return_attention else (out, None)
    return logits[:, -1], attention


@torch.no_grad()
def generate_ids(model: TinyVLM, features: torch.Tensor, prompt_ids: torch.Tensor,
                 max_new_tokens: int, temperature: float = 1.0, top_k=None, top_p=None,
                 use_cache: bool = True, *, generator=None, blind: bool = False,
                 trace: bool = False) -> dict:
    """Decode from prompts of one length: features (B, N, d), prompt_ids (B, P).

    Returns {"ids": (B, steps) the tokens chosen (``eos`` then ``pad`` after a row ended),
    and, with trace=True, "logits" (B, steps, vocab) and "attention" (B, steps, keys) - the
    last layer's attention of each chosen token's query, averaged over heads, over every
    position before it (visual tokens first)}.
    """
    max_new_tokens = check_int(max_new_tokens, "max_new_tokens", minimum=1)
    cache = KVCache() if use_cache else None
    ids, pad = prompt_ids, model.vocab.pad_index
    done = torch.zeros(len(ids), dtype=torch.bool, device=ids.device)
    chosen, logits_kept, attention_kept = [], [], []
    for _ in range(max_new_tokens):
        if ids.shape[1] >= model.max_text_length:
            break
        logits, attention = _step_logits(model, ids, features, blind, cache, trace)
        probabilities = next_token_probabilities(logits, temperature, top_k, top_p)
        if temperature == 0 or top_k == 1:
            token = probabilities.argmax(dim=-1)
        else:
            token = torch.multinomial(probabilities, 1, generator=generator)[:, 0]
        token = token.masked_fill(done, pad)
        chosen.append(token)
        if trace:
            logits_kept.append(logits)
            attention_kept.append(attention[-1][:, :, -1].mean(dim=1))
        done |= token == model.eos
        ids = torch.cat([ids, token[:, None]], dim=1)
        if done.all():
            break
    out = {"ids": torch.stack(chosen, dim=1)}
    if trace:
        out["logits"] = torch.stack(logits_kept, dim=1)
        width = attention_kept[-1].shape[-1]  # later steps see more keys: pad the earlier
        out["attention"] = torch.stack(
            [torch.nn.functional.pad(a, (0, width - a.shape[-1])) for a in attention_kept], dim=1)
    return out


def _features(model: TinyVLM, images: torch.Tensor) -> torch.Tensor:
    check_tensor(images, "images", floating=True, ndim=4)
    device = next(model.parameters()).device
    return model.encode_images(images.to(device))


def decode_text(model: TinyVLM, ids) -> str:
    """The words of generated ids, up to the first <eos> (specials left out)."""
    words = []
    for token in (ids.tolist() if hasattr(ids, "tolist") else ids):
        if token == model.eos:
            break
        if token >= model.vocab.num_specials:
            words.append(model.vocab.index_to_token(token))
    return " ".join(words)


@torch.no_grad()
def generate(model: TinyVLM, images: torch.Tensor, prompt, max_new_tokens: int = 20,
             temperature: float = 1.0, top_k: int | None = None, top_p: float | None = None,
             use_cache: bool = True, *, generator: torch.Generator | None = None,
             blind: bool = False) -> list[str]:
    """Answer ``prompt`` about each image: one str per image.

    images (B, C, H, W); prompt: one str for all, or a list of B str. Decoding stops at
    <eos> or after ``max_new_tokens``. temperature=0 (or top_k=1) is greedy and
    deterministic; otherwise tokens are sampled, from ``generator`` if given.
    use_cache=False recomputes the whole sequence at every step (slower, same result).
    blind=True zeroes the visual tokens: what the language prior alone would say.
    Rows whose prompts have the same number of words are decoded together, in batches.
    """
    if not isinstance(model, TinyVLM):
        raise TypeError(f"model must be a TinyVLM, got {type(model).__name__}")
    was_training = model.training
    model.eval()
    features = _features(model, images)
    rows = encode_prompts(model, prompt, len(features))
    answers = [""] * len(rows)
    for length in sorted({len(r) for r in rows}):
        group = [i for i, r in enumerate(rows) if len(r) == length]
        prompt_ids = torch.tensor([rows[i] for i in group], device=features.device)
        out = generate_ids(model, features[group], prompt_ids, max_new_tokens, temperature,
                           top_k, top_p, use_cache, generator=generator, blind=blind)
        for i, ids in zip(group, out["ids"], strict=True):
            answers[i] = decode_text(model, ids)
    model.train(was_training)
    return answers


@torch.no_grad()
def decoding_traces(model: TinyVLM, images: torch.Tensor, prompts, max_new_tokens: int = 20,
                    blind_options=(False, True)) -> dict:
    """Greedy decoding of every prompt for every image, step by step, for the decoding
    stepper: {(prompt, blind): {"ids" (B, steps), "logits" (B, steps, vocab), "attention"
    (B, steps, n_visual) - the last layer's attention (mean of the heads) of the query that
    chose each token, over the visual tokens}}."""
    if isinstance(prompts, str) or not isinstance(prompts, (list, tuple)) or not prompts:
        raise TypeError(f"prompts must be a non-empty list of str, got {prompts!r}")
    was_training = model.training
    model.eval()
    features = _features(model, images)
    traces = {}
    for prompt in prompts:
        prompt_ids = torch.tensor(encode_prompts(model, prompt, len(features)),
                                  device=features.device)
        for blind in blind_options:
            out = generate_ids(model, features, prompt_ids, max_new_tokens, temperature=0,
                               blind=blind, trace=True)
            out["attention"] = out["attention"][..., :model.n_visual]
            traces[prompt, blind] = out
    model.train(was_training)
    return traces
