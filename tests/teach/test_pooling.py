"""Pooling by hand (NHWC NumPy) against Keras pooling and the backend's autodiff."""

import keras
import numpy as np
import pytest

from cnnkit.teach import pooling as pl

pytestmark = pytest.mark.backend

FUNCS = {"max": (pl.max_pool_forward, pl.max_pool_backward, pl.max_pool_backward_loops),
         "avg": (pl.avg_pool_forward, pl.avg_pool_backward, pl.avg_pool_backward_loops)}
KERAS_OPS = {"max": keras.ops.max_pool, "avg": keras.ops.average_pool}


def param(window, stride):
    (kh, kw) = (window, window) if isinstance(window, int) else window
    return {"pool_height": kh, "pool_width": kw, "stride": stride}


@pytest.mark.parametrize("mode", ["max", "avg"])
@pytest.mark.parametrize("window, stride, side", pl.SETTINGS)
def test_forward_and_backward_match_keras_and_autodiff(mode, window, stride, side):
    rng = np.random.default_rng(side)
    x = rng.standard_normal((2, side, side + 1, 3))  # non-square too
    p = param(window, stride)
    forward, backward, loops = FUNCS[mode]
    out, cache = forward(x, p)
    kh, kw = p["pool_height"], p["pool_width"]
    expected = keras.ops.convert_to_numpy(KERAS_OPS[mode](x.astype("float32"), (kh, kw), stride, padding="valid"))
    assert out.shape == expected.shape
    np.testing.assert_allclose(out, expected, atol=1e-6)
    dout = rng.standard_normal(out.shape)
    dx = backward(dout, cache)
    np.testing.assert_allclose(dx, pl.autodiff_backward(x, dout, p, mode), atol=1e-6)
    np.testing.assert_allclose(dx, loops(dout, cache), atol=1e-12)
    np.testing.assert_allclose(dx.sum(), dout.sum(), atol=1e-9)  # every incoming gradient lands somewhere


def test_overlapping_windows_accumulate_the_gradient_of_a_shared_maximum():
    x = np.array([0.0, 1.0, 5.0, 1.0, 0.0])[None, None, :, None]  # one row; the 5 wins all three 1x3 windows
    out, cache = pl.max_pool_forward(x, {"pool_height": 1, "pool_width": 3, "stride": 1})
    assert out.ravel().tolist() == [5.0, 5.0, 5.0]
    dx = pl.max_pool_backward(np.array([1.0, 2.0, 4.0])[None, None, :, None], cache)
    assert dx.ravel().tolist() == [0.0, 0.0, 7.0, 0.0, 0.0]
    davg = pl.avg_pool_backward(np.array([3.0, 3.0, 3.0])[None, None, :, None], cache)
    assert davg.ravel().tolist() == [1.0, 2.0, 3.0, 2.0, 1.0]  # each input is in 1, 2, 3, 2, 1 windows


def test_a_window_that_does_not_tile_leaves_the_rest_without_gradient():
    x = np.arange(49.0).reshape(1, 7, 7, 1)  # 2x2/2 reads rows/columns 0-5 only
    out, cache = pl.avg_pool_forward(x, param(2, 2))
    dx = pl.avg_pool_backward(np.ones_like(out), cache)
    assert out.shape == (1, 3, 3, 1) and np.all(dx[0, 6, :, 0] == 0) and np.all(dx[0, :, 6, 0] == 0)
    assert np.all(dx[0, :6, :6, 0] == 0.25)


def test_the_articles_worked_examples():
    ex = pl.worked_examples()
    assert ex["input"].tolist() == [[1, 3], [2, 4]]
    assert ex["max_out"].item() == 4 and ex["max_grad"].tolist() == [[0, 0], [0, 1]]
    assert ex["avg_out"].item() == 2.5 and ex["avg_grad"].tolist() == [[0.25, 0.25], [0.25, 0.25]]


def test_backward_table_is_within_tolerance_for_every_setting():
    table = pl.backward_table(pl.SETTINGS[:2], batch=1, channels=2)
    assert len(table) == 4 and table["overlapping"].tolist() == [False, False, True, True]
    assert table[["forward_max_abs_diff", "backward_max_abs_diff"]].max().max() < 1e-6
    assert table["loops_max_abs_diff"].max() < 1e-12


@pytest.mark.parametrize("p, match", [
    ({"pool_height": 2, "stride": 2}, "missing \\['pool_width'\\]"),
    ({"pool_height": 0, "pool_width": 2, "stride": 2}, "pool_height must be a positive int, got 0"),
    ({"pool_height": 9, "pool_width": 2, "stride": 2}, "9x2 window does not fit"),
])
def test_bad_pool_params_are_rejected(p, match):
    with pytest.raises(ValueError, match=match):
        pl.max_pool_forward(np.zeros((1, 4, 4, 1)), p)


def test_bad_layout_and_mode_are_rejected():
    with pytest.raises(ValueError, match="NHWC"):
        pl.avg_pool_forward(np.zeros((4, 4)), param(2, 2))
    with pytest.raises(ValueError, match="'median'"):
        pl.autodiff_backward(np.zeros((1, 4, 4, 1)), np.zeros((1, 2, 2, 1)), param(2, 2), mode="median")


def test_pool_examples_on_a_small_map():
    fmap = pl.example_map(7, seed=3)
    ex = pl.pool_examples(fmap, seed=0)
    assert ex["max 2x2/2"].shape == ex["overlapping max 3x3/2"].shape == (3, 3)
    assert ex["max 2x2/2"][0, 0] == fmap[:2, :2].max() and ex["overlapping max 3x3/2"][1, 1] == fmap[2:5, 2:5].max()
    assert ex["global average"].item() == pytest.approx(fmap.mean(), rel=1e-6)
    sample = ex["stochastic 2x2/2 (training)"]
    for r in range(3):
        for c in range(3):
            window = fmap[2 * r:2 * r + 2, 2 * c:2 * c + 2]
            assert sample[r, c] in window
            expected = (window ** 2).sum() / window.sum() if window.sum() > 0 else 0.0
            assert ex["stochastic 2x2/2 (inference)"][r, c] == pytest.approx(expected, rel=1e-5)


def test_stochastic_pooling_picks_in_proportion_to_the_activation():
    freq = pl.stochastic_frequencies(((1, 3), (2, 4)), draws=4000, seed=1)
    assert freq["probability"].tolist() == pytest.approx([0.1, 0.3, 0.2, 0.4])
    assert np.abs(freq["frequency"] - freq["probability"]).max() < 0.035  # 4.5 sd of a share at 4000 draws
    assert freq["frequency"].sum() == pytest.approx(1.0)
    assert freq.attrs["inference"] == pytest.approx(30 / 10)  # Σa²/Σa = (1 + 9 + 4 + 16) / 10
    with pytest.raises(ValueError, match="non-negative"):
        pl.stochastic_frequencies(((1, -3), (2, 4)))


def test_head_params_counts_match_the_formula_and_vgg16():
    table = pl.head_params().set_index("head")
    assert table["params (Keras)"].tolist() == table["params (formula)"].tolist()
    # VGG16 with top has 138,357,544 parameters, 14,714,688 of them in its convolutions
    assert table.loc["flatten + FC", "params (Keras)"] == 138_357_544 - 14_714_688
    assert table.loc["GAP + dense", "params (Keras)"] == (512 + 1) * 1000
    small = pl.head_params((4, 4, 64), num_classes=10, hidden=()).set_index("head")
    assert small["params (Keras)"].tolist() == [(4 * 4 * 64 + 1) * 10, (64 + 1) * 10]
