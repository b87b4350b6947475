"""Fixtures for the console's web tests."""

import pytest

from tests.factories import login, make_staff


@pytest.fixture
def owner(client):
    """A merchant owner, logged in on ``client``."""
    user = make_staff(role="owner")
    login(client, user)
    return user
