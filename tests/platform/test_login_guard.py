"""Password guessing is throttled per account and per address on every login (django-axes)."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

from tests.platform.support import client_for

pytestmark = pytest.mark.django_db


def _token(username: str, password: str, address: str = "10.0.0.1"):
    return client_for(None).post(
        "/api/v1/auth/token", {"username": username, "password": password}, format="json", REMOTE_ADDR=address
    )


def test_the_api_token_refuses_a_right_password_after_too_many_wrong_ones(learner):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert _token("alice", "wrong").status_code == 400
    assert _token("alice", "wrong").status_code == 429  # the guess that reaches the limit
    locked = _token("alice", "pw")
    assert locked.status_code == 429 and "too many wrong passwords" in locked.json()["detail"]
    assert int(locked["Retry-After"]) > 0
    # Per account: another address does not help the guesser.
    assert _token("alice", "pw", address="10.9.9.9").status_code == 429


def test_a_right_password_resets_the_accounts_count(learner):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        _token("alice", "wrong")
    assert _token("alice", "pw").status_code == 200
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):  # (from elsewhere: the first address has its own count)
        _token("alice", "wrong", address="10.0.0.2")
    assert _token("alice", "pw", address="10.0.0.2").status_code == 200


def test_one_address_guessing_many_accounts_is_throttled(learner, other_learner):
    for i in range(settings.AXES_FAILURE_LIMIT):
        _token(f"nobody{i}", "wrong", address="10.6.6.6")
    assert _token("bob", "pw", address="10.6.6.6").status_code == 429
    assert _token("bob", "pw", address="10.7.7.7").status_code == 200


@pytest.mark.parametrize("path", ["/accounts/login/", "/admin/login/"])
def test_the_site_and_admin_logins_are_throttled_too(learner, path):
    client = Client(REMOTE_ADDR="10.1.1.1")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(path, {"username": "alice", "password": "wrong"})
    locked = client.post(path, {"username": "alice", "password": "pw"})
    assert locked.status_code == 429 and b"Too many wrong passwords" in locked.content


def test_a_new_password_ends_the_old_tokens(learner):
    from rest_framework.authtoken.models import Token

    old = _token("alice", "pw").json()["token"]
    assert client_for(None).get("/api/v1/modules", HTTP_AUTHORIZATION=f"Token {old}").status_code == 200
    learner.set_password("a-new-password")
    learner.save()
    assert not Token.objects.filter(key=old).exists()
    assert client_for(None).get("/api/v1/modules", HTTP_AUTHORIZATION=f"Token {old}").status_code == 401
