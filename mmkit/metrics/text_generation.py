"""Scores for generated text against references: BLEU and CIDEr, from scratch.

Both count n-grams (runs of n words) that a generated sentence shares with human (here:
true) references. They differ in what they reward:

- BLEU (Papineni et al., 2002) is precision: of the hypothesis' n-grams, how many occur in
  a reference (each clipped to the most times any one reference has it), for n = 1..4,
  combined by a geometric mean over the whole corpus and cut by a brevity penalty when the
  hypotheses are shorter than the references. ``bleu`` gives the value of sacreBLEU's
  ``corpus_bleu(hypotheses, transposed references, tokenize="none")``: its default
  "exp" smoothing and its 0-100 scale.
- CIDEr (Vedantam et al., 2015) is consensus: each sentence becomes a TF-IDF vector of its
  n-grams (an n-gram found in the references of many images says little), and the score
  is the cosine similarity with each reference, averaged over references and n = 1..4.
  ``cider`` gives the value of the COCO caption toolkit's (pycocoevalcap) ``Cider()``,
  which is CIDEr-D: the hypothesis' weights clipped at the reference's, a Gaussian penalty
  on the length difference (sigma 6), times 10; document frequencies from the references.

Sentences are split on whitespace: lower-case and tokenise them first, the same way for
hypotheses and references.
"""

import math
from collections import Counter

import numpy as np


def _check_corpus(hypotheses, references) -> None:
    if isinstance(hypotheses, str) or not isinstance(hypotheses, (list, tuple)):
        raise TypeError(f"hypotheses must be a list of str, got {type(hypotheses).__name__}")
    if isinstance(references, str) or not isinstance(references, (list, tuple)):
        raise TypeError("references must be a list with one list of reference str per "
                        f"hypothesis, got {type(references).__name__}")
    if not hypotheses:
        raise ValueError("hypotheses is empty: score at least one sentence")
    if len(references) != len(hypotheses):
        raise ValueError(f"references must hold one list per hypothesis: {len(hypotheses)} "
                         f"hypotheses, {len(references)} reference lists")
    for i, hypothesis in enumerate(hypotheses):
        if not isinstance(hypothesis, str):
            raise TypeError(f"hypotheses[{i}] must be a str, got {type(hypothesis).__name__}")
    for i, refs in enumerate(references):
        if isinstance(refs, str) or not isinstance(refs, (list, tuple)):
            raise TypeError(f"references[{i}] must be a list of str (the references of "
                            f"hypothesis {i}), got {type(refs).__name__}; wrap one "
                            "reference in a list: [reference]")
        if not refs:
            raise ValueError(f"references[{i}] is empty: every hypothesis needs a reference")
        for ref in refs:
            if not isinstance(ref, str):
                raise TypeError(f"references[{i}] must hold str, got {type(ref).__name__}")


def ngram_counts(words: list[str], max_n: int) -> Counter:
    """Every run of 1..max_n consecutive words, as a tuple, with how often it occurs."""
    return Counter(tuple(words[i:i + n]) for n in range(1, max_n + 1)
                   for i in range(len(words) - n + 1))


def bleu(hypotheses, references, max_n: int = 4) -> float:
    """Corpus BLEU on sacreBLEU's 0-100 scale: hypotheses list[str], references
    list[list[str]] (the references of each hypothesis), whitespace tokens.

    Counts are summed over the corpus before the precisions are taken (a corpus score, not a
    mean of sentence scores). For each hypothesis the reference length used by the brevity
    penalty is the reference closest in length (the shorter on a tie). An order n with no
    match at all gets sacreBLEU's "exp" smoothing: 100 / (2^k * total_n) for the k-th such
    order; no match of any order gives 0.
    """
    from mmkit.checks import check_int

    _check_corpus(hypotheses, references)
    max_n = check_int(max_n, "max_n", minimum=1)
    matches, totals = [0] * max_n, [0] * max_n
    hypothesis_length = reference_length = 0
    for hypothesis, refs in zip(hypotheses, references, strict=True):
        words = hypothesis.rstrip().split()
        ref_words = [ref.rstrip().split() for ref in refs]
        # Each n-gram may match at most as often as the reference that has it most often.
        most = Counter()
        for ref in ref_words:
            most |= ngram_counts(ref, max_n)  # | keeps the larger count of each n-gram
        for gram, count in ngram_counts(words, max_n).items():
            totals[len(gram) - 1] += count
            matches[len(gram) - 1] += min(count, most[gram])
        hypothesis_length += len(words)
        reference_length += min((len(r) for r in ref_words),
                                key=lambda length: (abs(length - len(words)), length))

    if hypothesis_length < reference_length:
        brevity = math.exp(1 - reference_length / hypothesis_length) if hypothesis_length else 0.0
    else:
        brevity = 1.0
    if not any(matches):
        return 0.0
    log_precision, halvings = 0.0, 1.0
    for n in range(max_n):
        if totals[n] == 0:  # no n-grams this long at all: this and longer orders count as 0
            return 0.0
        if matches[n] == 0:
            halvings *= 2  # "exp" smoothing: 1/2, 1/4, ... of a match
            precision = 100.0 / (halvings * totals[n])
        else:
            precision = 100.0 * matches[n] / totals[n]
        log_precision += math.log(precision)
    return brevity * math.exp(log_precision / max_n)


def _tf_idf(counts: Counter, document_frequency: Counter, log_images: float, max_n: int):
    """One vector per order n: n-gram -> count * (log #images - log df), and its norm."""
    vectors = [{} for _ in range(max_n)]
    for gram, count in counts.items():
        df = max(1.0, document_frequency[gram])  # an n-gram no reference has counts as df 1
        vectors[len(gram) - 1][gram] = count * (log_images - math.log(df))
    norms = [math.sqrt(sum(w * w for w in v.values())) for v in vectors]
    return vectors, norms


def cider(hypotheses, references, max_n: int = 4, sigma: float = 6.0) -> float:
    """CIDEr-D over a corpus, as pycocoevalcap's ``Cider().compute_score`` computes it
    (its first return value): the mean over images of

        10 / (max_n * #refs) * sum over refs and n of
            exp(-(l_hyp - l_ref)^2 / (2 sigma^2)) * sum_g min(h_g, r_g) r_g / (|h| |r|)

    h, r: TF-IDF weights of the n-grams; idf = log(#images) - log(#images whose references
    contain the n-gram). l: a sentence's length in the toolkit's count, the number of its
    bigrams (one less than its words). A document frequency needs several images: with one
    image every weight is 0, and so is the score.
    """
    from mmkit.checks import check_int, check_positive

    _check_corpus(hypotheses, references)
    max_n = check_int(max_n, "max_n", minimum=1)
    sigma = check_positive(sigma, "sigma")
    hyp_counts = [ngram_counts(h.split(), max_n) for h in hypotheses]
    ref_counts = [[ngram_counts(r.split(), max_n) for r in refs] for refs in references]
    document_frequency = Counter()
    for refs in ref_counts:
        document_frequency.update({gram for counts in refs for gram in counts})
    log_images = math.log(len(hypotheses))

    def length(counts: Counter) -> int:
        return sum(c for gram, c in counts.items() if len(gram) == 2)

    scores = []
    for hyp, refs in zip(hyp_counts, ref_counts, strict=True):
        h_vectors, h_norms = _tf_idf(hyp, document_frequency, log_images, max_n)
        total = np.zeros(max_n)
        for ref in refs:
            r_vectors, r_norms = _tf_idf(ref, document_frequency, log_images, max_n)
            penalty = math.exp(-((length(hyp) - length(ref)) ** 2) / (2 * sigma**2))
            for n in range(max_n):
                overlap = sum(min(w, r_vectors[n].get(g, 0.0)) * r_vectors[n].get(g, 0.0)
                              for g, w in h_vectors[n].items())
                if h_norms[n] != 0 and r_norms[n] != 0:
                    overlap /= h_norms[n] * r_norms[n]
                total[n] += overlap * penalty
        scores.append(10.0 * total.mean() / len(refs))
    return float(np.mean(scores))
