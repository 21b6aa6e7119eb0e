import cv2
import numpy as np
from skimage import data

from model import color


def test_lab_round_trip_is_exact_to_8_bits():
    rgb = color.from_uint8(data.astronaut())
    back = color.lab_to_rgb(color.rgb_to_lab(rgb))
    assert np.abs(color.to_uint8(back).astype(int) - data.astronaut().astype(int)).max() <= 1


def test_lab_ranges_and_paper_normalisation():
    rgb = color.from_uint8(data.coffee())
    lab = color.rgb_to_lab(rgb)
    assert 0 <= lab[..., 0].min() and lab[..., 0].max() <= 100
    ab = color.normalise_ab(lab[..., 1:])
    assert np.abs(ab).max() <= 1.0
    L = color.normalise_L(lab[..., 0])
    assert -1.0 <= L.min() and L.max() <= 1.0


def test_compose_keeps_luminance_and_zero_ab_is_gray():
    rgb = color.from_uint8(data.chelsea())
    L = color.luminance(rgb)
    gray = color.compose(L, np.zeros(L.shape + (2,), np.float32))
    assert np.allclose(gray[..., 0], gray[..., 1], atol=1e-3)
    # OpenCV's float Lab is exact to about a quarter of one 8-bit gray level (0.39 L)
    assert np.allclose(color.luminance(gray), L, atol=0.3)
    lab = color.rgb_to_lab(rgb)
    full = color.compose(L, color.normalise_ab(lab[..., 1:]))
    assert np.abs(full - rgb).max() < 2e-3


def test_compose_in_strips_matches_one_piece(monkeypatch):
    rng = np.random.default_rng(0)
    L = rng.uniform(0, 100, (37, 29)).astype(np.float32)
    ab = rng.uniform(-0.6, 0.6, (37, 29, 2)).astype(np.float32)
    whole = color.compose(L, ab)
    monkeypatch.setattr(color, "COMPOSE_ROWS_PIXELS", 29 * 5)  # strips of a few rows
    assert np.array_equal(color.compose(L, ab), whole)


def test_a_panorama_wider_than_opencvs_remap_is_composed():
    """A 32,800 px wide panorama was colorized and then failed at writing: OpenCV's remap
    takes maps under 32,767 px wide."""
    rng = np.random.default_rng(1)
    L = rng.uniform(0, 100, (2, 32_800)).astype(np.float32)
    ab = rng.uniform(-0.6, 0.6, (2, 32_800, 2)).astype(np.float32)
    wide = color.compose(L, ab)
    assert wide.shape == (2, 32_800, 3)
    np.testing.assert_allclose(wide[:, -100:], color.compose(L[:, -100:], ab[:, -100:]), atol=1e-3)


def test_the_gamut_table_is_kept_in_the_user_cache(monkeypatch):
    from model.io.places import cache_root, gamut_table

    built = color.build_max_chroma_table()
    np.testing.assert_array_equal(gamut_table(), built)     # built and written
    (path,) = cache_root().glob("gamut-table-*.npy")

    def no_building():
        raise AssertionError("the cached table should have been read")

    with monkeypatch.context() as m:
        m.setattr(color, "build_max_chroma_table", no_building)
        np.testing.assert_array_equal(gamut_table(), built)
    path.write_bytes(path.read_bytes()[:500])               # damaged: built again
    np.testing.assert_array_equal(gamut_table(), built)
    assert np.array_equal(np.load(path), built)


def test_colour_maths_builds_its_table_itself_when_given_no_loader(monkeypatch):
    monkeypatch.setattr(color, "_TABLE", None)
    color.prepare()
    np.testing.assert_array_equal(color._max_chroma_table(), color.build_max_chroma_table())


def test_gamut_mapping_keeps_colours_that_fit_and_brings_the_rest_inside():
    rng = np.random.default_rng(3)
    L = rng.uniform(0, 100, (120, 120)).astype(np.float32)
    ab = rng.uniform(-1, 1, (120, 120, 2)).astype(np.float32)
    ab[0, 0], L[0, 0] = np.array([-22.1, 92.2]) / 128, 96.5  # in gamut beyond its first edge
    out = color.compose(L, ab)
    lab = color.rgb_to_lab(out)
    assert np.abs(lab[..., 0] - L).max() < 0.3      # inside the gamut: no channel clipped
    assert np.allclose(lab[0, 0, 1:], [-22.1, 92.2], atol=0.3)
    fits = color._in_gamut(np.dstack([L, ab * 128]))
    assert np.abs(lab[..., 1:] - ab * 128)[fits].max() < 0.6   # kept, to float Lab accuracy
    chroma_in, chroma_out = np.hypot(*np.moveaxis(ab * 128, -1, 0)), np.hypot(*np.moveaxis(lab[..., 1:], -1, 0))
    assert (chroma_out[~fits] < chroma_in[~fits]).all()          # the rest pulled toward gray


def test_every_chroma_below_the_gamut_table_fits():
    """Colours at or below the table's limit are never tested again, so the table must
    stop before the first exit also where the gamut is not convex (near yellow)."""
    table = color._max_chroma_table()
    L = np.linspace(0, 100, table.shape[0], dtype=np.float32)[:, None]
    hue = np.deg2rad(np.arange(table.shape[1], dtype=np.float32) * (360.0 / (table.shape[1] - 1)))
    for k in range(1, 41):
        chroma = table * np.float32(k / 40)
        lab = np.dstack([np.broadcast_to(L, table.shape), chroma * np.cos(hue), chroma * np.sin(hue)])
        assert color._in_gamut(lab, tol=1e-4).all(), k


def test_a_region_of_a_small_copy_is_the_full_size_resize_of_it_there():
    rng = np.random.default_rng(0)
    small = rng.random((40, 60, 2), dtype=np.float32)
    full = cv2.resize(small, (300, 200), interpolation=cv2.INTER_LINEAR)
    part = color.region_of(small, (300, 200), (50, 30, 170, 120))
    assert part.shape == (90, 120, 2) and np.abs(part - full[30:120, 50:170]).max() < 0.03
    half = color.region_of(small, (300, 200), (0, 0, 300, 200), (150, 100))
    assert np.abs(half - cv2.resize(full, (150, 100), interpolation=cv2.INTER_LINEAR)).max() < 0.03
