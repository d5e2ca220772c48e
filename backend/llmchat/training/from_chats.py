"""`llmchat data from-chats`: the users' feedback back into training data.

- `alpaca`: one row per upvoted or corrected reply. The user's message is the instruction; the system prompt and
  the earlier turns of the reply's memory window (its own `memory_window` setting, along its branch) are the
  input, written exactly as the API's `alpaca` prompt style writes them; the correction, else the reply, is the
  output. For `llmchat finetune` with method lora or full.
- `preference`: `{prompt, input, chosen, rejected}` rows from compare votes (the winner's reply is chosen; the
  input is the winning side's history) and from corrections of downvoted replies (the correction is chosen, the
  reply rejected). For method dpo.
- `kto`: `{prompt, input, completion, label}` rows straight from the thumbs, no pairs needed: an upvoted reply is a
  good answer (label true), a downvoted one a bad answer (false), and a correction a good answer too. For method
  kto.

Every candidate that is not written is counted under the reason why (no rating, too long for cutoff_len,
duplicate, ...). The length check uses the tokenizer of the recipe's base model and the same Alpaca template as
training, so a row that is written fits `cutoff_len` whole.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from llmchat.memory.history import to_langchain, usable_for_memory
from llmchat.memory.window import last_turns, to_turns
from llmchat.paths import config_dir
from llmchat.prompts import AlpacaTemplate
from llmchat.prompts.styles import AlpacaChat
from llmchat.store.harvest import ReplyInContext, VoteInContext
from llmchat.store.records import MessageRecord
from llmchat.training.encoding import example_length

FORMATS = ("alpaca", "preference", "kto")
DEFAULT_MEMORY_WINDOW = 10  # the API's default (configs/app.yaml defaults.memory_window), for rows without params

TokenCount = Callable[[str, str, str], int]  # (instruction, input, answer) -> tokens of prompt + answer + EOS


@dataclass
class Harvest:
    rows: list[dict[str, Any]] = field(default_factory=list)
    considered: int = 0
    skipped: Counter[str] = field(default_factory=Counter)

    def skip(self, reason: str) -> None:
        self.skipped[reason] += 1


class RowWriter:
    """Turns replies and votes into rows, checking length and duplicates."""

    def __init__(self, chat_style: AlpacaChat, count_tokens: TokenCount, cutoff_len: int):
        self.chat_style = chat_style
        self.count_tokens = count_tokens
        self.cutoff_len = cutoff_len
        self.too_long = f"too long for cutoff_len ({cutoff_len} tokens)"

    def window_input(self, reply: MessageRecord, history: Iterable[MessageRecord]) -> str:
        """The system prompt and the earlier turns the reply was written with (its own memory_window and system
        prompt), as the alpaca prompt's input."""
        params = reply.params or {}
        window = last_turns(
            [to_langchain(m) for m in history if usable_for_memory(m)],
            int(params.get("memory_window", DEFAULT_MEMORY_WINDOW)),
        )
        return self.chat_style.input_text(str(params.get("system_prompt") or ""), to_turns(window))

    def fits(self, instruction: str, input_text: str, *answers: str) -> bool:
        return all(self.count_tokens(instruction, input_text, answer) <= self.cutoff_len for answer in answers)

    # alpaca ---------------------------------------------------------------------------------
    def alpaca(self, replies: Iterable[ReplyInContext]) -> Harvest:
        harvest, seen = Harvest(), set()
        for item in replies:
            harvest.considered += 1
            feedback, reply = item.reply.feedback, item.reply
            correction = feedback.correction if feedback else None
            if feedback is None or (feedback.rating is None and not correction):
                harvest.skip("no rating")
                continue
            if not correction and feedback.rating == "down":
                harvest.skip("downvoted without a correction")
                continue
            if not correction and (reply.status != "complete" or not reply.content.strip()):
                harvest.skip("upvoted but not finished")
                continue
            row = {
                "instruction": item.prompt.content.strip(),
                "input": self.window_input(reply, item.history),
                "output": (correction or reply.content).strip(),
            }
            self._add(
                harvest,
                seen,
                row,
                (row["output"],),
                {"origin": "correction" if correction else "upvoted", "model": reply.model},
            )
        return harvest

    # preference -----------------------------------------------------------------------------
    def preference(self, votes: Iterable[VoteInContext], replies: Iterable[ReplyInContext]) -> Harvest:
        harvest, seen = Harvest(), set()
        for item in votes:
            harvest.considered += 1
            vote = item.vote
            if vote.winner in ("tie", "both_bad"):
                harvest.skip("vote: tie" if vote.winner == "tie" else "vote: both bad")
                continue
            left_won = vote.winner == "left"
            won, lost = (vote.left, vote.right) if left_won else (vote.right, vote.left)
            if won.content.strip() == lost.content.strip() or not won.content.strip() or not lost.content.strip():
                harvest.skip("vote: the same (or an empty) text on both sides")
                continue
            input_text = self.window_input(
                item.left_reply if left_won else item.right_reply, item.left_history if left_won else item.right_history
            )
            row = {
                "prompt": vote.prompt.strip(),
                "input": input_text,
                "chosen": won.content.strip(),
                "rejected": lost.content.strip(),
            }
            self._add(
                harvest,
                seen,
                row,
                (row["chosen"], row["rejected"]),
                {"origin": "vote", "chosen_model": won.model, "rejected_model": lost.model},
            )
        for item in replies:
            harvest.considered += 1
            feedback, reply = item.reply.feedback, item.reply
            if feedback is None or (feedback.rating is None and not feedback.correction):
                harvest.skip("no rating")
            elif feedback.rating != "down":
                harvest.skip("reply not downvoted")
            elif not feedback.correction:
                harvest.skip("downvoted without a correction")
            elif feedback.correction.strip() == reply.content.strip():
                harvest.skip("correction same as the reply")
            else:
                row = {
                    "prompt": item.prompt.content.strip(),
                    "input": self.window_input(reply, item.history),
                    "chosen": feedback.correction.strip(),
                    "rejected": reply.content.strip(),
                }
                self._add(
                    harvest,
                    seen,
                    row,
                    (row["chosen"], row["rejected"]),
                    {"origin": "correction", "rejected_model": reply.model},
                )
        return harvest

    # kto ------------------------------------------------------------------------------------
    def kto(self, replies: Iterable[ReplyInContext]) -> Harvest:
        harvest, seen = Harvest(), set()
        for item in replies:
            harvest.considered += 1
            feedback, reply = item.reply.feedback, item.reply
            correction = (feedback.correction or "").strip() if feedback else ""
            if feedback is None or (feedback.rating is None and not correction):
                harvest.skip("no rating")
                continue
            prompt, input_text = item.prompt.content.strip(), self.window_input(reply, item.history)
            finished = reply.status == "complete" and reply.content.strip()
            if feedback.rating is not None and finished:
                row = {"prompt": prompt, "input": input_text, "completion": reply.content.strip()}
                self._add(
                    harvest,
                    seen,
                    {**row, "label": feedback.rating == "up"},
                    (row["completion"],),
                    {"origin": "upvoted" if feedback.rating == "up" else "downvoted", "model": reply.model},
                )
            elif feedback.rating is not None:
                harvest.skip("rated but not finished")
            if correction and correction != reply.content.strip():
                row = {"prompt": prompt, "input": input_text, "completion": correction, "label": True}
                self._add(harvest, seen, row, (correction,), {"origin": "correction", "model": reply.model})
        return harvest

    def _add(
        self, harvest: Harvest, seen: set, row: dict[str, str], answers: tuple[str, ...], provenance: dict[str, Any]
    ) -> None:
        instruction = row.get("instruction", row.get("prompt", ""))
        key = tuple(row.values())
        if key in seen:
            harvest.skip("duplicate")
        elif not self.fits(instruction, row["input"], *answers):
            harvest.skip(self.too_long)
        else:
            seen.add(key)
            harvest.rows.append({**row, **provenance})


def token_counter(tokenizer: Any, template: AlpacaTemplate) -> TokenCount:
    """Tokens of a training example as training encodes it (prompt, answer, EOS)."""
    return lambda instruction, input_text, answer: example_length(tokenizer, template, instruction, input_text, answer)


def report_lines(harvest: Harvest, format_name: str, out: str) -> list[str]:
    lines = [f"wrote {len(harvest.rows)} {format_name} rows to {out} (from {harvest.considered} candidates)"]
    total = sum(harvest.skipped.values())
    if total:
        reasons = ", ".join(f"{reason}: {count}" for reason, count in harvest.skipped.most_common())
        lines.append(f"skipped {total}: {reasons}")
    return lines


@dataclass
class FromChatsOptions:
    out: Path
    database_url: str
    format: str = "alpaca"
    models: list[str] | None = None
    since: datetime | None = None
    config: Path | None = None  # the training recipe whose base model's tokenizer and cutoff_len apply
    overrides: list[str] = field(default_factory=list)  # KEY=VALUE on the recipe, as `finetune --set`


CHAT_RECIPES = {
    "alpaca": "smollm2-chats-lora.yaml",
    "preference": "smollm2-chats-dpo.yaml",
    "kto": "smollm2-chats-kto.yaml",
}


def default_recipe(format_name: str) -> Path:
    return config_dir() / "train" / CHAT_RECIPES[format_name]


def run_from_chats(options: FromChatsOptions) -> Harvest:
    """Read every IP's chats from the database, write the rows (JSON Lines) to `options.out`, return the tally.
    Raises ValueError for what the operator can fix (no database there, an unknown base model, a bad recipe)."""
    from llmchat.models.loading import load_tokenizer, resolve_base_path
    from llmchat.prompts import load_alpaca_template
    from llmchat.prompts.styles import load_alpaca_chat
    from llmchat.store import harvest as chats
    from llmchat.store.database import open_database
    from llmchat.training.config import load_config
    from llmchat.training.datagen import write_jsonl

    if options.format not in FORMATS:
        raise ValueError(f"--format must be one of {', '.join(FORMATS)}")
    recipe = load_config(options.config or default_recipe(options.format), options.overrides)
    _check_database_exists(options.database_url)
    tokenizer = load_tokenizer(resolve_base_path(recipe.base_model))
    writer = RowWriter(load_alpaca_chat(), token_counter(tokenizer, load_alpaca_template()), recipe.cutoff_len)
    database = open_database(options.database_url, migrate=False)
    try:
        replies = chats.replies(database, options.since, options.models)
        if options.format == "alpaca":
            result = writer.alpaca(replies)
        elif options.format == "kto":
            result = writer.kto(replies)
        else:
            result = writer.preference(chats.votes(database, options.since, options.models), replies)
    except SQLAlchemyError as exc:
        raise ValueError(
            f"cannot read the chats in {database.url} ({getattr(exc, 'orig', None) or exc}); "
            f"`llmchat serve` creates and upgrades the database when it starts"
        ) from exc
    finally:
        database.dispose()
    write_jsonl(result.rows, options.out)
    return result


def _check_database_exists(url: str) -> None:
    """SQLite would create an empty file for a mistyped path: say so instead."""
    from sqlalchemy.engine import make_url

    from llmchat.store.database import resolve_url

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        path = Path(make_url(resolve_url(url)).database)
        if not path.is_file():
            raise ValueError(f"no database at {path} (give --database-url, e.g. the one in configs/app.yaml)")
