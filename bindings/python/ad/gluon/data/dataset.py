"""Datasets: what `DataLoader` draws samples from, by index."""
from ...ndarray import NDArray

__all__ = ["Dataset", "SimpleDataset", "ArrayDataset"]


class Dataset(object):
    """The abstract dataset: a sequence of samples, with `__getitem__` and `__len__`."""

    def __getitem__(self, idx):
        raise NotImplementedError

    def __len__(self):
        raise NotImplementedError

    def transform(self, fn, lazy=True):
        """A dataset of this one's samples passed through `fn`.

        Parameters
        ----------
        fn : callable
            Takes a sample (its fields as separate arguments when it is a tuple) and returns
            the transformed sample.
        lazy : bool, optional
            Transform each sample when it is read (True, the default), or all of them now.

        Returns
        -------
        Dataset
            The transformed dataset.
        """
        trans = _LazyTransformDataset(self, fn)
        if lazy:
            return trans
        return SimpleDataset([trans[i] for i in range(len(trans))])

    def transform_first(self, fn, lazy=True):
        """A dataset of this one's samples with their first field passed through `fn` (the data,
        leaving the label alone).

        Parameters
        ----------
        fn : callable
            Takes the first field of a sample and returns its transformed value.
        lazy : bool, optional
            Transform each sample when it is read (True, the default), or all of them now.

        Returns
        -------
        Dataset
            The transformed dataset.
        """
        def first(x, *args):
            if args:
                return (fn(x),) + args
            return fn(x)
        return self.transform(first, lazy)


class SimpleDataset(Dataset):
    """A dataset over any sequence with `__getitem__` and `__len__` (a list, a numpy array, an
    NDArray).

    Parameters
    ----------
    data : sequence
        The samples.
    """

    def __init__(self, data):
        self._data = data

    def __len__(self):
        return len(self._data)

    def __getitem__(self, idx):
        return self._data[idx]


class _LazyTransformDataset(Dataset):
    """A dataset whose samples are transformed when read."""

    def __init__(self, data, fn):
        self._data = data
        self._fn = fn

    def __len__(self):
        return len(self._data)

    def __getitem__(self, idx):
        item = self._data[idx]
        if isinstance(item, tuple):
            return self._fn(*item)
        return self._fn(item)


class ArrayDataset(Dataset):
    """A dataset that combines several arrays (or lists, or other datasets) of the same length:
    sample i is ``(x1[i], x2[i], ...)``, or ``x1[i]`` for a single array.

    As in MXNet, a one-dimensional NDArray is kept as a numpy array, so that its samples are
    numbers.

    Parameters
    ----------
    *args : one or more arrays, lists or datasets
        The data, each of the same length.

    Raises
    ------
    ValueError
        With no arrays, or arrays of different lengths (MXNet raises an AssertionError).
    """

    def __init__(self, *args):
        if not args:
            raise ValueError("ArrayDataset needs at least one array")
        self._length = len(args[0])
        self._data = []
        for i, data in enumerate(args):
            if len(data) != self._length:
                raise ValueError("ArrayDataset: all arrays must have the same length; array 0 has length %d, "
                                 "but array %d has length %d" % (self._length, i, len(data)))
            if isinstance(data, NDArray) and len(data.shape) == 1:
                data = data.asnumpy()
            self._data.append(data)

    def __getitem__(self, idx):
        if len(self._data) == 1:
            return self._data[0][idx]
        return tuple(data[idx] for data in self._data)

    def __len__(self):
        return self._length
