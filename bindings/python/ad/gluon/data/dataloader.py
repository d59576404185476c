"""`DataLoader`: mini-batches of NDArrays from a dataset."""
import numpy as np

from ...ndarray import NDArray
from . import sampler as _sampler
from .dataset import ArrayDataset

__all__ = ["DataLoader", "default_batchify_fn"]


# The numpy dtypes an NDArray holds, which a batch keeps, as MXNet's batches do.
_KEPT = {np.dtype(t) for t in ("float32", "float64", "float16", "uint8", "int8", "int32", "int64", "bool")}


def _as_array(data):
    """A numpy array (or what numpy makes one of) as an NDArray of its dtype."""
    from ... import nd
    data = np.asarray(data)
    if data.dtype not in _KEPT:
        raise TypeError("a batch of %s data: ad's arrays hold float32, float64, float16, uint8, int8, int32, int64 "
                        "or bool (MXNet refuses it too); convert the dataset's arrays first" % data.dtype.name)
    return nd.array(data, dtype=data.dtype)


def default_batchify_fn(data):
    """Stacks samples into a batch, as MXNet's `default_batchify_fn`: NDArrays with
    `nd.stack`; tuples field by field (a list of batches); numbers and numpy arrays through
    numpy into an NDArray.

    A batch keeps its data's dtype, as MXNet's: int64 labels give an int64 batch. Data of a
    dtype ad's arrays do not hold (int16, say) raises TypeError.

    Parameters
    ----------
    data : list
        The samples of the batch.

    Returns
    -------
    NDArray or list of NDArray
        The batch: one array whose first axis is the sample, or a list of them for tuple
        samples.
    """
    from ... import nd
    if isinstance(data[0], NDArray):
        return nd.stack(*data)
    if isinstance(data[0], tuple):
        return [default_batchify_fn(list(field)) for field in zip(*data)]
    return _as_array(data)


def _array_batch(dataset, indices):
    """`default_batchify_fn([dataset[i] for i in indices])` for an ArrayDataset, gathered one
    field at a time instead of sample by sample."""
    from ... import nd
    fields = []
    for data in dataset._data:
        if isinstance(data, NDArray):
            fields.append(nd.take(data, nd.array(np.asarray(indices, dtype=np.float64), dtype=np.float64)))
        elif isinstance(data, np.ndarray):
            fields.append(_as_array(data[np.asarray(indices, dtype=np.int64)]))
        else:
            fields.append(default_batchify_fn([data[i] for i in indices]))
    return fields[0] if len(fields) == 1 else fields


class DataLoader(object):
    """Loads mini-batches from a dataset, as MXNet Gluon's `DataLoader`::

        for X, y in DataLoader(ArrayDataset(X, y), batch_size, shuffle=True):
            ...

    Each batch is what `batchify_fn` makes of the batch's samples: by default an NDArray (a
    list of them for samples of several fields, such as an ArrayDataset of data and labels),
    numpy data converted.

    Parameters
    ----------
    dataset : Dataset
        The samples: a Dataset, or any sequence (a list, a numpy array, an NDArray).
    batch_size : int
        The number of samples in a batch; needed unless `batch_sampler` is given.
    shuffle : bool, optional
        Read the samples in a new random order on each pass (default False). The order is
        drawn from ad's generator, which `nd.random.seed` seeds, so a seeded program loads
        the same batches every run (MXNet draws it from numpy's global generator).
    sampler : Sampler, optional
        The order of the samples: an iterable of indices with a length. Not with `shuffle`.
    last_batch : {'keep', 'discard', 'rollover'}, optional
        What to do with the last, incomplete batch when `batch_size` does not divide the
        number of samples: 'keep' (None, the default) returns it; 'discard' drops it;
        'rollover' puts its samples at the start of the next pass.
    batch_sampler : Sampler, optional
        The batches: an iterable of lists of indices. Not with `batch_size`, `shuffle`,
        `sampler` or `last_batch`.
    batchify_fn : callable, optional
        Makes a batch of a list of samples (default `default_batchify_fn`).
    num_workers : int, optional
        MXNet's number of worker processes (default 0). ad loads every batch in the calling
        process whatever the number: the batches, and their order, are the same as MXNet's
        with workers.
    pin_memory : bool, optional
        MXNet copies the batches into page-locked memory for faster copies to a GPU; ad runs
        on the CPU only, where that changes nothing (default False).
    pin_device_id : int, optional
        The GPU of `pin_memory` (default 0); changes nothing in ad.
    prefetch : int, optional
        How many batches MXNet's workers prepare ahead; changes nothing in ad, which has no
        workers (default None).
    thread_pool : bool, optional
        Workers as threads instead of processes in MXNet; changes nothing in ad (default
        False).
    timeout : int, optional
        Seconds a worker may take for a batch in MXNet (default 120); must be positive, as in
        MXNet, and changes nothing in ad.
    auto_reload : bool, optional
        Whether MXNet's workers start on the next pass as one ends; changes nothing in ad
        (default False).

    Raises
    ------
    ValueError
        For a missing `batch_size`, `shuffle` with a `sampler`, `batch_sampler` with any of
        `batch_size`, `shuffle`, `sampler` or `last_batch`, an unknown `last_batch`, or a
        `timeout` that is not positive.
    """

    def __init__(self, dataset, batch_size=None, shuffle=False, sampler=None, last_batch=None, batch_sampler=None,
                 batchify_fn=None, num_workers=0, pin_memory=False, pin_device_id=0, prefetch=None,
                 thread_pool=False, timeout=120, auto_reload=False):
        if not timeout > 0:
            raise ValueError("timeout must be positive, given %r" % (timeout,))
        self._dataset = dataset
        if batch_sampler is None:
            if batch_size is None:
                raise ValueError("batch_size must be specified unless batch_sampler is specified")
            if sampler is None:
                if shuffle:
                    sampler = _sampler.RandomSampler(len(dataset))
                else:
                    sampler = _sampler.SequentialSampler(len(dataset))
            elif shuffle:
                raise ValueError("shuffle must not be specified if sampler is specified")
            batch_sampler = _sampler.BatchSampler(sampler, batch_size, last_batch if last_batch else "keep")
        elif batch_size is not None or shuffle or sampler is not None or last_batch is not None:
            raise ValueError("batch_size, shuffle, sampler and last_batch must not be specified if batch_sampler "
                             "is specified.")
        self._batch_sampler = batch_sampler
        self._num_workers = max(0, int(num_workers))
        self._batchify_fn = default_batchify_fn if batchify_fn is None else batchify_fn

    def __iter__(self):
        fast = self._batchify_fn is default_batchify_fn and type(self._dataset) is ArrayDataset
        for batch in self._batch_sampler:
            if fast:
                yield _array_batch(self._dataset, batch)
            else:
                yield self._batchify_fn([self._dataset[i] for i in batch])

    def __len__(self):
        return len(self._batch_sampler)
