"""Hidden tests: learners see their names and messages, never this code.

The same expression functions run on the learner's Values (through handles) and on 0-d float64
torch tensors, which have methods of the same names, so torch's autograd is the reference.
"""

import math

import pytest
import torch


def torch_leaves(values):
    return [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in values]


def compare(student, expression, values):
    """Run `expression` on both sides; compare the output and every leaf's gradient."""
    leaves = [student.Value(v) for v in values]
    out = expression(*leaves)
    out.backward()
    ref_leaves = torch_leaves(values)
    ref_out = expression(*ref_leaves)
    ref_out.backward()
    data = out.data
    assert math.isclose(data, ref_out.item(), rel_tol=1e-9, abs_tol=1e-12), (
        f"the expression at {values}: the output is {data!r}, expected {ref_out.item()!r} (the forward pass is wrong)"
    )
    got = [leaf.grad for leaf in leaves]
    expected = [t.grad.item() for t in ref_leaves]
    ok = all(math.isclose(g, e, rel_tol=1e-7, abs_tol=1e-10) for g, e in zip(got, expected))
    return ok, got, expected


def neuron(x1, x2, w1, w2, b):
    return x1.mul(w1).add(x2.mul(w2)).add(b).tanh()


def shared(a, b):
    # c is used by d and by e directly, and by f through exp: three paths of different lengths.
    c = a.mul(b)
    d = c.add(a)
    e = d.mul(c)
    return e.tanh().add(c.exp()).mul(d)


@pytest.mark.points(1)
def test_plain_numbers_are_wrapped(student):
    a = student.Value(1.5)
    out = a.mul(3.0).add(-1.0).mul(a)  # (3a - 1) * a
    assert math.isclose(out.data, 5.25), f"(3a - 1) * a at a = 1.5 gives {out.data}, expected 5.25"
    out.backward()
    assert math.isclose(a.grad, 8.0), f"d/da of (3a - 1) * a at a = 1.5 is 6a - 1 = 8, got {a.grad}"


@pytest.mark.points(2)
def test_value_used_twice_accumulates(student):
    a = student.Value(3.0)
    out = a.add(a)
    out.backward()
    assert a.grad != 1.0, "a + a: a.grad is 1, expected 2; a Value used twice must accumulate its gradient (+=, not =)"
    assert math.isclose(a.grad, 2.0), f"a + a: a.grad is {a.grad}, expected 2"
    a = student.Value(3.0)
    out = a.mul(a)
    out.backward()
    assert math.isclose(a.grad, 6.0), f"a * a at a = 3: a.grad is {a.grad}, expected 2a = 6"


@pytest.mark.points(2)
def test_tanh_and_exp_derivatives(student):
    for v in (-2.0, -0.3, 0.7, 1.9):
        x = student.Value(v)
        y = x.tanh()
        y.backward()
        t = math.tanh(v)
        assert math.isclose(y.data, t, rel_tol=1e-9), f"tanh({v}) = {y.data}, expected {t}"
        assert math.isclose(x.grad, 1 - t * t, rel_tol=1e-7), (
            f"d tanh(a)/da at a = {v} is {x.grad}, expected 1 - tanh(a)^2 = {1 - t * t:.6g}"
        )
        x = student.Value(v)
        y = x.exp()
        y.backward()
        assert math.isclose(x.grad, math.exp(v), rel_tol=1e-7), f"d exp(a)/da at a = {v} is {x.grad}, expected {math.exp(v):.6g}"


@pytest.mark.points(1)
def test_tanh_of_large_inputs(student):
    for v in (400.0, -400.0):
        x = student.Value(v)
        y = x.tanh()
        y.backward()
        assert math.isclose(y.data, math.copysign(1.0, v)), f"tanh({v}) = {y.data}, expected {math.copysign(1.0, v)} (use math.tanh)"
        assert abs(x.grad) < 1e-12, f"d tanh(a)/da at a = {v} is {x.grad}, expected 0"


@pytest.mark.points(2)
def test_neuron_matches_torch(student):
    for values in ((2.0, 0.0, -3.0, 1.0, 6.8813735870195432), (0.5, -1.2, 0.8, 0.3, -0.1)):
        ok, got, expected = compare(student, neuron, values)
        assert ok, (
            f"tanh(x1 w1 + x2 w2 + b) at (x1, x2, w1, w2, b) = {values}: gradients {got}, torch gives {expected}"
        )


@pytest.mark.points(3)
def test_shared_subexpressions_need_topological_order(student):
    for values in ((0.6, -0.4), (-0.9, 0.35)):
        ok, got, expected = compare(student, shared, values)
        assert ok, (
            f"in a graph where one node feeds three others, d/da and d/db are {got}, torch gives {expected}: "
            "if add, mul, tanh and exp pass their own tests, check that backward calls each node's _backward "
            "exactly once, in reverse topological order"
        )


@pytest.mark.points(2)
def test_intermediate_grads_and_seed(student):
    a, b = student.Value(0.4), student.Value(-1.1)
    c = a.mul(b)
    d = c.exp()
    e = d.add(c).tanh()
    e.backward()
    assert math.isclose(e.grad, 1.0), f"the output's grad after backward() is {e.grad}, expected 1: backward must seed it"
    ta, tb = torch_leaves((0.4, -1.1))
    tc = ta * tb
    tc.retain_grad()
    td = tc.exp()
    td.retain_grad()
    (td + tc).tanh().backward()
    for name, node, ref in (("c", c, tc), ("d", d, td)):
        assert math.isclose(node.grad, ref.grad.item(), rel_tol=1e-7), (
            f"in tanh(d + c) with c = a * b, d = exp(c): {name}.grad is {node.grad}, expected {ref.grad.item():.6g}"
        )
