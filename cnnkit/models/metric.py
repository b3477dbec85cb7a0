"""Siamese and triplet networks for metric learning, with pair/triplet sampling and evaluation.

A Siamese network (Bromley et al. 1993; Hadsell, Chopra & LeCun 2006) runs one shared
embedding network on two images and outputs the distance between the embeddings; trained
with :class:`cnnkit.train.losses.ContrastiveLoss`. A triplet network (Schroff et al. 2015,
"FaceNet") runs it on an anchor, a positive (same class) and a negative (other class) and
outputs the three embeddings stacked, for :class:`cnnkit.train.losses.TripletLoss`.
Embeddings are L2-normalised, so distances lie in [0, 2].

In the registry, ``num_classes`` (which ``build`` always passes) is unused by these two
models: the embedding size is the ``embedding_dim`` option.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from cnnkit.blocks.conv import conv_bn_act
from cnnkit.models._registry import build, register_model

__all__ = ["EuclideanDistance", "embedding_network", "make_pairs", "make_triplets", "recall_at_k",
           "siamese", "triplet", "verification_accuracy"]


@keras.saving.register_keras_serializable(package="cnnkit")
class EuclideanDistance(keras.layers.Layer):
    """Euclidean distance ``‖a − b‖`` between two batches of vectors, shape ``(batch, 1)``.

    The squared distance is clipped at ``epsilon`` before the square root, whose gradient
    is infinite at 0 (identical embeddings); ``sqrt(epsilon)`` is then the smallest distance.
    """

    def __init__(self, epsilon: float = 1e-12, **kwargs):
        super().__init__(**kwargs)
        self.epsilon = float(epsilon)

    def call(self, inputs, training=None):
        a, b = inputs
        sq = ops.sum(ops.square(a - b), axis=-1, keepdims=True)
        return ops.sqrt(ops.maximum(sq, self.epsilon))

    def compute_output_shape(self, input_shape):
        return (*input_shape[0][:-1], 1)

    def get_config(self) -> dict:
        return {**super().get_config(), "epsilon": self.epsilon}


def embedding_network(input_shape, *, embedding_dim: int = 64, backbone: str | None = None,
                      name: str = "embedding") -> keras.Model:
    """The shared network that maps one image to an L2-normalised embedding.

    Args:
        input_shape: ``(height, width, channels)``.
        embedding_dim: size of the embedding (64).
        backbone: ``None`` for a small built-in conv net (two conv-BN-ReLU(32) + max pool,
            two conv-BN-ReLU(64), global average pool, dense), or the name of any registered
            model, built with ``num_classes=embedding_dim`` and no classifier activation, whose
            last dense layer then gives the embedding.
        name: the model's name.
    """
    if not (isinstance(embedding_dim, int) and embedding_dim >= 1):
        raise ValueError(f"embedding_dim must be a positive int, got {embedding_dim!r}")
    if backbone in ("siamese", "triplet"):
        raise ValueError(f"backbone must be a single-input image model, got {backbone!r}; "
                         "use None (the built-in conv net) or e.g. 'lenet5'")
    if backbone is not None:
        base = build(backbone, input_shape=input_shape, num_classes=embedding_dim, classifier_activation=None)
        x = keras.layers.UnitNormalization(axis=-1, name="l2_normalize")(base.output)
        return keras.Model(base.inputs, x, name=name)
    inputs = keras.Input(shape=input_shape)
    x = conv_bn_act(inputs, 32, 3, name="conv1")
    x = conv_bn_act(x, 32, 3, name="conv2")
    x = keras.layers.MaxPooling2D(2, name="pool")(x)
    x = conv_bn_act(x, 64, 3, name="conv3")
    x = conv_bn_act(x, 64, 3, name="conv4")
    x = keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
    x = keras.layers.Dense(embedding_dim, name="dense")(x)
    x = keras.layers.UnitNormalization(axis=-1, name="l2_normalize")(x)
    return keras.Model(inputs, x, name=name)


@register_model
def siamese(*, input_shape=(32, 32, 3), num_classes: int = 10, classifier_activation: str | None = None,
            embedding_dim: int = 64, backbone: str | None = None) -> keras.Model:
    """Siamese network: inputs ``[x_a, x_b]``, output the embedding distance ``(batch, 1)``.

    Train with ``ContrastiveLoss`` and targets 1 (same class) / 0. ``num_classes`` and
    ``classifier_activation`` are accepted for the registry and ignored. See
    :func:`embedding_network` for ``embedding_dim`` and ``backbone``.
    """
    embed = embedding_network(input_shape, embedding_dim=embedding_dim, backbone=backbone)
    xa, xb = keras.Input(shape=input_shape, name="input_a"), keras.Input(shape=input_shape, name="input_b")
    distance = EuclideanDistance(name="distance")([embed(xa), embed(xb)])
    return keras.Model([xa, xb], distance, name="siamese")


@register_model
def triplet(*, input_shape=(32, 32, 3), num_classes: int = 10, classifier_activation: str | None = None,
            embedding_dim: int = 64, backbone: str | None = None) -> keras.Model:
    """Triplet network: inputs ``[anchor, positive, negative]``, output ``(batch, 3, embedding_dim)``.

    Train with ``TripletLoss`` (targets ignored). ``num_classes`` and ``classifier_activation``
    are accepted for the registry and ignored. The shared embedding network is the layer
    named ``"embedding"`` (``model.get_layer("embedding")``).
    """
    embed = embedding_network(input_shape, embedding_dim=embedding_dim, backbone=backbone)
    names = ("anchor", "positive", "negative")
    inputs = [keras.Input(shape=input_shape, name=n) for n in names]
    stacked = [keras.layers.Reshape((1, embedding_dim), name=f"{n}_row")(embed(x)) for n, x in zip(names, inputs)]
    return keras.Model(inputs, keras.layers.Concatenate(axis=1, name="embeddings")(stacked), name="triplet")


# --- sampling -------------------------------------------------------------------------------

class _Sampler:
    """Draws same-class and other-class partners in O(1) from labels sorted by class."""

    def __init__(self, y, seed: int, need: str):
        self.y = np.asarray(y).reshape(-1)
        classes, counts = np.unique(self.y, return_counts=True)
        if classes.size < 2:
            raise ValueError(f"{need} needs labels of at least 2 classes, got {classes.tolist()}")
        if counts.max() < 2:
            raise ValueError(f"{need} needs a class with at least 2 examples to form positive pairs")
        self.order = np.argsort(self.y, kind="stable")
        self.cls = np.searchsorted(classes, self.y)  # class index of every example
        self.start = np.concatenate([[0], np.cumsum(counts)[:-1]])
        self.count = counts
        self.anchors = np.flatnonzero(counts[self.cls] >= 2)  # examples that have a positive partner
        self.rng = np.random.default_rng(seed)

    def anchor(self) -> int:
        return int(self.anchors[self.rng.integers(len(self.anchors))])

    def positive(self, i: int) -> int:
        """Another example of ``i``'s class, uniformly."""
        c = self.cls[i]
        j = self.order[self.start[c] + self.rng.integers(self.count[c] - 1)]
        return int(self.order[self.start[c] + self.count[c] - 1]) if j == i else int(j)

    def negative(self, i: int) -> int:
        """An example of another class, uniformly."""
        c = self.cls[i]
        r = self.rng.integers(len(self.y) - self.count[c])
        return int(self.order[r + self.count[c] if r >= self.start[c] else r])


def _check(x, y, n: int) -> np.ndarray:
    if not (isinstance(n, (int, np.integer)) and n >= 1):
        raise ValueError(f"n (number of pairs/triplets) must be a positive int, got {n!r}")
    x = np.asarray(x)
    if len(x) != np.asarray(y).size:
        raise ValueError(f"x and y must have the same length, got {len(x)} and {np.asarray(y).size}")
    return x


def make_pairs(x, y, n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Draw ``n`` image pairs, half of them (rounded up) of the same class, in random order.

    Each pair's first image is drawn uniformly; a positive partner is another example of its
    class (only classes with 2+ examples give positives), a negative one an example of
    another class. Deterministic for a given ``seed``.

    Returns:
        ``(x_a, x_b, same)`` with ``same`` 1.0 for same-class pairs, 0.0 otherwise (float32):
        ``model.fit([x_a, x_b], same)`` trains a :func:`siamese` model.
    """
    x = _check(x, y, n)
    sampler = _Sampler(y, seed, "make_pairs")
    same = sampler.rng.permutation(np.arange(n) < (n + 1) // 2)
    ia = np.array([sampler.anchor() if s else sampler.rng.integers(len(x)) for s in same], dtype=int)
    ib = np.array([sampler.positive(i) if s else sampler.negative(i) for i, s in zip(ia, same)], dtype=int)
    return x[ia], x[ib], same.astype("float32")


def make_triplets(x, y, n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Draw ``n`` (anchor, positive, negative) triplets, deterministic for a given ``seed``.

    Anchors are drawn uniformly from the classes with 2+ examples; the positive is another
    example of the anchor's class, the negative an example of another class.

    Returns:
        ``(anchors, positives, negatives)``: ``model.fit([a, p, n], np.zeros(len(a)))``
        trains a :func:`triplet` model.
    """
    x = _check(x, y, n)
    sampler = _Sampler(y, seed, "make_triplets")
    ia = np.array([sampler.anchor() for _ in range(n)], dtype=int)
    ip = np.array([sampler.positive(i) for i in ia], dtype=int)
    ineg = np.array([sampler.negative(i) for i in ia], dtype=int)
    return x[ia], x[ip], x[ineg]


# --- evaluation -----------------------------------------------------------------------------

def verification_accuracy(distances, same, threshold: float | None = None) -> tuple[float, float]:
    """Accuracy of the rule "same class iff distance <= threshold".

    Args:
        distances: one distance per pair.
        same: 1/True for same-class pairs, 0/False otherwise.
        threshold: the decision threshold; ``None`` picks the one that maximises the accuracy
            on these pairs (the smallest such one among the distances themselves and ``-inf``,
            "no pair is same"). Pick it on validation pairs when reporting a test accuracy.

    Returns:
        ``(accuracy, threshold)``.
    """
    d = np.asarray(distances, dtype=float).reshape(-1)
    s = np.asarray(same).reshape(-1).astype(bool)
    if d.size == 0 or d.size != s.size:
        raise ValueError(f"distances and same must be non-empty and of equal length, got {d.size} and {s.size}")
    if threshold is not None:
        return float(np.mean((d <= threshold) == s)), float(threshold)
    order = np.argsort(d, kind="stable")
    d, s = d[order], s[order]
    # cut after position i (predict "same" for the i+1 smallest): correct = same below + different above
    correct = np.concatenate([[0], np.cumsum(s)]) + np.concatenate([np.cumsum((~s)[::-1])[::-1], [0]])
    valid = np.concatenate([[True], np.append(d[1:] != d[:-1], True)])  # cuts between distinct values
    best = int(np.argmax(np.where(valid, correct, -1)))
    return float(correct[best] / d.size), float(-np.inf if best == 0 else d[best - 1])


def recall_at_k(embeddings, labels, k: int = 1, *, chunk: int = 1024) -> float:
    """Recall@k: the fraction of queries with a same-label example among their k nearest neighbours.

    Every example is a query against all the others (Euclidean distance, the query itself
    excluded), as in the metric-learning literature (e.g. Song et al. 2016).

    Args:
        embeddings: ``(n, dim)`` array.
        labels: ``(n,)`` labels.
        k: neighbours considered, ``1 <= k < n``.
        chunk: queries per block (bounds the memory of the distance matrix).
    """
    e = np.asarray(embeddings, dtype=np.float64)
    lab = np.asarray(labels).reshape(-1)
    if e.ndim != 2 or e.shape[0] != lab.size:
        raise ValueError(f"embeddings must be (n, dim) with n = len(labels); got {e.shape} and {lab.size} labels")
    if not (isinstance(k, (int, np.integer)) and 1 <= k < e.shape[0]):
        raise ValueError(f"k must be an int in [1, n-1] = [1, {e.shape[0] - 1}], got {k!r}")
    sq = np.sum(e * e, axis=1)
    hits = 0
    for start in range(0, e.shape[0], chunk):
        q = slice(start, start + chunk)
        dist = sq[q, None] + sq[None, :] - 2.0 * e[q] @ e.T
        dist[np.arange(dist.shape[0]), np.arange(start, start + dist.shape[0])] = np.inf
        nearest = np.argpartition(dist, k - 1, axis=1)[:, :k]
        hits += int(np.sum(np.any(lab[nearest] == lab[q, None], axis=1)))
    return hits / e.shape[0]
