"""`hf:ORG/NAME[@REVISION][:FILE.gguf]` sources: models on the Hugging Face Hub, kept in huggingface_hub's cache.

`pull` downloads only what a model needs (config, tokenizer files, one weight format, generation config, chat
template) with `snapshot_download`, which shows a progress bar, resumes a file whose connection drops and honours
HF_ENDPOINT, HF_TOKEN, HF_HOME and HF_HUB_OFFLINE. `cached` finds a pulled model without the network.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from llmchat.models.specs import SourceUnavailable

HF_PREFIX = "hf:"
DEFAULT_REVISION = "main"
# beside the weights, the files transformers reads to build the model, its tokenizer and its chat template
SUPPORT_FILES = (
    "config.json",
    "generation_config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "tokenizer.model",
    "special_tokens_map.json",
    "added_tokens.json",
    "vocab.json",
    "merges.txt",
    "chat_template.jinja",
    "chat_template.json",
)
# one weight format, the first the repo has: (shard prefix, suffix, index file)
WEIGHT_FORMATS = (
    ("model", ".safetensors", "model.safetensors.index.json"),
    ("pytorch_model", ".bin", "pytorch_model.bin.index.json"),
)


@dataclass(frozen=True)
class HubRef:
    repo_id: str
    revision: str | None = None  # None: the default branch
    filename: str | None = None  # a GGUF file of a repo that holds several

    def __str__(self) -> str:
        revision = f"@{self.revision}" if self.revision else ""
        filename = f":{self.filename}" if self.filename else ""
        return f"{HF_PREFIX}{self.repo_id}{revision}{filename}"

    @property
    def pull_command(self) -> str:
        revision = f" --revision {self.revision}" if self.revision else ""
        filename = f" --file {self.filename}" if self.filename else ""
        return f"llmchat models pull {self.repo_id}{revision}{filename}"


def parse_hub(text: str) -> HubRef:
    """`ORG/NAME[@REVISION][:FILE.gguf]` (the part after `hf:`); ValueError says what is wrong."""
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    rest, filename = text, None
    if ":" in rest:
        rest, filename = rest.split(":", 1)
        if not filename.endswith(".gguf") or filename.startswith("/") or ".." in filename:
            raise ValueError(f"after ':' comes a .gguf file name of the repo, got {filename!r}")
    repo_id, _, revision = rest.partition("@")
    if "@" in rest and not revision:
        raise ValueError("an empty revision after '@'")
    try:
        validate_repo_id(repo_id)
    except HFValidationError as exc:
        raise ValueError(f"not a Hub repo id (ORG/NAME): {repo_id!r}") from exc
    return HubRef(repo_id, revision or None, filename)


def files_to_pull(filenames: list[str], ref: HubRef) -> list[str]:
    """The repo files the model needs: support files and one weight format at the top level (no onnx/, original/,
    no other formats), or the one GGUF file a GGUF-only repo has (or the one `ref` names)."""
    if ref.filename:
        if ref.filename not in filenames:
            raise SourceUnavailable(f"{ref}: the repo has no file {ref.filename} (GGUF files: {_ggufs(filenames)})")
        return [ref.filename]
    top = [name for name in filenames if "/" not in name]
    for prefix, suffix, index in WEIGHT_FORMATS:
        weights = [name for name in top if name.startswith(prefix) and name.endswith(suffix)]
        if weights:
            return [name for name in top if name in SUPPORT_FILES or name == index] + weights
    ggufs = [name for name in filenames if name.endswith(".gguf")]
    if len(ggufs) == 1:
        return ggufs
    if ggufs:
        raise SourceUnavailable(
            f"{ref} holds only GGUF files; pick one with hf:{ref.repo_id}:FILE.gguf or `{ref.pull_command} "
            f"--file FILE.gguf` ({_ggufs(filenames)})"
        )
    raise SourceUnavailable(f"{ref}: no safetensors, pytorch .bin or .gguf weights in the repo")


def _ggufs(filenames: list[str]) -> str:
    return ", ".join(name for name in filenames if name.endswith(".gguf")) or "none"


def weights_in(snapshot: Path, ref: HubRef) -> Path | None:
    """What is loaded from a snapshot folder: the named GGUF, the HF folder, or its only GGUF; None if incomplete."""
    if ref.filename:
        return snapshot / ref.filename if (snapshot / ref.filename).is_file() else None
    if (snapshot / "config.json").is_file():
        return snapshot
    ggufs = sorted(snapshot.rglob("*.gguf"))
    return ggufs[0] if len(ggufs) == 1 else None


def cached(ref: HubRef) -> Path | None:
    """The pulled model in the HF cache (HF_HOME), found without the network; None if it is not (fully) there."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        folder = snapshot_download(ref.repo_id, revision=ref.revision or DEFAULT_REVISION, local_files_only=True)
    except LocalEntryNotFoundError:
        return None
    return weights_in(Path(folder), ref)


def pull(ref: HubRef) -> Path:
    """Download what the model needs into the HF cache (what is there already is kept) and return what to load."""
    from huggingface_hub import HfApi, snapshot_download

    try:
        info = HfApi().model_info(ref.repo_id, revision=ref.revision)
        files = files_to_pull([sibling.rfilename for sibling in info.siblings or []], ref)
        folder = snapshot_download(ref.repo_id, revision=ref.revision, allow_patterns=files)
    except Exception as exc:
        raise _unavailable(ref, exc) from exc
    found = weights_in(Path(folder), ref)
    if found is None:
        raise SourceUnavailable(f"{ref}: the download finished but {folder} has no model in it")
    return found


def ensure(ref: HubRef) -> Path:
    """The cached model, else pulled now (the worker's first use of an entry that was never pulled)."""
    return cached(ref) or pull(ref)


def _unavailable(ref: HubRef, exc: Exception) -> SourceUnavailable:
    """One clear sentence for the ways a pull fails: offline, no such repo or revision, no network."""
    from huggingface_hub import constants
    from huggingface_hub.errors import (
        GatedRepoError,
        OfflineModeIsEnabled,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    if isinstance(exc, SourceUnavailable):
        return exc
    if isinstance(exc, OfflineModeIsEnabled):
        return SourceUnavailable(
            f"{ref} is not in the Hugging Face cache and HF_HUB_OFFLINE is set; run `{ref.pull_command}` "
            "with network access (HF_HOME picks the cache)"
        )
    if isinstance(exc, RevisionNotFoundError):
        return SourceUnavailable(f"{ref}: no revision {ref.revision!r} in {ref.repo_id} on {constants.ENDPOINT}")
    if isinstance(exc, GatedRepoError):
        return SourceUnavailable(f"{ref}: {ref.repo_id} is gated; accept its terms on the Hub and set HF_TOKEN")
    if isinstance(exc, RepositoryNotFoundError):
        return SourceUnavailable(
            f"{ref}: no model {ref.repo_id} on {constants.ENDPOINT} (a private repo needs HF_TOKEN)"
        )
    return SourceUnavailable(
        f"{ref} is not in the Hugging Face cache and the download failed ({type(exc).__name__}: {exc}); "
        f"run `{ref.pull_command}` with network access"
    )


def not_pulled(ref: HubRef) -> SourceUnavailable:
    return SourceUnavailable(f"{ref} is not in the Hugging Face cache yet; run `{ref.pull_command}`")
