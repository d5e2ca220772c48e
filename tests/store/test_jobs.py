"""Reply jobs and their event logs (SQLite, and PostgreSQL when LLMCHAT_TEST_DATABASE_URL is set)."""

from __future__ import annotations

import threading
import time

import pytest

from llmchat.store import ChatStore, NotFound
from llmchat.store.jobs import JobStore
from llmchat.store.replies import ReplyStore

OWNER = "ip:10.0.0.1"


STALE_AFTER_S = 2.0


@pytest.fixture
def jobs(database):
    # 2 s: the first check that a fresh job is alive comes after two conversation reads, over 0.5 s once on CI
    return JobStore(database, stale_after_s=STALE_AFTER_S, kept_s=600)


@pytest.fixture
def replies(database):
    return ReplyStore(database, stale_after_s=STALE_AFTER_S, kept_s=600)


def streaming_reply(store: ChatStore, replies: ReplyStore):
    """A question and its reply, `streaming`, written with the reply's job (as the API does)."""
    conversation = store.create_conversation(OWNER, "t", "m")
    _, reply, job = replies.add_exchange(
        conversation.id, "hi", parent_id=None, column=0, model="m", params={}, prompt_tokens=1
    )
    return conversation, reply, job


def test_events_come_back_in_order_after_any_offset(store, jobs, replies):
    _, reply, job = streaming_reply(store, replies)
    assert jobs.append(job, [("start", "{}"), ("delta", '{"content": "a"}')]) is False
    jobs.append(job, [("delta", '{"content": "b"}')])
    jobs.append(job, [("done", "{}")], final_state="finished")
    events = jobs.events_after(job, 0)
    assert [e.name for e in events] == ["start", "delta", "delta", "done"]
    assert [e.id for e in events] == sorted(e.id for e in events) and len({e.id for e in events}) == 4
    assert [e.data for e in jobs.events_after(job, events[1].id)] == ['{"content": "b"}', "{}"]
    assert jobs.latest(reply.id).state == "finished"


def test_stop_reaches_the_job_through_its_next_write_even_before_it_started(store, jobs, replies):
    _, reply, job = streaming_reply(store, replies)
    assert jobs.request_stop(reply.id) is True  # the job exists with the reply: nothing has been written yet
    assert jobs.append(job, []) is True
    jobs.append(job, [], final_state="finished")
    assert jobs.request_stop(reply.id) is False  # nothing runs any more


def test_a_new_job_of_the_same_reply_replaces_the_old_one_and_ids_keep_growing(store, jobs, replies):
    _, reply, first = streaming_reply(store, replies)
    jobs.append(first, [("start", "{}"), ("done", "{}")], final_state="finished")
    replies.finish(reply.id, "stopped", content="half")
    last_seen = jobs.events_after(first, 0)[-1].id
    _, second = replies.claim_for_continue(reply.id)  # a Continue
    assert jobs.latest(reply.id).id == second and jobs.events_after(first, 0) == []
    jobs.append(second, [("start", "{}")])
    assert jobs.events_after(second, last_seen)[0].name == "start"  # an old offset still reads the new job whole


def test_deleting_the_conversation_takes_the_job_and_its_events(store, jobs, replies):
    conversation, reply, job = streaming_reply(store, replies)
    jobs.append(job, [("start", "{}")])
    assert store.delete_conversation(OWNER, conversation.id)
    assert jobs.latest(reply.id) is None and jobs.events_after(job, 0) == []
    with pytest.raises(NotFound):
        jobs.append(job, [("delta", '{"content": "x"}')])


def test_a_silent_job_is_interrupted_once_and_the_list_stops_saying_answering(store, jobs, replies):
    conversation, reply, job = streaming_reply(store, replies)
    assert store.list_conversations(OWNER)[0].answering and store.get_conversation(OWNER, conversation.id).answering
    assert not jobs.is_dead(jobs.latest(reply.id))
    assert jobs.interrupt(job, [("done", "{}")]) is False  # alive: nothing happens
    time.sleep(STALE_AFTER_S + 0.1)
    assert jobs.is_dead(jobs.latest(reply.id))
    winners = []
    threads = [threading.Thread(target=lambda: winners.append(jobs.interrupt(job, [("done", "{}")]))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(winners) == [False, False, False, True]
    assert jobs.latest(reply.id).state == "interrupted"
    assert [e.name for e in jobs.events_after(job, 0)] == ["done"]
    assert not store.list_conversations(OWNER)[0].answering


def test_jobs_not_heard_of_for_kept_s_go_at_the_next_start(store, database):
    jobs = JobStore(database, stale_after_s=0.1, kept_s=0.3)
    replies = ReplyStore(database, stale_after_s=0.1, kept_s=0.3)
    _, reply, finished = streaming_reply(store, replies)
    jobs.append(finished, [("done", "{}")], final_state="finished")
    _, other, dead = streaming_reply(store, replies)  # never writes again: its process died
    time.sleep(0.4)
    streaming_reply(store, replies)
    assert jobs.latest(reply.id) is None and jobs.latest(other.id) is None
    assert jobs.events_after(finished, 0) == [] and jobs.events_after(dead, 0) == []
