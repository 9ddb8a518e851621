import sys
from pathlib import Path

import pytest
import torch

DATA = Path(__file__).parent.parent / "data"
sys.path.insert(0, str(DATA))
from induction_model import load_model  # noqa: E402
from induction_model.testing import in_kernel, random_model  # noqa: E402

SMALL = dict(d_vocab=13, n_ctx=12, d_model=12, n_layers=3, n_heads=3, d_head=4)
TOL = dict(rtol=1e-3, atol=1e-4)


# --- the judge's references, from the dense weights (no FactoredMatrix) -------------------------


def W_OV(model, layer, head):
    return model.W_V[layer, head].detach().double() @ model.W_O[layer, head].detach().double()


def W_QK(model, layer, head):
    return model.W_Q[layer, head].detach().double() @ model.W_K[layer, head].detach().double().T


def embed(model):
    return model.W_E.detach().double()


def unembed(model):
    return model.W_U.detach().double()


def positions(model):
    return model.W_pos.detach().double()


def full_ov(model, layer, head):
    return embed(model) @ W_OV(model, layer, head) @ unembed(model)


def copying(matrix):
    ev = torch.linalg.eigvals(matrix)
    return (ev.sum() / ev.abs().sum()).real.item()


def pos_qk(model, layer, head):
    return positions(model) @ W_QK(model, layer, head) @ positions(model).T


def comp(W_A, W_B):
    return (torch.linalg.matrix_norm(W_A @ W_B) / (torch.linalg.matrix_norm(W_A) * torch.linalg.matrix_norm(W_B))).item()


def reader(model, kind, layer, head):
    if kind == "q":
        return W_QK(model, layer, head)
    if kind == "k":
        return W_QK(model, layer, head).T
    return W_OV(model, layer, head)


def comp_table(model, kind, layer_a, layer_b, order="ab"):
    n = model.cfg.n_heads
    out = torch.zeros(n, n, dtype=torch.float64)
    for i in range(n):
        for j in range(n):
            W_A, W_B = W_OV(model, layer_a, i), reader(model, kind, layer_b, j)
            out[i, j] = comp(W_A, W_B) if order == "ab" else comp(W_B, W_A)
    return out


# --- calls into the learner's notebook ------------------------------------------------------------


def type_name(got):
    # A handle on an object that stays in the notebook (a FactoredMatrix) tells its class as remote_type.
    return getattr(got, "remote_type", None) or type(got).__name__


def as_number(got):
    """A float from a learner's number (a float, or a one-element real tensor); None if it is not one."""
    if isinstance(got, torch.Tensor) and got.numel() == 1 and not got.is_complex():
        return got.double().item()
    if isinstance(got, (float, int)) and not isinstance(got, bool):
        return float(got)
    return None


def call_ov(student, *args):
    got = student.ov_circuit(*args)
    assert isinstance(got, torch.Tensor), (
        f"ov_circuit returned {type_name(got)}, expected a tensor: return the FactoredMatrix's .AB"
    )
    return got.detach().double()


def call_pos_qk(student, *args):
    got = student.pos_qk_circuit(*args)
    assert isinstance(got, torch.Tensor), (
        f"pos_qk_circuit returned {type_name(got)}, expected a tensor: return the FactoredMatrix's .AB"
    )
    return got.detach().double()


def call_copying(student, *args):
    got = student.copying_score(*args)
    value = as_number(got)
    assert value is not None, (
        f"copying_score returned {type_name(got)}, expected a float (the real part of a complex ratio)"
    )
    return value


def call_comp(student, *args):
    got = student.comp_score(*args)
    value = as_number(got)
    assert value is not None, f"comp_score returned {type_name(got)}, expected a float"
    return value


def call_table(student, *args):
    got = student.composition_scores(*args)
    assert isinstance(got, torch.Tensor), f"composition_scores returned {type_name(got)}, expected a tensor"
    return got.detach().double()


def close(a, b, **tol):
    return a.shape == b.shape and torch.allclose(a, b, **(tol or TOL))


# --- ov_circuit ----------------------------------------------------------------------------------


def check_ov(student, model, remote, layer, head):
    got = call_ov(student, remote, layer, head)
    want = full_ov(model, layer, head)
    assert got.shape == want.shape, (
        f"ov_circuit gave shape {tuple(got.shape)}, expected (d_vocab, d_vocab) = {tuple(want.shape)}: "
        "W_E on the left, W_U on the right"
    )
    if close(got, want):
        return
    if close(got, want.T):
        raise AssertionError("ov_circuit is transposed: rows are the attended tokens (W_E @ W_OV @ W_U)")
    if close(got, embed(model) @ W_QK(model, layer, head) @ unembed(model)):
        raise AssertionError("ov_circuit used the QK circuit; the OV circuit is W_V @ W_O (model.OV)")
    raise AssertionError(f"ov_circuit(layer={layer}, head={head}) is wrong: W_E @ W_V @ W_O @ W_U of that head")


@pytest.mark.points(2)
def test_ov_circuits_of_the_trained_model(student):
    model = load_model()
    remote = student.load_model()
    for layer, head in ((0, 1), (1, 2), (0, 3)):
        check_ov(student, model, remote, layer, head)


@pytest.mark.points(2)
def test_ov_circuits_of_another_model(student):
    model = random_model(1, **SMALL)
    remote = in_kernel(student, model)
    for layer, head in ((2, 1), (0, 0), (1, 2)):
        check_ov(student, model, remote, layer, head)


# --- copying_score -------------------------------------------------------------------------------


def check_copying(student, model, remote, layer, head):
    got = call_copying(student, remote, layer, head)
    want = copying(full_ov(model, layer, head))
    if abs(got - want) < 1e-3:
        return
    if abs(got - copying(W_OV(model, layer, head))) < 1e-3:
        raise AssertionError(
            "copying_score used the eigenvalues of W_OV alone; take those of the full circuit W_E @ W_OV @ W_U"
        )
    ev = torch.linalg.eigvals(full_ov(model, layer, head))
    if abs(got - (ev.real.sum() / ev.real.abs().sum()).item()) < 1e-3:
        raise AssertionError("copying_score divided by the sum of |real parts|; divide by the sum of |eigenvalue|")
    raise AssertionError(f"copying_score(layer={layer}, head={head}) is wrong: sum(λ) / sum(|λ|) of the full OV circuit")


@pytest.mark.points(2)
def test_copying_scores(student):
    model = load_model()
    remote = student.load_model()
    for layer, head in ((0, 1), (1, 0), (0, 2)):
        check_copying(student, model, remote, layer, head)
    other = random_model(2, **SMALL)
    check_copying(student, other, in_kernel(student, other), 1, 2)


# --- pos_qk_circuit ---------------------------------------------------------------------------------


def check_pos_qk(student, model, remote, layer, head):
    got = call_pos_qk(student, remote, layer, head)
    want = pos_qk(model, layer, head)
    assert got.shape == want.shape, (
        f"pos_qk_circuit gave shape {tuple(got.shape)}, expected (n_ctx, n_ctx) = {tuple(want.shape)}"
    )
    if close(got, want):
        return
    if close(got, want.T):
        raise AssertionError("pos_qk_circuit is transposed: rows are query positions, W_pos @ W_Q @ W_K.T @ W_pos.T")
    if close(got, want / model.cfg.d_head**0.5):
        raise AssertionError("pos_qk_circuit is scaled by 1/sqrt(d_head); return the bilinear form without scaling")
    raise AssertionError(f"pos_qk_circuit(layer={layer}, head={head}) is wrong: W_pos @ W_Q @ W_K.T @ W_pos.T")


@pytest.mark.points(2)
def test_positional_qk_circuits_of_the_trained_model(student):
    model = load_model()
    remote = student.load_model()
    for layer, head in ((0, 1), (1, 3)):
        check_pos_qk(student, model, remote, layer, head)


@pytest.mark.points(1)
def test_positional_qk_circuit_of_another_model(student):
    model = random_model(3, **SMALL)
    check_pos_qk(student, model, in_kernel(student, model), 2, 0)


# --- comp_score -------------------------------------------------------------------------------------


@pytest.mark.points(2)
def test_comp_score_of_plain_matrices(student):
    g = torch.Generator().manual_seed(4)
    for shape_a, shape_b in (((5, 7), (7, 3)), ((6, 6), (6, 6)), ((1, 4), (4, 1))):
        W_A, W_B = torch.randn(*shape_a, generator=g), torch.randn(*shape_b, generator=g)
        got = call_comp(student, W_A, W_B)
        want = comp(W_A.double(), W_B.double())
        if abs(got - want) < 1e-4:
            continue
        if shape_a == shape_b and abs(got - comp(W_B.double(), W_A.double())) < 1e-4:
            raise AssertionError("comp_score multiplied W_B @ W_A; the earlier head's matrix comes first, W_A @ W_B")
        raw = torch.linalg.matrix_norm(W_A.double() @ W_B.double()).item()
        if abs(got - raw) < 1e-3 * raw:
            raise AssertionError("comp_score is not normalised: divide by ||W_A||_F * ||W_B||_F")
        spectral = (
            torch.linalg.matrix_norm(W_A.double() @ W_B.double(), ord=2)
            / (torch.linalg.matrix_norm(W_A.double(), ord=2) * torch.linalg.matrix_norm(W_B.double(), ord=2))
        ).item()
        if abs(got - spectral) < 1e-4:
            raise AssertionError("comp_score used spectral norms; use Frobenius norms (tensor.norm(), FactoredMatrix.norm())")
        raise AssertionError(f"comp_score is wrong for matrices of shapes {shape_a} and {shape_b}")


# --- composition_scores --------------------------------------------------------------------------------


def check_table(student, model, remote, kind, layer_a, layer_b):
    got = call_table(student, remote, kind, layer_a, layer_b)
    want = comp_table(model, kind, layer_a, layer_b)
    assert got.shape == want.shape, (
        f"composition_scores gave shape {tuple(got.shape)}, expected (n_heads, n_heads) = {tuple(want.shape)}"
    )
    if close(got, want):
        return
    if close(got, want.T):
        raise AssertionError("composition_scores is transposed: rows are heads of layer_a (the writers)")
    for other in "qkv":
        if other != kind and close(got, comp_table(model, other, layer_a, layer_b)):
            raise AssertionError(
                f"composition_scores(kind={kind!r}) gave the {other}-composition: Q uses W_QK, K uses W_QK.T, "
                "V uses W_OV of the later head"
            )
    if close(got, comp_table(model, kind, layer_a, layer_b, order="ba")):
        raise AssertionError(
            "composition_scores multiplied the later head's matrix first; W_A (the earlier head's W_OV) comes first"
        )
    if (layer_a, layer_b) != (0, 1) and close(got, comp_table(model, kind, 0, 1)):
        raise AssertionError("composition_scores ignored layer_a and layer_b")
    raise AssertionError(f"composition_scores(kind={kind!r}, layer_a={layer_a}, layer_b={layer_b}) is wrong")


@pytest.mark.points(3)
def test_composition_scores_of_the_trained_model(student):
    model = load_model()
    remote = student.load_model()
    for kind in "kqv":
        check_table(student, model, remote, kind, 0, 1)


@pytest.mark.points(2)
def test_composition_scores_between_other_layers(student):
    model = random_model(5, **SMALL)
    remote = in_kernel(student, model)
    check_table(student, model, remote, "k", 1, 2)
    check_table(student, model, remote, "v", 0, 2)
    check_table(student, model, remote, "q", 0, 1)
