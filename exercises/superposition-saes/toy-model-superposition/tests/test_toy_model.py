import pytest
import torch


def reference_forward(W, b, x):
    return torch.relu(x @ W.T @ W + b)


def reference_loss(out, x, importance):
    return (importance * (x - out) ** 2).sum(-1).mean()


def random_weights(seed, n_features, n_hidden):
    rng = torch.Generator().manual_seed(seed)
    W = torch.randn(n_hidden, n_features, generator=rng)
    b = torch.randn(n_features, generator=rng) * 0.5  # some negative, so the ReLU matters
    x = torch.rand(6, n_features, generator=rng)
    return W, b, x


def remote_model(student, W, b):
    model = student.ToyModel(W.shape[1], W.shape[0])
    model.load_state_dict(dict(W=W, b_final=b))
    return model


def run(model, x):
    got = model(x)
    assert isinstance(got, torch.Tensor), f"ToyModel returned {type(got).__name__}, expected a tensor"
    assert got.shape == x.shape, (
        f"ToyModel gave shape {tuple(got.shape)}, expected (batch, n_features) = {tuple(x.shape)}"
    )
    return got


@pytest.mark.points(2)
def test_parameters_names_shapes_and_init(student):
    model = student.ToyModel(7, 3)
    params = [p for p in model.parameters()]
    assert len(params) == 2, f"ToyModel has {len(params)} parameters, expected 2: W and b_final"
    W, b = model.W, model.b_final
    assert isinstance(W, torch.Tensor) and isinstance(b, torch.Tensor), "W and b_final must be nn.Parameter attributes"
    assert W.shape == (3, 7), f"W has shape {tuple(W.shape)}, expected (n_hidden, n_features) = (3, 7)"
    assert b.shape == (7,), f"b_final has shape {tuple(b.shape)}, expected (n_features,) = (7,)"
    assert W.requires_grad and b.requires_grad, "W and b_final must be trainable nn.Parameters"
    assert (b == 0).all(), "b_final starts at zero"
    assert W.std() > 0.1, f"W looks uninitialised (std {W.std():.3g}): use a random init such as nn.init.xavier_normal_"


@pytest.mark.points(3)
def test_forward_matches_the_formula(student):
    W, b, x = random_weights(1, 7, 3)
    got = run(remote_model(student, W, b), x)
    if torch.allclose(got, reference_forward(W, b, x), rtol=1e-5, atol=1e-5):
        return
    if torch.allclose(got, x @ W.T @ W + b, atol=1e-5):
        raise AssertionError("the output has negative values: apply the ReLU to W^T W x + b")
    if torch.allclose(got, torch.relu(x @ W.T @ W) + b, atol=1e-5):
        raise AssertionError("you added b_final after the ReLU; the bias goes inside: ReLU(W^T W x + b)")
    if torch.allclose(got, torch.relu(x @ W.T) @ W + b, atol=1e-5) or torch.allclose(
        got, torch.relu(torch.relu(x @ W.T) @ W + b), atol=1e-5
    ):
        raise AssertionError("you applied a ReLU to the hidden layer; the hidden layer h = W x is linear")
    raise AssertionError("ToyModel output is wrong: ReLU(x W^T W + b_final), with W of shape (n_hidden, n_features)")


@pytest.mark.points(1)
def test_forward_batch_of_one_and_wide_hidden(student):
    W, b, x = random_weights(2, 4, 6)
    x = x[:1]
    got = run(remote_model(student, W, b), x)
    assert torch.allclose(got, reference_forward(W, b, x), rtol=1e-5, atol=1e-5), (
        "ToyModel(4, 6) (more hidden dimensions than features) on a batch of one is wrong: check the shapes of "
        "your matrix products (W is (n_hidden, n_features)) and that nothing assumes a batch of several rows"
    )


def call_loss(student, out, x, importance):
    got = student.importance_weighted_loss(out, x, importance)
    assert isinstance(got, torch.Tensor), f"importance_weighted_loss returned {type(got).__name__}, expected a tensor"
    assert got.shape == (), f"the loss has shape {tuple(got.shape)}, expected a scalar (0-dim tensor)"
    return got


@pytest.mark.points(2)
def test_loss_weights_sums_and_averages(student):
    rng = torch.Generator().manual_seed(3)
    x, out = torch.rand(5, 6, generator=rng), torch.rand(5, 6, generator=rng)
    importance = 0.7 ** torch.arange(6.0)
    got = call_loss(student, out, x, importance)
    want = reference_loss(out, x, importance)
    if torch.allclose(got, want, rtol=1e-5):
        return
    sq = (x - out) ** 2
    if torch.allclose(got, sq.sum(-1).mean(), rtol=1e-5):
        raise AssertionError("the loss ignores the importance weights")
    if torch.allclose(got, (importance * sq).mean(), rtol=1e-5):
        raise AssertionError(
            "you averaged over the features too; sum the weighted errors over features, average over the batch"
        )
    if torch.allclose(got, (importance * sq).sum(), rtol=1e-5):
        raise AssertionError("you summed over the batch; average over it")
    if torch.allclose(got, ((x - importance * out) ** 2).sum(-1).mean(), rtol=1e-5):
        raise AssertionError("the importance weights the squared error, not the output")
    raise AssertionError(
        "importance_weighted_loss is wrong: the mean over the batch of sum_i importance[i] * (x[:, i] - out[:, i])^2"
    )


@pytest.mark.points(0)
def test_loss_stays_differentiable(student):
    # Advisory, worth no points: requires_grad is the kernel's word about its tensor.
    rng = torch.Generator().manual_seed(4)
    x = torch.rand(3, 4, generator=rng)
    out = torch.rand(3, 4, generator=rng).requires_grad_()
    got = call_loss(student, out, x, torch.ones(4))
    assert got.requires_grad, (
        "the loss does not require grad: build it from tensor operations (no .item(), no torch.tensor(...))"
    )


@pytest.mark.points(3)
def test_generate_batch_features_are_independent(student):
    x = student.generate_batch(20000, 6, 0.1)
    assert isinstance(x, torch.Tensor), f"generate_batch returned {type(x).__name__}, expected a tensor"
    assert x.shape == (20000, 6), f"shape {tuple(x.shape)}, expected (20000, 6)"
    on = x > 0
    freq = on.float().mean(0)
    assert ((freq > 0.09) & (freq < 0.11)).all(), (
        f"per-feature share of non-zeros {freq.tolist()}, expected about 0.1 each"
    )
    both = (on[:, 0] & on[:, 1]).float().mean().item()
    assert both < 0.02, (
        f"features 0 and 1 are both present in {both:.3f} of the rows, expected about 0.1 * 0.1 = 0.01: "
        "draw an independent presence for every entry, not one per row"
    )
    mean = x[on].mean().item()
    assert 0.48 < mean < 0.52, f"present values average {mean:.3f}, expected about 0.5 (uniform in [0, 1))"
    assert (x >= 0).all() and (x < 1).all(), "values must lie in [0, 1)"


@pytest.mark.points(1)
def test_generate_batch_per_feature_probability(student):
    x = student.generate_batch(5000, 4, torch.tensor([0.0, 0.2, 0.5, 1.0]))
    assert isinstance(x, torch.Tensor), f"generate_batch returned {type(x).__name__}, expected a tensor"
    assert x.shape == (5000, 4), f"shape {tuple(x.shape)}, expected (5000, 4)"
    freq = (x > 0).float().mean(0)
    assert freq[0] == 0, "a feature with probability 0 must always be 0"
    assert freq[3] > 0.999, f"a feature with probability 1 is present in only {freq[3]:.3f} of the rows"
    assert 0.17 < freq[1] < 0.23 and 0.46 < freq[2] < 0.54, f"shares {freq.tolist()}, expected about [0, 0.2, 0.5, 1]"
