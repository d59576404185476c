"""MXNet Gluon's data loading: datasets, samplers and `DataLoader`, which turns a dataset
into mini-batches of NDArrays, e.g.
``DataLoader(ArrayDataset(X, y), batch_size, shuffle=True)``."""
from .dataset import ArrayDataset, Dataset, SimpleDataset
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler
from .dataloader import DataLoader, default_batchify_fn

__all__ = ["Dataset", "SimpleDataset", "ArrayDataset", "Sampler", "SequentialSampler", "RandomSampler",
           "BatchSampler", "DataLoader", "default_batchify_fn"]
