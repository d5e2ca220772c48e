from __future__ import annotations

from pathlib import Path

import pytest

from llmchat.prompts import PromptBuilder, Turn, load_alpaca_template

FIXTURES = Path(__file__).parent / "fixtures"
HISTORY = [
    Turn("user", "My name is Ada."),
    Turn("assistant", "Nice to meet you, Ada."),
    Turn("user", "What is my name?"),
]


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def builder() -> PromptBuilder:
    return PromptBuilder()


def test_fewshot_header_system_line_history_and_open_bot_title(builder):
    prompt = builder.render("fewshot", "Answer in one sentence.", HISTORY)
    assert prompt.text == fixture("fewshot_system.txt")
    assert prompt.endpoint == "/v1/completions"
    assert prompt.stop[:2] == ("\nHuman:", "\nAI:")


@pytest.mark.parametrize(
    ("generated", "kept"),
    [
        ("Water boils at 100°C. Humans: Is that how much heat it needs?", "Water boils at 100°C. "),
        ("It is 100°C.\nAi: Yes, at sea level.", "It is 100°C."),
        ("Sure.\nhuman: and then?", "Sure.\n"),
        ("I said so. AI: Indeed.", "I said so."),
        ("Thai food is spicy; Shanghai: a city.", "Thai food is spicy; Shanghai: a city."),
    ],
)
def test_fewshot_stops_catch_the_models_own_spellings_of_the_turn_markers(builder, generated, kept):
    from llmchat.worker.textstream import StopMatcher

    matcher = StopMatcher(list(builder.render("fewshot", "", [Turn("user", "Hi")]).stop))
    sent = "".join(matcher.add(character) for character in generated) + matcher.finish()
    assert sent == kept


def test_fewshot_without_system_prompt_keeps_the_header_as_is(builder):
    prompt = builder.render("fewshot", "", [Turn("user", "What is my name?")])
    expected = fixture("fewshot_system.txt").replace("\nAnswer in one sentence.", "")
    expected = expected.replace("Human: My name is Ada.\nAI: Nice to meet you, Ada.\n", "")
    assert prompt.text == expected


def test_alpaca_folds_history_into_the_input(builder):
    prompt = builder.render("alpaca", "Answer in one sentence.", HISTORY)
    assert prompt.text == fixture("alpaca_history.txt")
    assert "### Instruction:" in prompt.stop


def test_alpaca_first_message_uses_the_no_input_template_shared_with_training(builder):
    prompt = builder.render("alpaca", "", [Turn("user", "What is my name?")])
    assert prompt.text == fixture("alpaca_first.txt")
    # the training helper's renderer gives the very same text
    assert prompt.text == load_alpaca_template().render("What is my name?")


def test_chat_sends_messages_with_the_system_prompt_first(builder):
    prompt = builder.render("chat", "Be brief.", HISTORY)
    assert prompt.endpoint == "/v1/chat/completions"
    assert prompt.text is None and prompt.stop == ()
    assert list(prompt.messages) == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "My name is Ada."},
        {"role": "assistant", "content": "Nice to meet you, Ada."},
        {"role": "user", "content": "What is my name?"},
    ]


def test_templates_are_read_from_the_given_folder(tmp_path, builder):
    (tmp_path / "fewshot.yaml").write_text(
        'header: "Chat log."\nuser_title: "Q:"\nbot_title: "A:"\nstop: ["\\nQ:"]\n', encoding="utf-8"
    )
    (tmp_path / "alpaca.yaml").write_text(
        'no_input: "I: {instruction}\\nR:"\nwith_input: "I: {instruction}\\nC: {input}\\nR:"\n', encoding="utf-8"
    )
    custom = PromptBuilder(tmp_path)
    assert custom.render("fewshot", "", [Turn("user", "hi")]).text == "Chat log.\nQ: hi\nA:"
    assert custom.render("alpaca", "", [Turn("user", "hi")]).text == "I: hi\nR:\n"


def test_unknown_style_and_missing_user_turn_are_refused(builder):
    with pytest.raises(ValueError, match="unknown prompt style"):
        builder.render("rap", "", [Turn("user", "x")])
    with pytest.raises(ValueError, match="end with the user"):
        builder.render("chat", "", [Turn("assistant", "x")])
