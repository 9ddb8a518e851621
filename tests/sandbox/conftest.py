"""Fixtures of the sandbox tests (helpers are in support.py)."""

from __future__ import annotations

import pytest

from tests.sandbox.support import ADD_TEST, FAST


@pytest.fixture
def add_bundle(make_bundle):
    return make_bundle(ADD_TEST, limits=FAST)
