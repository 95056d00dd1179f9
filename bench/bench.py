"""Speed of autograd_lite against hand-written NumPy and PyTorch (CPU), side by side in one run.

(a) the tutorials' 2-2-2 sigmoid network, 10,000 steps of SGD: per-step overhead dominates.
(b) an MLP 784-1024-1024-10 with ReLU and softmax cross-entropy, float32, batch 256: the matrix
    products dominate, and the question is how much the engine adds to them.

Every variant computes the same maths from the same initial weights; the script checks that their
losses agree before it reports any time. Run with ``make bench`` or ``python bench/bench.py``;
``--quick`` runs fewer steps.
"""

from __future__ import annotations

import argparse
import platform
import time
from collections.abc import Callable

import numpy as np

from autograd_lite import Tensor, no_grad

try:
    import torch
except ImportError:  # PyTorch is optional: its column is left out
    torch = None

# ----- (a) the 2-2-2 worked example
X_222 = np.array([0.05, 0.10])
T_222 = np.array([0.01, 0.99])
W1_222 = np.array([[0.15, 0.20], [0.25, 0.30]])
W2_222 = np.array([[0.40, 0.45], [0.50, 0.55]])
B1_222, B2_222, LR_222 = 0.35, 0.60, 0.5


def tiny_autograd_lite() -> Callable[[], float]:
    w1 = Tensor(W1_222, requires_grad=True)
    w2 = Tensor(W2_222, requires_grad=True)

    def step() -> float:
        out_o = (w2 @ (w1 @ X_222 + B1_222).sigmoid() + B2_222).sigmoid()
        loss = (0.5 * (T_222 - out_o) ** 2).sum()
        w1.grad = w2.grad = None
        loss.backward()
        with no_grad():
            w1.data -= LR_222 * w1.grad
            w2.data -= LR_222 * w2.grad
        return loss.item()

    return step


def tiny_numpy() -> Callable[[], float]:
    w1, w2 = W1_222.copy(), W2_222.copy()

    def step() -> float:
        out_h = 1 / (1 + np.exp(-(w1 @ X_222 + B1_222)))
        out_o = 1 / (1 + np.exp(-(w2 @ out_h + B2_222)))
        loss = float(np.sum(0.5 * (T_222 - out_o) ** 2))
        delta_o = (out_o - T_222) * out_o * (1 - out_o)
        delta_h = (w2.T @ delta_o) * out_h * (1 - out_h)
        w2[:] -= LR_222 * np.outer(delta_o, out_h)
        w1[:] -= LR_222 * np.outer(delta_h, X_222)
        return loss

    return step


def tiny_torch() -> Callable[[], float]:
    x, t = torch.tensor(X_222), torch.tensor(T_222)
    w1 = torch.tensor(W1_222, requires_grad=True)
    w2 = torch.tensor(W2_222, requires_grad=True)
    opt = torch.optim.SGD([w1, w2], lr=LR_222)

    def step() -> float:
        out_o = torch.sigmoid(w2 @ torch.sigmoid(w1 @ x + B1_222) + B2_222)
        loss = (0.5 * (t - out_o) ** 2).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss.item()

    return step


# ----- (b) the MLP
SIZES = (784, 1024, 1024, 10)
BATCH, LR_MLP = 256, 0.01


def mlp_data() -> tuple[np.ndarray, np.ndarray, list[tuple[np.ndarray, np.ndarray]]]:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((BATCH, SIZES[0])).astype(np.float32)
    y = rng.integers(0, SIZES[-1], size=BATCH)
    layers = []
    for n_in, n_out in zip(SIZES[:-1], SIZES[1:], strict=True):
        bound = 1 / np.sqrt(n_in)
        w = rng.uniform(-bound, bound, (n_out, n_in)).astype(np.float32)
        b = rng.uniform(-bound, bound, n_out).astype(np.float32)
        layers.append((w, b))
    return x, y, layers


def mlp_autograd_lite() -> Callable[[], float]:
    x, y, layers = mlp_data()
    params = [(Tensor(w, requires_grad=True), Tensor(b, requires_grad=True)) for w, b in layers]
    flat = [p for pair in params for p in pair]
    rows = np.arange(BATCH)

    def step() -> float:
        h = Tensor(x)
        for i, (w, b) in enumerate(params):
            h = h @ w.T + b
            if i < len(params) - 1:
                h = h.relu()
        loss = -h.log_softmax(axis=1)[rows, y].mean()
        for p in flat:
            p.grad = None
        loss.backward()
        with no_grad():
            for p in flat:
                p.data -= LR_MLP * p.grad
        return loss.item()

    return step


def mlp_numpy() -> Callable[[], float]:
    x, y, layers = mlp_data()
    rows = np.arange(BATCH)

    def step() -> float:
        activations, pre = [x], []
        for i, (w, b) in enumerate(layers):
            z = activations[-1] @ w.T + b
            pre.append(z)
            activations.append(np.maximum(z, 0) if i < len(layers) - 1 else z)
        logits = activations[-1]
        shifted = logits - logits.max(axis=1, keepdims=True)
        log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        loss = -log_probs[rows, y].mean()
        grad = np.exp(log_probs)
        grad[rows, y] -= 1
        grad /= BATCH
        for i in reversed(range(len(layers))):
            w, b = layers[i]
            grad_w, grad_b = grad.T @ activations[i], grad.sum(axis=0)
            if i > 0:
                grad = (grad @ w) * (pre[i - 1] > 0)
            w -= LR_MLP * grad_w
            b -= LR_MLP * grad_b
        return float(loss)

    return step


def mlp_torch() -> Callable[[], float]:
    x, y, layers = mlp_data()
    x, y = torch.from_numpy(x), torch.from_numpy(y)
    model = torch.nn.Sequential(
        torch.nn.Linear(784, 1024), torch.nn.ReLU(), torch.nn.Linear(1024, 1024), torch.nn.ReLU(),
        torch.nn.Linear(1024, 10),
    )  # fmt: skip
    with torch.no_grad():
        for layer, (w, b) in zip(model[::2], layers, strict=True):
            layer.weight.copy_(torch.from_numpy(w))
            layer.bias.copy_(torch.from_numpy(b))
    opt = torch.optim.SGD(model.parameters(), lr=LR_MLP)
    loss_fn = torch.nn.CrossEntropyLoss()

    def step() -> float:
        loss = loss_fn(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss.item()

    return step


# ----- timing
def compare(title: str, variants: dict, steps: int, rounds: int, rtol: float) -> dict[str, float]:
    """Time each variant's step side by side; seconds per step for each.

    The variants take turns in ``rounds`` rounds of ``steps // rounds`` steps (after one untimed
    round of warm-up), and each keeps its fastest round, so that a burst of load from elsewhere on
    the machine slows one round, not one variant. The order turns each round: PyTorch's worker
    threads keep spinning for a while after its step and slow whatever runs next (by about 15% on
    the MLP here), so no variant may always come right after it.
    """
    per_round = max(1, steps // rounds)
    print(f"\n{title}: {per_round * rounds:,} steps each, in {rounds} interleaved rounds")
    step_fns = {name: make() for name, make in variants.items()}
    losses = {name: [step() for _ in range(per_round)] for name, step in step_fns.items()}
    best = dict.fromkeys(step_fns, float("inf"))
    names = list(step_fns)
    for round_number in range(rounds):
        shift = round_number % len(names)
        for name in names[shift:] + names[:shift]:
            step = step_fns[name]
            start = time.perf_counter()
            losses[name] += [step() for _ in range(per_round)]
            best[name] = min(best[name], (time.perf_counter() - start) / per_round)
    reference = losses["numpy (hand)"]
    for name, seen in losses.items():
        if not np.allclose(seen, reference, rtol=rtol, atol=1e-7):
            raise SystemExit(f"{name} computed different losses than hand-written NumPy: not timed")
    for name, seconds in best.items():
        print(f"  {name:<14} {seconds * 1e6:12.1f} µs/step   final loss {losses[name][-1]:.7g}")
    for name in best:
        if name != "autograd_lite":
            print(f"  autograd_lite / {name:<14} = {best['autograd_lite'] / best[name]:.2f}x")
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer steps, for a smoke run")
    args = parser.parse_args()
    print(f"{time.strftime('%Y-%m-%d')}  {platform.machine()}  {platform.processor() or ''}"
          f"  Python {platform.python_version()}  NumPy {np.__version__}"
          f"  PyTorch {torch.__version__ if torch else 'not installed'}")  # fmt: skip
    tiny = {"autograd_lite": tiny_autograd_lite, "numpy (hand)": tiny_numpy}
    mlp = {"autograd_lite": mlp_autograd_lite, "numpy (hand)": mlp_numpy}
    if torch is not None:
        torch.set_num_threads(max(1, torch.get_num_threads()))
        tiny["pytorch"] = tiny_torch
        mlp["pytorch"] = mlp_torch
    compare("(a) 2-2-2 sigmoid, SGD", tiny, 1_000 if args.quick else 10_000, 10, rtol=1e-9)
    compare("(b) MLP 784-1024-1024-10, float32, batch 256", mlp, 3 if args.quick else 60, 20, 1e-4)


if __name__ == "__main__":
    main()
