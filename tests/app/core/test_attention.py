"""The attention service: what the counters, badges and notifications show."""

from __future__ import annotations

import pytest

from app.core.attention import AttentionError, AttentionService, AttentionState, Notice


class Recorder:
    """Collects what a service publishes."""

    def __init__(self, service: AttentionService) -> None:
        self.states: list[AttentionState] = []
        self.notices: list[Notice] = []
        self.stop_states = service.subscribe(self.states.append)
        self.stop_notices = service.on_notice(self.notices.append)


def test_counts_show_without_zero_entries_and_total() -> None:
    service = AttentionService()
    service.set_unread({1: 3, 2: 0, 7: 2})
    assert dict(service.state.unread) == {1: 3, 7: 2}
    assert service.state.total == 5
    service.update_unread(1, 0)
    assert dict(service.state.unread) == {7: 2}
    service.update_unread(4, 1)
    assert dict(service.state.unread) == {7: 2, 4: 1}
    assert service.state.total == 3


def test_off_duty_hides_every_count_and_shows_them_again_after() -> None:
    service = AttentionService()
    recorder = Recorder(service)
    service.set_unread({1: 3, 2: 1})
    service.set_off_duty(True)
    assert service.off_duty
    assert service.state == AttentionState(off_duty=True, unread={})
    assert service.state.total == 0
    # Counts refreshed while off duty are remembered but not shown, and publish nothing.
    published = len(recorder.states)
    service.update_unread(2, 4)
    service.set_unread({1: 3, 2: 4, 5: 1})
    assert service.state.total == 0
    assert len(recorder.states) == published
    service.set_off_duty(False)
    assert dict(service.state.unread) == {1: 3, 2: 4, 5: 1}
    assert service.state.total == 8
    assert recorder.states[-1] == service.state


def test_off_duty_raises_no_notice_and_notices_resume_after() -> None:
    service = AttentionService()
    recorder = Recorder(service)
    service.set_off_duty(True)
    service.message_arrived(1, "Alice", "hello", seq=10)
    assert recorder.notices == []
    service.set_off_duty(False)
    service.message_arrived(1, "Alice", "back", seq=11)
    assert recorder.notices == [Notice(conversation_id=1, title="Alice", body="back", seq=11)]


def test_focus_suppresses_notices_for_the_visible_conversation_only_when_active() -> None:
    service = AttentionService()
    recorder = Recorder(service)
    service.set_focus(1, window_active=True)
    service.message_arrived(1, "Alice", "seen", seq=1)
    service.message_arrived(2, "Bob", "other", seq=2)
    assert [n.seq for n in recorder.notices] == [2]
    service.set_focus(1, window_active=False)  # the window is in the background
    service.message_arrived(1, "Alice", "unseen", seq=3)
    assert [n.seq for n in recorder.notices] == [2, 3]
    service.set_focus(None, window_active=True)  # no conversation open
    service.message_arrived(1, "Alice", "no focus", seq=4)
    assert [n.seq for n in recorder.notices] == [2, 3, 4]


def test_notifications_disabled_raise_no_notice() -> None:
    service = AttentionService(notifications=False)
    recorder = Recorder(service)
    service.message_arrived(1, "Alice", "hello", seq=1)
    assert recorder.notices == []
    service.set_notifications(True, previews=True)
    service.message_arrived(1, "Alice", "hello", seq=2)
    service.set_notifications(False, previews=True)
    service.message_arrived(1, "Alice", "hello", seq=3)
    assert [n.seq for n in recorder.notices] == [2]


def test_previews_off_give_a_notice_without_body() -> None:
    service = AttentionService(previews=False)
    recorder = Recorder(service)
    service.message_arrived(3, "Carol", "the secret plan", seq=5)
    assert recorder.notices == [Notice(conversation_id=3, title="Carol", body=None, seq=5)]
    service.set_notifications(True, previews=True)
    service.message_arrived(3, "Carol", "visible", seq=6)
    assert recorder.notices[-1].body == "visible"


def test_listeners_are_called_on_change_only() -> None:
    service = AttentionService()
    recorder = Recorder(service)
    service.set_unread({1: 2})
    service.set_unread({1: 2})  # same counts
    service.update_unread(1, 2)
    service.update_unread(9, 0)  # clearing an absent count
    service.set_off_duty(False)  # already on duty
    service.set_focus(1, window_active=True)  # focus changes no count
    service.set_notifications(False, previews=False)
    assert recorder.states == [AttentionState(off_duty=False, unread={1: 2})]
    service.update_unread(1, 3)
    service.set_off_duty(True)
    service.set_off_duty(True)
    assert recorder.states == [
        AttentionState(off_duty=False, unread={1: 2}),
        AttentionState(off_duty=False, unread={1: 3}),
        AttentionState(off_duty=True, unread={}),
    ]


def test_unsubscribe_stops_both_kinds_of_listener() -> None:
    service = AttentionService()
    recorder = Recorder(service)
    other: list[AttentionState] = []
    service.subscribe(other.append)
    recorder.stop_states()
    recorder.stop_states()  # twice is harmless
    recorder.stop_notices()
    service.update_unread(1, 1)
    service.message_arrived(1, "Alice", "hi", seq=1)
    assert recorder.states == []
    assert recorder.notices == []
    assert other == [AttentionState(off_duty=False, unread={1: 1})]


def test_a_listener_may_unsubscribe_while_being_called() -> None:
    service = AttentionService()
    seen: list[int] = []
    stop = None

    def once(state: AttentionState) -> None:
        seen.append(state.total)
        assert stop is not None
        stop()

    stop = service.subscribe(once)
    after: list[int] = []
    service.subscribe(lambda state: after.append(state.total))
    service.update_unread(1, 1)
    service.update_unread(1, 2)
    assert seen == [1]
    assert after == [1, 2]


def test_published_state_cannot_be_changed_by_a_listener() -> None:
    service = AttentionService()
    service.update_unread(1, 1)
    with pytest.raises(TypeError):
        service.state.unread[1] = 5  # type: ignore[index]
    assert service.state.total == 1


def test_negative_counts_are_refused_without_change() -> None:
    service = AttentionService()
    service.set_unread({1: 2})
    with pytest.raises(AttentionError, match="cannot be negative"):
        service.update_unread(1, -1)
    with pytest.raises(AttentionError, match="cannot be negative"):
        service.set_unread({1: 5, 2: -3})
    assert dict(service.state.unread) == {1: 2}
