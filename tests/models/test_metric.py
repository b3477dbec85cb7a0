"""Siamese/triplet models, their losses, pair/triplet sampling and evaluation helpers."""

import keras
import numpy as np
import pytest

from cnnkit.models import build
from cnnkit.models.metric import (EuclideanDistance, make_pairs, make_triplets, recall_at_k,
                                  verification_accuracy)
from cnnkit.train.losses import ContrastiveLoss, TripletLoss, contrastive_loss, triplet_loss


# --- losses ---------------------------------------------------------------------------------

def test_contrastive_loss_by_hand():
    same = np.array([1.0, 1.0, 0.0, 0.0])
    d = np.array([0.5, 0.0, 0.3, 1.5], dtype="float32")
    # y·d² + (1−y)·max(m − d, 0)² with m = 1: similar pairs pay d², dissimilar ones (1 − d)² below m
    expected = [0.5 ** 2, 0.0, (1.0 - 0.3) ** 2, 0.0]
    np.testing.assert_allclose(keras.ops.convert_to_numpy(contrastive_loss(same, d)), expected, rtol=1e-6)
    # the class averages over the batch; margin 2 makes the last pair cost (2 − 1.5)²
    loss = ContrastiveLoss(margin=2.0)(same, d[:, None])
    by_hand = (0.25 + 0.0 + 1.7 ** 2 + 0.5 ** 2) / 4
    np.testing.assert_allclose(float(loss), by_hand, rtol=1e-6)


def test_triplet_loss_by_hand():
    a, p, n = [0.0, 0.0], [1.0, 0.0], [0.0, 2.0]  # ‖a−p‖² = 1, ‖a−n‖² = 4
    far = [[a, p, n]]
    near = [[a, p, [0.0, 1.0]]]  # ‖a−n‖² = 1: loss = 1 − 1 + margin
    emb = np.array(far + near, dtype="float32")
    np.testing.assert_allclose(keras.ops.convert_to_numpy(triplet_loss(None, emb, margin=0.2)), [0.0, 0.2],
                               rtol=1e-6)
    np.testing.assert_allclose(float(TripletLoss(margin=3.5)(np.zeros(2), emb)), ((1 - 4 + 3.5) + 3.5) / 2,
                               rtol=1e-6)


def test_losses_validate_and_serialize():
    with pytest.raises(ValueError, match="margin"):
        ContrastiveLoss(margin=0.0)
    with pytest.raises(ValueError, match=r"\(batch, 3, dim\)"):
        triplet_loss(None, np.zeros((4, 8), dtype="float32"))
    for loss in (ContrastiveLoss(margin=0.7), TripletLoss(margin=0.3)):
        clone = keras.losses.deserialize(keras.losses.serialize(loss))
        assert type(clone) is type(loss) and clone.margin == loss.margin


# --- sampling -------------------------------------------------------------------------------

def _data(n=40, classes=4):
    y = np.arange(n) % classes
    x = np.arange(n, dtype="float32")[:, None]  # x[i] = i, so a drawn row tells its index
    return x, y


def test_make_pairs_labels_and_determinism():
    x, y = _data()
    xa, xb, same = make_pairs(x, y, 11, seed=3)
    ia, ib = xa[:, 0].astype(int), xb[:, 0].astype(int)
    assert same.sum() == 6 and same.dtype == np.float32  # half, rounded up
    np.testing.assert_array_equal(y[ia] == y[ib], same.astype(bool))
    assert np.all(ia != ib)
    again = make_pairs(x, y, 11, seed=3)
    other = make_pairs(x, y, 11, seed=4)
    assert all(np.array_equal(u, v) for u, v in zip((xa, xb, same), again))
    assert not all(np.array_equal(u, v) for u, v in zip((xa, xb, same), other))


def test_make_triplets_classes():
    x, y = _data()
    y[0] = 9  # a singleton class: never an anchor, only a negative
    a, p, n = (v[:, 0].astype(int) for v in make_triplets(x, y, 200, seed=0))
    assert np.all(y[a] == y[p]) and np.all(a != p) and np.all(y[a] != y[n])
    assert 0 not in a and 0 in n
    with pytest.raises(ValueError, match="2 classes"):
        make_triplets(x, np.zeros(40), 5)
    with pytest.raises(ValueError, match="same length"):
        make_pairs(x, y[:-1], 5)


def test_verification_accuracy_by_hand():
    d = [0.1, 0.4, 0.2, 0.8, 0.5]
    same = [1, 1, 0, 0, 1]
    # threshold 0.3 → predicted same = [1, 0, 1, 0, 0]; correct: pairs 0 and 3 → 2/5
    assert verification_accuracy(d, same, threshold=0.3) == (0.4, 0.3)
    # best cut: predict same for d <= 0.5 → wrong only on pair 2 (0.2, different) → 4/5
    assert verification_accuracy(d, same) == (0.8, 0.5)
    # no cut helps when all pairs differ: threshold -inf, everything "different"
    assert verification_accuracy([0.3, 0.3], [0, 0]) == (1.0, -np.inf)


def test_recall_at_k_by_hand():
    emb = np.array([[0.0], [1.0], [10.0], [11.0], [5.2]])
    labels = np.array([0, 1, 1, 0, 0])
    # nearest neighbours: 0→1 (miss), 1→0 (miss), 2→3 (miss), 3→2 (miss), 4→1 (miss)
    assert recall_at_k(emb, labels, k=1) == 0.0
    # 2 nearest: 0→{1,4} hit, 1→{0,4} miss, 2→{3,4} miss, 3→{2,4} hit, 4→{1,2} miss
    assert recall_at_k(emb, labels, k=2) == pytest.approx(2 / 5)
    assert recall_at_k(emb, labels, k=4) == 1.0
    with pytest.raises(ValueError, match="k must be"):
        recall_at_k(emb, labels, k=5)


# --- models ---------------------------------------------------------------------------------

def test_euclidean_distance_layer():
    a = np.array([[3.0, 0.0], [1.0, 1.0]], dtype="float32")
    b = np.array([[0.0, 4.0], [1.0, 1.0]], dtype="float32")
    out = keras.ops.convert_to_numpy(EuclideanDistance()([a, b]))
    np.testing.assert_allclose(out, [[5.0], [1e-6]], rtol=1e-5)
    assert EuclideanDistance.from_config(EuclideanDistance(epsilon=1e-8).get_config()).epsilon == 1e-8


def test_siamese_and_triplet_shapes_share_weights():
    siam = build("siamese", input_shape=(12, 12, 1), embedding_dim=8)
    trip = build("triplet", input_shape=(12, 12, 1), embedding_dim=8)
    x = np.random.default_rng(0).normal(size=(3, 12, 12, 1)).astype("float32")
    d = keras.ops.convert_to_numpy(siam([x, x[::-1]]))
    assert d.shape == (3, 1) and d[1, 0] < 1e-3 and np.all(d <= 2.0 + 1e-5)  # unit-norm embeddings
    emb = keras.ops.convert_to_numpy(trip([x, x, x[::-1]]))
    assert emb.shape == (3, 3, 8)
    np.testing.assert_allclose(np.linalg.norm(emb, axis=-1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(emb[:, 0], emb[:, 1], atol=1e-6)  # one shared embedding network
    n_embed = trip.get_layer("embedding").count_params()
    assert trip.count_params() == n_embed


def test_backbone_from_registry_and_errors():
    import cnnkit.models as models

    @models.register_model(name="_tiny_backbone_for_test")
    def _tiny(*, input_shape, num_classes, classifier_activation="softmax"):
        inputs = keras.Input(shape=input_shape)
        x = keras.layers.GlobalAveragePooling2D()(keras.layers.Conv2D(4, 3)(inputs))
        return keras.Model(inputs, keras.layers.Dense(num_classes, activation=classifier_activation)(x))

    try:
        siam = build("siamese", input_shape=(8, 8, 1), embedding_dim=5, backbone="_tiny_backbone_for_test")
        assert siam.get_layer("embedding").output.shape == (None, 5)
    finally:
        models._registry._MODELS.pop("_tiny_backbone_for_test")
    with pytest.raises(ValueError, match="single-input"):
        build("siamese", backbone="triplet")
    with pytest.raises(ValueError, match="embedding_dim"):
        build("triplet", embedding_dim=0)


def test_tiny_siamese_learns():
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(2), 32)
    # class 0: bright top half, class 1: bright bottom half, plus noise
    x = rng.normal(0.0, 0.3, size=(64, 8, 8, 1)).astype("float32")
    x[y == 0, :4] += 1.0
    x[y == 1, 4:] += 1.0
    xa, xb, same = make_pairs(x, y, 64, seed=0)
    model = build("siamese", input_shape=(8, 8, 1), embedding_dim=8, bn_momentum=0.5)
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss=ContrastiveLoss(margin=1.0))
    history = model.fit([xa, xb], same, batch_size=32, epochs=6, verbose=0, shuffle=False)
    losses = history.history["loss"]
    assert np.all(np.isfinite(losses)) and losses[-1] < 0.8 * losses[0], losses
