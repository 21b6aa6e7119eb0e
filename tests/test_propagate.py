"""Spreading a hint's colour change: over its region, not across a lightness edge."""

import numpy as np

from model.propagate import spread


def two_regions(h=40, w=60, edge_at=30):
    L = np.full((h, w), 30.0, np.float32)
    L[:, edge_at:] = 80.0
    return L


def one_hint(h=40, w=60, y=20, x=10, value=(0.3, -0.2)):
    change = np.zeros((h, w, 2), np.float32)
    mask = np.zeros((h, w), np.float32)
    change[y, x], mask[y, x] = value, 1.0
    return change, mask


def test_a_change_holds_at_the_hint_and_fills_its_region():
    change, mask = one_hint()
    out = spread(two_regions(), change, mask)
    np.testing.assert_allclose(out[20, 10], (0.3, -0.2), rtol=0.05)
    assert out[5, 25, 0] > 0.3 * 0.3  # same region, 15 px up and across: much of the change


def test_a_lightness_edge_stops_it():
    change, mask = one_hint()
    out = spread(two_regions(), change, mask)
    assert np.abs(out[:, 31:]).max() < 0.01 * 0.3


def test_it_fades_with_distance_in_a_flat_photo():
    L = np.full((30, 200), 50.0, np.float32)
    change, mask = one_hint(30, 200, 15, 5)
    out = spread(L, change, mask, reach=0.1)
    assert out[15, 20, 0] > out[15, 100, 0] > out[15, 195, 0] >= 0
    assert out[15, 195, 0] < 0.1 * 0.3


def test_no_hints_no_change_and_several_hints_each_hold():
    L = two_regions()
    zero = spread(L, np.zeros((40, 60, 2), np.float32), np.zeros((40, 60), np.float32))
    assert not zero.any()
    change, mask = one_hint()
    c2, m2 = one_hint(y=10, x=45, value=(-0.4, 0.1))
    out = spread(L, change + c2, mask + m2)
    np.testing.assert_allclose(out[20, 10], (0.3, -0.2), rtol=0.05)
    np.testing.assert_allclose(out[10, 45], (-0.4, 0.1), rtol=0.05)


def test_feature_maps_stop_it_between_regions_of_the_same_lightness():
    """Cloth and grass of one lightness: only the network's features tell them apart."""
    L = np.full((40, 60), 40.0, np.float32)
    features = np.zeros((40, 60, 4), np.float32)
    features[:, 30:, 0] = 5.0
    features += np.random.default_rng(0).normal(0, 0.05, features.shape).astype(np.float32)
    change, mask = one_hint()
    lightness_only = spread(L, change, mask)
    guided = spread(L, change, mask, features=features)
    assert lightness_only[:, 35:, 0].mean() > 0.05 * 0.3  # it crosses on lightness alone
    assert guided[:, 35:, 0].mean() < 0.01 * lightness_only[:, 35:, 0].mean()
    assert guided[5, 25, 0] > 0.2 * 0.3  # and still reaches across its own side
