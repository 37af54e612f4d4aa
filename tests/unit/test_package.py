"""The finishing step of ``make package`` on small templates shaped like chalice's (no chalice, no I/O).

The real app's template is checked in tests/integration/test_deploy_template.py; here the cases the
real app does not have yet: a second schedule, a function nobody described, and broken inputs.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from devstack.package import ANY_METHOD, PackageError, finish_template

PROXY = {
    "type": "aws_proxy",
    "httpMethod": "POST",
    "uri": {"Fn::Sub": "arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/"
                      "${APIHandler.Arn}/invocations"},
    "passthroughBehavior": "when_no_match",
}


def _operation() -> dict[str, Any]:
    return {"responses": {"200": {"description": "200 response"}}, "x-amazon-apigateway-integration": dict(PROXY)}


def _function(handler: str, schedule: str | None = None) -> dict[str, Any]:
    properties: dict[str, Any] = {"Handler": handler, "Role": {"Fn::GetAtt": ["SomeRole", "Arn"]}}
    if schedule:
        properties["Events"] = {"Event": {"Type": "Schedule", "Properties": {"Schedule": schedule}}}
    return {"Type": "AWS::Serverless::Function", "Properties": properties}


@pytest.fixture
def template() -> dict[str, Any]:
    """Chalice's output with resources.json merged: an API, its function and two schedules."""
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Transform": "AWS::Serverless-2016-10-31",
        "Resources": {
            "APIHandler": _function("app.app"),
            "CloseSettlementPeriods": _function("app.close_settlement_periods", "cron(5 15 * * ? *)"),
            "RunLedgerCheck": _function("app.run_ledger_check", "cron(30 15 * * ? *)"),
            "RestAPI": {
                "Type": "AWS::Serverless::Api",
                "Properties": {
                    "StageName": "api",
                    "DefinitionBody": {
                        "swagger": "2.0",
                        "info": {"version": "1.0", "title": "onagawa-points"},
                        "paths": {
                            "/v1/wallet": {"get": _operation()},
                            "/v1/payments": {"get": _operation(), "post": _operation()},
                        },
                    },
                },
            },
            "AlarmTopic": {"Type": "AWS::SNS::Topic", "Properties": {}},
        },
        "Parameters": {"LogRetentionDays": {"Type": "Number", "Default": 400}},
    }


# -- ANY method ---------------------------------------------------------------------------------
def test_every_path_gets_an_any_method_with_its_proxy_integration(template: dict[str, Any]) -> None:
    # WHEN the template is finished
    paths = finish_template(template)["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]["paths"]

    # THEN every path has ANY into the same function, and its explicit methods are unchanged
    original = template["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]["paths"]
    for path, operations in paths.items():
        assert operations[ANY_METHOD]["x-amazon-apigateway-integration"] == PROXY
        assert {k: v for k, v in operations.items() if k != ANY_METHOD} == original[path]


def test_a_path_without_a_lambda_proxy_is_refused(template: dict[str, Any]) -> None:
    paths = template["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]["paths"]
    paths["/v1/mock"] = {"options": {"x-amazon-apigateway-integration": {"type": "mock"}}}

    with pytest.raises(PackageError, match="/v1/mock"):
        finish_template(template)


def test_a_path_whose_methods_go_to_different_places_is_refused(template: dict[str, Any]) -> None:
    paths = template["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]["paths"]
    paths["/v1/payments"]["post"]["x-amazon-apigateway-integration"]["uri"] = "elsewhere"

    with pytest.raises(PackageError, match="different integrations"):
        finish_template(template)


def test_the_api_is_named_after_the_stack(template: dict[str, Any]) -> None:
    body = finish_template(template)["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]
    assert body["info"]["title"] == {"Ref": "AWS::StackName"}


# -- log groups and alarms per function ---------------------------------------------------------
@pytest.mark.parametrize("function_id", ["APIHandler", "CloseSettlementPeriods", "RunLedgerCheck"])
def test_every_function_gets_a_log_group_it_logs_to(template: dict[str, Any], function_id: str) -> None:
    resources = finish_template(template)["Resources"]

    group_ref = resources[function_id]["Properties"]["LoggingConfig"]["LogGroup"]
    group = resources[group_ref["Ref"]]
    assert group["Type"] == "AWS::Logs::LogGroup"
    assert group["Properties"] == {
        "LogGroupName": {"Fn::Sub": f"/aws/lambda/${{AWS::StackName}}/{function_id}"},
        "RetentionInDays": {"Ref": "LogRetentionDays"},
    }


@pytest.mark.parametrize(
    ("function_id", "alarm_name"),
    [
        ("APIHandler", "api-function-errors"),
        ("CloseSettlementPeriods", "settlement-close-failed"),
        ("RunLedgerCheck", "ledger-check-failed"),
        ("SomeWorker", "some-worker-errors"),
    ],
)
def test_every_function_gets_an_errors_alarm(template: dict[str, Any], function_id: str, alarm_name: str) -> None:
    template["Resources"]["SomeWorker"] = _function("app.some_worker")

    alarm = finish_template(template)["Resources"][f"{function_id}ErrorsAlarm"]["Properties"]

    assert alarm["AlarmName"] == {"Fn::Sub": f"${{AWS::StackName}}-{alarm_name}"}
    assert (alarm["Namespace"], alarm["MetricName"]) == ("AWS/Lambda", "Errors")
    assert alarm["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": function_id}}]
    assert alarm["AlarmActions"] == alarm["OKActions"] == [{"Ref": "AlarmTopic"}]


def test_a_function_with_its_own_logging_config_is_refused(template: dict[str, Any]) -> None:
    template["Resources"]["APIHandler"]["Properties"]["LoggingConfig"] = {"LogGroup": "somewhere-else"}

    with pytest.raises(PackageError, match="APIHandler"):
        finish_template(template)


@pytest.mark.parametrize("missing", ["Parameters", "AlarmTopic"])
def test_a_template_without_the_merged_resources_is_refused(template: dict[str, Any], missing: str) -> None:
    if missing == "Parameters":
        del template["Parameters"]
    else:
        del template["Resources"]["AlarmTopic"]

    with pytest.raises(PackageError, match=r"resources\.json"):
        finish_template(template)


# -- as a whole ---------------------------------------------------------------------------------
def test_finishing_is_idempotent_and_leaves_its_input_alone(template: dict[str, Any]) -> None:
    before = copy.deepcopy(template)

    once = finish_template(template)

    assert template == before
    assert finish_template(once) == once


def test_sections_come_in_reading_order(template: dict[str, Any]) -> None:
    assert list(finish_template(template)) == ["AWSTemplateFormatVersion", "Transform", "Parameters", "Resources"]
