"""Train a widget's default model in about a second: a few Adam steps on random minibatches.

Written out rather than calling mmkit.train.fit because the first use of torch.optim
imports torch._dynamo, which alone takes longer than this whole training run — and an
explorer opened with no arguments should appear at once.
"""

import contextlib

import torch


@contextlib.contextmanager
def one_thread():
    """Tiny models spend their time handing work between threads; one is faster, and much
    faster on a busy shared machine. The caller's setting is restored afterwards."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def adam_step(p, g, m, v, step, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    """One Adam update of parameter p with gradient g, moments m and v, in place."""
    m.mul_(beta1).add_(g, alpha=1 - beta1)
    v.mul_(beta2).addcmul_(g, g, value=1 - beta2)
    m_hat, v_hat = m / (1 - beta1**step), v / (1 - beta2**step)
    p.sub_(lr * m_hat / (v_hat.sqrt() + eps))


def quick_train(model, data: dict, steps: int, lr: float = 1e-2, batch_size: int = 64,
                seed: int = 0):
    """``steps`` Adam steps of cross-entropy on minibatches drawn from ``data`` (a dict of
    tensors with a "label" entry); seeded, on one thread. Returns the model in eval mode."""
    generator = torch.Generator().manual_seed(seed)
    params = list(model.parameters())
    moments = [(torch.zeros_like(p), torch.zeros_like(p)) for p in params]
    with one_thread():
        for step in range(1, steps + 1):
            rows = torch.randint(len(data["label"]), (batch_size,), generator=generator)
            batch = {key: value[rows] for key, value in data.items()}
            loss = torch.nn.functional.cross_entropy(model(batch), batch["label"])
            grads = torch.autograd.grad(loss, params)
            with torch.no_grad():
                for p, g, (m, v) in zip(params, grads, moments, strict=True):
                    adam_step(p, g, m, v, step, lr)
    return model.eval()
