"""Benchmarks of nnlib against scikit-learn and PyTorch, from ONE run: prints a table of ratios.

    .venv/bin/python benchmarks/bench.py [--threads 1] [--epochs 30] [--steps 200]

1. Digits MLP 64-128-64-10 (ReLU, softmax + cross-entropy, Adam lr 1e-3, batch 64, float64):
   median time per epoch and test accuracy (80/20 split, seed 0) for nnlib, scikit-learn's
   MLPClassifier (one ``partial_fit`` = one epoch, same settings, no L2 penalty) and PyTorch;
   and the floor: the epoch's matmuls alone, at the same shapes ("matmuls only").
2. One training step (forward, backward, Adam update) of a 784-256-256-10 MLP, batch 128, random
   data, float64 and float32: nnlib vs PyTorch, and nnlib's share of this machine's matmul
   throughput (the FLOPs of the step's matmuls / step time, over the GFLOP/s of large square
   matmuls measured in the same run).

Every library gets the same number of threads (BLAS via threadpoolctl, PyTorch via
``torch.set_num_threads``). Each timing is the median of many runs after warm-up runs, and the
peers are interleaved (epoch by epoch, round by round), so that load from other processes falls
on all of them alike. PyTorch is optional (skipped if not installed).

Clock: with one thread (the default) we time the CPU time of the process
(``time.process_time``), not the wall clock. On a shared machine the wall clock also counts the
time other processes hold the core, which inflates long runs (a 50 ms matmul) far more than short
ones (a 0.1 ms step) and makes the ratios meaningless; CPU time counts the work done. With more
threads, CPU time would add the threads up, so the wall clock is used (give it a quiet machine).
"""

import argparse
import os
import sys
import time

parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
parser.add_argument("--threads", type=int, default=int(os.environ.get("OPENBLAS_NUM_THREADS", 1)))
parser.add_argument("--epochs", type=int, default=30, help="digits: epochs trained (and timed)")
parser.add_argument("--steps", type=int, default=200, help="784-256-256-10: timed steps")
args = parser.parse_args()
# before NumPy is imported, so that OpenBLAS starts with this many threads
for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = str(args.threads)

import numpy as np  # noqa: E402
from threadpoolctl import threadpool_info, threadpool_limits  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import nnlib  # noqa: E402

threadpool_limits(args.threads)
clock = time.process_time if args.threads == 1 else time.perf_counter
try:
    import torch

    torch.set_num_threads(args.threads)
except ImportError:
    torch = None


def median_ms(times):
    return 1e3 * float(np.median(times))


# ---------------------------------------------------------------------------------------------
# 1. Digits
# ---------------------------------------------------------------------------------------------


def digits_nnlib(X_train, y_train, X_test, y_test):
    net = nnlib.Network(
        [64, 128, 64, 10], "relu", output="softmax", loss="sparse_categorical_cross_entropy"
    )
    adam = nnlib.Adam(1e-3)  # one optimizer for all the epochs: its state carries over
    epochs = iter(range(10**6))

    def epoch():
        net.fit(X_train, y_train, epochs=1, optimizer=adam, batch_size=64, seed=next(epochs),
                progress=False)  # fmt: skip

    return epoch, lambda: net.accuracy(X_test, y_test)


def digits_sklearn(X_train, y_train, X_test, y_test):
    from sklearn.neural_network import MLPClassifier

    clf = MLPClassifier(
        hidden_layer_sizes=(128, 64), activation="relu", solver="adam", alpha=0.0,
        batch_size=64, learning_rate_init=1e-3, shuffle=True, random_state=0,
    )  # fmt: skip
    X, classes = np.ascontiguousarray(X_train.T), np.arange(10)

    def epoch():  # partial_fit: one pass over the data
        clf.partial_fit(X, y_train, classes=classes)

    return epoch, lambda: float(np.mean(clf.predict(X_test.T) == y_test))


def digits_torch(X_train, y_train, X_test, y_test):
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Linear(64, 128), torch.nn.ReLU(),
        torch.nn.Linear(128, 64), torch.nn.ReLU(),
        torch.nn.Linear(64, 10),
    ).double()  # fmt: skip
    adam = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()
    X = torch.tensor(X_train.T)
    y = torch.tensor(y_train)
    m = X.shape[0]

    def epoch():
        order = torch.randperm(m)
        for i in range(0, m, 64):
            idx = order[i : i + 64]
            adam.zero_grad()
            loss_fn(model(X[idx]), y[idx]).backward()
            adam.step()

    def accuracy():
        with torch.no_grad():
            predicted = model(torch.tensor(X_test.T)).argmax(dim=1).numpy()
        return float(np.mean(predicted == y_test))

    return epoch, accuracy


def digits_floor(X_train, y_train, X_test, y_test, sizes=(64, 128, 64, 10), batch=64):
    """The floor: only the matmuls of one digits epoch, at the same shapes as nnlib's (per batch:
    Z = W A_prev for every layer, dW = dZ A_prev^T for every layer, dA_prev = W^T dZ for every
    layer but the first), written into preallocated arrays. No activation, loss or update."""
    rng = np.random.default_rng(0)
    m = X_train.shape[1]
    pairs = list(zip(sizes[:-1], sizes[1:], strict=True))
    Ws = [rng.standard_normal((b, a)) for a, b in pairs]
    plans = []
    for start in range(0, m, batch):
        n = min(batch, m - start)
        As = [rng.standard_normal((a, n)) for a, _ in pairs]  # A_prev of each layer
        Zs = [np.empty((b, n)) for _, b in pairs]  # Z and dZ of each layer
        dWs = [np.empty_like(W) for W in Ws]
        dAs = [np.empty_like(A) for A in As]
        plans.append((As, Zs, dWs, dAs))

    def epoch():
        for As, Zs, dWs, dAs in plans:
            for W, A, Z in zip(Ws, As, Zs, strict=True):
                np.matmul(W, A, out=Z)
            for l in range(len(Ws) - 1, -1, -1):
                np.matmul(Zs[l], As[l].T, out=dWs[l])
                if l > 0:
                    np.matmul(Ws[l].T, Zs[l], out=dAs[l])

    return epoch, lambda: float("nan")


def bench_digits(epochs):
    X, y, _ = nnlib.datasets.digits()
    X_train, X_test, y_train, y_test = nnlib.datasets.train_test_split(X, y, 0.2, seed=0)
    split = (X_train, y_train, X_test, y_test)
    peers = {"nnlib": digits_nnlib(*split), "scikit-learn": digits_sklearn(*split)}
    peers["matmuls only"] = digits_floor(*split)
    if torch is not None:
        peers["PyTorch"] = digits_torch(*split)
    times = {name: [] for name in peers}
    for _ in range(epochs):  # interleaved, epoch by epoch: all peers see the same load
        for name, (epoch, _) in peers.items():
            start = clock()
            epoch()
            times[name].append(clock() - start)
    # the first 2 epochs are warm-up
    return {name: (median_ms(times[name][2:]), acc()) for name, (_, acc) in peers.items()}


# ---------------------------------------------------------------------------------------------
# 2. One training step of 784-256-256-10, batch 128
# ---------------------------------------------------------------------------------------------

SIZES = [784, 256, 256, 10]
BATCH = 128


def step_flops():
    """The matmuls of one step: Z = W A_prev for every layer (forward), dW = dZ A_prev^T for every
    layer and dA_prev = W^T dZ for every layer but the first (backward); 2 n_in n_out m each."""
    pairs = list(zip(SIZES[:-1], SIZES[1:], strict=True))
    forward = sum(2 * a * b * BATCH for a, b in pairs)
    d_weights = forward
    d_inputs = sum(2 * a * b * BATCH for a, b in pairs[1:])
    return forward + d_weights + d_inputs


def nnlib_step(dtype):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((SIZES[0], BATCH)).astype(dtype)
    y = rng.integers(0, 10, BATCH)
    net = nnlib.Network(
        SIZES, "relu", output="softmax", loss="sparse_categorical_cross_entropy", dtype=dtype
    )
    adam = nnlib.Adam(1e-3)
    return lambda: net.train_step(X, y, adam)


def torch_step(dtype):
    tdtype = {np.float64: torch.float64, np.float32: torch.float32}[dtype]
    torch.manual_seed(0)
    layers = []
    for a, b in zip(SIZES[:-1], SIZES[1:], strict=True):
        layers += [torch.nn.Linear(a, b), torch.nn.ReLU()]
    model = torch.nn.Sequential(*layers[:-1]).to(tdtype)
    adam = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()
    X = torch.randn(BATCH, SIZES[0], dtype=tdtype)
    y = torch.randint(0, 10, (BATCH,))

    def step():
        adam.zero_grad()
        loss_fn(model(X), y).backward()
        adam.step()

    return step


def matmul_peak(dtype):
    """A large square matmul C = A B into a reused C: 2 n^3 FLOPs."""
    n = 1024
    rng = np.random.default_rng(1)
    A = rng.standard_normal((n, n)).astype(dtype)
    B = rng.standard_normal((n, n)).astype(dtype)
    C = np.empty_like(A)
    return lambda: np.matmul(A, B, out=C), 2 * n**3


def bench_step(steps):
    results = {}
    rounds = 10
    for dtype in (np.float64, np.float32):
        peak, peak_flops = matmul_peak(dtype)
        runs = {"peak": peak, "nnlib": nnlib_step(dtype)}
        if torch is not None:
            runs["PyTorch"] = torch_step(dtype)
        times = {name: [] for name in runs}
        for run in runs.values():  # warm-up
            for _ in range(10):
                run()
        for _ in range(rounds):  # interleaved: nnlib, PyTorch and the peak see the same load
            for name, run in runs.items():
                for _ in range(3 if name == "peak" else steps // rounds):
                    start = clock()
                    run()
                    times[name].append(clock() - start)
        ms = {name: median_ms(t) for name, t in times.items()}
        peak_gflops = peak_flops / ms.pop("peak") / 1e6
        results[np.dtype(dtype).name] = (ms, peak_gflops)
    return results


# ---------------------------------------------------------------------------------------------


def main():
    blas = ", ".join(f"{p['internal_api']} {p['num_threads']} thr" for p in threadpool_info())
    print(f"nnlib {nnlib.__version__}, NumPy {np.__version__} ({blas})", end="")
    print(f", PyTorch {torch.__version__} ({torch.get_num_threads()} thr)" if torch else "")
    print(f"threads: {args.threads} for every library (NumPy/OpenBLAS, scikit-learn, PyTorch); "
          f"clock: {clock.__name__}; load average {os.getloadavg()[0]:.2f}")  # fmt: skip

    print(f"\n1. Digits MLP 64-128-64-10, Adam 1e-3, batch 64, float64, {args.epochs} epochs")
    print(f"   {'':14}{'ms/epoch':>10}{'test acc':>10}{'nnlib / peer':>14}")
    digits = bench_digits(args.epochs)
    ours = digits["nnlib"][0]
    for name, (ms, acc) in digits.items():
        ratio = "" if name == "nnlib" else f"{ours / ms:.2f}"
        shown = f"{acc:10.3f}" if acc == acc else f"{'-':>10}"
        print(f"   {name:14}{ms:10.2f}{shown}{ratio:>14}")
    print("   targets: nnlib/scikit-learn <= 0.6, nnlib/PyTorch <= 0.4, nnlib/matmuls only <= 1.5")

    flops = step_flops()
    print(f"\n2. One step of 784-256-256-10, batch 128 ({flops / 1e6:.1f} MFLOP of matmuls)")
    print(f"   {'dtype':8}{'nnlib ms':>10}{'torch ms':>10}{'nnlib/torch':>13}"
          f"{'peak GF/s':>11}{'nnlib GF/s':>12}{'share':>8}")  # fmt: skip
    for dtype, (ms, peak) in bench_step(args.steps).items():
        achieved = flops / ms["nnlib"] / 1e6
        torch_ms = f"{ms['PyTorch']:10.2f}" if "PyTorch" in ms else f"{'-':>10}"
        ratio = f"{ms['nnlib'] / ms['PyTorch']:13.2f}" if "PyTorch" in ms else f"{'-':>13}"
        print(f"   {dtype:8}{ms['nnlib']:10.2f}{torch_ms}{ratio}{peak:11.1f}{achieved:12.1f}"
              f"{achieved / peak:8.0%}")  # fmt: skip
    print("   targets: nnlib/PyTorch <= 0.9, share of the matmul peak >= 60%")
    print(f"   load average at the end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
