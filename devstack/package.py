"""Build the deployable template: ``chalice package`` with ``infrastructure/resources.json`` merged
in, then the changes a deep merge cannot express. ``make package`` runs it; it is never deployed.

Invariants of the finished template (checked by tests/integration/test_deploy_template.py):

- Every path of the REST API has ``x-amazon-apigateway-any-method`` with the same Lambda proxy
  integration as its explicit methods, which are kept unchanged. API Gateway matches an explicit
  method first, so known routes behave as before, and any other method on a known path reaches the
  function, which answers the JSON 405 of SPEC §9 (without it API Gateway answers "Missing
  Authentication Token", turned into a 404 by a gateway response). Unknown paths are untouched.
- Every Lambda function, whatever its name (the API handler, each schedule, any function added
  later), gets its own ``AWS::Logs::LogGroup`` kept ``LogRetentionDays`` days and logs to it through
  ``LoggingConfig``; the function refers to the group, so CloudFormation creates the group first.
- Every Lambda function gets an alarm on its ``Errors`` metric that notifies ``AlarmTopic``.
- The API definition's title is the stack name, like the SAM ``Name`` from ``resources.json`` (API
  Gateway keys the API's metrics, and so the 5XX alarm, by name).
- Resources are only added or extended, never removed. Finishing a finished template changes nothing.

``deployment.zip`` gets compiled bytecode beside every module (``__pycache__/*.cpython-3XX.pyc``,
unchecked-hash pycs, so the zip's 2-second timestamps do not invalidate them): Lambda's code
directory is read-only, so without them every cold start compiles app.py, chalicelib and the packaged
dependencies from source (measured here: 96 of our modules, ≈ 50 ms, see bench/coldstart.py). Only
when the functions' runtime is this interpreter's version (a pyc is only read by its own version).

``finish_template`` is pure (a dict in, a new dict out); ``main`` runs chalice and writes files.
"""

from __future__ import annotations

import argparse
import compileall
import copy
import json
import os
import py_compile
import re
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from devstack.engine import DEFAULT_REGION

REPO_ROOT = Path(__file__).resolve().parent.parent
RESOURCES_FILE = "infrastructure/resources.json"

FUNCTION_TYPE = "AWS::Serverless::Function"
REST_API_ID = "RestAPI"
ALARM_TOPIC_ID = "AlarmTopic"
RETENTION_PARAMETER = "LogRetentionDays"
ANY_METHOD = "x-amazon-apigateway-any-method"
INTEGRATION = "x-amazon-apigateway-integration"
# Swagger 2.0 operation keys under a path; anything else there (parameters, extensions) is not a method.
HTTP_METHODS = frozenset(("get", "put", "post", "delete", "options", "head", "patch"))

# What an Errors alarm means for the functions we know; others get a generic description.
# Logical ids are chalice's CamelCase of the Python function name (see infrastructure/README.md).
ERRORS_ALARMS: Mapping[str, tuple[str, str]] = {
    "APIHandler": (
        "api-function-errors",
        "The API function failed outside the app's own error handling (timeout, out of memory, crash at "
        "start); callers got a 502/504 (the 5XX alarm fires too).",
    ),
    "CloseSettlementPeriods": (
        "settlement-close-failed",
        "The daily settlement close (00:05 JST) raised an error. Periods that are due stay open until a run "
        "succeeds; closing is exactly-once, so re-running it is safe.",
    ),
    "RunLedgerCheck": (
        "ledger-check-failed",
        "The daily ledger check raised an error: the money conservation check did not complete.",
    ),
}
SECTION_ORDER = ("AWSTemplateFormatVersion", "Transform", "Description", "Parameters", "Conditions", "Globals",
                 "Resources", "Outputs")
SEE_README = " See infrastructure/README.md, Alarms."

CHALICE = [
    sys.executable,
    "-c",
    "import sys; sys.argv[0] = 'chalice'; from chalice.cli import main; sys.exit(main())",
]


class PackageError(RuntimeError):
    """The template cannot be finished: chalice failed, or it lacks what the finishing step needs."""


# -- the pure part ----------------------------------------------------------------------------
def finish_template(template: Mapping[str, Any]) -> dict[str, Any]:
    """The template with ANY methods, per-function log groups and Errors alarms, and the API named."""
    finished = copy.deepcopy(dict(template))
    resources = finished.get("Resources")
    if not isinstance(resources, dict):
        raise PackageError("template has no Resources")
    if RETENTION_PARAMETER not in finished.get("Parameters", {}):
        raise PackageError(f"template has no parameter {RETENTION_PARAMETER}: was {RESOURCES_FILE} merged?")
    if resources.get(ALARM_TOPIC_ID, {}).get("Type") != "AWS::SNS::Topic":
        raise PackageError(f"template has no SNS topic {ALARM_TOPIC_ID}: was {RESOURCES_FILE} merged?")

    api = resources.get(REST_API_ID)
    if api is not None:
        definition = api.get("Properties", {}).get("DefinitionBody")
        if not isinstance(definition, dict):
            raise PackageError(f"{REST_API_ID} has no inline DefinitionBody to add methods to")
        add_any_methods(definition)
        # The same value as the SAM ``Name`` set in resources.json: whichever API Gateway takes, the
        # API's name (a dimension of its metrics) is the stack's, so two stages never share metrics.
        definition.setdefault("info", {})["title"] = {"Ref": "AWS::StackName"}

    for function_id in sorted(k for k, v in resources.items() if v.get("Type") == FUNCTION_TYPE):
        add_log_group(resources, function_id)
        add_errors_alarm(resources, function_id)
    # The merge appends resources.json's sections after chalice's; put them in the usual reading order.
    ordered = {key: finished[key] for key in SECTION_ORDER if key in finished}
    return ordered | {key: value for key, value in finished.items() if key not in ordered}


def add_any_methods(definition: dict[str, Any]) -> None:
    """Give every path an ANY method with the Lambda proxy integration of its explicit methods."""
    for path, operations in definition.get("paths", {}).items():
        explicit = {m: op for m, op in operations.items() if m in HTTP_METHODS}
        if not explicit:
            raise PackageError(f"path {path} has no explicit method to take the integration from")
        integrations = [op.get(INTEGRATION) for op in explicit.values()]
        proxy = integrations[0]
        if not isinstance(proxy, dict) or proxy.get("type") != "aws_proxy":
            raise PackageError(f"path {path} is not a Lambda proxy integration: {proxy!r}")
        if any(other != proxy for other in integrations[1:]):
            # Chalice sends every route to the one API function; anything else is not ours to copy.
            raise PackageError(f"path {path} has methods with different integrations")
        wanted = {"responses": copy.deepcopy(next(iter(explicit.values())).get("responses", {})),
                  INTEGRATION: copy.deepcopy(proxy)}
        existing = operations.get(ANY_METHOD)
        if existing is not None and existing != wanted:
            raise PackageError(f"path {path} already has a different ANY method")
        operations[ANY_METHOD] = wanted


def add_log_group(resources: dict[str, Any], function_id: str) -> None:
    """A log group of the stack's for ``function_id``, and the function logging to it."""
    group_id = f"{function_id}LogGroup"
    resources[group_id] = {
        "Type": "AWS::Logs::LogGroup",
        # Logs answer audit and money questions long after the fact: deleting or replacing the stack
        # must not take them along (like the table and the bucket).
        "DeletionPolicy": "Retain",
        "UpdateReplacePolicy": "Retain",
        "Properties": {
            "LogGroupName": {"Fn::Sub": f"/aws/lambda/${{AWS::StackName}}/{function_id}"},
            "RetentionInDays": {"Ref": RETENTION_PARAMETER},
        },
    }
    properties = resources[function_id].setdefault("Properties", {})
    wanted = {"LogGroup": {"Ref": group_id}}
    if properties.get("LoggingConfig", wanted) != wanted:
        raise PackageError(f"{function_id} already has a LoggingConfig: {properties['LoggingConfig']!r}")
    properties["LoggingConfig"] = wanted


def add_errors_alarm(resources: dict[str, Any], function_id: str) -> None:
    """An alarm when ``function_id`` reports any error in 5 minutes."""
    suffix, description = ERRORS_ALARMS.get(
        function_id, (f"{_kebab(function_id)}-errors", f"The function {function_id} raised an error.")
    )
    topic = [{"Ref": ALARM_TOPIC_ID}]
    resources[f"{function_id}ErrorsAlarm"] = {
        "Type": "AWS::CloudWatch::Alarm",
        "Properties": {
            "AlarmName": {"Fn::Sub": f"${{AWS::StackName}}-{suffix}"},
            "AlarmDescription": description + SEE_README,
            "Namespace": "AWS/Lambda",
            "MetricName": "Errors",
            "Dimensions": [{"Name": "FunctionName", "Value": {"Ref": function_id}}],
            "Statistic": "Sum",
            "Period": 300,
            "EvaluationPeriods": 1,
            "Threshold": 0,
            "ComparisonOperator": "GreaterThanThreshold",
            # No invocation, no error: quiet periods are fine.
            "TreatMissingData": "notBreaching",
            "AlarmActions": topic,
            "OKActions": copy.deepcopy(topic),
        },
    }


def _kebab(logical_id: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "-", logical_id).lower()


# -- the command ------------------------------------------------------------------------------
def package(stage: str, out: Path) -> Path:
    """Run ``chalice package`` for ``stage`` into ``out`` and finish its template in place."""
    env = {**os.environ, "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION}
    result = subprocess.run(
        [*CHALICE, "package", "--stage", stage, "--merge-template", RESOURCES_FILE, str(out)],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    output = result.stdout + result.stderr
    # chalice reports wheels it could not get for Lambda but still exits 0: that package would fail
    # at import time in Lambda, so it is an error here.
    if result.returncode != 0 or "Could not install dependencies" in output:
        raise PackageError(f"chalice package failed (exit {result.returncode}):\n{output}")
    sam = out / "sam.json"
    template = json.loads(sam.read_text(encoding="utf-8"))
    sam.write_text(json.dumps(finish_template(template), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    if runtimes(template) == {f"python{sys.version_info.major}.{sys.version_info.minor}"}:
        add_bytecode(out / "deployment.zip")
    return sam


def runtimes(template: Mapping[str, Any]) -> set[str]:
    """The Lambda runtimes the template's functions use."""
    default = template.get("Globals", {}).get("Function", {}).get("Runtime")
    return {str(r.get("Properties", {}).get("Runtime") or default)
            for r in template.get("Resources", {}).values() if r.get("Type") == FUNCTION_TYPE}


def add_bytecode(archive: Path) -> int:
    """Compile an unchecked-hash pyc for every module in ``archive`` (rewritten in place) and return how
    many. Any pyc already in it is dropped first: chalice copies ``chalicelib/`` as it is, so a
    developer's ``__pycache__`` (timestamp pycs, stale once the files are extracted) would ride along."""
    with tempfile.TemporaryDirectory(prefix="package-pyc-") as tmp:
        root = Path(tmp)
        with zipfile.ZipFile(archive) as zf:
            infos = [i for i in zf.infolist() if not _is_bytecode(i.filename)]
            zf.extractall(root, members=infos)
        compileall.compile_dir(root, quiet=2, ddir="/var/task", workers=1, force=True,
                               invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
        compiled = sorted(root.rglob("*.pyc"))
        rebuilt = archive.with_suffix(".tmp")
        with zipfile.ZipFile(rebuilt, "w", zipfile.ZIP_DEFLATED) as out, zipfile.ZipFile(archive) as zf:
            for info in infos:  # the original entries as they were (names, modes, order)
                out.writestr(info, zf.read(info.filename))
            for path in compiled:
                out.write(path, path.relative_to(root).as_posix())
        rebuilt.replace(archive)
    return len(compiled)


def _is_bytecode(name: str) -> bool:
    return name.endswith((".pyc", ".pyo")) or "__pycache__/" in name


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack.package", description=__doc__.split("\n\n")[0])
    parser.add_argument("--stage", default="prod", help="chalice stage to package (default: prod)")
    parser.add_argument("out", nargs="?", type=Path, help="output directory (default: build/<stage>)")
    args = parser.parse_args(argv)
    out: Path = (args.out or REPO_ROOT / "build" / args.stage).resolve()
    try:
        sam = package(args.stage, out)
    except PackageError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"{sam} (and deployment.zip beside it) is ready for `aws cloudformation package`")
    return 0


if __name__ == "__main__":
    sys.exit(main())
