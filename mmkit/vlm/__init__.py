"""The tiny vision-language model (视觉语言模型) of lesson 13, and decoding from it.

    model.py      SceneEncoder (lesson 03's CNN as patch tokens), the causal decoder
                  (causal_mask, CausalSelfAttention, DecoderBlock), KVCache, TinyVLM
    decoding.py   next_token_probabilities (greedy, temperature, top-k, top-p), generate,
                  decoding_traces (for the decoding stepper)
    training.py   the data as tensors, the next-token loss, the stages (LLaVA's recipe)
    grounding.py  which patches a generated word relied on: attention and saliency maps

    >>> answers = generate(model, images, "what colour is the circle", max_new_tokens=3,
    ...                    temperature=0)
"""

from mmkit.vlm import grounding
from mmkit.vlm.decoding import decode_text, generate, next_token_probabilities
from mmkit.vlm.model import (
    CausalSelfAttention,
    DecoderBlock,
    KVCache,
    SceneEncoder,
    TinyVLM,
    causal_mask,
    to_torch_layer,
)

__all__ = [
    "CausalSelfAttention",
    "DecoderBlock",
    "KVCache",
    "SceneEncoder",
    "TinyVLM",
    "causal_mask",
    "decode_text",
    "generate",
    "grounding",
    "next_token_probabilities",
    "to_torch_layer",
]
