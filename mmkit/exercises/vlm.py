"""Lesson 13 self-checks: the causal mask, top-p filtering and CHAIR by hand."""

from collections.abc import Callable

import torch

from mmkit.exercises.feedback import Feedback, Wrong, call, call_any, number, run


def check_causal_mask(fn: Callable) -> Feedback:
    """Exercise: write ``causal_mask(n)`` -> (n, n) bool tensor, True where query i may
    attend to key j: itself and every earlier position (j <= i). Checked against
    PyTorch's ``nn.Transformer.generate_square_subsequent_mask`` (-inf where not allowed)."""

    def checks() -> str:
        for n in (5, 2, 9, 1):
            out = call(fn, n)
            if out.shape != (n, n):
                raise Wrong(f"causal_mask({n}) has shape {tuple(out.shape)}, expected ({n}, {n})")
            if out.dtype != torch.bool:
                raise Wrong(f"must return a bool tensor (True = may attend), got {out.dtype}; "
                            "compare with >= or use .bool()")
            allowed = torch.nn.Transformer.generate_square_subsequent_mask(n) == 0
            if torch.equal(out, allowed):
                continue
            if torch.equal(out, allowed.T):
                raise Wrong("the upper triangle: query i would see the future keys j > i. "
                            "Row i is the query; keep j <= i (torch.tril)")
            if torch.equal(out, allowed & ~torch.eye(n, dtype=torch.bool)):
                raise Wrong("the diagonal is False: a position must attend to itself, or the "
                            "first one attends to nothing (softmax of all -inf is NaN)")
            if torch.equal(out, ~allowed):
                raise Wrong("True and False are swapped: True must mark what may be attended")
            raise Wrong(f"causal_mask({n}) differs from the causal mask:\n{out.int()}")
        return "correct: equal to nn.Transformer.generate_square_subsequent_mask(n) == 0"

    return run("causal mask", checks)


def _reference_top_p(probabilities: torch.Tensor, p: float) -> torch.Tensor:
    from mmkit.vlm.decoding import next_token_probabilities

    return next_token_probabilities(probabilities.log(), top_p=p)


def check_top_p(fn: Callable) -> Feedback:
    """Exercise: write ``top_p_filter(probabilities, p)``: probabilities (V,) sum to 1; keep
    the most likely tokens, most likely first, up to and including the one that brings
    their total to at least p; set the rest to 0 and renormalise. Checked against
    ``mmkit.vlm.next_token_probabilities(logits, top_p=p)``."""

    cases = [
        (torch.tensor([0.5, 0.2, 0.2, 0.1]), 0.6),  # 0.5 is not enough: 0.5 + 0.2 crosses
        (torch.tensor([0.1, 0.6, 0.05, 0.25]), 0.8),  # unsorted: keep 0.6 and 0.25
        (torch.tensor([0.7, 0.2, 0.1]), 0.5),  # the first token alone is enough
        (torch.tensor([0.25, 0.25, 0.25, 0.25]), 1.0),  # p = 1 keeps everything
        (torch.tensor([0.05, 0.05, 0.3, 0.6]), 0.9),
    ]

    def checks() -> str:
        for probabilities, p in cases:
            out = call(fn, probabilities.clone(), p).double()
            expected = _reference_top_p(probabilities.double(), p)
            if out.shape != probabilities.shape:
                raise Wrong(f"returned shape {tuple(out.shape)}, expected "
                            f"{tuple(probabilities.shape)}: one probability per token, in "
                            "the original order (0 for the tokens left out)")
            if torch.allclose(out, expected, atol=1e-6):
                continue
            kept = expected > 0
            if (torch.allclose(out * kept, probabilities.double() * kept, atol=1e-6)
                    and float((out * ~kept).abs().max()) < 1e-9):
                raise Wrong(f"p={p}: the kept probabilities are not renormalised: divide by "
                            "their sum so they add up to 1")
            if abs(float(out.sum()) - 1) < 1e-6 and int((out > 0).sum()) < int(kept.sum()):
                raise Wrong(f"p={p}, probabilities {probabilities.tolist()}: too few kept; "
                            "keep the token that brings the total to p too (stop once the "
                            "mass before a token is already >= p)")
            if torch.allclose(out, expected.sort(descending=True).values, atol=1e-6):
                raise Wrong("returned in sorted order: put each probability back at its "
                            "token's place")
            raise Wrong(f"p={p}, probabilities {probabilities.tolist()}: got "
                        f"{[round(v, 4) for v in out.tolist()]}, expected "
                        f"{[round(v, 4) for v in expected.tolist()]}")
        return f"correct on all {len(cases)} cases, as mmkit.vlm.next_token_probabilities"

    return run("top-p filtering", checks)


def check_chair(fn: Callable) -> Feedback:
    """Exercise: write ``chair_i(caption, objects)``: objects is the scene's list of
    (colour, shape) pairs; return the share of the caption's object mentions (a colour
    word followed by a shape word) that name a pair not in the scene. Checked against
    ``mmkit.metrics.chair``."""
    from mmkit.metrics import chair

    scene = [("red", "circle"), ("blue", "square")]
    cases = [
        ("a small red circle left of a large blue square", scene),
        ("a small red circle above a large green square", scene),
        ("a large blue circle and a small red square and a small red circle", scene),
        ("a large green triangle", scene),
        ("a small blue square left of a small red circle", [("red", "circle"),
                                                           ("blue", "square"),
                                                           ("green", "triangle")]),
    ]

    def checks() -> str:
        for caption, objects in cases:
            out = number(call_any(fn, caption, list(objects)), "chair_i")
            expected = chair([caption], [objects])["chair_i"]
            if abs(out - expected) < 1e-9:
                continue
            words = caption.split()
            shapes = [w for w in words if w in ("circle", "square", "triangle")]
            missed = sum(1 for o in objects if f"{o[0]} {o[1]}" not in caption) / len(objects)
            if abs(out - missed) < 1e-9 and abs(missed - expected) > 1e-9:
                raise Wrong(f"'{caption}': counts the scene's objects the caption misses; "
                            "CHAIR counts the caption's mentions that are not in the scene")
            by_shape = sum(1 for s in shapes if all(s != o[1] for o in objects)) / len(shapes)
            if abs(out - by_shape) < 1e-9:
                raise Wrong(f"'{caption}': matches the shape only; a mention is the pair "
                            "(colour, shape), and a blue circle is not the red circle")
            raise Wrong(f"'{caption}' in a scene of {objects}: got {out:.3f}, expected "
                        f"{expected:.3f}")
        return f"correct on all {len(cases)} captions, as mmkit.metrics.chair"

    return run("CHAIR-i by hand", checks)
