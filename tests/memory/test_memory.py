from __future__ import annotations

import pytest
from langchain_core.messages import AIMessage, HumanMessage

from llmchat.memory import MessageTooLong, branch_memory, fit_to_context, last_turns
from llmchat.prompts import PromptBuilder, Turn
from llmchat.store import ChatStore, open_database
from llmchat.store.tree import parent_of_new_message


def conversation(turns: int) -> list:
    messages = []
    for n in range(turns):
        messages += [HumanMessage(f"question {n}"), AIMessage(f"answer {n}")]
    return messages


def chars(prompt) -> int:
    """A deterministic counter for tests: one token per character of the rendered prompt."""
    return len(prompt.as_text())


@pytest.fixture(scope="module")
def builder():
    return PromptBuilder()


@pytest.fixture
def store(tmp_path):
    db = open_database(f"sqlite:///{tmp_path / 'm.db'}")
    yield ChatStore(db)
    db.dispose()


def test_window_keeps_the_last_k_turns():
    kept = last_turns(conversation(5), 2)
    assert [m.content for m in kept] == ["question 3", "answer 3", "question 4", "answer 4"]
    assert last_turns(conversation(5), 0) == []
    assert len(last_turns(conversation(2), 10)) == 4


def test_window_never_starts_on_an_orphan_reply():
    history = [AIMessage("dangling"), *conversation(1)]
    assert [m.content for m in last_turns(history, 5)] == ["question 0", "answer 0"]


def test_budget_drops_oldest_turns_first_and_keeps_header_and_system(builder):
    render = lambda turns: builder.render("fewshot", "Be brief.", turns)  # noqa: E731
    alone = chars(render([Turn("user", "new")]))
    context = alone + len("\nHuman: question 9\nAI: answer 9") + 20 + 5  # room for one old turn only
    prompt, tokens = fit_to_context(conversation(10), "new", render, chars, max_tokens=20, context_length=context)
    assert "question 9" in prompt.text and "answer 9" in prompt.text
    assert "question 8" not in prompt.text
    assert prompt.text.startswith(builder.fewshot.header.split("\n\n")[0] + "\nBe brief.")
    assert "Human: What is the capital of France?" in prompt.text  # the few-shot examples stay
    assert prompt.text.endswith("Human: new\nAI:")
    assert tokens == len(prompt.text) and tokens + 20 <= context


def test_everything_fits_when_the_context_is_large(builder):
    render = lambda turns: builder.render("chat", "", turns)  # noqa: E731
    prompt, _ = fit_to_context(conversation(3), "new", render, chars, max_tokens=10, context_length=100_000)
    assert len(prompt.messages) == 7


def test_a_message_too_long_alone_is_refused_with_numbers(builder):
    render = lambda turns: builder.render("alpaca", "", turns)  # noqa: E731
    with pytest.raises(MessageTooLong, match=r"needs \d+ tokens.*max_tokens=50.*holds 300"):
        fit_to_context(conversation(2), "x" * 400, render, chars, max_tokens=50, context_length=300)


def test_token_counter_is_asked_about_each_candidate_once(builder):
    calls = []

    def counting(prompt):
        calls.append(prompt.as_text())
        return chars(prompt)

    render = lambda turns: builder.render("fewshot", "", turns)  # noqa: E731
    fit_to_context(conversation(30), "new", render, counting, max_tokens=10, context_length=700)
    assert len(calls) == len(set(calls))
    assert len(calls) < 15  # a search over the suffixes, not one count per message


def test_memory_is_one_branch_without_failed_or_empty_messages(store):
    conversation_id = store.create_conversation("10.0.0.1", "t", "m").id
    hello = store.add_message(conversation_id, "user", "hello")
    hi = store.add_message(conversation_id, "assistant", "hi", parent_id=hello.id)
    failed = store.add_message(conversation_id, "user", "lost words", parent_id=hi.id, status="error")
    empty = store.add_message(conversation_id, "assistant", "", parent_id=failed.id, status="stopped")
    messages = store.messages(conversation_id)
    assert [(m.type, m.content) for m in branch_memory(messages, empty.id)] == [("human", "hello"), ("ai", "hi")]
    assert [m.content for m in branch_memory(messages, hello.id)] == ["hello"]
    assert branch_memory(messages, None) == []


def test_memory_follows_the_branch_not_the_other_versions(store):
    conversation_id = store.create_conversation("10.0.0.1", "t", "m").id
    question = store.add_message(conversation_id, "user", "question")
    old = store.add_message(conversation_id, "assistant", "old answer", parent_id=question.id)
    store.add_message(conversation_id, "user", "follow-up on the old answer", parent_id=old.id)
    new = store.add_message(conversation_id, "assistant", "new answer", parent_id=question.id)  # regenerated
    messages = store.messages(conversation_id)
    assert [m.content for m in branch_memory(messages, new.id)] == ["question", "new answer"]
    assert [m.content for m in branch_memory(messages, old.id)] == ["question", "old answer"]
    assert new.id == parent_of_new_message(store.get_conversation("10.0.0.1", conversation_id, whole_tree=True))


@pytest.mark.parametrize("style", ["fewshot", "alpaca", "chat"])
def test_continue_keeps_the_partial_reply_at_the_end_of_the_prompt(builder, style):
    render = lambda turns: builder.render(style, "", turns)  # noqa: E731
    prompt, _ = fit_to_context(
        conversation(3), "new", render, chars, max_tokens=10, context_length=100_000, continuing="The answer is"
    )
    assert prompt.continues
    if style == "chat":
        assert prompt.messages[-1] == {"role": "assistant", "content": "The answer is"}
        assert prompt.messages[-2] == {"role": "user", "content": "new"}
        assert prompt.chat_flags() == {"continue_final_message": True, "add_generation_prompt": False}
    else:
        assert prompt.text.endswith("The answer is") and "new" in prompt.text
        assert prompt.chat_flags() == {}
