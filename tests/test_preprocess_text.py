"""Tokenizer, vocabulary (build, encode/decode, save/load) and padding of text batches."""

import os

import pytest
import torch

from mmkit.preprocess.text import Vocabulary, encode_batch, pad_sequences, tokenize

TRAIN = [
    "a red circle moving left",
    "a blue square moving right",
    "a red triangle moving up",
    "the green circle moves down",
]


# --- tokenize -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("A red circle, moving left!", ["a", "red", "circle", ",", "moving", "left", "!"]),
        ("  two   spaces\tand\nlines ", ["two", "spaces", "and", "lines"]),
        ("Don't stop: 3 shapes.", ["don't", "stop", ":", "3", "shapes", "."]),
        ("", []),
    ],
)
def test_tokenize_examples(text, expected):
    assert tokenize(text) == expected


def test_tokenize_keeps_case_when_asked():
    assert tokenize("Red RED red", lowercase=False) == ["Red", "RED", "red"]


# --- Vocabulary -------------------------------------------------------------------------


def test_build_orders_specials_then_frequency_then_alphabet():
    vocab = Vocabulary.build(TRAIN)
    # counts: a 3, circle 2, moving 3, red 2, every other word 1
    assert vocab.tokens[:6] == ["<pad>", "<unk>", "a", "moving", "circle", "red"]
    assert vocab.tokens[6:] == sorted(vocab.tokens[6:])  # ties of count 1: alphabetical
    assert vocab.pad_index == 0 and vocab.unk_index == 1
    assert len(vocab) == 2 + 14  # specials + 14 distinct words
    assert "circle" in vocab and "zebra" not in vocab


def test_build_is_deterministic_whatever_the_text_order():
    assert Vocabulary.build(TRAIN) == Vocabulary.build(TRAIN[::-1])
    assert Vocabulary.build(["b a", "c"]).tokens == ["<pad>", "<unk>", "a", "b", "c"]


def test_min_freq_and_max_size():
    assert Vocabulary.build(TRAIN, min_freq=2).tokens == [
        "<pad>", "<unk>", "a", "moving", "circle", "red",
    ]  # fmt: skip
    vocab = Vocabulary.build(TRAIN, max_size=4)  # max_size counts the specials
    assert vocab.tokens == ["<pad>", "<unk>", "a", "moving"]


def test_custom_specials_and_token_lists():
    vocab = Vocabulary.build([["A", "b"], ["b", "<bos>"]], specials=("<pad>", "<unk>", "<bos>"))
    assert vocab.tokens == ["<pad>", "<unk>", "<bos>", "b", "a"]  # "<bos>" is not counted twice
    assert vocab.specials == ["<pad>", "<unk>", "<bos>"]


def test_encode_decode_round_trip_and_unknown_words():
    vocab = Vocabulary.build(TRAIN)
    ids = vocab.encode("A red circle moving left")
    assert vocab.decode(ids) == "a red circle moving left"
    assert vocab.encode("a purple zebra") == [vocab.token_to_index("a"), 1, 1]
    assert vocab.decode([0, 2, 1, 0]) == "a <unk>"  # padding skipped, <unk> shown
    assert vocab.decode([0, 2], skip_special=False) == "<pad> a"
    assert vocab.decode(torch.tensor(ids)) == "a red circle moving left"
    assert vocab.index_to_token(vocab.token_to_index("red")) == "red"


def test_save_load_round_trip_is_atomic(tmp_path):
    vocab = Vocabulary.build(TRAIN, specials=("<pad>", "<unk>", "<bos>"), lowercase=False)
    path = tmp_path / "vocab.json"
    vocab.save(path)
    vocab.save(path)  # overwriting an existing file works too
    loaded = Vocabulary.load(path)
    assert loaded == vocab
    assert loaded.tokens == vocab.tokens and loaded.lowercase is False
    assert loaded.encode("a red circle") == vocab.encode("a red circle")
    assert os.listdir(tmp_path) == ["vocab.json"]  # no temporary file left behind


def test_failed_save_leaves_no_temp_file(tmp_path, monkeypatch):
    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        Vocabulary.build(TRAIN).save(tmp_path / "vocab.json")
    assert os.listdir(tmp_path) == []


def test_load_rejects_other_json(tmp_path):
    path = tmp_path / "other.json"
    path.write_text('{"hello": 1}')
    with pytest.raises(ValueError, match="not a vocabulary"):
        Vocabulary.load(path)


# --- pad_sequences / encode_batch --------------------------------------------------------

SEQUENCES = [[5, 6, 7, 8], [9], [3, 4]]


def test_pad_post_with_post_truncation():
    ids, lengths, mask = pad_sequences(SEQUENCES, max_len=3)
    assert torch.equal(ids, torch.tensor([[5, 6, 7], [9, 0, 0], [3, 4, 0]]))
    assert torch.equal(lengths, torch.tensor([3, 1, 2]))
    assert torch.equal(mask, torch.tensor([[1, 1, 1], [1, 0, 0], [1, 1, 0]], dtype=torch.bool))
    assert ids.dtype == torch.long and lengths.dtype == torch.long


def test_pad_pre_with_pre_truncation():
    ids, lengths, mask = pad_sequences(SEQUENCES, max_len=3, truncate="pre", padding="pre")
    assert torch.equal(ids, torch.tensor([[6, 7, 8], [0, 0, 9], [0, 3, 4]]))
    assert torch.equal(lengths, torch.tensor([3, 1, 2]))
    assert torch.equal(mask, torch.tensor([[1, 1, 1], [0, 0, 1], [0, 1, 1]], dtype=torch.bool))


def test_pad_default_length_custom_pad_and_tensor_rows():
    ids, lengths, mask = pad_sequences([torch.tensor([1, 2]), [3], []], pad_index=7)
    assert torch.equal(ids, torch.tensor([[1, 2], [3, 7], [7, 7]]))
    assert torch.equal(lengths, torch.tensor([2, 1, 0]))
    assert torch.equal(mask, ids != 7)


def test_encode_batch_matches_encode_then_pad():
    vocab = Vocabulary.build(TRAIN)
    texts = ["a red circle", "the blue zebra moves left"]
    ids, lengths, mask = encode_batch(vocab, texts, max_len=4)
    expected = pad_sequences([vocab.encode(t) for t in texts], max_len=4)
    for got, want in zip((ids, lengths, mask), expected, strict=True):
        assert torch.equal(got, want)
    assert ids.shape == (2, 4) and lengths.tolist() == [3, 4]


# --- bad inputs -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: tokenize(42), TypeError, "text must be a str, got int 42"),
        (lambda: tokenize(["a b"]), TypeError, "text must be a str"),
        (lambda: Vocabulary.build("a red circle"), TypeError, r"wrap a single text"),
        (lambda: Vocabulary.build(TRAIN, min_freq=0), ValueError, "min_freq must be >= 1"),
        (lambda: Vocabulary.build(TRAIN, max_size=1), ValueError, "max_size must be >= 2"),
        (lambda: Vocabulary.build(TRAIN, specials=("<pad>",)), ValueError, "at least a padding"),
        (lambda: Vocabulary.build(TRAIN, specials=("<x>", "<x>")), ValueError, "unique"),
        (lambda: Vocabulary.build([1, 2]), TypeError, r"texts\[0\] must be a str"),
        (lambda: Vocabulary.build(TRAIN).decode([0, 99]), ValueError, r"ids\[1\] must be in"),
        (lambda: Vocabulary.build(TRAIN).decode([1.0]), TypeError, r"ids\[0\] must be an int"),
        (lambda: Vocabulary.build(TRAIN).index_to_token(-1), ValueError, "index must be >= 0"),
        (lambda: pad_sequences([]), ValueError, "sequences is empty"),
        (lambda: pad_sequences([[1]], max_len=0), ValueError, "max_len must be >= 1, got 0"),
        (lambda: pad_sequences([[1]], truncate="end"), ValueError, "truncate must be one of"),
        (lambda: pad_sequences([[1]], padding="left"), ValueError, "padding must be one of"),
        (lambda: pad_sequences([[1, 2.5]]), TypeError, r"sequences\[0\]\[1\] must be an int"),
        (lambda: pad_sequences([[1, -2]]), ValueError, r"sequences\[0\]\[1\] must be an id >= 0"),
        (lambda: pad_sequences([torch.ones(2)]), TypeError, "must be an integer tensor"),
        (lambda: pad_sequences(torch.ones(2, 2)), TypeError, "sequences must be a list"),
        (lambda: encode_batch({"a": 1}, ["a"]), TypeError, "vocab must be a Vocabulary"),
        (lambda: encode_batch(Vocabulary.build(TRAIN), []), ValueError, "texts is empty"),
    ],
)
def test_bad_inputs_give_clear_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()
