"""BLEU against sacreBLEU and CIDEr against the COCO caption toolkit (pycocoevalcap), on random
corpora and on the edge cases where the definitions bite: no match, missing n-gram orders,
short hypotheses (brevity penalty), ties in reference length, one image, several references."""

import math
import random

import pytest
from pycocoevalcap.cider.cider import Cider
from sacrebleu.metrics import BLEU

from mmkit.metrics import bleu, cider

WORDS = "a the red blue green circle square triangle left of above and large small".split()


def sacre(hypotheses, references, max_n=4):
    """sacreBLEU's corpus BLEU: references transposed into streams, None where a hypothesis
    has fewer references than the most any has."""
    most = max(len(r) for r in references)
    streams = [[refs[k] if k < len(refs) else None for refs in references] for k in range(most)]
    return BLEU(tokenize="none", max_ngram_order=max_n).corpus_score(hypotheses, streams).score


def coco(hypotheses, references):
    gts = {i: list(refs) for i, refs in enumerate(references)}
    res = {i: [h] for i, h in enumerate(hypotheses)}
    return Cider().compute_score(gts, res)[0]


def sentence(rng, low=1, high=12):
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(low, high)))


def corpus(rng, n):
    hypotheses = [sentence(rng) for _ in range(n)]
    references = [[sentence(rng) for _ in range(rng.randint(1, 4))] for _ in range(n)]
    return hypotheses, references


@pytest.mark.parametrize("seed", range(60))
def test_bleu_equals_sacrebleu_on_random_corpora(seed):
    rng = random.Random(seed)
    hypotheses, references = corpus(rng, rng.randint(1, 30))
    max_n = 4 if seed % 3 else rng.randint(1, 6)
    assert bleu(hypotheses, references, max_n=max_n) == pytest.approx(
        sacre(hypotheses, references, max_n), abs=1e-9)


@pytest.mark.parametrize("seed", range(60))
def test_cider_equals_pycocoevalcap_on_random_corpora(seed):
    rng = random.Random(seed)
    hypotheses, references = corpus(rng, rng.randint(2, 30))
    assert cider(hypotheses, references) == pytest.approx(coco(hypotheses, references), abs=1e-6)


@pytest.mark.parametrize("hypotheses,references", [
    (["a red circle"], [["a red circle"]]),  # perfect
    (["x y z"], [["a red circle"]]),  # no match at all: 0
    (["a b"], [["a b c d e f"]]),  # no 3- or 4-grams in the hypothesis: 0
    (["a red"], [["a red circle left of a blue square"]]),  # brevity penalty
    (["a red circle left", "b"], [["a red circle left of"], ["b c"]]),  # smoothing of 4-grams
    (["a red circle"], [["a red", "a red circle and"]]),  # equally close references: the shorter
    (["a a a a"], [["a a"]]),  # clipped counts
    ([""], [["a red circle"]]),  # an empty hypothesis
    (["a red circle  "], [["a red circle"]]),  # trailing spaces
])
def test_bleu_edge_cases_equal_sacrebleu(hypotheses, references):
    assert bleu(hypotheses, references) == pytest.approx(sacre(hypotheses, references), abs=1e-9)


def test_bleu_by_hand():
    # Unigrams 3/4, bigrams 1/3, trigram and 4-gram: no match -> exp smoothing 1/(2*2), 1/(4*1).
    value = bleu(["a red big circle"], [["a red circle"]])
    expected = 100 * math.exp((math.log(3 / 4) + math.log(1 / 3) + math.log(1 / 4)
                               + math.log(1 / 4)) / 4)
    assert value == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("hypotheses,references", [
    (["a red circle", "a blue square"], [["a red circle"], ["a blue square"]]),
    (["a red circle", "x"], [["a red circle", "the red circle"], ["a blue square"]]),
    (["a red circle left of a blue square", "a"], [["a red circle"], ["a"]]),  # length penalty
    (["", "a blue square"], [["a red circle"], ["a blue square"]]),
    (["a red circle"], [["a red circle"]]),  # one image: every idf is 0
])
def test_cider_edge_cases_equal_pycocoevalcap(hypotheses, references):
    assert cider(hypotheses, references) == pytest.approx(coco(hypotheses, references), abs=1e-6)


def test_cider_rewards_consensus_and_is_zero_for_nonsense():
    references = [["a red circle"], ["a blue square"], ["a green triangle"]]
    good = cider(["a red circle", "a blue square", "a green triangle"], references)
    bad = cider(["q", "q", "q"], references)
    assert good > 5 and bad == 0


@pytest.mark.parametrize("function", [bleu, cider])
@pytest.mark.parametrize("hypotheses,references,error,match", [
    ("a red circle", [["a"]], TypeError, "hypotheses must be a list"),
    ([], [], ValueError, "hypotheses is empty"),
    (["a"], [["a"], ["b"]], ValueError, "one list per hypothesis"),
    (["a"], ["a"], TypeError, r"references\[0\] must be a list of str"),
    (["a"], [[]], ValueError, r"references\[0\] is empty"),
    ([1], [["a"]], TypeError, r"hypotheses\[0\] must be a str"),
    (["a"], [[1]], TypeError, r"references\[0\] must hold str"),
])
def test_bad_input_names_the_argument(function, hypotheses, references, error, match):
    with pytest.raises(error, match=match):
        function(hypotheses, references)


def test_bleu_rejects_a_bad_max_n():
    with pytest.raises(ValueError, match="max_n must be >= 1"):
        bleu(["a"], [["a"]], max_n=0)
    with pytest.raises(TypeError, match="max_n must be an int"):
        bleu(["a"], [["a"]], max_n=2.5)
