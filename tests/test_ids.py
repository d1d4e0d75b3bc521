"""Prefixed ids: the documented shape, unguessable, and in creation order across milliseconds (so
rows are appended to their primary key's index)."""

from __future__ import annotations

import time

from core.ids import ID_PATTERN, new_id


def test_ids_have_the_documented_shape_and_never_repeat():
    ids = [new_id("IM") for _ in range(10_000)]

    assert all(ID_PATTERN.match(one) for one in ids)
    assert len(set(ids)) == len(ids)
    assert len({one[14:] for one in ids}) == len(ids)  # the random part alone differs too


def test_an_id_made_a_millisecond_later_sorts_after():
    first = new_id("IN")
    time.sleep(0.002)
    later = new_id("IN")

    assert first < later
    assert first[2:14] < later[2:14]
