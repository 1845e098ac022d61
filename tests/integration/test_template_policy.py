"""Least privilege: every function's IAM grants, read from the template as CloudFormation gets
it (after the SAM transform), are exactly the allow-list below - no more (nothing unlisted, no
wildcard, no Scan, no SAM policy template) and no less (the list documents what is deployed).

The allow-list is what the code calls (layers/newsdesk/python/newsdesk): change it together
with the code and template.yaml. Resources are written as the table's logical id, with
"/index/<name>" for an index.
"""

from __future__ import annotations

import copy
import json
import re
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"

# Per function logical id: resource -> the actions the code needs on it.
ALLOWED_GRANTS: dict[str, dict[str, set[str]]] = {
    "PagesFunction": {
        # articles.get_article (GetItem by slug)
        "ArticlesTable": {"dynamodb:GetItem"},
        # articles.list_published (Query, newest first)
        "ArticlesTable/index/by-published": {"dynamodb:Query"},
        # articles.list_category (Query of one category, newest first)
        "ArticlesTable/index/by-category": {"dynamodb:Query"},
        # articles.lastmods (the sitemap: every visible article's last edit and category)
        "ArticlesTable/index/by-published-lastmod": {"dynamodb:Query"},
        # view counters (UpdateItem ADD), online-now buckets and visit shards (UpdateItem
        # ADD), the daily salt (GetItem, PutItem, DeleteItem), site item (UpdateItem of the
        # peak and the roll-up), the figures and counts of a listing (BatchGetItem)
        "CountersTable": {
            "dynamodb:GetItem",
            "dynamodb:BatchGetItem",
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
            "dynamodb:DeleteItem",
        },
        # a counted view registers presence (UpdateItem of the visitor's item; DeleteItem
        # of their item under yesterday's id after midnight)
        "ConnectionsTable": {"dynamodb:UpdateItem", "dynamodb:DeleteItem"},
    },
    "ApiFunction": {
        # the article exists (GetItem) / legacy counts of several (BatchGetItem)
        "ArticlesTable": {"dynamodb:GetItem", "dynamodb:BatchGetItem"},
        # views, beacon, visits, salt, peak: as PagesFunction
        "CountersTable": {
            "dynamodb:GetItem",
            "dynamodb:BatchGetItem",
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
            "dynamodb:DeleteItem",
        },
        # presence heartbeats (UpdateItem of the visitor's item; DeleteItem of their item
        # under yesterday's id after midnight)
        "ConnectionsTable": {"dynamodb:UpdateItem", "dynamodb:DeleteItem"},
    },
    "AdminFunction": {
        # importer.write (GetItem of the stored hash, UpdateItem in its transaction),
        # editing.set_status (GetItem, conditional UpdateItem of the status)
        "ArticlesTable": {"dynamodb:GetItem", "dynamodb:UpdateItem"},
        # editing.set_views: consistent read of the shards (BatchGetItem), the legacy count
        # (UpdateItem) and the audit record (PutItem) in one transaction; importer.write's
        # legacy count and the site's legacy total (UpdateItem)
        "CountersTable": {
            "dynamodb:BatchGetItem",
            "dynamodb:UpdateItem",
            "dynamodb:PutItem",
        },
    },
    "MostReadFunction": {
        # mostread.refresh: every counter's key (Query by-kind), the counters themselves
        # (BatchGetItem), the lists item (PutItem), expired day buckets (UpdateItem REMOVE),
        # titles and visibility (BatchGetItem); menu.refresh: every published article's
        # category (Query by-published), the menu item (PutItem)
        "CountersTable/index/by-kind": {"dynamodb:Query"},
        "CountersTable": {"dynamodb:BatchGetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"},
        "ArticlesTable": {"dynamodb:BatchGetItem"},
        "ArticlesTable/index/by-published": {"dynamodb:Query"},
    },
}

# dynamodb:Scan reads (and bills) a whole table: allowed only with a reason written here,
# keyed by (function, resource).
SCAN_JUSTIFIED: dict[tuple[str, str], str] = {}

# AWS managed policies a function role may carry, with what they grant. SAM attaches both.
ALLOWED_MANAGED_POLICIES: dict[str, str] = {
    "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole": (
        "logs:CreateLogGroup/CreateLogStream/PutLogEvents - every function's own log group"
    ),
    "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess": (
        "xray:PutTraceSegments/PutTelemetryRecords/GetSampling* - Tracing: Active"
    ),
}

# IAM roles in the transformed template that belong to no function (none today). Any other
# role fails the check, so that no grant escapes the allow-list.
OTHER_ROLES: dict[str, str] = {}

LAMBDA_FUNCTION = "AWS::Lambda::Function"
PSEUDO_PARAMETERS = {
    "AWS::Partition": "aws",
    "AWS::Region": "${AWS::Region}",
    "AWS::AccountId": "${AWS::AccountId}",
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::StackName": "${AWS::StackName}",
    "AWS::StackId": "${AWS::StackId}",
}
TABLE_ARN = re.compile(r"^arn:[^:]+:dynamodb:.*:table/(?P<rest>[^:]+)$")
PARTITION = re.compile(r"^arn:aws[a-z-]*:")


class TemplateError(Exception):
    """The template cannot be read or transformed."""


@dataclass(frozen=True)
class Grant:
    action: str  # as written
    resource: str  # normalised: logical id, "<Table>/index/<name>" or the ARN text
    where: str  # role / policy / Sid, for messages

    @property
    def key(self) -> tuple[str, str]:
        return (self.action.lower(), self.resource)


@dataclass
class PolicyReport:
    grants: dict[str, list[Grant]] = field(default_factory=dict)
    managed: dict[str, set[str]] = field(default_factory=dict)
    violations: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)


# ---- reading and transforming ------------------------------------------------------------


def load_template(source: Path | str | Mapping[str, Any]) -> dict[str, Any]:
    """template.yaml (or a JSON/YAML copy) as plain dicts, short-form intrinsics expanded."""
    if isinstance(source, Mapping):
        return copy.deepcopy(dict(source))
    from cfnlint.decode.cfn_yaml import loads

    path = Path(source)
    # Through JSON: cfn-lint's node types become plain dicts, lists and strings.
    return json.loads(json.dumps(loads(path.read_text(encoding="utf-8"), str(path))))


_LOCAL_URI_PROPERTIES = {
    "AWS::Serverless::Function": "CodeUri",
    "AWS::Serverless::LayerVersion": "ContentUri",
    "AWS::Serverless::Api": "DefinitionUri",
    "AWS::Serverless::HttpApi": "DefinitionUri",
    "AWS::Serverless::StateMachine": "DefinitionUri",
}


def _placeholder(definition: Mapping[str, Any]) -> Any:
    allowed = definition.get("AllowedValues")
    if allowed:
        return allowed[0]
    if definition.get("Type") == "Number":
        return definition.get("MinValue", 1)
    return "placeholder"


def transform(template: Mapping[str, Any]) -> dict[str, Any]:
    """The SAM transform, offline: local code paths become a dummy S3 location (as `sam
    validate` does), parameters without a default get a placeholder value."""
    from samtranslator.model.exceptions import InvalidDocumentException
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.translator import Translator

    sam = copy.deepcopy(dict(template))
    for resource in sam.get("Resources", {}).values():
        prop = _LOCAL_URI_PROPERTIES.get(resource.get("Type", ""))
        props = resource.get("Properties") or {}
        if prop and isinstance(props.get(prop), str) and not props[prop].startswith("s3://"):
            props[prop] = "s3://placeholder-bucket/placeholder-key"
    function_globals = sam.get("Globals", {}).get("Function", {})
    if isinstance(function_globals.get("CodeUri"), str):
        function_globals["CodeUri"] = "s3://placeholder-bucket/placeholder-key"
    parameters = {
        name: _placeholder(definition)
        for name, definition in sam.get("Parameters", {}).items()
        if "Default" not in definition
    }
    # Only the session's region is read (no credentials, no AWS profile, no network).
    session: Any = SimpleNamespace(region_name="us-east-1")
    translator = Translator(None, Parser(), boto_session=session)
    try:
        return translator.translate(sam, parameter_values=parameters, get_managed_policy_map=dict)
    except InvalidDocumentException as err:
        causes = "; ".join(str(cause) for cause in err.causes)
        raise TemplateError(f"the SAM transform failed: {causes}") from err


@cache
def _policy_template_names() -> frozenset[str]:
    from samtranslator.policy_template_processor.processor import PolicyTemplatesProcessor

    return frozenset(PolicyTemplatesProcessor.get_default_policy_templates_json()["Templates"])


# ---- normalising intrinsic functions -----------------------------------------------------


def _branches(value: Any) -> Iterator[Any]:
    """Both branches of Fn::If (either may be deployed), AWS::NoValue dropped."""
    if isinstance(value, dict) and set(value) == {"Fn::If"}:
        for branch in value["Fn::If"][1:]:
            yield from _branches(branch)
    elif value != {"Ref": "AWS::NoValue"}:
        yield value


def _as_list(value: Any) -> list[Any]:
    out: list[Any] = []
    for item in _branches(value):
        if isinstance(item, list):
            for element in item:
                out.extend(_branches(element))
        else:
            out.append(item)
    return out


def _text(value: Any, *, in_string: bool) -> list[str]:
    """The possible texts of a value: ${X.Arn} and !GetAtt X.Arn become X, and so does !Ref X
    inside a string (a table's name in an ARN); a bare !Ref X stays visible as {Ref: X}."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, (int, float)):
        return [str(value)]
    if isinstance(value, dict) and len(value) == 1:
        ((fn, arg),) = value.items()
        if fn == "Fn::GetAtt":
            target, attr = arg.split(".", 1) if isinstance(arg, str) else arg
            return [target if attr == "Arn" else f"{target}.{attr}"]
        if fn == "Ref":
            if arg in PSEUDO_PARAMETERS:
                return [PSEUDO_PARAMETERS[arg]]
            return [arg if in_string else f"{{Ref: {arg}}}"]
        if fn == "Fn::If":
            return [
                text for branch in _branches(value) for text in _text(branch, in_string=in_string)
            ]
        if fn == "Fn::Sub":
            return _sub(arg)
        if fn == "Fn::Join" and isinstance(arg, list) and len(arg) == 2:
            separator, parts = arg
            texts = [""]
            for i, part in enumerate(_as_list(parts)):
                options = _text(part, in_string=True)
                texts = [f"{t}{separator if i else ''}{o}" for t in texts for o in options]
            return texts
    return [json.dumps(value, sort_keys=True)]


def _sub(arg: Any) -> list[str]:
    text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
    texts = [text]
    for name in dict.fromkeys(re.findall(r"\$\{(?!!)([^}]+)\}", text)):
        if name in variables:
            options = _text(variables[name], in_string=True)
        elif name in PSEUDO_PARAMETERS:
            options = [PSEUDO_PARAMETERS[name]]
        elif name.endswith(".Arn"):
            options = [name[: -len(".Arn")]]
        else:
            options = [name]
        texts = [t.replace(f"${{{name}}}", o) for t in texts for o in options]
    return texts


def normalise_resource(value: Any) -> list[str]:
    """Table ARNs as the table's logical id ("ArticlesTable", "ArticlesTable/index/x")."""
    out = []
    for text in _text(value, in_string=False):
        match = TABLE_ARN.match(text)
        out.append(match["rest"] if match else PARTITION.sub("arn:aws:", text))
    return out


# ---- collecting grants --------------------------------------------------------------------


def _statements(document: Any) -> list[Any]:
    if not isinstance(document, dict):
        return [document]
    return _as_list(document.get("Statement", []))


def _check_statement(
    statement: Any, where: str, grants: list[Grant], violations: list[str]
) -> None:
    if not isinstance(statement, dict):
        violations.append(f"{where}: a statement that is not a plain object: {statement!r}")
        return
    sid = statement.get("Sid")
    where = f"{where} Sid {sid}" if sid else where
    if statement.get("Effect", "Allow") != "Allow":
        return  # a Deny only narrows
    for negated in ("NotAction", "NotResource", "NotPrincipal"):
        if negated in statement:
            violations.append(f"{where}: {negated} grants everything not listed")
    actions = [
        a for item in _as_list(statement.get("Action", [])) for a in _text(item, in_string=False)
    ]
    resources = [
        r for item in _as_list(statement.get("Resource", [])) for r in normalise_resource(item)
    ]
    for action in actions:
        for resource in resources:
            grants.append(Grant(action, resource, where))


def collect_grants(transformed: Mapping[str, Any]) -> PolicyReport:
    """Every Allow grant of every Lambda function's role: the role's inline policies, the
    AWS::IAM::Policy / ManagedPolicy resources attached to it and its managed policy ARNs."""
    report = PolicyReport()
    resources: dict[str, Any] = transformed.get("Resources", {})
    roles = {lid for lid, res in resources.items() if res.get("Type") == "AWS::IAM::Role"}
    role_of: dict[str, str] = {}
    for lid, res in resources.items():
        if res.get("Type") != LAMBDA_FUNCTION:
            continue
        role = (res.get("Properties") or {}).get("Role")
        target = _text(role, in_string=False)[0] if role is not None else None
        if role is None:
            report.violations.append(f"{lid}: a function without a role")
        elif not (isinstance(role, dict) and "Fn::GetAtt" in role and target in roles):
            report.violations.append(
                f"{lid}: its role {role!r} is not an AWS::IAM::Role of this template, so its "
                "grants cannot be checked"
            )
        else:
            role_of[lid] = target
    for lid in sorted(roles - set(role_of.values()) - set(OTHER_ROLES)):
        report.violations.append(
            f"{lid}: an IAM role that belongs to no function; its grants escape the "
            "allow-list (list it in OTHER_ROLES with a reason, and check its grants)"
        )

    attached: dict[str, list[str]] = {}  # role -> AWS::IAM::Policy / ManagedPolicy ids
    for lid, res in resources.items():
        if res.get("Type") in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            for role in _as_list((res.get("Properties") or {}).get("Roles", [])):
                name = role.get("Ref") if isinstance(role, dict) else None
                attached.setdefault(name or json.dumps(role), []).append(lid)

    for function, role in sorted(role_of.items()):
        grants: list[Grant] = []
        managed: set[str] = set()
        props = resources[role].get("Properties") or {}
        for policy in _as_list(props.get("Policies", [])):
            where = f"{role} policy {policy.get('PolicyName')}"
            for statement in _statements(policy.get("PolicyDocument")):
                _check_statement(statement, where, grants, report.violations)
        policy_ids = list(attached.get(role, []))
        for arn in _as_list(props.get("ManagedPolicyArns", [])):
            ref = arn.get("Ref") if isinstance(arn, dict) else None
            if ref in resources and resources[ref].get("Type") == "AWS::IAM::ManagedPolicy":
                policy_ids.append(ref)
            else:
                managed.update(normalise_resource(arn))
        for policy_id in dict.fromkeys(policy_ids):
            document = (resources[policy_id].get("Properties") or {}).get("PolicyDocument")
            for statement in _statements(document):
                _check_statement(statement, f"{policy_id}", grants, report.violations)
        report.grants[function] = grants
        report.managed[function] = managed
    return report


def sam_policy_templates(template: Mapping[str, Any]) -> list[str]:
    """SAM policy templates (DynamoDBCrudPolicy...) named in the template as written."""
    found = []
    names = _policy_template_names()
    function_globals = template.get("Globals", {}).get("Function", {})
    sources = [("Globals.Function", function_globals)] + [
        (lid, res.get("Properties") or {})
        for lid, res in template.get("Resources", {}).items()
        if res.get("Type", "").startswith("AWS::Serverless::")
    ]
    for owner, props in sources:
        for policy in _as_list(props.get("Policies", [])):
            if isinstance(policy, dict):
                found += [f"{owner}: SAM policy template {key}" for key in policy if key in names]
    return found


# ---- the check ----------------------------------------------------------------------------


def check_policies(
    source: Path | str | Mapping[str, Any] = TEMPLATE,
    allowed: Mapping[str, Mapping[str, set[str]]] = ALLOWED_GRANTS,
) -> PolicyReport:
    """Violations (grants beyond the allow-list and forbidden forms) and missing (allow-listed
    grants the template no longer gives) of a template (path or parsed dict)."""
    template = load_template(source)
    report = collect_grants(transform(template))
    for problem in sam_policy_templates(template):
        report.violations.append(
            f"{problem}: grants more than the function needs (DynamoDBCrudPolicy includes "
            "Scan, BatchWriteItem and every index); write a Statement with the actions the "
            "code calls"
        )
    for function in sorted(set(allowed) - set(report.grants)):
        report.missing.append(f"{function}: in the allow-list but not a function of the template")
    for function, grants in sorted(report.grants.items()):
        listed = {
            (action.lower(), resource)
            for resource, actions in allowed.get(function, {}).items()
            for action in actions
        }
        if function not in allowed:
            report.violations.append(f"{function}: a function with no entry in ALLOWED_GRANTS")
        for arn in sorted(report.managed[function]):
            if arn not in ALLOWED_MANAGED_POLICIES:
                report.violations.append(
                    f"{function}: managed policy {arn} is not in ALLOWED_MANAGED_POLICIES"
                )
        seen = set()
        for grant in grants:
            action, resource = grant.key
            if grant.key in seen:
                continue
            seen.add(grant.key)
            where = f"{function}: {grant.action} on {resource} ({grant.where})"
            if "*" in action or "?" in action:
                report.violations.append(f"{where}: a wildcard action")
            if "*" in resource or "?" in resource:
                report.violations.append(f"{where}: a wildcard resource")
            if action == "dynamodb:scan" and (function, resource) not in SCAN_JUSTIFIED:
                report.violations.append(
                    f"{where}: Scan reads the whole table; use a Query on an index, or give "
                    "the reason in SCAN_JUSTIFIED"
                )
            if grant.key not in listed:
                report.violations.append(f"{where}: not in the allow-list")
        for action, resource in sorted(listed - seen):
            report.missing.append(
                f"{function}: allow-listed {action} on {resource} is not granted by the "
                "template (remove it from ALLOWED_GRANTS if the code no longer needs it)"
            )
    return report


def _bullets(lines: list[str]) -> str:
    return "\n".join(f"  - {line}" for line in lines)


@pytest.fixture(scope="module")
def report() -> PolicyReport:
    try:
        return check_policies(TEMPLATE)
    except TemplateError as err:
        pytest.fail(str(err))


def test_grants_stay_within_the_allow_list(report: PolicyReport) -> None:
    assert report.grants, "no function found in the transformed template"
    if report.violations:
        pytest.fail("grants beyond least privilege:\n" + _bullets(report.violations), False)


def test_allow_list_is_not_stale(report: PolicyReport) -> None:
    if report.missing:
        pytest.fail(
            "ALLOWED_GRANTS lists more than is deployed:\n" + _bullets(report.missing), False
        )


def test_every_function_is_allow_listed(report: PolicyReport) -> None:
    assert set(report.grants) == set(ALLOWED_GRANTS)
    assert all(report.managed[f] <= set(ALLOWED_MANAGED_POLICIES) for f in report.grants)


# ---- the checker itself, on mutated copies of the template -------------------------------


@pytest.fixture
def template() -> dict[str, Any]:
    return load_template(TEMPLATE)


def _check_copy(template: dict[str, Any], tmp_path: Path) -> PolicyReport:
    path = tmp_path / "template.json"
    path.write_text(json.dumps(template), encoding="utf-8")
    return check_policies(path)


def _add_policy(template: dict[str, Any], function: str, policy: Any) -> None:
    template["Resources"][function]["Properties"]["Policies"].append(policy)


def _statement(action: Any, resource: Any) -> dict[str, Any]:
    return {"Statement": [{"Effect": "Allow", "Action": action, "Resource": resource}]}


def _has(lines: list[str], *parts: str) -> bool:
    return any(all(part in line for part in parts) for line in lines)


def test_checker_reports_a_scan_grant(template: dict[str, Any], tmp_path: Path) -> None:
    _add_policy(
        template,
        "PagesFunction",
        _statement(["dynamodb:Scan"], {"Fn::GetAtt": ["ArticlesTable", "Arn"]}),
    )
    found = _check_copy(template, tmp_path)
    assert _has(found.violations, "PagesFunction: dynamodb:Scan on ArticlesTable", "Scan reads")
    assert _has(found.violations, "dynamodb:Scan on ArticlesTable", "not in the allow-list")
    assert not found.missing


def test_checker_reports_a_sam_policy_template(template: dict[str, Any], tmp_path: Path) -> None:
    _add_policy(
        template, "ApiFunction", {"DynamoDBCrudPolicy": {"TableName": {"Ref": "ArticlesTable"}}}
    )
    found = _check_copy(template, tmp_path)
    assert _has(found.violations, "ApiFunction: SAM policy template DynamoDBCrudPolicy")
    # and what it expands to: Scan, writes and every index of the table
    assert _has(found.violations, "ApiFunction: dynamodb:Scan on ArticlesTable")
    assert _has(found.violations, "ApiFunction: dynamodb:PutItem on ArticlesTable", "allow-list")
    assert _has(found.violations, "on ArticlesTable/index/*", "a wildcard resource")


def test_checker_reports_wildcards(template: dict[str, Any], tmp_path: Path) -> None:
    _add_policy(template, "PagesFunction", _statement("dynamodb:*", "*"))
    _add_policy(
        template,
        "ApiFunction",
        _statement("dynamodb:Query", {"Fn::Sub": "${CountersTable.Arn}/index/*"}),
    )
    found = _check_copy(template, tmp_path)
    assert _has(found.violations, "PagesFunction: dynamodb:* on *", "a wildcard action")
    assert _has(found.violations, "PagesFunction: dynamodb:* on *", "a wildcard resource")
    assert _has(
        found.violations, "ApiFunction: dynamodb:Query on CountersTable/index/*", "wildcard"
    )


def test_checker_reports_an_unlisted_managed_policy(
    template: dict[str, Any], tmp_path: Path
) -> None:
    _add_policy(template, "ApiFunction", "AmazonDynamoDBFullAccess")
    found = _check_copy(template, tmp_path)
    assert _has(found.violations, "ApiFunction: managed policy", "AmazonDynamoDBFullAccess")


def test_checker_reports_a_grant_on_another_table(template: dict[str, Any], tmp_path: Path) -> None:
    _add_policy(
        template,
        "PagesFunction",
        _statement("dynamodb:UpdateItem", {"Fn::GetAtt": ["ArticlesTable", "Arn"]}),
    )
    found = _check_copy(template, tmp_path)
    assert _has(
        found.violations, "PagesFunction: dynamodb:UpdateItem on ArticlesTable", "allow-list"
    )


def test_checker_reports_a_stale_allow_list(template: dict[str, Any], tmp_path: Path) -> None:
    del template["Resources"]["ApiFunction"]["Properties"]["Policies"][0]["Statement"][-1]
    found = _check_copy(template, tmp_path)
    assert _has(found.missing, "ApiFunction: allow-listed dynamodb:deleteitem on ConnectionsTable")


def test_checker_reports_a_function_outside_the_allow_list(
    template: dict[str, Any], tmp_path: Path
) -> None:
    template["Resources"]["ExtraFunction"] = {
        "Type": "AWS::Serverless::Function",
        "Properties": {
            "CodeUri": "functions/api/",
            "Handler": "app.lambda_handler",
            "Role": "arn:aws:iam::123456789012:role/somewhere-else",
        },
    }
    found = _check_copy(template, tmp_path)
    assert _has(found.violations, "ExtraFunction: its role", "cannot be checked")


def test_normalising_resources() -> None:
    assert normalise_resource({"Fn::GetAtt": ["ArticlesTable", "Arn"]}) == ["ArticlesTable"]
    assert normalise_resource({"Fn::GetAtt": "ArticlesTable.Arn"}) == ["ArticlesTable"]
    assert normalise_resource({"Fn::Sub": "${ArticlesTable.Arn}/index/by-published"}) == [
        "ArticlesTable/index/by-published"
    ]
    sam_template_arn = {
        "Fn::Sub": [
            "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${tableName}",
            {"tableName": {"Ref": "CountersTable"}},
        ]
    }
    assert normalise_resource(sam_template_arn) == ["CountersTable"]
    assert normalise_resource({"Ref": "SomeArn"}) == ["{Ref: SomeArn}"]
    assert normalise_resource(
        {"Fn::If": ["C", {"Fn::GetAtt": ["A", "Arn"]}, {"Ref": "AWS::NoValue"}]}
    ) == ["A"]


def main(argv: list[str]) -> int:
    """`--transformed OUT`: write template.yaml after the SAM transform (scripts/checkov.sh
    scans it too, so checkov also sees the roles and permissions SAM generates)."""
    if len(argv) != 2 or argv[0] != "--transformed":
        print("usage: python -m tests.integration.test_template_policy --transformed OUT.json")
        return 2
    out = Path(argv[1])
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(transform(load_template(TEMPLATE)), indent=1) + "\n", "utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
