import pytest
import torch


def ref_norms(W):
    return W.norm(dim=0)


def ref_overlaps(W):
    unit = W / W.norm(dim=0).clamp_min(1e-8)
    return (unit.T @ W) ** 2


def ref_interference(W):
    o = ref_overlaps(W)
    return o.sum(1) - o.diagonal()


def ref_dimensionality(W):
    return W.norm(dim=0) ** 2 / ref_overlaps(W).sum(1).clamp_min(1e-12)


def random_W(seed, n_hidden=3, n_features=7):
    rng = torch.Generator().manual_seed(seed)
    return torch.randn(n_hidden, n_features, generator=rng)


@pytest.mark.points(1)
def test_feature_norms_are_column_norms(student):
    W = random_W(1)
    got = student.feature_norms(W)
    assert isinstance(got, torch.Tensor), f"feature_norms returned {type(got).__name__}, expected a tensor"
    assert got.shape == (7,), (
        f"feature_norms gave shape {tuple(got.shape)}, expected (n_features,) = (7,): one value per column of W"
    )
    assert torch.allclose(got, ref_norms(W), rtol=1e-5), "feature_norms is wrong: the norm of each column W[:, i]"


@pytest.mark.points(2)
def test_interference_excludes_the_feature_itself(student):
    W = random_W(2)
    got = student.superposition_interference(W)
    assert isinstance(got, torch.Tensor), f"superposition_interference returned {type(got).__name__}, expected a tensor"
    assert got.shape == (7,), (
        f"superposition_interference gave shape {tuple(got.shape)}, expected (n_features,) = (7,): one value per "
        "column of W"
    )
    want = ref_interference(W)
    if torch.allclose(got, want, rtol=1e-4, atol=1e-5):
        return
    if torch.allclose(got, ref_overlaps(W).sum(1), rtol=1e-4):
        raise AssertionError("you included j = i; interference sums over the other features only")
    if torch.allclose(got, ((W.T @ W) ** 2).sum(1) - W.norm(dim=0) ** 4, rtol=1e-4):
        raise AssertionError("normalize feature i's direction first: (Ŵ_i · W_j)^2 with Ŵ_i = W_i / ||W_i||")
    raise AssertionError("superposition_interference is wrong: for each column i, the sum over j != i of (Ŵ_i · W_j)^2")


@pytest.mark.points(2)
def test_dimensionality(student):
    W = random_W(3, 4, 9)
    got = student.feature_dimensionality(W)
    assert isinstance(got, torch.Tensor), f"feature_dimensionality returned {type(got).__name__}, expected a tensor"
    assert got.shape == (9,), (
        f"feature_dimensionality gave shape {tuple(got.shape)}, expected (n_features,) = (9,): one value per column "
        "of W"
    )
    want = ref_dimensionality(W)
    if torch.allclose(got, want, rtol=1e-4, atol=1e-5):
        return
    if torch.allclose(got, W.norm(dim=0) ** 2 / ref_interference(W), rtol=1e-4):
        raise AssertionError("the denominator sums over all j, the feature itself included")
    if torch.allclose(got, W.norm(dim=0) ** 2 / ((W.T @ W) ** 2).sum(1), rtol=1e-4):
        raise AssertionError("normalize feature i's direction first: (Ŵ_i · W_j)^2 with Ŵ_i = W_i / ||W_i||")
    raise AssertionError(
        "feature_dimensionality is wrong: ||W_i||^2 / sum over all j of (Ŵ_i · W_j)^2, for each column i"
    )


@pytest.mark.points(1)
def test_dropped_feature_gives_zero_not_nan(student):
    W = random_W(4, 2, 5)
    W[:, 3] = 0.0
    inter = student.superposition_interference(W)
    assert isinstance(inter, torch.Tensor), (
        f"superposition_interference returned {type(inter).__name__}, expected a tensor"
    )
    assert inter.shape == (5,), (
        f"superposition_interference gave shape {tuple(inter.shape)}, expected (n_features,) = (5,): one value per "
        "column of W"
    )
    dim = student.feature_dimensionality(W)
    assert isinstance(dim, torch.Tensor), f"feature_dimensionality returned {type(dim).__name__}, expected a tensor"
    assert dim.shape == (5,), (
        f"feature_dimensionality gave shape {tuple(dim.shape)}, expected (n_features,) = (5,): one value per column "
        "of W"
    )
    assert not torch.isnan(inter).any() and not torch.isnan(dim).any(), (
        "a zero column gave nan: guard the division by ||W_i||"
    )
    assert inter[3] == 0 and dim[3] == 0, (
        f"a zero column should get interference 0 and dimensionality 0, got {inter[3]:.3g} and {dim[3]:.3g}"
    )
    assert torch.allclose(dim, ref_dimensionality(W), rtol=1e-4, atol=1e-5), (
        "the other features' dimensionality is wrong"
    )


@pytest.mark.points(1)
def test_dimensions_per_feature(student):
    W = random_W(5, 3, 8)
    got = student.dimensions_per_feature(W)
    assert isinstance(got, (float, torch.Tensor)), (
        f"dimensions_per_feature returned {type(got).__name__}, expected a float"
    )
    want = 3 / W.pow(2).sum().item()
    assert abs(float(got) - want) < 1e-4 * want, (
        "dimensions_per_feature is wrong: n_hidden / ||W||_F^2 (the squared Frobenius norm: every entry of W squared "
        "and summed)"
    )


def trained_W(student, p, seed, steps=2000):
    importance = torch.tensor([0.9**i for i in range(5)])
    model = student.train_toy_model(5, 2, p, importance, steps, 1024, 1e-2, seed)
    W = model.W
    assert isinstance(W, torch.Tensor), f"train_toy_model returned a model whose W is a {type(W).__name__}"
    assert W.shape == (2, 5), f"the trained W has shape {tuple(W.shape)}, expected (n_hidden, n_features) = (2, 5)"
    return W.detach()


@pytest.mark.points(2)
def test_dense_training_keeps_the_two_most_important_features(student):
    W = trained_W(student, 1.0, 3)
    norms = W.norm(dim=0)
    assert (norms[:2] > 0.9).all() and (norms[2:] < 0.15).all(), (
        f"after training on dense data the column norms are {[round(v, 3) for v in norms.tolist()]}, expected about "
        "[1, 1, 0, 0, 0]: check the loss weighting and that the data are fresh every step"
    )
    assert abs(2 / W.pow(2).sum().item() - 1.0) < 0.1, "expected about one dimension per represented feature"


@pytest.mark.points(3)
def test_sparse_training_superposes_all_five_features(student):
    W = trained_W(student, 0.05, 4)
    norms = W.norm(dim=0)
    assert (norms > 0.8).all(), (
        f"after training on sparse data (p = 0.05) the column norms are {[round(v, 3) for v in norms.tolist()]}: "
        "expected all five features represented (superposition)"
    )
    dims = ref_dimensionality(W)
    assert ((dims > 0.25) & (dims < 0.55)).all(), (
        f"feature dimensionalities {[round(v, 3) for v in dims.tolist()]}, expected about 0.4 each (a pentagon)"
    )
    assert 2 / W.pow(2).sum().item() < 0.45, "expected under half a dimension per feature"


@pytest.mark.points(1)
def test_training_is_reproducible_from_the_seed(student):
    a = trained_W(student, 0.2, 7, steps=30)
    b = trained_W(student, 0.2, 7, steps=30)
    c = trained_W(student, 0.2, 8, steps=30)
    assert torch.allclose(a, b), (
        "two runs with the same seed gave different weights: seed the init and the data (torch.manual_seed)"
    )
    assert not torch.allclose(a, c), "two different seeds gave the same weights: use the seed argument"
