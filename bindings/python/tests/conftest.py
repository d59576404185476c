"""Shared fixtures: every test starts and ends outside any record/train scope, so a test that
leaves the thread's autograd flags set cannot change what the next one sees."""
import pytest

from ad import autograd


@pytest.fixture(autouse=True)
def clean_autograd_state():
    autograd.set_recording(False)
    autograd.set_training(False)
    yield
    autograd.set_recording(False)
    autograd.set_training(False)
