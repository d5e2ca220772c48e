"""Request bodies and answers of the training studio's admin routes: the Data page (datasets, uploads, from-chats
exports) and a run's exports (merged HF folder, GGUF + Modelfile, OpenVINO IR). Validated with pydantic, so a bad
body is a 400 naming the field; the same models make their OpenAPI entries (openapi_studio.py)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field

from llmchat.api.documents import Error
from llmchat.api.schemas import STRICT, ModelId, Text
from llmchat.training.export import GGUF_TYPES, OPENVINO_FORMATS

UPLOAD_MAX_CHARS = 16 * 1024 * 1024  # the text of one uploaded file
DataFormat = Literal["alpaca", "preference", "kto"]
FileName = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]


class UploadRequest(BaseModel):
    model_config = STRICT
    name: FileName  # ends in .jsonl, .json or .csv
    format: DataFormat
    text: Annotated[Text, Field(max_length=UPLOAD_MAX_CHARS)]


class FromChatsRequest(BaseModel):
    model_config = STRICT
    format: DataFormat = "alpaca"
    name: Annotated[str, Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]*$")] | None = None
    models: Annotated[list[ModelId], Field(max_length=50)] | None = None
    # replies written (votes cast) since this day, UTC: YYYY-MM-DD
    since: Annotated[str, Field(pattern=r"^\d{4}-\d{2}-\d{2}$")] | None = None
    recipe: Annotated[str, Field(max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")] | None = None


class ExportBody(BaseModel):
    model_config = STRICT
    merge: bool = False
    gguf: Annotated[list[Literal[GGUF_TYPES]], Field(max_length=2)] = []  # type: ignore[valid-type]
    openvino: Annotated[list[Literal[OPENVINO_FORMATS]], Field(max_length=2)] = []  # type: ignore[valid-type]


class RowError(BaseModel):
    line: int | None
    field: str | None
    message: str


class DatasetSummary(BaseModel):
    id: str
    source: Literal["generated", "chats", "uploads"]
    name: str
    format: DataFormat
    rows: int
    bytes: int
    modified: float
    error: RowError | None


class Recipe(BaseModel):
    name: str
    method: str | None = None
    format: DataFormat | None = None
    base_model: str | None = None
    cutoff_len: int | None = None
    error: str | None = None


class DatasetList(BaseModel):
    datasets: list[DatasetSummary]
    recipes: list[Recipe]


class Bin(BaseModel):
    start: int
    end: int
    count: int


class Lengths(BaseModel):
    cutoff_len: int
    bins: list[Bin]
    over_cutoff: int
    max: int
    mean: float


class Split(BaseModel):
    train: int | None = None
    validation: int | None = None
    test: int | None = None
    error: str | None = None


class DatasetDetail(BaseModel):
    dataset: DatasetSummary
    recipe: str
    preview: list[dict]
    split: Split
    lengths: Lengths


class UploadResult(BaseModel):
    dataset: DatasetSummary


class BadRows(Error):
    """An upload with bad rows (nothing saved): each error with its line; `error.field` is `text`."""

    errors: list[RowError]
    error_count: int


class FromChatsResult(BaseModel):
    dataset: DatasetSummary
    considered: int
    skipped: dict[str, int]
    report: list[str]


class ExportFile(BaseModel):
    name: str  # under the run's folder: merged, exports/<run>-q8_0.gguf, ...
    kind: Literal["hf", "gguf", "modelfile", "openvino"]
    bytes: int
    url: str | None  # a single file's download
    path: str = Field(description="where it is on the server, as configs take it (relative to the project root)")
    serve: str | None = Field(
        description="the merged HF folder (kind hf): the entry to add under `models:` in configs/models.yaml to "
        "serve it (then restart the worker); null for the others"
    )


class RunExports(BaseModel):
    run: str
    exports: list[ExportFile]
    log: str | None = None


REQUESTS: list[type[BaseModel]] = [UploadRequest, FromChatsRequest, ExportBody]
RESPONSES: list[type[BaseModel]] = [DatasetList, DatasetDetail, UploadResult, BadRows, FromChatsResult, RunExports]
