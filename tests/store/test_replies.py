"""A reply's life (store/replies.py): its status machine, its rows written together, illegal moves refused."""

from __future__ import annotations

import time

import pytest

from llmchat.store import ChatStore
from llmchat.store.jobs import JobStore
from llmchat.store.replies import IllegalTransition, ReplyStore
from llmchat.store.tree import parent_of_new_message

OWNER = "ip:10.0.0.1"


@pytest.fixture
def replies(database):
    return ReplyStore(database, stale_after_s=0.3, kept_s=600)


def exchange(store: ChatStore, replies: ReplyStore, text: str = "hi", parent_id: int | None = None, cid=None):
    conversation_id = cid or store.create_conversation(OWNER, "t", "m1").id
    return replies.add_exchange(
        conversation_id, text, parent_id=parent_id, column=0, model="m1", params={}, prompt_tokens=3
    )


def statuses(store: ChatStore, conversation_id: str) -> list[str]:
    return [m.status for m in store.messages(conversation_id)]


def test_a_question_its_reply_and_the_job_are_written_together(store, replies, database):
    user, reply, job = exchange(store, replies)
    assert (user.status, reply.status, reply.parent_id, reply.content) == ("pending", "streaming", user.id, "")
    assert JobStore(database, stale_after_s=5, kept_s=600).latest(reply.id).id == job
    with pytest.raises(LookupError):  # no conversation: nothing is written
        replies.add_exchange("0" * 32, "x", parent_id=None, column=0, model="m1", params={}, prompt_tokens=1)


def test_a_finished_reply_and_its_question_settle_together(store, replies):
    user, reply, _ = exchange(store, replies)
    replies.save_progress(reply.id, "h")
    done, question = replies.finish(
        reply.id, "stopped", user_message_id=user.id, user_status="complete", content="hi", completion_tokens=1
    )
    assert (done.status, done.content, done.completion_tokens, question.status) == ("stopped", "hi", 1, "complete")
    assert statuses(store, user.conversation_id) == ["complete", "stopped"]


def test_illegal_moves_are_refused_and_change_nothing(store, replies):
    user, reply, _ = exchange(store, replies)
    replies.finish(reply.id, "complete", user_message_id=user.id, user_status="complete", content="hi")
    with pytest.raises(IllegalTransition):
        replies.finish(reply.id, "error", content="overwritten")  # finished twice
    with pytest.raises(IllegalTransition):
        replies.save_progress(reply.id, "late words")  # no longer streaming
    with pytest.raises(IllegalTransition):
        replies.finish(user.id, "complete", content="x")  # a user message is no reply
    with pytest.raises(ValueError):
        replies.finish(reply.id, "complete", model="x")  # only the final fields
    assert [m.content for m in store.messages(user.conversation_id)] == ["hi", "hi"]
    assert statuses(store, user.conversation_id) == ["complete", "complete"]
    failed_user, failed, _ = exchange(store, replies, "again", reply.id, user.conversation_id)
    replies.finish(failed.id, "error", user_message_id=failed_user.id, user_status="error", content="half")
    assert replies.claim_for_continue(failed.id) is None  # an error has nothing to extend


def test_continue_claims_a_finished_reply_with_a_new_job_and_a_failed_start_restores_it(store, replies, database):
    user, reply, first_job = exchange(store, replies)
    earlier, _ = replies.finish(
        reply.id, "complete", user_message_id=user.id, user_status="complete", content="cut", finish_reason="length"
    )
    claimed, job = replies.claim_for_continue(reply.id)
    assert claimed.status == "streaming" and job != first_job
    assert replies.claim_for_continue(reply.id) is None  # being generated: busy
    restored = replies.restore(earlier)  # the stream never opened
    assert (restored.status, restored.content, restored.finish_reason) == ("complete", "cut", "length")
    assert JobStore(database, stale_after_s=5, kept_s=600).latest(reply.id) is None  # the claimed job went too


def test_a_stream_whose_process_died_is_stopped_with_its_text(database, replies):
    store = ChatStore(database, stale_after_s=0.3)
    user, reply, _ = exchange(store, replies)
    replies.save_progress(reply.id, "half a rep")  # a periodic save
    orphan = store.add_message(user.conversation_id, "user", "lost", parent_id=reply.id, status="pending")
    live = store.get_conversation(OWNER, user.conversation_id).messages
    assert [m.status for m in live] == ["pending", "streaming", "pending"]
    assert replies.claim_for_continue(reply.id) is None  # being generated: busy
    time.sleep(0.5)
    settled = store.get_conversation(OWNER, user.conversation_id).messages
    assert [(m.id, m.status) for m in settled] == [(user.id, "complete"), (reply.id, "stopped"), (orphan.id, "error")]
    assert settled[1].content == "half a rep"
    assert replies.claim_for_continue(reply.id)[0].status == "streaming"


def branch_ids(store: ChatStore, conversation_id: str) -> list[int]:
    return [m.id for m in store.get_conversation(OWNER, conversation_id).messages]


def test_an_empty_failed_reply_is_discarded_but_never_one_with_text_or_children(store, replies, database):
    user, first, _ = exchange(store, replies)
    cid = user.conversation_id
    question = replies.discard(first.id, user.id)
    assert question.status == "error"  # unanswered
    assert branch_ids(store, cid) == [user.id]  # the branch ends at the user message
    assert JobStore(database, stale_after_s=5, kept_s=600).latest(first.id) is None
    reply, _ = replies.add_reply(question, model="m1", params={}, prompt_tokens=1)
    replies.finish(reply.id, "complete", user_message_id=user.id, user_status="complete", content="re: hi")
    empty, _ = replies.add_reply(question, model="m1", params={}, prompt_tokens=1)
    assert replies.discard(empty.id, user.id).status == "complete"  # answered before: it stays so
    # a failed regenerate: the earlier reply is on screen again, so the next message follows it, not the question
    assert branch_ids(store, cid) == [user.id, reply.id]
    assert parent_of_new_message(store.get_conversation(OWNER, cid, whole_tree=True)) == reply.id
    replies.discard(reply.id)  # it has text: kept
    second, _ = replies.add_reply(question, model="m1", params={}, prompt_tokens=1)
    store.add_message(cid, "user", "quick follow-up", parent_id=second.id)
    replies.discard(second.id)  # something grew under it: kept
    assert len(store.messages(cid)) == 4
