"""Lesson 09 self-checks: inverse-frequency class weights, balanced accuracy, and the
distillation loss."""

from collections.abc import Callable

import numpy as np
import torch

from mmkit.exercises.feedback import Feedback, Wrong, call, call_any, number, run


def _close(a: torch.Tensor, b: torch.Tensor) -> bool:
    return a.shape == b.shape and torch.allclose(a.double(), b.double(), rtol=1e-5, atol=1e-7)


def check_class_weights(fn: Callable) -> Feedback:
    """Exercise: write ``class_weights(labels, num_classes)`` -> (num_classes,) weights.

    labels: (N,) int64 class indices. Each class c gets w_c = N / (C * n_c): the rarer the
    class, the larger its weight, and every class then weighs N / C in total.
    """
    from mmkit.data.rebalance import class_weights

    def checks() -> str:
        labels = torch.tensor([0] * 12 + [1] * 3 + [2] * 5)
        out = call(fn, labels.clone(), 3)
        counts = torch.bincount(labels).double()
        if out.shape != (3,):
            raise Wrong(f"output shape {tuple(out.shape)}, expected (3,): one weight per class")
        if _close(out, counts / len(labels)) or _close(out, counts):
            raise Wrong("gives the common class the largest weight: that is the frequency; "
                        "the weight is its inverse, N / (C * n_c)")
        if _close(out, 1 / counts):
            raise Wrong("the proportions are right but the scale is not: multiply 1 / n_c by "
                        "N / C, so that a balanced set gets weights of exactly 1")
        if _close(out, len(labels) / counts):
            raise Wrong("forgets to divide by the number of classes C: N / (C * n_c)")
        if not _close(out, class_weights(labels, 3)):
            raise Wrong("differs from N / (C * n_c) = "
                        f"{np.round(class_weights(labels, 3).numpy(), 4).tolist()}")

        shuffled = labels[torch.randperm(len(labels), generator=torch.Generator().manual_seed(0))]
        if not _close(call(fn, shuffled, 3), class_weights(labels, 3)):
            raise Wrong("depends on the order of the labels; count each class with "
                        "torch.bincount(labels, minlength=num_classes)")
        balanced = torch.tensor([1, 0, 1, 0])
        if not _close(call(fn, balanced, 2), torch.ones(2)):
            raise Wrong("a balanced set must give weights of exactly 1")
        return "correct: w_c = N / (C * n_c), equal to mmkit.data.class_weights"

    return run("inverse-frequency class weights", checks)


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


def check_distillation_loss(fn: Callable) -> Feedback:
    """Exercise: write ``distillation_loss(student_logits, teacher_logits, labels, T, alpha)``
    -> a 0-d tensor: alpha · T² · KL(softmax(teacher / T) ‖ softmax(student / T)), averaged
    over the batch, plus (1 − alpha) · cross-entropy(student, labels) (Hinton et al., 2015).
    """
    import torch.nn.functional as F

    def reference(s, t, y, temperature, alpha):
        soft = F.kl_div(F.log_softmax(s / temperature, 1), F.softmax(t / temperature, 1),
                        reduction="batchmean") * temperature**2
        return alpha * soft + (1 - alpha) * F.cross_entropy(s, y)

    def checks() -> str:
        g = torch.Generator().manual_seed(0)
        s, t = torch.randn(6, 4, generator=g) * 2, torch.randn(6, 4, generator=g) * 3
        y = torch.tensor([0, 1, 2, 3, 0, 1])
        got = number(call(fn, s.clone(), t.clone(), y.clone(), 4.0, 0.7), "the loss")
        want = float(reference(s, t, y, 4.0, 0.7))
        if abs(got - want) < 1e-5:
            pass
        elif abs(got - float(reference(s, t, y, 4.0, 0.7) - 0.7 * reference(s, t, y, 4.0, 1.0)
                              + 0.7 * reference(s, t, y, 4.0, 1.0) / 16)) < 1e-5:
            raise Wrong("the soft part is missing its factor T²: at temperature T its gradients "
                        "shrink by 1/T², so multiply the KL term by T² to keep its weight")
        elif abs(got - float(0.7 * F.kl_div(F.log_softmax(t / 4, 1), F.softmax(s / 4, 1),
                                            reduction="batchmean") * 16
                              + 0.3 * F.cross_entropy(s, y))) < 1e-5:
            raise Wrong("the KL is the wrong way round: the teacher's probabilities are the "
                        "target, F.kl_div(log_softmax(student / T), softmax(teacher / T))")
        elif abs(got - float(0.7 * F.kl_div(F.log_softmax(s / 4, 1), F.softmax(t, 1),
                                            reduction="batchmean") * 16
                              + 0.3 * F.cross_entropy(s, y))) < 1e-5:
            raise Wrong("the teacher's logits need the temperature too: softmax(teacher / T)")
        elif abs(got - float(reference(s, t, y, 4.0, 0.3))) < 1e-5:
            raise Wrong("alpha weighs the soft (teacher) part and 1 - alpha the labels; they "
                        "are swapped")
        else:
            raise Wrong(f"expected {want:.4f} for T = 4, alpha = 0.7; got {got:.4f}")
        if abs(number(call(fn, s, t, y, 1.0, 0.0), "the loss") - float(F.cross_entropy(s, y))) > 1e-5:
            raise Wrong("with alpha = 0 it must be the plain cross-entropy with the labels")
        if abs(number(call(fn, t.clone(), t.clone(), y, 2.0, 1.0), "the loss")) > 1e-5:
            raise Wrong("a student equal to its teacher, with alpha = 1, must have loss 0")
        return "correct: the teacher's softened probabilities as targets, T² times the KL"

    return run("distillation loss", checks)
