"""Samplers: the order in which `DataLoader` reads a dataset, and its batches."""
import numpy as np

__all__ = ["Sampler", "SequentialSampler", "RandomSampler", "BatchSampler"]

_LAST_BATCH = ("keep", "discard", "rollover")


class Sampler(object):
    """The abstract sampler: an iterable of indices (or of batches of them), with a length."""

    def __iter__(self):
        raise NotImplementedError

    def __len__(self):
        raise NotImplementedError


class SequentialSampler(Sampler):
    """The indices ``start, start + 1, ..., start + length - 1`` in order.

    Parameters
    ----------
    length : int
        How many indices.
    start : int, optional
        The first index (default 0).
    """

    def __init__(self, length, start=0):
        self._length = length
        self._start = start

    def __iter__(self):
        return iter(range(self._start, self._start + self._length))

    def __len__(self):
        return self._length


class RandomSampler(Sampler):
    """The indices ``0, ..., length - 1`` in a random order, a new one on each pass.

    The order is drawn from ad's generator, the one `nd.random.seed` seeds (MXNet draws it
    from numpy's global generator): after the same seed, the same orders.

    Parameters
    ----------
    length : int
        How many indices.
    """

    def __init__(self, length):
        self._length = length

    def __iter__(self):
        if self._length == 0:
            return iter([])
        from ... import nd
        keys = nd.random.uniform(0, 1, shape=(self._length,), dtype="float64").asnumpy()
        return iter(np.argsort(keys, kind="stable").tolist())

    def __len__(self):
        return self._length


class BatchSampler(Sampler):
    """Groups another sampler's indices into lists of `batch_size`.

    Parameters
    ----------
    sampler : Sampler or iterable of int
        The indices, with a length.
    batch_size : int
        The number of indices in a batch.
    last_batch : {'keep', 'discard', 'rollover'}, optional
        What to do with the last, incomplete batch when `batch_size` does not divide the
        number of indices: 'keep' (the default) returns it; 'discard' drops it; 'rollover'
        puts its indices at the start of the next pass.
    """

    def __init__(self, sampler, batch_size, last_batch="keep"):
        if last_batch not in _LAST_BATCH:
            raise ValueError("last_batch must be one of 'keep', 'discard', or 'rollover', but got %r" % (last_batch,))
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError("batch_size must be a positive integer, but got %r" % (batch_size,))
        self._sampler = sampler
        self._batch_size = int(batch_size)
        self._last_batch = last_batch
        self._prev = []

    def __iter__(self):
        batch, self._prev = self._prev, []
        for i in self._sampler:
            batch.append(i)
            if len(batch) == self._batch_size:
                yield batch
                batch = []
        if batch:
            if self._last_batch == "keep":
                yield batch
            elif self._last_batch == "rollover":
                self._prev = batch

    def __len__(self):
        if self._last_batch == "keep":
            return (len(self._sampler) + self._batch_size - 1) // self._batch_size
        if self._last_batch == "discard":
            return len(self._sampler) // self._batch_size
        return (len(self._prev) + len(self._sampler)) // self._batch_size
