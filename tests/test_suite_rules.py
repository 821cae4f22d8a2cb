"""The suite's own rules (tests/conftest.py): a test reaching the database or the Store must be
marked `backend`, or the PostgreSQL + Redis pass would silently skip it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from tests import conftest


@dataclass
class FakeItem:
    nodeid: str
    fixturenames: tuple[str, ...]
    markers: list[Any] = field(default_factory=list)

    def get_closest_marker(self, name: str) -> Any:
        return next((m for m in self.markers if m.name == name), None)

    def add_marker(self, marker: Any) -> None:
        self.markers.append(getattr(marker, "mark", marker))


def _collect(*items: FakeItem) -> list[Any]:
    listed: list[Any] = list(items)
    conftest.pytest_collection_modifyitems(None, listed)  # type: ignore[arg-type]
    return listed


@pytest.mark.parametrize("fixture", sorted(conftest.BACKEND_FIXTURES))
def test_a_backend_fixture_without_the_marker_is_refused(fixture: str) -> None:
    item = FakeItem("tests/x/test_y.py::test_z", ("tmp_path", fixture))
    with pytest.raises(pytest.UsageError, match=r"tests/x/test_y.py::test_z"):
        _collect(item)


def test_marked_and_pure_tests_are_accepted_and_auth_stays_together() -> None:
    marked = FakeItem("tests/x/test_y.py::test_db", ("settings",), [pytest.mark.backend.mark])
    pure = FakeItem("tests/x/test_y.py::test_pure", ("tmp_path",))
    auth = FakeItem("tests/auth/test_a.py::test_b", ("client",), [pytest.mark.backend.mark])
    slow = FakeItem("tests/sync/test_durability.py::test_c", ("dovecot",))
    order = _collect(marked, pure, auth, slow)
    assert order[0] is slow  # slow modules first, the rest in collection order
    assert order[1:] == [marked, pure, auth]
    group = auth.get_closest_marker("xdist_group")
    assert group is not None and group.args == ("auth",)
    assert pure.get_closest_marker("xdist_group") is None
