"""The collector pause around the pre-flight and status loops gives the collector back as found."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from sqlmigrate.gcpause import collector_paused


@pytest.fixture
def collector_on() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    (gc.enable if was else gc.disable)()


@pytest.mark.usefixtures("collector_on")
def test_paused_inside_and_back_on_after() -> None:
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


@pytest.mark.usefixtures("collector_on")
def test_back_on_after_an_error() -> None:
    with pytest.raises(KeyError), collector_paused():
        raise KeyError("file")
    assert gc.isenabled()


@pytest.mark.usefixtures("collector_on")
def test_a_caller_that_turned_it_off_keeps_it_off() -> None:
    gc.disable()
    with collector_paused():
        assert not gc.isenabled()
    assert not gc.isenabled()
