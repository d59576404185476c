"""A multilayer perceptron on scikit-learn's handwritten digits (8x8 images, 10 classes),
trained with ad in MXNet's style: attach_grad on the parameters, record, backward, update.

    pip install scikit-learn matplotlib    # the data set; the plot
    python examples/mlp.py [--epochs 30] [--plot curves.png]

Prints one line per epoch: loss, train and test accuracy, seconds.
"""
import argparse
import time

import numpy as np
from sklearn.datasets import load_digits

from ad import autograd, nd


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--hidden", type=int, default=128)
    p.add_argument("--lr", type=float, default=0.1)
    p.add_argument("--wd", type=float, default=1e-4)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--plot", metavar="FILE", help="write a PNG of the loss and accuracy curves")
    return p.parse_args()


def load(seed):
    """The digits scaled to [0, 1], split 80/20 into train and test sets."""
    digits = load_digits()
    x = digits.data.astype(np.float32) / 16.0
    y = digits.target.astype(np.float32)
    order = np.random.RandomState(seed).permutation(len(x))
    split = int(0.8 * len(x))
    train, test = order[:split], order[split:]
    return nd.array(x[train]), nd.array(y[train]), nd.array(x[test]), nd.array(y[test])


def init_params(n_in, n_hidden, n_out):
    """Weights drawn with scale 1/sqrt(fan_in), zero biases; all marked for gradients."""
    params = [
        nd.random.normal(scale=1.0 / np.sqrt(n_in), shape=(n_hidden, n_in)),
        nd.zeros(n_hidden),
        nd.random.normal(scale=1.0 / np.sqrt(n_hidden), shape=(n_out, n_hidden)),
        nd.zeros(n_out),
    ]
    for p in params:
        p.attach_grad()
    return params


def net(x, params):
    w1, b1, w2, b2 = params
    h = nd.relu(nd.FullyConnected(x, w1, b1, num_hidden=w1.shape[0]))
    return nd.FullyConnected(h, w2, b2, num_hidden=w2.shape[0])


def accuracy(x, y, params):
    return (nd.argmax(net(x, params), axis=1) == y).mean().asscalar()


def main():
    args = parse_args()
    nd.random.seed(args.seed)
    x_train, y_train, x_test, y_test = load(args.seed)
    params = init_params(x_train.shape[1], args.hidden, 10)
    n = x_train.shape[0]
    rng = np.random.RandomState(args.seed)
    history = []
    for epoch in range(1, args.epochs + 1):
        start = time.time()
        order = nd.array(rng.permutation(n))
        total = 0.0
        for i in range(0, n, args.batch_size):
            idx = order[i:i + args.batch_size].asnumpy().astype(np.int64)
            xb, yb = nd.array(x_train.asnumpy()[idx]), nd.array(y_train.asnumpy()[idx])
            with autograd.record():
                loss = nd.softmax_cross_entropy(net(xb, params), yb) / len(idx)
            loss.backward()
            for p in params:
                nd.sgd_update(p, p.grad, lr=args.lr, wd=args.wd, out=p)
            total += loss.asscalar() * len(idx)
        seconds = time.time() - start
        row = (epoch, total / n, accuracy(x_train, y_train, params), accuracy(x_test, y_test, params), seconds)
        history.append(row)
        print("epoch %3d  loss %.4f  train accuracy %.4f  test accuracy %.4f  %.2fs" % row, flush=True)
    if args.plot:
        plot(history, args.plot)


def plot(history, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs, loss, train, test, _ = zip(*history)
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    left.plot(epochs, loss)
    left.set(title="training loss", xlabel="epoch", ylabel="cross-entropy")
    right.plot(epochs, train, label="train")
    right.plot(epochs, test, label="test")
    right.set(title="accuracy", xlabel="epoch", ylabel="accuracy")
    right.legend()
    fig.tight_layout()
    fig.savefig(path)


if __name__ == "__main__":
    main()
