"""Speed of autograd_lite against hand-written NumPy and PyTorch (CPU), side by side in one run.

(a) the tutorials' 2-2-2 sigmoid network, 10,000 steps of SGD: per-step overhead dominates
    (also against micrograd, where it is installed: ``pip install micrograd==0.1.0``).
(b) an MLP 784-1024-1024-10 with ReLU and softmax cross-entropy, float32, batch 256: the matrix
    products dominate, and the question is how much the engine adds to them.
(c) the digits-sized MLP 64-128-10, batch 64: in between; (c') the same network written with
    ``nn`` (``Linear``, ``ReLU``, ``CrossEntropyLoss``, ``optim.SGD``), as the PyTorch variant is.
(d) one small operation with grad (2×2 ``a * b``), forward and backward.
(e) a chain of 100,000 operations, forward and backward, with Python's garbage collector on, in a
    fresh process that imports only NumPy and autograd_lite (chain.py), and beside PyTorch here.
(f) the 2-2-2 step inside ``detect_anomaly()`` against the plain step.

Every variant computes the same maths from the same initial weights, on one thread (NumPy's
OpenBLAS and PyTorch alike; ``BENCH_THREADS=N`` for N), and the script checks that their losses
agree before it reports any time. Inputs and targets are made Tensors once, outside the
step, as the PyTorch variants make theirs and the hand-written NumPy uses its arrays as they are
(``Tensor(array)`` copies, as ``torch.tensor`` does: inside the step, that copy was 4% of the big
MLP's forward pass). Run with ``make bench`` or ``python bench/bench.py``;
``--quick`` runs fewer steps. The figures also go to ``bench/results.json`` (``--json PATH``), from
which ``--markdown`` prints the README's table.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import time
import warnings
from collections.abc import Callable

# One thread, as the goals are stated: set before NumPy and PyTorch load their thread pools
# (OpenBLAS reads these once). With two, OpenBLAS's threads cost small products more than they
# save, and PyTorch's keep spinning after its step and slow whatever runs next on this machine's
# two cores. BENCH_THREADS=N measures with N instead; the header line says which.
THREADS = os.environ.get("BENCH_THREADS", "1")
for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = THREADS

import numpy as np  # noqa: E402
from chain import chain  # noqa: E402

import autograd_lite  # noqa: E402
from autograd_lite import Tensor, detect_anomaly, no_grad  # noqa: E402

try:
    import torch
except ImportError:  # PyTorch is optional: its column is left out
    torch = None
try:
    from micrograd.engine import Value as MicrogradValue
except ImportError:  # micrograd too
    MicrogradValue = None

# ----- (a) the 2-2-2 worked example
X_222 = np.array([0.05, 0.10])
T_222 = np.array([0.01, 0.99])
W1_222 = np.array([[0.15, 0.20], [0.25, 0.30]])
W2_222 = np.array([[0.40, 0.45], [0.50, 0.55]])
B1_222, B2_222, LR_222 = 0.35, 0.60, 0.5


def tiny_autograd_lite(compiled: bool = False) -> Callable[[], float]:
    w1 = Tensor(W1_222, requires_grad=True)
    w2 = Tensor(W2_222, requires_grad=True)

    x, t = Tensor(X_222), Tensor(T_222)  # made once, as the PyTorch variant's are

    def error(x: Tensor, target: Tensor) -> Tensor:
        out_o = (w2 @ (w1 @ x + B1_222).sigmoid() + B2_222).sigmoid()
        return (0.5 * (target - out_o) ** 2).sum()

    loss_fn = autograd_lite.compile(error) if compiled else error

    def step() -> float:
        loss = loss_fn(x, t)
        w1.grad = w2.grad = None
        loss.backward()
        with no_grad():
            w1.sub_(LR_222 * w1.grad)
            w2.sub_(LR_222 * w2.grad)
        return loss.item()

    return step


def tiny_autograd_lite_anomaly() -> Callable[[], float]:
    step = tiny_autograd_lite()

    def checked_step() -> float:
        with detect_anomaly():
            return step()

    return checked_step


def tiny_micrograd() -> Callable[[], float]:
    """The same step on micrograd's scalar ``Value``s; micrograd 0.1.0 has no exp, so one is
    added in micrograd's own style (value, children, a closure that adds the local derivative)."""

    def exp(self: MicrogradValue) -> MicrogradValue:
        out = MicrogradValue(math.exp(self.data), (self,), "exp")

        def _backward() -> None:
            self.grad += out.data * out.grad

        out._backward = _backward
        return out

    MicrogradValue.exp = exp
    w1 = [[MicrogradValue(float(v)) for v in row] for row in W1_222]
    w2 = [[MicrogradValue(float(v)) for v in row] for row in W2_222]
    params = [v for row in w1 + w2 for v in row]

    def sigmoid(v: MicrogradValue) -> MicrogradValue:
        return (1 + (-v).exp()) ** -1

    def step() -> float:
        x1, x2 = (float(v) for v in X_222)
        out_h = [sigmoid(row[0] * x1 + row[1] * x2 + B1_222) for row in w1]
        out_o = [sigmoid(row[0] * out_h[0] + row[1] * out_h[1] + B2_222) for row in w2]
        loss = sum((0.5 * (float(t) - o) ** 2 for t, o in zip(T_222, out_o, strict=True)), 0.0)
        for p in params:
            p.grad = 0.0
        loss.backward()
        for p in params:
            p.data -= LR_222 * p.grad
        return loss.data

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


# ----- (b), (c) MLPs
MLP_BIG = ((784, 1024, 1024, 10), 256)
MLP_DIGITS = ((64, 128, 10), 64)
LR_MLP = 0.01


def mlp_data(shape: tuple) -> tuple[np.ndarray, np.ndarray, list[tuple[np.ndarray, np.ndarray]]]:
    sizes, batch = shape
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch, sizes[0])).astype(np.float32)
    y = rng.integers(0, sizes[-1], size=batch)
    layers = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True):
        bound = 1 / np.sqrt(n_in)
        w = rng.uniform(-bound, bound, (n_out, n_in)).astype(np.float32)
        b = rng.uniform(-bound, bound, n_out).astype(np.float32)
        layers.append((w, b))
    return x, y, layers


def mlp_autograd_lite(shape: tuple, compiled: bool = False) -> Callable[[], float]:
    x, y, layers = mlp_data(shape)
    params = [(Tensor(w, requires_grad=True), Tensor(b, requires_grad=True)) for w, b in layers]
    flat = [p for pair in params for p in pair]
    rows = np.arange(len(x))
    batch_tensor = Tensor(x)  # made once, as the PyTorch variant's from_numpy (Tensor(x) copies)

    def cross_entropy(batch: Tensor, labels: np.ndarray) -> Tensor:
        h = batch
        for i, (w, b) in enumerate(params):
            h = h @ w.T + b
            if i < len(params) - 1:
                h = h.relu()
        return -h.log_softmax(axis=1)[rows, labels].mean()

    loss_fn = autograd_lite.compile(cross_entropy) if compiled else cross_entropy

    def step() -> float:
        loss = loss_fn(batch_tensor, y)
        for p in flat:
            p.grad = None
        loss.backward()
        with no_grad():
            for p in flat:
                p.sub_(LR_MLP * p.grad)
        return loss.item()

    return step


def mlp_nn(shape: tuple, compiled: bool = False) -> Callable[[], float]:
    """The MLP as a user of ``nn`` writes it, as the PyTorch variant is written: ``nn.Linear``
    layers, ``nn.CrossEntropyLoss``, ``nn.optim.SGD``."""
    import nn

    x, y, layers = mlp_data(shape)
    modules: list = []
    for w, _ in layers:
        modules += [nn.Linear(w.shape[1], w.shape[0], dtype=np.float32), nn.ReLU()]
    model = nn.Sequential(*modules[:-1])
    for layer, (w, b) in zip(list(model)[::2], layers, strict=True):
        layer.weight.data[...] = w
        layer.bias.data[...] = b
    opt = nn.optim.SGD(model.parameters(), lr=LR_MLP)
    criterion = nn.CrossEntropyLoss()
    batch_tensor = Tensor(x)  # made once, as in mlp_autograd_lite

    def loss_of(batch: Tensor, labels: np.ndarray) -> Tensor:
        return criterion(model(batch), labels)

    loss_fn = autograd_lite.compile(loss_of) if compiled else loss_of

    def step() -> float:
        loss = loss_fn(batch_tensor, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss.item()

    return step


def mlp_numpy(shape: tuple) -> Callable[[], float]:
    x, y, layers = mlp_data(shape)
    rows = np.arange(len(x))

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
        grad /= len(x)
        for i in reversed(range(len(layers))):
            w, b = layers[i]
            grad_w, grad_b = grad.T @ activations[i], grad.sum(axis=0)
            if i > 0:
                grad = (grad @ w) * (pre[i - 1] > 0)
            w -= LR_MLP * grad_w
            b -= LR_MLP * grad_b
        return float(loss)

    return step


def mlp_torch(shape: tuple) -> Callable[[], float]:
    x, y, layers = mlp_data(shape)
    x, y = torch.from_numpy(x), torch.from_numpy(y)
    modules: list = []
    for w, _ in layers:
        modules += [torch.nn.Linear(w.shape[1], w.shape[0]), torch.nn.ReLU()]
    model = torch.nn.Sequential(*modules[:-1])
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


# ----- (d) one small operation, (e) a long chain
def small_op_autograd_lite() -> Callable[[], float]:
    a = Tensor(np.full((2, 2), 1.5), requires_grad=True)
    b = Tensor(np.full((2, 2), 0.5), requires_grad=True)
    ones = np.ones((2, 2))

    def step() -> float:
        a.grad = b.grad = None
        (a * b).backward(ones)
        return float(a.grad[0, 0])

    return step


def small_op_numpy() -> Callable[[], float]:
    a, b, ones = np.full((2, 2), 1.5), np.full((2, 2), 0.5), np.ones((2, 2))

    def step() -> float:
        c = a * b  # noqa: F841 - the forward pass, kept for a fair comparison
        grad_a, grad_b = ones * b, ones * a  # noqa: F841
        return float(grad_a[0, 0])

    return step


def small_op_torch() -> Callable[[], float]:
    a = torch.full((2, 2), 1.5, dtype=torch.float64, requires_grad=True)
    b = torch.full((2, 2), 0.5, dtype=torch.float64, requires_grad=True)
    ones = torch.ones((2, 2), dtype=torch.float64)

    def step() -> float:
        a.grad = b.grad = None
        (a * b).backward(ones)
        return float(a.grad[0, 0])

    return step


def chains(length: int, rounds: int) -> dict[str, float]:
    """(e): the chain of chain.py in a fresh process that imports only NumPy and autograd_lite,
    and in this one, beside PyTorch's objects (seconds per operation)."""
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "chain.py")
    fresh = subprocess.run(
        [sys.executable, script, str(length), str(rounds)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    figures = json.loads(fresh.stdout)
    beside = chain(length, rounds)
    figures["beside_pytorch"] = beside["total"]
    print(f"\n(e) chain of {length:,} operations, garbage collector on, best of {rounds}")
    for part in ("forward", "backward", "total"):
        print(f"  {part:<9} {figures[part] * 1e6:8.2f} µs/operation")
    print(f"  in this process, beside PyTorch's objects: {beside['total'] * 1e6:.2f} µs/operation")
    return figures


# ----- timing
def compare(title: str, variants: dict, steps: int, rounds: int, rtol: float) -> dict[str, float]:
    """Time each variant's step side by side; seconds per step for each.

    The variants take turns in ``rounds`` rounds of ``steps // rounds`` steps (after one untimed
    round of warm-up), and each keeps its fastest round, so that a burst of load from elsewhere on
    the machine slows one round, not one variant. The order turns each round: with more than one
    thread, PyTorch's worker threads keep spinning for a while after its step and slow whatever
    runs next (by about 15% on the MLP here), so no variant may always come right after it.
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
    parser.add_argument("--json", default=os.path.join(os.path.dirname(__file__), "results.json"))
    parser.add_argument(
        "--markdown", action="store_true", help="print the README table from --json"
    )
    args = parser.parse_args()
    # A compiled variant that fell back to eager mode would be timed as eager: refuse to go on.
    warnings.filterwarnings("error", message="compile", category=RuntimeWarning)
    if args.markdown:
        print(markdown_table(args.json))
        return
    machine = (
        f"{cpu_model()}, {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, NumPy {np.__version__}, PyTorch "
        f"{torch.__version__ if torch else 'not installed'}, {THREADS} thread"
        f"{'' if THREADS == '1' else 's'}"
    )
    print(f"{time.strftime('%Y-%m-%d')}  {machine}")
    quick = args.quick
    results: dict = {"date": time.strftime("%Y-%m-%d"), "machine": machine, "quick": quick}

    tiny = {
        "autograd_lite": tiny_autograd_lite,
        "compiled": lambda: tiny_autograd_lite(compiled=True),
        "numpy (hand)": tiny_numpy,
    }
    big = {
        "autograd_lite": lambda: mlp_autograd_lite(MLP_BIG),
        "compiled": lambda: mlp_autograd_lite(MLP_BIG, compiled=True),
        "numpy (hand)": lambda: mlp_numpy(MLP_BIG),
    }
    digits = {
        "autograd_lite": lambda: mlp_autograd_lite(MLP_DIGITS),
        "compiled": lambda: mlp_autograd_lite(MLP_DIGITS, compiled=True),
        "numpy (hand)": lambda: mlp_numpy(MLP_DIGITS),
    }
    digits_nn = {
        "autograd_lite": lambda: mlp_nn(MLP_DIGITS),
        "compiled": lambda: mlp_nn(MLP_DIGITS, compiled=True),
        "numpy (hand)": lambda: mlp_numpy(MLP_DIGITS),
    }
    small = {"autograd_lite": small_op_autograd_lite, "numpy (hand)": small_op_numpy}
    if MicrogradValue is not None:
        tiny["micrograd"] = tiny_micrograd
    if torch is not None:
        torch.set_num_threads(int(THREADS))
        tiny["pytorch"] = tiny_torch
        big["pytorch"] = lambda: mlp_torch(MLP_BIG)
        digits["pytorch"] = digits_nn["pytorch"] = lambda: mlp_torch(MLP_DIGITS)
        small["pytorch"] = small_op_torch
    results["tiny_222"] = compare(
        "(a) 2-2-2 sigmoid, SGD", tiny, 1_000 if quick else 10_000, 10, 1e-9
    )
    results["mlp_784"] = compare(
        "(b) MLP 784-1024-1024-10, float32, batch 256", big, 3 if quick else 60, 20, 1e-4
    )
    results["mlp_digits"] = compare(
        "(c) MLP 64-128-10, float32, batch 64", digits, 200 if quick else 2_000, 10, 1e-4
    )
    results["mlp_digits_nn"] = compare(
        "(c') the same MLP written with nn (Linear, ReLU, CrossEntropyLoss, optim.SGD), as the "
        "PyTorch variant is", digits_nn, 200 if quick else 2_000, 10, 1e-4,
    )  # fmt: skip
    results["small_op"] = compare(
        "(d) one 2x2 multiplication with grad, forward and backward", small,
        2_000 if quick else 50_000, 10, 1e-12,
    )  # fmt: skip
    results["chain"] = chains(10_000 if quick else 100_000, 2 if quick else 3)
    results["anomaly"] = compare(
        "(f) the 2-2-2 step inside detect_anomaly()",
        {"autograd_lite": tiny_autograd_lite_anomaly, "numpy (hand)": tiny_autograd_lite},
        500 if quick else 5_000, 10, 1e-12,
    )  # fmt: skip
    with open(args.json, "w") as file:
        json.dump(results, file, indent=1)
    print(f"\nfigures written to {args.json}")


def cpu_model() -> str:
    """The processor's name (Linux), or what ``platform`` knows."""
    try:
        with open("/proc/cpuinfo") as file:
            for line in file:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown processor"


def markdown_table(path: str) -> str:
    """The README's speed table, from a results file written by this script."""
    with open(path) as file:
        r = json.load(file)
    us = lambda s: f"{s * 1e6:,.1f} µs"  # noqa: E731
    lines = [
        f"Measured {r['date']} ({r['machine']}){' — quick run' if r['quick'] else ''}.",
        "",
        "| what | autograd_lite | compiled | hand-written NumPy | PyTorch | micrograd "
        "| ÷ NumPy | compiled ÷ NumPy | ÷ PyTorch |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    names = {
        "tiny_222": "(a) 2-2-2 sigmoid, SGD step",
        "mlp_784": "(b) MLP 784-1024-1024-10, batch 256, step",
        "mlp_digits": "(c) MLP 64-128-10, batch 64, step",
        "mlp_digits_nn": "(c′) the same MLP written with `nn`, step",
        "small_op": "(d) one 2×2 multiplication, forward + backward",
    }
    for key, label in names.items():
        row = r[key]
        a, c, n, t, m = (
            row.get(k)
            for k in ("autograd_lite", "compiled", "numpy (hand)", "pytorch", "micrograd")
        )
        cells = [us(a), us(c) if c else "–", us(n), us(t) if t else "–", us(m) if m else "–"]
        cells += [f"{a / n:.2f}×", f"{c / n:.2f}×" if c else "–", f"{a / t:.2f}×" if t else "–"]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    c = r["chain"]
    lines.append(
        f"| (e) 100,000-operation chain, per operation (gc on), in a fresh process | "
        f"{us(c['total'])} (forward {us(c['forward'])}, backward {us(c['backward'])}; "
        f"{us(c['beside_pytorch'])} beside PyTorch's objects) | | | | | | | |"
    )
    f = r["anomaly"]
    ratio = f["autograd_lite"] / f["numpy (hand)"]
    lines.append(
        f"| (f) 2-2-2 step under detect_anomaly() | {ratio:.2f}× the plain step | | | | | | | |"
    )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
