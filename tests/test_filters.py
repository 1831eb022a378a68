"""rnr.filters: the window maximum both lite networks' features are built on."""

import pytest
import torch
import torch.nn.functional as F

from rnr.filters import sliding_max


@pytest.mark.parametrize("size", [1, 2, 3, 5, 9, 15, 16])
def test_sliding_max_is_max_pool_over_every_window_that_fits(size):
    x = torch.randn(2, 3, 41, 38, generator=torch.Generator().manual_seed(size))
    assert torch.equal(sliding_max(x, size), F.max_pool2d(x, size, stride=1))


def test_sliding_max_of_a_single_peak_is_a_square_of_the_window_size():
    x = torch.zeros(1, 1, 12, 12)
    x[0, 0, 5, 6] = 1.0
    out = sliding_max(x, 4)
    assert out.shape == (1, 1, 9, 9)
    rows, cols = torch.nonzero(out[0, 0], as_tuple=True)
    assert (rows.min().item(), rows.max().item(), cols.min().item(), cols.max().item()) == (2, 5, 3, 6)
    assert out.sum().item() == 16.0
