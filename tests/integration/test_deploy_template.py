"""``chalice package`` with ``infrastructure/resources.json`` merged in yields a valid, least-privilege stack.

The packaging runs the real CLI on the real app (offline: ``chalice package`` makes no AWS call),
then ``cfn-lint`` checks the SAM template, then the checks below read the template itself.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
REGION = "ap-northeast-1"
PACKAGE_TIMEOUT_SECONDS = 900  # first run downloads Lambda wheels (cryptography is ~4 MB) from PyPI

# Run both CLIs with the interpreter running the tests: no reliance on PATH or on a venv layout.
CHALICE = [
    sys.executable,
    "-c",
    "import sys; sys.argv[0] = 'chalice'; from chalice.cli import main; sys.exit(main())",
]
CFN_LINT = [
    sys.executable,
    "-c",
    "import sys; sys.argv[0] = 'cfn-lint'; from cfnlint.runner import main; main()",
]

pytestmark = pytest.mark.skipif(
    not (REPO_ROOT / "app.py").exists(), reason="app.py does not exist yet: nothing to package"
)


@pytest.fixture(scope="module", params=["dev", "prod"])
def packaged(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    stage: str = request.param
    out = tmp_path_factory.mktemp(f"package-{stage}")
    env = {**os.environ, "AWS_DEFAULT_REGION": REGION}
    result = subprocess.run(
        [
            *CHALICE,
            "package",
            "--stage",
            stage,
            "--merge-template",
            "infrastructure/resources.json",
            str(out),
        ],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=PACKAGE_TIMEOUT_SECONDS,
        check=False,
    )
    assert result.returncode == 0, f"chalice package failed:\n{result.stdout}\n{result.stderr}"
    # chalice reports wheels it could not get for Lambda on stderr/stdout but still exits 0.
    assert "Could not install dependencies" not in result.stdout + result.stderr, result.stdout + result.stderr
    return stage, out / "sam.json"


@pytest.fixture(scope="module")
def template(packaged: tuple[str, Path]) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(packaged[1].read_text(encoding="utf-8"))
    return loaded


def _resources_of_type(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v.get("Type") == resource_type}


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _role_statements(template: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    statements = []
    for role_id, role in _resources_of_type(template, "AWS::IAM::Role").items():
        for policy in role["Properties"].get("Policies", []):
            for statement in policy["PolicyDocument"]["Statement"]:
                statements.append((role_id, statement))
    return statements


# -- validity -----------------------------------------------------------------------------------
def test_cfn_lint_accepts_the_packaged_template(packaged: tuple[str, Path]) -> None:
    _, sam = packaged
    result = subprocess.run(
        [*CFN_LINT, "--regions", REGION, "--", str(sam)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    # Exit code is a bit mask: 2 errors, 4 warnings, 8 informational. Warnings fail too.
    assert result.returncode == 0, f"cfn-lint exit {result.returncode}:\n{result.stdout}\n{result.stderr}"


# -- resources from infrastructure/resources.json -----------------------------------------------
def test_table_has_the_designed_keys_indexes_and_protections(template: dict[str, Any]) -> None:
    table = template["Resources"]["MainTable"]
    assert table["Type"] == "AWS::DynamoDB::Table"
    props = table["Properties"]
    assert props["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    assert sorted(ix["IndexName"] for ix in props["GlobalSecondaryIndexes"]) == ["gsi1", "gsi2", "gsi3"]
    assert {ix["Projection"]["ProjectionType"] for ix in props["GlobalSecondaryIndexes"]} == {"ALL"}
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["TimeToLiveSpecification"] == {"AttributeName": "ttl", "Enabled": True}
    assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert props["SSESpecification"]["SSEEnabled"] is True
    assert table.get("DeletionPolicy") == "Retain"


def test_bucket_blocks_public_access_and_encrypts(template: dict[str, Any]) -> None:
    bucket = template["Resources"]["ExportsBucket"]
    assert bucket["Type"] == "AWS::S3::Bucket"
    props = bucket["Properties"]
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    (rule,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in ("AES256", "aws:kms")
    assert "VersioningConfiguration" not in props
    expiring = [r for r in props["LifecycleConfiguration"]["Rules"] if "ExpirationInDays" in r]
    assert [(r["Prefix"], r["ExpirationInDays"], r["Status"]) for r in expiring] == [("exports/", 7, "Enabled")]


def test_bucket_policy_denies_plain_http(template: dict[str, Any]) -> None:
    policy = template["Resources"]["ExportsBucketPolicy"]
    assert policy["Type"] == "AWS::S3::BucketPolicy"
    assert policy["Properties"]["Bucket"] == {"Ref": "ExportsBucket"}
    denies = [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Deny"]
    assert any(s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} and s["Principal"] == "*" for s in denies)


# -- functions ----------------------------------------------------------------------------------
def test_every_function_gets_the_table_and_bucket_names(template: dict[str, Any]) -> None:
    functions = _resources_of_type(template, "AWS::Serverless::Function")
    assert "APIHandler" in functions
    global_vars = template.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
    for function_id, function in functions.items():
        local_vars = function["Properties"].get("Environment", {}).get("Variables", {})
        # SAM merges Globals maps into each function; the function's own keys win.
        effective = {**global_vars, **local_vars}
        assert effective.get("TABLE_NAME") == {"Ref": "MainTable"}, function_id
        assert effective.get("BUCKET_NAME") == {"Ref": "ExportsBucket"}, function_id


def test_every_function_runs_with_the_hand_written_policy(template: dict[str, Any]) -> None:
    expected = json.loads((REPO_ROOT / ".chalice" / "policy.json").read_text(encoding="utf-8"))
    roles = _resources_of_type(template, "AWS::IAM::Role")
    for function_id, function in _resources_of_type(template, "AWS::Serverless::Function").items():
        role_id = function["Properties"]["Role"]["Fn::GetAtt"][0]
        documents = [p["PolicyDocument"] for p in roles[role_id]["Properties"]["Policies"]]
        # Inlined verbatim: the intrinsics in policy.json survived packaging.
        assert documents == [expected], function_id


# -- least privilege ----------------------------------------------------------------------------
def test_data_permissions_are_scoped_to_the_table_and_bucket(template: dict[str, Any]) -> None:
    data_statements = [
        (role_id, s)
        for role_id, s in _role_statements(template)
        if any(a.startswith(("dynamodb:", "s3:")) for a in _as_list(s["Action"]))
    ]
    assert data_statements
    for role_id, statement in data_statements:
        assert statement["Effect"] == "Allow"
        assert "*" not in _as_list(statement["Resource"]), (role_id, statement)
        assert not any(a.endswith(":*") or a == "*" for a in _as_list(statement["Action"])), (
            role_id,
            statement,
        )
        rendered = json.dumps(statement["Resource"])
        assert "MainTable" in rendered or "ExportsBucket" in rendered, (role_id, statement)


def test_only_metrics_use_a_wildcard_resource_and_only_for_our_namespace(template: dict[str, Any]) -> None:
    for role_id, statement in _role_statements(template):
        if "*" not in _as_list(statement["Resource"]):
            continue
        # PutMetricData has no resource-level permissions; the namespace condition is the scope.
        assert _as_list(statement["Action"]) == ["cloudwatch:PutMetricData"], (role_id, statement)
        assert statement["Condition"] == {"StringEquals": {"cloudwatch:namespace": "OnagawaPoints"}}


def test_no_statement_grants_a_whole_service(template: dict[str, Any]) -> None:
    for role_id, statement in _role_statements(template):
        for action in _as_list(statement["Action"]):
            assert action != "*" and not action.endswith(":*"), (role_id, action)


def test_the_settlement_close_is_scheduled_daily_at_1505_utc(template: dict[str, Any]) -> None:
    """00:05 JST is 15:05 UTC; chalice turns the Cron into a schedule event on its own function."""
    resources = template["Resources"]
    function = resources["CloseSettlementPeriods"]
    schedules = [e["Properties"]["Schedule"] for e in function["Properties"]["Events"].values()
                 if e["Type"] == "Schedule"]
    assert schedules == ["cron(5 15 * * ? *)"]


def test_unknown_routes_answer_with_the_json_error_shape(template: dict[str, Any]) -> None:
    import json as _json

    responses = {r["Properties"]["ResponseType"]: r["Properties"] for r in template["Resources"].values()
                 if r["Type"] == "AWS::ApiGateway::GatewayResponse"}
    missing = responses["MISSING_AUTHENTICATION_TOKEN"]
    assert missing["StatusCode"] == "404"
    assert _json.loads(missing["ResponseTemplates"]["application/json"])["error"]["code"] == "not_found"
    assert {"DEFAULT_4XX", "DEFAULT_5XX"} <= set(responses)
