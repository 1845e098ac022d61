"""The README is checked against the code (issue 11, item 5).

Each test reads README.md's markdown tables and compares them, both ways, with where the
truth lives, read at test time:
- the route table ("HTTP API") with template.yaml's HttpApi events, as the local server reads
  them (local.server.read_template: "GET /articles/{slug}", "ANY /feed.xml", "$default");
- the configuration table ("Configuration") with template.yaml's Parameters (their Default),
  the environment variables the template feeds from them, and newsdesk/config.py's SETTINGS
  (which tests/unit/test_config.py ties to the same parameters);
- the metric table ("Metrics and alarms") with every Powertools `add_metric(name=...)` call in
  layers/newsdesk/python/newsdesk and functions/, found by parsing the source (ast);
- the alarm table with template.yaml's AWS::CloudWatch::Alarm resources: their names and the
  metrics they watch; and an alarm on the service's own namespace must watch a metric the code
  emits;
- and every repository file the README names exists.

A failure names what is missing on which side, e.g. "in template.yaml, not in README.md's
route table: ANY /api/visits".
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

import pytest
from newsdesk.config import SETTINGS

from local.server import read_template
from local.tables import load_template
from tests.support import ROOT
from tests.unit.test_config import _template as template_parameters_and_variables

README = ROOT / "README.md"
TEMPLATE = ROOT / "template.yaml"
# Where the metrics are emitted: the shared package and the handlers.
CODE_DIRS = (ROOT / "layers" / "newsdesk" / "python" / "newsdesk", ROOT / "functions")
METRIC_CALLS = ("add_metric", "single_metric")  # Powertools' two ways to name a metric
ALARM_NAME_PREFIX = "${AWS::StackName}-${Stage}-"  # AlarmName: !Sub "<prefix><name>"
ANY_ROW = "`ANY` on every path above"
DEFAULT_ROUTE = "$default"


# ------------------------------------------------------------------------- README tables


@dataclass(frozen=True)
class Table:
    """One markdown table: its header cells and its rows' cells (backticks kept)."""

    line: int  # 1-based line of the header in README.md
    header: list[str]
    rows: list[list[str]]


def _cells(line: str) -> list[str]:
    """A table line's cells, split on `|` outside backtick spans."""
    cells, current, in_code = [], "", False
    for char in line.strip().strip("|"):
        if char == "`":
            in_code = not in_code
        if char == "|" and not in_code:
            cells.append(current.strip())
            current = ""
        else:
            current += char
    return [*cells, current.strip()]


def _without_fences(text: str) -> str:
    """README.md with its fenced code blocks blanked (line numbers kept)."""
    lines, fenced = [], False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
            lines.append("")
        else:
            lines.append("" if fenced else line)
    return "\n".join(lines)


@cache
def _tables() -> tuple[Table, ...]:
    lines = _without_fences(README.read_text(encoding="utf-8")).splitlines()
    found, i = [], 0
    while i < len(lines):
        if lines[i].startswith("|") and i + 1 < len(lines) and lines[i + 1].startswith("|---"):
            end = i + 2
            while end < len(lines) and lines[end].startswith("|"):
                end += 1
            found.append(
                Table(i + 1, _cells(lines[i]), [_cells(row) for row in lines[i + 2 : end]])
            )
            i = end
        else:
            i += 1
    return tuple(found)


def readme_table(first_column: str) -> Table:
    """The one README table whose first header cell is `first_column` (a note in
    parentheses after it allowed)."""
    matches = [t for t in _tables() if t.header[0].split(" (")[0] == first_column]
    assert len(matches) == 1, (
        f"README.md should have exactly one table whose first column is {first_column!r}; "
        f"found {len(matches)} (at lines {[t.line for t in matches]})"
    )
    return matches[0]


def ticks(cell: str) -> list[str]:
    """The backtick spans of a cell: "`GET /` and `x`" -> ["GET /", "x"]."""
    return re.findall(r"`([^`]*)`", cell)


def differences(
    readme: Iterable[str], truth: Iterable[str], readme_what: str, truth_what: str
) -> str:
    """'' when both sides hold the same names, else what each side is missing."""
    readme_set, truth_set = set(readme), set(truth)
    lines = []
    if missing := sorted(truth_set - readme_set):
        lines.append(f"in {truth_what}, not in README.md's {readme_what}: {', '.join(missing)}")
    if extra := sorted(readme_set - truth_set):
        lines.append(f"in README.md's {readme_what}, not in {truth_what}: {', '.join(extra)}")
    return "\n".join(lines)


# ------------------------------------------------------------------------------- routes


def readme_routes() -> set[str]:
    """Route keys of the "method and path" table: "`GET /`" rows, the `ANY` row (every path
    the table names) and the `$default` row ("anything else (`$default`)")."""
    table = readme_table("method and path")
    keys: set[str] = set()
    unreadable, any_row = [], False
    for row in table.rows:
        cell, spans = row[0], ticks(row[0])
        if cell.startswith(ANY_ROW):
            any_row = True
        elif spans == [DEFAULT_ROUTE]:
            keys.add(DEFAULT_ROUTE)
        elif len(spans) == 1 and re.fullmatch(r"[A-Z]+ /\S*", spans[0]) and cell == f"`{spans[0]}`":
            keys.add(spans[0])
        else:
            unreadable.append(cell)
    assert not unreadable, (
        f"README.md line {table.line}: route rows must be `METHOD /path`, {ANY_ROW!r} or "
        f"'... (`{DEFAULT_ROUTE}`)'; cannot read: {unreadable}"
    )
    if any_row:
        keys |= {f"ANY {key.split(' ', 1)[1]}" for key in set(keys) - {DEFAULT_ROUTE}}
    return keys


def test_route_table_is_the_templates_routes() -> None:
    _, routes = read_template(TEMPLATE)
    template_keys = {route.key for route in routes}
    assert template_keys, "no HttpApi event found in template.yaml"
    problem = differences(
        readme_routes(), template_keys, "route table (HTTP API)", "template.yaml's HttpApi events"
    )
    assert not problem, problem


# ------------------------------------------------------------------------ configuration


@dataclass(frozen=True)
class ConfigRow:
    parameters: tuple[str, ...]  # () for "(none...)"
    variables: tuple[str, ...]  # environment variables; () for "(function setting)" and such
    defaults: tuple[str, ...]  # one per parameter, or one for all; "" for "empty"


def _defaults(cell: str) -> tuple[str, ...]:
    """'`false`' -> ('false',); '200, 400' -> ('200', '400'); 'empty (the stack name)' -> ('',)."""
    if cell.startswith("empty"):
        return ("",)
    return tuple(part.strip() for part in cell.replace("`", "").split(" (")[0].split(", "))


def readme_config() -> list[ConfigRow]:
    table = readme_table("parameter")
    assert table.header[:3] == ["parameter", "environment variable", "default"], table.header
    rows = []
    for parameter, variable, default, *_ in table.rows:
        rows.append(
            ConfigRow(
                parameters=() if parameter.startswith("(") else tuple(ticks(parameter)),
                variables=() if variable.startswith("(") else tuple(ticks(variable)),
                defaults=_defaults(default),
            )
        )
    return rows


def _row_defaults(row: ConfigRow) -> dict[str, str]:
    if len(row.defaults) == 1:
        return dict.fromkeys(row.parameters, row.defaults[0])
    assert len(row.defaults) == len(row.parameters), (
        f"README.md's configuration row {row.parameters} gives {len(row.defaults)} defaults"
    )
    return dict(zip(row.parameters, row.defaults, strict=True))


def test_configuration_table_lists_every_template_parameter() -> None:
    parameters, _ = template_parameters_and_variables()
    named = [p for row in readme_config() for p in row.parameters]
    assert len(named) == len(set(named)), f"a parameter in two rows: {sorted(named)}"
    problem = differences(
        named, parameters, "configuration table (parameter column)", "template.yaml's Parameters"
    )
    assert not problem, problem


def test_configuration_defaults_are_the_templates() -> None:
    parameters, _ = template_parameters_and_variables()
    wrong = [
        f"{name}: README.md says {shown!r}, template.yaml says {parameters[name]['Default']!r}"
        for row in readme_config()
        for name, shown in _row_defaults(row).items()
        if name in parameters and shown != str(parameters[name].get("Default", ""))
    ]
    assert not wrong, "configuration defaults differ:\n" + "\n".join(wrong)


def test_configuration_variables_are_what_the_template_and_config_py_say() -> None:
    """Each variable the template feeds from a parameter is in that parameter's row; each
    newsdesk/config.py setting is in one row, beside its parameter (or none) and default."""
    parameters, variables = template_parameters_and_variables()
    rows = readme_config()
    row_of = {variable: row for row in rows for variable in row.variables}
    wrong = []
    for variable, value in sorted(variables.items()):
        fed_by = value.get("Ref") if isinstance(value, dict) else None
        if fed_by not in parameters:
            continue
        row = row_of.get(variable)
        if row is None or fed_by not in row.parameters:
            shown = "missing" if row is None else f"beside {list(row.parameters) or 'no parameter'}"
            wrong.append(f"{variable}: template.yaml feeds it from {fed_by}; README.md: {shown}")
    for setting in SETTINGS:
        row = row_of.get(setting.env)
        expected = (setting.parameter,) if setting.parameter else ()
        if row is None:
            wrong.append(f"{setting.env}: in newsdesk/config.py, not in README.md's table")
        elif row.parameters != expected or row.defaults != (str(setting.default),):
            wrong.append(
                f"{setting.env}: newsdesk/config.py says parameter {setting.parameter}, default "
                f"{setting.default!r}; README.md says {list(row.parameters)}, {list(row.defaults)}"
            )
    for row in rows:  # a variable README ties to a parameter is one the template sets
        for variable in row.variables:
            if row.parameters and variable not in variables:
                wrong.append(
                    f"{variable}: README.md ties it to {row.parameters}; template.yaml sets none"
                )
    assert not wrong, "configuration table differs:\n" + "\n".join(wrong)


# ------------------------------------------------------------------------------ metrics


def _callee(call: ast.Call) -> str | None:
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else None


def emitted_metrics() -> dict[str, list[str]]:
    """Metric name -> where the code emits it ("functions/mostread/app.py:25"), from every
    add_metric/single_metric call under CODE_DIRS. A name that is not a string literal fails
    the test: this check could not see it."""
    found: dict[str, list[str]] = {}
    unreadable = []
    for base in CODE_DIRS:
        for path in sorted(base.rglob("*.py")):
            where = path.relative_to(ROOT).as_posix()
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=where)):
                if not isinstance(node, ast.Call) or _callee(node) not in METRIC_CALLS:
                    continue
                names = [k.value for k in node.keywords if k.arg == "name"] or node.args[:1]
                name = names[0] if names else None
                if isinstance(name, ast.Constant) and isinstance(name.value, str):
                    found.setdefault(name.value, []).append(f"{where}:{node.lineno}")
                else:
                    unreadable.append(f"{where}:{node.lineno}")
    assert not unreadable, f"metric name is not a string literal at {unreadable}"
    assert found, f"no {' or '.join(METRIC_CALLS)} call under {[str(d) for d in CODE_DIRS]}"
    return found


def _namespace() -> str:
    _, variables = template_parameters_and_variables()
    return str(variables["POWERTOOLS_METRICS_NAMESPACE"])


def test_metric_table_is_what_the_code_emits() -> None:
    table = readme_table("metric")
    assert ticks(table.header[0]) == [_namespace()], (
        f"README.md line {table.line}: the metric table's header should name the namespace "
        f"`{_namespace()}` (POWERTOOLS_METRICS_NAMESPACE in template.yaml): {table.header[0]!r}"
    )
    emitted = emitted_metrics()
    listed = [name for row in table.rows for name in ticks(row[0])[:1]]
    problem = differences(listed, emitted, "metric table", "the code's add_metric calls")
    where = "; ".join(f"{name} at {', '.join(at)}" for name, at in sorted(emitted.items()))
    assert not problem, f"{problem}\n(the code emits {where})"


# ------------------------------------------------------------------------------- alarms


def template_alarms() -> dict[str, set[tuple[str, str]]]:
    """Alarm name (AlarmName without the stack and stage prefix) -> the (namespace, metric)
    pairs it watches, for every AWS::CloudWatch::Alarm in template.yaml."""
    alarms: dict[str, set[tuple[str, str]]] = {}
    for logical_id, resource in load_template(TEMPLATE)["Resources"].items():
        if resource.get("Type") != "AWS::CloudWatch::Alarm":
            continue
        props: dict[str, Any] = resource["Properties"]
        name = props.get("AlarmName")
        sub = name.get("Fn::Sub") if isinstance(name, dict) else None
        assert isinstance(sub, str) and sub.startswith(ALARM_NAME_PREFIX), (
            f'{logical_id}: AlarmName should be !Sub "{ALARM_NAME_PREFIX}<name>", '
            f"as README.md documents: {name!r}"
        )
        metrics = [props] + [
            q.get("MetricStat", {}).get("Metric", {}) for q in props.get("Metrics", [])
        ]
        alarms[sub.removeprefix(ALARM_NAME_PREFIX)] = {
            (m["Namespace"], m["MetricName"]) for m in metrics if "MetricName" in m
        }
    assert alarms, "no AWS::CloudWatch::Alarm in template.yaml"
    return alarms


def readme_alarms() -> dict[str, set[tuple[str, str]]]:
    """The alarm table: name -> (namespace, metric) pairs of its "metrics" cell, written
    "`Namespace` `Metric`, `Metric`", several namespaces separated by ";"."""
    table = readme_table("alarm")
    column = table.header.index("metrics")
    alarms = {}
    for row in table.rows:
        (name,) = ticks(row[0])
        pairs = set()
        for part in row[column].split(";"):
            namespace, *names = ticks(part)
            pairs |= {(namespace, metric) for metric in names}
        alarms[name] = pairs
    return alarms


def test_alarm_table_is_the_templates_alarms() -> None:
    readme, template = readme_alarms(), template_alarms()
    problem = differences(readme, template, "alarm table", "template.yaml's alarms")
    assert not problem, problem
    wrong = [
        f"{name}: README.md says {sorted(readme[name])}, template.yaml watches {sorted(watched)}"
        for name, watched in sorted(template.items())
        if readme[name] != watched
    ]
    assert not wrong, "alarms watch other metrics than README.md says:\n" + "\n".join(wrong)


def test_alarms_on_the_services_metrics_watch_metrics_the_code_emits() -> None:
    emitted = emitted_metrics()
    unfed = [
        f"{name} watches {namespace}/{metric}"
        for name, watched in sorted(template_alarms().items())
        for namespace, metric in sorted(watched)
        if namespace == _namespace() and metric not in emitted
    ]
    assert not unfed, f"alarms on metrics no code emits (they can never fire): {unfed}"


# -------------------------------------------------------------------------------- files

# Where a file name in README.md may be relative to: the repository, the layer's python/
# folder ("newsdesk/config.py"), the package ("locales/*.json") and the page templates.
FILE_BASES = (
    ROOT,
    ROOT / "layers" / "newsdesk" / "python",
    ROOT / "layers" / "newsdesk" / "python" / "newsdesk",
    ROOT / "templates",
)
FILE_NAME = re.compile(r"[\w.<>*-]+(?:/[\w.<>*-]+)*\.(?:md|py|yaml|yml|toml|json|txt|js|css|html)")
GENERATED = ("artifacts/",)  # written by make test and make bench


def readme_files() -> list[str]:
    text = _without_fences(README.read_text(encoding="utf-8"))
    return sorted(
        {
            span
            for span in ticks(text)
            if FILE_NAME.fullmatch(span) and not span.startswith(GENERATED)
        }
    )


@pytest.mark.parametrize("name", readme_files())
def test_every_file_the_readme_names_exists(name: str) -> None:
    pattern = re.sub(r"<[^>]*>", "*", name)
    assert any(any(base.glob(pattern)) for base in FILE_BASES), (
        f"README.md names {name}, which is not in the repository "
        f"(looked under {', '.join(str(b.relative_to(ROOT)) or '.' for b in FILE_BASES)})"
    )
