"""Feedback and votes in the store (SQLite, and PostgreSQL when LLMCHAT_TEST_DATABASE_URL is set)."""

from __future__ import annotations

import threading

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import inspect, text

from llmchat.store import ChatStore, FeedbackStore, NotFound, VoteRefused, open_database
from llmchat.store.database import MIGRATIONS_DIR, make_engine

IP, OTHER = "ip:10.0.0.1", "ip:10.0.0.2"  # owners are identities (migration 0004)


@pytest.fixture
def feedback(database) -> FeedbackStore:
    return FeedbackStore(database)


def exchange(
    store: ChatStore,
    conversation_id: str,
    prompt: str,
    reply: str,
    *,
    column: int = 0,
    model: str = "m-left",
    parent_id: int | None = None,
    status: str = "complete",
):
    user = store.add_message(conversation_id, "user", prompt, column=column, model=model, parent_id=parent_id)
    answer = store.add_message(
        conversation_id, "assistant", reply, column=column, model=model, parent_id=user.id, status=status
    )
    return user, answer


def compare_pair(store: ChatStore, ip: str = IP, *, blind: bool = False, prompt: str = "Name a colour."):
    conversation = store.create_conversation(
        ip, "", None, kind="compare", models=["m-left", "m-right"], title_state="untitled", blind=blind
    )
    _, left = exchange(store, conversation.id, prompt, "Red.", column=0, model="m-left")
    _, right = exchange(store, conversation.id, prompt, "Blue is a colour.", column=1, model="m-right")
    return conversation, left, right


def test_feedback_is_saved_changed_shown_with_the_message_and_cleared(store, feedback):
    conversation = store.create_conversation(IP, "t", "m")
    _, reply = exchange(store, conversation.id, "Capital of France?", "Lyon.")
    assert feedback.set_feedback(IP, reply.id, "down", "Paris.").feedback.rating == "down"
    shown = store.get_conversation(IP, conversation.id).messages
    assert shown[1].feedback.rating == "down" and shown[1].feedback.correction == "Paris."
    assert shown[0].feedback is None
    # a new thumb keeps the correction when none is sent; an empty correction clears it
    changed = feedback.set_feedback(IP, reply.id, "up", None, keep_correction=True)
    assert (changed.feedback.rating, changed.feedback.correction) == ("up", "Paris.")
    assert feedback.set_feedback(IP, reply.id, "up", "").feedback.correction is None
    # nothing left: the feedback is gone, the message stays
    cleared = feedback.set_feedback(IP, reply.id, None, None)
    assert cleared.feedback is None and cleared.content == "Lyon."
    assert store.owned_message(IP, reply.id).feedback is None


def test_feedback_only_on_the_callers_replies(store, feedback):
    conversation = store.create_conversation(IP, "t", "m")
    user, reply = exchange(store, conversation.id, "hi", "hello")
    assert feedback.set_feedback(OTHER, reply.id, "up", None) is None  # another IP's reply
    assert feedback.set_feedback(IP, user.id, "up", None) is None  # a user message is not rated
    assert feedback.set_feedback(IP, 2**40, "up", None) is None
    assert store.owned_message(IP, reply.id).feedback is None
    with pytest.raises(ValueError):
        feedback.set_feedback(IP, reply.id, "sideways", None)


def test_a_vote_copies_prompt_texts_and_models_and_replaces_itself(store, feedback):
    conversation, left, right = compare_pair(store)
    vote, created = feedback.record_vote(IP, left.id, right.id, "left")
    assert created and vote.prompt == "Name a colour." and vote.winner == "left"
    assert (vote.left.model, vote.left.content, vote.right.model, vote.right.content) == (
        "m-left",
        "Red.",
        "m-right",
        "Blue is a colour.",
    )
    # the same pair again (either side order): the earlier vote is replaced, not doubled
    again, created = feedback.record_vote(IP, right.id, left.id, "tie")
    assert not created and again.id == vote.id and again.winner == "tie" and again.left.message_id == right.id
    assert [(b.left_model, b.right_model, b.winner) for b in feedback.battles()] == [("m-right", "m-left", "tie")]
    assert [v.id for v in store.get_conversation(IP, conversation.id).votes] == [vote.id]
    # a reply continued after the vote does not change what was voted on
    store.update_message(left.id, content="Red. And green.")
    assert feedback.votes()[0].right.content == "Red."


def test_votes_are_refused_unless_both_replies_are_the_callers_finished_answers_to_one_prompt(store, feedback):
    conversation, left, right = compare_pair(store)
    with pytest.raises(NotFound):
        feedback.record_vote(OTHER, left.id, right.id, "left")
    with pytest.raises(VoteRefused) as same:
        feedback.record_vote(IP, left.id, left.id, "left")
    assert same.value.field == "right_message_id"
    _, other_prompt = exchange(
        store, conversation.id, "Something else", "Ok.", column=1, model="m-right", parent_id=right.id
    )
    with pytest.raises(VoteRefused, match="different prompts"):
        feedback.record_vote(IP, left.id, other_prompt.id, "left")
    _, streaming = exchange(store, conversation.id, "Name a colour.", "", column=1, model="m-right", status="streaming")
    with pytest.raises(VoteRefused, match="not finished") as unfinished:
        feedback.record_vote(IP, left.id, streaming.id, "left")
    assert unfinished.value.field == "right_message_id"
    _, far_left, _ = compare_pair(store)
    with pytest.raises(VoteRefused, match="same conversation"):
        feedback.record_vote(IP, far_left.id, right.id, "left")
    with pytest.raises(VoteRefused):
        feedback.record_vote(IP, left.id, right.id, "both")
    assert feedback.votes() == []


def test_a_blind_session_hides_its_models_until_the_first_vote(store, feedback):
    conversation, left, right = compare_pair(store, blind=True)
    hidden = store.get_conversation(IP, conversation.id)
    assert hidden.blind and not hidden.revealed and hidden.models_hidden
    assert all(m.model_hidden for column in hidden.columns for m in column.messages)
    assert store.owned_message(IP, left.id).model_hidden
    assert store.owned_message(IP, left.id).model == "m-left"  # kept for the server's own use
    feedback.record_vote(IP, left.id, right.id, "right")
    shown = store.get_conversation(IP, conversation.id)
    assert shown.revealed and not shown.models_hidden
    assert not any(m.model_hidden for column in shown.columns for m in column.messages)
    with pytest.raises(ValueError):
        store.create_conversation(IP, "", None, kind="chat", blind=True)


def test_leaderboard_counts_come_from_every_ip(store, feedback):
    for ip in (IP, OTHER):
        conversation = store.create_conversation(ip, "t", "m")
        _, reply = exchange(store, conversation.id, "hi", "hello", model="m-left")
        feedback.set_feedback(ip, reply.id, "up", None)
    conversation = store.create_conversation(OTHER, "t", "m")
    _, reply = exchange(store, conversation.id, "hi", "hello", model="m-right")
    feedback.set_feedback(OTHER, reply.id, "down", "Hello!")
    _, corrected_only = exchange(store, conversation.id, "hi", "hello", model="m-right", parent_id=reply.id)
    feedback.set_feedback(OTHER, corrected_only.id, None, "Better.")  # a correction without a thumb
    assert {model: dict(counts) for model, counts in feedback.thumbs().items()} == {
        "m-left": {"up": 2},
        "m-right": {"down": 1},
    }


def test_deleting_a_conversation_deletes_its_feedback_and_votes(store, feedback, database):
    conversation, left, right = compare_pair(store)
    feedback.set_feedback(IP, left.id, "up", "Red!")
    feedback.record_vote(IP, left.id, right.id, "left")
    assert store.delete_conversation(IP, conversation.id)
    with database.engine.connect() as connection:
        assert connection.execute(text("SELECT COUNT(*) FROM feedback")).scalar() == 0
        assert connection.execute(text("SELECT COUNT(*) FROM votes")).scalar() == 0


def test_concurrent_votes_on_one_pair_leave_one_vote(store, feedback):
    _, left, right = compare_pair(store)
    errors: list[BaseException] = []

    def vote(winner: str) -> None:
        try:
            feedback.record_vote(IP, left.id, right.id, winner)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=vote, args=(w,)) for w in ("left", "right", "tie", "both_bad") * 2]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == [] and len(feedback.votes()) == 1


def test_upgrade_from_0002_and_back_keeps_the_messages(database_url):
    engine = make_engine(database_url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0002")
    engine.dispose()
    database = open_database(database_url)
    try:
        store = ChatStore(database)
        conversation = store.create_conversation(IP, "kept", "m")
        exchange(store, conversation.id, "hi", "hello")
        assert store.get_conversation(IP, conversation.id).blind is False
    finally:
        database.dispose()
    engine = make_engine(database_url)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0002")
    with engine.connect() as connection:
        assert "votes" not in inspect(connection).get_table_names()
        assert connection.execute(text("SELECT COUNT(*) FROM messages")).scalar() == 2
    engine.dispose()
