"""05 · convolution types: counts vs formulas, receptive fields, sampling points, timing, summary rows."""

import math

import keras
import numpy as np
import pandas as pd
import pytest

from cnnkit import stats
from cnnkit.blocks.conv import conv_layer
from cnnkit.teach import convolutions as cv

pytestmark = pytest.mark.backend

# Few distinct weight shapes: JAX compiles an initializer per shape (about a second each on CPU).
SMALL = dict(input_shape=(8, 8, 4), filters=4, kernel_size=3, groups=2, dilation_rate=2, strides=2)


@pytest.fixture(scope="module")
def table():
    return cv.conv_table(**SMALL)


@pytest.fixture(scope="module")
def blocks():
    return cv.block_comparison(256, size=4)


def test_every_kind_matches_its_formula(table):
    assert list(table["kind"]) == list(cv.KINDS)
    assert table["matches"].all(), table.to_string()


def test_counts_by_hand(table):
    """k=3, C=C'=4, 8x8 map: the numbers worked out on paper."""
    by = table.set_index("kind")
    assert by.loc["standard", "params"] == 9 * 4 * 4 == 144
    assert by.loc["grouped", "params"] == 9 * 2 * 4  # each filter sees C/groups channels
    assert by.loc["separable", "params"] == 9 * 4 + 4 * 4
    assert by.loc["pointwise", "params"] == 16 and by.loc["shuffle", "params"] == 0
    assert by.loc["deformable", "params"] == 144 + 9 * 4 * 18 + 18  # + the offset conv (2·k² channels, bias)
    assert by.loc["standard", "macs"] == 64 * 144 and by.loc["grouped", "macs"] == 64 * 72
    assert by.loc["transposed", "macs"] == 64 * 144  # input positions × kernel
    assert by.loc["transposed", "output_shape"] == ((8 - 1) * 2 + 3, (8 - 1) * 2 + 3, 4)  # (i−1)s − 2p + k, p=0
    assert by.loc["dilated", "receptive_field"] == 2 * (3 - 1) + 1
    assert by.loc["transposed", "receptive_field"] == math.ceil(3 / 2)
    assert by.loc["pointwise", "receptive_field"] == 1 and by.loc["standard", "receptive_field"] == 3


def test_stats_counts_deformable_macs():
    """The MAC rule added to cnnkit.stats: main kernel + offset conv at every output position."""
    model = cv.build_conv("deformable", (6, 5, 4), 4, kernel_size=3)
    assert stats.macs(model) == 6 * 5 * (9 * 4 * 4 + 9 * 4 * 18)
    assert stats.layer_table(model)["macs"].iloc[-1] == stats.macs(model)


def test_receptive_field_of_two_stacked_3x3_is_5():
    inputs = keras.Input((11, 11, 4))
    x = conv_layer(4, 3, name="b")(conv_layer(4, 3, name="a")(inputs))
    assert cv.receptive_field(keras.Model(inputs, x)) == 5
    assert cv.receptive_field(cv.build_conv("dilated", (11, 11, 4), 4, dilation_rate=3)) == 7


def test_block_comparison_reproduces_the_papers_counts(blocks):
    by = blocks.set_index("block")
    assert by.loc["basic", "params"] == 1_179_648 and by.loc["bottleneck", "params"] == 69_632
    assert round(by.loc["basic", "params"] / by.loc["bottleneck", "params"], 2) == 16.94
    assert by.loc["two_3x3", "params"] / 256**2 == 18 and by.loc["one_5x5", "params"] / 256**2 == 25
    assert (blocks["params"] == blocks["params_formula"]).all() and (blocks["macs"] == blocks["macs_formula"]).all()
    assert list(blocks["receptive_field"]) == [5, 3, 5, 5]


def test_block_comparison_rejects_channels_not_divisible_by_4():
    with pytest.raises(ValueError, match="multiple of 4.*30"):
        cv.block_comparison(30)


def test_sampling_grids():
    frame = cv.sampling_positions(("standard", "dilated"), size=9, kernel_size=3, dilation_rate=2)
    std, dil = (frame[frame["kind"] == k] for k in ("standard", "dilated"))
    assert sorted(set(std["row"])) == [3, 4, 5] and sorted(set(std["col"])) == [3, 4, 5]
    assert sorted(set(dil["row"])) == [2, 4, 6] and len(dil) == 9
    with pytest.raises(ValueError, match="'grouped'"):
        cv.sampling_positions(("grouped",))


def _bilinear(image, r, c):
    """NumPy bilinear sample of a (H, W) image at (r, c); outside reads 0."""
    r0, c0 = math.floor(r), math.floor(c)
    total = 0.0
    for dr, dc in ((0, 0), (0, 1), (1, 0), (1, 1)):
        rr, cc = r0 + dr, c0 + dc
        if 0 <= rr < image.shape[0] and 0 <= cc < image.shape[1]:
            total += image[rr, cc] * (1 - abs(r - rr)) * (1 - abs(c - cc))
    return total


def test_deformable_positions_are_where_the_layer_reads():
    layer, x = cv.deformable_example(size=7, offset_scale=0.7, seed=3)
    pixel = (3, 2)
    points = cv.deformable_positions(layer, x, pixel)
    grid = cv.sampling_positions(("standard",), size=7)[["row", "col"]].to_numpy() - 3 + np.array(pixel)
    assert np.abs(points - grid).max() > 0.1  # the random offsets moved the points
    kernel = keras.ops.convert_to_numpy(layer.kernel)[..., 0, 0].ravel()
    expected = sum(w * _bilinear(x[0, :, :, 0], r, c) for w, (r, c) in zip(kernel, points))
    got = keras.ops.convert_to_numpy(layer(x))[0, pixel[0], pixel[1], 0]
    assert got == pytest.approx(expected, abs=1e-4)


def test_zero_offsets_give_the_standard_convolution():
    assert cv.deformable_vs_conv((8, 8, 4), 4) < 1e-5


def test_measure_throughput_returns_a_rate():
    options = dict(input_shape=(8, 8, 4), filters=4, batch_size=4, steps=1, warmup=1)
    frame = cv.throughput_table(("pointwise", "shuffle"), **options)
    assert list(zip(frame["kind"], frame["mode"])) == [("pointwise", "forward"), ("pointwise", "forward+backward"),
                                                        ("shuffle", "forward")]
    assert (frame["images_per_s"] > 0).all() and frame["backend"].iloc[0] == keras.backend.backend()
    with pytest.raises(ValueError, match="steps"):
        cv.measure_throughput("standard", steps=0)


@pytest.mark.parametrize("call, match", [
    (lambda: cv.build_conv("fancy"), "'fancy'.*standard"),
    (lambda: cv.build_conv("grouped", (8, 8, 6), 6, groups=4), "groups=4"),
    (lambda: cv.formula("atrous"), "'atrous'"),
    (lambda: cv.throughput_table(("standard",), passes=("sideways",)), "sideways"),
])
def test_bad_arguments_are_named(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_summary_rows(table, blocks):
    throughput = pd.DataFrame({"kind": ["standard"], "mode": ["forward"], "images_per_s": [1234.5],
                               "device": ["cpu"], "backend": ["x"]})
    rows = cv.summary_rows(table, blocks, throughput, zero_offset_diff=0.0)
    verdicts = {r.quantity: r.verdict for r in rows}
    assert verdicts["basic / bottleneck parameters, 256 ch (built)"] == "agrees"
    assert rows[0].measured == "1,179,648" and rows[1].measured == "69,632" and rows[2].measured == "16.94"
    assert rows[3].measured == "18C² vs 25C²" and rows[4].measured == "5 vs 5"
    assert all(r.verdict == "agrees" for r in rows[:-1])
    assert rows[-1].verdict == "not comparable" and rows[-1].measured == "1,234 images/s"
    broken = table.assign(matches=[False] + [True] * (len(table) - 1))
    assert cv.summary_rows(broken, blocks)[6].verdict == "disagrees"
    assert cv.summary_rows(table, blocks, zero_offset_diff=0.5)[-1].verdict == "disagrees"
