"""``make package`` (``chalice package`` with ``infrastructure/resources.json`` merged in, finished by
``devstack/package.py``) yields a valid, least-privilege, operable stack.

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

# Run the CLIs with the interpreter running the tests: no reliance on PATH or on a venv layout.
PACKAGE = [sys.executable, "-m", "devstack.package"]
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
    # The same command as `make package`; it also fails when chalice could not get a Lambda wheel.
    result = subprocess.run(
        [*PACKAGE, "--stage", stage, str(out)],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=PACKAGE_TIMEOUT_SECONDS,
        check=False,
    )
    assert result.returncode == 0, f"packaging failed:\n{result.stdout}\n{result.stderr}"
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
    indexes = {ix["IndexName"]: ix for ix in props["GlobalSecondaryIndexes"]}
    assert sorted(indexes) == ["gsi1", "gsi2", "gsi3", "gsi4"]
    for name, index in indexes.items():
        assert index["KeySchema"] == [
            {"AttributeName": f"{name}pk", "KeyType": "HASH"},
            {"AttributeName": f"{name}sk", "KeyType": "RANGE"},
        ]
    # gsi4 is the sparse list of wallets the ledger check reads instead of scanning: keys are enough.
    assert {name: ix["Projection"]["ProjectionType"] for name, ix in indexes.items()} == {
        "gsi1": "ALL", "gsi2": "ALL", "gsi3": "ALL", "gsi4": "KEYS_ONLY"
    }
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


def test_every_function_knows_the_residents_user_pool_and_no_placeholder_issuer(template: dict[str, Any]) -> None:
    global_vars = template.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
    for function_id, function in _resources_of_type(template, "AWS::Serverless::Function").items():
        effective = {**global_vars, **function["Properties"].get("Environment", {}).get("Variables", {})}
        assert effective.get("COGNITO_USER_POOL_ID") == {"Ref": "ConsumerUserPool"}, function_id
        assert effective.get("COGNITO_CLIENT_ID") == {"Ref": "ConsumerUserPoolClient"}, function_id
        assert "DEV_ISSUER_ENABLED" not in effective and "CONSUMER_JWT_ISSUER" not in effective, function_id
    assert "REPLACE_WITH" not in json.dumps(template)


def test_the_user_pool_lets_residents_sign_up_with_a_verified_email(template: dict[str, Any]) -> None:
    pool = _resources_of_type(template, "AWS::Cognito::UserPool")["ConsumerUserPool"]["Properties"]
    assert pool["UsernameAttributes"] == ["email"] and pool["AutoVerifiedAttributes"] == ["email"]
    assert pool["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is False
    assert pool["Policies"]["PasswordPolicy"]["MinimumLength"] >= 10
    client = _resources_of_type(template, "AWS::Cognito::UserPoolClient")["ConsumerUserPoolClient"]["Properties"]
    assert client["GenerateSecret"] is False  # a public client: the pages hold no secret
    assert sorted(client["ExplicitAuthFlows"]) == ["ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_PASSWORD_AUTH"]
    assert client["PreventUserExistenceErrors"] == "ENABLED" and client["UserPoolId"] == {"Ref": "ConsumerUserPool"}


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


def test_no_statement_uses_a_wildcard_resource(template: dict[str, Any]) -> None:
    # Powertools' metrics are EMF lines in the function's log (CloudWatch extracts them): no
    # cloudwatch:PutMetricData, which would need Resource "*".
    for role_id, statement in _role_statements(template):
        assert "*" not in _as_list(statement["Resource"]), (role_id, statement)


def test_no_scan_no_metrics_api_and_no_log_group_creation(template: dict[str, Any]) -> None:
    granted = {action for _, s in _role_statements(template) for action in _as_list(s["Action"])}
    assert granted == {
        "logs:CreateLogStream", "logs:PutLogEvents",
        "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
        "dynamodb:ConditionCheckItem", "dynamodb:BatchGetItem", "dynamodb:BatchWriteItem", "dynamodb:Query",
        "s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts",
        "secretsmanager:GetSecretValue",
    }


def test_the_app_secret_is_generated_and_readable_only_as_this_stacks_secret(template: dict[str, Any]) -> None:
    secrets = _resources_of_type(template, "AWS::SecretsManager::Secret")
    assert list(secrets) == ["AppSecrets"]
    generated = secrets["AppSecrets"]["Properties"]["GenerateSecretString"]
    assert generated["GenerateStringKey"] == "master" and generated["PasswordLength"] >= 48
    reads = [s for _, s in _role_statements(template) if "secretsmanager:GetSecretValue" in _as_list(s["Action"])]
    assert reads and all(s["Resource"] == {"Ref": "AppSecrets"} for s in reads), reads


def test_functions_may_write_only_to_this_stacks_log_groups(template: dict[str, Any]) -> None:
    logs = next(s for _, s in _role_statements(template) if s["Sid"] == "WriteOwnStackLogs")
    prefix = "/aws/lambda/${AWS::StackName}/"
    assert logs["Resource"] == {
        "Fn::Sub": "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:" + prefix + "*"
    }
    for group in _resources_of_type(template, "AWS::Logs::LogGroup").values():
        assert group["Properties"]["LogGroupName"]["Fn::Sub"].startswith(prefix)


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


def _gateway_responses(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    responses: dict[str, dict[str, Any]] = template["Resources"]["RestAPI"]["Properties"]["GatewayResponses"]
    return responses


def test_unknown_routes_answer_with_the_json_error_shape(template: dict[str, Any]) -> None:
    responses = _gateway_responses(template)
    missing = responses["MISSING_AUTHENTICATION_TOKEN"]
    assert missing["StatusCode"] == "404"
    assert json.loads(missing["ResponseTemplates"]["application/json"])["error"]["code"] == "not_found"
    assert {"DEFAULT_4XX", "DEFAULT_5XX"} <= set(responses)


def test_gateway_responses_are_part_of_the_api_definition(template: dict[str, Any]) -> None:
    # SAM writes them into the OpenAPI body: they are deployed with every API deployment, and a body
    # update (which overwrites the API) cannot drop them, as it drops AWS::ApiGateway::GatewayResponse
    # resources defined beside the API.
    assert not _resources_of_type(template, "AWS::ApiGateway::GatewayResponse")
    for response_type, response in _gateway_responses(template).items():
        body = json.loads(response["ResponseTemplates"]["application/json"])
        assert set(body["error"]) == {"code", "message", "param"}, response_type


# -- every method of a known path reaches the function (JSON 405, not API Gateway's 404) --------
def _definition(template: dict[str, Any]) -> dict[str, Any]:
    definition: dict[str, Any] = template["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]
    return definition


def test_every_path_also_takes_any_method_into_the_same_function(template: dict[str, Any]) -> None:
    paths = _definition(template)["paths"]
    assert paths
    for path, operations in paths.items():
        explicit = [op for method, op in operations.items() if method != "x-amazon-apigateway-any-method"]
        assert explicit, path
        any_method = operations["x-amazon-apigateway-any-method"]
        integration = any_method["x-amazon-apigateway-integration"]
        assert integration["type"] == "aws_proxy"
        assert "${APIHandler.Arn}" in integration["uri"]["Fn::Sub"]
        assert all(op["x-amazon-apigateway-integration"] == integration for op in explicit), path


def test_explicit_methods_are_kept_for_every_route(template: dict[str, Any]) -> None:
    from app import app as chalice_app

    paths = _definition(template)["paths"]
    assert set(paths) == set(chalice_app.routes)
    for path, methods in chalice_app.routes.items():
        assert set(paths[path]) == {m.lower() for m in methods} | {"x-amazon-apigateway-any-method"}, path


def test_a_method_the_path_does_not_take_gets_the_json_405_from_the_function() -> None:
    """What API Gateway hands the function for ``PATCH /v1/wallet`` through the ANY method."""
    from app import app as chalice_app

    event = {
        "resource": "/v1/wallet",
        "path": "/v1/wallet",
        "httpMethod": "PATCH",
        "headers": {"Content-Type": "application/json"},
        "multiValueHeaders": {"Content-Type": ["application/json"]},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {"resourcePath": "/v1/wallet", "httpMethod": "PATCH", "requestId": "req-405",
                           "path": "/api/v1/wallet", "stage": "api"},
        "body": None,
        "isBase64Encoded": False,
    }
    response = chalice_app(event, None)

    assert response["statusCode"] == 405
    assert json.loads(response["body"])["error"]["code"] == "invalid_request"
    assert response["headers"]["Allow"] == "GET"


# -- logs ---------------------------------------------------------------------------------------
def test_every_function_logs_to_its_own_group_with_the_retention_parameter(template: dict[str, Any]) -> None:
    resources = template["Resources"]
    functions = _resources_of_type(template, "AWS::Serverless::Function")
    assert {"APIHandler", "CloseSettlementPeriods"} <= set(functions)
    groups = set()
    for function_id, function in functions.items():
        group_id = function["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
        groups.add(group_id)
        group = resources[group_id]
        assert group["Type"] == "AWS::Logs::LogGroup"
        # The function refers to its group, so CloudFormation creates the group before the function.
        assert group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
        assert group["Properties"]["LogGroupName"] == {"Fn::Sub": f"/aws/lambda/${{AWS::StackName}}/{function_id}"}
        assert group["DeletionPolicy"] == group["UpdateReplacePolicy"] == "Retain"
    assert len(groups) == len(functions)
    assert template["Parameters"]["LogRetentionDays"]["Default"] == 400


# -- throttling ---------------------------------------------------------------------------------
def test_the_stage_throttles_every_method_with_the_parameters(template: dict[str, Any]) -> None:
    settings = template["Resources"]["RestAPI"]["Properties"]["MethodSettings"]
    assert settings == [{
        "ResourcePath": "/*",
        "HttpMethod": "*",
        "ThrottlingRateLimit": {"Ref": "ApiThrottlingRateLimit"},
        "ThrottlingBurstLimit": {"Ref": "ApiThrottlingBurstLimit"},
    }]
    parameters = template["Parameters"]
    rate, burst = parameters["ApiThrottlingRateLimit"]["Default"], parameters["ApiThrottlingBurstLimit"]["Default"]
    assert 300 <= rate <= burst  # above a prefecture-wide peak of a few hundred per second
    throttled = _gateway_responses(template)["THROTTLED"]
    assert throttled["StatusCode"] == "429"
    assert json.loads(throttled["ResponseTemplates"]["application/json"])["error"]["code"] == "too_many_attempts"


# -- alarms -------------------------------------------------------------------------------------
def _alarms(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {k: v["Properties"] for k, v in _resources_of_type(template, "AWS::CloudWatch::Alarm").items()}


def _alarm_on(template: dict[str, Any], namespace: str, metric: str) -> list[dict[str, Any]]:
    return [a for a in _alarms(template).values() if (a["Namespace"], a["MetricName"]) == (namespace, metric)]


def test_every_alarm_notifies_the_operator_topic(template: dict[str, Any]) -> None:
    resources = template["Resources"]
    assert resources["AlarmTopic"]["Type"] == "AWS::SNS::Topic"
    subscription = resources["AlarmEmailSubscription"]
    assert subscription["Condition"] == "HasAlarmEmail"  # the address is optional
    assert subscription["Properties"]["Endpoint"] == {"Ref": "AlarmEmail"}
    assert template["Parameters"]["AlarmEmail"]["Default"] == ""
    alarms = _alarms(template)
    assert len(alarms) >= 6
    for alarm_id, alarm in alarms.items():
        assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}], alarm_id
        assert "infrastructure/README.md" in alarm["AlarmDescription"], alarm_id


def test_api_5xx_alarm_watches_this_stacks_api_stage(template: dict[str, Any]) -> None:
    (alarm,) = _alarm_on(template, "AWS/ApiGateway", "5XXError")
    api = template["Resources"]["RestAPI"]["Properties"]
    # API Gateway keys REST API metrics by API name and stage: the API is named after the stack, so
    # a dev and a prod stack in one account never share the metric.
    assert api["Name"] == {"Ref": "AWS::StackName"}
    assert _definition(template)["info"]["title"] == {"Ref": "AWS::StackName"}
    assert alarm["Dimensions"] == [{"Name": "ApiName", "Value": {"Ref": "AWS::StackName"}},
                                   {"Name": "Stage", "Value": api["StageName"]}]
    assert (alarm["Statistic"], alarm["Period"], alarm["EvaluationPeriods"]) == ("Sum", 300, 1)
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanThreshold", 0)


def test_every_function_has_an_errors_alarm(template: dict[str, Any]) -> None:
    alarms = _alarm_on(template, "AWS/Lambda", "Errors")
    watched = {a["Dimensions"][0]["Value"]["Ref"] for a in alarms}
    assert watched == set(_resources_of_type(template, "AWS::Serverless::Function"))
    for alarm in alarms:
        assert (alarm["Statistic"], alarm["Period"], alarm["Threshold"]) == ("Sum", 300, 0)
        assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
    failed_close = template["Resources"]["CloseSettlementPeriodsErrorsAlarm"]["Properties"]
    assert failed_close["AlarmName"] == {"Fn::Sub": "${AWS::StackName}-settlement-close-failed"}


@pytest.mark.parametrize("metric", ["SettlementCloseRuns", "LedgerCheckRuns"])
def test_a_daily_job_that_has_not_reported_for_26_hours_alarms(template: dict[str, Any], metric: str) -> None:
    (alarm,) = _alarm_on(template, "OnagawaPoints", metric)
    assert alarm["Period"] * alarm["EvaluationPeriods"] == 26 * 3600
    assert alarm["DatapointsToAlarm"] == alarm["EvaluationPeriods"]  # every hour of the 26 without a run
    assert (alarm["Statistic"], alarm["ComparisonOperator"], alarm["Threshold"]) == ("Sum", "LessThanThreshold", 1)
    assert alarm["TreatMissingData"] == "breaching"  # no data is exactly the failure


def test_a_ledger_difference_alarms_until_a_check_finds_none(template: dict[str, Any]) -> None:
    (alarm,) = _alarm_on(template, "OnagawaPoints", "LedgerDifference")
    assert (alarm["Statistic"], alarm["ComparisonOperator"], alarm["Threshold"]) == (
        "Maximum", "GreaterThanThreshold", 0)
    assert alarm["TreatMissingData"] == "ignore"  # between daily checks the last verdict stands


def test_custom_metric_alarms_match_what_powertools_emits_in_the_deployed_functions(
    template: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A metric is identified by its dimensions too: an alarm on other dimensions never sees it.

    Powertools adds a ``service`` dimension to every metric when a service name is configured, and
    ``.chalice/config.json`` configures one for every function.
    """
    from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import AmazonCloudWatchEMFProvider

    config = json.loads((REPO_ROOT / ".chalice" / "config.json").read_text(encoding="utf-8"))
    stage = template["Resources"]["APIHandler"]["Properties"]["Environment"]["Variables"]["STAGE"]
    for name, value in {**config["environment_variables"],
                        **config["stages"][stage].get("environment_variables", {})}.items():
        monkeypatch.setenv(name, value)
    emf = AmazonCloudWatchEMFProvider()  # namespace and service from the environment, as in Lambda
    emf.add_metric(name="SettlementCloseRuns", unit="Count", value=1)
    blob = emf.serialize_metric_set()
    (directive,) = blob["_aws"]["CloudWatchMetrics"]
    (dimension_names,) = directive["Dimensions"]
    emitted = [{"Name": name, "Value": blob[name]} for name in dimension_names]

    custom = [a for a in _alarms(template).values() if a["Namespace"] == directive["Namespace"]]
    assert {a["MetricName"] for a in custom} == {"SettlementCloseRuns", "LedgerCheckRuns", "LedgerDifference"}
    for alarm in custom:
        assert alarm["Dimensions"] == emitted, alarm["MetricName"]


def test_the_package_ships_bytecode_that_lambda_reads_without_compiling(packaged: tuple[str, Path],
                                                                         tmp_path: Path) -> None:
    """Lambda's code directory is read-only: without shipped pycs every cold start compiles every module.
    The pycs are unchecked-hash, so new timestamps on the extracted files (a zip keeps 2-second ones)
    do not invalidate them: every chalicelib module `import app` loads comes from its pyc."""
    import zipfile

    archive = packaged[1].parent / "deployment.zip"
    with zipfile.ZipFile(archive) as zf:
        names = set(zf.namelist())
        zf.extractall(tmp_path)
        flags = {n: int.from_bytes(zf.read(n)[4:8], "little") for n in names if n.endswith(".pyc")}
    # PEP 552: 0b01 = hash-based, source not checked (a developer's timestamp pycs must not ride along)
    assert flags and {n for n, f in flags.items() if f != 0b01} == set()
    sources = [n for n in names if n.endswith(".py") and n.startswith(("chalicelib/", "app.py", "pynamodb/"))]
    tag = sys.implementation.cache_tag
    missing = [n for n in sources if f"{n.rsplit('/', 1)[0] + '/' if '/' in n else ''}__pycache__/"
               f"{n.rsplit('/', 1)[-1][:-3]}.{tag}.pyc" not in names]
    assert sources and not missing, missing[:5]
    for path in tmp_path.rglob("*.py"):
        os.utime(path)  # a timestamp pyc would be stale now
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    run = subprocess.run([sys.executable, "-v", "-c", "import app"], cwd=tmp_path, env=env, capture_output=True,
                         text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stderr[-2000:]
    loaded = [line for line in run.stderr.splitlines() if line.startswith("# code object from")]
    ours = [line for line in loaded if f"{tmp_path}/chalicelib/" in line]
    assert len(ours) > 50, len(ours)  # the app's own modules were imported from the package
    compiled = [line for line in ours if not line.rstrip("'").endswith(".pyc")]
    assert not compiled, compiled[:5]
