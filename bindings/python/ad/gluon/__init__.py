"""The part of MXNet's Gluon that ad has: data loading (`gluon.data`)."""
from . import data

__all__ = ["data"]
