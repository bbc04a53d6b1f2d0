"""Text for models: split into tokens, map tokens to integer ids, pad ids into a batch.

A model cannot read words, only numbers. The pipeline is::

    tokens = tokenize("A red circle, moving left.")     # ['a', 'red', 'circle', ',', ...]
    vocab = Vocabulary.build(train_texts, min_freq=2)   # fitted on the TRAINING split only
    ids = vocab.encode("a red circle")                  # [5, 9, 4]; unknown words -> <unk>
    ids, lengths, mask = encode_batch(vocab, texts)     # (batch, max_len) LongTensor, ...

Fit the vocabulary on the training texts only. The article's project fits a new tokenizer
on the test set: then the test set decides which words the model knows, and the same word
gets a different id in training and in testing, so the test score means nothing.
"""

import json
import os
import re
from collections import Counter
from collections.abc import Iterable, Sequence

import torch

from mmkit.checks import _describe, check_choice, check_int
from mmkit.files import write_atomically

# A token is either a word (letters, digits, underscore; an inner apostrophe keeps "don't"
# and "shape's" whole) or a single punctuation mark. Whitespace only separates tokens.
_TOKEN_PATTERN = re.compile(r"\w+(?:'\w+)*|[^\w\s]")


def tokenize(text: str, lowercase: bool = True) -> list[str]:
    """Split ``text`` into words and punctuation marks.

    >>> tokenize("A red circle, moving left!")
    ['a', 'red', 'circle', ',', 'moving', 'left', '!']

    lowercase=True maps "Red" and "red" to one token: a small vocabulary learns each word
    from more examples.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {_describe(text)}")
    if lowercase:
        text = text.lower()
    return _TOKEN_PATTERN.findall(text)


class Vocabulary:
    """A fixed, two-way map between tokens and integer ids.

    The special tokens come first: ``specials[0]`` pads short sequences (index 0,
    ``pad_index``) and ``specials[1]`` stands for every word the vocabulary has not seen
    (index 1, ``unk_index``). Make one with ``Vocabulary.build`` or ``Vocabulary.load``.
    """

    def __init__(self, tokens: Sequence[str], num_specials: int = 2, lowercase: bool = True):
        """tokens: every entry in id order, the specials first (``num_specials`` of them)."""
        tokens = list(tokens)
        check_int(num_specials, "num_specials", minimum=2)
        if len(tokens) < num_specials:
            raise ValueError(
                f"tokens must start with {num_specials} special tokens, got {len(tokens)} tokens"
            )
        for i, token in enumerate(tokens):
            if not isinstance(token, str) or not token:
                raise TypeError(f"tokens[{i}] must be a non-empty str, got {_describe(token)}")
        if len(set(tokens)) != len(tokens):
            repeated = sorted(t for t, n in Counter(tokens).items() if n > 1)
            raise ValueError(f"tokens must be unique, got repeats: {repeated[:5]}")
        self._index_to_token = tokens
        self._token_to_index = {token: i for i, token in enumerate(tokens)}
        self.num_specials = num_specials
        self.lowercase = bool(lowercase)

    @classmethod
    def build(
        cls,
        texts: Iterable[str] | Iterable[Sequence[str]],
        min_freq: int = 1,
        max_size: int | None = None,
        specials: Sequence[str] = ("<pad>", "<unk>"),
        lowercase: bool = True,
    ) -> "Vocabulary":
        """Count the tokens of the TRAINING texts and keep the frequent ones.

        texts: strings (tokenized with ``tokenize``) or lists of tokens already split.
        min_freq: a token seen fewer times is left out (it becomes <unk>): a word seen once
            teaches the model little, and rare words make the embedding table big.
        max_size: at most this many entries in all, specials included; the most frequent
            tokens are kept.
        specials: the padding token, then the unknown token, then any others (e.g. "<bos>").

        Tokens are ordered by frequency, most frequent first, ties broken alphabetically,
        so the same texts always give the same ids.

        Build it from the training split only; see the module docstring for why.
        """
        if isinstance(texts, (str, bytes)) or not isinstance(texts, Iterable):
            raise TypeError(
                f"texts must be a list of strings or of token lists, got {_describe(texts)}"
                " (wrap a single text in a list: [text])"
            )
        check_int(min_freq, "min_freq", minimum=1)
        specials = _check_specials(specials)
        if max_size is not None:
            check_int(max_size, "max_size", minimum=len(specials))

        counts: Counter[str] = Counter()
        for i, text in enumerate(texts):
            counts.update(_as_tokens(text, f"texts[{i}]", lowercase))
        for special in specials:  # a special is never a word too
            counts.pop(special, None)

        frequent = [token for token, n in counts.items() if n >= min_freq]
        frequent.sort(key=lambda token: (-counts[token], token))  # ties -> alphabetical
        if max_size is not None:
            frequent = frequent[: max_size - len(specials)]
        return cls([*specials, *frequent], num_specials=len(specials), lowercase=lowercase)

    # --- looking things up ------------------------------------------------------------
    @property
    def pad_index(self) -> int:
        return 0

    @property
    def unk_index(self) -> int:
        return 1

    @property
    def specials(self) -> list[str]:
        return self._index_to_token[: self.num_specials]

    @property
    def tokens(self) -> list[str]:
        """Every entry in id order (a copy)."""
        return list(self._index_to_token)

    def __len__(self) -> int:
        return len(self._index_to_token)

    def __contains__(self, token) -> bool:
        return token in self._token_to_index

    def __eq__(self, other) -> bool:
        if not isinstance(other, Vocabulary):
            return NotImplemented
        return (self._index_to_token, self.num_specials, self.lowercase) == (
            other._index_to_token, other.num_specials, other.lowercase,
        )  # fmt: skip

    def __repr__(self) -> str:
        preview = ", ".join(self._index_to_token[:6])
        more = ", ..." if len(self) > 6 else ""
        return f"Vocabulary({len(self)} tokens: {preview}{more})"

    def token_to_index(self, token: str) -> int:
        """The id of ``token``, or ``unk_index`` for a token the vocabulary has not seen."""
        if not isinstance(token, str):
            raise TypeError(f"token must be a str, got {_describe(token)}")
        return self._token_to_index.get(token, self.unk_index)

    def index_to_token(self, index: int) -> str:
        if isinstance(index, torch.Tensor) and index.numel() == 1:
            index = index.item()
        check_int(index, "index")
        if index >= len(self):
            raise ValueError(f"index must be < {len(self)} (the vocabulary size), got {index}")
        return self._index_to_token[index]

    # --- text <-> ids -------------------------------------------------------------------
    def encode(self, text: str | Sequence[str]) -> list[int]:
        """A text (or a list of tokens) -> its list of ids; unseen words -> ``unk_index``."""
        return [self.token_to_index(token) for token in _as_tokens(text, "text", self.lowercase)]

    def encode_batch(self, texts: Sequence[str], max_len: int | None = None, truncate: str = "post",
                     padding: str = "post") -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``encode_batch(self, texts, ...)``: (ids, lengths, mask), padded with pad_index."""
        return encode_batch(self, texts, max_len, truncate, padding)

    def decode(self, ids: Sequence[int] | torch.Tensor, skip_special: bool = True) -> str:
        """A list (or 1-D tensor) of ids -> the tokens joined by spaces.

        skip_special=True drops padding and the other specials, except <unk>: it shows
        where a word was that the vocabulary did not know.
        """
        if isinstance(ids, torch.Tensor):
            if ids.is_floating_point() or ids.dtype == torch.bool:
                raise TypeError(f"ids must be an integer tensor, got {_describe(ids)}")
            if ids.dim() != 1:
                raise ValueError(f"ids must be a 1-D tensor, got {_describe(ids)}")
            ids = ids.tolist()
        if isinstance(ids, (str, bytes)) or not isinstance(ids, Iterable):
            raise TypeError(f"ids must be a list of ints, got {_describe(ids)}")
        skip = set(range(self.num_specials)) - {self.unk_index} if skip_special else set()
        words = []
        for i, index in enumerate(ids):
            if isinstance(index, bool) or not isinstance(index, int):
                raise TypeError(f"ids[{i}] must be an int, got {_describe(index)}")
            if not 0 <= index < len(self):
                raise ValueError(
                    f"ids[{i}] must be in [0, {len(self)}) (the vocabulary size), got {index}"
                )
            if index not in skip:
                words.append(self._index_to_token[index])
        return " ".join(words)

    # --- saving -------------------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> None:
        """Write the vocabulary to ``path`` as JSON.

        The file is written under a temporary name in the same folder, then renamed with
        ``os.replace``: a crash mid-write leaves the old file whole, never half a file.
        """
        content = {
            "format": "mmkit.Vocabulary",
            "version": 1,
            "num_specials": self.num_specials,
            "lowercase": self.lowercase,
            "tokens": self._index_to_token,
        }
        write_atomically(path, json.dumps(content, ensure_ascii=False, indent=1))

    @classmethod
    def load(cls, path: str | os.PathLike) -> "Vocabulary":
        """Read a vocabulary written by ``save``; a file that is not one is named in the error."""
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"path must be a file path (str or Path), got {_describe(path)}")
        path = os.fspath(path)
        try:
            with open(path, encoding="utf-8") as file:
                content = json.load(file)
        except FileNotFoundError:
            raise FileNotFoundError(f"no vocabulary file at {path!r}") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise ValueError(f"could not parse the vocabulary file {path!r} ({error}); was it "
                             "cut short or edited? save it again with Vocabulary.save") from None
        if not isinstance(content, dict) or content.get("format") != "mmkit.Vocabulary":
            raise ValueError(f"{path!r} is not a vocabulary saved by Vocabulary.save")
        try:
            return cls(content["tokens"], content["num_specials"], content["lowercase"])
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(f"the vocabulary file {path!r} is damaged: {error}") from None


def _check_specials(specials) -> list[str]:
    if isinstance(specials, str) or not isinstance(specials, Sequence):
        raise TypeError(
            f"specials must be a tuple of strings like ('<pad>', '<unk>'), "
            f"got {_describe(specials)}"
        )
    specials = list(specials)
    if len(specials) < 2:
        raise ValueError(
            f"specials must hold at least a padding and an unknown token, got {specials}"
        )
    for i, special in enumerate(specials):
        if not isinstance(special, str) or not special:
            raise TypeError(f"specials[{i}] must be a non-empty str, got {_describe(special)}")
    if len(set(specials)) != len(specials):
        raise ValueError(f"specials must be unique, got {specials}")
    return specials


def _as_tokens(text, name: str, lowercase: bool) -> list[str]:
    """A string is tokenized; a list of strings is taken as tokens already split."""
    if isinstance(text, str):
        return tokenize(text, lowercase=lowercase)
    if isinstance(text, (list, tuple)) and all(isinstance(t, str) for t in text):
        return [t.lower() for t in text] if lowercase else list(text)
    raise TypeError(f"{name} must be a str or a list of str tokens, got {_describe(text)}")


def pad_sequences(
    sequences: Sequence[Sequence[int] | torch.Tensor],
    max_len: int | None = None,
    pad_index: int = 0,
    truncate: str = "post",
    padding: str = "post",
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Make sequences of different lengths into one rectangular batch.

    A batch tensor must be rectangular, so every sequence becomes ``max_len`` ids long
    (default: the longest one's length):
    - a longer one is cut: truncate="post" keeps its start, "pre" keeps its end;
    - a shorter one is filled with ``pad_index``: padding="post" after the ids, "pre" before.

    Returns
        ids:     LongTensor (batch, max_len)
        lengths: LongTensor (batch,), the number of real ids in each row (after truncation)
        mask:    BoolTensor (batch, max_len), True at real ids, False at padding: models use
                 it to ignore the padding (in attention, in averaging over time).

    >>> pad_sequences([[5, 6, 7], [8]])[0]
    tensor([[5, 6, 7],
            [8, 0, 0]])
    """
    if isinstance(sequences, (str, bytes, torch.Tensor)) or not isinstance(sequences, Sequence):
        raise TypeError(f"sequences must be a list of id lists, got {_describe(sequences)}")
    if len(sequences) == 0:
        raise ValueError("sequences is empty; pass at least one sequence")
    check_int(pad_index, "pad_index")
    check_choice(truncate, "truncate", ("post", "pre"))
    check_choice(padding, "padding", ("post", "pre"))
    rows = [_as_id_list(seq, f"sequences[{i}]") for i, seq in enumerate(sequences)]
    if max_len is None:
        # At least one column, so a batch of empty texts is still a batch a model can take.
        max_len = max(1, max(len(row) for row in rows))
    check_int(max_len, "max_len", minimum=1)

    ids = torch.full((len(rows), max_len), pad_index, dtype=torch.long)
    lengths = torch.empty(len(rows), dtype=torch.long)
    for i, row in enumerate(rows):
        if len(row) > max_len:
            row = row[:max_len] if truncate == "post" else row[len(row) - max_len :]
        n = len(row)
        lengths[i] = n
        if n == 0:
            continue
        if padding == "post":
            ids[i, :n] = torch.tensor(row)
        else:
            ids[i, max_len - n :] = torch.tensor(row)
    positions = torch.arange(max_len)
    if padding == "post":
        mask = positions < lengths[:, None]  # real ids are the first `length` positions
    else:
        mask = positions >= max_len - lengths[:, None]  # ... or the last ones
    return ids, lengths, mask


def _as_id_list(seq, name: str) -> list[int]:
    if isinstance(seq, torch.Tensor):
        if seq.is_floating_point() or seq.dtype == torch.bool:
            raise TypeError(f"{name} must be an integer tensor, got {_describe(seq)}")
        if seq.dim() != 1:
            raise ValueError(f"{name} must be a 1-D tensor, got {_describe(seq)}")
        seq = seq.tolist()
    if isinstance(seq, (str, bytes)) or not isinstance(seq, Sequence):
        raise TypeError(f"{name} must be a list of int ids, got {_describe(seq)}")
    for j, index in enumerate(seq):
        if isinstance(index, bool) or not isinstance(index, int):
            raise TypeError(f"{name}[{j}] must be an int id, got {_describe(index)}")
        if index < 0:
            raise ValueError(f"{name}[{j}] must be an id >= 0, got {index}")
    return list(seq)


def encode_batch(
    vocab: Vocabulary,
    texts: Sequence[str],
    max_len: int | None = None,
    truncate: str = "post",
    padding: str = "post",
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Encode each text with ``vocab``, then pad: (ids, lengths, mask) as in ``pad_sequences``."""
    if not isinstance(vocab, Vocabulary):
        raise TypeError(f"vocab must be a Vocabulary, got {_describe(vocab)}")
    if isinstance(texts, str) or not isinstance(texts, Sequence):
        raise TypeError(
            f"texts must be a list of strings, got {_describe(texts)} (wrap one text: [text])"
        )
    if len(texts) == 0:
        raise ValueError("texts is empty; pass at least one text")
    sequences = [vocab.encode(text) for text in texts]
    return pad_sequences(sequences, max_len, vocab.pad_index, truncate, padding)
