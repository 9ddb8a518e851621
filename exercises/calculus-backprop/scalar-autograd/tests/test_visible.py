"""Visible tests: shipped in the starter pack, so learners can run them offline."""

import math

import pytest

pytestmark = pytest.mark.visible


@pytest.mark.points(1)
def test_small_expression(student):
    a, b, c = student.Value(2.0), student.Value(-3.0), student.Value(10.0)
    d = a.mul(b).add(c)
    assert d.data == 4.0, f"a * b + c = {d.data}, expected 4.0"
    d.backward()
    assert d.grad == 1.0, f"after d.backward(), d.grad = {d.grad}, expected 1.0"
    assert (a.grad, b.grad, c.grad) == (-3.0, 2.0, 1.0), f"grads {(a.grad, b.grad, c.grad)}, expected (-3.0, 2.0, 1.0)"


@pytest.mark.points(1)
def test_tanh_and_exp_at_zero(student):
    x = student.Value(0.0)
    y = x.tanh()
    y.backward()
    assert math.isclose(y.data, 0.0, abs_tol=1e-12) and math.isclose(x.grad, 1.0), f"tanh at 0: data {y.data}, grad {x.grad}"
    x = student.Value(0.0)
    y = x.exp()
    y.backward()
    assert math.isclose(y.data, 1.0) and math.isclose(x.grad, 1.0), f"exp at 0: data {y.data}, grad {x.grad}"
