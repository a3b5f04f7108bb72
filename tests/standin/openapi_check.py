"""Check REST requests against Discord's published OpenAPI description.

The spec (discord/discord-api-spec, OpenAPI 3.1) is JSON Schema 2020-12 underneath, so request
bodies are validated with jsonschema's Draft 2020-12 validator after a few adjustments that make it
describe what Discord actually accepts rather than what it documents loosely:

- snowflakes (``format: snowflake``) accept a non-negative integer as well as a digit string,
  because Discord accepts both and discord.py sends ints (for example ``allowed_mentions.users``);
- ``oneOf`` is read as ``anyOf``: the spec marks plain unions with ``oneOf`` (``x-discord-union``)
  and overlapping alternatives must not turn a valid body into a violation;
- OpenAPI 3.0 ``nullable: true`` (absent from this spec; handled in case a newer one uses it)
  adds ``null``;
- ``date-time`` and ``uri`` formats are asserted with small local checkers; other formats are
  annotations only.

Unknown properties are only an error where the spec says ``additionalProperties: false``.
"""

from __future__ import annotations

import copy
import json
import os
import re
import urllib.parse
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema
from jsonschema.exceptions import ValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SPEC_ENV = "PACER_DISCORD_OPENAPI"
SPEC_URI = "urn:discord-openapi"
API_PREFIX = "/api/v10"
SNOWFLAKE_PATTERN = "^(0|[1-9][0-9]*)$"
HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
BODY_SCHEMAS_KEY = "x-standin-request-bodies"
PARAM_SCHEMAS_KEY = "x-standin-path-params"
MAX_MESSAGE_CHARS = 300
SNOWFLAKE_MARK = "x-standin-snowflake"


@dataclass(frozen=True)
class Violation:
    """One way a request broke the spec (or a Discord rule the stand-in enforces)."""

    kind: str  # "spec", "unknown-route", "discord-limit"
    method: str
    path: str
    where: str
    message: str

    def __str__(self) -> str:
        where = f" {self.where}:" if self.where else ""
        return f"[{self.kind}] {self.method} {self.path}:{where} {self.message}"


@dataclass(frozen=True)
class SpecOperation:
    """The spec's view of one method on one path template."""

    template: str
    method: str
    operation_id: str
    params: Mapping[str, Mapping[str, Any]]  # path parameter name -> schema
    body_content_types: tuple[str, ...]
    body_required: bool


def default_spec_path() -> Path | None:
    """Return the spec file: $PACER_DISCORD_OPENAPI, else shared/ beside the repo, else None."""
    env = os.environ.get(SPEC_ENV)
    if env:
        path = Path(env)
        return path if path.is_file() else None
    repo_root = Path(__file__).resolve().parents[2]
    for candidate in (
        repo_root.parent / "shared" / "discord-api-spec" / "openapi.json",
        Path("/work/shared/discord-api-spec/openapi.json"),
    ):
        if candidate.is_file():
            return candidate
    return None


def _relax(node: Any) -> Any:
    """Rewrite a spec fragment into what Discord really accepts (see module docstring)."""
    if isinstance(node, list):
        return [_relax(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _relax(value) for key, value in node.items()}
    if out.get("nullable") is True:
        out.pop("nullable")
        kind = out.get("type")
        if isinstance(kind, str):
            out["type"] = [kind, "null"]
        elif isinstance(kind, list) and "null" not in kind:
            out["type"] = [*kind, "null"]
    if "oneOf" in out:
        alternatives = out.pop("oneOf")
        if "anyOf" in out:
            out.setdefault("allOf", []).append({"anyOf": alternatives})
        else:
            out["anyOf"] = alternatives
    if out.get("format") == "snowflake":
        kinds = out.get("type", "string")
        kinds = [kinds] if isinstance(kinds, str) else list(kinds)
        if "string" in kinds:
            keep = {k: v for k, v in out.items() if k not in ("type", "pattern", "format")}
            choices: list[dict[str, Any]] = [
                {"type": "string", "pattern": out.get("pattern", SNOWFLAKE_PATTERN)},
                {"type": "integer", "minimum": 0},
            ]
            if "null" in kinds:
                choices.append({"type": "null"})
            return {**keep, SNOWFLAKE_MARK: True, "anyOf": choices}
    return out


def _check_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def _check_uri(value: object) -> bool:
    if not isinstance(value, str):
        return True
    parsed = urllib.parse.urlsplit(value)
    if not parsed.scheme:
        return False
    return bool(parsed.netloc) or parsed.scheme == "attachment"


FORMAT_CHECKER = jsonschema.FormatChecker(formats=())
FORMAT_CHECKER.checks("date-time")(_check_date_time)
FORMAT_CHECKER.checks("uri")(_check_uri)


def _pointer_escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


def _format_path(parts: Iterable[object], root: str = "body") -> str:
    out = root
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def _short(value: Any) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _discriminator_failed(errors: Sequence[ValidationError]) -> bool:
    return any(
        e.validator in ("enum", "const") and list(e.relative_path)[-1:] == ["type"] for e in errors
    )


def _most_specific(error: ValidationError) -> ValidationError:
    """Walk into union errors, following the alternative that got furthest into the instance."""
    while error.validator in ("anyOf", "oneOf") and error.context:
        if error.schema.get(SNOWFLAKE_MARK):
            return error
        branches: dict[Any, list[ValidationError]] = {}
        for sub in error.context:
            branches.setdefault(sub.relative_schema_path[0], []).append(sub)

        def score(errors: list[ValidationError]) -> tuple[bool, bool, int, int]:
            depth = min(len(e.relative_path) for e in errors)
            only_null = all(e.validator == "type" and e.validator_value == "null" for e in errors)
            return (not _discriminator_failed(errors), not only_null, depth, -len(errors))

        chosen = max(branches.values(), key=score)
        error = max(chosen, key=lambda e: len(e.relative_path))
    return error


def _describe(error: ValidationError, root: str) -> tuple[str, str]:
    """Return (where, message) for the most specific cause of a schema error."""
    error = _most_specific(error)
    where = _format_path(error.absolute_path, root)
    if error.schema.get(SNOWFLAKE_MARK) if isinstance(error.schema, dict) else False:
        message = (
            f"{_short(error.instance)} is not a snowflake (a digit string or non-negative integer)"
        )
    elif error.validator == "maxLength" and isinstance(error.instance, str):
        message = f"length {len(error.instance)} is over maxLength {error.validator_value}"
    elif error.validator == "minLength" and isinstance(error.instance, str):
        message = f"length {len(error.instance)} is under minLength {error.validator_value}"
    elif error.validator in ("type", "enum", "const", "pattern", "format", "maximum", "minimum"):
        message = (
            f"{_short(error.instance)} fails {error.validator}={_short(error.validator_value)}"
        )
    else:
        message = error.message
    if len(message) > MAX_MESSAGE_CHARS:
        message = message[: MAX_MESSAGE_CHARS - 3] + "..."
    return where, message


class OpenAPIChecker:
    """Match concrete REST paths to spec operations and validate bodies against their schemas."""

    def __init__(self, spec: Mapping[str, Any]) -> None:
        """Build the checker from a parsed OpenAPI document."""
        doc = _relax(copy.deepcopy(dict(spec)))
        bodies: dict[str, Any] = {}
        path_params: dict[str, Any] = {}
        self._operations: dict[tuple[str, str], SpecOperation] = {}
        self._templates: list[tuple[str, re.Pattern[str], int]] = []
        for template, item in doc.get("paths", {}).items():
            shared = {p["name"]: p for p in item.get("parameters", []) if p.get("in") == "path"}
            for method in HTTP_METHODS:
                op = item.get(method)
                if op is None:
                    continue
                params = dict(shared)
                params.update(
                    {p["name"]: p for p in op.get("parameters", []) if p.get("in") == "path"}
                )
                body = op.get("requestBody") or {}
                content = body.get("content", {})
                op_id = op.get("operationId", f"{method}_{template}")
                for name, param in params.items():
                    path_params[f"{op_id}|{name}"] = param.get("schema", {})
                for content_type, media in content.items():
                    if "schema" in media:
                        bodies[f"{op_id}|{content_type}"] = media["schema"]
                self._operations[(method.upper(), template)] = SpecOperation(
                    template=template,
                    method=method.upper(),
                    operation_id=op_id,
                    params={name: p.get("schema", {}) for name, p in params.items()},
                    body_content_types=tuple(content),
                    body_required=bool(body.get("required")),
                )
            pattern, literals = self._compile(template)
            self._templates.append((template, pattern, literals))
        doc[BODY_SCHEMAS_KEY] = bodies
        doc[PARAM_SCHEMAS_KEY] = path_params
        self._doc = doc
        self._registry: Registry = Registry().with_resource(
            SPEC_URI, Resource.from_contents(doc, default_specification=DRAFT202012)
        )
        self._validators: dict[str, jsonschema.Draft202012Validator] = {}

    @staticmethod
    def _compile(template: str) -> tuple[re.Pattern[str], int]:
        parts = []
        literals = 0
        for segment in template.strip("/").split("/"):
            if segment.startswith("{") and segment.endswith("}"):
                parts.append(f"(?P<{segment[1:-1]}>[^/]+)")
            else:
                parts.append(re.escape(segment))
                literals += 1
        return re.compile("^/" + "/".join(parts) + "$"), literals

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> OpenAPIChecker:
        """Load and cache a checker for a spec file."""
        return _checker_for(str(Path(path).resolve()))

    def _validator(self, pointer: str) -> jsonschema.Draft202012Validator:
        validator = self._validators.get(pointer)
        if validator is None:
            validator = jsonschema.Draft202012Validator(
                {"$ref": f"{SPEC_URI}#{pointer}"},
                registry=self._registry,
                format_checker=FORMAT_CHECKER,
            )
            self._validators[pointer] = validator
        return validator

    def schema_names(self) -> list[str]:
        """Return the names under components/schemas."""
        return sorted(self._doc.get("components", {}).get("schemas", {}))

    def match(
        self, method: str, path: str
    ) -> tuple[SpecOperation | None, str | None, dict[str, str]]:
        """Find the spec template for a concrete path; return (operation, template, path params)."""
        path = path.split("?", 1)[0]
        if path.startswith(API_PREFIX):
            path = path[len(API_PREFIX) :]
        best: tuple[int, str, dict[str, str]] | None = None
        for template, pattern, literals in self._templates:
            found = pattern.match(path)
            if found and (best is None or literals > best[0]):
                params = {k: urllib.parse.unquote(v) for k, v in found.groupdict().items()}
                best = (literals, template, params)
        if best is None:
            return None, None, {}
        _, template, params = best
        return self._operations.get((method.upper(), template)), template, params

    def check_schema(self, instance: Any, schema_name: str, *, root: str = "body") -> list[str]:
        """Validate an instance against components/schemas/<schema_name>; return problems."""
        if schema_name not in self._doc.get("components", {}).get("schemas", {}):
            raise KeyError(f"no schema named {schema_name!r} in the spec")
        pointer = f"/components/schemas/{_pointer_escape(schema_name)}"
        return [f"{w}: {m}" for w, m in self._errors(pointer, instance, root)]

    def _errors(self, pointer: str, instance: Any, root: str) -> Iterator[tuple[str, str]]:
        errors = sorted(self._validator(pointer).iter_errors(instance), key=lambda e: list(e.path))
        for error in errors:
            yield _describe(error, root)

    def check_request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        has_body: bool = False,
        content_type: str | None = None,
    ) -> list[Violation]:
        """Validate one request (path, method, path params, body); return its violations."""
        method = method.upper()
        short_path = path[len(API_PREFIX) :] if path.startswith(API_PREFIX) else path
        op, template, params = self.match(method, short_path)

        def violation(where: str, message: str) -> Violation:
            return Violation("spec", method, template or short_path, where, message)

        if template is None:
            return [violation("", "no path in the spec matches this URL")]
        if op is None:
            return [violation("", f"the spec has no {method} on {template}")]
        out: list[Violation] = []
        for name, value in params.items():
            if name not in op.params:
                continue
            pointer = f"/{PARAM_SCHEMAS_KEY}/{_pointer_escape(f'{op.operation_id}|{name}')}"
            kinds = op.params[name].get("type")
            instance: Any = value
            if kinds in ("integer", ["integer"]) and value.isdigit():
                instance = int(value)
            out.extend(violation(w, m) for w, m in self._errors(pointer, instance, f"path.{name}"))
        if not has_body:
            if op.body_required:
                out.append(violation("body", "the spec requires a request body; none was sent"))
            return out
        if not op.body_content_types:
            out.append(violation("body", "the spec defines no request body for this operation"))
            return out
        media = (content_type or "application/json").split(";", 1)[0].strip().lower()
        if media not in op.body_content_types:
            media = "application/json" if "application/json" in op.body_content_types else media
        if media not in op.body_content_types:
            out.append(violation("body", f"content type {content_type!r} is not accepted"))
            return out
        pointer = f"/{BODY_SCHEMAS_KEY}/{_pointer_escape(f'{op.operation_id}|{media}')}"
        root = "payload_json" if media == "multipart/form-data" else "body"
        out.extend(violation(w, m) for w, m in self._errors(pointer, body, root))
        return out

    def check_response(self, method: str, path: str, status: int, body: Any) -> list[str]:
        """Validate a JSON response body against the operation's response schema."""
        op, template, _ = self.match(method, path)
        if op is None or template is None:
            return []
        item = self._doc["paths"][template][op.method.lower()]
        responses = item.get("responses", {})
        key = str(status) if str(status) in responses else f"{str(status)[0]}XX"
        spec = responses.get(key)
        if spec is None or "$ref" in spec:
            return []
        if "application/json" not in spec.get("content", {}):
            return []
        pointer = "/".join(
            [
                "/paths",
                _pointer_escape(template),
                op.method.lower(),
                "responses",
                _pointer_escape(key),
                "content/application~1json/schema",
            ]
        )
        return [f"{w}: {m}" for w, m in self._errors(pointer, body, "response")]

    def check_command_payload(self, commands: Sequence[Mapping[str, Any]]) -> list[str]:
        """Validate a bulk command sync body (a list of commands) against the spec."""
        if not isinstance(commands, Sequence) or isinstance(commands, str | bytes):
            return ["body: a command sync body must be a list of command objects"]
        problems: list[str] = []
        for index, command in enumerate(commands):
            problems.extend(
                self.check_schema(
                    command, "ApplicationCommandUpdateRequest", root=f"commands[{index}]"
                )
            )
        if len(commands) > 100:
            problems.append(f"commands: {len(commands)} commands is over Discord's limit of 100")
        names = [str(c.get("name")) for c in commands if isinstance(c, Mapping)]
        for name in sorted({n for n in names if names.count(n) > 1}):
            problems.append(f"commands: the name {name!r} is used more than once")
        return problems


@lru_cache(maxsize=4)
def _checker_for(resolved_path: str) -> OpenAPIChecker:
    with open(resolved_path, encoding="utf-8") as handle:
        return OpenAPIChecker(json.load(handle))


def load_checker(path: str | os.PathLike[str] | None = None) -> OpenAPIChecker | None:
    """Return a checker for the given or default spec file, or None when no spec is available."""
    spec_path = Path(path) if path is not None else default_spec_path()
    if spec_path is None or not spec_path.is_file():
        return None
    return OpenAPIChecker.from_file(spec_path)


def validate_command_payload(
    commands: Sequence[Mapping[str, Any]], spec_path: str | os.PathLike[str] | None = None
) -> list[str]:
    """Check synced command definitions against the spec; raise FileNotFoundError without a spec."""
    checker = load_checker(spec_path)
    if checker is None:
        raise FileNotFoundError(
            f"Discord OpenAPI spec not found (set {SPEC_ENV} or provide shared/discord-api-spec)"
        )
    return checker.check_command_payload(commands)
