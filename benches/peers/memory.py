"""Resident memory of the W4 MLP training step over 2,000 steps: RSS at step 100 and at
step 2,000, and the peak, for ad or torch (one thread).

    python benches/peers/memory.py ad|torch
"""
import resource
import sys

import numpy as np

fw = sys.argv[1]
def rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2**20
rng = np.random.RandomState(0)
X = rng.rand(256, 784).astype(np.float32); y = (np.arange(256) % 10).astype(np.float32)
W1 = (rng.randn(784, 512) * 0.05).astype(np.float32); W2 = (rng.randn(512, 10) * 0.05).astype(np.float32)
if fw == "ad":
    from ad import nd, autograd
    X_, y_ = nd.array(X), nd.array(y)
    ps = [nd.array(W1), nd.zeros(512), nd.array(W2), nd.zeros(10)]
    for p in ps: p.attach_grad()
    def step():
        with autograd.record():
            h = nd.relu(nd.dot(X_, ps[0]) + ps[1])
            loss = -nd.pick(nd.log_softmax(nd.dot(h, ps[2]) + ps[3], axis=-1), y_, axis=-1).mean()
        loss.backward()
        for p in ps: p -= 0.1 * p.grad
else:
    import torch
    torch.set_num_threads(1)
    X_, y_ = torch.tensor(X), torch.tensor(y).long()
    ps = [torch.tensor(W1, requires_grad=True), torch.zeros(512, requires_grad=True), torch.tensor(W2, requires_grad=True), torch.zeros(10, requires_grad=True)]
    def step():
        h = torch.relu(X_ @ ps[0] + ps[1])
        loss = torch.nn.functional.cross_entropy(h @ ps[2] + ps[3], y_)
        loss.backward()
        with torch.no_grad():
            for p in ps: p -= 0.1 * p.grad; p.grad = None
r100 = None
for i in range(1, 2001):
    step()
    if i == 100: r100 = rss_mb()
r2000 = rss_mb()
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print("%s: RSS step 100 %.1f MB, step 2000 %.1f MB (%+.2f%%), peak %.1f MB" % (fw, r100, r2000, 100 * (r2000 - r100) / r100, peak))
