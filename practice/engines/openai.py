"""The ``openai`` engines: the patient and the grader played by any OpenAI-compatible server.

The one module that talks to a model server (OpenAI, Azure, vLLM, Ollama, llama.cpp, or the
built-in ``compat_server``), through the official ``openai`` package. Chat Completions by
default, which every compatible server has; the Responses API when ``api_style`` is
``responses``. Nothing is stored on the server (``store: false``): no Assistants API, no stored
prompts — the instructions are built in ``prompts`` on every call.

Transport failures are left to the ``openai`` client, which retries connection errors,
timeouts, 408, 409, 429 and 5xx ``max_retries`` times with exponential backoff (0.5 s doubling,
at most 8 s) and waits what a ``Retry-After`` / ``retry-after-ms`` header asks for when it is
at most two minutes (``openai._base_client._calculate_retry_timeout``). What is still failing
after that becomes an ``EngineError`` whose message the learner reads: 504 for a time out,
502 for everything else. Since the client's waits are unbounded in total (each attempt has
its own time out; a Retry-After may ask for two minutes), a whole reply or assessment is also
held to ``budget_seconds`` (90 s, under the contract's 100 s): past it, a 504. The grader's
JSON is validated against the result schema; an invalid answer is asked for once more, then
the assessment fails — a score is never made up.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any, Self, TypeVar

import openai
from pydantic import BaseModel, ValidationError

from practice.engines import prompts
from practice.engines.base import (
    Category,
    CriterionScore,
    EngineError,
    Grading,
    PatientContext,
    QuestionEvaluation,
    QuestionGrading,
    Reply,
    Turn,
)

log = logging.getLogger(__name__)
# What reading a model server's stream can raise, besides the engine's own errors: the
# client's errors, and an event that is not the API's (unreadable).
_STREAM_ERRORS = (openai.OpenAIError, ValueError, TypeError, KeyError, AttributeError)
_M = TypeVar("_M", bound=BaseModel)
_T = TypeVar("_T")

API_STYLES = ("chat", "responses")
# The roles a transcript may hold; anything else would be an instruction smuggled in.
_TRANSCRIPT_ROLES = ("user", "assistant")


@dataclass(frozen=True)
class ServerConfig:
    """Where the model server is and how patiently to talk to it."""

    base_url: str | None = None  # None: the openai package's default (api.openai.com)
    api_key: str = ""
    model: str = "gpt-4o-mini"
    api_style: str = "chat"
    timeout: float = 30.0
    max_retries: int = 2
    # The most a whole reply or assessment may take, retries and Retry-After waits included:
    # under the contract's 100 s (SPEC-practice §4) and the runs' expiry.
    budget_seconds: float = 90.0

    @classmethod
    def from_settings(cls, *, model: str | None = None) -> ServerConfig:
        from django.conf import settings

        return cls(
            base_url=settings.OPENAI_BASE_URL or None,
            api_key=settings.OPENAI_API_KEY,
            model=model or settings.OPENAI_MODEL,
            api_style=settings.OPENAI_API_STYLE,
            timeout=settings.OPENAI_TIMEOUT_SECONDS,
            max_retries=settings.OPENAI_MAX_RETRIES,
        )


@functools.lru_cache(maxsize=16)
def _client(base_url: str | None, api_key: str, timeout: float, max_retries: int) -> openai.OpenAI:
    # One client per server configuration, shared by every run of the process: it holds the
    # connection pool, so replies to a class of learners reuse connections.
    return openai.OpenAI(
        base_url=base_url, api_key=api_key, timeout=timeout, max_retries=max_retries
    )


@functools.lru_cache(maxsize=16)
def _async_client(
    base_url: str | None, api_key: str, timeout: float, max_retries: int, loop: int
) -> openai.AsyncOpenAI:
    # As ``_client``, for the replies streamed under ASGI; its connections belong to one event
    # loop (``loop``, the id of the worker's loop), so one client per loop.
    return openai.AsyncOpenAI(
        base_url=base_url, api_key=api_key, timeout=timeout, max_retries=max_retries
    )


class _Speaker:
    """What the patient and the grader share: the client, the wire call, the error mapping."""

    name = "openai"
    # How the learner is told who failed: "The virtual patient ..." / "The assessment ...".
    who = "The model"

    def __init__(self, config: ServerConfig) -> None:
        if config.api_style not in API_STYLES:
            raise ValueError(f"api_style must be one of {', '.join(API_STYLES)}")
        self.config = config

    @classmethod
    def from_settings(cls, *, model: str | None = None) -> Self:
        """The engine the ``OPENAI_*`` settings describe; ``model`` overrides ``OPENAI_MODEL``
        (a run's ``model``, already checked against ``PRACTICE_ALLOWED_MODELS``)."""
        return cls(ServerConfig.from_settings(model=model))

    @property
    def model(self) -> str:
        return self.config.model

    def with_model(self, model: str | None) -> Self:
        """The same engine asking for another model (None: this one)."""
        if not model or model == self.config.model:
            return self
        return type(self)(replace(self.config, model=model))

    def _key(self) -> str:
        key = self.config.api_key
        if not key:
            if self.config.base_url is None:
                raise EngineError(
                    f"{self.who} is not configured: OPENAI_API_KEY is empty.", status=502
                )
            # Local servers (vLLM, Ollama, the built-in one) take any key; the client wants one.
            key = "unused"
        return key

    def _openai(self) -> openai.OpenAI:
        key = self._key()
        return _client(self.config.base_url, key, self.config.timeout, self.config.max_retries)

    def _async_openai(self) -> openai.AsyncOpenAI:
        key = self._key()
        loop = id(asyncio.get_running_loop())
        return _async_client(
            self.config.base_url, key, self.config.timeout, self.config.max_retries, loop
        )

    def warm_up(self) -> None:
        """Build the shared client now (see ``practice.engines.warm_up``); a configuration
        error shows at the first reply, as without the warm-up."""
        with contextlib.suppress(EngineError):
            self._openai()

    # -- one call ---------------------------------------------------------------------------

    def _within_budget(self, call: Callable[[], _T], *, deadline: float) -> _T:
        """``call()``, or a 504 when it has not returned by ``deadline`` (monotonic).

        The client's retries honour a Retry-After of up to two minutes and each attempt has
        its own time out, so nothing inside the call bounds its total time. The call runs in
        a thread of its own; one that overruns is abandoned, and ends on its own time outs."""
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise self._out_of_time()
        box: dict[str, Any] = {}
        done = threading.Event()

        def run() -> None:
            try:
                box["value"] = call()
            except BaseException as error:  # handed to the caller as is
                box["error"] = error
            finally:
                done.set()

        threading.Thread(target=run, name="openai-call", daemon=True).start()
        if not done.wait(remaining):
            raise self._out_of_time()
        if "error" in box:
            raise box["error"]
        return box["value"]

    def _out_of_time(self) -> EngineError:
        return EngineError(
            f"{self.who} did not answer in time (nothing usable from the model server within "
            f"{self.config.budget_seconds:g} s). Please try again.",
            status=504,
        )

    def _request(
        self,
        instructions: str,
        messages: Sequence[Turn],
        *,
        model: str,
        json_output: bool = False,
    ) -> str:
        """The model's whole answer as text."""
        client = self._openai()
        try:
            if self.config.api_style == "responses":
                response = client.responses.create(
                    model=model,
                    instructions=instructions,
                    **_as_sent(input=_input_items(messages)),
                    store=False,
                    **({"text": {"format": {"type": "json_object"}}} if json_output else {}),
                )
                if response.status not in (None, "completed", "incomplete"):
                    raise EngineError(self._bad_output(f"the response {response.status}"))
                text = response.output_text
            else:
                completion = client.chat.completions.create(
                    model=model,
                    **_as_sent(messages=_chat_messages(instructions, messages)),
                    **({"response_format": {"type": "json_object"}} if json_output else {}),
                )
                if not completion.choices:
                    raise EngineError(self._bad_output("no choices"))
                text = completion.choices[0].message.content or ""
        except openai.OpenAIError as error:
            raise self._engine_error(error, model=model) from error
        except (ValueError, TypeError, KeyError, AttributeError) as error:
            # A body that is not JSON, or JSON of another shape: the client does not validate
            # it, so it surfaces here as a plain Python error.
            log.warning("unreadable model server answer: %r", error)
            raise EngineError(self._bad_output("not the API's JSON")) from error
        return text

    def _stream(self, instructions: str, messages: Sequence[Turn], *, model: str) -> Iterator[str]:
        """The model's answer as text chunks; an EngineError when it stops before its end,
        says nothing, or runs past the budget."""
        client = self._openai()
        reading = _Reading(self, model=model)

        def open_stream() -> Any:  # the client's Stream of chunks or of events
            if reading.responses:
                return client.responses.create(
                    model=model,
                    instructions=instructions,
                    **_as_sent(input=_input_items(messages)),
                    store=False,
                    stream=True,
                )
            return _ChatChunks(
                client.chat.completions.with_streaming_response.create(
                    model=model,
                    **_as_sent(messages=_chat_messages(instructions, messages)),
                    stream=True,
                )
            )

        with reading:
            # The first answer (after the client's retries) within the budget; then each chunk
            # within the read time out, and the whole stream within the budget.
            stream = self._within_budget(open_stream, deadline=reading.deadline)
            with stream:
                for item in stream:
                    if text := reading.text(item):
                        yield text

    async def _astream(
        self, instructions: str, messages: Sequence[Turn], *, model: str
    ) -> AsyncIterator[str]:
        """``_stream`` on the asynchronous client (replies streamed under ASGI): the same
        requests, budget, errors and messages."""
        client = self._async_openai()
        reading = _Reading(self, model=model)

        async def open_stream() -> Any:
            if reading.responses:
                return await client.responses.create(
                    model=model,
                    instructions=instructions,
                    **_as_sent(input=_input_items(messages)),
                    store=False,
                    stream=True,
                )
            manager = client.chat.completions.with_streaming_response.create(
                model=model,
                **_as_sent(messages=_chat_messages(instructions, messages)),
                stream=True,
            )
            return _AsyncChatChunks(manager, await manager.__aenter__())

        with reading:
            try:
                stream = await asyncio.wait_for(open_stream(), reading.deadline - time.monotonic())
            except TimeoutError:
                raise self._out_of_time() from None
            async with stream:
                async for item in stream:
                    if text := reading.text(item):
                        yield text

    def _stream_error(self, error: Exception, *, model: str) -> EngineError:
        """The engine's error for what went wrong while reading a stream (both clients)."""
        if isinstance(error, openai.OpenAIError):
            return self._engine_error(error, model=model)
        log.warning("unreadable model server stream: %r", error)
        return EngineError(self._bad_output("not the API's events"))

    def _stream_ended(self, *, finished: bool, told: bool) -> None:
        """A stream read to its end (both clients): refuse a reply cut off or empty."""
        if not finished:
            # A connection closed without chunked framing ends the body cleanly: only the
            # missing finish marker tells a cut-off reply from a whole one.
            raise EngineError(
                f"{self.who} stopped mid-reply (the model server closed the stream). "
                "Please try again.",
                status=502,
            )
        if not told:
            raise EngineError(self._bad_output("an empty reply"), status=502)

    def _event(self, event: Any) -> tuple[str, bool]:
        """A Responses API event as (text, whether the response ended)."""
        if event.type == "response.output_text.delta":
            return event.delta or "", False
        if event.type in ("response.failed", "error"):
            raise EngineError(self._bad_output("the response failed"))
        return "", event.type in ("response.completed", "response.incomplete")

    # -- errors -----------------------------------------------------------------------------

    def _bad_output(self, what: str) -> str:
        return f"{self.who} could not answer: the model server sent an unusable answer ({what})."

    def _engine_error(self, error: openai.OpenAIError, *, model: str) -> EngineError:
        log.warning("model server error (%s): %s", type(error).__name__, error)
        if isinstance(error, openai.APITimeoutError):
            return EngineError(
                f"{self.who} did not answer in time (no answer from the model server within "
                f"{self.config.timeout:g} s). Please try again.",
                status=504,
            )
        if isinstance(error, openai.RateLimitError):
            return EngineError(
                f"{self.who} is busy: the model server is rate-limiting requests (HTTP 429). "
                "Please try again in a moment.",
                status=502,
            )
        if isinstance(error, openai.AuthenticationError | openai.PermissionDeniedError):
            return EngineError(
                f"{self.who} is unavailable: the model server refused the API key "
                f"(HTTP {error.status_code}).",
                status=502,
            )
        if isinstance(error, openai.NotFoundError):
            return EngineError(
                f"{self.who} is unavailable: the model server does not know the model "
                f"'{model}' (HTTP 404).",
                status=502,
            )
        if isinstance(error, openai.BadRequestError):
            said = error.body.get("message") if isinstance(error.body, dict) else None
            return EngineError(
                f"{self.who} is unavailable: the model server refused the request (HTTP 400"
                + (f": {str(said)[:300]}" if said else "")
                + ").",
                status=502,
            )
        if isinstance(error, openai.APIStatusError):
            return EngineError(
                f"{self.who} is unavailable: the model server answered HTTP "
                f"{error.status_code}. Please try again.",
                status=502,
            )
        if isinstance(error, openai.APIConnectionError):
            return EngineError(
                f"{self.who} is unavailable: the connection to the model server failed or "
                "broke off. Please try again.",
                status=502,
            )
        return EngineError(self._bad_output(type(error).__name__), status=502)


class _Reading:
    """One streamed answer being read, by either client: each item within the speaker's
    budget, what has come so far, and on leaving the ``with``, a read error as the engine's
    error and an answer cut off or empty refused. Closing the stream early (the learner left)
    is neither."""

    def __init__(self, speaker: _Speaker, *, model: str) -> None:
        self.speaker = speaker
        self.model = model
        self.deadline = time.monotonic() + speaker.config.budget_seconds
        self.responses = speaker.config.api_style == "responses"
        self.finished = self.told = False

    def text(self, item: Any) -> str:
        """The text of one chunk (Chat Completions) or event (Responses API)."""
        if time.monotonic() > self.deadline:
            raise self.speaker._out_of_time()
        text, done = self.speaker._event(item) if self.responses else _chunk(item)
        self.told = self.told or bool(text)
        self.finished = self.finished or done
        return text

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: object, error: BaseException | None, traceback: object) -> None:
        if error is None:
            self.speaker._stream_ended(finished=self.finished, told=self.told)
        elif isinstance(error, _STREAM_ERRORS):
            raise self.speaker._stream_error(error, model=self.model) from error


class _ChunkReader:
    """Server-Sent Events lines of a Chat Completions stream to decoded JSON chunks.

    The client's own ``Stream`` builds a pydantic model of every chunk, a sizeable share of the
    web process's CPU for a streamed reply (docs/practice.md, measured with
    bench/practice/class_at_once.py), where only the text and the finish reason are read. The
    client still makes the request (retries, time outs, status errors); this decodes each
    ``data:`` with ``json.loads`` as the client does before building its model, and an
    ``error`` object in the stream is the client's ``APIError``, as there."""

    def __init__(self, response: Any) -> None:
        self.response = response
        self.event: str | None = None
        self.data: list[str] = []
        self.done = False  # ``[DONE]`` came

    def line(self, line: str) -> dict[str, Any] | None:
        """The chunk this line completes, if any."""
        if line:
            name, _, value = line.partition(":")
            if name == "data":
                self.data.append(value.removeprefix(" "))
            elif name == "event":
                self.event = value.removeprefix(" ")
            return None
        if not self.data:
            return None
        text, named = "\n".join(self.data), self.event
        self.event, self.data = None, []
        if text.startswith("[DONE]"):
            self.done = True
            return None
        chunk = json.loads(text)
        if isinstance(chunk, dict) and chunk.get("error") and named in (None, "error"):
            error = chunk["error"]
            message = error.get("message") if isinstance(error, dict) else None
            raise openai.APIError(
                message or "An error occurred during streaming",
                self.response.http_request,
                body=error,
            )
        return chunk if named is None else None

    @contextlib.contextmanager
    def transport_errors(self) -> Iterator[None]:
        """The transport's errors as the client's Stream maps them (a dropped connection is an
        APIConnectionError, a read time out an APITimeoutError)."""
        from openai._httpx2 import request_exceptions, timeout_exceptions

        try:
            yield
        except timeout_exceptions() as error:
            raise openai.APITimeoutError(request=self.response.http_request) from error
        except request_exceptions() as error:
            raise openai.APIConnectionError(request=self.response.http_request) from error


class _ChatChunks:
    """A Chat Completions stream (``with_streaming_response``) as decoded JSON chunks."""

    def __init__(self, manager: Any) -> None:
        self._manager = manager
        self._reader = _ChunkReader(manager.__enter__())  # sends the request

    def __enter__(self) -> _ChatChunks:
        return self

    def __exit__(self, *exc: object) -> None:
        self._manager.__exit__(*exc)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        reader = self._reader
        lines = reader.response.iter_lines()
        with reader.transport_errors():
            for line in lines:
                chunk = reader.line(line)
                if reader.done:
                    for _ in lines:  # read to the end: the connection goes back to the pool
                        pass
                    return
                if chunk is not None:
                    yield chunk


class _AsyncChatChunks:
    """``_ChatChunks`` for the asynchronous client."""

    def __init__(self, manager: Any, response: Any) -> None:
        self._manager = manager
        self._reader = _ChunkReader(response)

    async def __aenter__(self) -> _AsyncChatChunks:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._manager.__aexit__(*exc)

    async def __aiter__(self) -> AsyncIterator[dict[str, Any]]:
        reader = self._reader
        lines = reader.response.iter_lines()
        with reader.transport_errors():
            async for line in lines:
                chunk = reader.line(line)
                if reader.done:
                    async for _ in lines:  # read to the end: the connection goes back
                        pass
                    return
                if chunk is not None:
                    yield chunk


def _chunk(chunk: dict[str, Any]) -> tuple[str, bool]:
    """A Chat Completions chunk (decoded JSON) as (text, whether the choice ended)."""
    text, done = "", False
    for choice in chunk["choices"]:
        text += (choice.get("delta") or {}).get("content") or ""
        done = done or choice.get("finish_reason") is not None
    return text, done


def _checked(transcript: Sequence[Turn]) -> list[Turn]:
    for turn in transcript:
        if turn.role not in _TRANSCRIPT_ROLES:
            raise EngineError(f"A transcript message has the role '{turn.role}'.", status=502)
    return list(transcript)


def _as_sent(**fields: list[dict[str, str]]) -> dict[str, Any]:
    """The transcript's fields as ``extra_body``, which the client sends as they are.

    The client passes every argument through its type-driven transform (key aliases, date
    formats), walking each message's dict against a union of TypedDicts: with a transcript of
    twenty messages that was the largest part of the web process's CPU for a streamed reply
    (bench/practice/class_at_once.py). Plain role/content strings have nothing to transform.
    The argument the method requires is given empty; ``extra_body`` replaces it."""
    return {**dict.fromkeys(fields, []), "extra_body": fields}


def _chat_messages(instructions: str, messages: Sequence[Turn]) -> list[dict[str, str]]:
    return [
        {"role": "system", "content": instructions},
        *({"role": t.role, "content": t.content} for t in _checked(messages)),
    ]


def _input_items(messages: Sequence[Turn]) -> list[dict[str, str]]:
    return [{"role": t.role, "content": t.content} for t in _checked(messages)]


class OpenAIPatient(_Speaker):
    """The virtual patient played by a model from ``prompts.patient_instructions``."""

    who = "The virtual patient"

    def reply(
        self, context: PatientContext, transcript: Sequence[Turn], *, model: str | None = None
    ) -> Reply:
        model = model or self.config.model
        instructions = prompts.patient_instructions(context)
        text = self._within_budget(
            lambda: self._request(instructions, transcript, model=model),
            deadline=time.monotonic() + self.config.budget_seconds,
        )
        if not text.strip():
            raise EngineError(self._bad_output("an empty reply"), status=502)
        return Reply(
            text=text.strip(),
            engine=self.name,
            model=model,
            prompt_version=prompts.PATIENT_PROMPT_VERSION,
        )

    def stream(
        self, context: PatientContext, transcript: Sequence[Turn], *, model: str | None = None
    ) -> Iterator[str]:
        model = model or self.config.model
        yield from self._stream(prompts.patient_instructions(context), transcript, model=model)

    async def astream(
        self, context: PatientContext, transcript: Sequence[Turn], *, model: str | None = None
    ) -> AsyncIterator[str]:
        """``stream`` on the event loop (the web UI's streamed replies under ASGI)."""
        model = model or self.config.model
        async for chunk in self._astream(
            prompts.patient_instructions(context), transcript, model=model
        ):
            yield chunk


class OpenAIGrader(_Speaker):
    """The grader played by a model that answers JSON in ``prompts``' result schema."""

    who = "The assessment"
    # One retry of an invalid answer (SPEC-practice §6), then a clear failure.
    attempts = 2

    def _graded(
        self,
        instructions: str,
        task_input: str,
        *,
        model: str,
        parse: Callable[[str], _T],  # raises ValueError for an invalid answer
    ) -> _T:
        problem = ""
        deadline = time.monotonic() + self.config.budget_seconds
        for attempt in range(1, self.attempts + 1):
            raw = self._within_budget(
                lambda: self._request(
                    instructions, [Turn("user", task_input)], model=model, json_output=True
                ),
                deadline=deadline,
            )
            try:
                return parse(raw)
            except ValueError as error:
                problem = str(error).splitlines()[0][:200]
                log.warning("invalid grader output (attempt %d): %s", attempt, problem)
        raise EngineError(
            "The assessment could not be completed: the grading model answered in an invalid "
            f"form twice ({problem}). No score was given; please try again.",
            status=502,
        )

    def assess(
        self,
        rubric: Sequence[Category],
        transcript: Sequence[Turn],
        *,
        language: str = "en",
        model: str | None = None,
    ) -> Grading:
        model = model or self.config.model
        transcript = _checked(transcript)
        if not any(category.criteria for category in rubric):
            # Nothing to grade: the contract's arithmetic needs no model for an empty rubric.
            return Grading(
                scores=(),
                engine=self.name,
                model=model,
                prompt_version=prompts.GRADER_PROMPT_VERSION,
            )

        def parse(raw: str) -> Grading:
            scores = _scores(_validated(prompts.AssessmentOut, raw), rubric, transcript)
            return Grading(
                scores=scores,
                engine=self.name,
                model=model,
                prompt_version=prompts.GRADER_PROMPT_VERSION,
                raw=raw,
            )

        return self._graded(
            prompts.grader_instructions(task="assess", language=language),
            prompts.assess_input(rubric, transcript, language=language),
            model=model,
            parse=parse,
        )

    def evaluate_questions(
        self,
        questions: Sequence[str],
        transcript: Sequence[Turn],
        *,
        language: str = "en",
        model: str | None = None,
    ) -> QuestionGrading:
        model = model or self.config.model
        transcript = _checked(transcript)
        if not questions:
            return QuestionGrading(
                evaluations=(),
                engine=self.name,
                model=model,
                prompt_version=prompts.GRADER_PROMPT_VERSION,
            )

        def parse(raw: str) -> QuestionGrading:
            out = _validated(prompts.QuestionsOut, raw)
            if len(out.evaluations) != len(questions):
                raise ValueError(
                    f"{len(out.evaluations)} evaluations for {len(questions)} questions"
                )
            return QuestionGrading(
                # The questions are ours, by position: a model's retyping of them is not kept.
                evaluations=tuple(
                    QuestionEvaluation(question=q, score=e.score, feedback=e.feedback.strip())
                    for q, e in zip(questions, out.evaluations, strict=True)
                ),
                engine=self.name,
                model=model,
                prompt_version=prompts.GRADER_PROMPT_VERSION,
                raw=raw,
            )

        return self._graded(
            prompts.grader_instructions(task="evaluate_questions", language=language),
            prompts.questions_input(questions, transcript, language=language),
            model=model,
            parse=parse,
        )


def _validated(schema: type[_M], raw: str) -> _M:
    text = raw.strip()
    if text.startswith("```"):
        # Some servers wrap JSON in a fence despite being asked not to; the JSON is what counts.
        text = text.strip("`").removeprefix("json").strip()
    try:
        return schema.model_validate_json(text)
    except ValidationError as error:
        first = error.errors()[0]
        if first["type"] == "json_invalid":
            raise ValueError("not valid JSON") from None
        where = ".".join(str(p) for p in first["loc"]) or "the answer"
        raise ValueError(f"{where}: {first['msg']}") from None


def _scores(
    out: prompts.AssessmentOut, rubric: Sequence[Category], transcript: Sequence[Turn]
) -> tuple[CriterionScore, ...]:
    """One score per criterion of the rubric, in rubric order; every criterion exactly once.

    The evidence is kept only where it is true: indices of the learner's own messages and
    quotes found verbatim in them (a model's paraphrase is not a quote). The scores are the
    model's; a missing or doubled criterion makes the answer invalid rather than guessed."""
    wanted = [k.id for c in rubric for k in c.criteria]
    by_id: dict[int, prompts.ScoreOut] = {}
    for score in out.scores:
        if score.subcategory_id not in wanted:
            raise ValueError(f"scores: unknown subcategory_id {score.subcategory_id}")
        if score.subcategory_id in by_id:
            raise ValueError(f"scores: subcategory_id {score.subcategory_id} appears twice")
        by_id[score.subcategory_id] = score
    missing = [i for i in wanted if i not in by_id]
    if missing:
        raise ValueError(f"scores: no score for subcategory_id {missing[0]}")
    learner = {i: t.content for i, t in enumerate(transcript) if t.role == "user"}
    result = []
    for criterion_id in wanted:
        score = by_id[criterion_id]
        indices = sorted({i for i in score.message_indices if i in learner})
        quotes = [q for q in score.quotes if q.strip() and any(q in learner[i] for i in learner)]
        result.append(
            CriterionScore(
                subcategory_id=criterion_id,
                score=score.score,
                message_indices=tuple(indices),
                quotes=tuple(quotes),
                rewrite_if_missing=(score.rewrite_if_missing or None) if score.score < 2 else None,
            )
        )
    return tuple(result)
