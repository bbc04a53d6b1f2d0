"""Lesson 09 self-checks: effective-number class weights, balanced accuracy, and distillation
at high temperature (logit matching)."""

from collections.abc import Callable

import numpy as np
import torch

from mmkit.exercises.feedback import Feedback, Wrong, call, call_any, number, run


def _close(a: torch.Tensor, b: torch.Tensor) -> bool:
    return a.shape == b.shape and torch.allclose(a.double(), b.double(), rtol=1e-5, atol=1e-7)


def check_effective_number_weights(fn: Callable) -> Feedback:
    """Exercise: write ``effective_number_weights(labels, num_classes, beta)`` -> (C,) weights.

    Cui et al. (2019): n samples of a class hold fewer than n samples' worth of information,
    because new ones overlap the old; the *effective number* is E_n = (1 - beta^n) / (1 - beta)
    for a beta in [0, 1). Each class c gets w_c proportional to 1 / E_{n_c}, scaled so that
    the weights sum to C. beta = 0 gives every class weight 1; as beta -> 1, E_n -> n and the
    weights become the inverse-frequency weights N / (C * n_c) (scaled to sum to C).
    """
    from mmkit.data.rebalance import class_weights

    def reference(labels, num_classes, beta):
        counts = torch.bincount(labels, minlength=num_classes).double()
        raw = (1 - beta) / (1 - beta**counts)
        return raw * num_classes / raw.sum()

    def checks() -> str:
        labels = torch.tensor([0] * 12 + [1] * 3 + [2] * 5)
        beta = 0.9
        out = call(fn, labels.clone(), 3, beta)
        want = reference(labels, 3, beta)
        counts = torch.bincount(labels).double()
        if out.shape != (3,):
            raise Wrong(f"output shape {tuple(out.shape)}, expected (3,): one weight per class")
        raw = (1 - beta) / (1 - beta**counts)
        if _close(out, raw):
            raise Wrong("right proportions, but scale the weights so that they sum to C "
                        "(the number of classes): w * C / w.sum()")
        if _close(out, raw / raw.sum()):
            raise Wrong("the weights sum to 1; scale them to sum to C, so that a balanced set "
                        "keeps weights of 1")
        effective = (1 - beta**counts) / (1 - beta)
        if _close(out, effective * 3 / effective.sum()):
            raise Wrong("gives the common class the largest weight: the weight is the "
                        "*inverse* of the effective number, 1 / E_n")
        if _close(out, class_weights(labels, 3)):
            raise Wrong("that is the inverse frequency N / (C * n_c), the limit beta -> 1; "
                        "use the effective number E_n = (1 - beta^n) / (1 - beta)")
        if not _close(out, want):
            raise Wrong(f"for beta = {beta} and counts {counts.long().tolist()} expected "
                        f"{np.round(want.numpy(), 4).tolist()}, got "
                        f"{np.round(out.detach().double().numpy(), 4).tolist()}")
        shuffled = labels[torch.randperm(len(labels), generator=torch.Generator().manual_seed(0))]
        if not _close(call(fn, shuffled, 3, beta), want):
            raise Wrong("depends on the order of the labels; count each class with "
                        "torch.bincount(labels, minlength=num_classes)")
        if not _close(call(fn, labels.clone(), 3, 0.0), torch.ones(3)):
            raise Wrong("with beta = 0 every class must get weight 1 (E_n = 1: one sample says "
                        "it all)")
        inverse = class_weights(labels, 3).double()
        near_one = call(fn, labels.clone(), 3, 0.99999).detach().double()
        if not torch.allclose(near_one, inverse * 3 / inverse.sum(), rtol=1e-3):
            raise Wrong("as beta -> 1 the weights must approach the inverse frequency "
                        "(scaled to sum to C); at beta = 0.99999 they do not")
        rare = reference(torch.tensor([0] * 727 + [1] * 73), 2, 0.99)
        return ("correct: w_c ∝ (1 - β) / (1 - β^n_c), summing to C; for the lesson's 727 small "
                f"and 73 large shapes and β = 0.99: {rare[0]:.3f} and {rare[1]:.3f} (inverse "
                "frequency, scaled the same way: "
                f"{2 * 73 / 800:.3f} and {2 * 727 / 800:.3f})")

    return run("effective-number class weights", checks)


def check_balanced_accuracy(fn: Callable) -> Feedback:
    """Exercise: write ``balanced_accuracy(y_true, y_pred)`` -> one number.

    y_true, y_pred: (N,) int64 class indices. Balanced accuracy (平衡准确率) is the mean over
    the classes of each class's recall, TP_c / (number of samples of class c).
    """
    from mmkit.metrics import accuracy_score, balanced_accuracy_score, precision_score

    def checks() -> str:
        # 18 of class 0, 2 of class 1: predicting "0" for everything is 90 % accurate.
        y_true = torch.tensor([0] * 18 + [1] * 2)
        y_pred = torch.zeros(20, dtype=torch.long)
        y_pred[[3, 4, 19]] = 1  # two false alarms, one of the two minority samples found
        out = number(call_any(fn, y_true.clone(), y_pred.clone()))
        expected = balanced_accuracy_score(y_true.numpy(), y_pred.numpy())
        if abs(out - accuracy_score(y_true.numpy(), y_pred.numpy())) < 1e-6:
            raise Wrong("that is plain accuracy, which the majority class dominates; take the "
                        "recall of each class, then their mean")
        precision = precision_score(y_true.numpy(), y_pred.numpy(), average="macro")
        if abs(out - precision) < 1e-6:
            raise Wrong("averages precision (correct among the predicted c); balanced accuracy "
                        "averages recall: correct among the samples that truly are c")
        if abs(out - expected) > 1e-6:
            raise Wrong(f"got {out:.4f}, expected {expected:.4f}: recall of class 0 = 16/18, "
                        "of class 1 = 1/2, and their mean")

        rng = np.random.default_rng(0)
        for _ in range(20):
            true = rng.integers(3, size=30)
            true[:3] = [0, 1, 2]  # every class present
            pred = rng.integers(3, size=30)
            out = number(call_any(fn, torch.from_numpy(true), torch.from_numpy(pred)))
            if abs(out - balanced_accuracy_score(true, pred)) > 1e-6:
                raise Wrong("right on two classes but wrong on three: average the recall over "
                            "every class present in y_true")
        return "correct: the mean of the per-class recalls, equal to mmkit.metrics"

    return run("balanced accuracy", checks)


def check_logit_matching(fn: Callable) -> Feedback:
    """Exercise: write ``logit_matching_loss(student_logits, teacher_logits)`` -> a 0-d tensor.

    Hinton et al. (2015, section 2.1): as the temperature T grows, the soft part of the
    distillation loss, T² · KL(softmax(teacher / T) ‖ softmax(student / T)), turns into
    matching the logits: (1 / 2K) · Σ_k (s_k − t_k)², K classes, where each row's logits are
    first centred (their mean over the K classes subtracted: softmax ignores a constant
    added to a row). Averaged over the batch. Checked against T² · KL at T = 1000.
    """
    import torch.nn.functional as F

    def soft_part(s, t, temperature):
        s, t = s.double(), t.double()
        return float(F.kl_div(F.log_softmax(s / temperature, 1), F.softmax(t / temperature, 1),
                              reduction="batchmean") * temperature**2)

    def centred(x):
        return x.double() - x.double().mean(dim=1, keepdim=True)

    def checks() -> str:
        g = torch.Generator().manual_seed(0)
        s, t = torch.randn(6, 4, generator=g) * 2, torch.randn(6, 4, generator=g) * 3
        shift = torch.randn(6, 1, generator=g) * 5  # a constant per row: softmax ignores it
        out = call(fn, s.clone(), t + shift)
        if out.dim() != 0 and out.numel() != 1:
            raise Wrong(f"returned shape {tuple(out.shape)}: return one number, the mean over "
                        "the batch")
        got = number(out, "the loss")
        limit = soft_part(s, t, 1000.0)  # T² · KL, nearly at its limit
        squared = ((centred(s) - centred(t)) ** 2).sum(dim=1)
        if abs(got - limit) <= 1e-3 * abs(limit):
            pass
        elif abs(got - float(((s.double() - (t + shift).double()) ** 2).sum(1).mean()) / 8) < 1e-4:
            raise Wrong("the logits are not centred: subtract each row's mean first (here the "
                        "teacher's rows were shifted by a constant, which changes no probability)")
        elif abs(got - float(squared.mean())) < 1e-4:
            raise Wrong("missing the factor 1 / (2K): (1 / 2K) · Σ_k (s_k − t_k)², K classes")
        elif abs(got - float(squared.mean()) / 2) < 1e-4:
            raise Wrong("missing the 1 / K: (1 / 2K) · Σ_k (s_k − t_k)², K classes")
        elif abs(got - float(squared.sum()) / 8) < 1e-4:
            raise Wrong("sums over the batch: take the mean over the samples")
        elif abs(got - float(((centred(s) - centred(t)) ** 2).mean())) < 1e-4:
            raise Wrong("the mean over the classes is 1 / K; the limit has 1 / (2K)")
        else:
            raise Wrong(f"expected about {limit:.4f} (T² · KL at T = 1000), got {got:.4f}")
        if abs(number(call(fn, t.clone(), t.clone()), "the loss")) > 1e-5:
            raise Wrong("a student equal to its teacher must have loss 0")
        return ("correct: the limit of T² · KL; here T² · KL is "
                f"{soft_part(s, t, 2.0):.2f} at T = 2, {soft_part(s, t, 10.0):.2f} at T = 10 and "
                f"{limit:.2f} at T = 1000, your loss {got:.2f}")

    return run("distillation at high temperature", checks)
