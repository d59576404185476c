"""The digits MLP of examples/mlp.py, trained data-parallel over MPI with mpi4py: every
process (rank) holds the same weights, computes the gradient of its share of each batch, and
the ranks sum their gradients in place in ad's gradient buffers before each update, so that
they all take the same step and end with the same weights, bit for bit.

Each gradient buffer is lent to MPI once, without a copy (`NDArray.borrow`): backward writes
every step's gradient into the same memory. Each gradient is reduced with Iallreduce as soon
as backward has finished it (a gradient-ready hook) while backward goes on with the layers
below; the update waits for the last reduction.

    pip install scikit-learn mpi4py        # the data set; MPI for Python (needs an MPI, e.g. OpenMPI)
    AD_NUM_THREADS=1 mpirun -np 2 python examples/mlp_mpi.py [--epochs 10]

A rank's loss is its rows' summed cross-entropy divided by the rows of the whole batch, so
the sum of the ranks' gradients is the whole batch's mean gradient: one process and several
train the same model, up to the order of float32 additions. A last batch with fewer rows than
ranks is left out.
"""
import argparse
import sys
import time

import numpy as np
from mpi4py import MPI
from sklearn.datasets import load_digits

from ad import autograd, nd


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch-size", type=int, default=32, help="rows of each batch, over all ranks")
    p.add_argument("--hidden", type=int, default=128)
    p.add_argument("--lr", type=float, default=0.1)
    p.add_argument("--wd", type=float, default=1e-4)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--reduce", choices=["hooks", "after"], default="hooks",
                   help="reduce each gradient from its hook, during backward, or all after backward")
    p.add_argument("--save", metavar="PREFIX", help="each rank saves its final weights to PREFIX-rankR.npz")
    p.add_argument("--timing", action="store_true", help="rank 0 prints median step, backward and wait times")
    p.add_argument("--bad-label", type=int, metavar="RANK",
                   help="gives that rank a label outside the classes: shows how an error on one rank ends the job")
    return p.parse_args()


def load(seed):
    """The digits scaled to [0, 1], split 80/20 into train and test sets (as examples/mlp.py)."""
    digits = load_digits()
    x = digits.data.astype(np.float32) / 16.0
    y = digits.target.astype(np.float32)
    order = np.random.RandomState(seed).permutation(len(x))
    split = int(0.8 * len(x))
    train, test = order[:split], order[split:]
    return x[train], y[train], nd.array(x[test]), nd.array(y[test])


def init_params(comm, n_in, n_hidden, n_out):
    """Rank 0's draws of examples/mlp.py, broadcast to every rank into the arrays' own memory."""
    params = [
        nd.random.normal(scale=1.0 / np.sqrt(n_in), shape=(n_hidden, n_in)),
        nd.zeros(n_hidden),
        nd.random.normal(scale=1.0 / np.sqrt(n_hidden), shape=(n_out, n_hidden)),
        nd.zeros(n_out),
    ]
    for p in params:
        with p.borrow(writable=True) as memory:
            comm.Bcast(memory, root=0)
        p.attach_grad()
    return params


def net(x, params):
    w1, b1, w2, b2 = params
    h = nd.relu(nd.FullyConnected(x, w1, b1, num_hidden=w1.shape[0]))
    return nd.FullyConnected(h, w2, b2, num_hidden=w2.shape[0])


def accuracy(x, y, params):
    return (nd.argmax(net(x, params), axis=1) == y).mean().asscalar()


class GradientReducer:
    """Sums the parameters' gradients over the ranks, in place in their gradient buffers.

    With hooks, each reduction starts from the parameter's gradient-ready hook during
    backward; every rank runs the same program, so the hooks fire in the same order on each,
    which is the order MPI matches collectives in. `wait` completes them before the update.
    """

    def __init__(self, comm, params, hooks):
        self.comm = comm
        # Lent once for the whole run: backward writes each new gradient into this memory.
        self.buffers = [p.grad.borrow(writable=True) for p in params]
        self.requests = []
        self.hooks = hooks
        if hooks:
            for i, p in enumerate(params):
                p.register_grad_ready_hook(lambda variable, i=i: self.start(i))

    def start(self, i):
        self.requests.append(self.comm.Iallreduce(MPI.IN_PLACE, self.buffers[i], op=MPI.SUM))
        # MPI moves a non-blocking reduction along only inside MPI calls.
        MPI.Request.Testall(self.requests)

    def wait(self):
        if self.hooks:
            MPI.Request.Waitall(self.requests)
            self.requests = []
        else:
            for buffer in reversed(self.buffers):
                self.comm.Allreduce(MPI.IN_PLACE, buffer, op=MPI.SUM)

    def close(self):
        for buffer in self.buffers:
            buffer.release()


def train(args, comm):
    rank, ranks = comm.rank, comm.size
    nd.random.seed(args.seed)
    x_train, y_train, x_test, y_test = load(args.seed)
    if args.bad_label == rank:
        y_train = y_train.copy()
        y_train[rank::ranks] = 10  # the classes are 0 to 9
    params = init_params(comm, x_train.shape[1], args.hidden, 10)
    reducer = GradientReducer(comm, params, args.reduce == "hooks")
    n = x_train.shape[0]
    rng = np.random.RandomState(args.seed)
    step, backward, wait = [], [], []
    for epoch in range(1, args.epochs + 1):
        start = time.time()
        order = rng.permutation(n)
        total = 0.0
        for i in range(0, n, args.batch_size):
            batch = order[i:i + args.batch_size]
            if len(batch) < ranks:
                break
            mine = batch[rank::ranks]  # this rank's rows of the batch
            xb, yb = nd.array(x_train[mine]), nd.array(y_train[mine])
            t0 = time.perf_counter()
            with autograd.record():
                loss = nd.softmax_cross_entropy(net(xb, params), yb) / len(batch)
            t1 = time.perf_counter()
            loss.backward()
            t2 = time.perf_counter()
            reducer.wait()
            t3 = time.perf_counter()
            for p in params:
                nd.sgd_update(p, p.grad, lr=args.lr, wd=args.wd, out=p)
            step.append(time.perf_counter() - t0)
            backward.append(t2 - t1)
            wait.append(t3 - t2)
            total += loss.asscalar() * len(batch)
        total = comm.allreduce(total, op=MPI.SUM)
        seconds = time.time() - start
        if rank == 0:
            row = (epoch, total / n, accuracy(nd.array(x_train), nd.array(y_train), params),
                   accuracy(x_test, y_test, params), seconds)
            print("epoch %3d  loss %.4f  train accuracy %.4f  test accuracy %.4f  %.2fs" % row, flush=True)
    if args.timing and rank == 0:
        print("median step %.1f us  backward %.1f us  waiting for the reduction %.1f us  (%s)" % (
            1e6 * np.median(step), 1e6 * np.median(backward), 1e6 * np.median(wait),
            "reduced from the hooks" if reducer.hooks else "reduced after backward"), flush=True)
    reducer.close()
    if args.save:
        nd.save("%s-rank%d.npz" % (args.save, rank), dict(zip(["w1", "b1", "w2", "b2"], params)))


def main():
    args = parse_args()
    comm = MPI.COMM_WORLD
    try:
        train(args, comm)
    except Exception as error:  # noqa: BLE001 - any failure must end every rank
        # The other ranks may be waiting for this one in a reduction: Abort is what tells
        # mpirun to stop them, where a plain exit would leave them waiting.
        print("rank %d: %s: %s" % (comm.rank, type(error).__name__, error), file=sys.stderr, flush=True)
        comm.Abort(1)


if __name__ == "__main__":
    main()
